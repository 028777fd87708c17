package io.berth.e2e;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code berth-before}: Berth as built from another source tree (typically the code before the
 * change being measured), in the same run as {@code berth}, so that the two are compared within one
 * run. Its jars ({@code api}, {@code transport}, {@code pool} from {@code <tree>/<module>/target/})
 * are loaded in a class loader of their own, together with this harness's classes: there
 * {@link BerthPeer}, {@link Target} and the rest link against the other Berth. This peer drives that
 * {@code BerthPeer} and its clients through method handles (no allocation per call). The tree is
 * given by the system property {@code berth.before} (run.sh: {@code E2E_BEFORE}); build it with
 * {@code mvn -B -q -DskipTests package} there. {@code berth-before-h2} is the same for
 * {@code berth-h2}: that tree's {@code berth-h2} peer, against the h2 listener.
 */
final class BeforePeer extends Peer {
    /** The system property naming the other source tree. */
    static final String PROPERTY = "berth.before";

    private final ClassLoader loader;
    private final Object peer;
    private final Constructor<?> target;

    /** @param h2 {@code berth-before-h2}: the other tree's {@code berth-h2} rather than its {@code berth} */
    BeforePeer(boolean h2) {
        super(h2 ? "berth-before-h2" : "berth-before", h2);
        String tree = System.getProperty(PROPERTY);
        if (tree == null) {
            throw new IllegalArgumentException("berth-before needs -D" + PROPERTY + "=<a built Berth source tree>");
        }
        try {
            List<URL> urls = new ArrayList<>();
            for (String module : List.of("api", "transport", "pool")) {
                urls.add(jar(Path.of(tree, module, "target"), "berth-" + module + "-").toUri().toURL());
            }
            urls.add(BeforePeer.class.getProtectionDomain().getCodeSource().getLocation());
            // Parent: the platform loader, so that every io.berth class (and this harness's) comes
            // from these URLs, the other tree's jars first.
            loader = new URLClassLoader("berth-before", urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
            Method named = loader.loadClass(Peer.class.getName()).getDeclaredMethod("named", String.class);
            named.setAccessible(true);
            peer = named.invoke(null, h2 ? "berth-h2" : "berth");
            target = loader.loadClass(Target.class.getName()).getDeclaredConstructor(String.class, int.class,
                    int.class, int.class, Path.class, int.class);
            target.setAccessible(true);
        } catch (IOException | ReflectiveOperationException e) {
            throw new IllegalStateException("cannot load Berth from " + tree + ": " + e, e);
        }
    }

    private static Path jar(Path dir, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith(prefix)
                    && p.getFileName().toString().endsWith(".jar")
                    && !p.getFileName().toString().contains("-tests")).findFirst()
                    .orElseThrow(() -> new IOException("no " + prefix + "*.jar in " + dir));
        }
    }

    /** @return where the other tree's Berth classes come from, for the report */
    String source() {
        return loader.getName() + " " + ((URLClassLoader) loader).getURLs()[0];
    }

    private Object childTarget(Target t) throws ReflectiveOperationException {
        return target.newInstance(t.host(), t.port(), t.h2Port(), t.statusPort(), t.caPem(), t.bodyLength());
    }

    @Override
    Client pooled(Target t, int connections) throws Exception {
        return new Remote(call(peer, "pooled", new Class<?>[] {target.getDeclaringClass(), int.class},
                childTarget(t), connections));
    }

    @Override
    Client fresh(Target t) throws Exception {
        return new Remote(call(peer, "fresh", new Class<?>[] {target.getDeclaringClass()}, childTarget(t)));
    }

    @Override
    Shared shared(Target t) throws Exception {
        Object shared = call(peer, "shared", new Class<?>[] {target.getDeclaringClass()}, childTarget(t));
        return new Shared() {
            @Override
            public Client newInstance() throws Exception {
                return new Remote(call(shared, "newInstance", new Class<?>[0]));
            }

            @Override
            public String sharing() {
                try {
                    return (String) call(shared, "sharing", new Class<?>[0]);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public void close() throws IOException {
                try {
                    call(shared, "close", new Class<?>[0]);
                } catch (IOException | RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(e);
                }
            }
        };
    }

    /** Calls a (possibly non-public) method of an object of the other loader's world. */
    private static Object call(Object on, String name, Class<?>[] types, Object... args) throws Exception {
        Method m = find(on.getClass(), name, types);
        m.setAccessible(true);
        try {
            return m.invoke(on, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception ex) {
                throw ex;
            }
            throw (Error) cause;
        }
    }

    private static Method find(Class<?> c, String name, Class<?>[] types) throws NoSuchMethodException {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            try {
                return k.getDeclaredMethod(name, types);
            } catch (NoSuchMethodException e) {
                // look in the superclass, then the interfaces
            }
            for (Class<?> i : k.getInterfaces()) {
                try {
                    return i.getDeclaredMethod(name, types);
                } catch (NoSuchMethodException e) {
                    // next
                }
            }
        }
        throw new NoSuchMethodException(c.getName() + "." + name);
    }

    /** A client of the other world, through method handles bound once. */
    private static final class Remote implements Client {
        private final Object client;
        private final MethodHandle get;
        private final MethodHandle getTls;
        private final MethodHandle hold;
        private final MethodHandle close;

        Remote(Object client) throws ReflectiveOperationException {
            this.client = client;
            MethodHandles.Lookup l = MethodHandles.lookup();
            this.get = handle(l, client, "get", MethodType.methodType(void.class, Object.class));
            this.getTls = handle(l, client, "getTls", MethodType.methodType(String.class, Object.class));
            this.hold = handle(l, client, "hold", MethodType.methodType(Object.class, Object.class));
            this.close = handle(l, client, "close", MethodType.methodType(void.class, Object.class));
        }

        private static MethodHandle handle(MethodHandles.Lookup l, Object on, String name, MethodType type)
                throws ReflectiveOperationException {
            Method m = find(on.getClass(), name, new Class<?>[0]);
            m.setAccessible(true);
            return l.unreflect(m).asType(type);
        }

        @Override
        public void get() throws Exception {
            try {
                get.invokeExact(client);
            } catch (Exception | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        @Override
        public String getTls() throws Exception {
            try {
                return (String) getTls.invokeExact(client);
            } catch (Exception | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        @Override
        public Held hold() throws Exception {
            Object held;
            try {
                held = (Object) hold.invokeExact(client);
            } catch (Exception | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            String tls = (String) call(held, "tls", new Class<?>[0]);
            return new Held() {
                @Override
                public String tls() {
                    return tls;
                }

                @Override
                public void close() throws IOException {
                    try {
                        call(held, "close", new Class<?>[0]);
                    } catch (IOException | RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new IOException(e);
                    }
                }
            };
        }

        @Override
        public void close() throws IOException {
            try {
                close.invokeExact(client);
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException(t);
            }
        }
    }
}
