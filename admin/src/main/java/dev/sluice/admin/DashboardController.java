package dev.sluice.admin;

import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.swagger.v3.oas.annotations.Hidden;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** {@code GET /}: the dashboard page; its script and style are static resources under {@code /assets}. */
@Controller
@Hidden
final class DashboardController {

    private final byte[] page;

    DashboardController() {
        try (InputStream in = DashboardController.class.getClassLoader().getResourceAsStream("dashboard/index.html")) {
            if (in == null) {
                throw new IllegalStateException("dashboard/index.html is not on the classpath");
            }
            page = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<byte[]> page() {
        return HttpResponse.ok(page).contentType(MediaType.TEXT_HTML_TYPE);
    }
}
