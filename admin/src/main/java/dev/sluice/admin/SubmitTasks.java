package dev.sluice.admin;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.util.List;

/**
 * {@code POST /queues/{name}/tasks}: {@code {"count":10}} makes that many test tasks
 * ({@code {"test":true,"n":i}}); {@code {"tasks":["…", …]}} submits the given payloads (UTF-8 text).
 */
@Serdeable
public record SubmitTasks(@Nullable Integer count, @Nullable List<String> tasks) {
}
