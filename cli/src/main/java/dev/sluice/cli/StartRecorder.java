package dev.sluice.cli;

import dev.sluice.core.TaskHeaders;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The demo's handler (name {@value #NAME}): notes when each task of each queue started, in
 * microseconds since the epoch, next to its id and start slot, and succeeds. It is how the demo sees the
 * limit at the handler, where a task would call its service, next to the release times on
 * {@code sluice.ready}.
 */
final class StartRecorder implements TaskHandler {

    static final String NAME = "demo";

    /**
     * One start: when, which task, and the slot it had ({@code Long.MIN_VALUE} when it had none).
     */
    record Start(long micros, String id, int attempt, long slotMicros) {
    }

    private final Map<String, List<Start>> starts = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TaskResult handle(Task task) {
        Instant now = Instant.now();
        long micros = now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
        String slot = task.headers().get(TaskHeaders.START_AT);
        Start start = new Start(micros, task.id(), task.attempt(), slot == null ? Long.MIN_VALUE : Long.parseLong(slot));
        List<Start> mine = starts.computeIfAbsent(task.queue(), q -> new ArrayList<>());
        synchronized (mine) {
            mine.add(start);
        }
        return TaskResult.success();
    }

    /** The starts of {@code queue}'s tasks, in no order. */
    List<Start> startsOf(String queue) {
        List<Start> mine = starts.getOrDefault(queue, List.of());
        synchronized (mine) {
            return new ArrayList<>(mine);
        }
    }
}
