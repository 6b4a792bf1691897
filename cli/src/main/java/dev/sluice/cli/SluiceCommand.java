package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.client.AdminClient;
import java.io.PrintWriter;
import java.net.URI;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code sluice}: the options every command shares and the list of commands. Its commands are added by
 * {@link #commandLine}, only the one asked for when it is known (each one's model costs start-up time).
 */
@Command(name = "sluice", mixinStandardHelpOptions = true, version = "sluice 0.1.0",
        description = "Strictly rate-limited task queues on Kafka and Redis: manage queues and watch them.",
        footer = {"", "Exit codes: 0 done, 1 user error (the server's detail is printed), 2 admin service or Redis unreachable."})
final class SluiceCommand implements Runnable {

    /** Every command, in the order {@code --help} lists them. */
    private static final java.util.LinkedHashMap<String, java.util.function.Supplier<Object>> COMMANDS =
            new java.util.LinkedHashMap<>();

    static {
        COMMANDS.put("queues", QueuesCommand::new);
        COMMANDS.put("dead", DeadCommand::new);
        COMMANDS.put("rejected", RejectedCommand::new);
        COMMANDS.put("monitor", MonitorCommand::new);
        COMMANDS.put("up", UpCommand::new);
        COMMANDS.put("demo", DemoCommand::new);
        COMMANDS.put("admin", ServiceCommands.Admin::new);
        COMMANDS.put("ingest", ServiceCommands.Ingest::new);
        COMMANDS.put("stats", ServiceCommands.Stats::new);
        COMMANDS.put("gate", ServiceCommands.Gate::new);
        COMMANDS.put("worker", ServiceCommands.Worker::new);
    }

    /** The command line with every command. */
    static picocli.CommandLine commandLine() {
        return commandLine(new String[0], true);
    }

    /**
     * The command line for these arguments: with only the command they name, when they name a known one
     * (picocli builds the model of each command it is given: half of {@code queues list}'s start-up went
     * to commands it did not run), else with all, for the usage and for suggestions.
     */
    static picocli.CommandLine commandLine(String[] args, boolean all) {
        picocli.CommandLine commandLine = new picocli.CommandLine(new SluiceCommand());
        String named = all ? null : commandNamed(args);
        COMMANDS.forEach((name, command) -> {
            if (named == null || named.equals(name)) {
                commandLine.addSubcommand(name, command.get());
            }
        });
        return commandLine;
    }

    /** The first argument that is not an option of this command (nor an option's value), if it names a command. */
    static String commandNamed(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--admin") || arg.equals("--token")) {
                i++; // its value
            } else if (!arg.startsWith("-")) {
                return COMMANDS.containsKey(arg) ? arg : null;
            }
        }
        return null;
    }

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

    AdminClient api() {
        return new AdminClient(admin, token);
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Prints JSON as the server sent it, indented. */
    void printJson(JsonNode node) {
        try {
            out().println(AdminClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        out().flush();
    }
}
