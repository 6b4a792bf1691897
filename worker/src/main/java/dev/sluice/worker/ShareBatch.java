package dev.sluice.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.ShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tasks a share consumer holds, from the poll that handed them out to their acknowledgement, and the
 * renewal of their record locks while they wait or run (KIP-1222). Used by the consumer's thread only.
 *
 * <p>How Kafka renews, as tried against the 4.3 broker and client: a {@code RENEW} acknowledgement,
 * once committed, extends the lock by the group's lock duration from then; the renewed record is handed
 * back to the same consumer by a later poll, and only that delivery can be acknowledged again (the old
 * one throws "The record cannot be acknowledged"). A poll in explicit mode needs every record of the
 * poll before it acknowledged, and a {@code RENEW} counts. So a renewal acknowledges the tasks that ended,
 * renews the others, commits and polls until each renewed task is back. A poll may hand out new tasks
 * too: they join the batch. If one of them must be polled past before the others are back, it is renewed
 * as well.
 */
final class ShareBatch {

    private static final Logger LOG = LoggerFactory.getLogger(ShareBatch.class);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    /** How long a renewal waits for its renewed tasks to be handed back. */
    private static final Duration BACK_WITHIN = Duration.ofSeconds(5);
    private static final Duration POLL = Duration.ofMillis(100);

    private final ShareConsumer<byte[], byte[]> consumer;
    private final List<ShareJob> jobs = new ArrayList<>();

    ShareBatch(ShareConsumer<byte[], byte[]> consumer) {
        this.consumer = consumer;
    }

    ShareJob add(ConsumerRecord<byte[], byte[]> record) {
        ShareJob job = new ShareJob(record);
        jobs.add(job);
        return job;
    }

    List<ShareJob> jobs() {
        return jobs;
    }

    /**
     * Renews the lock of every task that has not ended, and acknowledges those that have.
     *
     * @return the tasks new to this batch that Kafka handed out while the renewed ones came back: to be
     *     run like the others
     */
    List<ShareJob> renew() {
        return renew(false);
    }

    /**
     * For tasks a poll handed out long after the poll before it: Kafka may have acquired them for this
     * consumer back then, in a fetch whose answer waited inside the consumer while its last batch ran, and
     * their locks may have run out meanwhile; then Kafka has handed them to another worker, and running them
     * here would run them twice. A renewal tells: a task still locked for this consumer comes back, one that
     * is not does not and is dropped. Repeated while the renewal's polls hand out tasks new to the batch
     * (they may have waited as long).
     *
     * @return the tasks that are this consumer's to run
     */
    List<ShareJob> verify() {
        for (int round = 0; round < 10 && !renew(true).isEmpty(); round++) {
            // until the consumer has handed out all it held
        }
        return jobs.stream().filter(ShareJob::open).toList();
    }

    /** Gives every task of the batch back unrun (when renewals are not available to tell which are ours). */
    void releaseAll() {
        for (ShareJob job : jobs) {
            if (job.open()) {
                acknowledge(job, AcknowledgeType.RELEASE);
            }
        }
    }

