package dev.sluice.cli;

import dev.sluice.client.AdminClient;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * The {@code sluice} command line. Exit codes: 0 done, 1 a user error (bad arguments, or the admin
 * service refused the request: its detail is printed), 2 the admin service (or what it needs, such as
 * Redis) is unreachable.
 */
public final class Sluice {

    static final int USER_ERROR = 1;
    static final int UNREACHABLE = 2;

    private Sluice() {
    }

    public static void main(String[] args) {
        // the services' jars each bring a logback.xml; the command line uses its own
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "sluice-logback.xml");
        }
        System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /** Runs one command line with the given output streams; returns its exit code. */
    static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = SluiceCommand.commandLine(args, false);
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setParameterExceptionHandler((e, ignoredArgs) -> {
            err.println("error: " + e.getMessage());
            err.println("see: " + e.getCommandLine().getCommandSpec().qualifiedName() + " --help");
            return USER_ERROR;
        });
        commandLine.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            if (e instanceof AdminClient.ApiException api) {
                err.println("error: " + api.getMessage());
                return api.status() >= 500 ? UNREACHABLE : USER_ERROR;
            }
            if (e instanceof AdminClient.UnreachableException unreachable) {
                err.println("error: " + unreachable.getMessage());
                return UNREACHABLE;
            }
            if (e instanceof IllegalArgumentException bad) {
                err.println("error: " + bad.getMessage());
                return USER_ERROR;
            }
            throw e;
        });
        int exit = commandLine.execute(args);
        out.flush(); // print() does not flush an autoflush PrintWriter, and main ends in System.exit
        err.flush();
        return exit;
    }
}
