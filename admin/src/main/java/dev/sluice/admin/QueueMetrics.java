package dev.sluice.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.scheduling.annotation.Scheduled;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-queue meters on {@code /prometheus}: counters {@code sluice_queue_released_total},
 * {@code _completed_total}, {@code _failed_total}, {@code _dead_total}, {@code _requeued_total} and gauges
 * {@code sluice_queue_waiting}, {@code sluice_queue_tokens}, each tagged {@code queue}. The figures
 * are the ones {@code GET /queues} shows, read every {@code sluice.metrics.refresh} (10 s by default)
 * rather than on each scrape, so a scrape never waits for Redis or Kafka; a removed queue's meters go.
 */
@Singleton
final class QueueMetrics {

    private static final Logger LOG = LoggerFactory.getLogger(QueueMetrics.class);

    private final QueueViews views;
    private final MeterRegistry registry;
    /** The latest view of each queue; meters read it. Written by the refresh, read by scrapes. */
    private final Map<String, QueueView> latest = new ConcurrentHashMap<>();
    /** The meters of each queue, to remove them with the queue. Only the refresh thread touches it. */
    private final Map<String, List<Meter>> meters = new ConcurrentHashMap<>();

    QueueMetrics(QueueViews views, MeterRegistry registry) {
        this.views = views;
        this.registry = registry;
    }

    @Scheduled(fixedDelay = "${sluice.metrics.refresh:10s}", initialDelay = "1s")
    void refresh() {
        List<QueueView> all;
        try {
            all = views.all();
        } catch (RuntimeException e) {
            LOG.debug("Queue metrics not refreshed: {}", e.toString());
            return;
        }
        Set<String> present = new HashSet<>();
        for (QueueView view : all) {
            present.add(view.name());
            if (latest.put(view.name(), view) == null) {
                meters.put(view.name(), register(view.name()));
            }
        }
        for (String gone : new ArrayList<>(latest.keySet())) {
            if (!present.contains(gone)) {
                latest.remove(gone);
                meters.remove(gone).forEach(registry::remove);
            }
        }
    }

    private List<Meter> register(String queue) {
        return List.of(
                counter(queue, "released", "tasks released by the gate", v -> v.stats().released()),
                counter(queue, "completed", "attempts completed by workers", v -> v.stats().completed()),
                counter(queue, "failed", "attempts failed in workers", v -> v.stats().failed()),
                counter(queue, "dead", "tasks given up after their last attempt", v -> v.stats().dead()),
                counter(queue, "requeued", "tasks that missed their start slot and went back through the limit",
                        v -> v.stats().requeued()),
                Gauge.builder("sluice.queue.waiting", latest, m -> figure(m, queue,
                                v -> v.stats().waiting() == null ? Double.NaN : v.stats().waiting()))
                        .description("tasks in the queue topic not yet released").tag("queue", queue).register(registry),
                Gauge.builder("sluice.queue.tokens", latest, m -> figure(m, queue, v -> v.rateLimitStatus().tokens()))
                        .description("tokens the bucket could grant now").tag("queue", queue).register(registry));
    }

    private Meter counter(String queue, String what, String description, ToDoubleFunction<QueueView> value) {
        return FunctionCounter.builder("sluice.queue." + what, latest, m -> figure(m, queue, value))
                .description(description).tag("queue", queue).register(registry);
    }

    private static double figure(Map<String, QueueView> latest, String queue, ToDoubleFunction<QueueView> value) {
        QueueView view = latest.get(queue);
        return view == null ? Double.NaN : value.applyAsDouble(view);
    }
}
