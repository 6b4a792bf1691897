package dev.sluice.worker;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import javax.net.ssl.SSLSocketFactory;

/**
 * TLS over a connection whose address the outbound policy checks first: the address the socket is
 * connected to, not the one a name resolved to a moment earlier. {@code HttpsURLConnection} connects a
 * plain socket and layers TLS over it through {@link #createSocket(Socket, String, int, boolean)} (the
 * unconnected {@code createSocket()} is left unsupported so that it does), so no byte of the request,
 * not even the TLS hello, goes to a refused address.
 */
final class CheckedTlsSocketFactory extends SSLSocketFactory {

    private final SSLSocketFactory tls;
    private final OutboundPolicy policy;

    CheckedTlsSocketFactory(SSLSocketFactory tls, OutboundPolicy policy) {
        this.tls = tls;
        this.policy = policy;
    }

    @Override
    public Socket createSocket(Socket connected, String host, int port, boolean autoClose) throws IOException {
        check(connected, host);
        return tls.createSocket(connected, host, port, autoClose);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return checked(tls.createSocket(host, port), host);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return checked(tls.createSocket(host, port, localHost, localPort), host);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return checked(tls.createSocket(host, port), host.getHostAddress());
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return checked(tls.createSocket(address, port, localAddress, localPort), address.getHostAddress());
    }

    @Override
    public String[] getDefaultCipherSuites() {
        return tls.getDefaultCipherSuites();
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return tls.getSupportedCipherSuites();
    }

    private Socket checked(Socket socket, String host) throws IOException {
        try {
            check(socket, host);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private void check(Socket socket, String host) throws IOException {
        InetAddress address = socket.getInetAddress();
        String refused = address == null ? null : policy.refusal(host, address);
        if (refused != null) {
            socket.close();
            throw new RefusedAddressException(refused);
        }
    }
}
