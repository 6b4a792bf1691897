package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URI;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code sluice}: the options every command shares and the list of commands. */
@Command(name = "sluice", mixinStandardHelpOptions = true, version = "sluice 0.1.0",
        description = "Strictly rate-limited task queues on Kafka and Redis: manage queues and watch them.",
        subcommands = {QueuesCommand.class, DeadCommand.class, RejectedCommand.class, MonitorCommand.class, UpCommand.class, DemoCommand.class,
            ServiceCommands.Admin.class, ServiceCommands.Ingest.class, ServiceCommands.Stats.class,
            ServiceCommands.Gate.class, ServiceCommands.Worker.class},
        footer = {"", "Exit codes: 0 done, 1 user error (the server's detail is printed), 2 admin service or Redis unreachable."})
final class SluiceCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Option(names = "--admin", scope = ScopeType.INHERIT, paramLabel = "URL",
            defaultValue = "${SLUICE_ADMIN_URL:-http://localhost:8080}",
            description = "the admin service (env SLUICE_ADMIN_URL; default ${DEFAULT-VALUE})")
    URI admin;

    @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN", defaultValue = "${SLUICE_ADMIN_TOKEN}",
            showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER,
            description = "bearer token for the admin service's mutating calls (env SLUICE_ADMIN_TOKEN)")
    String token;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "print the admin service's JSON instead of text")
    boolean json;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    AdminApi api() {
        return new AdminApi(admin, token);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Prints JSON as the server sent it, indented. */
    void printJson(JsonNode node) {
        try {
            out().println(AdminApi.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out().flush();
    }
}
