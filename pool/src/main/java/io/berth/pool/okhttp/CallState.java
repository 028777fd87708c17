package io.berth.pool.okhttp;

import io.berth.pool.http.Cancellation;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Call;
import okhttp3.Interceptor;
import okio.AsyncTimeout;

/**
 * What the adapter keeps per OkHttp call, as a tag of the call: the {@link Cancellation} that
 * {@code Call.cancel()} triggers (through a {@code canceled} event listener added to the call), and
 * the call timeout, which runs until the final response body is read to its end or closed.
 *
 * <p>The call timeout: a {@link BerthCall}'s own {@code timeout()}, started when the call's
 * interceptor chain starts, as in OkHttp. For OkHttp's own calls, whose timer stops when the
 * interceptor returns the response head, a second timer with the same duration, started when the
 * interceptor starts, carries it over the body (OkHttp's fires first before the head, both cancel
 * the call). When it fires the call is cancelled and fails with OkHttp's
 * {@code InterruptedIOException("timeout")}.
 *
 * <p>Thread-safe.
 */
final class CallState {
    /** Aborts the Berth exchange in flight: the call was cancelled, or one of its timeouts fired. */
    final Cancellation cancellation = Cancellation.create();
    private final CallTimeout callTimeout;
    private final AtomicBoolean watching = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();
    /** The body of the response the interceptor returned: its end ends the call timeout. */
    private volatile ResponseBodyBridge finalBody;

    /** @param callTimeout the call's timer, not yet started; a zero timeout means none */
    CallState(CallTimeout callTimeout) {
        this.callTimeout = callTimeout;
        callTimeout.state = this;
    }

    /**
     * @return the state of the chain's call: the one a {@link BerthCall} put on its request, or else
     *     (a client's own call, OkHttp 5) one made and attached to the call on first use, with a timer
     *     for the call's {@code timeout()}; listening for the call's cancellation on OkHttp 5
     */
    static CallState of(Interceptor.Chain chain) {
        Call call = chain.call();
        CallState s = chain.request().tag(CallState.class);
        if (s == null) {
            s = OkHttpVersion.IS_5 ? OkHttp5.callState(call)
                    : new CallState(new CallTimeout(call, call.timeout().timeoutNanos()));
        }
        s.watch(call);
        return s;
    }

    /**
     * Makes {@code call.cancel()} cancel the Berth exchange at once, on OkHttp 5: OkHttp fires
     * {@link okhttp3.EventListener#canceled} from {@code cancel()} after setting the flag, and this adds
     * the listener before reading the flag, so a cancel racing with this is never missed. (On OkHttp 4,
     * whose calls take no listener, a {@link BerthCall}'s {@code cancel()} cancels the exchange
     * itself.) Idempotent.
     */
    void watch(Call call) {
        if (!watching.compareAndSet(false, true)) {
            return;
        }
        if (OkHttpVersion.IS_5) {
            try {
                OkHttp5.onCancel(call, cancellation::cancel);
            } catch (RuntimeException e) {
                // A Call implementation that takes no listeners: its cancel is then seen between reads and
                // writes; the call timeout still aborts at once.
            }
        }
        if (call.isCanceled()) {
            cancellation.cancel();
        }
    }

    /** Starts the call timeout, once. */
    void start() {
        if (started.compareAndSet(false, true)) {
            callTimeout.enter();
        }
    }

    /** Ends the call timeout: the call failed, or its final body is done. Idempotent. */
    void end() {
        callTimeout.exit();
    }

    /** Remembers the final response's body, whose end ends the call. */
    void finalBody(ResponseBodyBridge body) {
        finalBody = body;
    }

    /** @return whether the interceptor returned a response whose body ends the call */
    boolean hasFinalBody() {
        return finalBody != null;
    }

    /** Called when a response body is done (read to its end, closed, or failed). */
    void released(ResponseBodyBridge body) {
        if (body == finalBody) {
            end();
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
        if (callTimeout.fired) {
            return timeout(e);
        }
        if (isCanceled(call)) {
            return canceled(e);
        }
        return e;
    }

    /** @return what OkHttp throws for a call found cancelled (or timed out) between reads and writes */
    IOException canceledFailure() {
        return callTimeout.fired ? timeout(null) : canceled(null);
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

    /** @return whether {@code e} is OkHttp's call timeout failure */
    static boolean isTimeout(IOException e) {
        return e instanceof InterruptedIOException && "timeout".equals(e.getMessage());
    }

    /** A call timeout: when it fires, it aborts the exchange and cancels the call. */
    static final class CallTimeout extends AsyncTimeout {
        private final Call call;
        volatile CallState state;
        volatile boolean fired;

        CallTimeout(Call call, long timeoutNanos) {
            this.call = call;
            timeout(timeoutNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        protected void timedOut() {
            fired = true;
            call.cancel(); // first, so that whoever the abort wakes sees the call cancelled
            CallState s = state;
            if (s != null) {
                s.cancellation.cancel(); // in case the call reports no cancel
            }
        }
    }
}
