package dev.sluice.admin;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * HTTP/1.1 by hand, for requests no well-behaved client sends: a forged {@code Host}, a browser's
 * {@code Origin}, a body of many megabytes the server should refuse before reading it all.
 */
final class RawHttp {

    record Response(int status, String headers, String body) {
    }

    private RawHttp() {
    }

    static Response send(int port, String method, String path, Map<String, String> headers, byte[] body) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(60_000);
            StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
            if (!headers.containsKey("Host")) {
                head.append("Host: localhost:").append(port).append("\r\n");
            }
            headers.forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
            head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            // the server may answer and close before it has read the body: write it aside, read the answer here
            Thread writer = new Thread(() -> {
                try {
                    for (int at = 0; at < body.length; at += 65_536) {
                        out.write(body, at, Math.min(65_536, body.length - at));
                    }
                    out.flush();
                } catch (IOException refusedMidway) {
                    // expected when the body is refused
                }
            });
            writer.start();
            String raw = new String(readAll(socket.getInputStream()), StandardCharsets.UTF_8);
            writer.join(10_000);
            int split = raw.indexOf("\r\n\r\n");
            String statusLine = raw.substring(0, raw.indexOf("\r\n"));
            return new Response(Integer.parseInt(statusLine.split(" ")[1]), raw.substring(0, split), raw.substring(split + 4));
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        try {
            for (int n; (n = in.read(buffer)) != -1; ) {
                all.write(buffer, 0, n);
            }
        } catch (java.net.SocketException resetAfterAnswer) {
            if (all.size() == 0) {
                throw resetAfterAnswer;
            }
        }
        return all.toByteArray();
    }
}
