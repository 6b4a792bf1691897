package dev.sluice.admin;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;

/** {@code POST /queues}: {@code {"rateLimit":"5/60s","burst":1,"name":?,"ttlSeconds":?,"maxAttempts":?}}. */
@Serdeable
public record CreateQueue(@Nullable String rateLimit, @Nullable Integer burst, @Nullable String name,
                          @Nullable Long ttlSeconds, @Nullable Integer maxAttempts) {
}
