package dev.sluice.cli;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transactions an up killed outright left open on a partition while the broker's transaction coordinator
 * holds no open transaction for their producer: nothing ever ends them (the coordinator writes the abort
 * markers only for transactions it knows), so the partition's last stable offset stays where they began,
 * and read_committed readers, and a group whose offsets such a transaction was to commit, wait for good.
 * Seen in {@code UpIT}: after a kill and a new up on the same data, {@code sluice.ready} had one such open
 * transaction of the gate's producer (coordinator: Empty), the gate's group waited on its offsets, and
 * nothing was released again. At the start of an up that runs its own broker, before any Sluice client,
 * every such transaction belongs to a process that is gone: it is aborted (Kafka's admin API, KIP-664,
 * as {@code kafka-transactions.sh abort} does).
 */
final class HangingTransactions {

    private static final Logger LOG = LoggerFactory.getLogger(HangingTransactions.class);
    /** Coordinator states of a transaction it will still end itself. */
    private static final Set<TransactionState> ENDED_BY_THE_COORDINATOR = Set.of(TransactionState.ONGOING,
            TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT, TransactionState.PREPARE_EPOCH_FENCE);

    private HangingTransactions() {
    }

    /** Aborts them on the broker at {@code bootstrap}; returns how many. Failing to look is logged, not thrown. */
    static int abort(String bootstrap) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            // __consumer_offsets too: a transaction's offset commits are pending in the group until it ends
            Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true)).names()
                    .get(30, TimeUnit.SECONDS);
            if (topics.isEmpty()) {
                return 0;
            }
            List<TopicPartition> partitions = new ArrayList<>();
            admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).forEach((name, description) ->
                    description.partitions().forEach(p -> partitions.add(new TopicPartition(name, p.partition()))));
            Set<Long> ending = new HashSet<>();
            for (TransactionListing listing : admin.listTransactions().all().get(30, TimeUnit.SECONDS)) {
                if (ENDED_BY_THE_COORDINATOR.contains(listing.state())) {
                    ending.add(listing.producerId());
                }
            }
            int aborted = 0;
            for (var entry : admin.describeProducers(partitions).all().get(30, TimeUnit.SECONDS).entrySet()) {
                for (ProducerState producer : entry.getValue().activeProducers()) {
                    if (producer.currentTransactionStartOffset().isEmpty() || ending.contains(producer.producerId())) {
                        continue;
                    }
                    admin.abortTransaction(new AbortTransactionSpec(entry.getKey(), producer.producerId(),
                            (short) producer.producerEpoch(), producer.coordinatorEpoch().orElse(-1)))
                            .all().get(30, TimeUnit.SECONDS);
                    aborted++;
                    LOG.warn("Aborted a transaction left open on {} from offset {} by producer {} of a run that was killed:"
                                    + " its readers waited on it for good", entry.getKey(),
                            producer.currentTransactionStartOffset().getAsLong(), producer.producerId());
                }
            }
            return aborted;
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("Could not look for transactions a killed run left open: {}", e.toString());
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }
}
