package dev.sluice.admin;

import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.UnknownQueueException;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.time.Duration;
import java.util.List;

/** Queues over HTTP: create, list, show, update, pause, resume, remove. Blocking Redis and Kafka calls run off the event loop. */
@Controller("/queues")
@ExecuteOn(TaskExecutors.BLOCKING)
final class QueueController {

    private final QueueRegistry registry;
    private final QueueViews views;
    private final TopicProvisioner topics;
    private final dev.sluice.ingest.TaskSubmitter submitter;

    QueueController(QueueRegistry registry, QueueViews views, TopicProvisioner topics,
                    dev.sluice.ingest.TaskSubmitter submitter) {
        this.registry = registry;
        this.views = views;
        this.topics = topics;
        this.submitter = submitter;
    }

    /** Submits test tasks or given payloads to the queue (the CLI's {@code test} command); 202 with their ids. */
    @Post("/{name}/tasks")
    @ApiResponse(responseCode = "202", description = "submitted: the queue, how many and their ids")
    @ApiResponse(responseCode = "400", description = "neither or both of count and tasks, or count out of range")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    HttpResponse<java.util.Map<String, Object>> submit(@PathVariable String name, @Body SubmitTasks request) {
        QueueName queue = QueueName.of(name);
        registry.get(queue);
        java.util.List<byte[]> payloads = new java.util.ArrayList<>();
        if (request.tasks() != null && request.count() != null) {
            throw new IllegalArgumentException("give either count or tasks, not both");
        } else if (request.tasks() != null) {
            request.tasks().forEach(task -> payloads.add(task.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } else if (request.count() != null) {
            if (request.count() < 1 || request.count() > 100_000) {
                throw new IllegalArgumentException("count must be between 1 and 100000, got " + request.count());
            }
            for (int i = 0; i < request.count(); i++) {
                payloads.add(("{\"test\":true,\"n\":" + i + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        } else {
            throw new IllegalArgumentException("give count (test tasks) or tasks (payloads)");
        }
        java.util.List<String> ids = submitter.submitAll(queue.value(), payloads).stream()
                .map(java.util.concurrent.CompletableFuture::join).toList();
        return HttpResponse.accepted().body(java.util.Map.of("queue", queue.value(), "submitted", ids.size(), "ids", ids));
    }

    /** Creates the queue's topic, then its metadata (so a gate told of it finds the topic). */
    @Post
    @ApiResponse(responseCode = "201", description = "the queue, created")
    @ApiResponse(responseCode = "400", description = "invalid rate limit, burst, TTL, attempts or name")
    @ApiResponse(responseCode = "409", description = "a queue of that name exists")
    HttpResponse<QueueView> create(@Body CreateQueue request) {
        if (request.rateLimit() == null) {
            throw new IllegalArgumentException("rateLimit is required, e.g. \"5/60s\"");
        }
        QueueSpec spec = QueueSpec.of(RateLimit.parse(request.rateLimit()));
        if (request.burst() != null) {
            spec = spec.withBurst(request.burst());
        }
        if (request.ttlSeconds() != null) {
            spec = spec.withIdleTtl(Duration.ofSeconds(request.ttlSeconds()));
        }
        if (request.maxAttempts() != null) {
            spec = spec.withMaxAttempts(request.maxAttempts());
        }
        QueueName name = request.name() == null ? QueueName.generate() : QueueName.of(request.name());
        if (registry.find(name).isPresent()) {
            throw new dev.sluice.core.redis.QueueExistsException(name);
        }
        topics.ensureQueueTopic(name);
        Queue queue = registry.create(name, spec);
        return HttpResponse.created(views.one(queue.name()));
    }

    @Get
    List<QueueView> list() {
        return views.all();
    }

    @Get("/{name}")
    @ApiResponse(responseCode = "200", description = "the queue with its figures")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    QueueView show(@PathVariable String name) {
        return views.one(QueueName.of(name));
    }

    /** Changes rate, burst, idle TTL or attempts; the next token acquisition uses the new values. */
    @Patch("/{name}")
    QueueView update(@PathVariable String name, @Body UpdateQueue request) {
        QueueName queue = QueueName.of(name);
        if (request.rateLimit() == null && request.burst() == null && request.ttlSeconds() == null
                && request.maxAttempts() == null) {
            throw new IllegalArgumentException("nothing to update: give rateLimit, burst, ttlSeconds or maxAttempts");
        }
        // validate everything before changing anything
        RateLimit rate = request.rateLimit() == null ? null : RateLimit.parse(request.rateLimit());
        if (request.burst() != null) {
            QueueSpec.requireValidBurst(request.burst());
        }
        Duration ttl = request.ttlSeconds() == null ? null
                : QueueSpec.requireValidIdleTtl(Duration.ofSeconds(request.ttlSeconds()));
        if (request.maxAttempts() != null) {
            QueueSpec.requireValidMaxAttempts(request.maxAttempts());
        }
        registry.get(queue);
        if (rate != null) {
            registry.updateRateLimit(queue, rate);
        }
        if (request.burst() != null) {
            registry.updateBurst(queue, request.burst());
        }
        if (ttl != null) {
            registry.updateIdleTtl(queue, ttl);
        }
        if (request.maxAttempts() != null) {
            registry.updateMaxAttempts(queue, request.maxAttempts());
        }
        return views.one(queue);
    }

    /** Pauses the queue: nothing more is released, its tasks wait in Kafka. */
    @Post("/{name}/deactivate")
    QueueView deactivate(@PathVariable String name) {
        QueueName queue = QueueName.of(name);
        registry.setState(queue, QueueState.INACTIVE);
        return views.one(queue);
    }

    /** Resumes the queue. */
    @Post("/{name}/activate")
    QueueView activate(@PathVariable String name) {
        QueueName queue = QueueName.of(name);
        registry.setState(queue, QueueState.ACTIVE);
        return views.one(queue);
    }

    /** Removes the queue's metadata (gates and routers are told at once), then its topic. */
    @Delete("/{name}")
    @ApiResponse(responseCode = "204", description = "removed: topic and keys deleted")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    HttpResponse<Void> remove(@PathVariable String name) {
        QueueName queue = QueueName.of(name);
        if (!registry.remove(queue)) {
            throw new UnknownQueueException(queue);
        }
        topics.deleteQueueTopic(queue);
        return HttpResponse.noContent();
    }
}
