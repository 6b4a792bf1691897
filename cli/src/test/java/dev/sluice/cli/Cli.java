package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.client.AdminClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import static org.assertj.core.api.Assertions.assertThat;


/** Runs the command line in this JVM against an admin service, as a test's user would type it. */
final class Cli {

    /** What one command line printed and returned. */
    record Run(int exit, String out, String err) {
        JsonNode json() throws IOException {
            return AdminClient.JSON.readTree(out);
        }
    }

    private Cli() {
    }

    /** {@code sluice --admin <admin> <args>}. */
    static Run run(String admin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--admin";
        all[1] = admin;
        System.arraycopy(args, 0, all, 2, args.length);
        int exit = Sluice.run(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Run(exit, out.toString(), err.toString());
    }

    /** {@code sluice --admin <admin> --json <args>}, which must succeed; its JSON. */
    static JsonNode json(String admin, String... args) throws IOException {
        String[] all = new String[args.length + 1];
        all[0] = "--json";
        System.arraycopy(args, 0, all, 1, args.length);
        Run run = run(admin, all);
        assertThat(run.exit()).as(String.join(" ", args) + ": " + run.err()).isZero();
        return run.json();
    }
}
