package io.berth.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.berth.AcquireTimeoutException;
import io.berth.Lease;
import io.berth.Outcome;
import io.berth.PoolStats;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The pool under pressure: 56 callers beyond 8 connections on each server, for a backend of one
 * server and of three (the limit is per server, so the pool is first filled on every server).
 */
@ParameterizedClass(name = "{0} server(s)")
@ValueSource(ints = {1, 3})
class PressureTest {
    @Parameter
    int servers;

    @Test
    @Timeout(60)
    void fiftySixCallersBeyondEightConnectionsPerServerAreServedFirstInFirstOut() throws Exception {
        try (PoolFixture f = new PoolFixture(servers, b -> b.maxConnections(8)
                .acquireTimeout(Duration.ofSeconds(30)))) {
            List<Lease> held = f.fill();
            List<Integer> served = new CopyOnWriteArrayList<>();
            ConcurrentLinkedQueue<Lease> toRelease = new ConcurrentLinkedQueue<>();
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 56; i++) {
                int me = i;
                Thread t = new Thread(() -> {
                    try {
                        Lease l = f.pool.acquire(true);
                        toRelease.add(l); // before it counts as served: the main thread then takes it
                        served.add(me);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, "caller-" + i);
                callers.add(t);
                t.start();
                int expected = i + 1;
                // Counted, and parked: a caller counts itself before it joins the queue, so only once
                // it is parked is its place in the queue (its arrival) certain.
                await().pollInterval(Duration.ofMillis(1)).until(() -> f.pool.waitingCount() == expected
                        && t.getState() == Thread.State.TIMED_WAITING);
            }
            // Release one connection at a time and wait until it is served: each release must go to the
            // longest waiter, so the order of service is the order of arrival.
            java.util.ArrayDeque<Lease> releasable = new java.util.ArrayDeque<>(held);
            for (int i = 0; i < 56; i++) {
                f.pool.release(releasable.poll(), Outcome.REUSABLE);
                int expected = i + 1;
                await().pollInterval(Duration.ofMillis(1)).until(() -> served.size() == expected);
                releasable.add(toRelease.poll());
            }
            for (Thread t : callers) {
                t.join();
            }
            for (Lease l : releasable) {
                f.pool.release(l, Outcome.REUSABLE);
            }
            List<Integer> expectedOrder = new ArrayList<>();
            for (int i = 0; i < 56; i++) {
                expectedOrder.add(i);
            }
            assertThat(served).as("FIFO service").containsExactlyElementsOf(expectedOrder);
            PoolStats s = f.pool.stats();
            assertThat(s.opened()).isEqualTo(f.capacity());
            assertThat(s.acquireWaits()).isEqualTo(56);
            assertThat(s.idle()).isEqualTo(f.capacity());
        }
    }

    @Test
    @Timeout(60)
    void waitsAreBoundedByTheAcquireTimeoutAndCarryThePoolsCounts() throws Exception {
        Duration timeout = Duration.ofMillis(200);
        try (PoolFixture f = new PoolFixture(servers, b -> b.maxConnections(8).acquireTimeout(timeout))) {
            List<Lease> held = f.fill();
            int capacity = f.capacity();
            List<AcquireTimeoutException> timeouts = new CopyOnWriteArrayList<>();
            AtomicInteger overLong = new AtomicInteger();
            List<Thread> callers = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                Thread t = new Thread(() -> {
                    long start = System.nanoTime();
                    try {
                        f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
                    } catch (AcquireTimeoutException e) {
                        timeouts.add(e);
                        if (System.nanoTime() - start > timeout.toNanos() + Duration.ofSeconds(2).toNanos()) {
                            overLong.incrementAndGet();
                        }
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                callers.add(t);
                t.start();
            }
            for (Thread t : callers) {
                t.join();
            }
            assertThat(timeouts).hasSize(64);
            assertThat(overLong).as("waits beyond the timeout plus slack").hasValue(0);
            assertThat(timeouts).allSatisfy(e -> {
                assertThat(e.waited()).isGreaterThanOrEqualTo(timeout);
                assertThat(e.total()).isEqualTo(capacity);
                assertThat(e.inUse()).isEqualTo(capacity);
                assertThat(e.idle()).isZero();
                assertThat(e.waiting()).isBetween(1, 64);
                assertThat(e.getMessage()).contains("maxConnections=8").contains("pool 'test'");
            });
            for (Lease l : held) {
                f.pool.release(l, Outcome.REUSABLE);
            }
            PoolStats s = f.pool.stats();
            assertThat(s.waiting()).isZero();
            assertThat(s.acquireTimeouts()).isEqualTo(64);
            assertThat(s.idle()).isEqualTo(capacity);
            // Nothing stuck: the pool still serves.
            f.pool.release(f.pool.acquire(true), Outcome.REUSABLE);
        }
    }
}
