package io.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.berth.testing.ManualPurgeScheduler;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class OutcomeAndSchedulerTest {

    @Test
    void keepAliveWithoutHintsIsTheReusableConstant() {
        assertThat(Outcome.keepAlive(null, -1)).isSameAs(Outcome.REUSABLE);
        Outcome o = Outcome.keepAlive(Duration.ofSeconds(5), 100);
        assertThat(o.reusable()).isTrue();
        assertThat(o.keepAliveTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(o.keepAliveMax()).isEqualTo(100);
        assertThat(Outcome.BROKEN.closeReason()).isEqualTo(CloseReason.BROKEN);
        assertThat(Outcome.NOT_REUSABLE.reusable()).isFalse();
        assertThatThrownBy(() -> Outcome.keepAlive(Duration.ofSeconds(-1), 1))
                .hasMessage("keep-alive timeout must not be negative but was PT-1S");
        assertThatThrownBy(() -> Outcome.keepAlive(null, -2)).hasMessage("keep-alive max must be -1 or >= 0 but was -2");
    }

    @Test
    void manualSchedulerRunsOnlyWhenTold() {
        ManualPurgeScheduler s = new ManualPurgeScheduler();
        AtomicInteger runs = new AtomicInteger();
        s.schedule(runs::incrementAndGet, 5, TimeUnit.SECONDS);
        Future<?> cancelled = s.schedule(runs::incrementAndGet, 1, TimeUnit.SECONDS);
        assertThat(s.lastDelay(TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(cancelled.cancel(false)).isTrue();
        assertThat(s.pending()).isEqualTo(1);
        assertThat(runs).hasValue(0);
        assertThat(s.runPending()).isEqualTo(1);
        assertThat(runs).hasValue(1);
        assertThat(s.pending()).isZero();
        assertThat(s.lastDelay(TimeUnit.SECONDS)).isEqualTo(-1);
    }

    @Test
    void sharedSchedulerThreadLivesOnlyWhileTasksArePending() throws Exception {
        SharedPurgeScheduler s = SharedPurgeScheduler.INSTANCE;
        CountDownLatch ran = new CountDownLatch(1);
        Future<?> pending = s.schedule(() -> { }, 1, TimeUnit.HOURS);
        s.schedule(ran::countDown, 0, TimeUnit.MILLISECONDS);
        assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(s.isRunning()).isTrue();
        assertThat(Thread.getAllStackTraces().keySet()).anyMatch(t -> t.getName().equals("berth-purge"));
        pending.cancel(false);
        // The task that counted down is counted done only after it returns, on the purge thread,
        // which a busy machine may not have run yet: the scheduler stops once both are done.
        await().atMost(Duration.ofSeconds(5)).until(() -> !s.isRunning());
        await().atMost(Duration.ofSeconds(5)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().equals("berth-purge") && t.isAlive()));
    }
}
