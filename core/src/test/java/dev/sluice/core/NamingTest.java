package dev.sluice.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Topic and Redis key names, which other processes and tools depend on. */
class NamingTest {

    private static final QueueName EMAILS = QueueName.of("emails");

    @Test
    void topicsFollowTheDesignNames() {
        Topics topics = Topics.defaults();

        assertThat(topics.tasks()).isEqualTo("sluice.tasks");
        assertThat(topics.queue(EMAILS)).isEqualTo("sluice.q.emails");
        assertThat(topics.ready()).isEqualTo("sluice.ready");
        assertThat(topics.events()).isEqualTo("sluice.events");
        assertThat(topics.rejected()).isEqualTo("sluice.rejected");
        assertThat(topics.dead()).isEqualTo("sluice.dead");
    }

    @Test
    void queueTopicsAreRecognisedAndOthersAreNot() {
        Topics topics = new Topics("acme.sluice");

        assertThat(topics.queueOf("acme.sluice.q.emails")).contains(EMAILS);
        assertThat(topics.queueOf("acme.sluice.ready")).isEmpty();
        assertThat(topics.queueOf("sluice.q.emails")).isEmpty();
        assertThat(topics.queueOf("acme.sluice.q.a.b")).isEmpty();
        assertThat(topics.queuePattern().matcher("acme.sluice.q.batch_1-2").matches()).isTrue();
        assertThat(topics.queuePattern().matcher("acmeXsluice.q.x").matches()).isFalse();
    }

    @Test
    void longestQueueTopicFitsKafkasLimit() {
        Topics longest = new Topics("p".repeat(46));

        assertThat(longest.queue(QueueName.of("q".repeat(200)))).hasSize(249);
        assertThatThrownBy(() -> new Topics("p".repeat(47))).hasMessageContaining("at most 46");
    }

    @Test
    void topicPrefixMustBeLegalInATopicName() {
        assertThatThrownBy(() -> new Topics("a b")).hasMessageContaining("invalid topic prefix");
        assertThatThrownBy(() -> new Topics("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> new Topics("..")).hasMessageContaining("cannot be");
    }

    @Test
    void redisKeysShareTheQueueHashTag() {
        RedisKeys keys = RedisKeys.defaults();

        assertThat(keys.meta(EMAILS)).isEqualTo("sluice:{emails}:meta");
        assertThat(keys.bucket(EMAILS)).isEqualTo("sluice:{emails}:bucket");
        assertThat(keys.stats(EMAILS)).isEqualTo("sluice:{emails}:stats");
        assertThat(keys.index()).isEqualTo("sluice:queues");
        assertThatThrownBy(() -> new RedisKeys("a{b")).hasMessageContaining("invalid Redis key prefix");
    }
}
