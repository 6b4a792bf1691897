package dev.sluice.bench;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.TaskHeaders;
import dev.sluice.worker.Worker;
import dev.sluice.worker.WorkerConfig;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import io.confluent.parallelconsumer.ParallelConsumerOptions;
import io.confluent.parallelconsumer.ParallelStreamProcessor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * One consumer of the replay scenario of {@link WorkerBenchmark}, in a JVM of its own so that it can be
 * killed as a crash kills it: the Sluice worker or parallel-consumer, a handler that appends each task's
 * id to a file (one write per task, so the file holds every task whose handler ran, whatever happens to
 * this process after) and holds one task for good, as a slow call holds its partition.
 *
 * <p>Arguments: {@code worker|pc}, the output file, the slots, the id to hold; the environment says
 * Kafka, Redis and the topic prefix as for the services.
 */
public final class ReplayChild {

    private ReplayChild() {
    }

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        FileOutputStream out = new FileOutputStream(args[1], true);
        int slots = Integer.parseInt(args[2]);
        String held = args[3];
        SluiceConfig sluice = SluiceConfig.fromEnvironment(System.getenv());
        java.util.function.Consumer<String> ran = id -> {
            try {
                synchronized (out) {
                    out.write((id + "\n").getBytes(StandardCharsets.UTF_8)); // a write(2) each: kept by the OS
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (id.equals(held)) {
                sleepForGood();
            }
        };
        if (kind.equals("worker")) {
            TaskHandler handler = new TaskHandler() {
                @Override
                public String name() {
                    return "replay";
                }

                @Override
                public TaskResult handle(Task task) {
                    ran.accept(task.id());
                    return TaskResult.success();
                }
            };
            Worker.start(WorkerConfig.of(sluice).withConcurrency(slots).withHandler("replay")
                    .withHandlerTimeout(java.time.Duration.ofMinutes(10)), List.of(handler));
        } else {
            KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, sluice.kafkaBootstrapServers(),
                    ConsumerConfig.GROUP_ID_CONFIG, sluice.topics().prefix() + "-pc",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer());
            ParallelStreamProcessor<byte[], byte[]> pc = ParallelStreamProcessor.createEosStreamProcessor(
                    ParallelConsumerOptions.<byte[], byte[]>builder().consumer(consumer)
                            .ordering(ParallelConsumerOptions.ProcessingOrder.UNORDERED).maxConcurrency(slots).build());
            pc.subscribe(List.of(sluice.topics().ready()));
            pc.poll(context -> {
                Header id = context.getSingleConsumerRecord().headers().lastHeader(TaskHeaders.ID);
                ran.accept(new String(id.value(), StandardCharsets.UTF_8));
            });
        }
        System.out.println("started " + kind);
        Thread.currentThread().join(); // until killed
    }

    private static void sleepForGood() {
        try {
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
