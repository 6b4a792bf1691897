package dev.sluice.admin;

import io.micronaut.runtime.Micronaut;

/** The admin service: queues over HTTP (see the README). */
public final class AdminApplication {

    private AdminApplication() {
    }

    public static void main(String[] args) {
        Micronaut.run(AdminApplication.class, args);
    }
}
