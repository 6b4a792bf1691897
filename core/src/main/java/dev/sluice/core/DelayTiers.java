package dev.sluice.core;

import java.time.Duration;
import java.util.List;

/**
 * The fixed delays a retry can wait in before it re-enters its queue topic. Each tier is its own
 * topic ({@code sluice.delay.<tier>}) whose records all wait the same time, so first in is first due
 * and a waiting retry never holds up a queue's newer tasks. A delay is served by the shortest tier at
 * least as long (at most 2.5 times the delay asked for); a delay longer than the longest tier passes
 * through it again until its not-before time has come.
 */
public final class DelayTiers {

    public static final List<Duration> TIERS = List.of(
            Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5),
            Duration.ofMinutes(10), Duration.ofMinutes(30), Duration.ofHours(1));

    private DelayTiers() {
    }

    /** The tier for a wait of {@code delay}: the shortest at least as long, else the longest. */
    public static Duration tierFor(Duration delay) {
        for (Duration tier : TIERS) {
            if (tier.compareTo(delay) >= 0) {
                return tier;
            }
        }
        return TIERS.get(TIERS.size() - 1);
    }

    /** The tier's name in its topic: {@code 1s}, {@code 2m}, {@code 1h}. */
    public static String name(Duration tier) {
        long seconds = tier.toSeconds();
        if (seconds % 3600 == 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
