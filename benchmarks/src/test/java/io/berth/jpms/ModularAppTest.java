package io.berth.jpms;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A modular application that {@code requires io.berth.pool;} and nothing else compiles and runs with
 * Berth's three modules alone on the module path: no OkHttp, Okio, Kotlin or Micrometer. It is
 * compiled with the JDK's compiler and run in a child {@code java --module-path ...} against the
 * modules this build made (the jars once packaged, else the class directories), sends one request to
 * a plain HTTP server of this test through {@code BerthHttpClient}, and prints the pool's table.
 */
@Timeout(120)
class ModularAppTest {
    private static final Set<String> BERTH = Set.of("io.berth", "io.berth.transport", "io.berth.pool");

    @Test
    void anApplicationThatRequiresOnlyTheBerthPoolModuleCompilesAndRuns(@TempDir Path dir) throws Exception {
        List<Path> modules = berthModules();
        assertThat(modules).hasSize(3);
        String modulePath = join(modules);

        Path src = dir.resolve("src/app");
        Files.createDirectories(src.resolve("app"));
        Files.writeString(src.resolve("module-info.java"), "module app {\n    requires io.berth.pool;\n}\n");
        Files.writeString(src.resolve("app/Main.java"), String.join("\n",
                "package app;",
                "",
                "import io.berth.pool.jdk.BerthHttpClient;",
                "import java.net.URI;",
                "import java.net.http.HttpRequest;",
                "import java.net.http.HttpResponse;",
                "",
                "public class Main {",
                "    public static void main(String[] args) throws Exception {",
                "        try (BerthHttpClient http = BerthHttpClient.create()) {",
                "            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(args[0])).build(),",
                "                    HttpResponse.BodyHandlers.ofString());",
                "            System.out.println(\"status \" + r.statusCode() + \" body \" + r.body());",
                "            System.out.print(http.pools().clients().iterator().next().pool().stats().table());",
                "            System.out.println(\"okhttp present: \" + ModuleLayer.boot().findModule(\"okhttp3\")"
                        + ".isPresent());",
                "        }",
                "    }",
                "}",
                ""));
        Path classes = dir.resolve("classes");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int compiled = javac.run(null, diagnostics, diagnostics, "--release", "17", "--module-path", modulePath,
                "-d", classes.toString(), src.resolve("module-info.java").toString(),
                src.resolve("app/Main.java").toString());
        assertThat(compiled).as("javac: %s", diagnostics.toString(StandardCharsets.UTF_8)).isZero();

        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread serving = new Thread(() -> serve(server), "modular-app-test-server");
            serving.setDaemon(true);
            serving.start();
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "--module-path", classes + File.pathSeparator + modulePath,
                    "-m", "app/app.Main", "http://127.0.0.1:" + server.getLocalPort() + "/hello")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("status 200 body hello").contains("connection -> uses (pool ")
                    .containsPattern("\\s+1\\s+127\\.0\\.0\\.1:\\d+\\s+1\\s+").contains("okhttp present: false");
        }
    }

    /** @return Berth's three modules as this build made them, found on the test's class path */
    private static List<Path> berthModules() {
        Map<String, Path> found = new TreeMap<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (!Files.exists(path)) {
                continue;
            }
            for (ModuleReference m : ModuleFinder.of(path).findAll()) {
                if (BERTH.contains(m.descriptor().name()) && !m.descriptor().isAutomatic()) {
                    found.put(m.descriptor().name(), path);
                }
            }
        }
        return new ArrayList<>(found.values());
    }

    private static String join(List<Path> paths) {
        List<String> s = new ArrayList<>();
        paths.forEach(p -> s.add(p.toString()));
        return String.join(File.pathSeparator, s);
    }

    /** Answers every request on every connection with {@code 200 hello}, until the socket closes. */
    private static void serve(ServerSocket server) {
        AtomicInteger connections = new AtomicInteger();
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.incrementAndGet();
                Thread t = new Thread(() -> answer(s), "modular-app-test-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void answer(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            while (readHead(in)) {
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    private static boolean readHead(InputStream in) throws IOException {
        int matched = 0;
        for (int b; (b = in.read()) >= 0; ) {
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return true;
            }
        }
        return false;
    }
}
