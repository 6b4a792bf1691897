package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueState;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * What {@code GET /queues} was asked for: which queues (state, name prefix, only those with a
 * backlog), in which order (by name, or busiest first), and which page ({@code limit} queues after
 * {@code cursor}). Everything optional: with none, every queue by name, as before paging.
 *
 * @param state only queues in this state, or {@code null} for all
 * @param prefix only queues whose name starts with this, or {@code null}
 * @param backlogOnly only queues with tasks waiting
 * @param sort by name, or by backlog (the most waiting first, then by name)
 * @param limit the most queues in the answer, or {@code null} for all
 * @param after where the page starts: after this position of the previous page (see {@link Cursor})
 */
record QueueQuery(QueueState state, String prefix, boolean backlogOnly, Sort sort, Integer limit, Cursor after) {

    /** The most queues one page may hold. */
    static final int MAX_LIMIT = 1_000;

    enum Sort { name, backlog }

    /**
     * Where a page ends, handed back as an opaque cursor: by name, the last name given (queues created
     * or removed between pages shift nothing); by backlog, how many were given (backlogs move between
     * pages, so a queue may appear twice or not at all; a name cursor cannot do better for an order that
     * changes by itself).
     */
    record Cursor(Sort sort, String position) {

        String encode() {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    (sort.name() + ":" + position).getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String text) {
            String decoded;
            try {
                decoded = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException notBase64) {
                throw invalid();
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw invalid();
            }
            Sort sort;
            try {
                sort = Sort.valueOf(decoded.substring(0, colon));
            } catch (IllegalArgumentException unknown) {
                throw invalid();
            }
            String position = decoded.substring(colon + 1);
            if (sort == Sort.backlog && !position.matches("[0-9]{1,9}")) {
                throw invalid();
            }
            return new Cursor(sort, position);
        }

        int index() {
            return Integer.parseInt(position);
        }

        private static IllegalArgumentException invalid() {
            return new IllegalArgumentException("cursor: not a cursor this service gave; start again without one");
        }
    }

    /**
     * Reads the query parameters, each {@code null} when absent.
     *
     * @throws IllegalArgumentException naming the parameter that is wrong
     */
    static QueueQuery parse(String state, String prefix, String backlog, String sort, String limit, String cursor) {
        QueueState wantedState = null;
        if (state != null) {
            try {
                wantedState = QueueState.fromWireName(state);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("state: " + e.getMessage());
            }
        }
        if (prefix != null && prefix.length() > QueueName.MAX_LENGTH) {
            throw new IllegalArgumentException("prefix: longer than a queue name can be (" + QueueName.MAX_LENGTH + ")");
        }
        boolean backlogOnly = false;
        if (backlog != null) {
            if (!backlog.equals("true") && !backlog.equals("false")) {
                throw new IllegalArgumentException("backlog: \"" + backlog + "\" is not true or false");
            }
            backlogOnly = backlog.equals("true");
        }
        Sort order = Sort.name;
        if (sort != null) {
            try {
                order = Sort.valueOf(sort);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("sort: \"" + sort + "\" is not name or backlog");
            }
        }
        Integer max = null;
        if (limit != null) {
            try {
                max = Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                max = -1;
            }
            if (max < 1 || max > MAX_LIMIT) {
                throw new IllegalArgumentException("limit: \"" + limit + "\" is not a whole number from 1 to " + MAX_LIMIT);
            }
        }
        Cursor after = null;
        if (cursor != null && !cursor.isEmpty()) {
            after = Cursor.decode(cursor);
            if (after.sort() != order) {
                throw new IllegalArgumentException("cursor: it continues a listing sorted by " + after.sort()
                        + ", not by " + order);
            }
        }
        return new QueueQuery(wantedState, prefix == null || prefix.isEmpty() ? null : prefix, backlogOnly, order,
                max, after);
    }

    /** Whether a queue passes the state and prefix filters (the backlog filter needs its backlog). */
    boolean admits(Queue queue) {
        return (state == null || queue.state() == state)
                && (prefix == null || queue.name().value().startsWith(prefix));
    }
}
