#!/usr/bin/env bash
# The end-to-end benchmarks of issue 5, in one run: the closed loop (io.berth.e2e.E2eBenchmark) and
# the cold path (io.berth.e2e.ColdPath), against nginx in a separate process over TLS 1.3 on loopback.
#
# It generates a CA and a server certificate (ECDSA P-256) in a temporary directory, writes an
# nginx.conf there, starts nginx in the foreground of a child process (its pid tracked), runs the
# two Java harnesses from the shaded benchmarks jar (their progress and own tables on stderr),
# writes the results as Markdown and prints that file at the end, and stops nginx and removes the
# directory on exit.
#
# nginx has two TLS listeners on the same certificate and locations: HTTP/1.1 on E2E_PORT, and one
# offering h2 (then http/1.1) through ALPN on E2E_H2_PORT, with E2E_H2_STREAMS concurrent streams per
# connection. The HTTP/2 clients (the -h2 ones) run against the second, the others against the
# first, in the same rounds.
#
# Usage (from anywhere; builds the jar with `mvn -B -q -DskipTests package` if it is missing):
#   benchmarks/e2e/run.sh
#   E2E_CONCURRENCY="8 64" E2E_ROUNDS=3 E2E_DURATION=1 benchmarks/e2e/run.sh --out /tmp/e2e.md
#   benchmarks/e2e/run.sh --h2           # the HTTP/2 comparison: the h2 clients, berth and the floor
#
# Settings (environment, or the flag after it):
#   E2E_CONCURRENCY    --concurrency   concurrent callers, a list            "1 8 64"
#   E2E_DURATION       --duration      measured window per client, round, C  2 (seconds)
#   E2E_ROUNDS         --rounds        rounds per C (figures are medians)    5
#   E2E_WARMUP         --warmup        warm-up per client and C, once        3 (seconds)
#   E2E_ROUND_WARMUP   --round-warmup  warm-up before each measured window   0.5 (seconds)
#   E2E_CLIENTS        --clients       which clients                         berth,berth-jdk,okhttp,apache,jdk,jetty,floor
#                                      (also the HTTP/2 ones: berth-h2, berth-jdk-h2, okhttp-h2, jdk-h2,
#                                      jetty-h2, against the h2 listener;
#                                      berth-read: validateAfterIdle 0, a read before every reuse;
#                                      berth-identity: decompressGzip off, so no Accept-Encoding:
#                                      the floor's request, byte for byte;
#                                      berth-conscrypt: Berth over Conscrypt's JSSE provider;
#                                      berth-before: Berth built in E2E_BEFORE, in its own class loader;
#                                      berth-before-h2: that build's berth-h2;
#                                      floor-twin: a second floor, whose ratio to the floor shows
#                                      the run's own resolution;
#                                      floor-nio: the floor over an SSLEngine and a blocking
#                                      SocketChannel, the JDK path Berth's transport takes;
#                                      berth-transport: Berth's transport and codec, one connection
#                                      per caller, without its pool and client)
#   E2E_BODY_BYTES     --body-bytes    bytes of the response body            100
#                                      (nginx returns bodies up to 4000 bytes from its config, larger
#                                      ones from a file: its config cannot hold them)
#   E2E_THREADS        --threads       what callers run on, a list: the     platform
#                                      closed loop runs once per mode:
#                                      platform, virtual (JDK 21+), virtual-per-request (a new virtual
#                                      thread for every request)
#   E2E_BEFORE         --before        a Berth source tree built with        (none)
#                                      `mvn -B -q -DskipTests package`, for berth-before
#   E2E_JAVA           --java          the java launcher of both harnesses   java (e.g. a JDK 25's bin/java)
#   E2E_STRACE         --strace        clients whose syscalls per exchange   (none)
#                                      to count with `strace -c -f` after the runs, e.g. berth,floor
#   E2E_STRACE_C       --strace-c      the C of those counts, a list         "1 8"
#   E2E_LOOP           --loop          run the closed-loop benchmark (1/0)   1
#   E2E_COLD           --cold          run the cold-path benchmark (1/0)     1
#   E2E_COLD_SAMPLES   --cold-samples  connection set-up samples per client  200
#   E2E_SEED_REQUESTS  --seed-requests requests of the seed scenario         40
#   E2E_SEED_GAP_MS    --seed-gap-ms   gap between them                      300
#   E2E_H2             --h2 [1|0]      the HTTP/2 comparison (1/0): changes  0
#                                      the defaults of clients to
#                                      berth-h2,berth-jdk-h2,okhttp-h2,jdk-h2,jetty-h2,berth,floor, of
#                                      concurrency to "1 8 64 256", of warm-up to 5 s (the h2 clients'
#                                      JIT needs longer than 3 s on 2 busy cores) and of cold to 0 (a
#                                      held response does not keep an h2 connection busy: the cold
#                                      path skips h2 clients); settings given explicitly win. About
#                                      8.5 minutes
#   E2E_H2_STREAMS     --h2-streams    nginx http2_max_concurrent_streams    128
#   E2E_PORT           --port          nginx TLS port, HTTP/1.1              18443
#   E2E_H2_PORT        --h2-port       nginx TLS port offering h2            18444
#   E2E_STATUS_PORT    --status-port   nginx stub_status port (plain HTTP)   18080
#   E2E_JAVA_OPTS      --java-opts     JVM flags of both harnesses           "-Xms1g -Xmx1g"
#   E2E_OUT            --out           the Markdown file written             benchmarks/target/e2e/e2e-<time>.md
#   E2E_SERVE          --serve         only start nginx and wait (1/0), to   0
#                                      run a harness by hand, e.g. under a profiler
# With the defaults it takes about 8 minutes; the Markdown file says what ran, on what.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

