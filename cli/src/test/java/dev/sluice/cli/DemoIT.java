package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.embedded.RedisServerProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code sluice demo} with no admin service answering: it starts its own stack and checks every limit. */
class DemoIT {

    @Test
    void theDemoRunsOnItsOwnStackAndEveryLimitHolds() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int exit = Sluice.run(new PrintWriter(out, true), new PrintWriter(err, true),
                "--admin", "http://127.0.0.1:" + RedisServerProcess.freePort(), "demo", "--speed", "2");

        assertThat(exit).as(out + "\n" + err).isZero();
        assertThat(out.toString())
                .contains("starting a stack of its own", "3. fast raised to 20/1s", "4. medium paused", "(paused)",
                        "temporary 20 released (removed)", "Every limit held.")
                .contains("and most task starts in any such window at the handler")
                // released, most in a window; started at the handler, most in a window; allowed
                .containsPattern("fast\\s+10/1s\\s+\\d+\\s+10\\s+\\d+\\s+(9|10)\\s+10\\s+ok")
                .containsPattern("fast\\s+20/1s\\s+[1-9]\\d*\\s+(1[1-9]|20)\\s+[1-9]\\d*\\s+(1[1-9]|20)\\s+20\\s+ok")
                .containsPattern("slow\\s+1/5s\\s+\\d+\\s+1\\s+\\d+\\s+1\\s+1\\s+ok");
    }
}
