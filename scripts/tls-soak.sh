#!/usr/bin/env bash
# TLS soak: shows that MoonBeam's TLS (native BoringSSL by default) gives back what connections
# take. Starts MoonBeam (one loop) in front of one nginx origin, then:
#   1. warms up with new-connection handshakes for --warmup seconds (the baseline RSS is taken after),
#   2. runs --handshakes full handshakes with parallel `openssl s_time -new` clients,
#   3. opens --idle keep-alive TLS connections (one request each), holds them, closes them all,
# and prints RSS at each step plus the live TLS sessions the proxy reports (moonbeam_tls_sessions,
# which must be 0 at the end). With --wrk S, wrk (keep-alive TLS, 100-byte responses) also runs for
# S seconds before the idle crowd opens and again while the first round holds it, and the report
# gives RSS and wrk's p99 for both: what 20,000 idle connections cost the active traffic.
# Loopback only; every loop is bounded; everything started is stopped.
# Usage: scripts/tls-soak.sh --help
set -euo pipefail

home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$home/scripts/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/tls-soak.sh [options]

  --handshakes N   full handshakes to run (default 200000)
  --idle N         idle TLS connections to open and close (default 20000; the proxy needs ~N+300
                   open files: with a hard limit of 20000, give 19500)
  --idle-rounds R  how many times to open and close them (default 2: the second round shows
                   whether the first one's growth is kept pools and heap or a leak)
  --warmup S       seconds of handshakes before the baseline RSS (default 20)
  --clients K      parallel openssl s_time clients (default 4)
  --provider P     ssl.provider of MoonBeam: native, jdk or auto (default native)
  --settle S       seconds to wait after the idle connections closed before reading RSS (default
                   20: MoonBeam trims its heap once 10-15 s after a crowd of connections left)
  --max-seconds S  stop the handshake phase after this long even if N is not reached (default 900)
  --wrk S          also run wrk (keep-alive TLS, 100 B) for S seconds without and then with the
                   first round's idle connections held, and report RSS and p99 latency of both
                   (default 0 = off; needs wrk: apt-get install wrk)
  --wrk-connections C  wrk's connections (default 50, one thread)
  --port P         MoonBeam's port (default 29543)
  --origin-port P  the nginx origin's port (default 29181)
  --admin-port P   MoonBeam's admin port (default 29902)
  --help           this text
EOF
}

die() { echo "tls-soak.sh: $*" >&2; exit 1; }
say() { echo "tls-soak.sh: $*" >&2; }

handshakes=200000 idle=20000 idle_rounds=2 warmup=20 clients=4 provider=native max_seconds=900 port=29543 settle=20
wrk_seconds=0 wrk_connections=50 origin_port=29181 admin_port=29902
while [ "$#" -gt 0 ]; do
  case "$1" in
    --handshakes) need_arg "$@"; handshakes="$2"; shift 2 ;;
    --idle) need_arg "$@"; idle="$2"; shift 2 ;;
    --settle) need_arg "$@"; settle="$2"; shift 2 ;;
    --idle-rounds) need_arg "$@"; idle_rounds="$2"; shift 2 ;;
    --warmup) need_arg "$@"; warmup="$2"; shift 2 ;;
    --clients) need_arg "$@"; clients="$2"; shift 2 ;;
    --provider) need_arg "$@"; provider="$2"; shift 2 ;;
    --max-seconds) need_arg "$@"; max_seconds="$2"; shift 2 ;;
    --port) need_arg "$@"; port="$2"; shift 2 ;;
    --origin-port) need_arg "$@"; origin_port="$2"; shift 2 ;;
    --admin-port) need_arg "$@"; admin_port="$2"; shift 2 ;;
    --wrk) need_arg "$@"; wrk_seconds="$2"; shift 2 ;;
    --wrk-connections) need_arg "$@"; wrk_connections="$2"; shift 2 ;;
    --help|-h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for n in "$handshakes" "$idle" "$idle_rounds" "$warmup" "$clients" "$max_seconds" "$wrk_seconds" "$wrk_connections" \
    "$port" "$origin_port" "$admin_port"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "counts and seconds must be whole numbers"
done
need_tool nginx nginx-light
need_tool openssl openssl
need_tool curl curl
[ "$wrk_seconds" -eq 0 ] || need_tool wrk wrk
[ -z "$install_hint" ] || die "missing tools; install them (as root: apt-get install -y$install_hint)"
if [ "$(ulimit -n)" -lt $((idle + 400)) ]; then
  # root may raise the hard limit too; others get the message below
  ulimit -Hn $((idle + 4000)) 2>/dev/null || true
  ulimit -n $((idle + 4000)) 2>/dev/null || die "needs more than $idle open files (ulimit -n; ulimit -Hn is $(ulimit -Hn))"
