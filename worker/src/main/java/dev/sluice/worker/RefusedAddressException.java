package dev.sluice.worker;

import java.io.IOException;

/** A call the outbound policy refuses: it fails the task for good, never retried. */
public final class RefusedAddressException extends IOException {

    private static final long serialVersionUID = 1L;

    /** Public, with a message only: {@code HttpURLConnection} re-creates exceptions by this constructor. */
    public RefusedAddressException(String message) {
        super(message);
    }
}
