package dev.sluice.bench;

import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.RedisKeys;
import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Topics;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.DeadLetterIndex;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.EmbeddedKafka;
import dev.sluice.embedded.RedisServerProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import redis.clients.jedis.RedisClient;

/**
 * What a queue's dead letters cost to list when the dead-letter topic is large: {@code -Ddead.records}
 * dead letters (1,000,000 by default) of {@code -Ddead.queues} queues (1,000) are written to one
 * embedded broker's dead-letter topic, as workers write them; then an admin service starts and indexes
 * them. Printed: how long the indexing took, Redis's memory per dead letter, the time of the first,
 * a middle and a deep page of 50 of one queue through {@code GET /queues/{name}/dead}, a replay of 50,
 * and against them the baseline: finding one queue's dead letters by reading the topic.
 */
public final class DeadLetterBenchmark {

    private DeadLetterBenchmark() {
    }

    public static void main(String[] args) {
        try {
            run(Integer.getInteger("dead.records", 1_000_000), Integer.getInteger("dead.queues", 1_000));
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(int records, int queues) throws Exception {
        Path data = Files.createTempDirectory("sluice-dead-bench");
        String prefix = "d" + UUID.randomUUID().toString().substring(0, 6);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(data.resolve("kafka"));
             RedisServerProcess redisServer = RedisServerProcess.start(RedisServerProcess.freePort(), data.resolve("redis"), false);
             RedisClient redis = RedisClient.create(URI.create(redisServer.uri()))) {
            Topics topics = new Topics(prefix);
            RedisKeys keys = new RedisKeys(prefix);
            QueueRegistry registry = new QueueRegistry(redis, keys);
            List<QueueName> names = new ArrayList<>();
            for (int i = 0; i < queues; i++) {
                QueueName name = QueueName.of("dq-" + i);
                registry.create(name, QueueSpec.of(RateLimit.parse("10/1s")));
                names.add(name);
            }
            TopicProvisioner.ensureSharedTopics(kafka.bootstrapServers(), topics, 1);
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                    Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                new TopicProvisioner(admin, topics, (short) 1).ensureQueueTopic(names.get(1)); // where a replay goes
            }
            System.out.printf("%,d dead letters of %,d queues on one embedded broker (%d cores)%n", records, queues,
                    Runtime.getRuntime().availableProcessors());

            long writeStart = System.nanoTime();
            write(kafka.bootstrapServers(), topics.dead(), names, records);
            System.out.printf("written to %s in %.1f s%n", topics.dead(), seconds(writeStart));
            long memoryBefore = usedMemory(redis);

            long indexStart = System.nanoTime();
            int port = RedisServerProcess.freePort();
            String base = "http://127.0.0.1:" + port;
            try (ChildJvm admin = ChildJvm.start("admin", "dev.sluice.admin.AdminApplication", Map.of(
                    SluiceConfig.ENV_KAFKA, kafka.bootstrapServers(), SluiceConfig.ENV_REDIS, redisServer.uri(),
                    SluiceConfig.ENV_TOPIC_PREFIX, prefix, SluiceConfig.ENV_KEY_PREFIX, prefix,
                    "SLUICE_ADMIN_PORT", String.valueOf(port), "SLUICE_REAPER_ENABLED", "false",
                    "SLUICE_JANITOR_ENABLED", "false"), List.of("-Xmx512m"))) {
                DeadLetterIndex index = new DeadLetterIndex(redis, keys);
                long listed = 0;
                while (listed < records) {
                    Thread.sleep(250);
                    listed = 0;
                    for (QueueName name : names) {
                        listed += index.count(name);
                    }
                    if (seconds(indexStart) > 900) {
                        throw new IllegalStateException("indexed " + listed + " of " + records + " in 15 minutes");
                    }
                }
                double indexSeconds = seconds(indexStart);
                long memoryAfter = usedMemory(redis);
                System.out.printf("indexed (admin start included) in %.1f s: %,.0f dead letters/s; Redis %,d bytes more:"
                        + " %.0f bytes per dead letter%n", indexSeconds, records / indexSeconds,
                        memoryAfter - memoryBefore, (memoryAfter - memoryBefore) / (double) records);

                HttpClient http = HttpClient.newHttpClient();
                QueueName one = names.get(0);
                long count = index.count(one);
                List<Long> offsets = index.newestBefore(one, null, (int) count);
                get(http, base + "/queues/" + one + "/dead?limit=50"); // warm up the reader and the JIT
                double[] first = timed(20, () -> get(http, base + "/queues/" + one + "/dead?limit=50"));
                long middle = offsets.get(offsets.size() / 2);
                double[] mid = timed(20, () -> get(http, base + "/queues/" + one + "/dead?limit=50&before=" + middle));
                long deep = offsets.get(offsets.size() - 60);
                double[] last = timed(20, () -> get(http, base + "/queues/" + one + "/dead?limit=50&before=" + deep));
                System.out.printf("a page of 50 of %s (%,d listed): newest %s; middle %s; oldest %s (ms, median / max of 20)%n",
                        one, count, figure(first), figure(mid), figure(last));

                QueueName other = names.get(1);
                List<Long> chosen = index.newestBefore(other, null, 50);
                String body = "{\"offsets\":" + chosen + "}";
                long replayStart = System.nanoTime();
                String replayed = post(http, base + "/queues/" + other + "/dead/replay", body);
                System.out.printf("replay of 50 chosen dead letters of %s: %.0f ms (%s)%n", other,
                        (System.nanoTime() - replayStart) / 1e6, replayed.length() > 60 ? replayed.substring(0, 60) + "…" : replayed);
                long againStart = System.nanoTime();
                String again = post(http, base + "/queues/" + other + "/dead/replay", body);
                System.out.printf("the same replay again: %.0f ms, count %s%n", (System.nanoTime() - againStart) / 1e6,
                        again.replaceAll(".*\"count\":(\\d+).*", "$1"));

                long scanStart = System.nanoTime();
                long found = scan(kafka.bootstrapServers(), topics.dead(), names.get(2).value());
                double scanMs = (System.nanoTime() - scanStart) / 1e6;
                System.out.printf("baseline: one queue's %,d dead letters found by reading the topic: %.0f ms;"
                        + " the newest page through the index: %.1f ms (%.0f× faster)%n",
                        found, scanMs, median(first), scanMs / median(first));
            }
        }
    }

