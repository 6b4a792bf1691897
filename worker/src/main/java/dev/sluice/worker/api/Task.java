package dev.sluice.worker.api;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A released task as a handler sees it.
 *
 * @param id the task's id ({@code sluice-id})
 * @param queue the queue it was released from
 * @param attempt 0 for the first run, 1 for the first retry, and so on
 * @param payload the bytes the producer submitted, untouched
 * @param headers every record header, as UTF-8 text
 * @param releasedAt when the gate released it
 */
public record Task(String id, String queue, int attempt, byte[] payload, Map<String, String> headers,
                   Instant releasedAt) {

    public Task {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(queue, "queue");
        payload = payload == null ? new byte[0] : payload;
        headers = headers instanceof RecordHeaderMap ? headers : Map.copyOf(headers); // immutable already
    }

    /** The payload as UTF-8 text. */
    public String payloadText() {
        return new String(payload, java.nio.charset.StandardCharsets.UTF_8);
    }
}
