package dev.sluice.core;

import java.time.Duration;
import java.util.Objects;

/**
 * A queue's rate limit: at most {@code permits} releases per {@code period}.
 *
 * <p>Written as {@code N/P<unit>}, as in the original system: {@code "10/60s"}, {@code "1/3600s"},
 * {@code "100/10s"}, with the units {@code ms}, {@code s}, {@code m} and {@code h}
 * ({@code "300/1m"}, {@code "1/1h"}). Whitespace around the whole text is ignored; whitespace inside
 * it is an error. {@link #format()} writes the period in seconds when it is a whole number of seconds,
 * else in milliseconds, so {@code parse("1/1h").format()} is {@code "1/3600s"} and
 * {@code parse(r.format()).equals(r)} for every limit.
 *
 * <p>Bounds: 1 to {@value #MAX_PERMITS} permits, a period from 1 ms to {@value #MAX_PERIOD_HOURS} h.
 * They keep every figure of the Lua token bucket exact in a double (see acquire.lua).
 */
public record RateLimit(long permits, Duration period) {

    public static final long MAX_PERMITS = 1_000_000L;
    public static final long MAX_PERIOD_HOURS = 720;
    private static final Duration MAX_PERIOD = Duration.ofHours(MAX_PERIOD_HOURS);
    private static final String EXPECTED = "expected N/P with a unit, such as \"10/60s\", \"300/1m\" or \"1/1h\""
            + " (units ms, s, m, h)";

    public RateLimit {
        Objects.requireNonNull(period, "period");
        if (permits < 1) {
            throw new IllegalArgumentException("the number of permits must be at least 1, got " + permits);
        }
        if (permits > MAX_PERMITS) {
            throw new IllegalArgumentException("the number of permits must be at most " + MAX_PERMITS
                    + " per period, got " + permits + "; use a shorter period instead");
        }
        if (period.isNegative() || period.isZero()) {
            throw new IllegalArgumentException("the period must be longer than 0, got " + period);
        }
        if (period.compareTo(MAX_PERIOD) > 0) {
            throw new IllegalArgumentException("the period must be at most " + MAX_PERIOD_HOURS + "h, got "
                    + period.toHours() + "h");
        }
        if (period.toNanosPart() % 1_000_000 != 0) {
            throw new IllegalArgumentException("the period must be a whole number of milliseconds, got " + period);
        }
    }

    public static RateLimit of(long permits, Duration period) {
        return new RateLimit(permits, period);
    }

    /**
     * Parses {@code N/P<unit>}.
     *
     * @throws IllegalArgumentException with a message that names the problem and the expected form
     */
    public static RateLimit parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("the rate limit is empty; " + EXPECTED);
        }
        String trimmed = text.strip();
        int slash = trimmed.indexOf('/');
        if (slash < 0 || slash != trimmed.lastIndexOf('/')) {
            throw invalid(text, EXPECTED);
        }
        String count = trimmed.substring(0, slash);
        String period = trimmed.substring(slash + 1);
        long permits = parsePermits(text, count);
        Duration duration = parsePeriod(text, period);
        try {
            return new RateLimit(permits, duration);
        } catch (IllegalArgumentException e) {
            throw invalid(text, e.getMessage());
        }
    }

    private static long parsePermits(String text, String count) {
        if (count.startsWith("-") && isDigits(count.substring(1))) {
            throw invalid(text, "the number of permits must be at least 1");
        }
        if (!isDigits(count)) {
            throw invalid(text, "\"" + count + "\" is not a whole number of permits; " + EXPECTED);
        }
        if (count.length() > 7) {
            throw invalid(text, "the number of permits must be at most " + MAX_PERMITS
                    + " per period; use a shorter period instead");
        }
        return Long.parseLong(count);
    }

    private static Duration parsePeriod(String text, String period) {
        int unitStart = 0;
        while (unitStart < period.length() && Character.isDigit(period.charAt(unitStart))) {
            unitStart++;
        }
        String amount = period.substring(0, unitStart);
        String unit = period.substring(unitStart);
        if (amount.isEmpty()) {
            String problem = period.startsWith("-") ? "the period must be longer than 0"
                    : "the period \"" + period + "\" does not start with a whole number";
            throw invalid(text, problem + "; " + EXPECTED);
        }
        if (unit.isEmpty()) {
            throw invalid(text, "the period \"" + period + "\" has no unit; use ms, s, m or h, as in \""
                    + amount + "s\"");
        }
        if (amount.length() > 10) {
            throw invalid(text, "the period must be at most " + MAX_PERIOD_HOURS + "h");
        }
        long value = Long.parseLong(amount);
        if (value == 0) {
            throw invalid(text, "the period must be longer than 0");
        }
        return switch (unit) {
            case "ms" -> Duration.ofMillis(value);
            case "s" -> Duration.ofSeconds(value);
            case "m" -> Duration.ofMinutes(value);
            case "h" -> Duration.ofHours(value);
            default -> throw invalid(text, "unknown unit \"" + unit + "\"; use ms, s, m or h");
        };
    }

    private static boolean isDigits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    private static IllegalArgumentException invalid(String text, String why) {
        return new IllegalArgumentException("invalid rate limit \"" + text + "\": " + why);
    }

    /** The period in microseconds, the unit of the Lua token bucket. */
    public long periodMicros() {
        return period.toNanos() / 1_000;
    }

    /** Releases per second, for display and metrics. */
    public double perSecond() {
        return permits * 1_000_000.0 / periodMicros();
    }

    /** The canonical text: the period in whole seconds when possible, else in milliseconds. */
    public String format() {
        long millis = period.toMillis();
        if (millis % 1000 == 0) {
            return permits + "/" + (millis / 1000) + "s";
        }
        return permits + "/" + millis + "ms";
    }

    @Override
    public String toString() {
        return format();
    }
}
