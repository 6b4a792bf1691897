package dev.sluice.worker.api;

import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * A Kafka record's headers as an immutable map of UTF-8 text, the last header winning where a name
 * repeats: what {@link Task#headers()} is for a task the worker read. A value is decoded when it is
 * first read, not before: a handler usually reads none or a few of a task's headers, and decoding all
 * of them into a hash map was a third of a handler thread's time with a no-op handler. Thread-safe.
 */
public final class RecordHeaderMap extends AbstractMap<String, String> {

    private final String[] names;
    private final byte[][] bytes;
    /** Decoded values; a race decodes one twice, harmlessly (strings are immutable). */
    private final String[] values;
    private volatile Set<Entry<String, String>> entries;

    /** Copies the names and values out of the record's headers (which are not thread-safe). */
    public RecordHeaderMap(Headers headers) {
        Header[] all = headers.toArray();
        this.names = new String[all.length];
        this.bytes = new byte[all.length][];
        this.values = new String[all.length];
        for (int i = 0; i < all.length; i++) {
            names[i] = all[i].key();
            bytes[i] = all[i].value();
        }
    }

    @Override
    public String get(Object name) {
        int i = indexOf(name);
        return i < 0 ? null : value(i);
    }

    @Override
    public boolean containsKey(Object name) {
        return indexOf(name) >= 0;
    }

    /** A task has a handful of headers: a scan beats hashing names that are new strings each time. */
    private int indexOf(Object name) {
        for (int i = names.length - 1; i >= 0; i--) {
            if (names[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private String value(int i) {
        String value = values[i];
        if (value == null) {
            value = bytes[i] == null ? "" : new String(bytes[i], StandardCharsets.UTF_8);
            values[i] = value;
        }
        return value;
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        Set<Entry<String, String>> set = entries;
        if (set == null) {
            Map<String, String> all = new LinkedHashMap<>();
            for (int i = 0; i < names.length; i++) {
                all.remove(names[i]); // the last one wins, in its place
                all.put(names[i], value(i));
            }
            set = Collections.unmodifiableMap(all).entrySet();
            entries = set;
        }
        return set;
    }
}