concurrency=${E2E_CONCURRENCY:-}
duration=${E2E_DURATION:-2}
rounds=${E2E_ROUNDS:-5}
warmup=${E2E_WARMUP:-}
round_warmup=${E2E_ROUND_WARMUP:-0.5}
clients=${E2E_CLIENTS:-}
body_bytes=${E2E_BODY_BYTES:-100}
loop=${E2E_LOOP:-1}
cold=${E2E_COLD:-}
cold_samples=${E2E_COLD_SAMPLES:-200}
seed_requests=${E2E_SEED_REQUESTS:-40}
seed_gap_ms=${E2E_SEED_GAP_MS:-300}
port=${E2E_PORT:-18443}
h2=${E2E_H2:-0}
h2_streams=${E2E_H2_STREAMS:-128}
h2_port=${E2E_H2_PORT:-18444}
status_port=${E2E_STATUS_PORT:-18080}
java_opts=${E2E_JAVA_OPTS:-"-Xms1g -Xmx1g"}
out=${E2E_OUT:-}
serve=${E2E_SERVE:-0}
threads=${E2E_THREADS:-platform}
before=${E2E_BEFORE:-}
java_bin=${E2E_JAVA:-java}
strace_clients=${E2E_STRACE:-}
strace_c=${E2E_STRACE_C:-"1 8"}
command_line="$( (env | grep "^E2E_" || true) | sort | tr "\n" " ")$0 $*"

while [ $# -gt 0 ]; do
  if [ "$1" = --h2 ]; then # a flag, or --h2 1 / --h2 0
    if [ "${2:-}" = 0 ] || [ "${2:-}" = 1 ]; then
      h2=$2
      shift
    else
      h2=1
    fi
    shift
    continue
  fi
  case "$1" in
    --concurrency) concurrency=$2 ;;
    --duration) duration=$2 ;;
    --rounds) rounds=$2 ;;
    --warmup) warmup=$2 ;;
    --round-warmup) round_warmup=$2 ;;
    --clients) clients=$2 ;;
    --body-bytes) body_bytes=$2 ;;
    --loop) loop=$2 ;;
    --cold) cold=$2 ;;
    --cold-samples) cold_samples=$2 ;;
    --seed-requests) seed_requests=$2 ;;
    --seed-gap-ms) seed_gap_ms=$2 ;;
    --port) port=$2 ;;
    --h2-streams) h2_streams=$2 ;;
    --h2-port) h2_port=$2 ;;
    --status-port) status_port=$2 ;;
    --java-opts) java_opts=$2 ;;
    --out) out=$2 ;;
    --serve) serve=$2 ;;
    --threads) threads=$2 ;;
    --before) before=$2 ;;
    --java) java_bin=$2 ;;
    --strace) strace_clients=$2 ;;
    --strace-c) strace_c=$2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift 2
done

# The defaults that --h2 changes, where they were not given.
if [ "$h2" = 1 ]; then
  concurrency=${concurrency:-"1 8 64 256"}
  warmup=${warmup:-5}
  clients=${clients:-berth-h2,berth-jdk-h2,okhttp-h2,jdk-h2,jetty-h2,berth,floor}
  cold=${cold:-0}
elif [ "$h2" != 0 ]; then
  echo "--h2 must be 1 or 0 but was '$h2'" >&2
  exit 2
