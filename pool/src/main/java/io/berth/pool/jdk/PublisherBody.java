package io.berth.pool.jdk;

import io.berth.pool.http.BerthRequest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest.BodyPublisher;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link BodyPublisher} as a Berth request {@link BerthRequest.Body}: each {@link #writeTo} subscribes
 * to the publisher and copies the {@link ByteBuffer}s it emits into the connection, on the thread that
 * writes the request.
 *
 * <p><b>Flow control.</b> At most {@link #WINDOW} buffers are requested ahead of what has been
 * written; as each is written, one more is requested. The JDK's own publishers emit synchronously
 * inside {@code request(n)}, so their bytes are read on the writing thread as it needs them; an
 * asynchronous publisher fills a queue that never holds more than {@code WINDOW} buffers (unless it
 * breaks the demand rule). Demand is requested outside the queue's lock, so a publisher that emits
 * from inside {@code request} never meets a lock held by its caller.
 *
 * <p><b>Failures.</b> A publisher that signals {@code onError}, emits more or fewer bytes than its
 * {@code contentLength()}, throws from {@code subscribe}, or stays silent for longer than the stall
 * limit fails the write with an {@link IOException} whose cause is the publisher's own exception. The
 * failure is also kept in {@link #failure()}, so that the adapter reports it as the reason the
 * request failed rather than as a connection failure (the connection is closed either way: a
 * partly written request cannot be completed). Writing never hangs: every wait is bounded by the
 * stall limit.
 *
 * <p><b>Replayability.</b> A body is replayable when a second subscription yields the same bytes:
 * {@code noBody}, {@code ofString}, {@code ofByteArray} and {@code ofFile} (recognised by the class of
 * the JDK's publisher), or any publisher wrapped with {@link BerthHttpClient#replayable}. Everything
 * else ({@code ofInputStream}, {@code ofByteArrays}, {@code fromPublisher}, {@code concat} of several,
 * a publisher of the caller's own) is taken as one-shot.
 *
 * <p>Thread-safe for the one writer Berth uses at a time; one instance may be written more than once
 * (a retry, a redirect), each time with a new subscription.
 */
final class PublisherBody implements BerthRequest.Body {
    /** Buffers requested ahead of what has been written. */
    static final int WINDOW = 4;

    /**
     * The JDK's publishers that give the same bytes to every subscriber (JDK 17 to 25 class names). A
     * publisher not listed is treated as one-shot: an unknown name only costs a retry, never a
     * wrongly repeated body.
     */
    private static final Set<String> JDK_REPLAYABLE = Set.of(
            "jdk.internal.net.http.RequestPublishers$EmptyPublisher",
            "jdk.internal.net.http.RequestPublishers$StringPublisher",
            "jdk.internal.net.http.RequestPublishers$ByteArrayPublisher",
            "jdk.internal.net.http.RequestPublishers$FilePublisher");
    private static final String JDK_EMPTY = "jdk.internal.net.http.RequestPublishers$EmptyPublisher";

    private final BodyPublisher publisher;
    private final long length;
    private final boolean replayable;
    private final long stallNanos;
    private volatile IOException failure;

    private PublisherBody(BodyPublisher publisher, long length, boolean replayable, Duration stall) {
        this.publisher = publisher;
        this.length = length;
        this.replayable = replayable;
        this.stallNanos = stall.toNanos();
    }

    /**
     * @param publisher the request's publisher
     * @param stall how long the publisher may stay silent while the body is written
     * @return the body
     */
    static PublisherBody of(BodyPublisher publisher, Duration stall) {
        boolean replayable = false;
        BodyPublisher p = publisher;
        if (p instanceof ReplayablePublisher) {
            p = ((ReplayablePublisher) p).delegate;
            replayable = true;
        }
        replayable |= isJdkReplayable(p);
        long length = p.contentLength();
        return new PublisherBody(p, length < 0 ? -1 : length, replayable, stall);
    }

    /** @return whether the publisher is one of the JDK's that give every subscriber the same bytes */
    static boolean isJdkReplayable(BodyPublisher p) {
        return JDK_REPLAYABLE.contains(p.getClass().getName());
    }

    /** @return whether the publisher is the JDK's {@code noBody()} (or an empty {@code concat()}) */
    static boolean isJdkEmpty(BodyPublisher p) {
        BodyPublisher q = p instanceof ReplayablePublisher ? ((ReplayablePublisher) p).delegate : p;
        return q.getClass().getName().equals(JDK_EMPTY);
    }

    /** @return the failure of the publisher in the last write, or {@code null} */
    IOException failure() {
        return failure;
    }

    @Override
    public long contentLength() {
        return length;
    }

    @Override
    public boolean isReplayable() {
        return replayable;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        failure = null;
        Bridge bridge = new Bridge();
        try {
            publisher.subscribe(bridge);
        } catch (RuntimeException e) {
            throw fail(new IOException("the request body's publisher " + publisher + " failed in subscribe: " + e, e));
        }
        byte[] copy = null;
        long written = 0;
        try {
            for (;;) {
                Object item = bridge.next(stallNanos);
                if (item == Bridge.COMPLETE) {
                    if (length >= 0 && written != length) {
                        throw fail(new IOException("the request body's publisher completed after " + written
                                + " bytes but its contentLength() is " + length));
                    }
                    return;
                }
                if (item instanceof Throwable) {
                    Throwable t = (Throwable) item;
                    throw fail(new IOException("the request body's publisher failed after " + written + " bytes: " + t,
                            t));
                }
                ByteBuffer b = (ByteBuffer) item;
                int n = b.remaining();
                if (length >= 0 && written + n > length) {
                    throw fail(new IOException("the request body's publisher emitted more than its contentLength()"
                            + " of " + length + " bytes"));
                }
                if (b.hasArray()) {
                    out.write(b.array(), b.arrayOffset() + b.position(), n);
                    b.position(b.limit());
                } else {
                    if (copy == null) {
                        copy = new byte[Math.min(16 * 1024, Math.max(n, 1024))];
                    }
                    while (b.hasRemaining()) {
                        int k = Math.min(copy.length, b.remaining());
                        b.get(copy, 0, k);
                        out.write(copy, 0, k);
                    }
                }
                written += n;
                bridge.consumed();
            }
        } finally {
            bridge.cancelIfActive();
        }
    }

    private IOException fail(IOException e) {
        failure = e;
        return e;
    }

    @Override
    public String toString() {
        return "PublisherBody[" + publisher + ", length " + length + (replayable ? ", replayable" : "") + "]";
    }

    /**
     * The subscriber: the publisher's signals go into a queue under a lock; the writing thread takes
     * them out. Terminal signals are kept apart and handed out after the queued buffers.
     */
    private final class Bridge implements Flow.Subscriber<ByteBuffer> {
        static final Object COMPLETE = new Object();

        private final ReentrantLock lock = new ReentrantLock();
        private final Condition ready = lock.newCondition();
        private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>(WINDOW);
        private Flow.Subscription subscription;
        private Object terminal;
        private boolean cancelled;
        /** Buffers written since demand was last replenished; touched by the writing thread only. */
        private int consumed;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            boolean first;
            lock.lock();
            try {
                first = subscription == null && !cancelled;
                if (first) {
                    subscription = s;
                }
            } finally {
                lock.unlock();
            }
            if (!first) {
                s.cancel(); // a second subscription (Reactive Streams rule 2.5), or we gave up already
                return;
            }
            lock.lock();
            try {
                ready.signalAll();
            } finally {
                lock.unlock();
            }
            s.request(WINDOW);
        }

        @Override
        public void onNext(ByteBuffer item) {
            lock.lock();
            try {
                if (terminal == null && !cancelled) {
                    queue.add(item);
                    ready.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onError(Throwable t) {
            terminate(t == null ? new NullPointerException("onError(null)") : t);
        }

        @Override
        public void onComplete() {
            terminate(COMPLETE);
        }

        private void terminate(Object signal) {
            lock.lock();
            try {
                if (terminal == null) {
                    terminal = signal;
                    ready.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }

        /**
         * @return the next buffer, {@link #COMPLETE}, or the publisher's {@link Throwable}
         * @throws SocketTimeoutException if the publisher stayed silent for {@code stall} nanoseconds
         * @throws InterruptedIOException if the thread was interrupted (the flag stays set)
         */
        Object next(long stall) throws IOException {
            lock.lock();
            try {
                long left = stall;
                while (queue.isEmpty() && terminal == null) {
                    if (left <= 0) {
                        throw fail(new SocketTimeoutException("the request body's publisher " + publisher
                                + " emitted nothing for " + TimeUnit.NANOSECONDS.toMillis(stall) + " ms"
                                + (subscription == null ? " (it never called onSubscribe)" : "")));
                    }
                    try {
                        left = ready.awaitNanos(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while waiting for the request body's publisher");
                    }
                }
                ByteBuffer b = queue.poll();
                return b != null ? b : terminal;
            } finally {
                lock.unlock();
            }
        }

        /** Called after each buffer is written: keeps {@link #WINDOW} buffers requested ahead. */
        void consumed() {
            if (++consumed >= WINDOW / 2) {
                int n = consumed;
                consumed = 0;
                Flow.Subscription s;
                lock.lock();
                try {
                    s = terminal == null ? subscription : null;
                } finally {
                    lock.unlock();
                }
                if (s != null) {
                    s.request(n);
                }
            }
        }

        /** Cancels the subscription unless the publisher ended it; no more signals are taken. */
        void cancelIfActive() {
            Flow.Subscription s;
            lock.lock();
            try {
                s = terminal == null && !cancelled ? subscription : null;
                cancelled = true;
                queue.clear();
            } finally {
                lock.unlock();
            }
            if (s != null) {
                try {
                    s.cancel();
                } catch (RuntimeException ignored) {
                    // a publisher's cancel must not throw (rule 3.15); nothing more to do with it
                }
            }
        }
    }

    /** A publisher the caller declared replayable: see {@link BerthHttpClient#replayable}. */
    static final class ReplayablePublisher implements BodyPublisher {
        final BodyPublisher delegate;

        ReplayablePublisher(BodyPublisher delegate) {
            this.delegate = delegate;
        }

        @Override
        public long contentLength() {
            return delegate.contentLength();
        }

        @Override
        public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
            delegate.subscribe(subscriber);
        }

        @Override
        public String toString() {
            return "replayable(" + delegate + ")";
        }
    }
}
