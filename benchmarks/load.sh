#!/usr/bin/env bash
# Loopback load test: A/B pairs driven by wrk in alternating, bounded runs. See BENCHMARKS.md.
#   benchmarks/load.sh --quick   about three minutes: 2 rounds of 5 s per side and pair
#   benchmarks/load.sh           the full run: 5 rounds of 20 s per side and pair
# Environment: PORT (default 18180; the logging server uses PORT+1), CONNECTIONS (32), THREADS (2), JAVA (java),
#   LOG_FILE (where the reader of the logging server's stdout writes it, default /dev/null).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=5; DURATION=20; WARMUP=10
if [ "${1:-}" = "--quick" ]; then ROUNDS=2; DURATION=5; WARMUP=3; fi
PORT="${PORT:-18180}"; CONNECTIONS="${CONNECTIONS:-32}"; THREADS="${THREADS:-2}"; JAVA="${JAVA:-java}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "== wrk not found: installing Debian's wrk package"
  SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

echo "== building benchmarks/target/benchmarks.jar"
mvn -q -pl benchmarks -am package -DskipTests

# Two servers: one logging to the no-op backend (the Backstop-versus-baseline pairs), one logging through logback to
# standard output, piped to a reader that writes LOG_FILE, as a container runtime collects a service's logs (the
# log-storm pair: Jetty writes a stack per failure, Backstop folds identical ones).
LOG_PORT=$((PORT + 1)); LOG_FILE="${LOG_FILE:-/dev/null}"
SERVERS=()
trap 'kill "${SERVERS[@]}" 2>/dev/null || true' EXIT
start_server() { # port, where its standard output goes, then JVM options
  local port=$1 out=$2; shift 2
  if [ "$out" = "-" ]; then
    "$JAVA" "$@" -cp benchmarks/target/benchmarks.jar dev.backstop.benchmarks.LoadServer "$port" >/dev/null 2>&1 &
  else
    "$JAVA" "$@" -cp benchmarks/target/benchmarks.jar dev.backstop.benchmarks.LoadServer "$port" \
      > >(cat > "$out") 2>/dev/null &
  fi
  SERVERS+=($!)
  for _ in $(seq 1 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/with/hello" && return 0
    sleep 0.2 # polling for the server to listen
  done
  echo "the load server on port $port did not start" >&2; exit 1
}
start_server "$PORT" - -Dslf4j.provider=org.slf4j.nop.NOPServiceProvider
start_server "$LOG_PORT" "$LOG_FILE" -Dslf4j.provider=ch.qos.logback.classic.spi.LogbackServiceProvider \
  -Dlogback.configurationFile=load-logback.xml
echo "== $("$JAVA" -version 2>&1 | head -n 1); wrk -t$THREADS -c$CONNECTIONS; $ROUNDS rounds of ${DURATION}s per side, A and B alternating"

RESULTS=$(mktemp)
run() { # label url
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION"s --latency "$2" | awk -v label="$1" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%s %s %s %s\n", label, rps, p50, p99 }' >> "$RESULTS"
}

PAIRS=(
  "hello|$PORT|/with/hello|/without/hello|RecoveryFilter vs no filter|0.97"
  "throw|$PORT|/with/throw|/without/throw|RecoveryFilter vs Jetty's error handling|0.95"
  "fanout|$PORT|/with/fanout-childtasks|/with/fanout-completablefuture|ChildTasks vs CompletableFuture (8 children)|0.97"
  "storm|$LOG_PORT|/with/throw|/without/throw|Log storm: RecoveryFilter (folding) vs Jetty, both logging to stdout|2.5"
)
for pair in "${PAIRS[@]}"; do
  IFS='|' read -r name port a b _ _ <<<"$pair"
  warmup=$WARMUP
  if [ "$name" = "storm" ] && [ "$warmup" -lt 10 ]; then
    warmup=10 # the logging server's JIT takes about 15 s to settle on these paths
  fi
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$warmup"s "http://127.0.0.1:$port$a" >/dev/null
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$warmup"s "http://127.0.0.1:$port$b" >/dev/null
  for _ in $(seq 1 "$ROUNDS"); do
    run "$name-A" "http://127.0.0.1:$port$a"
    run "$name-B" "http://127.0.0.1:$port$b"
  done
done

python3 - "$RESULTS" "${PAIRS[@]}" <<'PY'
import sys, statistics
rows = [line.split() for line in open(sys.argv[1])]
def agg(label):
    runs = [r for r in rows if r[0] == label]
    return (statistics.mean(float(r[1]) for r in runs), statistics.median(float(r[2]) for r in runs),
            statistics.median(float(r[3]) for r in runs))
print()
print("| pair | A | B | A req/s | B req/s | A/B | target | met | A p50 / p99 ms | B p50 / p99 ms |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
for pair in sys.argv[2:]:
    name, _, a, b, what, target = pair.split("|")
    ar, a50, a99 = agg(name + "-A")
    br, b50, b99 = agg(name + "-B")
    ratio = ar / br
    print(f"| {what} | `{a}` | `{b}` | {ar:,.0f} | {br:,.0f} | {ratio:.3f} | >= {target} | "
          f"{'yes' if ratio >= float(target) else 'no'} | {a50:.2f} / {a99:.2f} | {b50:.2f} / {b99:.2f} |")
PY
