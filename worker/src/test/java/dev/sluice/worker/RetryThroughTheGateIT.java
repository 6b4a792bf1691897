package dev.sluice.worker;

import static dev.sluice.worker.WorkerFixture.header;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sluice.core.QueueSpec;
import dev.sluice.core.RateLimit;
import dev.sluice.core.TaskHeaders;
import dev.sluice.core.Windows;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.embedded.SharedServers;
import dev.sluice.gate.Gate;
import dev.sluice.gate.GateConfig;
import dev.sluice.worker.api.Task;
import dev.sluice.worker.api.TaskHandler;
import dev.sluice.worker.api.TaskResult;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** Gate and worker together: a retry waits in a delay tier, then passes the queue's limit again. */
class RetryThroughTheGateIT {

    @Test
    void aTaskFailingTwiceCompletesOnItsThirdAttemptAndEveryAttemptKeptTheLimit() throws Exception {
        try (WorkerFixture world = new WorkerFixture();
             RedisClient redis = RedisClient.create(URI.create(SharedServers.redisUri()))) {
            new QueueRegistry(redis, world.sluice.keys()).create(world.queue, QueueSpec.of(RateLimit.parse("5/1s")));
            Map<String, Integer> completedOnAttempt = new ConcurrentHashMap<>();
            TaskHandler flaky = new TaskHandler() {
                @Override
                public String name() {
                    return "test";
                }

                @Override
                public TaskResult handle(Task task) {
                    if (task.id().equals("flaky") && task.attempt() < 2) {
                        return TaskResult.retry("503 on attempt " + task.attempt());
                    }
                    completedOnAttempt.put(task.id(), task.attempt());
                    return TaskResult.success();
                }
            };
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, world.sluice.kafkaBootstrapServers()),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                for (String id : List.of("flaky", "a", "b", "c", "d", "e", "f", "g", "h", "i")) {
                    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(world.topics.queue(world.queue),
                            WorkerFixture.utf8(id), WorkerFixture.utf8("{}"));
                    record.headers().add(TaskHeaders.ID, WorkerFixture.utf8(id));
                    record.headers().add(TaskHeaders.QUEUE, WorkerFixture.utf8(world.queue.value()));
                    producer.send(record);
                }
            }

            Worker worker;
            try (Gate gate = Gate.start(GateConfig.of(world.sluice).withInstanceId("retry-test"))) {
                worker = world.start(world.config(4), flaky);
                await().atMost(Duration.ofSeconds(30)).until(() -> completedOnAttempt.size() == 10);
            }

            assertThat(completedOnAttempt).containsEntry("flaky", 2).containsEntry("a", 0);
            // a task released before the worker had joined its group missed its slot and was released
            // again, with the same attempt: 10 tasks, 2 retries, and those
            int requeued = (int) worker.metrics().requeued();
            List<ConsumerRecord<byte[], byte[]>> released = world.read(world.topics.ready(), 12 + requeued,
                    Duration.ofSeconds(10));
            assertThat(released).hasSize(12 + requeued);
            List<String> flakyAttempts = released.stream().filter(r -> "flaky".equals(header(r, TaskHeaders.ID)))
                    .map(r -> String.valueOf(header(r, TaskHeaders.ATTEMPT))).distinct().toList();
            assertThat(flakyAttempts).containsExactly("null", "1", "2");
            long[] times = released.stream().mapToLong(ConsumerRecord::timestamp).toArray();
            assertThat(Windows.maxInAnyWindow(times, 1000)).isLessThanOrEqualTo(5);
        }
    }
}