fi
for p in "$port" "$origin_port" "$admin_port"; do port_busy "$p" && die "port $p is in use"; done

prepare_tls_work moonbeam-soak
head -c 100 /dev/zero | tr '\0' 'x' >"$work/100b" # wrk's response body
start_static_origin "$work" "$origin_port" || die "the nginx origin did not start"

# Idle connections hold no backend connection, so more of them fit than the default cap
# (half the open-file limit, for clients that each need a backend too) allows. Opening 20,000 of
# them takes longer than the default 60 s keep-alive idle timeout, which would close the first
# ones while they are meant to be held: client_idle outlasts the holder's 600 s.
cat >"$work/config.json" <<JSON
{"listen": "127.0.0.1:$port", "threads": 1, "backend_servers": ["127.0.0.1:$origin_port"], "log": {"file": null},
 "admin": {"listen": "127.0.0.1:$admin_port"}, "timeouts": {"client_idle": "15m"},
 "limits": {"max_client_connections": $((idle + 1000))},
 "ssl": {"cert_file": "$work/cert.pem", "key_file": "$work/key.pem", "provider": "$provider"}}
JSON
"$home/scripts/moonbeam.sh" --config "$work/config.json" >"$work/proxy.log" 2>&1 &
proxy=$!; pids+=("$proxy")
wait_port "$proxy" "$port" || { cat "$work/proxy.log" >&2; die "MoonBeam did not start"; }

