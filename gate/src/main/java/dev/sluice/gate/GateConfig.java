package dev.sluice.gate;

import dev.sluice.core.Env;
import dev.sluice.core.RecordLimits;
import dev.sluice.core.SluiceConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The gate's settings, validated when built.
 *
 * @param sluice where Kafka and Redis are, names, bucket horizon
 * @param instanceId names this instance's transactional producer ({@code sluice-gate-<id>}); unique
 *     per running instance
 * @param maxBatch the most tokens asked for in one call, and the most records held per queue
 * @param readyPartitions partitions of {@code sluice.ready} when the gate has to create it
 * @param failOpen when Redis is unreachable: {@code false} (the default) releases nothing, {@code true}
 *     releases at each queue's last known rate from a bucket in this process (per instance, so
 *     several instances may together exceed the limit while Redis is away)
 * @param resyncInterval how often the whole queue list is read again, in case a change notification
 *     was missed (changes are normally seen within milliseconds through Redis pub/sub)
 * @param startLead how far after its release a task's start slot lies at the least: the time it has to
 *     be committed and reach a worker, which starts it at its slot (ADR 0005). Every gate of a
 *     deployment should use the same lead; a queue change (pause, new rate) applies to slots not yet
 *     given out, so to tasks starting up to a lead and a horizon later
 * @param limits the most payload and header bytes a queue topic's record may carry; a record over them is
 *     dead-lettered with the reason, not released
 */
public record GateConfig(SluiceConfig sluice, String instanceId, int maxBatch, int readyPartitions,
                         boolean failOpen, Duration resyncInterval, Duration startLead, RecordLimits limits) {

    public static final String ENV_INSTANCE_ID = "SLUICE_GATE_ID";
    public static final String ENV_MAX_BATCH = "SLUICE_GATE_MAX_BATCH";
    public static final String ENV_READY_PARTITIONS = "SLUICE_READY_PARTITIONS";
    public static final String ENV_FAIL_OPEN = "SLUICE_GATE_FAIL_OPEN";
    public static final String ENV_START_LEAD_MS = "SLUICE_GATE_START_LEAD_MS";
    public static final Duration DEFAULT_START_LEAD = Duration.ofMillis(200);

    public GateConfig {
        Objects.requireNonNull(sluice, "sluice");
        Objects.requireNonNull(resyncInterval, "resyncInterval");
        Objects.requireNonNull(startLead, "startLead");
        Objects.requireNonNull(limits, "limits");
        if (instanceId == null || !instanceId.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new IllegalArgumentException("the gate instance id must be 1 to 100 letters, digits, '.', '_' or '-',"
                    + " got \"" + instanceId + "\"");
        }
        if (maxBatch < 1 || maxBatch > 10_000) {
            throw new IllegalArgumentException("the gate's max batch must be between 1 and 10000, got " + maxBatch);
        }
        if (readyPartitions < 1 || readyPartitions > 10_000) {
            throw new IllegalArgumentException("the ready topic's partitions must be between 1 and 10000, got "
                    + readyPartitions);
        }
        dev.sluice.core.redis.TokenBucket.checkLead(startLead);
        if (resyncInterval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("the resync interval must be at least 1 s, got " + resyncInterval);
        }
    }

    /**
     * Defaults: a random instance id, batches of 5000, 8 ready partitions, fail closed, resync every 30 s,
     * start slots at least 200 ms after release.
     */
    public static GateConfig of(SluiceConfig sluice) {
        return new GateConfig(sluice, UUID.randomUUID().toString(), 5000, 8, false, Duration.ofSeconds(30),
                DEFAULT_START_LEAD, RecordLimits.DEFAULTS);
    }

    /** Reads {@link SluiceConfig#fromEnvironment} and the gate's own variables. */
    public static GateConfig fromEnvironment(Map<String, String> env) {
        GateConfig defaults = of(SluiceConfig.fromEnvironment(env));
        try {
            return new GateConfig(defaults.sluice(),
                    Env.text(env, ENV_INSTANCE_ID, defaults.instanceId()),
                    Env.integer(env, ENV_MAX_BATCH, defaults.maxBatch()),
                    Env.integer(env, ENV_READY_PARTITIONS, defaults.readyPartitions()),
                    Env.bool(env, ENV_FAIL_OPEN, false),
                    defaults.resyncInterval(),
                    Duration.ofMillis(Env.integer(env, ENV_START_LEAD_MS, (int) DEFAULT_START_LEAD.toMillis())),
                    RecordLimits.fromEnvironment(env));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("gate configuration: " + e.getMessage(), e);
        }
    }

    public GateConfig withInstanceId(String id) {
        return new GateConfig(sluice, id, maxBatch, readyPartitions, failOpen, resyncInterval, startLead, limits);
    }

    public GateConfig withFailOpen(boolean value) {
        return new GateConfig(sluice, instanceId, maxBatch, readyPartitions, value, resyncInterval, startLead, limits);
    }

    public GateConfig withLimits(RecordLimits value) {
        return new GateConfig(sluice, instanceId, maxBatch, readyPartitions, failOpen, resyncInterval, startLead, value);
    }

    public GateConfig withStartLead(Duration value) {
        return new GateConfig(sluice, instanceId, maxBatch, readyPartitions, failOpen, resyncInterval, value, limits);
    }
}
