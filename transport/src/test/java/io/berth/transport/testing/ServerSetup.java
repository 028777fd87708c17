package io.berth.transport.testing;

import java.nio.file.Path;

/**
 * What a test's configuration of a real server ({@link Nginx}, {@link Haproxy}) may use while it is
 * written: free ports by name and the server's directory. Used only while the server starts; not
 * thread-safe.
 */
public class ServerSetup {
    private final Path dir;
    final ServerProcess.Ports ports = new ServerProcess.Ports();

    ServerSetup(Path dir) {
        this.dir = dir;
    }

    /**
     * @param name a name of the test's choosing, e.g. {@code h2}
     * @return a free port on 127.0.0.1 for it, the same for the same name
     */
    public int port(String name) {
        return ports.port(name);
    }

    /** @return the server's own directory (its configuration, certificate, logs), for files a configuration refers to */
    public Path dir() {
        return dir;
    }
}
