package dev.sluice.ingest;

import dev.sluice.core.DrainForecast;
import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.core.kafka.Backlogs;
import dev.sluice.core.redis.BucketStatus;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.RedisConnections;
import dev.sluice.core.redis.TokenBucket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Submits tasks, as the original {@code RateLimitedTaskSubmitter.submit_task(queue_name, task_data)}
 * did:
 * <pre>{@code
 * try (TaskSubmitter submitter = new TaskSubmitter(SluiceConfig.fromEnvironment(System.getenv()))) {
 *     String id = submitter.submit("emails", "{\"to\":\"a@b.c\"}".getBytes(UTF_8)).join();
 * }
 * }</pre>
 * Each task goes to {@code sluice.tasks} with the queue name as its key, the payload untouched as its
 * value, and its id and submission time in headers; the router takes it on to its queue (or to
 * {@code sluice.rejected} with the reason). The producer is idempotent with {@code acks=all}: a task
 * acknowledged is stored, and retries do not write it twice.
 *
 * <p>A queue that does not exist is refused at once ({@link UnknownQueueException}), as the admin API
 * refuses it: the submitter asks Redis's registry, and remembers a queue it found for a few seconds. When
 * Redis does not answer, the task goes on and the router decides (it checks every task). For
 * fire-and-forget without Redis, {@link #unchecked}: an unknown queue's tasks then end in
 * {@code sluice.rejected}.
 *
 * <p>{@link #submitAllForecast} also tells when each task is expected to be released, as
 * {@code POST /queues/{name}/tasks} does.
 *
 * <p>Thread-safe: share one instance. Close it to flush what is pending.
 */
public final class TaskSubmitter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TaskSubmitter.class);
    /** How long a queue found in the registry is taken to exist without asking again. */
    private static final long KNOWN_FOR_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Producer<byte[], byte[]> producer;
    private final Topics topics;
    /** Redis, to check that a queue exists; null when unchecked. */
    private final UnifiedJedis redis;
    private final QueueRegistry registry;
    private final SluiceConfig config;
    /** For forecasts: made on the first one, so that plain submitting opens no admin connection. */
    private Admin admin;
    private final Map<QueueName, Long> knownUntil = new ConcurrentHashMap<>();
    private final AtomicBoolean saidUnreachable = new AtomicBoolean();

    /** A submitter that refuses a queue that does not exist at once (asking Redis). */
    public TaskSubmitter(SluiceConfig config) {
        this(new KafkaProducer<>(producerConfig(config), new ByteArraySerializer(), new ByteArraySerializer()),
                config.topics(), RedisConnections.open(config), config);
    }

    /**
     * A submitter that does not ask whether a queue exists (no Redis): a task for an unknown queue is
     * stored, and the router sends it to {@code sluice.rejected}.
     */
    public static TaskSubmitter unchecked(SluiceConfig config) {
        return new TaskSubmitter(new KafkaProducer<>(producerConfig(config), new ByteArraySerializer(),
                new ByteArraySerializer()), config.topics(), null, config);
    }

    private TaskSubmitter(Producer<byte[], byte[]> producer, Topics topics, UnifiedJedis redis, SluiceConfig config) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.topics = Objects.requireNonNull(topics, "topics");
        this.redis = redis;
        this.registry = redis == null ? null : new QueueRegistry(redis, config.keys());
        this.config = config;
    }

    private static Map<String, Object> producerConfig(SluiceConfig config) {
        Map<String, Object> props = config.kafkaProperties();
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // a missing tasks topic or an unreachable broker fails a submit in 10 s, not 60
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        return props;
    }

    TaskSubmitter(Producer<byte[], byte[]> producer, Topics topics) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.topics = Objects.requireNonNull(topics, "topics");
        this.redis = null;
        this.registry = null;
        this.config = null;
    }

    /**
     * Submits one task with a new id.
     *
     * @return the task's id, once Kafka stored the task
     * @throws IllegalArgumentException at once when the queue name is invalid
     * @throws UnknownQueueException at once when no such queue exists (unless {@link #unchecked})
     */
    public CompletableFuture<String> submit(String queue, byte[] payload) {
        return submit(queue, UUID.randomUUID().toString(), payload);
    }

    /** Submits one task with the caller's id (1 to 200 characters). */
    public CompletableFuture<String> submit(String queue, String id, byte[] payload) {
        QueueName name = QueueName.of(queue);
        if (id == null || id.isBlank() || id.length() > 200) {
            throw new IllegalArgumentException("a task id must be 1 to 200 characters, got \"" + id + "\"");
        }
        requireQueue(name);
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topics.tasks(), null,
                name.value().getBytes(StandardCharsets.UTF_8), payload);
        record.headers().add(TaskHeaders.ID, id.getBytes(StandardCharsets.UTF_8));
        record.headers().add(TaskHeaders.SUBMITTED_AT,
                Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8));
        CompletableFuture<String> stored = new CompletableFuture<>();
        producer.send(record, (metadata, error) -> {
            if (error == null) {
                stored.complete(id);
            } else {
                stored.completeExceptionally(error);
            }
        });
        return stored;
    }

    /** Submits several tasks to one queue, each with a new id, in order. */
    public List<CompletableFuture<String>> submitAll(String queue, List<byte[]> payloads) {
        requireQueue(QueueName.of(queue));
        List<CompletableFuture<String>> ids = new ArrayList<>(payloads.size());
        for (byte[] payload : payloads) {
            ids.add(submit(queue, payload));
        }
        return ids;
    }

    /**
     * Tasks submitted, and when each is expected to be released: from the queue's backlog and its limit as
     * they stand when it was submitted ({@link DrainForecast}), in the order of the ids. New submissions,
     * retries, a limit changed or a pause move it; it is a forecast. Empty while the queue is paused, or
     * when Kafka did not tell the backlog within 3 s.
     */
    public record Submitted(List<String> ids, List<Instant> releaseForecast) {
        public Submitted {
            ids = List.copyOf(ids);
            releaseForecast = List.copyOf(releaseForecast);
        }
    }

    /**
     * Submits several tasks to one queue, waits until Kafka stored them all, and tells when each is
     * expected to be released.
     *
     * @throws UnknownQueueException when no such queue exists
     * @throws IllegalStateException for a submitter made {@link #unchecked} (it has no Redis to read the limit from)
     * @throws java.util.concurrent.CompletionException when Kafka did not store a task
     */
    public Submitted submitAllForecast(String queue, List<byte[]> payloads) {
        if (registry == null) {
            throw new IllegalStateException("a forecast needs the queue's limit from Redis: this submitter is unchecked");
        }
        QueueName name = QueueName.of(queue);
        Queue known = registry.find(name).orElseThrow(() -> new UnknownQueueException(name));
        // the backlog before these tasks: read first, so that they are not counted in it
        Backlogs.Backlog before = backlogs().of(List.of(name)).get(name);
        List<String> ids = submitAll(queue, payloads).stream().map(CompletableFuture::join).toList();
        if (before == null) {
            return new Submitted(ids, List.of());
        }
        BucketStatus status = new TokenBucket(redis, config.keys(), Duration.ZERO).status(name);
        return new Submitted(ids, DrainForecast.releases(before.waiting(), ids.size(), status, known.spec().rateLimit()));
    }

    private synchronized Backlogs backlogs() {
        if (admin == null) {
            admin = Admin.create(config.kafkaProperties());
        }
        return new Backlogs(admin, topics);
    }

    private void requireQueue(QueueName name) {
        if (registry == null) {
            return;
        }
        Long until = knownUntil.get(name);
        if (until != null && until - System.nanoTime() > 0) {
            return;
        }
        boolean exists;
        try {
            exists = registry.find(name).isPresent();
        } catch (JedisException unreachable) {
            if (saidUnreachable.compareAndSet(false, true)) {
                LOG.warn("Redis does not answer ({}): tasks are submitted without checking their queue; the router"
                        + " checks each", unreachable.getMessage());
            }
            return;
        }
        if (saidUnreachable.compareAndSet(true, false)) {
            LOG.info("Redis answers again: queues are checked at submission again");
        }
        if (!exists) {
            knownUntil.remove(name);
            throw new UnknownQueueException(name);
        }
        knownUntil.put(name, System.nanoTime() + KNOWN_FOR_NANOS);
    }

    /** Sends what is pending and waits for it. */
    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close();
        synchronized (this) {
            if (admin != null) {
                admin.close();
            }
        }
        if (redis != null) {
            redis.close();
        }
    }
}
