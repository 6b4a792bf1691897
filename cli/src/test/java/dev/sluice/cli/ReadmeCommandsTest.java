package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code ./sluice …} command the README shows parses as the command line defines it (with its
 * optional parts and without), and every command of the command line is in the README.
 */
class ReadmeCommandsTest {

    private static final Path README = Path.of("..").toAbsolutePath().normalize().resolve("README.md");

    /** The README's {@code ./sluice} commands: code-block lines (comments cut) and inline code. */
    private static Set<String> commands() throws IOException {
        Set<String> commands = new LinkedHashSet<>();
        for (String line : Files.readAllLines(README)) {
            if (line.startsWith("./sluice ")) {
                commands.add(line.replaceAll("\\s+#.*$", "").strip());
            }
            Matcher inline = Pattern.compile("`(\\./sluice [^`]*)`").matcher(line);
            while (inline.find()) {
                commands.add(inline.group(1));
            }
        }
        return commands;
    }

    /** Fills placeholders as a user would. */
    private static List<String> args(String command) {
        String filled = command.substring("./sluice ".length())
                .replace("<queue>", "q1").replace("<count>", "3").replace("OFFSET...", "12 14").replace("OFFSET", "12")
                .replaceAll("(--burst|--max-attempts) [A-Z]\\b", "$1 2").replaceAll("--name N\\b", "--name n1");
        List<String> args = new ArrayList<>();
        Matcher token = Pattern.compile("\"([^\"]*)\"|(\\S+)").matcher(filled);
        while (token.find()) {
            args.add(token.group(1) != null ? token.group(1) : token.group(2));
        }
        return args;
    }

    @Test
    void everyCommandInTheReadmeParses() throws IOException {
        Set<String> commands = commands();
        assertThat(commands).hasSizeGreaterThan(15);
        for (String command : commands) {
            String all = command.replaceAll("[\\[\\]]", "");
            String none = command.replaceAll("\\s*\\[[^]]*]", "");
            for (String variant : new LinkedHashSet<>(List.of(all, none))) {
                assertThatCode(() -> SluiceCommand.commandLine().parseArgs(args(variant).toArray(String[]::new)))
                        .as(variant).doesNotThrowAnyException();
            }
        }
    }

    @Test
    void everyCommandIsInTheReadme() throws IOException {
        String readme = Files.readString(README);
        CommandLine sluice = SluiceCommand.commandLine();
        for (String name : sluice.getSubcommands().keySet()) {
            assertThat(readme).as(name).contains("./sluice " + name);
        }
        for (String name : sluice.getSubcommands().get("queues").getSubcommands().keySet()) {
            assertThat(readme).as("queues " + name).contains("./sluice queues " + name);
        }
    }
}
