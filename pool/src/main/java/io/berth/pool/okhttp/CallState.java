package io.berth.pool.okhttp;

import io.berth.pool.Cancellation;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Call;
import okhttp3.EventListener;
import okio.AsyncTimeout;

/**
 * What the adapter keeps per OkHttp call, as a tag of the call: the {@link Cancellation} that
 * {@code Call.cancel()} triggers (through a {@code canceled} event listener added to the call), and,
 * for a {@link BerthCall}, its call timeout.
 *
 * <p>Thread-safe.
 */
final class CallState {
    /** Aborts the Berth exchange in flight: the call was cancelled, or one of its timeouts fired. */
    final Cancellation cancellation = Cancellation.create();
    /** The call timeout of a {@link BerthCall}; {@code null} when OkHttp's own call runs the interceptor. */
    private final CallTimeout callTimeout;
    private final AtomicBoolean watching = new AtomicBoolean();
    /** Whether the call takes event listeners, so that its cancel (and its call timeout) reach us at once. */
    private volatile boolean listening;
    private final AtomicBoolean started = new AtomicBoolean();

    CallState(CallTimeout callTimeout) {
        this.callTimeout = callTimeout;
    }

    /**
     * @return the state of {@code call}, made and attached on first use, and listening for the call's
     *     cancellation
     */
    static CallState of(Call call) {
        CallState s = call.tag(CallState.class);
        if (s == null) {
            s = call.tag(CallState.class, () -> new CallState(null));
        }
        s.watch(call);
        return s;
    }

    /**
     * Makes {@code call.cancel()} cancel the Berth exchange at once. OkHttp fires
     * {@link EventListener#canceled} from {@code cancel()} after setting the flag, and this adds the
     * listener before reading the flag, so a cancel racing with this is never missed. Idempotent.
     */
    void watch(Call call) {
        if (!watching.compareAndSet(false, true)) {
            return;
        }
        try {
            call.addEventListener(new EventListener() {
                @Override
                public void canceled(Call c) {
                    cancellation.cancel();
                }
            });
            listening = true;
        } catch (RuntimeException e) {
            // A Call implementation that takes no listeners: cancellation is then seen between reads and writes.
        }
        if (call.isCanceled()) {
            cancellation.cancel();
        }
    }

    /**
     * @return whether the call's timeout reaches the exchange by itself: a {@link BerthCall}'s own, or
     *     OkHttp's, which cancels the call when it fires (and the cancel reaches us as an event)
     */
    boolean callTimeoutCancels() {
        return callTimeout != null || listening;
    }

    /** Starts the call timeout of a {@link BerthCall}, once, when its interceptor chain starts. */
    void start() {
        if (callTimeout != null && started.compareAndSet(false, true)) {
            callTimeout.enter();
        }
    }

    /** @return whether the call is cancelled, or its call timeout fired */
    boolean isCanceled(Call call) {
        return cancellation.isCanceled() || call.isCanceled();
    }

    /**
     * @param e a failure of the Berth exchange
     * @param call the call it belongs to
     * @return what OkHttp would throw: {@code InterruptedIOException("timeout")} if the call timeout
     *     fired, {@code IOException("Canceled")} if the call was cancelled (both with {@code e} as the
     *     cause), otherwise {@code e} itself
     */
    IOException failure(IOException e, Call call) {
        if (callTimeout != null && callTimeout.fired) {
            return timeout(e);
        }
        if (isCanceled(call)) {
            return canceled(e);
        }
        return e;
    }

    /** @return what OkHttp throws for a call found cancelled (or timed out) between reads and writes */
    IOException canceledFailure() {
        return callTimeout != null && callTimeout.fired ? timeout(null) : canceled(null);
    }

    static IOException canceled(IOException cause) {
        IOException e = new IOException("Canceled");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    static InterruptedIOException timeout(IOException cause) {
        InterruptedIOException e = new InterruptedIOException("timeout");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    /** A {@link BerthCall}'s call timeout: when it fires, it cancels the call. */
    static final class CallTimeout extends AsyncTimeout {
        private final Call call;
        volatile boolean fired;

        CallTimeout(Call call) {
            this.call = call;
        }

        @Override
        protected void timedOut() {
            fired = true;
            call.cancel();
        }
    }
}
