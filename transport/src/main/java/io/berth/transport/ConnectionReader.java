package io.berth.transport;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Objects;

/**
 * Starts the dedicated reader of a {@link DuplexConnection} (HTTP/2): a virtual thread where the JDK
 * has them (21 and later, found at run time: this code compiles for release 17), otherwise a
 * platform daemon thread named {@code berth-} and the name given.
 *
 * <p>A virtual reader blocked in {@link DuplexConnection#readNoDeadline} parks and holds no carrier
 * (a blocking socket read parks a virtual thread on JDK 21 and 25 alike, unlike a selector on
 * JDK 21), so thousands of connections cost thousands of small stacks, not threads. On 17 each
 * connection costs a platform thread, as a blocking HTTP/2 client there must; it ends with the
 * connection (its read fails once the connection is aborted or closed), so no {@code berth-} thread
 * outlives the pool.
 *
 * <p>Thread-safe.
 */
public final class ConnectionReader {
    /**
     * {@code Thread.ofVirtual()}, {@code Thread.Builder.name(String)} and
     * {@code Thread.Builder.unstarted(Runnable)}, typed with {@code Object} for the builder; null
     * before JDK 21.
     */
    private static final MethodHandle[] VIRTUAL = virtualThreadBuilder();

    private ConnectionReader() {
    }

    /**
     * Starts a reader.
     *
     * @param name the connection, for the thread's name ({@code berth-} and this)
     * @param loop what the reader does: read and demultiplex until the connection ends
     * @return the started thread
     */
    public static Thread start(String name, Runnable loop) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(loop, "loop");
        Thread t;
        if (VIRTUAL != null) {
            try {
                Object builder = (Object) VIRTUAL[0].invokeExact();
                builder = (Object) VIRTUAL[1].invokeExact(builder, "berth-" + name);
                t = (Thread) VIRTUAL[2].invokeExact(builder, loop);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable e) {
                throw new IllegalStateException("cannot create a virtual thread", e);
            }
        } else {
            t = new Thread(loop, "berth-" + name);
            t.setDaemon(true);
        }
        t.start();
        return t;
    }

    /** @return whether {@link #start} starts virtual threads on this JDK */
    public static boolean virtual() {
        return VIRTUAL != null;
    }

    private static MethodHandle[] virtualThreadBuilder() {
        if (Runtime.version().feature() < 21) {
            return null; // 19 and 20 have them only as a preview
        }
        try {
            MethodHandles.Lookup l = MethodHandles.publicLookup();
            Class<?> builder = Class.forName("java.lang.Thread$Builder");
            Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder$OfVirtual");
            MethodHandle create = l.findStatic(Thread.class, "ofVirtual", MethodType.methodType(ofVirtual));
            MethodHandle name = l.findVirtual(builder, "name", MethodType.methodType(builder, String.class));
            MethodHandle unstarted = l.findVirtual(builder, "unstarted",
                    MethodType.methodType(Thread.class, Runnable.class));
            return new MethodHandle[] {
                create.asType(MethodType.methodType(Object.class)),
                name.asType(MethodType.methodType(Object.class, Object.class, String.class)),
                unstarted.asType(MethodType.methodType(Thread.class, Object.class, Runnable.class)),
            };
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
