#!/usr/bin/env bash
# Shows whether MoonBeam makes garbage per request in steady state. For each mode (plain HTTP, TLS)
# it starts one nginx origin and MoonBeam (through scripts/moonbeam.sh, with a small heap and the GC
# log on), drives keep-alive load with wrk (h2load for HTTP/2) for a warm-up and then a measured window, and prints the
# young collections and the bytes allocated per request inside that window (jstat: collections x eden
# size + change in eden use). Everything it starts it stops. Usage: scripts/gc-check.sh --help
set -euo pipefail

home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$home/scripts/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/gc-check.sh [options]

  --duration S      measured seconds per mode (default 60)
  --warmup S        seconds of load before measuring (default 20; the JIT settles)
  --heap SIZE       -Xmx (and -Xms) of MoonBeam for the run (default 64m)
  --modes LIST      plain,tls,h2 (default plain,tls; h2 = HTTP/2 over TLS driven by h2load -m10,
                    Debian package nghttp2-client)
  --port P          MoonBeam's port (default 28443)
  --origin-port P   the nginx origin's port (default 28081)
  --connections C   wrk connections (default 50)
  --out DIR         GC logs and wrk output (default bench-results/gc-<timestamp>)
  --help            this text
EOF
}

die() { echo "gc-check.sh: $*" >&2; exit 1; }
say() { echo "gc-check.sh: $*" >&2; }

duration=60 warmup=20 heap=64m modes="plain,tls" port=28443 origin_port=28081 connections=50 out=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --duration) need_arg "$@"; duration="$2"; shift 2 ;;
    --warmup) need_arg "$@"; warmup="$2"; shift 2 ;;
    --heap) need_arg "$@"; heap="$2"; shift 2 ;;
    --modes) need_arg "$@"; modes="$2"; shift 2 ;;
    --port) need_arg "$@"; port="$2"; shift 2 ;;
    --origin-port) need_arg "$@"; origin_port="$2"; shift 2 ;;
    --connections) need_arg "$@"; connections="$2"; shift 2 ;;
    --out) need_arg "$@"; out="$2"; shift 2 ;;
    --help|-h) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
for pair in "duration:$duration" "warmup:$warmup" "port:$port" "origin-port:$origin_port" "connections:$connections"; do
  [[ "${pair#*:}" =~ ^[0-9]+$ ]] || die "--${pair%%:*} must be a whole number, got '${pair#*:}'"
done
[[ "$heap" =~ ^[0-9]+[kmgKMG]$ ]] || die "--heap must look like 64m, got '$heap'"
[ "$duration" -ge 1 ] || die "--duration must be at least 1"

need_tool wrk wrk
need_tool nginx nginx-light
need_tool openssl openssl
need_tool taskset util-linux
[ -z "$install_hint" ] || die "missing tools; install them (as root: apt-get install -y$install_hint) and run again"

# The JDK moonbeam.sh would pick, and its jstat.
java="$("$home/scripts/moonbeam.sh" --which-java)" || die "no Java 17+ found (see scripts/moonbeam.sh)"
jstat="$(dirname "$(readlink -f "$java")")/jstat"
[ -x "$jstat" ] || die "$jstat not found: a full JDK (not a JRE) is needed for jstat"

proxy_cpu=0 client_cpu=0
[ "$(nproc)" -ge 2 ] && client_cpu=1

[ -n "$out" ] || out="$home/bench-results/gc-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
out="$(cd "$out" && pwd -P)"
tmp="$(mktemp -d /tmp/moonbeam-gc.XXXXXX)"
chmod 755 "$tmp"
pids=()
cleanup() {
  trap - EXIT INT TERM
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

for p in "$port" "$origin_port"; do port_busy "$p" && die "port $p is in use (choose others with --port / --origin-port)"; done

head -c 100 /dev/zero | tr '\0' 'x' >"$tmp/100b"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1 || die "openssl could not make a certificate"
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server { listen 127.0.0.1:$origin_port; location / { root $tmp; } }
}
EOF
taskset -c "$client_cpu" nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" >"$out/origin.log" 2>&1 &
pids+=("$!")
wait_port "$!" "$origin_port" || die "the nginx origin did not start (see $out/origin.log)"

jstat_sample() { # prints "YGC EC_KB EU_KB" of the JVM $1
  "$jstat" -gc "$1" | awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next } { print $col["YGC"], $col["EC"], $col["EU"] }'
}

