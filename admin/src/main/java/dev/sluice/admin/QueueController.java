package dev.sluice.admin;

import dev.sluice.core.DrainForecast;
import dev.sluice.core.Queue;
import dev.sluice.core.QueueName;
import dev.sluice.core.QueueSpec;
import dev.sluice.core.QueueState;
import dev.sluice.core.RateLimit;
import dev.sluice.core.kafka.Backlogs;
import dev.sluice.core.kafka.TopicProvisioner;
import dev.sluice.core.redis.QueueRegistry;
import dev.sluice.core.redis.UnknownQueueException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
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
    /** Most test tasks one request may ask for: they are made here, a few bytes each. */
    static final int MAX_TEST_TASKS = 100_000;

    private final dev.sluice.ingest.TaskSubmitter submitter;
    private final RequestLimits limits;
    private final Backlogs backlogs;
    private final dev.sluice.core.redis.TokenBucket bucket;

    QueueController(QueueRegistry registry, QueueViews views, TopicProvisioner topics,
                    dev.sluice.ingest.TaskSubmitter submitter, RequestLimits limits, Backlogs backlogs,
                    dev.sluice.core.redis.TokenBucket bucket) {
        this.limits = limits;
        this.backlogs = backlogs;
        this.bucket = bucket;
        this.registry = registry;
        this.views = views;
        this.topics = topics;
        this.submitter = submitter;
    }

    /**
     * Submits test tasks or given payloads to the queue (the CLI's {@code test} command); 202 with their
     * ids and, for each, when it is expected to be released: after the tasks waiting before it, at the
     * limit as it stands ({@link DrainForecast}); absent while the queue is paused or Kafka does not say
     * its backlog.
     */
    @Post("/{name}/tasks")
    @ApiResponse(responseCode = "202", description = "submitted: the queue, how many, their ids and expected release times")
    @ApiResponse(responseCode = "400", description = "neither or both of count and tasks, count or tasks out of range,"
            + " a payload over SLUICE_MAX_PAYLOAD_BYTES, an unknown field or a wrong type")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    @ApiResponse(responseCode = "413", description = "the body is over SLUICE_ADMIN_MAX_BODY_BYTES")
    HttpResponse<java.util.Map<String, Object>> submit(@PathVariable String name,
                                                        @Body @RequestBody(content = @Content(schema = @Schema(implementation = SubmitTasks.class))) String body) {
        SubmitTasks request = StrictJson.read(body, SubmitTasks.class);
        QueueName queue = QueueName.of(name);
        Queue known = registry.get(queue);
        java.util.List<byte[]> payloads = new java.util.ArrayList<>();
        if (request.tasks() != null && request.count() != null) {
            throw new IllegalArgumentException("give either count or tasks, not both");
        } else if (request.tasks() != null) {
            if (request.tasks().isEmpty() || request.tasks().size() > limits.maxTasks()) {
                throw new IllegalArgumentException("tasks must hold 1 to " + limits.maxTasks() + " payloads per request"
                        + " (SLUICE_ADMIN_MAX_TASKS), got " + request.tasks().size() + "; send the rest in further requests");
            }
            for (int i = 0; i < request.tasks().size(); i++) {
                String task = request.tasks().get(i);
                if (task == null) {
                    throw new IllegalArgumentException("field \"tasks[" + i + "]\" must be a string, not null");
                }
                byte[] payload = task.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                if (payload.length > limits.maxPayloadBytes()) {
                    throw new IllegalArgumentException("tasks[" + i + "] is " + payload.length + " bytes, over the limit of "
                            + limits.maxPayloadBytes() + " (SLUICE_MAX_PAYLOAD_BYTES)");
                }
                payloads.add(payload);
            }
        } else if (request.count() != null) {
            if (request.count() < 1 || request.count() > MAX_TEST_TASKS) {
                throw new IllegalArgumentException("count must be between 1 and " + MAX_TEST_TASKS + ", got " + request.count());
            }
            for (int i = 0; i < request.count(); i++) {
                payloads.add(("{\"test\":true,\"n\":" + i + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        } else {
            throw new IllegalArgumentException("give count (test tasks) or tasks (payloads)");
        }
        // the backlog before these tasks: read first, so that they are not counted in it
        Backlogs.Backlog before = backlogs.of(List.of(queue)).get(queue);
        java.util.List<String> ids = submitter.submitAll(queue.value(), payloads).stream()
                .map(java.util.concurrent.CompletableFuture::join).toList();
        java.util.Map<String, Object> answer = new java.util.LinkedHashMap<>();
        answer.put("queue", queue.value());
        answer.put("submitted", ids.size());
        answer.put("ids", ids);
        if (before != null) {
            dev.sluice.core.redis.BucketStatus status = bucket.status(queue);
            java.util.List<java.time.Instant> forecast = DrainForecast.releases(before.waiting(), ids.size(), status,
                    known.spec().rateLimit());
            if (!forecast.isEmpty()) {
                answer.put("releaseForecast", forecast);
            }
        }
        return HttpResponse.accepted().body(answer);
    }

    /** Creates the queue's topic, then its metadata (so a gate told of it finds the topic). */
    @Post
    @ApiResponse(responseCode = "201", description = "the queue, created")
    @ApiResponse(responseCode = "400", description = "invalid rate limit, burst, TTL, attempts or name")
    @ApiResponse(responseCode = "409", description = "a queue of that name exists")
    HttpResponse<QueueView> create(@Body @RequestBody(content = @Content(schema = @Schema(implementation = CreateQueue.class))) String body) {
        CreateQueue request = StrictJson.read(body, CreateQueue.class);
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

    /**
     * Queues with their figures: all by name, or filtered, ordered and paged. The body is the page's
     * queues; {@code X-Total-Count} says how many pass the filters, and {@code Link} (rel="next") where
     * the next page is, while there is one.
     */
    @Get
    @ApiResponse(responseCode = "200", description = "the queues asked for, a page of them when limit is given")
    @ApiResponse(responseCode = "400", description = "a parameter is wrong (named in the detail)")
    HttpResponse<List<QueueView>> list(HttpRequest<?> request, @Nullable @QueryValue String state,
                                       @Nullable @QueryValue String prefix, @Nullable @QueryValue String backlog,
                                       @Nullable @QueryValue String sort, @Nullable @QueryValue String limit,
                                       @Nullable @QueryValue String cursor) {
        QueueQuery query = QueueQuery.parse(state, prefix, backlog, sort, limit, cursor);
        QueueViews.Page page = views.page(query);
        MutableHttpResponse<List<QueueView>> response = HttpResponse.ok(page.queues())
                .header("X-Total-Count", Integer.toString(page.total()));
        if (page.next() != null) {
            response.header(HttpHeaders.LINK, "<" + nextPage(request, page.next()) + ">; rel=\"next\"");
        }
        return response;
    }

    /** The same request with the next page's cursor: the path and the other parameters as they came. */
    private static String nextPage(HttpRequest<?> request, QueueQuery.Cursor next) {
        io.micronaut.http.uri.UriBuilder uri = io.micronaut.http.uri.UriBuilder.of(request.getPath());
        request.getParameters().forEach((name, values) -> {
            if (!name.equals("cursor")) {
                values.forEach(value -> uri.queryParam(name, value));
            }
        });
        return uri.queryParam("cursor", next.encode()).toString();
    }

    @Get("/{name}")
    @ApiResponse(responseCode = "200", description = "the queue with its figures")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    QueueView show(@PathVariable String name) {
        return views.one(QueueName.of(name));
    }

    /** Changes rate, burst, idle TTL or attempts; the next token acquisition uses the new values. */
    @Patch("/{name}")
    @ApiResponse(responseCode = "200", description = "the queue, updated")
    @ApiResponse(responseCode = "400", description = "invalid values, an unknown field or nothing to update")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    QueueView update(@PathVariable String name,
                     @Body @RequestBody(content = @Content(schema = @Schema(implementation = UpdateQueue.class))) String body) {
        UpdateQueue request = StrictJson.read(body, UpdateQueue.class);
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
