package dev.sluice.core.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One of the Lua scripts shipped in the {@code sluice-lua} artifact, with the SHA-1 by which Redis
 * knows it once loaded.
 */
public record LuaScript(String name, String source, String sha1) {

    private static final String RESOURCE_DIRECTORY = "/dev/sluice/lua/";

    public static final LuaScript ACQUIRE = load("acquire", "bucket");
    public static final LuaScript STATUS = load("status", "bucket");
    public static final LuaScript QUEUE_CREATE = load("queue_create");
    public static final LuaScript QUEUE_UPDATE = load("queue_update");
    public static final LuaScript QUEUE_DELETE = load("queue_delete");
    public static final LuaScript STATS_SET = load("stats_set");
    public static final LuaScript DEAD_LETTERS = load("dead_letters");

    public LuaScript {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(sha1, "sha1");
    }

    /**
     * Reads {@code dev/sluice/lua/<name>.lua} from the classpath, preceded by the shared parts it
     * needs (their functions are local to the script, since Redis runs each script on its own).
     */
    public static LuaScript load(String name, String... preludes) {
        StringBuilder source = new StringBuilder();
        for (String prelude : preludes) {
            source.append(read(prelude));
        }
        source.append(read(name));
        return new LuaScript(name, source.toString(), sha1Hex(source.toString()));
    }

    private static String read(String name) {
        String resource = RESOURCE_DIRECTORY + name + ".lua";
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Lua script " + resource + " is not on the classpath;"
                        + " is the sluice-lua artifact missing?");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + resource, e);
        }
    }

    private static String sha1Hex(String source) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every JVM", e);
        }
    }
}
