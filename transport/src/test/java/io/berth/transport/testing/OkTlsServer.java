package io.berth.transport.testing;

import java.io.EOFException;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * A TLS server on 127.0.0.1 ({@link RawServer}) that answers one request per connection with
 * {@code 200 ok} and records the SNI names of each handshake the client completed; a handshake the
 * client refuses (also a TLS 1.3 client refusing after the server's side of the handshake ended)
 * records nothing. Thread-safe; close it to stop.
 */
public final class OkTlsServer implements AutoCloseable {
    private final RawServer server;
    private final List<List<SNIServerName>> sniSeen = new CopyOnWriteArrayList<>();

    private OkTlsServer(SSLContext context, String... protocols) throws IOException {
        this.server = RawServer.start(raw -> {
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(raw, null, true);
            tls.setUseClientMode(false);
            if (protocols.length > 0) {
                tls.setEnabledProtocols(protocols);
            }
            try {
                tls.startHandshake();
                RawServer.readHead(tls.getInputStream());
            } catch (SSLException | EOFException refused) {
                return; // the client refused us
            }
            sniSeen.add(((ExtendedSSLSession) tls.getSession()).getRequestedServerNames());
            tls.getOutputStream().write(RawServer.response("ok"));
            tls.getOutputStream().flush();
            tls.getInputStream().read();
        });
    }

    /**
     * @param context the server's TLS context
     * @param protocols the protocols enabled, or none for the context's defaults
     * @return a started server
     */
    public static OkTlsServer start(SSLContext context, String... protocols) throws IOException {
        return new OkTlsServer(context, protocols);
    }

    /** @return its port on 127.0.0.1 */
    public int port() {
        return server.port();
    }

    /** @return the SNI names the server saw, one list per handshake the client completed */
    public List<List<SNIServerName>> sniSeen() {
        return sniSeen;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
