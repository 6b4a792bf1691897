package dev.sluice.admin;

import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

/**
 * What one request may carry: at most {@code SLUICE_ADMIN_MAX_TASKS} payloads (1000), each at most
 * {@code SLUICE_MAX_PAYLOAD_BYTES} (1 MiB, the router's own limit); the body as a whole is capped by
 * {@code SLUICE_ADMIN_MAX_BODY_BYTES} (4 MiB) before it is read.
 */
@Singleton
final class RequestLimits {

    private final int maxTasks;
    private final int maxPayloadBytes;

    RequestLimits(@Value("${sluice.admin.max-tasks:1000}") int maxTasks,
                  @Value("${sluice.max-payload-bytes:1048576}") int maxPayloadBytes) {
        if (maxTasks < 1) {
            throw new IllegalArgumentException("SLUICE_ADMIN_MAX_TASKS must be at least 1, got " + maxTasks);
        }
        if (maxPayloadBytes < 1) {
            throw new IllegalArgumentException("SLUICE_MAX_PAYLOAD_BYTES must be at least 1, got " + maxPayloadBytes);
        }
        this.maxTasks = maxTasks;
        this.maxPayloadBytes = maxPayloadBytes;
    }

    int maxTasks() {
        return maxTasks;
    }

    int maxPayloadBytes() {
        return maxPayloadBytes;
    }
}
