package dev.sluice.admin;

import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.exceptions.ConfigurationException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the admin service listens, checked before it starts: on loopback by default
 * ({@code SLUICE_ADMIN_HOST}, 127.0.0.1). Beyond loopback it must have a token ({@code SLUICE_ADMIN_TOKEN}),
 * else it refuses to start, unless {@code SLUICE_ADMIN_INSECURE=true} says so on purpose (then it warns).
 */
@Context
final class Exposure {

    private static final Logger LOG = LoggerFactory.getLogger(Exposure.class);

    private final String host;
    private final boolean loopback;

    Exposure(@Value("${micronaut.server.host:}") String host, @Value("${sluice.admin.token:}") String token,
             @Value("${sluice.admin.insecure:false}") boolean insecure) {
        this.host = host.isBlank() ? "0.0.0.0" : host;
        this.loopback = isLoopback(this.host);
        if (!loopback && token.isBlank()) {
            if (!insecure) {
                throw new ConfigurationException("the admin service would listen on " + this.host
                        + ", beyond this machine, without a token: anyone who reaches it could change limits, pause"
                        + " or remove queues. Set SLUICE_ADMIN_TOKEN, or listen on loopback (SLUICE_ADMIN_HOST="
                        + "127.0.0.1, the default), or set SLUICE_ADMIN_INSECURE=true to allow it anyway");
            }
            LOG.warn("INSECURE: the admin service listens on {} without a token (SLUICE_ADMIN_INSECURE=true):"
                    + " anyone who reaches it can change limits, pause or remove queues", this.host);
        }
    }

    /** Whether the service listens on loopback only: then it answers only requests addressed to loopback. */
    boolean loopback() {
        return loopback;
    }

    String host() {
        return host;
    }

    /** True when every address {@code host} names is a loopback address; false for the wildcard, or a name that does not resolve. */
    static boolean isLoopback(String host) {
        try {
            InetAddress[] addresses = InetAddress.getAllByName(host);
            return addresses.length > 0 && Arrays.stream(addresses).allMatch(InetAddress::isLoopbackAddress);
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
