package dev.sluice.admin;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

/** {@code PATCH /queues/{name}}: any of {@code {"rateLimit":"20/60s","burst":2,"ttlSeconds":600,"maxAttempts":5}}. */
@Serdeable
public record UpdateQueue(@Nullable String rateLimit, @Nullable Integer burst, @Nullable Long ttlSeconds,
                          @Nullable Integer maxAttempts) {
}
