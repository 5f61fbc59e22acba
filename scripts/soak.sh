#!/usr/bin/env bash
# Soak tests. Two modes:
#   scripts/soak.sh --minutes N   mixed load for N minutes against a real MoonBeam started from the
#                                 built jar (scripts/moonbeam.sh): TLS and plain listeners, keep-alive
#                                 and a new connection per request, small and large downloads and
#                                 uploads, slow clients, two healthy nginx origins beside one that
#                                 fails now and then, a config reload (and access-log rotation) every
#                                 ~10 s. Prints requests, failures by termination reason, RSS, heap,
#                                 descriptors and GC counts at start and end, and a verdict.
#   scripts/soak.sh --stream BYTES  streams one body of BYTES each way through the proxy (StreamingTest)
#                                 and prints throughput, peak buffers, heap and direct memory
#                                 (a bare number, as in "scripts/soak.sh 1073741824", means the same).
# Loopback only; every loop is bounded; everything it starts is stopped by PID. scripts/soak.sh --help
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$home/scripts/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/soak.sh --minutes N [options]
       scripts/soak.sh --stream BYTES

  --minutes N        mixed-load soak for N minutes (at least 2: the start sample is taken after
                     a quarter of the run, at most 60 s in)
  --threads T        MoonBeam's event loops (default 2)
  --reload-every S   seconds between config reloads (default 10): each writes a changed config
                     (backend weights, certificate; the file watch applies it), then rotates the
                     access log and sends SIGHUP (a second reload, and the log reopens)
  --rss-tolerance P  verdict: RSS under load at the end within P% of the start sample (default 10)
  --out DIR          summary and bounded logs (default bench-results/soak-<timestamp>)
  --stream BYTES     the other mode: one streamed body each way (unit test StreamingTest)
  --help             this text

Ports (loopback, reserved for the soak): MoonBeam TLS 127.0.0.1:29543, its plain-HTTP listener
127.0.0.1:29181 and admin 127.0.0.1:29902; origins on 127.0.0.2:29181 and 127.0.0.3:29181 (nginx)
and 127.0.0.4:29181 (the failing one, dev.moonbeam.tools.FlakyOrigin: up 20 s, down 5 s, resets
or drops ~8% of requests while up). Needs wrk, nginx and curl (apt-get install wrk nginx-light curl).
Disk use stays bounded: the access log is summarised and deleted at each rotation, MoonBeam's
console log and nginx's error log are cut to their last 10 MB when they pass 20 MB.
EOF
}

die() { echo "soak.sh: $*" >&2; exit 1; }
say() { echo "soak.sh: $(date -u +%H:%M:%S) $*" >&2; }

minutes="" stream="" threads=2 reload_every=10 rss_tolerance=10 out=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --minutes) need_arg "$@"; minutes="$2"; shift 2 ;;
    --stream) need_arg "$@"; stream="$2"; shift 2 ;;
    --threads) need_arg "$@"; threads="$2"; shift 2 ;;
    --reload-every) need_arg "$@"; reload_every="$2"; shift 2 ;;
    --rss-tolerance) need_arg "$@"; rss_tolerance="$2"; shift 2 ;;
    --out) need_arg "$@"; out="$2"; shift 2 ;;
    --help|-h) usage; exit 0 ;;
    *) if [[ "$1" =~ ^[0-9]+$ ]] && [ -z "$stream" ] && [ -z "$minutes" ]; then stream="$1"; shift
       else usage >&2; die "unknown argument: $1"; fi ;;
  esac
done

if [ -n "$stream" ]; then
  [[ "$stream" =~ ^[0-9]+$ ]] || die "--stream needs a byte count"
  cd "$home"
  mvn -B -q test -Dtest=StreamingTest -Dsurefire.failIfNoSpecifiedTests=false -Dmoonbeam.soak.bytes="$stream" \
    -DargLine="-Xmx256m" 2>&1 | grep -E "streamed|FAIL|ERROR" || true
  exit 0
fi

[ -n "$minutes" ] || { usage >&2; exit 2; }
for pair in "minutes:$minutes" "threads:$threads" "reload-every:$reload_every" "rss-tolerance:$rss_tolerance"; do
  [[ "${pair#*:}" =~ ^[0-9]+$ ]] || die "--${pair%%:*} must be a whole number, got '${pair#*:}'"
