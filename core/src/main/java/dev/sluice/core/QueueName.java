package dev.sluice.core;

import java.util.Objects;
import java.util.UUID;

/**
 * A queue's name: {@code [A-Za-z0-9_-]{1,200}}, by default {@code batch_<uuid4>}.
 *
 * <p>The name becomes part of a Kafka topic ({@code sluice.q.<name>}) and of Redis keys with a hash
 * tag ({@code sluice:{<name>}:meta}), so anything that would break either is refused: dots and
 * slashes, braces, spaces, and every other character outside the set above.
 */
public record QueueName(String value) implements Comparable<QueueName> {

    public static final int MAX_LENGTH = 200;

    public QueueName {
        Objects.requireNonNull(value, "queue name");
        if (value.isEmpty()) {
            throw new IllegalArgumentException("the queue name is empty; use letters, digits, '_' and '-'");
        }
        if (value.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("the queue name is " + value.length()
                    + " characters long; at most " + MAX_LENGTH + " are allowed");
        }
        // a loop, not a regular expression: the gate and the worker check a name per record
        if (!allValid(value)) {
            throw new IllegalArgumentException("invalid queue name \"" + value + "\": character "
                    + describe(firstInvalid(value)) + " is not allowed; use only letters, digits, '_' and '-'");
        }
    }

    /** Validates an explicit name. */
    public static QueueName of(String value) {
        return new QueueName(value);
    }

    /** A new name {@code batch_<uuid4>}, as the original system made them. */
    public static QueueName generate() {
        return new QueueName("batch_" + UUID.randomUUID());
    }

    private static boolean allValid(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (!valid(value.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean valid(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }

    private static int firstInvalid(String value) {
        return value.codePoints()
                .filter(c -> !(c == '_' || c == '-' || (c < 128 && Character.isLetterOrDigit(c))))
                .findFirst()
                .orElse('?');
    }

    private static String describe(int codePoint) {
        if (Character.isWhitespace(codePoint)) {
            return "(whitespace U+" + String.format("%04X", codePoint) + ")";
        }
        return "'" + new String(Character.toChars(codePoint)) + "'";
    }

    @Override
    public int compareTo(QueueName other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
