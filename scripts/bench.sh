#!/usr/bin/env bash
# Benchmarks MoonBeam (and, with --compare, nginx and HAProxy under equivalent configs) on this
# machine: two pinned nginx origins, the proxy under test pinned to its own core, wrk / openssl
# s_time / h2load pinned next to the origins. Interleaved rounds, medians; prints a table and writes
# results.json, runs.tsv, chart.svg and all logs to --out. Everything it starts it stops (trap).
# See docs/benchmarks.md. Usage: scripts/bench.sh --help
set -euo pipefail

home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
jar="$home/target/moonbeam.jar"
source "$home/scripts/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/bench.sh [options]

  --threads N           proxy threads/workers (MoonBeam --threads, nginx worker_processes,
                        HAProxy nbthread); default 1
  --duration S          seconds measured per scenario (default 10)
  --warmup S            seconds of warm-up after each proxy start (default 30): wrk (h2load in
                        the h2 scenarios' start) in 5 s runs over the scenarios' paths, with one
                        s_time -new client alongside for TLS
  --handshake-warmup S  seconds of extra warm-up with new connections before handshake scenarios
                        (default 60: at a few hundred handshakes/s the JIT takes ~40-60 s to
                        compile JSSE's handshake code; 0 to skip)
  --rounds R            interleaved rounds; the table shows medians (default 3)
  --compare LIST        also run these, one at a time, in the same rounds: nginx, haproxy,
                        moonbeam-jsse (MoonBeam with "ssl.provider": "jdk"; plain "moonbeam"
                        uses the default provider, native BoringSSL where it loads) and
                        moonbeam-nowarmup (MoonBeam with "warmup": {"enabled": false}) and
                        moonbeam-tiered (MoonBeam with the tiered C1+C2 JIT, MOONBEAM_JIT=tiered),
                        moonbeam-tiered-nice (the same with C2 at nice 10 once listening,
                        MOONBEAM_JIT=tiered-nice) and moonbeam-c1 (C1 only, MOONBEAM_JIT=c1)
                        instead of the launcher's choice
  --scenarios LIST      comma-separated subset of: tls-100b,tls-64k,handshake,resume,plain-100b,
                        handshake-rsa,h2-100b,h2-64k (default: all but handshake-rsa and the h2
                        ones; --rsa adds handshake-rsa)
                        h2-100b, h2-64k (opt-in): HTTP/2 over TLS, h2load -c<connections> -m10,
                        every proxy started with HTTP/2 on (MoonBeam "http2": {"enabled": true},
                        nginx "listen ... ssl http2", HAProxy "alpn h2,http/1.1"); need h2load
                        (Debian package nghttp2-client) and are skipped with a message without it
  --rsa                 also generate an RSA-2048 certificate and run handshake-rsa
  --out DIR             output folder (default bench-results/<timestamp>)
  --port P              MoonBeam's port (default 443); nginx uses 18443, HAProxy 18444
  --origin-ports A,B    ports of the two nginx origins (default 18081,18082)
  --connections C       wrk / h2load connections for keep-alive scenarios (default 50)
  --handshake-clients K parallel openssl s_time clients for handshake scenarios (default 4)
  --java LIST           run MoonBeam once per Java given (java binaries or JDK homes, comma-separated),
                        as moonbeam-jdkNN in the same rounds; default: the one scripts/moonbeam.sh
                        picks (MOONBEAM_JAVA, else JAVA_HOME, else the newest 17+ on the machine)
  --proxy-cpus LIST     taskset CPU list of the proxy under test (default 0)
  --client-cpus LIST    taskset CPU list of wrk, s_time, h2load and the origins (default 1)
  --moonbeam-log LEVEL  MoonBeam's log level (default warning; debug to see why connections close)
  --quick               smoke run: --duration 3 --warmup 3 --handshake-warmup 0 --rounds 1
  --cold                instead of the scenarios: what a user sees right after starting each proxy.
                        Fresh process per round, no warm-up; time from exec to listening and to the
                        first answered request, then back-to-back windows of keep-alive TLS 100 B
                        (req/s and p99 per window) with a burst of reconnects after window 2.
                        Writes table-cold.txt, results-cold.json, chart-cold.svg
  --cold-windows N      windows per cold round (default 6)
  --window S            seconds per cold window (default 5)
  --burst S             seconds of "Connection: close" reconnects after window 2 (default 2; 0 = none)
  --warmup-phase S      MoonBeam's own warm-up before it listens ("warmup": {"duration": S}), in
                        seconds; default: its configured default. moonbeam-nowarmup has none
  --help                this text
EOF
}

die() { echo "bench.sh: $*" >&2; exit 1; }
say() { echo "bench.sh: $*" >&2; }

threads=1 duration=10 warmup=30 warmup_chunk=5 rounds=3 compare="" scenario_list="" out="" rsa=0 java_list="" hs_warmup=60
h2_streams=10 # h2load -m: concurrent streams per connection in the h2 scenarios
port=443 nginx_port=18443 haproxy_port=18444 origin_ports="18081,18082"
connections=50 hs_clients=4 proxy_cpus=0 client_cpus=1 moonbeam_log=warning
cold=0 cold_windows=6 cold_window_s=5 cold_burst_s=2 warmup_phase=""

while [ "$#" -gt 0 ]; do
  case "$1" in
    --threads) need_arg "$@"; threads="$2"; shift 2 ;;
    --duration) need_arg "$@"; duration="$2"; shift 2 ;;
    --warmup) need_arg "$@"; warmup="$2"; shift 2 ;;
    --rounds) need_arg "$@"; rounds="$2"; shift 2 ;;
    --compare) need_arg "$@"; compare="$2"; shift 2 ;;
    --scenarios) need_arg "$@"; scenario_list="$2"; shift 2 ;;
    --rsa) rsa=1; shift ;;
    --out) need_arg "$@"; out="$2"; shift 2 ;;
    --port) need_arg "$@"; port="$2"; shift 2 ;;
    --origin-ports) need_arg "$@"; origin_ports="$2"; shift 2 ;;
    --connections) need_arg "$@"; connections="$2"; shift 2 ;;
    --handshake-clients) need_arg "$@"; hs_clients="$2"; shift 2 ;;
    --proxy-cpus) need_arg "$@"; proxy_cpus="$2"; shift 2 ;;
    --client-cpus) need_arg "$@"; client_cpus="$2"; shift 2 ;;
    --handshake-warmup) need_arg "$@"; hs_warmup="$2"; shift 2 ;;
    --java) need_arg "$@"; java_list="$2"; shift 2 ;;
    --moonbeam-log) need_arg "$@"; moonbeam_log="$2"; shift 2 ;;
    --quick) duration=3; warmup=3; hs_warmup=0; rounds=1; shift ;;
    --cold) cold=1; shift ;;
    --cold-windows) need_arg "$@"; cold_windows="$2"; shift 2 ;;
    --window) need_arg "$@"; cold_window_s="$2"; shift 2 ;;
    --burst) need_arg "$@"; cold_burst_s="$2"; shift 2 ;;
    --warmup-phase) need_arg "$@"; warmup_phase="$2"; shift 2 ;;
    --help|-h) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
