package dev.sluice.admin;

import dev.sluice.core.redis.QueueExistsException;
import dev.sluice.core.redis.UnknownQueueException;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.server.exceptions.ExceptionHandler;
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

    static HttpResponse<Problem> response(HttpStatus status, String detail) {
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
}