say "Java: $("$java" -version 2>&1 | head -n1); heap $heap; ${warmup}s warm-up, ${duration}s measured per mode; output in $out"
printf '%-6s %10s %10s %12s %14s %14s\n' mode requests "req/s" "young GCs" "allocated MB" "bytes/request" | tee "$out/summary.txt"
IFS=',' read -r -a mode_list <<<"$modes"
for mode in "${mode_list[@]}"; do
  case "$mode" in
    plain) ssl="" scheme=http ;;
    tls|h2) ssl=", \"ssl\": {\"cert_file\": \"$tmp/cert.pem\", \"key_file\": \"$tmp/key.pem\"}" scheme=https ;;
    *) die "unknown mode '$mode' (plain, tls, h2)" ;;
  esac
  cat >"$tmp/moonbeam-$mode.json" <<EOF
{"listen": "127.0.0.1:$port", "threads": 1, "backend_servers": ["127.0.0.1:$origin_port"],
 "log": {"file": null, "level": "warning"}$ssl}
EOF
  # The launcher's JIT choice for this config (C1 only, unless JSSE serves) and Integer cache, as in production.
  launcher_flags="$("$home/scripts/moonbeam.sh" --jvm-flags --config "$tmp/moonbeam-$mode.json")" \
    || die "scripts/moonbeam.sh --jvm-flags failed (see above)"
  jit="$(grep -oE -- '-XX:TieredStopAtLevel=1( -Dmoonbeam.jit=c1)?' <<<"$launcher_flags" || true)"
  box_cache="$(grep -oE -- '-Djava.lang.Integer.IntegerCache.high=[0-9]+' <<<"$launcher_flags" || true)"
  MOONBEAM_JAVA_OPTS="-Xms$heap -Xmx$heap -XX:+UseSerialGC -XX:MaxDirectMemorySize=256m -Xss512k $jit $box_cache -Xlog:gc:file=$out/$mode-gc.log:uptime" \
    taskset -c "$proxy_cpu" "$home/scripts/moonbeam.sh" --config "$tmp/moonbeam-$mode.json" >"$out/$mode-moonbeam.log" 2>&1 &
  mb="$!"
  pids+=("$mb")
  wait_port "$mb" "$port" || die "MoonBeam did not start (see $out/$mode-moonbeam.log)"
  url="$scheme://127.0.0.1:$port/100b"
  if [ "$mode" = h2 ]; then
    command -v h2load >/dev/null 2>&1 || die "mode h2 needs h2load (Debian package nghttp2-client)"
    taskset -c "$client_cpu" timeout $((warmup + 30)) h2load -t1 -c"$connections" -m10 -D"$warmup" "$url" >"$out/$mode-warmup.txt" 2>&1 || true
    read -r ygc0 ec0 eu0 < <(jstat_sample "$mb")
    taskset -c "$client_cpu" timeout $((duration + 30)) h2load -t1 -c"$connections" -m10 -D"$duration" "$url" >"$out/$mode-wrk.txt" 2>&1 || true
    read -r ygc1 ec1 eu1 < <(jstat_sample "$mb")
    grep -q "Application protocol: h2" "$out/$mode-wrk.txt" || die "h2load did not speak h2 in mode h2 (see $out/$mode-wrk.txt)"
    requests="$(sed -n 's/^requests: [0-9]* total, [0-9]* started, \([0-9]*\) done.*/\1/p' "$out/$mode-wrk.txt")"
  else
    taskset -c "$client_cpu" timeout $((warmup + 30)) wrk -t1 -c"$connections" -d"${warmup}s" "$url" >"$out/$mode-warmup.txt" 2>&1 || true
    read -r ygc0 ec0 eu0 < <(jstat_sample "$mb")
    taskset -c "$client_cpu" timeout $((duration + 30)) wrk -t1 -c"$connections" -d"${duration}s" "$url" >"$out/$mode-wrk.txt" 2>&1 || true
    read -r ygc1 ec1 eu1 < <(jstat_sample "$mb")
    requests="$(awk '/requests in/ {print $1}' "$out/$mode-wrk.txt")"
  fi
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || die "wrk made no requests in mode $mode (see $out/$mode-wrk.txt)"
  # Eden is empty right after each young collection, so what was allocated is the eden sizes at
  # the collections plus what eden holds now, minus what it held at the start.
  awk -v m="$mode" -v r="$requests" -v d="$duration" -v y0="$ygc0" -v y1="$ygc1" -v ec0="$ec0" -v ec1="$ec1" -v eu0="$eu0" -v eu1="$eu1" 'BEGIN {
    gcs = y1 - y0; kb = gcs * (ec0 + ec1) / 2 + eu1 - eu0; if (gcs == 0) kb = eu1 - eu0
    printf "%-6s %10d %10.0f %12d %14.1f %14.1f\n", m, r, r / d, gcs, kb / 1024, kb * 1024 / r
  }' | tee -a "$out/summary.txt"
  kill -TERM "$mb" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$mb" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$mb" 2>/dev/null || true
  wait "$mb" 2>/dev/null || true
done
say "GC logs: $out/*-gc.log; wrk output: $out/*-wrk.txt"
