package io.berth.pool.okhttp;

import java.net.Proxy;
import okhttp3.Authenticator;
import okhttp3.Cache;
import okhttp3.Call;
import okhttp3.CertificatePinner;
import okhttp3.CookieJar;
import okhttp3.EventListener;
import okhttp3.Headers;
import okhttp3.Interceptor;
import okhttp3.Response;
import okhttp3.TrailersSource;

/**
 * Every call of a method that only OkHttp 5 has, in one place: callers check
 * {@link OkHttpVersion#IS_5} first (the JVM links a method when it is first called, so on OkHttp 4
 * none of these is ever linked). Everything else in the adapter compiles against OkHttp 4.12's API.
 */
final class OkHttp5 {
    private OkHttp5() {
    }

    /** @return the call's state, attached to the call as a tag on first use */
    static CallState callState(Call call) {
        CallState s = call.tag(CallState.class);
        return s != null ? s
                : call.tag(CallState.class, () -> new CallState(new CallState.CallTimeout(call,
                        call.timeout().timeoutNanos())));
    }

    /** Runs {@code onCancel} when the call is cancelled (OkHttp fires the event after setting the flag). */
    static void onCancel(Call call, Runnable onCancel) {
        call.addEventListener(new EventListener() {
            @Override
            public void canceled(Call c) {
                onCancel.run();
            }
        });
    }

    static CookieJar cookieJar(Interceptor.Chain chain) {
        return chain.getCookieJar();
    }

    static Authenticator authenticator(Interceptor.Chain chain) {
        return chain.getAuthenticator();
    }

    static boolean followRedirects(Interceptor.Chain chain) {
        return chain.getFollowRedirects();
    }

    static boolean followSslRedirects(Interceptor.Chain chain) {
        return chain.getFollowSslRedirects();
    }

    static Cache cache(Interceptor.Chain chain) {
        return chain.getCache();
    }

    static CertificatePinner certificatePinner(Interceptor.Chain chain) {
        return chain.getCertificatePinner();
    }

    static Proxy proxy(Interceptor.Chain chain) {
        return chain.getProxy();
    }

    /** Makes the response's trailers those of {@code body}, known once it was read to its end. */
    static Response.Builder trailers(Response.Builder b, ResponseBodyBridge body) {
        return b.trailers(new TrailersSource() {
            @Override
            public Headers peek() {
                return body.trailersOrNull();
            }

            @Override
            public Headers get() {
                Headers trailers = body.trailersOrNull();
                if (trailers == null) {
                    throw new IllegalStateException(
                            "trailers are known only once the response body was read to its end");
                }
                return trailers;
            }
        });
    }
}
