package io.berth.pool.jdk;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Optional;
import javax.net.ssl.SSLSession;

/**
 * A response of {@link BerthHttpClient}. Intermediate responses (redirects) have a {@code null} body,
 * as in the JDK's client. {@link #sslSession()} is always empty: Berth's connections are pooled and
 * their TLS sessions are not exposed per exchange. {@link #version()} says which protocol carried the
 * exchange: {@link HttpClient.Version#HTTP_2} or {@link HttpClient.Version#HTTP_1_1} (an
 * {@code HTTP/1.0} answer is reported as 1.1: the JDK's enum has no 1.0).
 *
 * <p>Immutable (the body object itself may not be) and thread-safe.
 */
final class BerthHttpResponse<T> implements HttpResponse<T>, HttpResponse.ResponseInfo {
    private final HttpRequest request;
    private final int statusCode;
    private final HttpHeaders headers;
    private final HttpResponse<T> previous;
    private final T body;
    private final HttpClient.Version version;

    BerthHttpResponse(HttpRequest request, int statusCode, HttpHeaders headers, HttpResponse<T> previous, T body,
            HttpClient.Version version) {
        this.version = version;
        this.request = request;
        this.statusCode = statusCode;
        this.headers = headers;
        this.previous = previous;
        this.body = body;
    }

    @Override
    public int statusCode() {
        return statusCode;
    }

    @Override
    public HttpRequest request() {
        return request;
    }

    @Override
    public Optional<HttpResponse<T>> previousResponse() {
        return Optional.ofNullable(previous);
    }

    @Override
    public HttpHeaders headers() {
        return headers;
    }

    @Override
    public T body() {
        return body;
    }

    @Override
    public Optional<SSLSession> sslSession() {
        return Optional.empty();
    }

    @Override
    public URI uri() {
        return request.uri();
    }

    @Override
    public HttpClient.Version version() {
        return version;
    }

    @Override
    public String toString() {
        return "(" + request.method() + " " + request.uri() + ") " + statusCode;
    }
}
