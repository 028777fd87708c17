package io.berth.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * nginx's {@code stub_status} counters, read over plain HTTP/1.0. {@code accepts} counts the
 * connections nginx accepted, so its change across a window is how many connections the clients
 * opened in it, seen from the server. Each read is itself one accepted connection and one request,
 * which {@link #connectionsSince} and {@link #requestsSince} take off. The answer names the worker's
 * pid ({@code X-Worker-Pid}), whose CPU time {@code /proc} gives: what the server spent, so that a
 * client's cost to the server per request can be compared too, and its scheduler statistics
 * ({@code /proc/<pid>/schedstat}, in nanoseconds): how long it ran and how long it waited, runnable,
 * for a CPU. With one worker, nginx is the bottleneck when it is runnable all the time; then what a
 * client costs it, and the CPU the client's own threads take from it, set the client's throughput.
 *
 * @param accepts connections accepted since nginx started
 * @param requests requests served since nginx started
 * @param workerCpuNanos the worker's CPU time (user and kernel, in 10 ms ticks), or -1 where it
 *     cannot be read (no pid in the answer, no {@code /proc})
 * @param workerRunNanos the worker's time on a CPU, from its schedstat, or -1 where unknown
 * @param workerWaitNanos the worker's time runnable but waiting for a CPU, or -1 where unknown
 */
record NginxStatus(long accepts, long requests, long workerCpuNanos, long workerRunNanos, long workerWaitNanos) {

    static NginxStatus read(Target target) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(target.host(), target.statusPort()), 5_000);
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /status HTTP/1.0\r\nHost: " + target.host() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            // Active connections: 1
            // server accepts handled requests
            //  10 10 12
            // Reading: 0 Writing: 1 Waiting: 0
            int i = text.indexOf("server accepts handled requests");
            if (!text.startsWith("HTTP/1.1 200") || i < 0) {
                throw new IOException("unexpected stub_status answer: " + text);
            }
            String[] n = text.substring(i).split("\n")[1].trim().split("\\s+");
            String pid = workerPid(text);
            long[] sched = schedstat(pid);
            return new NginxStatus(Long.parseLong(n[0]), Long.parseLong(n[2]), workerCpuNanos(pid), sched[0], sched[1]);
        }
    }

    /** @return the worker's pid from the status answer, or null */
    private static String workerPid(String answer) {
        int i = answer.indexOf("X-Worker-Pid: ");
        return i < 0 ? null : answer.substring(i + 14, answer.indexOf('\r', i)).trim();
    }

    private static long workerCpuNanos(String pid) {
        if (pid == null) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // utime and stime, fields 14 and 15; USER_HZ is 100 on Linux
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** @return the time on a CPU and the time waiting for one, in nanoseconds; -1s where unknown */
    private static long[] schedstat(String pid) {
        if (pid == null) {
            return new long[] {-1, -1};
        }
        try {
            String[] f = Files.readString(Path.of("/proc", pid, "schedstat")).trim().split(" ");
            return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1}; // a kernel without CONFIG_SCHEDSTATS has no such file
        }
    }

    /** @return the worker's CPU time between {@code before} and this read, or -1 if unknown */
    long workerCpuSince(NginxStatus before) {
        return since(workerCpuNanos, before.workerCpuNanos);
    }

    /** @return the worker's time on a CPU between {@code before} and this read, or -1 if unknown */
    long workerRunSince(NginxStatus before) {
        return since(workerRunNanos, before.workerRunNanos);
    }

    /** @return the worker's time runnable but waiting for a CPU between {@code before} and this read, or -1 */
    long workerWaitSince(NginxStatus before) {
        return since(workerWaitNanos, before.workerWaitNanos);
    }

    /** @return {@code now - before}, or -1 if either is unknown (-1) */
    private static long since(long now, long before) {
        return now < 0 || before < 0 ? -1 : now - before;
    }

    /** @return the connections accepted between {@code before} and this read, other than this read's own */
    long connectionsSince(NginxStatus before) {
        return accepts - before.accepts - 1;
    }

    /** @return the requests served between {@code before} and this read, other than this read's own */
    long requestsSince(NginxStatus before) {
        return requests - before.requests - 1;
    }
}
