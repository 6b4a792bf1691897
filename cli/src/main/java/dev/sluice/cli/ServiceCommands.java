package dev.sluice.cli;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.Micronaut;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * The services one by one, for production (compose.yaml, one container each): each is configured by
 * environment variables, runs until SIGTERM, and prints its own help with {@code --help}.
 */
final class ServiceCommands {

    private ServiceCommands() {
    }

    /** A service whose own main reads its arguments (and answers {@code --help} itself). */
    abstract static class OwnMain implements Callable<Integer> {
        @Unmatched
        String[] args = new String[0];

        abstract void main(String[] args) throws Exception;

        @Override
        public Integer call() throws Exception {
            main(args);
            return 0;
        }
    }

    @Command(name = "gate", description = "Run a gate: releases each queue's tasks at its limit (env: see --help).")
    static final class Gate extends OwnMain {
        @Override
        void main(String[] args) throws Exception {
            dev.sluice.gate.GateMain.main(args);
        }
    }

    @Command(name = "worker", description = "Run a worker: runs released tasks, commits after completion (env: see --help).")
    static final class Worker extends OwnMain {
        @Override
        void main(String[] args) throws Exception {
            dev.sluice.worker.WorkerMain.main(args);
        }
    }

    @Command(name = "ingest", description = "Run the router: sluice.tasks to each queue's topic, or rejected (env: see --help).")
    static final class Ingest extends OwnMain {
        @Override
        void main(String[] args) throws Exception {
            dev.sluice.ingest.RouterMain.main(args);
        }
    }

    @Command(name = "stats", description = "Run the statistics: counts sluice.events into Redis (env: see --help).")
    static final class Stats extends OwnMain {
        @Override
        void main(String[] args) throws Exception {
            dev.sluice.ingest.StatsMain.main(args);
        }
    }

    @Command(name = "admin", mixinStandardHelpOptions = true,
            description = {"Run the admin service (HTTP API, dashboard, /health, /prometheus) until SIGTERM.",
                "Env: KAFKA_BOOTSTRAP_SERVERS, REDIS_URL, SLUICE_ADMIN_PORT (8080), SLUICE_ADMIN_HOST (127.0.0.1:",
                "this machine only; beyond it SLUICE_ADMIN_TOKEN is required, or SLUICE_ADMIN_INSECURE=true),",
                "SLUICE_ADMIN_TOKEN, and the others of the README's configuration table."})
    static final class Admin implements Callable<Integer> {
        @Override
        public Integer call() throws InterruptedException {
            ApplicationContext context = Micronaut.build(new String[0]).mainClass(dev.sluice.admin.AdminApplication.class)
                    .banner(false).start();
            while (context.isRunning()) { // Micronaut's own shutdown hook stops it on SIGTERM
                Thread.sleep(500);
            }
            return 0;
        }
    }
}
