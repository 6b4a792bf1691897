package dev.sluice.admin;

import dev.sluice.core.SluiceConfig;
import dev.sluice.core.kafka.ConsumedRecords;
import io.micronaut.context.annotation.Requires;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reclaims the work topics' disk: every {@code sluice.janitor.interval} (60 s by default) the records
 * every owning group is done with are deleted ({@link ConsumedRecords}); the topics themselves keep
 * their records whatever their age, so nothing is lost to time. {@code sluice.janitor.enabled=false}
 * turns it off (then the topics grow until something else deletes their records).
 */
@Singleton
@Requires(property = "sluice.janitor.enabled", notEquals = "false")
final class ConsumedRecordsJanitor {

    private static final Logger LOG = LoggerFactory.getLogger(ConsumedRecordsJanitor.class);

    private final ConsumedRecords consumed;

    ConsumedRecordsJanitor(Admin admin, SluiceConfig config) {
        this.consumed = new ConsumedRecords(admin, config.topics());
    }

    @Scheduled(fixedDelay = "${sluice.janitor.interval:60s}", initialDelay = "${sluice.janitor.interval:60s}")
    synchronized void deleteConsumed() {
        try {
            int partitions = consumed.deleteConsumed();
            if (partitions > 0) {
                LOG.debug("Deleted the consumed records of {} partitions", partitions);
            }
        } catch (RuntimeException e) {
            LOG.debug("Consumed records not deleted this time: {}", e.toString());
        }
    }
}