for pair in "threads:$threads" "duration:$duration" "warmup:$warmup" "rounds:$rounds" "port:$port" \
            "connections:$connections" "handshake-clients:$hs_clients" "handshake-warmup:$hs_warmup" \
            "cold-windows:$cold_windows" "window:$cold_window_s" "burst:$cold_burst_s" "warmup-phase:${warmup_phase:-0}"; do
  is_uint "${pair#*:}" || die "--${pair%%:*} must be a whole number, got '${pair#*:}'"
done
if [ "$threads" -lt 1 ] || [ "$duration" -lt 1 ] || [ "$rounds" -lt 1 ] || [ "$hs_clients" -lt 1 ]; then
  die "--threads, --duration, --rounds and --handshake-clients must be at least 1"
fi
[[ "$origin_ports" =~ ^[0-9]+,[0-9]+$ ]] || die "--origin-ports must be two ports, e.g. 18081,18082"
origin1="${origin_ports%,*}" origin2="${origin_ports#*,}"

# MoonBeam runs through its own launcher (same JVM flags and Java choice as in production); with
# --java, once per Java, each under its own name.
proxies=(moonbeam)
declare -A moonbeam_java=()
if [ -n "$java_list" ]; then
  proxies=()
  IFS=',' read -r -a javas <<<"$java_list"
  for j in "${javas[@]}"; do
    [ -d "$j" ] && j="$j/bin/java"
    [ -x "$j" ] || die "--java: $j is not an executable java"
    major="$(java_major "$j")"
    [ -n "$major" ] && [ "$major" -ge 17 ] || die "--java: $j is not a Java 17 or newer"
    name="moonbeam-jdk$major"
    [ -z "${moonbeam_java[$name]:-}" ] || die "--java: two entries are Java $major; give one of each"
    moonbeam_java[$name]="$j"
    proxies+=("$name")
  done
fi
if [ -n "$compare" ]; then
  IFS=',' read -r -a extra <<<"$compare"
  for p in "${extra[@]}"; do
    case "$p" in
      nginx|haproxy|moonbeam-jsse|moonbeam-nowarmup|moonbeam-tiered|moonbeam-tiered-nice|moonbeam-c1) proxies+=("$p") ;;
      moonbeam*) ;;
      *) die "--compare knows nginx, haproxy, moonbeam-jsse, moonbeam-nowarmup, moonbeam-tiered, moonbeam-tiered-nice and moonbeam-c1, not '$p'" ;;
    esac
  done
fi

known_scenarios="tls-100b tls-64k handshake resume plain-100b handshake-rsa h2-100b h2-64k"
if [ -z "$scenario_list" ]; then
  scenario_list="tls-100b,tls-64k,handshake,resume,plain-100b"
  [ "$rsa" -eq 1 ] && scenario_list+=",handshake-rsa"
fi
IFS=',' read -r -a scenarios <<<"$scenario_list"
for s in "${scenarios[@]}"; do
  [[ " $known_scenarios " == *" $s "* ]] || die "unknown scenario '$s' (known: $known_scenarios)"
  [ "$s" = handshake-rsa ] && rsa=1
done

# Scenario table: mode (which proxy config: ec = TLS with the P-256 cert, rsa = TLS with the
# RSA-2048 cert, plain = HTTP, h2 = TLS with the P-256 cert and HTTP/2 offered in ALPN), tool
# (wrk = keep-alive load, h2load = keep-alive HTTP/2 load, new / reuse = openssl s_time, one
# request per connection with a full or a resumed handshake), path.
scenario_mode() { case "$1" in plain-100b) echo plain ;; handshake-rsa) echo rsa ;; h2-*) echo h2 ;; *) echo ec ;; esac; }
scenario_tool() { case "$1" in handshake|handshake-rsa) echo new ;; resume) echo reuse ;; h2-*) echo h2load ;; *) echo wrk ;; esac; }
scenario_path() { case "$1" in tls-64k|h2-64k) echo /64k ;; *) echo /100b ;; esac; }

# ---------------------------------------------------------------------------------------------
# Tools

# h2load (HTTP/2 scenarios only): installed like the others when we can; without it those
# scenarios are skipped, not the run.
if [[ " ${scenarios[*]} " == *" h2-"* ]] && ! command -v h2load >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing nghttp2-client for h2load (apt-get install -y nghttp2-client) ..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nghttp2-client >/dev/null 2>&1 || true
  fi
  if ! command -v h2load >/dev/null 2>&1; then
    keep=() skipped=""
    for s in "${scenarios[@]}"; do
      if [[ "$s" == h2-* ]]; then skipped+="${skipped:+, }$s"; else keep+=("$s"); fi
    done
    say "h2load not found (Debian/Ubuntu package nghttp2-client): skipping the HTTP/2 scenarios $skipped"
    [ "${#keep[@]}" -gt 0 ] || die "no scenarios left to run (install nghttp2-client for h2load)"
    scenarios=("${keep[@]}")
  fi
fi
# wrk drives the keep-alive HTTP/1.1 scenarios, every warm-up but the h2 mode's, and --cold.
needs_wrk="$cold"
for s in "${scenarios[@]}"; do [ "$(scenario_mode "$s")" = h2 ] || needs_wrk=1; done
[ "$needs_wrk" -eq 0 ] || need_tool wrk wrk
need_tool nginx nginx-light
need_tool openssl openssl
need_tool taskset util-linux
need_tool curl curl
[[ " ${proxies[*]} " == *" haproxy "* ]] && need_tool haproxy haproxy
[ -z "$install_hint" ] || die "missing tools; install them (as root: apt-get install -y$install_hint) and run again"

ncpu="$(nproc)"
[ "$ncpu" -ge 2 ] || say "warning: only $ncpu CPU; proxy and load generator will share it"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${load_start%% *}" -v n="$ncpu" 'BEGIN {exit !(l > n / 2)}'; then
  say "warning: load average $load_start on $ncpu CPUs before starting; other work will skew the figures"
fi

