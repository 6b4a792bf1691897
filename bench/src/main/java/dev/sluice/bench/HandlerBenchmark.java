package dev.sluice.bench;

import dev.sluice.embedded.SharedServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The limit where the user feels it: calls arriving at the service the tasks call ({@link HandlerRun}),
 * at 10/1s, 50/1s, 200/1s and 2000/1s, with one worker, two, and one killed with SIGKILL at 40 % and
 * started again. Prints, per case, the most calls in any window of the period against N, the gaps
 * against P/N and the span against the ideal. {@code -Dhandler.rates=10,200},
 * {@code -Dhandler.seconds=6} and {@code -Dhandler.workers=1,2,restart} change the cases;
 * {@code -Dhandler.before=<file>} first runs the one-worker cases with the gate and workers of the build
 * whose classpath the file holds (e.g. an older commit's {@code bench/target/classpath.txt} plus its
 * modules' classes), for a baseline measured in the same run.
 */
public final class HandlerBenchmark {

    private HandlerBenchmark() {
    }

    public static void main(String[] args) {
        try {
            run();
            System.exit(0);
        } catch (Throwable e) {
            e.printStackTrace();
            System.exit(1); // the embedded broker's threads would keep the JVM alive
        }
    }

    private static void run() throws Exception {
        String bootstrap = SharedServers.kafkaBootstrapServers();
        String redis = SharedServers.redisUri();
        int seconds = Integer.getInteger("handler.seconds", 6);
        boolean warmUp = !"false".equals(System.getProperty("handler.warmup"));
        List<HandlerRun.Case> cases = new ArrayList<>();
        for (String rate : System.getProperty("handler.rates", "10,50,200,2000").split(",")) {
            int perSecond = Integer.parseInt(rate.strip());
            String limit = perSecond + "/1s";
            int tasks = perSecond * seconds;
            String modes = System.getProperty("handler.workers", "1,2,restart");
            for (String mode : modes.split(",")) {
                cases.add(mode.strip().equals("restart") ? new HandlerRun.Case(limit, tasks, 1, true, warmUp)
                        : new HandlerRun.Case(limit, tasks, Integer.parseInt(mode.strip()), false, warmUp));
            }
        }
        System.out.printf("Calls at the service the tasks call (a JDK HTTP server in its own process), through a gate"
                + " and workers (http handler, %d slots) each in its own process; Kafka %s, Redis %s; %d cores%n",
                Integer.getInteger("handler.concurrency", 16), bootstrap, redis, Runtime.getRuntime().availableProcessors());
        if (warmUp) {
            System.out.println("Each case's workers first run 600 tasks at 200/1s (-Dhandler.warmup=false: cold workers)");
        }
        String before = System.getProperty("handler.before");
        if (before != null) {
            // the same cases, one worker and the restart, with the gate and workers of another build
            String classpath = java.nio.file.Files.readString(java.nio.file.Path.of(before)).strip();
            System.out.println("Before: the gate and workers of the build whose classpath is in " + before);
            try (HandlerRun run = new HandlerRun(bootstrap, redis, classpath)) {
                for (HandlerRun.Case c : cases) {
                    if (c.workers() == 1) {
                        HandlerRun.Measured measured = run.run(c, Duration.ofSeconds(seconds * 4L + 60));
                        System.out.println("before: " + c.describe());
                        System.out.println("    at the server:       " + measured.atArrival().summary());
                    }
                }
            }
        }
        try (HandlerRun run = new HandlerRun(bootstrap, redis)) {
            if (!"false".equals(System.getProperty("handler.floor")) && !"beside".equals(System.getProperty("handler.floor"))) {
                // the machine's own jitter, in the same run: a perfect schedule, the same handler, nothing between
                System.out.println("Floor: a process calling the server itself at the schedule Sluice's slots follow"
                        + " (the guarded interval), same handler and 16 threads, no Kafka, Redis or gate in between");
                java.util.Set<String> limits = new java.util.LinkedHashSet<>();
                for (HandlerRun.Case c : cases) {
                    if (limits.add(c.limit())) {
                        HandlerRun.Measured floor = run.floor(new HandlerRun.Case(c.limit(), c.tasks(), 0, false, true),
                                Duration.ofSeconds(seconds * 4L + 60));
                        System.out.printf("floor: %-8s %5d calls%n", c.limit(), c.tasks());
                        System.out.println("    at the server:       " + floor.atArrival().summary());
                        System.out.println("    at handler start:    " + floor.atStart().summary());
                    }
                }
            }
            for (HandlerRun.Case c : cases) {
                HandlerRun.Measured measured = run.run(c, Duration.ofSeconds(seconds * 4L + 60));
                CallFigures figures = measured.atArrival();
                System.out.println(c.describe());
                System.out.println("    at the server:       " + figures.summary());
                System.out.println("    at handler start:    " + measured.atStart().summary());
                System.out.println("    slots (at release):  " + measured.atSlot().summary());
                if (measured.floorBeside() != null) {
                    System.out.println("    floor beside, at the server: " + measured.floorBeside().atArrival().summary());
                    System.out.println("    floor beside, at its start:  " + measured.floorBeside().atStart().summary());
                }
                System.out.println("    " + measured.missedStarts() + " (the warm-up's included)");
                if (Boolean.getBoolean("handler.dump")) {
                    java.nio.file.Path file = java.nio.file.Path.of("bench", "target", "handler-"
                            + c.limit().replace('/', '-') + "-" + c.workers() + (c.restart() ? "-restart" : "") + ".txt");
                    java.nio.file.Files.write(file, java.util.Arrays.stream(figures.arrivalsNanos())
                            .mapToObj(Long::toString).toList());
                    System.out.println("    arrivals (ns) in " + file);
                }
            }
        }
    }
}
