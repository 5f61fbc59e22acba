#!/usr/bin/env bash
# Rolling restart under load, measured: an old MoonBeam serves TLS through two nginx origins while
# wrk drives keep-alive requests (and a second wrk new connections, one request each); midway a
# new MoonBeam starts with --takeover (it warms up, then joins the ports with SO_REUSEPORT), and
# once it listens the old one gets SIGTERM (it stops accepting, drains, exits). Prints failed
# requests and latency for a run without hand-over and one with it, and how long each step took.
# Loopback only; every wait is bounded; everything started is stopped.
# Usage: scripts/rolling-restart.sh --help
set -euo pipefail

home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$home/scripts/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/rolling-restart.sh [options]

  --duration S     seconds of load per run (default 20)
  --handover-at S  when the new process starts, in seconds into the run (default 5)
  --connections C  keep-alive wrk connections (default 50); 10 more make a new connection per request
  --threads N      MoonBeam's loops (default 1)
  --port P         MoonBeam's port (default 29643); origins 29281/29282, admin 29903
  --help           this text
EOF
}

die() { echo "rolling-restart.sh: $*" >&2; exit 1; }
say() { echo "rolling-restart.sh: $*" >&2; }

duration=20 handover_at=5 connections=50 threads=1 port=29643
while [ "$#" -gt 0 ]; do
  case "$1" in
    --duration) need_arg "$@"; duration="$2"; shift 2 ;;
    --handover-at) need_arg "$@"; handover_at="$2"; shift 2 ;;
    --connections) need_arg "$@"; connections="$2"; shift 2 ;;
    --threads) need_arg "$@"; threads="$2"; shift 2 ;;
    --port) need_arg "$@"; port="$2"; shift 2 ;;
    --help|-h) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
for pair in "duration:$duration" "handover-at:$handover_at" "connections:$connections" "threads:$threads" "port:$port"; do
  [[ "${pair#*:}" =~ ^[0-9]+$ ]] || die "--${pair%%:*} must be a whole number"
done
[ "$handover_at" -lt "$duration" ] || die "--handover-at must be less than --duration"
need_tool wrk wrk
need_tool nginx nginx-light
need_tool taskset util-linux
[ -z "$install_hint" ] || die "missing tools; install them (as root: apt-get install -y$install_hint) and run again"
for p in "$port" 29281 29282 29903; do
  port_busy "$p" && die "port $p is in use; pass another --port or stop what holds it"
done

prepare_tls_work moonbeam-rolling
head -c 100 /dev/zero | tr '\0' 'x' >"$work/100b"
start_static_origin "$work" 29281 || die "origin 1 did not start"
mkdir -p "$work/o2" && cp "$work/100b" "$work/o2/" && chmod -R 755 "$work/o2"
start_static_origin "$work/o2" 29282 || die "origin 2 did not start"
cat >"$work/moonbeam.json" <<EOF
{
  "listen": "127.0.0.1:$port",
  "threads": $threads,
  "backend_servers": ["127.0.0.1:29281", "127.0.0.1:29282"],
  "ssl": {"cert_file": "$work/cert.pem", "key_file": "$work/key.pem"},
  "admin": {"listen": "127.0.0.1:29903"},
  "log": {"file": null, "level": "info"}
}
EOF
cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d %.2f %.2f\n", summary.requests,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
EOF

start_moonbeam() { # start_moonbeam NAME [ARGS]: sets moonbeam_pid; the log is $work/NAME.log
  local name="$1"
  shift
  taskset -c 0 "$home/scripts/moonbeam.sh" --config "$work/moonbeam.json" "$@" >"$work/$name.log" 2>&1 &
  moonbeam_pid="$!"
  pids+=("$moonbeam_pid")
}

wait_listening() { # wait_listening PID LOG: until the log says it listens (max 60 s)
  for _ in $(seq 1 600); do
    kill -0 "$1" 2>/dev/null || return 1
    grep -q "listening on" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

run_load() { # run_load NAME: both wrk clients for $duration s in the background
  taskset -c 1 timeout -k 5 $((duration + 30)) wrk -t1 -c"$connections" -d"${duration}s" --timeout 5s --latency \
    -s "$work/report.lua" "https://127.0.0.1:$port/100b" >"$work/$1-keepalive.txt" 2>&1 &
  keepalive_pid="$!"
  taskset -c 1 timeout -k 5 $((duration + 30)) wrk -t1 -c10 -d"${duration}s" --timeout 5s --latency \
    -H "Connection: close" -s "$work/report.lua" "https://127.0.0.1:$port/100b" >"$work/$1-reconnect.txt" 2>&1 &
  reconnect_pid="$!"
  pids+=("$keepalive_pid" "$reconnect_pid")
}

report() { # report NAME KIND
  local line
  line="$(grep '^WRKRESULT' "$work/$1-$2.txt" || true)"
  [ -n "$line" ] || { printf '  %-10s %-10s wrk printed no result: %s\n' "$1" "$2" "$(tr '\n' ' ' <"$work/$1-$2.txt" | cut -c1-120)"; return; }
  read -r _ n c r w s t p50 p99 <<<"$line"
  printf '  %-10s %-10s %9d requests, failed: %d (connect %d, read %d, write %d, status %d, timeout %d), p50 %s ms, p99 %s ms\n' \
    "$1" "$2" "$n" $((c + r + w + s + t)) "$c" "$r" "$w" "$s" "$t" "$p50" "$p99"
}

say "starting the old MoonBeam"
start_moonbeam old
old_pid="$moonbeam_pid"
wait_listening "$old_pid" "$work/old.log" || die "the old MoonBeam did not start: $(tail -n 5 "$work/old.log")"

say "run 1: ${duration}s of load, no hand-over"
run_load steady
wait "$keepalive_pid" "$reconnect_pid" || true

say "run 2: ${duration}s of load; the new MoonBeam starts at ${handover_at}s with --takeover"
run_load handover
t0="$(date +%s%N)"
sleep "$handover_at"
start_moonbeam new --takeover
new_pid="$moonbeam_pid"
wait_listening "$new_pid" "$work/new.log" || die "the new MoonBeam did not start: $(tail -n 5 "$work/new.log")"
t_listen="$(date +%s%N)"
kill -TERM "$old_pid"
for _ in $(seq 1 600); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$old_pid" 2>/dev/null && die "the old MoonBeam did not exit within 60 s of SIGTERM"
t_gone="$(date +%s%N)"
wait "$keepalive_pid" "$reconnect_pid" || true
kill -0 "$new_pid" 2>/dev/null || die "the new MoonBeam exited: $(tail -n 5 "$work/new.log")"

echo
echo "Rolling restart, $(date -u +%Y-%m-%dT%H:%M:%SZ): MoonBeam --threads $threads on CPU 0, wrk and two nginx origins on CPU 1,"
echo "keep-alive TLS 100 B with $connections connections plus 10 connections making a new TLS connection per request"
report steady keepalive
report steady reconnect
report handover keepalive
report handover reconnect
echo "  new process: started at ${handover_at}s, listening $(( (t_listen - t0) / 1000000 - handover_at * 1000 )) ms later ($(grep -o 'warm-up: [^;]*' "$work/new.log" | head -n1 || true));"
echo "  old process: exited $(( (t_gone - t_listen) / 1000000 )) ms after SIGTERM"
