package dev.sluice.admin;

import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;

/**
 * The optional bearer token. With {@code SLUICE_ADMIN_TOKEN} set, every call that changes something
 * (POST, PATCH, PUT, DELETE) needs {@code Authorization: Bearer <token>}, else 401; reads stay open
 * unless {@code SLUICE_ADMIN_TOKEN_READS=true}; {@code /health} always. Without a token nothing is checked.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
final class TokenFilter {

    private static final Set<HttpMethod> READS = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS);

    private final byte[] token;
    private final boolean reads;

    TokenFilter(@Value("${sluice.admin.token:}") String token, @Value("${sluice.admin.token-reads:false}") boolean reads) {
        this.token = token.isBlank() ? null : token.getBytes(StandardCharsets.UTF_8);
        this.reads = reads;
    }

    @RequestFilter
    @Nullable
    HttpResponse<?> check(HttpRequest<?> request) {
        if (token == null || (!reads && READS.contains(request.getMethod())) || request.getPath().equals("/health")) {
            return null; // a load balancer's health check carries no token
        }
        String header = request.getHeaders().get(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.startsWith("Bearer ")) {
            return unauthorized("this call needs the admin token: send the header \"Authorization: Bearer <token>\""
                    + " (the CLI sends SLUICE_ADMIN_TOKEN)");
        }
        byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, token)) {
            return unauthorized("the admin token given is wrong");
        }
        return null;
    }

    private static HttpResponse<?> unauthorized(String detail) {
        return Problems.response(HttpStatus.UNAUTHORIZED, detail).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
    }
}