# ---------------------------------------------------------------------------------------------
# Cleanup: every process we start is recorded and stopped on exit, interrupt or error.

tmp="$(mktemp -d /tmp/moonbeam-bench.XXXXXX)"
chmod 755 "$tmp" # nginx workers run as nobody and must read the served files
pids=()
cleanup() {
  local pid
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

forget_pid() { # drop $1 from pids
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
stop_pid() { # TERM, wait up to 5 s, then KILL
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

ports=("$origin1" "$origin2")
for p in "${proxies[@]}"; do
  case "$p" in moonbeam*) ports+=("$port") ;; nginx) ports+=("$nginx_port") ;; haproxy) ports+=("$haproxy_port") ;; esac
done
for p in "${ports[@]}"; do
  port_busy "$p" && die "port $p is already in use on this machine (choose others with --port / --origin-ports)"
done

# ---------------------------------------------------------------------------------------------
# Output folder, build, certificates, payloads

[ -n "$out" ] || out="$home/bench-results/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out/logs"
out="$(cd "$out" && pwd -P)"
runs="$out/runs.tsv"
printf 'round\tproxy\tscenario\trequests\tseconds\trps\tmbps\tp50_ms\tp99_ms\terrors\tcpu_pct\trps_per_core\trss_mb\tstatus\tnote\n' >"$runs"

# The launcher builds the jar if it needs to (stale sources, or built by an older Java than the one
# it runs), so no proxy start below, timed or not, includes a build.
say "checking target/moonbeam.jar (scripts/moonbeam.sh builds it when needed) ..."
"$home/scripts/moonbeam.sh" --version >"$out/logs/build.log" 2>&1 || { cat "$out/logs/build.log" >&2; die "build failed"; }

say "certificates and payloads in $tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$tmp/ec.key" -out "$tmp/ec.pem" >/dev/null 2>&1 \
  || die "openssl could not create the EC P-256 certificate"
cat "$tmp/ec.pem" "$tmp/ec.key" >"$tmp/ec.haproxy.pem"
if [ "$rsa" -eq 1 ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$tmp/rsa.key" -out "$tmp/rsa.pem" >/dev/null 2>&1 \
    || die "openssl could not create the RSA-2048 certificate"
  cat "$tmp/rsa.pem" "$tmp/rsa.key" >"$tmp/rsa.haproxy.pem"
fi
mkdir -p "$tmp/www"
head -c 100 /dev/zero | tr '\0' 'a' >"$tmp/www/100b"
head -c 65536 /dev/zero | tr '\0' 'b' >"$tmp/www/64k"
chmod -R a+rX "$tmp/www"

cat >"$tmp/report.lua" <<'EOF'
-- Prints one machine-readable line; latency in microseconds.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %d %d %d %d %d %d %d %d %.1f %.1f\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
EOF

# ---------------------------------------------------------------------------------------------
# Origins: two nginx instances, one worker each, pinned to the client CPU(s).

nginx_common() { # nginx_common DIR: main-context lines shared by origins and the nginx proxy
  cat <<EOF
worker_processes $2;
daemon off;
pid $1/nginx.pid;
error_log $out/logs/$(basename "$1").error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; }
EOF
}
nginx_temp_paths() {
  local d
  for d in client_body proxy fastcgi uwsgi scgi; do echo "  ${d}_temp_path $1/$d;"; done
}

start_origin() { # start_origin N PORT
  local dir="$tmp/origin$1"
  mkdir -p "$dir"
  {
    nginx_common "$dir" 1
    echo "http {"
    nginx_temp_paths "$dir"
    cat <<EOF
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 300;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$2 backlog=4096;
    root $tmp/www;
    location / { }
  }
}
EOF
  } >"$dir/nginx.conf"
  taskset -c "$client_cpus" nginx -p "$dir" -c "$dir/nginx.conf" -e "$out/logs/$(basename "$dir").error.log" >"$out/logs/origin$1.log" 2>&1 &
  pids+=("$!")
}


start_origin 1 "$origin1"; origin1_pid="${pids[-1]}"
start_origin 2 "$origin2"; origin2_pid="${pids[-1]}"
wait_port "$origin1_pid" "$origin1" || die "the nginx origin 1 did not start; see $out/logs/origin1*"
wait_port "$origin2_pid" "$origin2" || die "the nginx origin 2 did not start; see $out/logs/origin2*"
[ "$(curl -s --max-time 5 "http://127.0.0.1:$origin1/64k" | wc -c)" -eq 65536 ] || die "origin 1 does not serve /64k"

# ---------------------------------------------------------------------------------------------
# Proxies under test. Each start gets one mode (ec, rsa, plain or h2) and listens on 127.0.0.1.
# h2 is ec with HTTP/2 on; the other modes' configs do not offer it.

cert_name() { if [ "$1" = h2 ]; then echo ec; else echo "$1"; fi; }
cert_of() { echo "$tmp/$(cert_name "$1").pem"; }
key_of() { echo "$tmp/$(cert_name "$1").key"; }

write_moonbeam_config() { # MODE FILE PROXY
  local ssl="" provider="" warmup="" http2=""
  [ "$3" = moonbeam-jsse ] && provider=", \"provider\": \"jdk\""
  [ "$1" = h2 ] && http2=$',\n  "http2": {"enabled": true}'
  [ "$3" = moonbeam-nowarmup ] && warmup=$',\n  "warmup": {"enabled": false}'
  [ "$3" != moonbeam-nowarmup ] && [ -n "$warmup_phase" ] && warmup=$',\n  "warmup": {"duration": '"$warmup_phase"'}'
  [ "$1" = plain ] || ssl=", \"ssl\": {\"cert_file\": \"$(cert_of "$1")\", \"key_file\": \"$(key_of "$1")\"$provider}"
  cat >"$2" <<EOF
{
  "listen": "127.0.0.1:$port",
  "threads": $threads,
  "backend_servers": ["127.0.0.1:$origin1", "127.0.0.1:$origin2"]$ssl,
  "log": {"file": null, "level": "$moonbeam_log"}$warmup$http2
}
EOF
}

write_nginx_proxy_config() { # MODE DIR
  local listen_ssl="" tls_lines=""
  if [ "$1" != plain ]; then
    listen_ssl=" ssl"
    # nginx 1.22: HTTP/2 is a listen parameter ("http2 on;" came in 1.25.1). keepalive_requests
    # below also bounds the requests per HTTP/2 connection (http2_max_requests is obsolete).
    [ "$1" = h2 ] && listen_ssl=" ssl http2"
    tls_lines="    ssl_certificate $(cert_of "$1");
    ssl_certificate_key $(key_of "$1");
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;"
  fi
  {
    nginx_common "$2" "$threads"
    echo "http {"
    nginx_temp_paths "$2"
    cat <<EOF
  access_log off;
  keepalive_timeout 300;
  keepalive_requests 10000000;
  upstream origins {
    least_conn;
    server 127.0.0.1:$origin1;
    server 127.0.0.1:$origin2;
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$nginx_port$listen_ssl backlog=4096;
$tls_lines
    location / {
      proxy_pass http://origins;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_buffer_size 16k;
      proxy_buffers 8 16k;
    }
  }
}
EOF
  } >"$2/nginx.conf"
}

