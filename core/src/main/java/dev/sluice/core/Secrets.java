package dev.sluice.core;

import java.net.URI;
import java.util.regex.Pattern;

/**
 * Passwords kept out of what people read: logs, error messages, banners. A URL's user information keeps
 * its user name and loses its password ({@code redis://app:***@host:6379}); a lone secret in that place
 * ({@code redis://s3cret@host}) is replaced whole.
 */
public final class Secrets {

    public static final String MASK = "***";

    /** {@code scheme://user:password@} or {@code scheme://secret@}, before the first {@code /} of the path. */
    private static final Pattern USER_INFO = Pattern.compile("(://)([^/@\\s:]*)(:[^/\\s]*)?@");

    private Secrets() {
    }

    /** {@code uri} as text, its password (if any) replaced by {@value #MASK}. */
    public static String redact(URI uri) {
        return uri == null ? "null" : redact(uri.toString());
    }

    /** Every URL in {@code text} with its password (if any) replaced by {@value #MASK}. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        return USER_INFO.matcher(text).replaceAll(match -> {
            String user = match.group(2);
            if (match.group(3) != null) {
                return "://" + java.util.regex.Matcher.quoteReplacement(user) + ":" + MASK + "@";
            }
            // a lone name is the password to Jedis (redis://s3cret@host)
            return user.isEmpty() ? "://@" : "://" + MASK + "@";
        });
    }
}
