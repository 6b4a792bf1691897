package dev.sluice.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.DelayTiers;
import dev.sluice.core.QueueName;
import dev.sluice.core.Topics;
import dev.sluice.embedded.SharedServers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

/** The topics that hold work keep their records whatever their age or size, on the real broker. */
class TopicProvisionerIT {

    /**
     * The topic's setting as the broker has it, waiting up to 10 s for it to be {@code expected}: a topic
     * or a change is known to every part of the broker a moment after it was made.
     */
    private static String setting(Admin admin, String topic, String setting, String expected) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String value = null;
        while (System.nanoTime() < deadline) {
            try {
                value = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource)
                        .get(setting).value();
                if (value.equals(expected)) {
                    return value;
                }
            } catch (java.util.concurrent.ExecutionException notKnownYet) {
                // the topic was created a moment ago
            }
            Thread.sleep(100);
        }
        return value;
    }

    @Test
    void workTopicsAreCreatedKeepingTheirRecordsAndTheOthersKeepTheBrokersRetention() throws Exception {
        Topics topics = new Topics("p" + UUID.randomUUID().toString().substring(0, 8));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                SharedServers.kafkaBootstrapServers()))) {
            TopicProvisioner provisioner = new TopicProvisioner(admin, topics, (short) 1);
            QueueName queue = QueueName.generate();
            provisioner.ensureSharedTopics(2);
            provisioner.ensureQueueTopic(queue);

            List<String> work = new ArrayList<>(List.of(topics.tasks(), topics.ready(), topics.dead(),
                    topics.queue(queue)));
            DelayTiers.TIERS.forEach(tier -> work.add(topics.delay(tier)));
            for (String topic : work) {
                assertThat(setting(admin, topic, TopicConfig.RETENTION_MS_CONFIG, "-1")).as(topic).isEqualTo("-1");
                assertThat(setting(admin, topic, TopicConfig.RETENTION_BYTES_CONFIG, "-1")).as(topic).isEqualTo("-1");
            }
            assertThat(setting(admin, topics.events(), TopicConfig.RETENTION_MS_CONFIG, "604800000"))
                    .isEqualTo("604800000");
            assertThat(setting(admin, topics.rejected(), TopicConfig.RETENTION_MS_CONFIG, "604800000"))
                    .isEqualTo("604800000");
        }
    }

    @Test
    void theOffsetsTopicTakesAGateGroupsMetadataOfManyQueues() throws Exception {
        // a gate's group metadata lists every queue topic: at Kafka's 1 MiB a gate of 10,000 queues
        // stopped releasing for good (RecordTooLargeException at its next rebalance; bench/run scale)
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                SharedServers.kafkaBootstrapServers()))) {
            new TopicProvisioner(admin, new Topics("p" + UUID.randomUUID().toString().substring(0, 8)), (short) 1)
                    .roomForGroupMetadata(); // as the gate does at start

            assertThat(setting(admin, "__consumer_offsets", TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "16777216"))
                    .isEqualTo("16777216");
        }
    }

    @Test
    void aQueueTopicMadeBeforeWithTheBrokersDefaultIsBroughtToKeepItsRecordsAtTheNextStart() throws Exception {
        Topics topics = new Topics("p" + UUID.randomUUID().toString().substring(0, 8));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                SharedServers.kafkaBootstrapServers()))) {
            QueueName old = QueueName.generate();
            // as an earlier Sluice made it: the broker's 7 days
            admin.createTopics(List.of(new NewTopic(topics.queue(old), 1, (short) 1),
                    new NewTopic(topics.ready(), 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            assertThat(setting(admin, topics.queue(old), TopicConfig.RETENTION_MS_CONFIG, "604800000"))
                    .isEqualTo("604800000");
            assertThat(setting(admin, topics.ready(), TopicConfig.RETENTION_MS_CONFIG, "604800000"))
                    .isEqualTo("604800000");

            new TopicProvisioner(admin, topics, (short) 1).ensureSharedTopics(2);

            assertThat(setting(admin, topics.queue(old), TopicConfig.RETENTION_MS_CONFIG, "-1")).isEqualTo("-1");
            assertThat(setting(admin, topics.ready(), TopicConfig.RETENTION_MS_CONFIG, "-1")).isEqualTo("-1");
            assertThat(setting(admin, topics.queue(old), TopicConfig.RETENTION_BYTES_CONFIG, "-1")).isEqualTo("-1");
        }
    }
}
