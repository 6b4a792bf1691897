package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.core.SluiceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * Docker cannot run here, so compose.yaml and the Dockerfile are checked against what the services
 * really read: their commands, their environment variables (every one in the README's table, every
 * one of those read by the code), their ports and the addresses they reach each other at.
 */
class ComposeFileTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> services() throws IOException {
        Map<String, Object> compose = new Yaml().load(Files.readString(ROOT.resolve("compose.yaml")));
        return (Map<String, Map<String, Object>>) compose.get("services");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> env(Map<String, Object> service) {
        return (Map<String, Object>) service.getOrDefault("environment", Map.of());
    }

    /** The variables of the README's configuration table. */
    private static Set<String> documentedVariables() throws IOException {
        Set<String> names = new LinkedHashSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `([A-Z][A-Z0-9_]+)` \\|").matcher(Files.readString(ROOT.resolve("README.md")));
        while (row.find()) {
            names.add(row.group(1));
        }
        return names;
    }

    @Test
    void kafkaAndRedisAreTheOfficialImagesWithTheDefaultPortsAndRedisKeepsAnAppendOnlyFile() throws IOException {
        Map<String, Map<String, Object>> services = services();

        assertThat((String) services.get("kafka").get("image")).startsWith("apache/kafka:");
        assertThat((String) services.get("redis").get("image")).startsWith("redis:");
        assertThat(services.get("redis").get("command").toString()).contains("--appendonly, yes", "--appendfsync, always");
        assertThat(services.get("kafka").get("ports").toString()).contains(
                port(SluiceConfig.DEFAULT_KAFKA) + ":" + port(SluiceConfig.DEFAULT_KAFKA));
        assertThat(services.get("redis").get("ports").toString()).contains(
                port(SluiceConfig.DEFAULT_REDIS) + ":" + port(SluiceConfig.DEFAULT_REDIS));
        assertThat(env(services.get("kafka")).get("KAFKA_PROCESS_ROLES")).isEqualTo("broker,controller");
    }

    @Test
    void everySluiceServiceRunsARealCommandOfTheImage() throws IOException {
        Set<String> commands = SluiceCommand.commandLine().getSubcommands().keySet();
        Map<String, Map<String, Object>> services = services();

        List<String> built = services.entrySet().stream().filter(e -> e.getValue().containsKey("build"))
                .map(Map.Entry::getKey).toList();
        assertThat(built).containsExactlyInAnyOrder("admin", "ingest", "stats", "gate", "worker");
        for (String name : built) {
            List<?> command = (List<?>) services.get(name).get("command");
            assertThat(commands).as(name).contains((String) command.get(0));
        }
    }

    @Test
    void everyVariableIsDocumentedAndEveryDocumentedVariableIsReadByTheCode() throws IOException {
        Set<String> documented = documentedVariables();
        Map<String, Map<String, Object>> services = services();
        for (Map.Entry<String, Map<String, Object>> service : services.entrySet()) {
            if (service.getValue().containsKey("build")) {
                assertThat(documented).as("variables of " + service.getKey()).containsAll(env(service.getValue()).keySet());
            }
        }
        String sources;
        try (Stream<Path> files = Files.walk(ROOT)) {
            sources = files.filter(p -> p.toString().contains("/src/main/") || p.getFileName().toString().equals("sluice"))
                    .filter(Files::isRegularFile).map(ComposeFileTest::read).reduce("", String::concat);
        }
        assertThat(documented).hasSizeGreaterThan(20);
        for (String variable : documented) {
            boolean read = sources.contains("\"" + variable + "\"") || sources.contains("${" + variable)
                    || micronautProperty(variable).matcher(sources).find();
            assertThat(read).as(variable + " is in the README's table but nothing reads it").isTrue();
        }
    }

    @Test
    void theServicesReachKafkaAndRedisWhereComposeServesThemAndTheAdminWhereItListens() throws IOException {
        Map<String, Map<String, Object>> services = services();
        String advertised = (String) env(services.get("kafka")).get("KAFKA_ADVERTISED_LISTENERS");
        Map<String, Object> admin = services.get("admin");

        for (String name : List.of("admin", "ingest", "stats", "gate", "worker")) {
            Map<String, Object> env = env(services.get(name));
            assertThat(advertised).as(name).contains("//" + env.get(SluiceConfig.ENV_KAFKA));
            assertThat((String) env.get(SluiceConfig.ENV_REDIS)).as(name).isEqualTo("redis://redis:6379");
        }
        String adminPort = String.valueOf(env(admin).get("SLUICE_ADMIN_PORT"));
        assertThat(admin.get("ports").toString()).contains("8080:" + adminPort);
        assertThat(((Map<?, ?>) admin.get("healthcheck")).get("test").toString())
                .contains("http://localhost:" + adminPort + "/health");
    }

    @Test
    void theAdminListensBeyondLoopbackInItsContainerOnlyWithATokenAndNothingIsPublishedBeyondTheHostsLoopback()
            throws IOException {
        Map<String, Map<String, Object>> services = services();
        Map<String, Object> admin = env(services.get("admin"));

        assertThat(String.valueOf(admin.get("SLUICE_ADMIN_HOST"))).isEqualTo("0.0.0.0");
        assertThat(String.valueOf(admin.get("SLUICE_ADMIN_TOKEN"))).isNotBlank().isNotEqualTo("null");
        for (Map.Entry<String, Map<String, Object>> service : services.entrySet()) {
            Object ports = service.getValue().get("ports");
            if (ports != null) {
                assertThat((List<?>) ports).as(service.getKey())
                        .allSatisfy(port -> assertThat(String.valueOf(port)).startsWith("127.0.0.1:"));
            }
        }
    }

    @Test
    void theDockerfileBuildsInOneStageAndRunsTheCommandLineInAnother() throws Exception {
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));

        assertThat(Pattern.compile("(?m)^FROM ").matcher(dockerfile).results().count()).isEqualTo(2);
        assertThat(dockerfile).contains("mvn ", "-pl cli -am package");
        Matcher main = Pattern.compile("ENTRYPOINT \\[.*\"(dev\\.sluice\\.[A-Za-z.]+)\"\\]").matcher(dockerfile);
        assertThat(main.find()).isTrue();
        assertThat(Class.forName(main.group(1))).isEqualTo(Sluice.class);
    }

    private static String port(String address) {
        return address.substring(address.lastIndexOf(':') + 1);
    }

    /**
     * Micronaut reads SLUICE_ADMIN_TOKEN_READS as sluice.admin.token-reads (or with dots, any mix), in a
     * placeholder {@code ${…}} or a quoted property name ({@code @Requires(property = "…")}).
     */
    private static Pattern micronautProperty(String variable) {
        return Pattern.compile("(\\$\\{|\")" + String.join("[.-]",
                java.util.Arrays.stream(variable.toLowerCase().split("_")).map(Pattern::quote).toList()) + "[:}\"]");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException binary) {
            return "";
        }
    }
}