fi
concurrency=${concurrency:-"1 8 64"}
warmup=${warmup:-3}
clients=${clients:-berth,berth-jdk,okhttp,apache,jdk,jetty,floor}
cold=${cold:-1}
if ! [[ "$h2_streams" =~ ^[0-9]+$ ]] || [ "$h2_streams" -lt 1 ]; then
  echo "--h2-streams must be a number >= 1 but was '$h2_streams'" >&2
  exit 2
fi

# What the closed loop will take; the cold path adds about 1.5 to 2.5 minutes with its defaults.
n_clients=$(echo "$clients" | tr ',' ' ' | wc -w)
n_c=$(echo "$concurrency" | tr ',' ' ' | wc -w)
n_t=$(echo "$threads" | tr ',' ' ' | wc -w)
if [ "$loop" = 1 ] && [ "$serve" != 1 ]; then
  awk -v t="$n_t" -v c="$n_c" -v n="$n_clients" -v w="$warmup" -v r="$rounds" -v rw="$round_warmup" -v d="$duration" \
    'BEGIN { printf "closed loop: about %.0f s (%d thread modes x %d C x %d clients x (%s + %d x (%s + %s)) s)\n",
             t * c * n * (w + r * (rw + d)), t, c, n, w, r, rw, d }' >&2
fi
if [ -n "$before" ]; then
  before=$(cd "$before" && pwd)
  java_opts="$java_opts -Dberth.before=$before"
fi

jar=$root/benchmarks/target/benchmarks.jar
if [ ! -f "$jar" ]; then
  echo "building $jar" >&2
  (cd "$root" && mvn -B -q -DskipTests package)
fi
if [ -z "$out" ]; then
  mkdir -p "$root/benchmarks/target/e2e"
  out=$root/benchmarks/target/e2e/e2e-$(date -u +%Y%m%dT%H%M%SZ).md
fi

# nginx from the distribution, only if it is not there yet.
if ! command -v nginx >/dev/null 2>&1; then
  echo "installing nginx-light" >&2
  apt-get install -y nginx-light >&2
fi

for p in "$port" "$h2_port" "$status_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is in use; pick another with E2E_PORT / E2E_H2_PORT / E2E_STATUS_PORT" >&2
    exit 1
  fi
done

