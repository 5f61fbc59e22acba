#!/usr/bin/env bash
# Measures MoonBeam's memory per idle keep-alive TLS connection: RSS and live heap (after a full
# GC) before and after N clients connect, make one request each and stay idle.
#   scripts/idle-memory.sh [N]   (default 10000; loopback only; everything started is stopped)
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
count="${1:-10000}"
port=29443
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cd "$home"
mvn -B -q -DskipTests package test-compile >/dev/null
mvn -B -q dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
java -cp target/moonbeam.jar dev.moonbeam.tls.DevCertificate "$work/cert.pem" "$work/key.pem" >/dev/null 2>&1
cat > "$work/config.json" <<JSON
{"listen": "127.0.0.1:$port", "threads": 1, "backend_servers": ["127.0.0.1:29081"], "log": {"file": null},
 "ssl": {"cert_file": "$work/cert.pem", "key_file": "$work/key.pem"}}
JSON
java -Xms64m -Xmx512m -jar target/moonbeam.jar --config "$work/config.json" --demo >"$work/proxy.log" 2>&1 &
proxy=$!; pids+=("$proxy")
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done

measure() { # prints "rss_kib live_heap_kib"
  jcmd "$proxy" GC.run >/dev/null
  local rss heap
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$proxy/status")
  heap=$(jcmd "$proxy" GC.heap_info | awk '/used/ {for (i=1;i<=NF;i++) if ($i=="used") {v=$(i+1); sub(/K,?/,"",v); print v; exit}}')
  echo "$rss $heap"
}
# Warm the code paths with a few connections first, so class loading is not counted per connection.
java -cp "target/test-classes:target/moonbeam.jar" dev.moonbeam.tools.IdleTlsClients 127.0.0.1 "$port" 50 1 >/dev/null
read -r rss0 heap0 < <(measure)
java -Xss256k -cp "target/test-classes:target/moonbeam.jar" dev.moonbeam.tools.IdleTlsClients 127.0.0.1 "$port" "$count" 60 >"$work/clients.log" 2>&1 &
clients=$!; pids+=("$clients")
for _ in $(seq 1 600); do grep -q '^open' "$work/clients.log" 2>/dev/null && break; sleep 0.5; done
cat "$work/clients.log"
read -r rss1 heap1 < <(measure)
echo "before: RSS ${rss0} KiB, live heap ${heap0} KiB"
echo "after ${count} idle TLS connections: RSS ${rss1} KiB, live heap ${heap1} KiB"
awk -v n="$count" -v r0="$rss0" -v r1="$rss1" -v h0="$heap0" -v h1="$heap1" \
  'BEGIN { printf "per idle TLS connection: RSS %.1f KiB, live heap %.1f KiB\n", (r1-r0)/n, (h1-h0)/n }'