write_haproxy_config() { # MODE FILE
  local bind="bind 127.0.0.1:$haproxy_port"
  case "$1" in
    plain) ;;
    h2) bind+=" ssl crt $tmp/ec.haproxy.pem alpn h2,http/1.1" ;;
    *) bind+=" ssl crt $tmp/$1.haproxy.pem alpn http/1.1" ;;
  esac
  cat >"$2" <<EOF
global
  nbthread $threads
  maxconn 4096
  ssl-default-bind-options ssl-min-ver TLSv1.2
  log stderr format raw local0 warning

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 300s
  option http-keep-alive

frontend fe
  $bind
  default_backend origins

backend origins
  balance leastconn
  http-reuse always
  option forwardfor
  server o1 127.0.0.1:$origin1
  server o2 127.0.0.1:$origin2
EOF
}

proxy_pid="" proxy_port=""
start_proxy() { # start_proxy PROXY MODE; sets proxy_pid and proxy_port
  local proxy="$1" mode="$2" log="$out/logs/$1-$2-round$round.log" dir
  case "$proxy" in
    moonbeam*)
      proxy_port="$port"
      write_moonbeam_config "$mode" "$tmp/$proxy-$mode.json" "$proxy"
      # moonbeam.sh execs the JVM, so $! is the JVM's PID.
      local jit="${MOONBEAM_JIT:-}"
      [ "$proxy" = moonbeam-tiered ] && jit=tiered
      [ "$proxy" = moonbeam-tiered-nice ] && jit=tiered-nice
      [ "$proxy" = moonbeam-c1 ] && jit=c1
      MOONBEAM_JIT="$jit" MOONBEAM_JAVA="${moonbeam_java[$proxy]:-}" taskset -c "$proxy_cpus" "$home/scripts/moonbeam.sh" \
        --config "$tmp/$proxy-$mode.json" --threads "$threads" >"$log" 2>&1 &
      ;;
    nginx)
      proxy_port="$nginx_port"
      dir="$tmp/nginx-proxy-$mode"
      mkdir -p "$dir"
      write_nginx_proxy_config "$mode" "$dir"
      taskset -c "$proxy_cpus" nginx -p "$dir" -c "$dir/nginx.conf" -e "$out/logs/$(basename "$dir").error.log" >"$log" 2>&1 &
      ;;
    haproxy)
      proxy_port="$haproxy_port"
      write_haproxy_config "$mode" "$tmp/haproxy-$mode.cfg"
      taskset -c "$proxy_cpus" haproxy -db -f "$tmp/haproxy-$mode.cfg" >"$log" 2>&1 &
      ;;
  esac
  proxy_pid="$!"
  pids+=("$proxy_pid")
  wait_port "$proxy_pid" "$proxy_port"
}

proxy_url() { # proxy_url MODE PATH
  if [ "$1" = plain ]; then echo "http://127.0.0.1:$proxy_port$2"; else echo "https://127.0.0.1:$proxy_port$2"; fi
}

# The proxy's processes: the main PID and its children (nginx workers). A JVM's threads are
# counted in its own /proc/PID/stat.
proxy_procs() { echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null || true; }
cpu_ticks() { # "USER KERNEL": utime and stime of the proxy's processes, in clock ticks
  local p user=0 kernel=0 fields
  for p in $(proxy_procs "$1"); do
    # Field 2 (comm) may contain spaces: cut everything up to ") " first; utime/stime are then fields 12/13.
    fields="$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null)" || continue
    read -r user kernel <<<"$(echo "$fields" | awk -v u="$user" -v k="$kernel" '{print u + $12, k + $13}')"
  done
  echo "$user $kernel"
}
rss_kb() {
  local p total=0 kb
  for p in $(proxy_procs "$1"); do
    kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)" || kb=0
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
clk_tck="$(getconf CLK_TCK)"
now() { date +%s.%N; }

# ---------------------------------------------------------------------------------------------
# Load generators

run_wrk() { # run_wrk URL SECONDS OUTFILE (in the background; pid in $!)
  taskset -c "$client_cpus" timeout -k 5 $(($2 + 30)) wrk -t1 -c"$connections" -d"${2}s" --timeout 5s --latency -s "$tmp/report.lua" "$1" >"$3" 2>&1 &
  pids+=("$!")
}

run_h2load() { # run_h2load URL SECONDS OUTFILE [LOGFILE] (in the background; pid in $!)
  # --npn-list h2: offer only h2, so a proxy without HTTP/2 fails the run instead of being measured
  # over HTTP/1.1. LOGFILE: one line per request (start us, status, duration us) for percentiles.
  local log=()
  [ -z "${4:-}" ] || log=("--log-file=$4")
  taskset -c "$client_cpus" timeout -k 5 $(($2 + 30)) h2load -t1 -c"$connections" -m"$h2_streams" -D"$2" \
    --npn-list=h2 "${log[@]}" "$1" >"$3" 2>&1 &
  pids+=("$!")
}

stime_pids=()
start_stime() { # start_stime new|reuse PATH SECONDS OUTPREFIX [CLIENTS]: parallel clients in the background
  local k
  stime_pids=()
  rm -f "$4".*
  for k in $(seq 1 "${5:-$hs_clients}"); do
    # timeout: s_time waits for the server to close each connection; a proxy that keeps an
    # HTTP/1.0 connection open would otherwise stall it far beyond -time.
    taskset -c "$client_cpus" timeout -k 5 $(($3 + 20)) \
      openssl s_time -connect "127.0.0.1:$proxy_port" -www "$2" "-$1" -time "$3" >"$4.$k" 2>&1 &
    pids+=("$!")
    stime_pids+=("$!")
  done
}
wait_stime() { # wait_stime OUTPREFIX: waits for the clients; nonzero exit codes go to OUTPREFIX.exit
  local k rc
  for k in "${stime_pids[@]}"; do
    rc=0
    wait "$k" || rc=$?
    [ "$rc" -eq 0 ] || echo "s_time exit code $rc$([ "$rc" -eq 124 ] && echo ' (timed out: the proxy kept a connection open)')" >>"$1.exit"
    forget_pid "$k"
  done
  stime_pids=()
}

