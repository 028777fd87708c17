package io.berth.pool.okhttp;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.Interceptor;

/**
 * The OkHttp on the class path, read at run time: the adapter is compiled against OkHttp 5 but runs
 * on 4.12 as well, finding what only 5 has (per-call event listeners, call tags, the client's
 * settings on the interceptor chain, trailers of a response built by hand) here, once. Every use of
 * an OkHttp 5 method goes through {@link OkHttp5} and is guarded by {@link #IS_5}.
 */
final class OkHttpVersion {
    /** The oldest OkHttp the adapter runs on. */
    static final String OLDEST = "4.12.0";
    /** What {@link BerthInterceptor} used on its own (without {@link BerthCallFactory}) needs. */
    static final String INTERCEPTOR_NEEDS = "5.0.0";
    /** The version found, as {@code okhttp3.OkHttp.VERSION} says (read at run time: it is a constant). */
    static final String FOUND = found();
    /** Whether the OkHttp found has every OkHttp 5 method the adapter uses. */
    static final boolean IS_5 = hasOkHttp5Api();

    private OkHttpVersion() {
    }

    /**
     * @throws UnsupportedOperationException if the OkHttp found is older than {@link #OLDEST}, naming both
     */
    static void checkSupported() {
        if (!atLeast(FOUND, 4, 12)) {
            throw new UnsupportedOperationException("Berth's OkHttp adapter needs OkHttp " + OLDEST + " or later"
                    + " (com.squareup.okhttp3:okhttp 4.12.0, or okhttp-jvm 5.x), but found OkHttp " + FOUND
                    + " on the class path");
        }
    }

    private static String found() {
        try {
            Object v = Class.forName("okhttp3.OkHttp").getField("VERSION").get(null);
            return String.valueOf(v);
        } catch (ReflectiveOperationException | LinkageError e) {
            return "3.x or older (no okhttp3.OkHttp.VERSION)";
        }
    }

    private static boolean hasOkHttp5Api() {
        try {
            Call.class.getMethod("addEventListener", EventListener.class);
            Call.class.getMethod("tag", Class.class, kotlin.jvm.functions.Function0.class);
            Interceptor.Chain.class.getMethod("getCookieJar");
            Class.forName("okhttp3.TrailersSource", false, OkHttpVersion.class.getClassLoader());
            return true;
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }

    /** @return whether {@code version} ({@code major.minor...}) is at least {@code major.minor} */
    static boolean atLeast(String version, int major, int minor) {
        Matcher m = Pattern.compile("^(\\d+)\\.(\\d+)").matcher(version);
        if (!m.find()) {
            return false;
        }
        int ma = Integer.parseInt(m.group(1));
        int mi = Integer.parseInt(m.group(2));
        return ma > major || (ma == major && mi >= minor);
    }
}
