package io.berth.pool;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/** What the pool needs to know of the calling thread, on every JDK from 17. */
final class CurrentThread {
    /** {@code Thread::isVirtual} (JDK 21+), or a handle that answers false before JDK 21. */
    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();

    private CurrentThread() {
    }

    /**
     * @return whether the calling thread is a virtual thread; always false before JDK 21. Constant
     *     folded by the JIT down to the one call, so cheap enough for acquire and release.
     */
    static boolean isVirtual() {
        try {
            return (boolean) IS_VIRTUAL.invokeExact(Thread.currentThread());
        } catch (Throwable e) {
            throw new AssertionError("Thread.isVirtual failed", e); // it declares nothing
        }
    }

    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                    MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return MethodHandles.dropArguments(MethodHandles.constant(boolean.class, false), 0, Thread.class);
        }
    }
}
