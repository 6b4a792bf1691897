package dev.sluice.lua;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Base of the script tests: one connection to the shared redis-server per test class. */
abstract class ScriptTest {

    protected static final long SECOND = 1_000_000L;
    protected static ScriptFixture redis;

    @BeforeAll
    static void connect() {
        redis = new ScriptFixture();
    }

    @AfterAll
    static void disconnect() {
        redis.close();
    }
}
