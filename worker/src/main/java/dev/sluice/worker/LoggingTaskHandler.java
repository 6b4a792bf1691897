package dev.sluice.worker;

import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs each task and succeeds: the default handler of {@code sluice up} and the demo, where the point
 * is to watch the rate limits work. One line per task, at INFO on its own logger
 * ({@code dev.sluice.tasks}), so operators can silence it apart from the worker's own log.
 */
public final class LoggingTaskHandler implements TaskHandler {

    private static final Logger TASKS = LoggerFactory.getLogger("dev.sluice.tasks");

    @Override
    public String name() {
        return "log";
    }

    @Override
    public TaskResult handle(Task task) {
        TASKS.info("queue={} task={} attempt={} released={} payload={}", task.queue(), task.id(), task.attempt(),
                task.releasedAt(), abbreviate(task.payloadText()));
        return TaskResult.success();
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }
}
