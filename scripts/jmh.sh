#!/usr/bin/env bash
# Runs JMH benchmarks matching a pattern (default: all), briefly, with the GC profiler.
# Usage: scripts/jmh.sh ['dev.moonbeam.http.*'] [JMH options...]   (works from any cwd)
# With no options: -f 1 -wi 3 -w 2s -i 3 -r 2s -prof gc. Options given replace those defaults
# (JMH refuses an option twice). JAVA=/path/to/java picks another JDK to run them on.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern="${1:-.*}"
shift || true
if [ "$#" -eq 0 ]; then
  set -- -f 1 -wi 3 -w 2s -i 3 -r 2s -prof gc
fi
cp_file="${TMPDIR:-/tmp}/moonbeam-jmh-cp-$$.txt"
trap 'rm -f "$cp_file"' EXIT
mvn -B -q -Pbench test-compile dependency:build-classpath -Dmdep.outputFile="$cp_file"
"${JAVA:-java}" -cp "target/test-classes:target/classes:$(cat "$cp_file")" org.openjdk.jmh.Main "$pattern" "$@"
