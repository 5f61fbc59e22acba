#!/usr/bin/env bash
# Streams a large body each way through the proxy (default 1 GiB) and prints throughput, the
# proxy's peak buffer count and the JVM's heap and direct memory while it ran.
#   scripts/soak.sh [BYTES]
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
bytes="${1:-1073741824}"
cd "$home"
mvn -B -q test -Dtest=StreamingTest -Dsurefire.failIfNoSpecifiedTests=false -Dmoonbeam.soak.bytes="$bytes" \
  -DargLine="-Xmx256m" 2>&1 | grep -E "streamed|FAIL|ERROR" || true