warm_up() { # warm_up MODE: exercises the paths the selected scenarios of MODE use
  local mode="$1" s uses_stime=0 paths=(/100b) left chunk i=0 churn=0
  [ "$warmup" -ge 1 ] || return 0
  for s in "${scenarios[@]}"; do
    [ "$(scenario_mode "$s")" = "$mode" ] || continue
    [ "$(scenario_tool "$s")" != wrk ] && uses_stime=1
    [[ " ${paths[*]} " == *" $(scenario_path "$s") "* ]] || paths+=("$(scenario_path "$s")")
  done
  # Like production traffic, the warm-up mixes new connections into the keep-alive load: one
  # s_time client handshakes throughout (TLS), and wrk reconnects every few seconds. A JIT that
  # only ever saw established connections compiles the accept, handshake and close branches out
  # and deoptimises its hottest code when the measured run connects (docs/benchmarks.md). The h2
  # mode warms up with h2load the same way.
  if [ "$mode" != plain ]; then
    start_stime new /100b "$warmup" "$tmp/warmup-churn" 1
    churn=1
  fi
  left="$warmup"
  while [ "$left" -gt 0 ]; do
    chunk=$((left < warmup_chunk ? left : warmup_chunk))
    if [ "$mode" = h2 ]; then
      run_h2load "$(proxy_url "$mode" "${paths[$((i % ${#paths[@]}))]}")" "$chunk" "$out/logs/warmup-$current-$mode-round$round.txt"
    else
      run_wrk "$(proxy_url "$mode" "${paths[$((i % ${#paths[@]}))]}")" "$chunk" "$out/logs/warmup-$current-$mode-round$round.txt"
    fi
    wait "$!" || true
    forget_pid "$!"
    left=$((left - chunk)) i=$((i + 1))
  done
  [ "$churn" -eq 0 ] || wait_stime "$tmp/warmup-churn"
  if [ "$uses_stime" -eq 1 ] && [ "$hs_warmup" -ge 1 ]; then
    start_stime new /100b "$hs_warmup" "$tmp/warmup-stime"
    wait_stime "$tmp/warmup-stime"
  fi
}

record() { # record PROXY SCENARIO requests seconds rps mbps p50 p99 errors cpu percore rss status note
  local IFS=$'\t'
  echo "$round	$*" >>"$runs"
}

measure() { # measure PROXY SCENARIO: one measured run against the running proxy
  local proxy="$1" s="$2" mode tool path url raw t0 t1 c0 c1 wall cpu rss=0 rss_mid wpid
  local requests bytes errors p50="-" p99="-" note="" rps mbps percore
  mode="$(scenario_mode "$s")" tool="$(scenario_tool "$s")" path="$(scenario_path "$s")"
  url="$(proxy_url "$mode" "$path")"
  raw="$out/logs/$proxy-$s-round$round.txt"
  c0="$(cpu_ticks "$proxy_pid")"; t0="$(now)"
  if [ "$tool" = wrk ]; then
    run_wrk "$url" "$duration" "$raw"
    wpid="$!"
  elif [ "$tool" = h2load ]; then
    rm -f "$tmp/h2load.log"
    run_h2load "$url" "$duration" "$raw" "$tmp/h2load.log"
    wpid="$!"
  else
    start_stime "$tool" "$path" "$duration" "$tmp/stime"
  fi
  # RSS under load: sampled a few times while the load runs, maximum kept.
  for _ in 1 2 3; do
    sleep "$(awk -v d="$duration" 'BEGIN {print d / 4}')"
    rss_mid="$(rss_kb "$proxy_pid")"
    [ "$rss_mid" -gt "$rss" ] && rss="$rss_mid"
  done
  if [ "$tool" = wrk ] || [ "$tool" = h2load ]; then
    wait "$wpid" || true
    forget_pid "$wpid"
  else
    wait_stime "$tmp/stime"
  fi
  c1="$(cpu_ticks "$proxy_pid")"; t1="$(now)"
  wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')"
  local user_ticks kernel_ticks
  read -r user_ticks kernel_ticks <<<"$(awk -v a="$c0" -v b="$c1" 'BEGIN {split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2]}')"
  cpu="$(awk -v c=$((user_ticks + kernel_ticks)) -v hz="$clk_tck" -v w="$wall" 'BEGIN {printf "%.1f", 100 * c / hz / w}')"

  if [ "$tool" = wrk ]; then
    local line
    line="$(grep '^WRKRESULT' "$raw" || true)"
    if [ -z "$line" ]; then
      record "$proxy" "$s" - - - - - - - "$cpu" - "$((rss / 1024))" failed "wrk printed no result: $(tr '\n' ' ' <"$raw" | cut -c1-200)"
      return
    fi
    # WRKRESULT requests duration_us bytes connect read write status timeout p50_us p99_us
    read -r _ requests wall bytes e_conn e_read e_write e_status e_timeout p50 p99 <<<"$line"
    wall="$(awk -v u="$wall" 'BEGIN {printf "%.3f", u / 1e6}')"
    errors=$((e_conn + e_read + e_write + e_status + e_timeout))
    [ "$errors" -eq 0 ] || note="connect $e_conn, read $e_read, write $e_write, status $e_status, timeout $e_timeout"
    p50="$(awk -v u="$p50" 'BEGIN {printf "%.2f", u / 1000}')"
    p99="$(awk -v u="$p99" 'BEGIN {printf "%.2f", u / 1000}')"
  elif [ "$tool" = h2load ]; then
    # h2load's summary:
    #   finished in 10.00s, 42138.30 req/s, 6.67MB/s
    #   requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
    #   status codes: N 2xx, N 3xx, N 4xx, N 5xx
    #   traffic: 66.74MB (69985232) total, ...
    #   time for request: min max mean sd +/-sd   (no percentiles: p50/p99 come from --log-file)
    #   Application protocol: h2
    local line proto r_failed r_errored r_timeout s4 s5 mean sd
    line="$(sed -n 's/^requests: [0-9]* total, [0-9]* started, \([0-9]*\) done, [0-9]* succeeded, \([0-9]*\) failed, \([0-9]*\) errored, \([0-9]*\) timeout.*/\1 \2 \3 \4/p' "$raw" | head -n1)"
    proto="$(sed -n 's/^Application protocol: *//p' "$raw" | head -n1)"
    if [ -z "$line" ] || [ "$proto" != h2 ]; then
      rm -f "$tmp/h2load.log"
      record "$proxy" "$s" - - - - - - - "$cpu" - "$((rss / 1024))" failed \
        "h2load printed no result${proto:+ (protocol $proto)}: $(grep -v '^progress:\|^spawning\|^starting\|^Warm-up\|^Main benchmark' "$raw" | tr '\n' ' ' | cut -c1-200)"
      return
    fi
    read -r requests r_failed r_errored r_timeout <<<"$line"
    read -r s4 s5 <<<"$(sed -n 's/^status codes: [0-9]* 2xx, [0-9]* 3xx, \([0-9]*\) 4xx, \([0-9]*\) 5xx.*/\1 \2/p' "$raw" | head -n1)"
    wall="$(sed -n 's/^finished in \([0-9.]*\)\(m\{0,1\}s\),.*/\1 \2/p' "$raw" | head -n1 | awk '{printf "%.3f", $2 == "ms" ? $1 / 1000 : $1}')"
    bytes="$(sed -n 's/^traffic: .*(\([0-9]*\)) total.*/\1/p' "$raw" | head -n1)"
    errors=$((r_failed + r_errored + r_timeout + ${s4:-0} + ${s5:-0}))
    [ "$errors" -eq 0 ] || note="failed $r_failed, errored $r_errored, timeout $r_timeout, 4xx ${s4:-0}, 5xx ${s5:-0}; "
    # Percentiles (nearest rank) over every request in the log; status and duration in us.
    if [ -s "$tmp/h2load.log" ]; then
      read -r p50 p99 <<<"$(awk -F'\t' '{print $3}' "$tmp/h2load.log" | sort -n | awk '
        { d[NR] = $1 }
        END { if (NR == 0) { print "- -"; exit }
              i = int(NR * 0.50); if (i < NR * 0.50) i++; j = int(NR * 0.99); if (j < NR * 0.99) j++
              printf "%.2f %.2f\n", d[i] / 1000, d[j] / 1000 }')"
    fi
    rm -f "$tmp/h2load.log"
    read -r mean sd <<<"$(sed -n 's/^time for request: *[0-9.]*[mu]*s *[0-9.]*[mu]*s *\([0-9.]*[mu]*s\) *\([0-9.]*[mu]*s\).*/\1 \2/p' "$raw" | head -n1)"
    note+="h2load time for request: mean ${mean:-?}, sd ${sd:-?}"
  else
    # s_time: "N connections in T real seconds, B bytes read per connection"; "*" = full
    # handshake, "r" = resumed. Throughput uses our own wall clock (s_time's is whole seconds).
    local k n b full=0 resumed=0
    requests=0 bytes=0 errors=0
    for k in $(seq 1 "$hs_clients"); do
      cat "$tmp/stime.$k" >>"$raw"
      n="$(sed -n 's/^\([0-9]*\) connections in [0-9]* real seconds, \([0-9]*\) bytes.*/\1 \2/p' "$tmp/stime.$k" | head -n1)"
      if [ -z "$n" ]; then errors=$((errors + 1)); continue; fi
      b="${n#* }" n="${n% *}"
      requests=$((requests + n)); bytes=$((bytes + n * b))
      grep -q 'ERROR' "$tmp/stime.$k" && errors=$((errors + 1))
      full=$((full + $(grep -E '^[*r]+$' "$tmp/stime.$k" | tr -cd '*' | wc -c)))
      resumed=$((resumed + $(grep -E '^[*r]+$' "$tmp/stime.$k" | tr -cd 'r' | wc -c)))
    done
    [ -f "$tmp/stime.exit" ] && { errors=$((errors + $(wc -l <"$tmp/stime.exit"))); cat "$tmp/stime.exit" >>"$raw"; }
    rm -f "$tmp"/stime.*
    note="$full full, $resumed resumed handshakes"
    [ "$errors" -eq 0 ] || note+="; $errors s_time client(s) stopped on an error (see logs/$(basename "$raw"))"
  fi
  if [ "$requests" -eq 0 ]; then
    record "$proxy" "$s" 0 "$wall" 0 0 - - "$errors" "$cpu" - "$((rss / 1024))" failed "no successful requests; ${note}"
    return
  fi
  rps="$(awk -v n="$requests" -v w="$wall" 'BEGIN {printf "%.0f", n / w}')"
  mbps="$(awk -v b="$bytes" -v w="$wall" 'BEGIN {printf "%.2f", b / w / 1048576}')"
  percore="$(awk -v r="$rps" -v c="$cpu" 'BEGIN {if (c > 0.5) printf "%.0f", r / (c / 100); else print "-"}')"
  # Where a request's CPU goes: user space (proxy code, TLS library) against the kernel (sockets,
  # epoll). Two proxies with the same kernel share differ only in their own code.
  note="$(awk -v u="$user_ticks" -v k="$kernel_ticks" -v hz="$clk_tck" -v n="$requests" -v prev="$note" 'BEGIN {
    printf "%sCPU per request: user %.1f us, kernel %.1f us", (prev == "" ? "" : prev "; "), u / hz * 1e6 / n, k / hz * 1e6 / n }')"
  record "$proxy" "$s" "$requests" "$wall" "$rps" "$mbps" "$p50" "$p99" "$errors" "$cpu" "$percore" \
    "$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')" ok "$note"
}

sanity_check() { # sanity_check MODE: one request of each size through the proxy
  local got
  got="$(curl -sk --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' "$(proxy_url "$1" /100b)" || true)"
  [ "$got" = "200 100" ] || { echo "GET /100b answered '$got', expected '200 100'"; return 1; }
  got="$(curl -sk --max-time 5 -o /dev/null -w '%{http_code} %{size_download}' "$(proxy_url "$1" /64k)" || true)"
  [ "$got" = "200 65536" ] || { echo "GET /64k answered '$got', expected '200 65536'"; return 1; }
  # h2 mode: the proxy must answer over HTTP/2 (when this curl speaks it; h2load checks it anyway).
  if [ "$1" = h2 ] && curl -V 2>/dev/null | grep -qw HTTP2; then
    got="$(curl -sk --http2 --max-time 5 -o /dev/null -w '%{http_code} %{size_download} %{http_version}' "$(proxy_url "$1" /64k)" || true)"
    [ "$got" = "200 65536 2" ] || { echo "GET /64k over HTTP/2 answered '$got', expected '200 65536 2'"; return 1; }
  fi
}

if [ "$cold" -eq 1 ]; then
  [ "$cold_windows" -ge 2 ] && [ "$cold_window_s" -ge 1 ] || die "--cold-windows must be at least 2 and --window at least 1"
  source "$home/scripts/lib/bench-cold.sh"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Rounds: for each round, each proxy in turn (never two at once), each mode: start, check,
# warm up, measure the mode's scenarios, stop.

modes=()
for s in "${scenarios[@]}"; do
  m="$(scenario_mode "$s")"
  [[ " ${modes[*]} " == *" $m "* ]] || modes+=("$m")
done

say "proxies: ${proxies[*]}; scenarios: ${scenarios[*]}; $rounds round(s) of ${duration}s per scenario after ${warmup}s warm-up (+${hs_warmup}s before handshakes)"
say "proxy on CPU $proxy_cpus with $threads thread(s); wrk/s_time/h2load/origins on CPU $client_cpus; output in $out"
for round in $(seq 1 "$rounds"); do
  # Rotate the order each round so no proxy always runs first (e.g. right after the origins warmed).
  order=("${proxies[@]:$(( (round - 1) % ${#proxies[@]} ))}" "${proxies[@]:0:$(( (round - 1) % ${#proxies[@]} ))}")
  for current in "${order[@]}"; do
    for mode in "${modes[@]}"; do
      say "round $round/$rounds: $current ($mode)"
      problem=""
      if ! start_proxy "$current" "$mode"; then
        problem="did not start or listen on port $proxy_port: $(tail -n 3 "$out/logs/$current-$mode-round$round.log" | tr '\n' ' ')"
      elif ! problem="$(sanity_check "$mode")"; then
        :
      fi
      if [ -z "$problem" ]; then
        warm_up "$mode"
        for s in "${scenarios[@]}"; do
          [ "$(scenario_mode "$s")" = "$mode" ] || continue
          if ! kill -0 "$proxy_pid" 2>/dev/null; then
            record "$current" "$s" - - - - - - - - - - failed "proxy process exited during the run"
            continue
          fi
          measure "$current" "$s"
        done
      else
        say "  $current ($mode): $problem"
        for s in "${scenarios[@]}"; do
          [ "$(scenario_mode "$s")" = "$mode" ] && record "$current" "$s" - - - - - - - - - - failed "$problem"
        done
      fi
      stop_pid "$proxy_pid"
      sleep 1
    done
  done
done

# ---------------------------------------------------------------------------------------------
# Summary: medians over rounds (errors summed, RSS maximum), table, JSON, SVG.

machine_cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
machine_kernel="$(uname -sr)"
if [ -n "$java_list" ]; then
  machine_java=""
  for p in "${proxies[@]}"; do
    [ -n "${moonbeam_java[$p]:-}" ] && machine_java+="${machine_java:+; }$p: $("${moonbeam_java[$p]}" -version 2>&1 | head -n1)"
  done
else
  machine_java="$(MOONBEAM_JAVA= "$home/scripts/moonbeam.sh" --version 2>&1 | head -n1)"
fi
machine_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
summary="$out/summary.tsv"

awk -F'\t' -v scen="${scenarios[*]}" -v prox="${proxies[*]}" '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return "-"
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  NR == 1 { next }
  {
    k = $3 SUBSEP $2
    runs[k]++
    if ($14 == "ok") {
      ok[k]++
      for (c = 6; c <= 13; c++) if ($c != "-" && c != 10 && c != 13) vals[k, c] = vals[k, c] " " $c
      if ($13 != "-" && $13 + 0 > rss[k] + 0) rss[k] = $13
      if (match($15, /user [0-9.]+ us, kernel [0-9.]+ us/)) {
        split(substr($15, RSTART, RLENGTH), cpu_split, " ")
        user_us[k] = user_us[k] " " cpu_split[2]; kernel_us[k] = kernel_us[k] " " cpu_split[5]
      }
    } else if (!(k in why)) why[k] = $15
    if ($10 != "-") err[k] += $10
  }
  END {
    ns = split(scen, S, " "); np = split(prox, P, " ")
    print "scenario\tproxy\trounds_ok\trps\trps_per_core\tmbps\tp50_ms\tp99_ms\terrors\tcpu_pct\trss_mb\tnote\tuser_us_per_req\tkernel_us_per_req"
    for (i = 1; i <= ns; i++) for (j = 1; j <= np; j++) {
      k = S[i] SUBSEP P[j]
      if (!(k in runs)) continue
      note = (ok[k] + 0 < runs[k]) ? (runs[k] - ok[k]) " of " runs[k] " round(s) failed: " why[k] : ""
      if (ok[k] + 0 == 0) { printf "%s\t%s\t0/%d\t-\t-\t-\t-\t-\t%d\t-\t-\t%s\n", S[i], P[j], runs[k], err[k], note; continue }
      printf "%s\t%s\t%d/%d\t%.0f\t%s\t%.2f\t%s\t%s\t%d\t%.1f\t%s\t%s\t%s\t%s\n", S[i], P[j], ok[k], runs[k],
        median(vals[k, 6]), (vals[k, 12] == "" ? "-" : sprintf("%.0f", median(vals[k, 12]))), median(vals[k, 7]),
        (vals[k, 8] == "" ? "-" : sprintf("%.2f", median(vals[k, 8]))), (vals[k, 9] == "" ? "-" : sprintf("%.2f", median(vals[k, 9]))),
        err[k], median(vals[k, 11]), (rss[k] == "" ? "-" : rss[k]), note,
        (user_us[k] == "" ? "-" : sprintf("%.1f", median(user_us[k]))), (kernel_us[k] == "" ? "-" : sprintf("%.1f", median(kernel_us[k])))
    }
  }' "$runs" >"$summary"

# Table on stdout
{
  echo
  echo "MoonBeam benchmark, $machine_date — $ncpu CPU ($machine_cpu), $machine_kernel, $machine_java"
  echo "threads=$threads, ${duration}s per scenario, ${warmup}s warm-up (+${hs_warmup}s before handshakes), $rounds round(s), median shown; per-core = req/s / proxy CPU share"
  echo "load average (1/5/15 min) before: $load_start, after: $load_end"
  echo
  awk -F'\t' '
    NR == 1 { printf "%-13s %-14s %6s %9s %10s %8s %8s %8s %7s %6s %8s %17s\n", "scenario", "proxy", "rounds", "req/s", "req/s/core", "MB/s", "p50 ms", "p99 ms", "errors", "CPU%", "RSS MB", "CPU us/req u+k"; next }
    { printf "%-13s %-14s %6s %9s %10s %8s %8s %8s %7s %6s %8s %17s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, ($13 == "-" ? "-" : $13 "+" $14)
      if ($12 != "") notes = notes "  " $1 "/" $2 ": " $12 "\n" }
    END { if (notes != "") printf "\nproblems:\n%s", notes }' "$summary"
  echo
  echo "results: $out/results.json, chart: $out/chart.svg, raw runs: $out/runs.tsv, logs: $out/logs/"
} | tee "$out/table.txt"

# JSON (written by awk; strings are escaped for quotes and backslashes)
awk -F'\t' -v cpu="$machine_cpu" -v ncpu="$ncpu" -v kernel="$machine_kernel" -v jdk="$machine_java" \
    -v date="$machine_date" -v load0="$load_start" -v load1="$load_end" -v threads="$threads" -v dur="$duration" -v warm="$warmup" -v hswarm="$hs_warmup" -v rounds="$rounds" \
    -v conns="$connections" -v h2s="$h2_streams" -v hs="$hs_clients" -v pcpu="$proxy_cpus" -v ccpu="$client_cpus" -v runsfile="$runs" '
  function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return "\"" s "\"" }
  function v(s) { return (s == "-" || s == "") ? "null" : s }
  BEGIN {
    printf "{\n  \"date\": %s,\n  \"machine\": {\"nproc\": %d, \"cpu\": %s, \"kernel\": %s, \"jdk\": %s, \"loadavg_before\": %s, \"loadavg_after\": %s},\n", q(date), ncpu, q(cpu), q(kernel), q(jdk), q(load0), q(load1)
    printf "  \"settings\": {\"threads\": %d, \"duration_s\": %d, \"warmup_s\": %d, \"handshake_warmup_s\": %d, \"rounds\": %d, \"connections\": %d, \"h2_streams\": %d, \"handshake_clients\": %d, \"proxy_cpus\": %s, \"client_cpus\": %s},\n", threads, dur, warm, hswarm, rounds, conns, h2s, hs, q(pcpu), q(ccpu)
    printf "  \"results\": ["
  }
  FNR == 1 { next }
  FILENAME != runsfile {
    split($3, r, "/")
    printf "%s\n    {\"scenario\": %s, \"proxy\": %s, \"rounds_ok\": %d, \"rounds\": %d, \"rps\": %s, \"rps_per_core\": %s, \"mb_per_s\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"errors\": %d, \"cpu_pct\": %s, \"rss_mb\": %s, \"user_us_per_request\": %s, \"kernel_us_per_request\": %s, \"note\": %s}", (n++ ? "," : ""), q($1), q($2), r[1], r[2], v($4), v($5), v($6), v($7), v($8), $9, v($10), v($11), v($13), v($14), q($12)
    next
  }
  {
    if (!started) { printf "\n  ],\n  \"runs\": ["; started = 1 }
    printf "%s\n    {\"round\": %d, \"proxy\": %s, \"scenario\": %s, \"requests\": %s, \"seconds\": %s, \"rps\": %s, \"mb_per_s\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"errors\": %s, \"cpu_pct\": %s, \"rps_per_core\": %s, \"rss_mb\": %s, \"status\": %s, \"note\": %s}", (m++ ? "," : ""), $1, q($2), q($3), v($4), v($5), v($6), v($7), v($8), v($9), v($10), v($11), v($12), v($13), q($14), q($15)
  }
  END { if (!started) printf "\n  ],\n  \"runs\": ["; printf "\n  ]\n}\n" }' "$summary" "$runs" >"$out/results.json"

# SVG: one group of horizontal bars per scenario (per-core req/s, one bar per proxy). Each group
# has its own scale because handshakes and keep-alive requests differ by orders of magnitude.
awk -F'\t' -v title="Requests/s per proxy CPU core (median; $threads thread(s); $machine_date)" \
    -v sub_title="$ncpu CPU: $machine_cpu" '
  function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
  NR == 1 { next }
  {
    if (!($1 in seen)) { seen[$1] = 1; order[++ns] = $1 }
    if (!($2 in pseen)) { pseen[$2] = 1; porder[++np] = $2 }
    val[$1, $2] = $5; have[$1, $2] = 1
    if ($5 != "-" && $5 + 0 > max[$1] + 0) max[$1] = $5
  }
  END {
    color["moonbeam"] = "#3b6fd8"; color["moonbeam-jdk17"] = "#9bb5ea"; color["moonbeam-jdk21"] = "#6a8fe0"; color["moonbeam-jdk25"] = "#3b6fd8"; color["moonbeam-jsse"] = "#9bb5ea"; color["moonbeam-tiered"] = "#7a5cc7"; color["moonbeam-c1"] = "#5c8fc7"; color["moonbeam-tiered-nice"] = "#a58be0"; color["nginx"] = "#2e9d4f"; color["haproxy"] = "#d9822b"
    bar = 18; gap = 4; left = 130; width = 520; top = 70
    h = top + ns * (np * (bar + gap) + 26) + 40
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", left + width + 120, h
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", esc(title)
    printf "<text x=\"10\" y=\"40\" fill=\"#555\">%s; each scenario scaled to its own maximum</text>\n", esc(sub_title)
    for (j = 1; j <= np; j++) {
      c = (porder[j] in color) ? color[porder[j]] : "#888"
      printf "<rect x=\"%d\" y=\"50\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"60\">%s</text>\n", 10 + (j - 1) * 110, c, 26 + (j - 1) * 110, esc(porder[j])
    }
    y = top
    for (i = 1; i <= ns; i++) {
      s = order[i]
      printf "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>\n", y + bar, esc(s)
      for (j = 1; j <= np; j++) {
        p = porder[j]; c = (p in color) ? color[p] : "#888"
        if (!have[s, p]) { y += bar + gap; continue }
        v = val[s, p]
        if (v == "-" || max[s] + 0 == 0) {
          printf "<text x=\"%d\" y=\"%d\" fill=\"#b00\">%s: no result</text>\n", left, y + 13, esc(p)
        } else {
          w = int(width * v / max[s] + 0.5); if (w < 1) w = 1
          printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s %s: %s req/s per core</title></rect>\n", left, y, w, bar, c, esc(s), esc(p), v
          printf "<text x=\"%d\" y=\"%d\">%s</text>\n", left + w + 5, y + 13, v
        }
        y += bar + gap
      }
      y += 26
    }
    printf "</svg>\n"
  }' "$summary" >"$out/chart.svg"

if command -v rsvg-convert >/dev/null 2>&1; then
  rsvg-convert "$out/chart.svg" -o "$out/chart.png" 2>/dev/null || true
elif command -v convert >/dev/null 2>&1; then
  convert "$out/chart.svg" "$out/chart.png" 2>/dev/null || true
fi
say "done: $out"
