package dev.sluice.admin;

import dev.sluice.core.redis.QueueExistsException;
import dev.sluice.core.redis.UnknownQueueException;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Value;
import io.micronaut.http.exceptions.ContentLengthExceededException;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.JsonErrorResponseBodyProvider;
import java.util.stream.Collectors;
import redis.clients.jedis.exceptions.JedisConnectionException;
import io.micronaut.serde.annotation.Serdeable;
import jakarta.inject.Singleton;

/** Errors as RFC 7807 problem details: {@code application/problem+json}, with a detail a user can act on. */
final class Problems {

    static final MediaType PROBLEM_JSON = MediaType.of("application/problem+json");

    private Problems() {
    }

    /** An RFC 7807 problem. */
    @Serdeable
    record Problem(String type, String title, int status, String detail) {
    }

    static MutableHttpResponse<Problem> response(HttpStatus status, String detail) {
        return HttpResponse.<Problem>status(status)
                .contentType(PROBLEM_JSON)
                .body(new Problem("about:blank", status.getReason(), status.getCode(), detail));
    }

    @Singleton
    @Requires(classes = {IllegalArgumentException.class, ExceptionHandler.class})
    static final class BadInput implements ExceptionHandler<IllegalArgumentException, HttpResponse<Problem>> {
        @Override
        public HttpResponse<Problem> handle(HttpRequest request, IllegalArgumentException exception) {
            return response(HttpStatus.BAD_REQUEST, exception.getMessage());
        }
    }

    @Singleton
    @Requires(classes = {UnknownQueueException.class, ExceptionHandler.class})
    static final class UnknownQueue implements ExceptionHandler<UnknownQueueException, HttpResponse<Problem>> {
        @Override
        public HttpResponse<Problem> handle(HttpRequest request, UnknownQueueException exception) {
            return response(HttpStatus.NOT_FOUND, exception.getMessage());
        }
    }

    @Singleton
    @Requires(classes = {QueueExistsException.class, ExceptionHandler.class})
    static final class Conflict implements ExceptionHandler<QueueExistsException, HttpResponse<Problem>> {
        @Override
        public HttpResponse<Problem> handle(HttpRequest request, QueueExistsException exception) {
            return response(HttpStatus.CONFLICT, exception.getMessage());
        }
    }

    /** A body over {@code micronaut.server.max-request-size}: 413, naming the limit and how to change it. */
    @Singleton
    @Replaces(io.micronaut.http.server.exceptions.ContentLengthExceededHandler.class)
    @Requires(classes = {ContentLengthExceededException.class, ExceptionHandler.class})
    static final class TooLarge implements ExceptionHandler<ContentLengthExceededException, HttpResponse<Problem>> {
        private final long limit;

        TooLarge(@Value("${micronaut.server.max-request-size:10485760}") long limit) {
            this.limit = limit;
        }

        @Override
        public HttpResponse<Problem> handle(HttpRequest request, ContentLengthExceededException exception) {
            return response(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "the request body is over the limit of " + limit
                    + " bytes (SLUICE_ADMIN_MAX_BODY_BYTES); nothing of it was submitted");
        }
    }

    /** Redis not answering: 503, so a client knows to retry rather than fix its request. */
    @Singleton
    @Requires(classes = {JedisConnectionException.class, ExceptionHandler.class})
    static final class RedisUnreachable implements ExceptionHandler<JedisConnectionException, HttpResponse<Problem>> {
        @Override
        public HttpResponse<Problem> handle(HttpRequest request, JedisConnectionException exception) {
            return response(HttpStatus.SERVICE_UNAVAILABLE, "Redis is unreachable: " + exception.getMessage());
        }
    }

    /** Kafka not answering a dead-letter read or replay: 503, nothing taken (or given back). */
    @Singleton
    @Requires(classes = {DeadLetters.KafkaUnavailableException.class, ExceptionHandler.class})
    static final class KafkaUnavailable implements ExceptionHandler<DeadLetters.KafkaUnavailableException, HttpResponse<Problem>> {
        @Override
        public HttpResponse<Problem> handle(HttpRequest request, DeadLetters.KafkaUnavailableException exception) {
            return response(HttpStatus.SERVICE_UNAVAILABLE, exception.getMessage());
        }
    }

    /**
     * The errors Micronaut answers itself (malformed JSON, a wrong type in the body, an unknown path, a
     * method not allowed) as problem details too, so a client parses one error format.
     */
    @Singleton
    @Replaces(JsonErrorResponseBodyProvider.class)
    static final class FrameworkErrors implements JsonErrorResponseBodyProvider<Problem> {
        @Override
        public Problem body(ErrorContext context, HttpResponse<?> response) {
            String detail = context.getErrors().stream().map(Error::getMessage).collect(Collectors.joining("; "));
            HttpStatus status = response.getStatus();
            return new Problem("about:blank", status.getReason(), status.getCode(),
                    detail.isEmpty() ? status.getReason() : detail);
        }

        @Override
        public String contentType() {
            return PROBLEM_JSON.toString();
        }
    }
}
