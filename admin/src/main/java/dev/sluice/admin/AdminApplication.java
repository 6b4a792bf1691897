package dev.sluice.admin;

import io.micronaut.runtime.Micronaut;
import io.swagger.v3.oas.annotations.OpenAPIDefinition;
import io.swagger.v3.oas.annotations.info.Info;

/** The admin service: queues over HTTP (see the README). */
@OpenAPIDefinition(info = @Info(title = "sluice-admin", version = AdminApplication.API_VERSION,
        description = "Queues with strict per-queue rate limits: create, list, show, update, pause, resume, remove,"
                + " submit tasks. Errors are RFC 7807 problem+json."))
public final class AdminApplication {

    /** The version of the HTTP API, as the OpenAPI document gives it. */
    public static final String API_VERSION = "1";

    private AdminApplication() {
    }

    public static void main(String[] args) {
        Micronaut.build(args).mainClass(AdminApplication.class).banner(false).start();
    }
}
