package io.berth.pool.okhttp;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import kotlin.jvm.functions.Function0;
import kotlin.reflect.KClass;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Timeout;

/**
 * A call of a {@link BerthCallFactory}: an OkHttp call of the factory's client (whose first
 * interceptor starts this call's timeout and whose last is a {@link BerthInterceptor}) with a call
 * timeout of its own that, as in OkHttp, covers the whole call from the start of its interceptor
 * chain to the end of the response body, and cancels it when it fires. Callbacks get this call, not
 * the inner one.
 *
 * <p>Thread-safe, like OkHttp's calls: {@link #cancel()} from any thread.
 */
final class BerthCall implements Call {
    private final BerthCallFactory factory;
    private final Call inner;
    private final CallState.CallTimeout timeout;
    private final CallState state;
    private final AtomicBoolean executed = new AtomicBoolean();

    /**
     * @param factory the factory
     * @param client its client, whose calls run its interceptors and then Berth's
     * @param request the request
     * @param callTimeoutMillis the call timeout, 0 for none
     */
    BerthCall(BerthCallFactory factory, OkHttpClient client, Request request, int callTimeoutMillis) {
        this.factory = factory;
        this.timeout = new CallState.CallTimeout(this, TimeUnit.MILLISECONDS.toNanos(callTimeoutMillis));
        this.state = new CallState(timeout);
        // The state travels as a tag of the request (OkHttp 4.12 has no call tags); a clone's new call
        // replaces it with its own.
        this.inner = client.newCall(request.newBuilder().tag(CallState.class, state).build());
        state.watch(inner);
    }

    @Override
    public Request request() {
        return inner.request();
    }

    /**
     * {@inheritDoc}
     *
     * @throws IOException {@code IOException("Canceled")} if cancelled,
     *     {@code InterruptedIOException("timeout")} if the call timeout fired, otherwise as
     *     {@link BerthInterceptor#intercept}
     * @throws IllegalStateException if the call was executed before
     */
    @Override
    public Response execute() throws IOException {
        if (!executed.compareAndSet(false, true)) {
            throw new IllegalStateException("Already Executed");
        }
        try {
            return responded(inner.execute());
        } catch (IOException e) {
            throw failed(e);
        } catch (RuntimeException | Error e) {
            state.end();
            throw e;
        }
    }

    /**
     * {@inheritDoc} Runs on the client's {@code Dispatcher}, within its limits (by default 64 calls, 5
     * per host).
     *
     * @throws IllegalStateException if the call was executed before
     */
    @Override
    public void enqueue(Callback callback) {
        if (!executed.compareAndSet(false, true)) {
            throw new IllegalStateException("Already Executed");
        }
        inner.enqueue(new Callback() {
            @Override
            public void onFailure(Call call, IOException e) {
                callback.onFailure(BerthCall.this, failed(e));
            }

            @Override
            public void onResponse(Call call, Response response) throws IOException {
                callback.onResponse(BerthCall.this, responded(response));
            }
        });
    }

    /**
     * Ends the call timeout now if the response did not come from the Berth interceptor (an
     * application interceptor answered by itself); otherwise its body's end will.
     */
    private Response responded(Response response) {
        if (!state.hasFinalBody()) {
            state.end();
        }
        return response;
    }

    /** Ends the call timeout on a failure, and says {@code timeout} if it fired. */
    private IOException failed(IOException e) {
        state.end();
        return timeout.fired && !CallState.isTimeout(e) ? CallState.timeout(e) : e;
    }

    /**
     * Cancels the call: the Berth exchange in flight is aborted at once, and the caller gets
     * {@code IOException("Canceled")}. Idempotent.
     */
    @Override
    public void cancel() {
        inner.cancel(); // first, so that whoever the abort wakes sees the call cancelled
        state.cancellation.cancel(); // OkHttp 5 also fires the canceled event, which does the same
    }

    @Override
    public boolean isExecuted() {
        return executed.get();
    }

    @Override
    public boolean isCanceled() {
        return inner.isCanceled();
    }

    /** @return the call timeout, from the client's {@code callTimeout}; change it before executing */
    @Override
    public Timeout timeout() {
        return timeout;
    }

    // The methods below are OkHttp 5's: on OkHttp 4 nothing calls them.

    @Override
    public void addEventListener(EventListener eventListener) {
        inner.addEventListener(eventListener);
    }

    @Override
    public <T> T tag(KClass<T> type) {
        return inner.tag(type);
    }

    @Override
    public <T> T tag(Class<? extends T> type) {
        return inner.tag(type);
    }

    @Override
    public <T> T tag(KClass<T> type, Function0<? extends T> computeIfAbsent) {
        return inner.tag(type, computeIfAbsent);
    }

    @Override
    public <T> T tag(Class<T> type, Function0<? extends T> computeIfAbsent) {
        return inner.tag(type, computeIfAbsent);
    }

    /** @return a new, unexecuted call of the same request from the same factory */
    @Override
    public Call clone() {
        return factory.newCall(request());
    }

    @Override
    public String toString() {
        return "BerthCall{" + request().method() + " " + request().url().redact() + "}";
    }
}
