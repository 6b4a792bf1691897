package dev.sluice.cli;

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
 * microseconds since the epoch, and succeeds. It is how the demo sees the limit at the handler, where a
 * task would call its service, next to the release times on {@code sluice.ready}.
 */
final class StartRecorder implements TaskHandler {

    static final String NAME = "demo";

    private final Map<String, List<Long>> starts = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TaskResult handle(Task task) {
        Instant now = Instant.now();
        long micros = now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000;
        List<Long> mine = starts.computeIfAbsent(task.queue(), q -> new ArrayList<>());
        synchronized (mine) {
            mine.add(micros);
        }
        return TaskResult.success();
    }

    /** When the tasks of {@code queue} started, in microseconds since the epoch, in no order. */
    List<Long> startsOf(String queue) {
        List<Long> mine = starts.getOrDefault(queue, List.of());
        synchronized (mine) {
            return new ArrayList<>(mine);
        }
    }
}
