package dev.sluice.worker;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the {@code http} handler may call. Any public address; not loopback, link-local (where cloud
 * metadata services answer, 169.254.169.254), private, unique-local, carrier-grade NAT, multicast or
 * reserved addresses, unless {@value #ENV} allows them: a comma-separated list of host names
 * ({@code api.internal}, or {@code *.internal} for its subdomains), addresses and CIDR blocks
 * ({@code 127.0.0.1}, {@code 10.0.0.0/8}, {@code fd00::/8}), or {@code *} for anything. A listed name
 * may resolve to any address; an unlisted name must resolve to allowed addresses only, every one of them.
 */
final class OutboundPolicy {

    static final String ENV = "SLUICE_HTTP_ALLOWED_HOSTS";

    private final boolean anything;
    private final List<String> names;
    private final List<String> suffixes;
    private final List<Block> blocks;

    private OutboundPolicy(boolean anything, List<String> names, List<String> suffixes, List<Block> blocks) {
        this.anything = anything;
        this.names = names;
        this.suffixes = suffixes;
        this.blocks = blocks;
    }

    /** Public addresses only. */
    static OutboundPolicy publicOnly() {
        return parse("");
    }

    static OutboundPolicy fromEnvironment(Map<String, String> env) {
        try {
            return parse(env.getOrDefault(ENV, ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ENV + ": " + e.getMessage(), e);
        }
    }

    /**
     * @throws IllegalArgumentException naming the entry that is neither a name, an address nor a CIDR block
     */
    static OutboundPolicy parse(String spec) {
        boolean anything = false;
        List<String> names = new ArrayList<>();
        List<String> suffixes = new ArrayList<>();
        List<Block> blocks = new ArrayList<>();
        for (String raw : spec.split(",")) {
            String entry = raw.strip().toLowerCase(Locale.ROOT);
            if (entry.isEmpty()) {
                continue;
            }
            if (entry.equals("*")) {
                anything = true;
            } else if (entry.startsWith("*.")) {
                suffixes.add(entry.substring(1));
            } else if (entry.contains("/") || looksLikeAddress(entry)) {
                blocks.add(Block.parse(entry));
            } else if (entry.matches("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")) {
                names.add(entry);
            } else {
                throw new IllegalArgumentException("\"" + raw.strip() + "\" is neither a host name, an address nor a"
                        + " CIDR block (e.g. api.internal, *.internal, 127.0.0.1, 10.0.0.0/8, *)");
            }
        }
        return new OutboundPolicy(anything, List.copyOf(names), List.copyOf(suffixes), List.copyOf(blocks));
    }

    /**
     * Why a call to {@code host} may not go, or null when it may. Resolves the name (the JVM keeps the
     * answer, 30 s by default, so the connection that follows goes to an address checked here).
     *
     * @throws UnknownHostException when the name does not resolve
     */
    String refusal(String host) throws UnknownHostException {
        String bare = bare(host);
        if (anything || nameAllowed(bare)) {
            return null;
        }
        for (InetAddress address : InetAddress.getAllByName(bare)) {
            String refused = refusal(bare, address);
            if (refused != null) {
                return refused;
            }
        }
        return null;
    }

    /** Why connecting to {@code address} for {@code host} is refused, or null: the check of a connected socket. */
    String refusal(String host, InetAddress address) {
        String bare = bare(host);
        if (anything || nameAllowed(bare)) {
            return null;
        }
        String kind = kind(address);
        if (kind == null || blocks.stream().anyMatch(block -> block.contains(address))) {
            return null;
        }
        return host + " is " + address.getHostAddress() + ", a " + kind + " address: calls there are refused unless "
                + ENV + " allows it";
    }

    private boolean nameAllowed(String host) {
        return names.contains(host) || suffixes.stream().anyMatch(host::endsWith);
    }

    private static String bare(String host) {
        String lower = host.toLowerCase(Locale.ROOT);
        return lower.startsWith("[") && lower.endsWith("]") ? lower.substring(1, lower.length() - 1) : lower;
    }

    private static boolean looksLikeAddress(String entry) {
        return entry.contains(":") || entry.matches("[0-9.]+");
    }

    /** What makes an address unfit for a call by default, or null for a public one. */
    static String kind(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return "loopback";
        }
        if (address.isAnyLocalAddress()) {
            return "wildcard";
        }
        if (address.isLinkLocalAddress()) {
            return "link-local (cloud metadata)";
        }
        if (address.isMulticastAddress()) {
            return "multicast";
        }
        byte[] bytes = address.getAddress();
        if (address instanceof Inet6Address) {
            if ((bytes[0] & 0xfe) == 0xfc || address.isSiteLocalAddress()) {
                return "unique-local (private)";
            }
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last four bytes
            if (bytes[0] == 0 && bytes[1] == 0x64 && (bytes[2] & 0xff) == 0xff && (bytes[3] & 0xff) == 0x9b
                    && java.util.Arrays.equals(bytes, 4, 12, new byte[8], 0, 8)) {
                try {
                    return kind(InetAddress.getByAddress(java.util.Arrays.copyOfRange(bytes, 12, 16)));
                } catch (UnknownHostException impossible) {
                    throw new IllegalStateException(impossible);
                }
            }
            return null;
        }
        int a = bytes[0] & 0xff;
        int b = bytes[1] & 0xff;
        if (address.isSiteLocalAddress()) {
            return "private";
        }
        if (a == 0 || a >= 240 || (a == 192 && b == 0 && (bytes[2] & 0xff) == 0) || (a == 198 && (b & 0xfe) == 18)) {
            return "reserved";
        }
        if (a == 100 && (b & 0xc0) == 64) {
            return "carrier-grade NAT (private)";
        }
        return null;
    }

    /** An address block: an address and how many of its leading bits count. */
    private record Block(byte[] network, int bits) {

        static Block parse(String entry) {
            int slash = entry.indexOf('/');
            String address = slash < 0 ? entry : entry.substring(0, slash);
            byte[] bytes;
            try {
                if (!looksLikeAddress(address)) {
                    throw new UnknownHostException(address);
                }
                bytes = InetAddress.getByName(address).getAddress(); // a literal: no lookup
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("\"" + entry + "\" is not an address or a CIDR block");
            }
            int bits = bytes.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(entry.substring(slash + 1));
                } catch (NumberFormatException e) {
                    bits = -1;
                }
                if (bits < 0 || bits > bytes.length * 8) {
                    throw new IllegalArgumentException("\"" + entry + "\" has a prefix length outside 0 to " + bytes.length * 8);
                }
            }
            return new Block(bytes, bits);
        }

        boolean contains(InetAddress address) {
            byte[] bytes = address.getAddress();
            if (bytes.length != network.length) {
                return false;
            }
            for (int bit = 0; bit < bits; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((bytes[bit / 8] & mask) != (network[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }
}