    private List<ShareJob> renew(boolean verifying) {
        Map<String, ShareJob> away = new HashMap<>();
        for (ShareJob job : jobs) {
            if (!job.open()) {
                continue;
            }
            if (job.outcome != null) {
                acknowledge(job, job.outcome);
            } else if (acknowledge(job, AcknowledgeType.RENEW)) {
                away.put(key(job.delivered), job);
            }
        }
        int renewed = away.size();
        LOG.debug("{} renews {}", Thread.currentThread().getName(), away.keySet());
        commit();
        List<ShareJob> fresh = new ArrayList<>();
        long deadline = System.nanoTime() + BACK_WITHIN.toNanos();
        while (!away.isEmpty() && System.nanoTime() < deadline) {
            ConsumerRecords<byte[], byte[]> records;
            try {
                records = consumer.poll(POLL);
            } catch (WakeupException stopping) {
                continue; // the batch ends as usual, then the loop stops
            }
            if (records.isEmpty()) {
                continue;
            }
            if (LOG.isDebugEnabled()) {
                LOG.debug("{} renewal polled {}, away {}", Thread.currentThread().getName(), describe(records), away.keySet());
            }
            List<ShareJob> returned = new ArrayList<>(records.count());
            for (ConsumerRecord<byte[], byte[]> record : records) {
                ShareJob job = away.remove(key(record));
                if (job == null) {
                    job = add(record);
                    fresh.add(job);
                } else {
                    job.delivered = record;
                }
                returned.add(job);
            }
            if (away.isEmpty()) {
                break; // all back; what this poll handed out is acknowledged at the end or at the next renewal
            }
            for (ShareJob job : returned) { // polled past before the rest are back: renewed again
                if (acknowledge(job, AcknowledgeType.RENEW)) {
                    away.put(key(job.delivered), job);
                }
            }
            commit();
        }
        if (!away.isEmpty() && verifying) {
            away.values().forEach(job -> job.lost = true);
            LOG.info("Share mode: {} of {} tasks this consumer held while its last batch ran had lost their locks to"
                    + " another worker; not run here", away.size(), renewed);
        } else if (!away.isEmpty()) {
            away.values().forEach(job -> job.lost = true);
            LOG.warn("Share mode: {} of {} renewed tasks did not come back within {} ms; Kafka hands them to another"
                    + " worker when their locks run out (a task then may run twice)", away.size(), renewed,
                    BACK_WITHIN.toMillis());
        }
        return fresh;
    }

    /** Acknowledges every task of the batch that ended and is still the consumer's; the caller commits. */
    void acknowledgeEnded() {
        for (ShareJob job : jobs) {
            if (job.open() && job.outcome != null) {
                acknowledge(job, job.outcome);
            }
        }
    }

    private boolean acknowledge(ShareJob job, AcknowledgeType type) {
        try {
            consumer.acknowledge(job.delivered, type);
        } catch (IllegalStateException notOurs) {
            job.lost = true;
            LOG.warn("Share mode: a task could not be acknowledged ({}): {}", type, notOurs.getMessage());
            return false;
        }
        if (type != AcknowledgeType.RENEW) {
            job.acknowledged = true;
        }
        return true;
    }

    private void commit() {
        for (int attempt = 1; attempt <= 2; attempt++) {
            try {
                Map<TopicIdPartition, Optional<KafkaException>> result = consumer.commitSync(COMMIT_TIMEOUT);
                result.forEach((partition, error) -> error.ifPresent(e -> LOG.warn(
                        "Share mode: acknowledgements or renewals on {} not committed: {}", partition, e.toString())));
                return;
            } catch (WakeupException stopping) {
                // a wakeup asks the loop to stop after its batch, not to drop what was acknowledged: once more
            } catch (KafkaException e) {
                LOG.warn("Share mode: acknowledgements or renewals not committed: {}", e.toString());
                return;
            }
        }
    }

    /** The records of a poll as offsets with their delivery counts, for the debug log. */
    static String describe(ConsumerRecords<byte[], byte[]> records) {
        StringBuilder text = new StringBuilder();
        for (ConsumerRecord<byte[], byte[]> record : records) {
            text.append(key(record)).append('#').append(record.deliveryCount().map(String::valueOf).orElse("?")).append(' ');
        }
        return text.toString().trim();
    }

    private static String key(ConsumerRecord<?, ?> record) {
        return record.topic() + '-' + record.partition() + '@' + record.offset();
    }

    /**
     * A third of the record lock: a task still held then is renewed. A task a renewal's polls hand out may
     * have been taken up to one such interval before; it is renewed at the next, well within its lock.
     */
    static long renewEveryNanos(Duration lock) {
        return TimeUnit.MILLISECONDS.toNanos(Math.max(1_000, lock.toMillis() / 3));
    }
}
