package io.berth.pool.jdk;

import io.berth.AcquireTimeoutException;
import io.berth.BackendPoolException;
import io.berth.ConnectTimeoutException;
import io.berth.HandshakeTimeoutException;
import io.berth.pool.http.BerthClient;
import io.berth.pool.http.BerthRequest;
import io.berth.pool.http.BerthResponse;
import io.berth.pool.http.Cancellation;
import java.io.IOException;
import java.net.ConnectException;
import java.net.CookieHandler;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;

/**
 * One call of {@code send}: maps the {@link HttpRequest} onto a {@link BerthRequest}, sends it through
 * the pool of its origin, follows redirects per the client's policy (a hop may go to another origin,
 * so to another pool), keeps cookies, and feeds the final response's body to the caller's
 * {@link BodyHandler} through a {@link BodyPump}.
 *
 * <p>Not thread-safe: one exchange runs on one thread (the caller's, or an executor thread for
 * {@code sendAsync}); only {@link #discard()} may come from another.
 */
final class Exchange<T> {
    private static final System.Logger LOG = System.getLogger(Exchange.class.getName());
    private static final BiPredicate<String, String> ALL = (name, value) -> true;

    private final BerthHttpClient client;
    private final HttpRequest original;
    private final BodyHandler<T> handler;
    private final long startNanos = System.nanoTime();
    /** Aborts the exchange in flight, and a body being read: {@link BerthHttpClient#shutdownNow()}. */
    private final Cancellation cancellation = Cancellation.create();
    /** The run, plus one while a body pump is open: the operation ends when both are done. */
    private final AtomicInteger holds = new AtomicInteger(1);
    private volatile BodyPump pump;
    private volatile boolean aborted;

    Exchange(BerthHttpClient client, HttpRequest request, BodyHandler<T> handler) {
        this.client = client;
        this.original = request;
        this.handler = handler;
    }

    /**
     * Runs the exchange to its final response, whose body the handler has (or, for a streaming
     * handler, is being given).
     *
     * @return the final response
     * @throws IOException as {@link BerthHttpClient#send} documents
     * @throws InterruptedException if the thread was interrupted while the body was awaited
     */
    HttpResponse<T> run() throws IOException, InterruptedException {
        HttpRequest request = original;
        BerthHttpResponse<T> previous = null;
        int redirects = 0;
        for (;;) {
            BerthResponse response = sendOnce(request);
            BerthHttpResponse<T> head;
            HttpRequest next;
            try {
                Map<String, List<String>> headerMap = response.headers();
                head = new BerthHttpResponse<>(request, response.status(), HttpHeaders.of(headerMap, ALL), previous,
                        null, response.version().equals("HTTP/2") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1);
                CookieHandler cookies = client.cookieHandlerOrNull();
                if (cookies != null) {
                    cookies.put(request.uri(), headerMap);
                }
                next = redirect(request, response);
                if (next != null && redirects == BerthHttpClient.MAX_REDIRECTS) {
                    LOG.log(System.Logger.Level.DEBUG, () -> original.method() + " " + original.uri()
                            + ": not following more than " + BerthHttpClient.MAX_REDIRECTS + " redirects");
                    next = null; // as the JDK's client: the last redirect response is the answer
                }
            } catch (IOException | RuntimeException | Error e) {
                response.close();
                throw e;
            }
            if (next == null) {
                return deliver(head, response);
            }
            HttpRequest hop = next;
            LOG.log(System.Logger.Level.DEBUG, () -> "redirect " + response.status() + ": " + head.request().method()
                    + " " + head.uri() + " -> " + hop.method() + " " + hop.uri());
            response.close(); // drains a short body, so its connection can carry the next hop
            previous = head;
            request = next;
            redirects++;
        }
    }

    /** Ends one hold (the run, or the body's pump); the last one ends the client's operation. */
    void release() {
        if (holds.decrementAndGet() == 0) {
            client.ended(this);
        }
    }

    /** Aborts the exchange now, wherever it is (waiting, writing, reading the head or the body). */
    void abort() {
        aborted = true;
        cancellation.cancel();
    }

    /** @return whether {@link #abort()} was called */
    boolean aborted() {
        return aborted;
    }

    /** Cancels the body's subscription, if one was made: releases a body no one will read. */
    void discard() {
        BodyPump p = pump;
        if (p != null) {
            p.cancel();
        }
    }

