package dev.sluice.bench;

import dev.sluice.embedded.EmbeddedKafka;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * How many one-partition topics (one per queue) one embedded broker holds, and what grows with them:
 * topics are created in steps of {@value #STEP}, one record written to each (as a queue with a task has;
 * {@code -Dceiling.write=false} leaves them empty), and after each step this
 * prints the time the step's creation took, the time to list and to describe every topic (what a client
 * fetching all metadata pays), the file descriptors and memory-mapped files of the process (broker in
 * it), and its heap after a full GC. {@code -Dceiling.topics=N} (20,000 by default).
 */
public final class TopicCeiling {

    private static final int STEP = 2_000;
    private static final boolean WRITE = Boolean.parseBoolean(System.getProperty("ceiling.write", "true"));
    /**
     * Producers writing in parallel, each to its share of the topics: a producer's first send to a topic
     * waits for that topic's metadata, one round trip, and with every topic on one producer the round
     * trips of tens of thousands of new topics took longer than the rest of the run.
     */
    private static final int WRITERS = 16;

    private TopicCeiling() {
    }

    public static void main(String[] args) {
        try {
            run(Integer.getInteger("ceiling.topics", 20_000));
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(int topics) throws Exception {
        Path data = Files.createTempDirectory("sluice-ceiling");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(data);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                     AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 120_000,
                     AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 300_000))) {
            System.out.printf("One embedded broker (in this JVM, %d cores, max heap %d MB), one-partition topics in steps of %d%n",
                    Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20, STEP);
            System.out.println(WRITE ? "one record written to each topic" : "topics left empty");
            System.out.println("topics | step created in | list all | describe all | open files | mapped files | heap after GC");
            String prefix = "q" + UUID.randomUUID().toString().substring(0, 6) + ".";
            List<KafkaProducer<byte[], byte[]>> producers = new ArrayList<>();
            for (int i = 0; i < WRITERS; i++) {
                producers.add(new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                        ProducerConfig.LINGER_MS_CONFIG, 5, ProducerConfig.BATCH_SIZE_CONFIG, 1024),
                        new ByteArraySerializer(), new ByteArraySerializer()));
            }
            for (int made = 0; made < topics; made += STEP) {
                List<NewTopic> batch = new ArrayList<>();
                for (int i = made; i < made + STEP; i++) {
                    batch.add(new NewTopic(prefix + i, 1, (short) 1));
                }
                long start = System.nanoTime();
                for (int from = 0; from < batch.size(); from += 500) { // requests of 500 topics
                    admin.createTopics(batch.subList(from, Math.min(batch.size(), from + 500))).all()
                            .get(5, TimeUnit.MINUTES);
                }
                long created = System.nanoTime() - start;
                if (WRITE) {
                    write(batch.stream().map(NewTopic::name).toList(), producers);
                }
                start = System.nanoTime();
                Set<String> names = admin.listTopics().names().get(5, TimeUnit.MINUTES);
                long listed = System.nanoTime() - start;
                start = System.nanoTime();
                admin.describeTopics(names).allTopicNames().get(5, TimeUnit.MINUTES);
                long described = System.nanoTime() - start;
                System.gc();
                long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                System.out.printf(Locale.ROOT, "%6d | %6.1f s | %6d ms | %6d ms | %6d | %6d | %5d MB%n", made + STEP,
                        created / 1e9, TimeUnit.NANOSECONDS.toMillis(listed), TimeUnit.NANOSECONDS.toMillis(described),
                        count(Path.of("/proc/self/fd")), mapped(data), heap >> 20);
            }
        }
    }

    /** One record to each topic, the topics shared out between the producers, written in parallel. */
    private static void write(List<String> topics, List<KafkaProducer<byte[], byte[]>> producers) throws Exception {
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(producers.size());
        try {
            List<java.util.concurrent.Future<?>> done = new ArrayList<>();
            for (int w = 0; w < producers.size(); w++) {
                int writer = w;
                done.add(threads.submit(() -> {
                    List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
                    for (int i = writer; i < topics.size(); i += producers.size()) {
                        sent.add(producers.get(writer).send(new ProducerRecord<>(topics.get(i), new byte[100])));
                    }
                    for (java.util.concurrent.Future<?> each : sent) {
                        each.get(5, TimeUnit.MINUTES);
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> each : done) {
                each.get(10, TimeUnit.MINUTES);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    private static long count(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.count();
        }
    }

    /** Memory-mapped files of this process under the broker's data directory (Kafka maps its indexes). */
    private static long mapped(Path data) throws IOException {
        String under = data.toRealPath().toString();
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(line -> line.contains(under)).map(line -> line.substring(line.lastIndexOf(' ') + 1))
                    .distinct().count();
        }
    }
}
