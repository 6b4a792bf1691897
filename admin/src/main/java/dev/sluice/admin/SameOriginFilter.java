package dev.sluice.admin;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.annotation.Order;
import io.micronaut.core.order.Ordered;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * What a web page in the user's browser may not do to the admin service.
 * <ul>
 *   <li><b>Cross-site changes</b> (CSRF): a call that changes something and comes from a page
 *   ({@code Origin} present) is refused unless that page is the admin's own (the dashboard): its
 *   {@code Origin} must name the host and port the request was sent to. Browsers send {@code Origin} on
 *   every cross-origin POST, PATCH and DELETE, forms included, and a page cannot forge it; the CLI and
 *   curl send none and are not browsers. A {@code Sec-Fetch-Site: cross-site} call is refused too.</li>
 *   <li><b>DNS rebinding</b>: listening on loopback, the service answers only requests addressed to
 *   {@code localhost} or a loopback address, so a page whose own name was made to resolve to 127.0.0.1
 *   cannot read or change anything.</li>
 * </ul>
 * Chosen over requiring a JSON content type on every change because {@code deactivate} and
 * {@code activate} carry no body, and over a CSRF token because the CLI and scripts would have to fetch one.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
@Order(Ordered.HIGHEST_PRECEDENCE) // before Micronaut's CORS filter, whose own refusal has no body to explain it
final class SameOriginFilter {

    private static final Set<HttpMethod> READS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    private final boolean loopback;

    SameOriginFilter(Exposure exposure) {
        this.loopback = exposure.loopback();
    }

    @RequestFilter
    @Nullable
    HttpResponse<?> check(HttpRequest<?> request) {
        String host = request.getHeaders().get(HttpHeaders.HOST);
        if (loopback && !isLoopbackName(hostName(host))) {
            return forbidden("this admin service listens on loopback and answers only requests for localhost,"
                    + " not for \"" + host + "\" (SLUICE_ADMIN_HOST sets where it listens)");
        }
        if (READS.contains(request.getMethod())) {
            return null;
        }
        String origin = request.getHeaders().get(HttpHeaders.ORIGIN);
        if (origin != null && !sameAuthority(origin, host)) {
            return forbidden("a change from the web page at " + origin + " is refused: only the admin's own"
                    + " dashboard may change queues from a browser");
        }
        if ("cross-site".equalsIgnoreCase(request.getHeaders().get("Sec-Fetch-Site"))) {
            return forbidden("a change from another site is refused: only the admin's own dashboard may change"
                    + " queues from a browser");
        }
        return null;
    }

    /** Whether {@code origin} (scheme://host[:port]) names the authority of {@code host} (host[:port]), default ports alike. */
    static boolean sameAuthority(String origin, @Nullable String host) {
        if (host == null) {
            return false;
        }
        try {
            URI from = URI.create(origin.trim());
            URI to = URI.create(from.getScheme() + "://" + host.trim());
            return from.getHost() != null && from.getHost().equalsIgnoreCase(to.getHost())
                    && port(from) == port(to) && from.getPath().isEmpty();
        } catch (IllegalArgumentException | NullPointerException malformed) {
            return false; // "null", a file page, or garbage
        }
    }

    private static int port(URI uri) {
        if (uri.getPort() != -1) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }

    /** The name in a Host header, without the port; an IPv6 literal without its brackets. */
    static String hostName(@Nullable String host) {
        if (host == null) {
            return "";
        }
        String value = host.trim().toLowerCase(Locale.ROOT);
        if (value.startsWith("[")) {
            int end = value.indexOf(']');
            return end < 0 ? value : value.substring(1, end);
        }
        int colon = value.indexOf(':');
        return colon < 0 ? value : value.substring(0, colon);
    }

    /**
     * {@code localhost} or a loopback address literal. Names are not resolved: resolving one to 127.0.0.1 is
     * exactly what a rebinding attack does.
     */
    static boolean isLoopbackName(String name) {
        if (name.equals("localhost") || name.endsWith(".localhost") || name.equals("::1")) {
            return true;
        }
        String[] parts = name.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("127")) {
            return false;
        }
        for (String part : parts) {
            if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit) || Integer.parseInt(part) > 255) {
                return false;
            }
        }
        return true;
    }

    private static HttpResponse<?> forbidden(String detail) {
        return Problems.response(HttpStatus.FORBIDDEN, detail);
    }
}
