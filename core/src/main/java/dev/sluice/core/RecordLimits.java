package dev.sluice.core;

import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The most a task record may carry: a payload of {@code SLUICE_MAX_PAYLOAD_BYTES} (1 MiB) and headers of
 * {@code SLUICE_MAX_HEADER_BYTES} in all (16 KiB, names and values). The router applies them to
 * submissions, the gate to every record of a queue topic, written through the router or not.
 */
public record RecordLimits(int maxPayloadBytes, int maxHeaderBytes) {

    public static final String ENV_MAX_PAYLOAD = "SLUICE_MAX_PAYLOAD_BYTES";
    public static final String ENV_MAX_HEADERS = "SLUICE_MAX_HEADER_BYTES";
    public static final RecordLimits DEFAULTS = new RecordLimits(1024 * 1024, 16 * 1024);

    public RecordLimits {
        if (maxPayloadBytes < 1) {
            throw new IllegalArgumentException("the payload limit must be at least 1 byte, got " + maxPayloadBytes);
        }
        if (maxHeaderBytes < 256) {
            throw new IllegalArgumentException("the header limit must be at least 256 bytes (Sluice's own headers"
                    + " need about 200), got " + maxHeaderBytes);
        }
    }

    /** {@value #ENV_MAX_PAYLOAD} and {@value #ENV_MAX_HEADERS}, else the defaults. */
    public static RecordLimits fromEnvironment(Map<String, String> env) {
        try {
            return new RecordLimits(Env.integer(env, ENV_MAX_PAYLOAD, DEFAULTS.maxPayloadBytes()),
                    Env.integer(env, ENV_MAX_HEADERS, DEFAULTS.maxHeaderBytes()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ENV_MAX_PAYLOAD + " / " + ENV_MAX_HEADERS + ": " + e.getMessage(), e);
        }
    }

    /** Why a record with this payload and these headers is over the limits, or null when it is within them. */
    public String violation(byte[] payload, Headers headers) {
        int size = payload == null ? 0 : payload.length;
        if (size > maxPayloadBytes) {
            return "payload of " + size + " bytes is over the limit of " + maxPayloadBytes + " bytes (" + ENV_MAX_PAYLOAD + ")";
        }
        long headerBytes = 0;
        for (Header header : headers) {
            // names are counted in characters: Sluice's are ASCII, and a name of many-byte characters long enough to matter is long in characters too
            headerBytes += header.key().length() + (header.value() == null ? 0 : header.value().length);
        }
        if (headerBytes > maxHeaderBytes) {
            return "headers of " + headerBytes + " bytes are over the limit of " + maxHeaderBytes + " bytes (" + ENV_MAX_HEADERS + ")";
        }
        return null;
    }
}
