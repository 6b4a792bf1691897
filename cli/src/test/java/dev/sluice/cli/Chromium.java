package dev.sluice.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Headless Chromium for the browser test: Debian's {@code chromium}, installed with apt-get when it is
 * missing and this is root (as in CI); elsewhere, without it, the browser test is skipped with the reason.
 */
final class Chromium {

    private Chromium() {
    }

    static Path locate() throws IOException, InterruptedException {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome")) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
                Path candidate = Path.of(dir, name);
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        Assumptions.assumeTrue(root && Files.isExecutable(Path.of("/usr/bin/apt-get")),
                "no chromium on the PATH and not root to install it: apt-get install chromium");
        run(List.of("apt-get", "update", "-q"), 600);
        run(List.of("apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"), 900);
        Path installed = Path.of("/usr/bin/chromium");
        if (!Files.isExecutable(installed)) {
            throw new IllegalStateException("apt-get installed chromium but /usr/bin/chromium is missing");
        }
        return installed;
    }

    /** The page's DOM after its scripts ran for {@code budgetMs} of virtual time. */
    static String dumpDom(Path chromium, String url, int budgetMs) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("sluice-chromium");
        Process process = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--virtual-time-budget=" + budgetMs,
                "--dump-dom", url)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] dom = process.getInputStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("chromium did not finish within 120 s");
        }
        return new String(dom, StandardCharsets.UTF_8);
    }

    private static void run(List<String> command, int timeoutSeconds) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed");
        }
    }
}
