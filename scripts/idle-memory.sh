#!/usr/bin/env bash
# Measures memory per idle keep-alive TLS connection: RSS (and, for MoonBeam, live heap after a full
# GC) before and after N clients connect, make one request each through the proxy to an nginx
# origin, and stay idle. With --compare, nginx and HAProxy are measured the same way, one at a time.
#   scripts/idle-memory.sh [N] [--compare nginx,haproxy] [--h2]   (default N 10000; loopback only;
#   everything started is stopped). --h2: the clients speak HTTP/2 (ALPN h2; every proxy has it on)
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$home/scripts/lib/common.sh"
count=10000 compare="" h2=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    --h2) h2=h2; shift ;;
    --compare) compare="${2:?--compare needs a list, e.g. nginx,haproxy}"; shift 2 ;;
    --help|-h) sed -n '2,7p' "$0"; exit 0 ;;
    *) [[ "$1" =~ ^[0-9]+$ ]] || { echo "idle-memory.sh: unknown argument $1" >&2; exit 2; }; count="$1"; shift ;;
  esac
done
port=29443 origin_port=29081
[ "$(ulimit -n)" -gt $((count + 1000)) ] || ulimit -n $((count + 4000)) 2>/dev/null \
  || { echo "idle-memory.sh: needs more than $count open files (ulimit -n)" >&2; exit 1; }
need_tool nginx nginx-light
[[ ",$compare," == *",haproxy,"* ]] && need_tool haproxy haproxy
[ -z "$install_hint" ] || { echo "idle-memory.sh: missing tools; install them (as root: apt-get install -y$install_hint)" >&2; exit 1; }

prepare_tls_work moonbeam-idle
mkdir -p "$work/nginx"
start_static_origin "$work" "$origin_port" || { echo "idle-memory.sh: the nginx origin did not start" >&2; exit 1; }

rss_of() { # RSS KiB of process $1 and its children
  local total=0 p kb
  for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}
heap_of() { # live heap KiB after a full GC ("-" for a non-JVM)
  [ "$2" = moonbeam ] || { echo -; return; }
  "$jcmd" "$1" GC.run >/dev/null
  # Sum the generations: lines with "total" and "used" (serial: DefNew/"def new generation" and
  # Tenured; G1: one heap line), not Metaspace's "used ... committed" lines.
  "$jcmd" "$1" GC.heap_info | awk '/ total / && / used / && !/Metaspace|class space/ {
    for (i = 1; i < NF; i++) if ($i == "used") { v = $(i + 1); sub(/K,?/, "", v); sum += v } } END { print sum + 0 }'
}
clients() { # clients N HOLD_SECONDS; exec, so that a background call's $! is the JVM itself and
  # killing it ends the clients (killing a subshell would leave its java holding for HOLD_SECONDS)
  exec "$java" -Xss256k -cp "target/test-classes:target/moonbeam.jar" dev.moonbeam.tools.IdleTlsClients 127.0.0.1 "$port" "$1" "$2" $h2
}

results=()
for proxy in moonbeam ${compare//,/ }; do
  case "$proxy" in
    moonbeam)
      # Idle connections need no backend descriptors: above the default cap (half the open files).
      cat >"$work/config.json" <<JSON
{"listen": "127.0.0.1:$port", "threads": 1, "backend_servers": ["127.0.0.1:$origin_port"], "log": {"file": null},
 "limits": {"max_client_connections": $((count + 1000))},
 "http2": {"enabled": $([ -n "$h2" ] && echo true || echo false)},
 "ssl": {"cert_file": "$work/cert.pem", "key_file": "$work/key.pem"}}
JSON
      "$home/scripts/moonbeam.sh" --config "$work/config.json" >"$work/proxy.log" 2>&1 & ;;
    nginx)
      cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile $((count + 4000));
daemon off;
pid $work/nginx/nginx.pid;
events { worker_connections $((count + 2000)); }
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  upstream origin { server 127.0.0.1:$origin_port; keepalive 64; }
  server {
    listen 127.0.0.1:$port ssl${h2:+ http2};
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
      nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" >"$work/proxy.log" 2>&1 & ;;
    haproxy)
      if [ $((2 * (count + 100) + 200)) -gt "$(ulimit -n)" ]; then
        # HAProxy reserves two descriptors per connection it may accept.
        results+=("haproxy   skipped: needs ~$((2 * count + 400)) open files, ulimit -n is $(ulimit -n)")
        continue
      fi
      cat "$work/cert.pem" "$work/key.pem" >"$work/haproxy.pem"
      cat >"$work/haproxy.cfg" <<EOF
global
  maxconn $((count + 100))
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:$port ssl crt $work/haproxy.pem alpn ${h2:+h2,}http/1.1
  default_backend be
backend be
  http-reuse always
  server o1 127.0.0.1:$origin_port
EOF
      haproxy -db -f "$work/haproxy.cfg" >"$work/proxy.log" 2>&1 & ;;
    *) echo "idle-memory.sh: --compare knows nginx and haproxy, not $proxy" >&2; exit 2 ;;
  esac
  pid=$!; pids+=("$pid")
  wait_port "$pid" "$port" || { cat "$work/proxy.log" >&2; echo "idle-memory.sh: $proxy did not start" >&2; exit 1; }
  # Warm the code paths with a few connections first, so start-up work is not counted per connection.
  (clients 50 1 >/dev/null)
  rss0=$(rss_of "$pid"); heap0=$(heap_of "$pid" "$proxy")
  clients "$count" 60 >"$work/clients.log" 2>&1 &
  holder=$!; pids+=("$holder")
  for _ in $(seq 1 600); do grep -q '^open' "$work/clients.log" 2>/dev/null && break; sleep 0.5; done
  sed "s/^/$proxy: /" "$work/clients.log"
  sleep 2
  rss1=$(rss_of "$pid"); heap1=$(heap_of "$pid" "$proxy")
  kill "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  sleep 1
  results+=("$(awk -v p="$proxy" -v n="$count" -v r0="$rss0" -v r1="$rss1" -v h0="$heap0" -v h1="$heap1" 'BEGIN {
    heap = (h0 == "-") ? "-" : sprintf("%.1f", (h1 - h0) / n)
    printf "%-9s RSS %7.1f -> %7.1f MB   per idle TLS connection: RSS %5.1f KiB, live heap %s KiB", p, r0 / 1024, r1 / 1024, (r1 - r0) / n, heap }')")
done
echo
echo "$count idle keep-alive TLS connections (one ${h2:+HTTP/2 }request each), one proxy at a time:"
printf '%s\n' "${results[@]}"