done
[ "$minutes" -ge 2 ] || die "--minutes must be at least 2"
[ "$reload_every" -ge 4 ] || die "--reload-every must be at least 4"
[ "$threads" -ge 1 ] || die "--threads must be at least 1"

need_tool wrk wrk
need_tool nginx nginx-light
need_tool curl curl
[ -z "$install_hint" ] || die "missing tools; install them (as root: apt-get install -y$install_hint) and run again"
port=29543 plain_port=29181 admin_port=29902
for p in "$port" "$plain_port" "$admin_port"; do port_busy "$p" && die "port $p is in use (reserved for the soak)"; done
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || die "needs 4096 open files (ulimit -n)"

[ -n "$out" ] || out="$home/bench-results/soak-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
out="$(cd "$out" && pwd -P)"

# $work, $pids (stopped on exit), the jar and test classes, $java, $jcmd, $work/cert.pem + key.pem.
say "building (jar and test classes) ..."
prepare_tls_work moonbeam-soak-mix
jstat="$(dirname "$(readlink -f "$java")")/jstat"
[ -x "$jstat" ] && [ -x "$jcmd" ] || die "jstat/jcmd not found next to $java: a full JDK is needed"
"$java" -cp target/moonbeam.jar dev.moonbeam.tls.DevCertificate "$work/cert2.pem" "$work/key2.pem" >/dev/null 2>&1 \
  || die "could not create the second certificate"

# ---------------------------------------------------------------------------------------------
# Payloads and origins

mkdir -p "$work/www"
head -c 100 /dev/zero | tr '\0' 'a' >"$work/www/100b"
head -c 65536 /dev/zero | tr '\0' 'b' >"$work/www/64k"
head -c 1048576 /dev/zero | tr '\0' 'c' >"$work/www/1m"
chmod -R a+rX "$work/www"
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $out/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.2:$plain_port;
    listen 127.0.0.3:$plain_port;
    root $work/www;
    location / { }
    # Uploads: read (and discarded) whole, then answered.
    location = /upload { client_max_body_size 0; return 200 "uploaded\n"; }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$out/nginx-error.log" >"$out/nginx.log" 2>&1 &
pids+=("$!")
wait_port "$!" "$plain_port" || die "the nginx origins did not start (see $out/nginx.log)"

total_s=$((minutes * 60))
"$java" -Xmx64m -cp target/test-classes:target/moonbeam.jar dev.moonbeam.tools.FlakyOrigin 127.0.0.4 "$plain_port" \
  $((total_s + 120)) 20 5 >"$out/flaky-origin.log" 2>&1 &
flaky_pid=$!
pids+=("$flaky_pid")
for _ in $(seq 1 100); do [ -n "$(ss -ltnH "src 127.0.0.4 and sport = :$plain_port")" ] && break; sleep 0.1; done

# ---------------------------------------------------------------------------------------------
# MoonBeam

write_config() { # write_config 1|2: two variants the reloads alternate between
  local w=1 cert=cert key=key
  [ "$1" = 2 ] && { w=2 cert=cert2 key=key2; }
  cat >"$work/config.tmp" <<EOF
{
  "listen": "127.0.0.1:$port",
  "threads": $threads,
  "backend_servers": [{"address": "127.0.0.2:$plain_port", "weight": $w}, "127.0.0.3:$plain_port", "127.0.0.4:$plain_port"],
  "ssl": {"cert_file": "$work/$cert.pem", "key_file": "$work/$key.pem"},
  "http_listener": {"listen": "127.0.0.1:$plain_port", "action": "proxy"},
  "admin": {"listen": "127.0.0.1:$admin_port"},
  "access_log": {"file": "$work/access.log"},
  "health_check": {"path": "/100b", "interval": "1s", "timeout": "500ms"},
  "timeouts": {"backend_idle": "5s"},
  "log": {"file": null, "level": "warning"}
}
EOF
  mv "$work/config.tmp" "$work/config.json" # one rename: the file watch never sees half a file
}
write_config 1
# Appended to, so that cutting it (below) is safe while MoonBeam writes.
: >"$out/moonbeam.log"
"$home/scripts/moonbeam.sh" --config "$work/config.json" >>"$out/moonbeam.log" 2>&1 &
proxy=$!
pids+=("$proxy")
wait_port "$proxy" "$port" || { tail -n 20 "$out/moonbeam.log" >&2; die "MoonBeam did not start"; }
wait_port "$proxy" "$admin_port" || die "MoonBeam's admin listener did not open"

