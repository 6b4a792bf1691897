package dev.sluice.admin;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.swagger.v3.oas.annotations.Hidden;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** {@code GET /openapi}: the OpenAPI document that micronaut-openapi generates from the controllers at build time. */
@Controller("/openapi")
@Hidden
final class OpenApiController {

    /** Where the build puts it: {@code META-INF/swagger/<title>-<version>.yml} of {@link AdminApplication}'s definition. */
    static final String DOCUMENT = "META-INF/swagger/sluice-admin-" + AdminApplication.API_VERSION + ".yml";

    private final byte[] document;

    OpenApiController() {
        try (InputStream in = OpenApiController.class.getClassLoader().getResourceAsStream(DOCUMENT)) {
            if (in == null) {
                throw new IllegalStateException(DOCUMENT + " is not on the classpath: was the admin built by Maven?");
            }
            document = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Get(produces = "application/yaml")
    HttpResponse<byte[]> document() {
        return HttpResponse.ok(document).contentType(MediaType.of("application/yaml"));
    }
}
