package dev.sluice.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.worker.HttpTaskHandler;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;

/**
 * The {@code http} handler, noting when the handler was entered: it adds the header
 * {@value #START_HEADER} ({@code System.nanoTime()}, which on Linux is one clock for every process of
 * the host) to the request, so that {@link CallRecorder} can tell a late start from a slow way to the
 * server. For the benchmarks only (name {@code http-timed}).
 */
public final class TimedHttpHandler implements TaskHandler {

    static final String START_HEADER = "X-Bench-Started-Nanos";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpTaskHandler http = new HttpTaskHandler();

    @Override
    public String name() {
        return "http-timed";
    }

    @Override
    public TaskResult handle(Task task) throws Exception {
        long started = System.nanoTime();
        ObjectNode request = (ObjectNode) JSON.readTree(task.payload());
        request.withObject("/headers").put(START_HEADER, Long.toString(started));
        return http.handle(new Task(task.id(), task.queue(), task.attempt(), JSON.writeValueAsBytes(request),
                task.headers(), task.releasedAt()));
    }

    @Override
    public void warmUp() throws Exception {
        http.warmUp();
    }
}
