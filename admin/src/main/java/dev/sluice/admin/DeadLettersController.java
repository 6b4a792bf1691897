package dev.sluice.admin;

import dev.sluice.core.QueueName;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import java.util.List;

/** Dead letters over HTTP: list a queue's, replay them into it, purge them; the newest rejected submissions. */
@Controller
@ExecuteOn(TaskExecutors.BLOCKING)
final class DeadLettersController {

    private final DeadLetters deadLetters;

    DeadLettersController(DeadLetters deadLetters) {
        this.deadLetters = deadLetters;
    }

    @Get("/queues/{name}/dead")
    @ApiResponse(responseCode = "200", description = "a page of the queue's dead letters, newest first")
    @ApiResponse(responseCode = "400", description = "limit or before out of range")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    @ApiResponse(responseCode = "503", description = "Kafka or Redis did not answer")
    DeadLetters.Page list(@PathVariable String name, @QueryValue(defaultValue = "50") String limit,
                          @Nullable @QueryValue String before) {
        return deadLetters.page(QueueName.of(name), before == null ? null : number("before", before),
                (int) number("limit", limit));
    }

    @Post("/queues/{name}/dead/replay")
    @ApiResponse(responseCode = "200", description = "what was replayed: each dead letter at most once")
    @ApiResponse(responseCode = "400", description = "neither or both of offsets and all, or too many offsets")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    @ApiResponse(responseCode = "503", description = "Kafka or Redis did not answer; nothing was lost")
    DeadLetters.Taken replay(@PathVariable String name,
                             @Body @RequestBody(content = @Content(schema = @Schema(implementation = TakeDeadLetters.class))) String body) {
        TakeDeadLetters request = StrictJson.read(body, TakeDeadLetters.class);
        return deadLetters.replay(QueueName.of(name), offsets(request), Boolean.TRUE.equals(request.all()));
    }

    @Post("/queues/{name}/dead/purge")
    @ApiResponse(responseCode = "200", description = "what was purged from the listing")
    @ApiResponse(responseCode = "400", description = "neither or both of offsets and all, or too many offsets")
    @ApiResponse(responseCode = "404", description = "unknown queue")
    DeadLetters.Taken purge(@PathVariable String name,
                            @Body @RequestBody(content = @Content(schema = @Schema(implementation = TakeDeadLetters.class))) String body) {
        TakeDeadLetters request = StrictJson.read(body, TakeDeadLetters.class);
        return deadLetters.purge(QueueName.of(name), offsets(request), Boolean.TRUE.equals(request.all()));
    }

    @Get("/rejected")
    @ApiResponse(responseCode = "200", description = "the newest rejected submissions with their reasons, newest first")
    @ApiResponse(responseCode = "400", description = "limit out of range")
    @ApiResponse(responseCode = "503", description = "Kafka did not answer")
    List<DeadLetters.Rejected> rejected(@QueryValue(defaultValue = "50") String limit) {
        return deadLetters.rejected((int) number("limit", limit));
    }

    private static List<Long> offsets(TakeDeadLetters request) {
        if (request.offsets() == null) {
            return List.of();
        }
        if (request.offsets().stream().anyMatch(offset -> offset == null || offset < 0)) {
            throw new IllegalArgumentException("offsets must be offsets of the dead-letter topic (0 or more)");
        }
        return request.offsets().stream().distinct().toList();
    }

    private static long number(String parameter, String value) {
        try {
            long number = Long.parseLong(value.strip());
            if (number < 0 || number > Integer.MAX_VALUE && !parameter.equals("before")) {
                throw new NumberFormatException();
            }
            return number;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(parameter + " must be a whole number of 0 or more, got \"" + value + "\"");
        }
    }
}