rss() { awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$proxy/status"; }
metric() { curl -s "http://127.0.0.1:$admin_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
served_by="$(curl -s "http://127.0.0.1:$admin_port/metrics" | sed -n 's/^moonbeam_tls_provider_info{\(.*\)} 1$/\1/p')"

# active_traffic LABEL TAG: wrk for --wrk seconds (one thread, keep-alive, TLS, 100-byte
# responses); logs its rate, p99 and the RSS when it ended under LABEL, and adds them to the report
# (except for the tag warmup).
active_traffic() {
  timeout $((wrk_seconds + 30)) wrk -t1 -c"$wrk_connections" -d"${wrk_seconds}s" --latency \
    "https://127.0.0.1:$port/100b" >"$work/wrk.$2" 2>&1 || true
  local rss_now p99 rps errors
  rss_now=$(rss)
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.$2")
  rps=$(awk '$1 == "Requests/sec:" {print int($2)}' "$work/wrk.$2")
  errors=$(sed -n 's/^ *\(Non-2xx.*\|Socket errors.*\)$/\1/p' "$work/wrk.$2" | tr '\n' ' ')
  [ -n "$p99" ] || { cat "$work/wrk.$2" >&2; die "wrk gave no latency distribution"; }
  say "wrk $1: $rps req/s, p99 $p99, RSS $rss_now MB $errors"
  [ "$2" != warmup ] || return 0
  wrk_lines+="$(printf '%-44s %6s   %9s   %7s req/s' "$1" "$rss_now" "$p99" "$rps") $errors
"
}
wrk_lines=""

# handshakes SECONDS: runs the s_time clients for that long; prints how many connections completed.
handshakes_for() {
  local k total=0 n client_pids=()
  for k in $(seq 1 "$clients"); do
    timeout $(($1 + 30)) openssl s_time -connect "127.0.0.1:$port" -new -time "$1" -www /ok \
      >"$work/s_time.$k" 2>&1 &
    client_pids+=("$!")
  done
  for k in "${client_pids[@]}"; do wait "$k" 2>/dev/null || true; done
  for k in $(seq 1 "$clients"); do
    n=$(sed -n 's/^\([0-9]*\) connections in .* real seconds.*/\1/p' "$work/s_time.$k" | head -n1)
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

rss_start=$(rss)
[ -z "${SOAK_NMT:-}" ] || { sleep 1; }
say "MoonBeam pid $proxy, $served_by; RSS at start ${rss_start} MB"
handshakes_for "$warmup" >/dev/null
sleep 2
rss_base=$(rss)
say "after ${warmup}s of handshake warm-up: RSS ${rss_base} MB (the baseline)"

done_handshakes=0 started=$SECONDS peak=$rss_base
while [ "$done_handshakes" -lt "$handshakes" ] && [ $((SECONDS - started)) -lt "$max_seconds" ]; do
  done_handshakes=$((done_handshakes + $(handshakes_for 10)))
  now=$(rss); [ "$now" -gt "$peak" ] && peak=$now
  say "  $done_handshakes handshakes, RSS ${now} MB, live TLS sessions $(metric moonbeam_tls_sessions)"
done
elapsed=$((SECONDS - started))
sleep 3
rss_after_handshakes=$(rss)

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }'; }
idle_lines=""
if [ "$wrk_seconds" -gt 0 ]; then
  # The first run compiles the keep-alive path (and warms the origin): measured, it looked twice
  # as slow as the same load run later. Not reported.
  active_traffic "warm-up (not reported)" warmup
  active_traffic "no idle connections" quiet
fi
for idle_round in $(seq 1 "$idle_rounds"); do
  "$java" -Xss256k -cp "target/test-classes:target/moonbeam.jar" dev.moonbeam.tools.IdleTlsClients \
    127.0.0.1 "$port" "$idle" 600 >"$work/idle.log" 2>&1 &
  holder=$!; pids+=("$holder")
  for _ in $(seq 1 600); do grep -q '^open' "$work/idle.log" 2>/dev/null && break; sleep 0.5; done
  grep -q '^open' "$work/idle.log" || { cat "$work/idle.log" >&2; die "the idle clients did not all connect"; }
  sleep 2
  rss_idle=$(rss) sessions_idle=$(metric moonbeam_tls_sessions)
  if [ "$wrk_seconds" -gt 0 ] && [ "$idle_round" = 1 ]; then
    active_traffic "$idle idle TLS connections held" crowd
    say "  live TLS sessions after wrk: $(metric moonbeam_tls_sessions) (the idle ones: $sessions_idle)"
  fi
  kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true
  sessions_end=""
  for _ in $(seq 1 100); do # up to 20 s for the proxy to see every close
    sessions_end=$(metric moonbeam_tls_sessions)
    [ "$sessions_end" = 0 ] && break
    sleep 0.2
  done
  sleep "$settle"
  rss_end=$(rss)
  pooled=$(( $(metric 'moonbeam_buffer_bytes{loop="loop-0"}' | cut -d. -f1) / 1048576 ))
  say "idle round $idle_round: RSS ${rss_idle} MB with $idle connections, ${rss_end} MB after they closed, of which ${pooled} MB pooled buffers; session cache $(metric moonbeam_tls_session_cache_entries) entries"
  idle_lines+="round $idle_round: $idle idle TLS connections open   $(printf '%6s' "$rss_idle")   $(pct "$rss_idle" "$rss_base")   $sessions_idle
round $idle_round: after they all closed           $(printf '%6s' "$rss_end")   $(pct "$rss_end" "$rss_base")   $sessions_end   (pooled buffers ${pooled} MB)
"
done

# What is left once the JVM has collected: direct buffers dropped by a full pool are freed only
# when their objects are, so this separates "garbage not yet collected" from "held".
rss_gc=""
if [ -x "$jcmd" ] && "$jcmd" "$proxy" GC.run >/dev/null 2>&1; then
  sleep 3
  rss_gc=$(rss)
  [ -z "${SOAK_NMT:-}" ] || "$jcmd" "$proxy" VM.native_memory summary >"$SOAK_NMT" 2>&1 || true
  [ -z "${SOAK_HISTO:-}" ] || { "$jcmd" "$proxy" GC.heap_info; "$jcmd" "$proxy" GC.class_histogram | head -25; } >"$SOAK_HISTO" 2>&1 || true
fi

cat <<EOF

MoonBeam TLS soak, $(date -u +%Y-%m-%dT%H:%M:%SZ) — $served_by, Java $(java_major "$java")
step                                   RSS MB   vs baseline   live TLS sessions
started                                 $(printf '%6s' "$rss_start")
after ${warmup}s handshake warm-up (baseline) $(printf '%6s' "$rss_base")
after $done_handshakes handshakes (${elapsed}s) $(printf '%6s' "$rss_after_handshakes")   $(pct "$rss_after_handshakes" "$rss_base")   (peak $peak MB)
${idle_lines%$'\n'}
after a full GC (jcmd GC.run)           $(printf '%6s' "${rss_gc:--}")   $([ -n "$rss_gc" ] && pct "$rss_gc" "$rss_base")
EOF
if [ -n "$wrk_lines" ]; then
  printf '\nwrk -t1 -c%s -d%ss, keep-alive TLS, 100 B   RSS MB when wrk ended   p99   rate\n%s' \
    "$wrk_connections" "$wrk_seconds" "$wrk_lines"
fi
[ "$sessions_end" = 0 ] || { echo "tls-soak.sh: $sessions_end TLS sessions still live after every client closed" >&2; exit 1; }