    // ------------------------------------------------------------------ sending one hop

    private BerthResponse sendOnce(HttpRequest request) throws IOException {
        URI uri = request.uri();
        BerthClient berth = client.pools().client(uri);
        BerthRequest.Builder b = BerthRequest.newBuilder(request.method(), target(uri));
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.putAll(request.headers().map());
        addCookies(uri, headers);
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            String name = e.getKey();
            if (name.equalsIgnoreCase("Content-Length") || name.equalsIgnoreCase("Transfer-Encoding")) {
                continue; // only settable with jdk.httpclient.allowRestrictedHeaders; the body frames itself
            }
            for (String v : e.getValue()) {
                b.header(name, v);
            }
        }
        Optional<Duration> timeout = request.timeout();
        timeout.ifPresent(b::timeout);
        PublisherBody body = null;
        Optional<HttpRequest.BodyPublisher> publisher = request.bodyPublisher();
        if (publisher.isPresent()) {
            HttpRequest.BodyPublisher p = publisher.get();
            boolean bodiless = request.method().equals("GET") || request.method().equals("HEAD");
            if (PublisherBody.isJdkEmpty(p)) {
                if (!bodiless) {
                    b.body(BerthRequest.Body.of(new byte[0])); // Content-Length: 0, as the JDK sends
                }
            } else {
                body = PublisherBody.of(p, timeout.orElse(berth.pool().config().responseTimeout()));
                b.body(body);
                if (request.expectContinue()) {
                    b.expectContinue();
                }
            }
        }
        try {
            return berth.send(b.build(), cancellation);
        } catch (IOException e) {
            throw translate(e, request, body);
        }
    }

    /** @return the request target: raw path (at least {@code /}) and raw query, in ASCII */
    static String target(URI uri) {
        URI u = uri;
        String path = u.getRawPath();
        String query = u.getRawQuery();
        if (!isAscii(path) || !isAscii(query)) {
            u = URI.create(uri.toASCIIString());
            path = u.getRawPath();
            query = u.getRawQuery();
        }
        String target = path == null || path.isEmpty() ? "/" : path;
        return query == null ? target : target + "?" + query;
    }

    private static boolean isAscii(String s) {
        if (s == null) {
            return true;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /** Adds the cookie handler's {@code Cookie} (and {@code Cookie2}) values, after any of the caller's. */
    private void addCookies(URI uri, Map<String, List<String>> headers) throws IOException {
        CookieHandler handler = client.cookieHandlerOrNull();
        if (handler == null) {
            return;
        }
        Map<String, List<String>> cookies = handler.get(uri, headers);
        if (cookies == null) {
            return;
        }
        for (Map.Entry<String, List<String>> e : cookies.entrySet()) {
            String name = e.getKey();
            List<String> values = e.getValue();
            if (name == null || values == null || values.isEmpty()
                    || !(name.equalsIgnoreCase("Cookie") || name.equalsIgnoreCase("Cookie2"))) {
                continue;
            }
            List<String> all = new ArrayList<>(headers.getOrDefault(name, List.of()));
            all.addAll(values);
            headers.put(name, List.of(String.join("; ", all))); // one Cookie field (RFC 6265 §5.4)
        }
    }

    /**
     * Maps a Berth failure onto the exception the JDK's client would throw, keeping Berth's as the
     * cause: timeouts become {@link HttpTimeoutException} (connecting: {@link HttpConnectTimeoutException}),
     * a refused connection reported inside a pool exception becomes {@link ConnectException}; a failure
     * of the request body's publisher is reported as itself rather than as the connection failure it
     * caused.
     */
    private IOException translate(IOException e, HttpRequest request, PublisherBody body) {
        IOException failure = body != null && body.failure() != null ? body.failure() : e;
        if (failure instanceof HttpTimeoutException) {
            return failure;
        }
        if (causedBy(failure, ConnectTimeoutException.class) || causedBy(failure, HandshakeTimeoutException.class)) {
            HttpConnectTimeoutException t = new HttpConnectTimeoutException("connecting to "
                    + BerthHttpClient.origin(request.uri()) + " timed out: " + failure.getMessage());
            t.initCause(failure);
            return t;
        }
        boolean requestTimedOut = request.timeout().isPresent()
                && System.nanoTime() - startNanos >= request.timeout().get().toNanos();
        if (failure instanceof SocketTimeoutException
                || (failure instanceof AcquireTimeoutException && requestTimedOut)) {
            HttpTimeoutException t = new HttpTimeoutException("request timed out: " + request.method() + " "
                    + request.uri() + (requestTimedOut ? " (timeout " + request.timeout().get() + ")" : "") + ": "
                    + failure.getMessage());
            t.initCause(failure);
            return t;
        }
        if (failure instanceof BackendPoolException && !(failure instanceof AcquireTimeoutException)
                && causedBy(failure, ConnectException.class)) {
            ConnectException c = new ConnectException(failure.getMessage());
            c.initCause(failure);
            return c;
        }
        return failure;
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------ redirects

    /** @return the request to follow the response with, or {@code null} to hand the response back */
    private HttpRequest redirect(HttpRequest request, BerthResponse response) {
        HttpClient.Redirect policy = client.followRedirects();
        int status = response.status();
        if (policy == HttpClient.Redirect.NEVER
                || !(status == 301 || status == 302 || status == 303 || status == 307 || status == 308)) {
            return null;
        }
        String location = response.header("Location");
        if (location == null || location.isBlank()) {
            return null;
        }
        URI target;
        try {
            target = request.uri().resolve(new URI(location.trim()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "not following the redirect of " + request.uri() + " to '"
                    + location + "': " + e.getMessage());
            return null;
        }
        String scheme = target.getScheme() == null ? "" : target.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("https") || scheme.equals("http")) || target.getHost() == null) {
            return null;
        }
        if (policy == HttpClient.Redirect.NORMAL && scheme.equals("http")
                && request.uri().getScheme().equalsIgnoreCase("https")) {
            return null; // NORMAL never downgrades from https to http
        }
        String method = request.method();
        // 307 and 308 keep the method and the body: the publisher is subscribed to again, as the JDK's
        // client does (ofInputStream calls its supplier again); one that cannot be fails the hop.
        boolean toGet = status != 307 && status != 308;
        boolean sameOrigin = BerthHttpClient.origin(request.uri()).equals(BerthHttpClient.origin(target));
        HttpRequest.Builder b = HttpRequest.newBuilder(request, (name, value) -> {
            if (toGet && (name.equalsIgnoreCase("Content-Type") || name.equalsIgnoreCase("Content-Encoding"))) {
                return false; // the body they describe is dropped
            }
            return sameOrigin || !name.equalsIgnoreCase("Authorization");
        });
        b.uri(target);
        if (toGet) {
            if (method.equals("HEAD")) {
                b.method("HEAD", HttpRequest.BodyPublishers.noBody());
            } else {
                b.GET();
            }
        }
        return b.build();
    }

    // ------------------------------------------------------------------ the body

    private HttpResponse<T> deliver(BerthHttpResponse<T> head, BerthResponse response)
            throws IOException, InterruptedException {
        BodySubscriber<T> subscriber;
        try {
            subscriber = handler.apply(head);
            if (subscriber == null) {
                throw new NullPointerException("BodyHandler " + handler + " returned null");
            }
        } catch (RuntimeException | Error e) {
            response.close();
            throw e;
        }
        holds.incrementAndGet(); // released once the pump closed the response
        BodyPump p = new BodyPump(response, subscriber, client.executorForBodies(), this::release);
        pump = p;
        CompletableFuture<T> body;
        try {
            subscriber.onSubscribe(p);
            body = subscriber.getBody().toCompletableFuture();
        } catch (RuntimeException | Error e) {
            p.abort();
            throw e;
        }
        p.pumpUntil(body);
        T value;
        try {
            value = body.get();
        } catch (ExecutionException e) {
            throw bodyFailure(e.getCause());
        }
        return new BerthHttpResponse<>(head.request(), head.statusCode(), head.headers(),
                head.previousResponse().orElse(null), value, head.version());
    }

    private static IOException bodyFailure(Throwable t) {
        if (t instanceof IOException) {
            return (IOException) t;
        }
        if (t instanceof RuntimeException) {
            throw (RuntimeException) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        return new IOException("the response body failed: " + t, t);
    }

    @Override
    public String toString() {
        return "Exchange[" + original.method() + " " + original.uri() + "]";
    }
}