work=$(mktemp -d -t berth-e2e.XXXXXX)
nginx_pid=
cleanup() {
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$nginx_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A CA and a server certificate for 127.0.0.1 and localhost, ECDSA P-256, valid for two days.
(
  cd "$work"
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key
  openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=Berth e2e benchmark CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
  openssl ecparam -name prime256v1 -genkey -noout -out server.key
  openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
    -extfile server.ext -out server.pem 2>/dev/null
) >&2

if ! [[ "$body_bytes" =~ ^[0-9]+$ ]] || [ "$body_bytes" -lt 11 ]; then
  echo "--body-bytes must be a number >= 11 but was '$body_bytes'" >&2
  exit 2
fi
# A fixed body of exactly body_bytes bytes: in nginx's config (return) up to 4000 bytes, else a file.
mkdir -p "$work/temp" "$work/www"
body=$(printf "berth-e2e-%0$((body_bytes - 10))d" 0)
body_length=${#body}
printf '%s' "$body" > "$work/www/body.txt"
chmod 644 "$work/www/body.txt"
if [ "$body_length" -le 4000 ]; then
  body_directive="return 200 \"$body\";"
else
  body_directive="root $work/www; try_files /body.txt =404;"
fi
# The cold path's held response: a 1 MiB file (Target.HOLD_BODY_LENGTH), readable by nginx's worker,
# which runs as another user when nginx is started as root.
head -c 1048576 /dev/zero > "$work/www/hold.bin"
chmod 711 "$work"
chmod 755 "$work/www"
chmod 644 "$work/www/hold.bin"
cat > "$work/nginx.conf" <<EOF
# One worker, so nginx uses at most one of the machine's cores; no access log; keep-alive
# connections, HTTP/1.1 and h2, are never closed by nginx during a run (since nginx 1.19.7,
# keepalive_requests and keepalive_timeout govern h2 connections too).
worker_processes 1;
worker_rlimit_nofile 8192;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path $work/temp/client_body;
    proxy_temp_path $work/temp/proxy;
    fastcgi_temp_path $work/temp/fastcgi;
    uwsgi_temp_path $work/temp/uwsgi;
    scgi_temp_path $work/temp/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    server {
        listen 127.0.0.1:$port ssl;
        # The same server offering h2 through ALPN (nginx 1.22's syntax); clients that offer only
        # http/1.1 get HTTP/1.1 here too.
        listen 127.0.0.1:$h2_port ssl http2;
        http2_max_concurrent_streams $h2_streams;
        ssl_certificate $work/server.pem;
        ssl_certificate_key $work/server.key;
        ssl_protocols TLSv1.3;
        # One cipher suite for every client: left to the clients' preferences, OkHttp would get
        # AES-128-GCM and the JDK-based clients AES-256-GCM.
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
        # Session resumption (TLS 1.3 tickets), for the cold-path benchmark.
        ssl_session_tickets on;
        ssl_session_cache shared:berth_e2e:1m;
        ssl_session_timeout 1h;
        location = / {
            default_type text/plain;
            $body_directive
        }
        # The same response, plus what the connection is: TLS protocol, cipher, HTTP version
        # (HTTP/1.1 or HTTP/2.0), and r if the TLS session was resumed.
        location = /cold {
            default_type text/plain;
            add_header X-TLS "\$ssl_protocol \$ssl_cipher \$server_protocol \$ssl_session_reused" always;
            $body_directive
        }
        # A body too large to be buffered whole by a client: a response left unread keeps its
        # connection busy, so the cold path's next request must open another one.
        location = /hold {
            default_type application/octet-stream;
            add_header X-TLS "\$ssl_protocol \$ssl_cipher \$server_protocol \$ssl_session_reused" always;
            alias $work/www/hold.bin;
        }
    }
    server {
        listen 127.0.0.1:$status_port;
        location = /status {
            stub_status;
            add_header X-Worker-Pid \$pid always;
        }
    }
}
EOF

nginx -p "$work/" -c "$work/nginx.conf" -e "$work/error.log" &
nginx_pid=$!
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$status_port") 2>/dev/null; then
    break
  fi
  if ! kill -0 "$nginx_pid" 2>/dev/null; then
    echo "nginx did not start:" >&2
    cat "$work/error.log" >&2
    exit 1
  fi
  sleep 0.1
done

common=(--ca "$work/ca.pem" --port "$port" --h2-port "$h2_port" --status-port "$status_port"
        --body-length "$body_length" --clients "$clients" --markdown "$out")
if [ "$serve" = 1 ]; then
  echo "nginx is serving; run a harness by hand with these options, e.g.:" >&2
  echo "  java -cp $jar io.berth.e2e.E2eBenchmark ${common[*]}" >&2
  echo "stop with Ctrl-C (or TERM to pid $$)" >&2
  wait "$nginx_pid"
  exit 0
fi

java_version=$("$java_bin" -version 2>&1 | head -3)
cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
{
  echo "# Berth end-to-end benchmarks"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Command: \`$command_line\` (concurrency \"$concurrency\", duration $duration s, rounds $rounds,"\
    "warm-up $warmup s, round warm-up $round_warmup s, clients $clients, loop $loop, cold $cold, cold samples $cold_samples,"\
    "seed requests $seed_requests, seed gap $seed_gap_ms ms, JVM flags \`$java_opts\`)"
  echo "- Machine: $(nproc) CPUs, ${cpu_model:-unknown model}; $(uname -sr)"
  echo "- Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- JDK: $(echo "$java_version" | tr '\n' ' ')"
  if [ -n "$before" ]; then
    echo "- berth-before: built in \`$before\` (commit $(git -C "$before" rev-parse --short HEAD 2>/dev/null || echo '?'));"\
      "berth: this tree (commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ', with uncommitted changes'))"
  fi
  echo "- Server: $(nginx -v 2>&1 | sed 's/^nginx version: //'), 1 worker, TLS 1.3 (TLS_AES_128_GCM_SHA256),"\
    "ECDSA P-256 certificate, $body_length-byte body; $(openssl version); HTTP/1.1 on one listener, h2 through"\
    "ALPN on another (http2_max_concurrent_streams $h2_streams)"
  echo
} > "$out"

if [ "$loop" = 1 ]; then
  for mode in $(echo "$threads" | tr ',' ' '); do
    # shellcheck disable=SC2086 # java_opts is a list of flags
    "$java_bin" $java_opts -cp "$jar" io.berth.e2e.E2eBenchmark "${common[@]}" \
      --concurrency "$concurrency" --duration "$duration" --rounds "$rounds" --warmup "$warmup" \
      --round-warmup "$round_warmup" --threads "$mode" >&2
  done
fi

if [ "$cold" = 1 ]; then
  # shellcheck disable=SC2086
  "$java_bin" $java_opts -cp "$jar" io.berth.e2e.ColdPath "${common[@]}" \
    --samples "$cold_samples" --seed-requests "$seed_requests" --seed-gap-ms "$seed_gap_ms" >&2
fi

# Syscalls per exchange: one client at a time in a closed loop of C platform-thread callers; after
# its warm-up, strace -f attaches to every thread of the JVM for a few seconds, and nginx's request
# count over the same seconds divides the counts (strace slows the client, not the ratio). Counted
# twice: on the callers' own threads (the exchange itself) and on every thread of the JVM.
nginx_requests() {
  curl -s "http://127.0.0.1:$status_port/status" | awk 'NR == 3 { print $3 }'
}
if [ -n "$strace_clients" ]; then
  {
    echo
    echo "## Syscalls per exchange ($(strace -V | head -1))"
    echo
    echo "One client at a time, C platform-thread callers in a closed loop; after a 5 s warm-up, \`strace -f\`"\
      "attaches to every thread of the client's JVM for 5 s; counts are divided by the requests nginx"\
      "served in that time. *Callers*: the syscalls of the caller threads (\`e2e-<client>-*\`), which carry"\
      "the exchange; *JVM*: of every thread (also the JIT, GC and VM threads, and a client's own I/O threads)."\
      "\`futex\` is parking and waking."
    echo
    echo "| client | C | requests | callers: syscalls per exchange | of which | JVM: syscalls per exchange | of which |"
    echo "|---|--:|--:|--:|---|--:|---|"
  } >> "$out"
  for client in $(echo "$strace_clients" | tr ',' ' '); do
    for c in $(echo "$strace_c" | tr ',' ' '); do
      log=$work/strace-$client-$c.log
      # shellcheck disable=SC2086
      "$java_bin" $java_opts -cp "$jar" io.berth.e2e.E2eBenchmark --ca "$work/ca.pem" --port "$port" \
        --h2-port "$h2_port" --status-port "$status_port" --body-length "$body_length" --clients "$client" --concurrency "$c" \
        --warmup 5 --rounds 1 --round-warmup 0 --duration 60 > /dev/null 2> "$log" &
      jvm=$!
      for _ in $(seq 600); do
        grep -q "^C=$c warm-up" "$log" && break # the client's warm-up is over: its measured window runs
        sleep 0.1
      done
      sleep 1
      tids=()
      for t in /proc/$jvm/task/*; do
        tids+=(-p "${t##*/}")
      done
      r0=$(nginx_requests)
      timeout -s INT 5 strace -f -qq -o "$work/strace-$client-$c.txt" "${tids[@]}" 2>/dev/null || true
      r1=$(nginx_requests)
      names=$work/strace-$client-$c.names
      : > "$names"
      for t in /proc/$jvm/task/*; do
        echo "${t##*/} $(cat "$t/comm" 2>/dev/null)" >> "$names"
      done
      kill "$jvm" 2>/dev/null || true
      wait "$jvm" 2>/dev/null || true
      awk -v client="$client" -v c="$c" -v n="$((r1 - r0))" '
        function top(arr, total,   keys, m, k, i, j, t, parts) {
          m = 0; for (k in arr) { keys[++m] = k }
          for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (arr[keys[j]] > arr[keys[i]]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
          parts = ""; for (i = 1; i <= m && i <= 5; i++) parts = parts sprintf("%s%s %.2f", (i > 1 ? ", " : ""), keys[i], arr[keys[i]] / n)
          return parts
        }
        FNR == NR { name[$1] = $2; next }
        $2 ~ /^<\.\.\./ || $2 ~ /^\+\+\+/ || $2 ~ /^---/ { next }
        {
          call = $2; sub(/\(.*/, "", call)
          all[call]++; total++
          if (name[$1] ~ /^e2e-/) { callers[call]++; ctotal++ }
        }
        END {
          printf "| %s | %d | %d | %.2f | %s | %.2f | %s |\n", client, c, n, ctotal / n, top(callers), total / n, top(all)
        }' "$names" "$work/strace-$client-$c.txt" >> "$out"
    done
  done
fi

echo "- Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out"
if [ -s "$work/error.log" ]; then
  echo "nginx error log:" >&2
  tail -20 "$work/error.log" >&2
fi
# The results, all tables, once more at the end (the harnesses' progress went to stderr above).
echo
cat "$out"
echo
echo "written to $out; took $SECONDS s"