    private static void write(String bootstrap, String topic, List<QueueName> names, int records) throws Exception {
        Random random = new Random(7);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024, ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                QueueName queue = names.get(random.nextInt(names.size()));
                String id = UUID.randomUUID().toString();
                RecordHeaders headers = new RecordHeaders();
                headers.add(TaskHeaders.ID, utf8(id));
                headers.add(TaskHeaders.QUEUE, utf8(queue.value()));
                headers.add(TaskHeaders.ATTEMPT, utf8("2"));
                headers.add(TaskHeaders.SUBMITTED_AT, utf8(Long.toString(System.currentTimeMillis())));
                headers.add(TaskHeaders.ERROR, utf8("POST https://api.example.com/v1/send answered 422"));
                producer.send(new ProducerRecord<>(topic, null, utf8(id), utf8("{\"to\":\"user" + i
                        + "@example.com\",\"template\":\"weekly-report\",\"n\":" + i + "}"), headers));
            }
            producer.flush();
        }
    }

    /** Reads the whole topic for one queue's records, as one would without an index. */
    private static long scan(String bootstrap, String topic, String queue) {
        TopicPartition partition = new TopicPartition(topic, 0);
        long found = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            byte[] wanted = utf8(queue);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    var header = record.headers().lastHeader(TaskHeaders.QUEUE);
                    if (header != null && Arrays.equals(header.value(), wanted)) {
                        found++;
                    }
                }
            }
        }
        return found;
    }

    private interface Call {
        void run() throws Exception;
    }

    private static double[] timed(int times, Call call) throws Exception {
        double[] millis = new double[times];
        for (int i = 0; i < times; i++) {
            long start = System.nanoTime();
            call.run();
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        return millis;
    }

    private static double median(double[] sorted) {
        return sorted[sorted.length / 2];
    }

    private static String figure(double[] sorted) {
        return String.format("%.1f / %.1f", median(sorted), sorted[sorted.length - 1]);
    }

    private static String get(HttpClient http, String url) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    private static String post(HttpClient http, String url, String body) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    private static long usedMemory(RedisClient redis) {
        for (String line : redis.info("memory").split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).strip());
            }
        }
        throw new IllegalStateException("Redis did not say its used_memory");
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
