package io.berth.transport.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Whether a test may run against a real server installed on this machine (nginx, HAProxy,
 * nghttpd...). Without the binary a test is skipped with a message naming the package to install,
 * unless the environment says {@code BERTH_REQUIRE_SERVERS=1} (as {@code .ci/run} does), in which
 * case it fails: in CI a missing server is a broken environment, not a reason to skip.
 */
public final class ServerBinaries {
    /** The environment variable that turns a missing server from a skip into a failure. */
    public static final String REQUIRE = "BERTH_REQUIRE_SERVERS";

    private ServerBinaries() {
    }

    /**
     * Skips the calling test (a JUnit assumption) if {@code binary} is not an executable file, or
     * fails it if {@link #REQUIRE} is {@code 1}.
     *
     * @param binary e.g. {@code /usr/sbin/nghttpd}
     * @param debianPackage what installs it, e.g. {@code nghttp2-server}
     * @return {@code binary}, present
     */
    public static Path require(Path binary, String debianPackage) {
        if (Files.isExecutable(binary)) {
            return binary;
        }
        String message = binary + " is not installed (apt-get install " + debianPackage + ")";
        if ("1".equals(System.getenv(REQUIRE))) {
            throw new AssertionError(message + ", and " + REQUIRE + "=1 requires it");
        }
        Assumptions.abort(message + ": skipped; set " + REQUIRE + "=1 to make this a failure");
        return binary;
    }
}