for url in "https://127.0.0.1:$port/100b" "http://127.0.0.1:$plain_port/64k"; do
  got="$(curl -sk --max-time 5 -o /dev/null -w '%{http_code}' "$url" || true)"
  [ "$got" = 200 ] || die "sanity check $url answered '$got'"
done

metrics() { curl -s --max-time 10 "http://127.0.0.1:$admin_port/metrics"; }
metric() { metrics | awk -v m="$1" '$1 == m {print $2; found = 1} END {if (!found) print 0}'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$proxy/status"; }
fds() { ls "/proc/$proxy/fd" | wc -l; }
jstat_sample() { # "YGC FGC used_heap_kb"
  "$jstat" -gc "$proxy" | awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { printf "%d %d %d\n", $col["YGC"], $col["FGC"], $col["S0U"] + $col["S1U"] + $col["EU"] + $col["OU"] }'
}
live_heap_kb() { "$jcmd" "$proxy" GC.run >/dev/null 2>&1; jstat_sample | awk '{print $3}'; }

sleep 2
fds_idle_before=$(fds)
rss_idle_before=$(rss_kb)
say "MoonBeam pid $proxy ($("$java" -version 2>&1 | head -n1)); idle: RSS $((rss_idle_before / 1024)) MB, $fds_idle_before descriptors"

# ---------------------------------------------------------------------------------------------
# Load: wrk for the keep-alive and new-connection traffic, curl for the slow clients.

cat >"$work/mix.lua" <<'EOF'
-- Mixed requests: GET 100 B / 64 KiB / 1 MiB, and every tenth a POST of 64 KiB. "close" as a script
-- argument asks for a new connection per request.
local paths = {"/100b", "/100b", "/100b", "/100b", "/64k", "/64k", "/100b", "/1m", "/100b"}
local body = string.rep("u", 65536)
local close = false
local n = 0
init = function(args) close = args[1] == "close" end
request = function()
  n = n + 1
  local headers = {}
  if close then headers["Connection"] = "close" end
  if n % 10 == 0 then
    headers["Content-Type"] = "application/octet-stream"
    return wrk.format("POST", "/upload", headers, body)
  end
  return wrk.format("GET", paths[(n % #paths) + 1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d %d %.1f %.1f\n", summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
EOF
load_pids=()
run_wrk() { # NAME CONNECTIONS URL [close]
  timeout -k 5 $((total_s + 60)) wrk -t1 -c"$2" -d"${total_s}s" --timeout 10s -s "$work/mix.lua" "$3" -- "${4:-}" \
    >"$out/wrk-$1.txt" 2>&1 &
  pids+=("$!"); load_pids+=("$!")
}
load_start=$SECONDS
end_at=$((load_start + total_s))
run_wrk tls-keepalive 16 "https://127.0.0.1:$port"
run_wrk plain-keepalive 8 "http://127.0.0.1:$plain_port"
run_wrk tls-newconn 4 "https://127.0.0.1:$port" close
run_wrk plain-newconn 4 "http://127.0.0.1:$plain_port" close
wrk_connections=32

slow_client() { # NAME SECONDS_PER_TRY curl-arguments...: tries while a whole one still fits in the run
  local name="$1" per="$2" i
  shift 2
  for ((i = 0; i < 100000; i++)); do
    [ $((end_at - SECONDS)) -gt $((per + 10)) ] || break
    curl -sk --max-time $((per * 3)) -o /dev/null -w '%{http_code} %{time_total} %{http_version}\n' "$@" \
      >>"$out/slow-$name.txt" 2>/dev/null || echo "failed $? -" >>"$out/slow-$name.txt"
  done
}
slow_client tls-h2-download 17 --limit-rate 64k "https://127.0.0.1:$port/1m" &
pids+=("$!"); load_pids+=("$!")
slow_client tls-h1-download 33 --http1.1 --limit-rate 32k "https://127.0.0.1:$port/1m" &
pids+=("$!"); load_pids+=("$!")
slow_client plain-upload 17 --limit-rate 64k --data-binary "@$work/www/1m" "http://127.0.0.1:$plain_port/upload" &
pids+=("$!"); load_pids+=("$!")
slow_connections=3

# ---------------------------------------------------------------------------------------------
# While it runs: a reload and a log rotation every --reload-every seconds, the samples.

summarise_access_log() { # FILE: adds "termination status backend count" lines to the running tally
  awk '{
    status = "-"; term = "-"; backend = "-"
    if (match($0, /" [0-9][0-9][0-9] /)) status = substr($0, RSTART + 2, 3)
    if (match($0, / termination=[a-z_]+/)) term = substr($0, RSTART + 13, RLENGTH - 13)
    if (match($0, / backend=[^ ]+/)) backend = substr($0, RSTART + 9, RLENGTH - 9)
    n[term " " status " " backend]++
  } END { for (k in n) print k, n[k] }' "$1" >>"$work/access-tally.txt"
}
rotate_access_log() {
  local rotated="$work/access.log.rotated"
  [ -f "$work/access.log" ] || return 0
  mv "$work/access.log" "$rotated"
  kill -HUP "$proxy"
  # The writer reopens (a new file) on SIGHUP; until then lines still go to the renamed one.
  for _ in $(seq 1 50); do [ -f "$work/access.log" ] && break; sleep 0.1; done
  sleep 0.5
  summarise_access_log "$rotated"
  rm -f "$rotated"
}
cap_log() { # FILE: appended to by its writer, so it can be cut in place to its last 10 MB past 20 MB
  local size
  size=$(stat -c %s "$1" 2>/dev/null || echo 0)
  if [ "$size" -gt $((20 * 1024 * 1024)) ]; then
    tail -c $((10 * 1024 * 1024)) "$1" >"$work/log.tail"
    cat "$work/log.tail" >"$1"
    rm -f "$work/log.tail"
    echo "soak.sh: [cut to the last 10 MB at $(date -u +%H:%M:%S)]" >>"$1"
  fi
}
cap_console_log() { cap_log "$out/moonbeam.log"; cap_log "$out/nginx-error.log"; }

start_after=$((total_s / 4)); [ "$start_after" -le 60 ] || start_after=60
sampled_start=0 variant=1 ticks=0
: >"$work/access-tally.txt"
say "load for $minutes min (start sample after ${start_after}s); reload every ${reload_every}s; output in $out"
for ((tick = 0; tick < 100000; tick++)); do
  now=$SECONDS
  [ "$now" -lt $((end_at - 5)) ] || break
  if [ "$sampled_start" -eq 0 ] && [ $((now - load_start)) -ge "$start_after" ]; then
    read -r ygc0 fgc0 _ < <(jstat_sample)
    rss0=$(rss_kb); fds0=$(fds); heap0=$(live_heap_kb)
    read -r ygc0 fgc0 _ < <(jstat_sample) # after the forced collection, which is not counted below
    requests0=$(metric 'moonbeam_requests_total{code="2xx"}')
    sampled_start=1 start_offset=$((SECONDS - load_start))
    say "start sample: RSS $((rss0 / 1024)) MB, live heap $((heap0 / 1024)) MB, $fds0 descriptors"
  fi
  nap=$((reload_every - 2)) left=$((end_at - 5 - SECONDS))
  [ "$left" -ge "$nap" ] || nap=$left
  [ "$nap" -le 0 ] || sleep "$nap"
  [ "$SECONDS" -lt $((end_at - 5)) ] || break
  variant=$((3 - variant))
  write_config "$variant" # reload 1: the file watch (polls every second)
  sleep 2
  rotate_access_log       # reload 2: SIGHUP, which also reopens the access log
  cap_console_log
  ticks=$((ticks + 1))
  if [ $((ticks % 6)) -eq 0 ]; then
    say "  $((SECONDS - load_start))s: RSS $(( $(rss_kb) / 1024 )) MB, $(fds) descriptors, $(metric moonbeam_config_reloads_total) reloads"
  fi
  kill -0 "$proxy" 2>/dev/null || die "MoonBeam exited during the soak (see $out/moonbeam.log)"
done
[ "$sampled_start" -eq 1 ] || die "the run ended before the start sample"
# End sample, still under load.
read -r ygc1 fgc1 _ < <(jstat_sample)
rss1=$(rss_kb); fds1=$(fds); heap1=$(live_heap_kb)
say "end sample: RSS $((rss1 / 1024)) MB, live heap $((heap1 / 1024)) MB, $fds1 descriptors; waiting for the load to finish"

forget_pid() { # drop $1 from pids, so the exit trap never signals a PID the system may have reused
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
for p in "${load_pids[@]}"; do wait "$p" 2>/dev/null || true; forget_pid "$p"; done
sleep 10 # pooled backend connections close after timeouts.backend_idle (5 s)
fds_idle_after=$(fds)
rss_idle_after=$(rss_kb)
rotate_access_log
metrics >"$out/metrics-end.txt"
cap_console_log

# ---------------------------------------------------------------------------------------------
# Summary

wrk_line() { grep '^WRKRESULT' "$out/wrk-$1.txt" || echo "WRKRESULT 0 0 0 0 0 0 0 0 0"; }
wrk_table=""
wrk_requests=0 wrk_socket_errors=0 wrk_status_errors=0
for name in tls-keepalive plain-keepalive tls-newconn plain-newconn; do
  read -r _ r b ec er ew es et p50 p99 <<<"$(wrk_line "$name")"
  wrk_requests=$((wrk_requests + r)); wrk_socket_errors=$((wrk_socket_errors + ec + er + ew + et)); wrk_status_errors=$((wrk_status_errors + es))
  wrk_table+="$(printf '  %-16s %9d requests %8.0f MB  p50 %6.1f ms  p99 %7.1f ms  errors: connect %d read %d write %d timeout %d, status>=400 %d' \
    "$name" "$r" "$(awk -v b="$b" 'BEGIN {print b / 1048576}')" "$(awk -v u="$p50" 'BEGIN {print u / 1000}')" \
    "$(awk -v u="$p99" 'BEGIN {print u / 1000}')" "$ec" "$er" "$ew" "$et" "$es")"$'\n'
done
slow_table=""
for f in "$out"/slow-*.txt; do
  [ -f "$f" ] || continue
  slow_table+="$(awk -v n="$(basename "$f" .txt)" '{ total++; if ($1 == "200") ok++; else bad[$1 " " $2]++ }
    END { printf "  %-24s %d transfers, %d with 200", n, total, ok; for (k in bad) printf "; %s: %d", k, bad[k]; print "" }' "$f")"$'\n'
done

flaky="127.0.0.4:$plain_port"
allowance=$((2 * (wrk_connections + slow_connections)))
# "termination status backend count" -> totals, and which failures are explained.
read -r access_total access_failed unexplained client_closed <<<"$(awk -v flaky="$flaky" -v allowance="$allowance" '
  { key = $1 " " $2 " " $3; n[key] += $4; total += $4 }
  END {
    for (k in n) {
      split(k, f, " ")
      if (f[1] == "completed") continue
      failed += n[k]
      if (f[1] == "client_closed") { closed += n[k]; continue }
      if ((f[1] == "backend_reset" || f[1] == "backend_connect_failed" || f[1] == "backend_invalid_response") && f[3] == flaky) continue
      odd += n[k]
    }
    if (closed > allowance) odd += closed - allowance
    printf "%d %d %d %d\n", total, failed, odd, closed
  }' "$work/access-tally.txt")"
access_table="$(awk '{ n[$1 " " $2 " " $3] += $4 } END { for (k in n) { split(k, f, " "); printf "  %-26s %s  %-20s %9d\n", f[1], f[2], f[3], n[k] } }' \
  "$work/access-tally.txt" | sort -k4,4nr)"
term_table="$(awk -F'[{}" ]+' '/^moonbeam_request_terminations_total\{/ && $NF > 0 { printf "  %-26s %d\n", $3, $NF }' "$out/metrics-end.txt")"
requests_total="$(awk '/^moonbeam_requests_total\{/ {s += $2} END {print s + 0}' "$out/metrics-end.txt")"
reloads="$(awk '$1 == "moonbeam_config_reloads_total" {print $2}' "$out/metrics-end.txt")"
stalls="$(awk '/^moonbeam_loop_stalls_total/ {s += $2} END {print s + 0}' "$out/metrics-end.txt")"
buffer_failures="$(awk '$1 == "moonbeam_buffer_allocation_failures_total" {print $2 + 0}' "$out/metrics-end.txt")"
rejected="$(grep -c 'rejected, the running config stays' "$out/moonbeam.log" || true)"
errors_logged="$(grep -c ' ERROR \[' "$out/moonbeam.log" || true)"
kill "$flaky_pid" 2>/dev/null || true; wait "$flaky_pid" 2>/dev/null || true; forget_pid "$flaky_pid"
# A clean stop: SIGTERM, the drain (nothing in flight now), exit code 0.
kill -TERM "$proxy"
proxy_exit=timeout
for _ in $(seq 1 200); do kill -0 "$proxy" 2>/dev/null || break; sleep 0.2; done
if ! kill -0 "$proxy" 2>/dev/null; then proxy_exit=0; wait "$proxy" 2>/dev/null || proxy_exit=$?; forget_pid "$proxy"; fi
flaky_said="$(grep '^flaky origin' "$out/flaky-origin.log" || echo "flaky origin: (no report)")"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }'; }
rss_ok=$(awk -v a="$rss1" -v b="$rss0" -v t="$rss_tolerance" 'BEGIN { print ((a - b) * 100 / b <= t) ? 1 : 0 }')
heap_ok=$(awk -v a="$heap1" -v b="$heap0" 'BEGIN { print (a <= b * 1.2 || a - b <= 4096) ? 1 : 0 }')
fds_ok=$([ "$fds_idle_after" -le $((fds_idle_before + 2)) ] && echo 1 || echo 0)
fail_ok=$([ "$unexplained" -eq 0 ] && [ "$wrk_socket_errors" -eq 0 ] && echo 1 || echo 0)
health_ok=$([ "$stalls" -eq 0 ] && [ "${buffer_failures:-0}" -eq 0 ] && [ "$rejected" -eq 0 ] && [ "$proxy_exit" = 0 ] \
  && echo 1 || echo 0)
verdict=PASS
[ "$rss_ok$heap_ok$fds_ok$fail_ok$health_ok" = 11111 ] || verdict=FAIL
mark() { [ "$1" = 1 ] && echo ok || echo NOT OK; }

{
cat <<EOF

MoonBeam soak, $(date -u +%Y-%m-%dT%H:%M:%SZ): $minutes min, $threads loop(s), $("$java" -version 2>&1 | head -n1)
$(nproc) CPU, load average $(cut -d' ' -f1-3 /proc/loadavg); output in $out

requests: MoonBeam $requests_total (moonbeam_requests_total), access log $access_total lines, wrk $wrk_requests
$wrk_table$slow_table
failures by termination reason (moonbeam_request_terminations_total):
${term_table:-  none}
access log, not completed (termination, status, backend; $flaky is the failing one):
$(echo "$access_table" | grep -v '^ *completed ' || echo "  none")
$flaky_said
reloads: $reloads applied, $rejected rejected; loop stalls: $stalls; buffer allocation failures: ${buffer_failures:-0}; ERROR lines in MoonBeam's log: $errors_logged
SIGTERM at the end: exit code $proxy_exit

                         start (${start_offset}s in)   end (under load)   change
RSS MB                   $(printf '%8.1f %18.1f   %s' "$(awk -v k="$rss0" 'BEGIN {print k / 1024}')" "$(awk -v k="$rss1" 'BEGIN {print k / 1024}')" "$(pct "$rss1" "$rss0")")
live heap MB (full GC)   $(printf '%8.1f %18.1f   %s' "$(awk -v k="$heap0" 'BEGIN {print k / 1024}')" "$(awk -v k="$heap1" 'BEGIN {print k / 1024}')" "$(pct "$heap1" "$heap0")")
descriptors              $(printf '%8d %18d' "$fds0" "$fds1")
idle before / after load: RSS $((rss_idle_before / 1024)) / $((rss_idle_after / 1024)) MB, descriptors $fds_idle_before / $fds_idle_after
GCs between the samples: $((ygc1 - ygc0)) young, $((fgc1 - fgc0)) old/full (jstat; the two forced for the heap samples not counted)

verdict: $verdict — RSS within ${rss_tolerance}%: $(mark "$rss_ok") ($(pct "$rss1" "$rss0")); live heap flat: $(mark "$heap_ok"); descriptors flat (idle $fds_idle_before -> $fds_idle_after): $(mark "$fds_ok");
  failures only explained: $(mark "$fail_ok") ($access_failed not completed: backend_* on $flaky, $client_closed client_closed (allowed up to $allowance: load tools stopping mid-request), $unexplained unexplained; wrk socket errors $wrk_socket_errors);
  no loop stall, buffer failure or rejected reload, exit code 0 on SIGTERM: $(mark "$health_ok")
EOF
} | tee "$out/summary.txt"
[ "$verdict" = PASS ]
