package io.berth.pool.jdk;

import io.berth.pool.http.BerthResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse.BodySubscriber;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Feeds a Berth response body to a {@link BodySubscriber}: the {@link java.util.concurrent.Flow.Subscription}
 * the subscriber gets, reading the body from its connection only as the subscriber asks for it.
 *
 * <p><b>Signals.</b> {@code onSubscribe} is called once by the adapter; each {@code onNext} carries
 * one read of at most {@link #CHUNK} bytes in a fresh buffer the subscriber may keep, and only
 * against demand; then exactly one of {@code onComplete} (the body's end was read: a body of known
 * length completes right after its last byte, without waiting for more demand) or {@code onError}
 * (a read failed, e.g. {@link io.berth.TruncatedBodyException}: a truncated body is never completed;
 * or the subscriber broke a rule: {@code request(n <= 0)}, throwing from {@code onNext}). Nothing is
 * signalled after {@code cancel()}. The response is closed at every end: after the last byte its
 * connection is already back in the pool; on {@code cancel()} or an error, closing drains a short
 * rest so the connection can be reused, or closes it.
 *
 * <p><b>Who reads.</b> The work is a drain loop run by one thread at a time: {@link #wip} counts
 * the reasons to run it (demand, cancellation), and whoever takes it from 0 to 1 owns the loop
 * until the loop brings it back to 0; a {@code request} from inside {@code onNext} (the JDK's
 * {@code ofFile}, {@code buffering} and {@code ofByteArrayConsumer} subscribers do this) only adds
 * demand and the running loop picks it up: a trampoline, so the stack never grows with the body.
 * Ownership passes through the atomic counter, which also carries the response's (not thread-safe)
 * state from one owner to the next. Where the owner runs depends on the phase:
 * <ul>
 *   <li>While the sending thread waits for the body (for {@code ofString}, {@code ofByteArray},
 *       {@code ofFile}, {@code discarding}...: any subscriber whose {@code getBody()} is not yet
 *       complete after {@code onSubscribe}), the loop runs on that thread ({@link #pumpUntil}), which
 *       would otherwise only wait: no thread hop per chunk.</li>
 *   <li>Once the body has been handed out ({@code ofInputStream}, {@code ofLines}, {@code ofPublisher}:
 *       {@code getBody()} completes at once), demand is served on the client's executor, so that
 *       {@code send} returns without reading and {@code request(n)} never blocks the caller (an
 *       {@code InputStream.read()} returns the chunk it has while the next one is read ahead).</li>
 *   <li>{@code cancel()} runs the loop on the cancelling thread when no one else is running it, so
 *       that closing an {@code ofInputStream} releases the connection before {@code close()} returns.</li>
 * </ul>
 *
 * <p>Thread-safe, as a subscription must be.
 */
final class BodyPump implements java.util.concurrent.Flow.Subscription {
    /** The most bytes read for one {@code onNext}. */
    static final int CHUNK = 16 * 1024;

    /** How long {@code send} waits for a subscriber that cancelled to complete its body. */
    static final long CANCEL_GRACE_MILLIS = 1_000;

    private static final Object DRAIN = new Object();
    private static final Object WAKE = new Object();

    private final BerthResponse response;
    /** The response's body stream, made when first read from (a small body may never need it). */
    private InputStream body;
    private final BodySubscriber<?> subscriber;
    private final Executor executor;
    /** Body bytes expected in all, or -1 if unknown. */
    private final long expected;

    private final AtomicLong demand = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean cancelled;
    private final Runnable onClosed;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The loop saw the cancellation and closed the response. */
    private volatile boolean cancelledAndClosed;
    private volatile IllegalArgumentException badRequest;
    private volatile RejectedExecutionException rejected;

    /**
     * Guards {@link #mailbox}: a lock, not a monitor, because the queue's own locks may park a thread
     * that adds to it or removes from it.
     */
    private final ReentrantLock mailboxLock = new ReentrantLock();
    /** Where drain work goes while the sending thread pumps; null once it has stopped. Guarded by mailboxLock. */
    private BlockingQueue<Object> mailbox = new LinkedBlockingQueue<>();

    // Owned by the drain loop's owner.
    private boolean terminal;
    private long delivered;

    /**
     * @param onClosed run once when the response is closed (the body's end, a failure or a cancel);
     *     {@code null} for nothing
     */
    BodyPump(BerthResponse response, BodySubscriber<?> subscriber, Executor executor, Runnable onClosed) {
        this.onClosed = onClosed;
        this.response = response;
        this.subscriber = subscriber;
        this.executor = executor;
        this.expected = response.contentLength();
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            badRequest = new IllegalArgumentException("request(" + n + "): demand must be positive"
                    + " (Reactive Streams rule 3.9)");
        } else {
            demand.getAndAccumulate(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
        }
        if (wip.getAndIncrement() == 0) {
            dispatch();
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        if (wip.getAndIncrement() == 0) {
            drainLoop(); // closes the response at once, on this thread
        }
    }

    /**
     * Pumps the body on the calling (sending) thread until {@code body} completes, then hands any
     * further demand to the executor.
     *
     * @param bodyFuture the subscriber's {@code getBody()}
     * @throws InterruptedException if the thread was interrupted; the exchange was cancelled and the
     *     response closed
     */
    void pumpUntil(CompletableFuture<?> bodyFuture) throws InterruptedException, IOException {
        BlockingQueue<Object> box;
        mailboxLock.lock();
        try {
            box = mailbox;
        } finally {
            mailboxLock.unlock();
        }
        bodyFuture.whenComplete((v, e) -> box.add(WAKE));
        if (expected == 0 && wip.getAndIncrement() == 0) {
            drainLoop(); // an empty body completes without waiting for demand
        }
        try {
            while (!bodyFuture.isDone()) {
                if (box.take() == DRAIN) {
                    drainLoop();
                }
                if (cancelledAndClosed && !bodyFuture.isDone()) {
                    awaitAfterCancel(bodyFuture);
                }
            }
        } catch (InterruptedException e) {
            abort();
            throw e;
        }
        handOver();
    }

    /**
     * The subscriber cancelled before its body completed. The JDK's subscribers complete their body
     * as they cancel (e.g. {@code ofFile} on a write error); one that does not within
     * {@link #CANCEL_GRACE_MILLIS} would leave {@code send} waiting forever (the JDK's client does
     * wait forever), so the exchange fails instead.
     */
    private static void awaitAfterCancel(CompletableFuture<?> bodyFuture) throws InterruptedException, IOException {
        try {
            bodyFuture.get(CANCEL_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return; // completed, exceptionally: the caller reports it
        } catch (TimeoutException e) {
            throw new IOException("the response BodySubscriber cancelled its subscription and did not complete"
                    + " its body within " + CANCEL_GRACE_MILLIS + " ms; the response was closed");
        }
    }

    /** Stops pumping on the sending thread; pending drain work goes to the executor. */
    private void handOver() {
        boolean pending;
        mailboxLock.lock();
        try {
            pending = mailbox.remove(DRAIN);
            mailbox = null;
        } finally {
            mailboxLock.unlock();
        }
        if (pending) {
            execute();
        }
    }

    /** Cancels from the sending thread, which may hold a pending drain in its mailbox. */
    void abort() {
        cancelled = true;
        boolean pending;
        mailboxLock.lock();
        try {
            pending = mailbox != null && mailbox.remove(DRAIN);
            mailbox = null;
        } finally {
            mailboxLock.unlock();
        }
        if (pending || wip.getAndIncrement() == 0) {
            drainLoop();
        }
    }

    /** Wakes the sending thread, if it is pumping, to look at the state again. */
    private void wake() {
        mailboxLock.lock();
        try {
            if (mailbox != null) {
                mailbox.add(WAKE);
            }
        } finally {
            mailboxLock.unlock();
        }
    }

    private void dispatch() {
        mailboxLock.lock();
        try {
            if (mailbox != null) {
                mailbox.add(DRAIN);
                return;
            }
        } finally {
            mailboxLock.unlock();
        }
        execute();
    }

    private void execute() {
        try {
            executor.execute(this::drainLoop);
        } catch (RejectedExecutionException e) {
            rejected = e;
            drainLoop(); // fails the body at once
        }
    }

    /** The drain loop; see the class comment. Runs only while its caller owns {@link #wip}. */
    private void drainLoop() {
        int missed = 1;
        for (;;) {
            if (terminal) {
                return; // wip stays above zero for good: nothing runs the loop again
            }
            if (cancelled) {
                terminal = true;
                closeResponse();
                cancelledAndClosed = true;
                wake();
                return;
            }
            if (badRequest != null) {
                fail(badRequest);
                return;
            }
            if (rejected != null) {
                fail(new IOException("the client's executor rejected reading the response body (client closed?)",
                        rejected));
                return;
            }
            if (expected >= 0 && delivered >= expected) {
                complete();
                return;
            }
            long d = demand.get();
            if (d > 0) {
                if (!readAndDeliver(d)) {
                    return;
                }
                continue;
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    /** @return whether the loop goes on (false once terminal) */
    private boolean readAndDeliver(long d) {
        byte[] buf;
        int n;
        try {
            if (body == null && expected > 0 && expected <= CHUNK) {
                // Known and small: all at once, one chunk (the loop then completes: all expected was
                // delivered); a body that came with its head is handed out as it is, without a copy.
                buf = response.bodyBytes();
                n = buf.length == 0 ? -1 : buf.length; // none after all (e.g. a HEAD): the end
            } else {
                InputStream in = body;
                if (in == null) {
                    in = body = response.body();
                }
                int size = expected >= 0 ? (int) Math.min(CHUNK, Math.max(1, expected - delivered)) : CHUNK;
                buf = new byte[size];
                n = in.read(buf, 0, size);
                if (n >= 0 && n < size / 2) {
                    buf = Arrays.copyOf(buf, n); // do not keep 16 KiB alive for a few bytes
                }
            }
        } catch (IOException | RuntimeException e) {
            fail(e);
            return false;
        }
        if (n < 0) {
            complete();
            return false;
        }
        if (cancelled) {
            return true; // the loop closes the response; what was read is dropped
        }
        delivered += n;
        if (d != Long.MAX_VALUE) {
            demand.decrementAndGet();
        }
        try {
            subscriber.onNext(List.of(ByteBuffer.wrap(buf, 0, n)));
        } catch (Throwable t) {
            fail(t); // rule 2.13: the subscriber broke the protocol; treat it as cancelled
            return false;
        }
        return true;
    }

    private void complete() {
        terminal = true;
        closeResponse();
        try {
            subscriber.onComplete();
        } catch (RuntimeException ignored) {
            // rule 2.13: the subscriber broke the protocol; the body is over either way
        }
    }

    private void fail(Throwable t) {
        terminal = true;
        closeResponse();
        try {
            subscriber.onError(t);
        } catch (RuntimeException ignored) {
            // rule 2.13: nothing more to tell it
        }
    }

    /** Closes the response (releasing its connection); a failure to close changes nothing for the subscriber. */
    private void closeResponse() {
        try {
            response.close();
        } catch (RuntimeException ignored) {
            // e.g. a gzip stream failing to close: the connection was released or closed regardless
        } finally {
            if (onClosed != null && closed.compareAndSet(false, true)) {
                onClosed.run();
            }
        }
    }

    @Override
    public String toString() {
        return "BodyPump[" + response + ", delivered " + delivered + (cancelled ? ", cancelled" : "") + "]";
    }
}
