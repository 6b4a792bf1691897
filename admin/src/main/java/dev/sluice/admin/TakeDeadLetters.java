package dev.sluice.admin;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;

/**
 * {@code POST /queues/{name}/dead/replay} and {@code …/dead/purge}: {@code {"offsets":[12, 40]}} takes
 * those dead letters, {@code {"all":true}} the oldest {@value DeadLetters#MOST_PER_REQUEST} listed.
 */
@Serdeable
public record TakeDeadLetters(@Nullable List<Long> offsets, @Nullable Boolean all) {
}
