#!/usr/bin/env bash
# Runs the fuzz properties (parsers, chunked decoder, head rewriter, TLS record path on both
# providers) for longer than the bounded run in `mvn verify`: the same properties, with a time
# budget instead of a fixed number of tries, from a base seed that is printed so any failure can be
# replayed. A failure prints its case seed and the input shrunk to the shortest that still fails;
# add it to the property's regression table.
#   scripts/fuzz.sh [--minutes N] [--seed S] [--only CLASSES]
#     --minutes N   total time for all properties (default 10), split evenly between them
#     --seed S      base seed (default: a fresh one; `mvn verify` always uses the fixed default)
#     --only C      surefire -Dtest pattern, e.g. ParserFuzzTest or '*TlsFuzzTest'
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
minutes=10
seed=""
only='ParserFuzzTest,ChunkedFuzzTest,HeadRewriterFuzzTest,JdkTlsFuzzTest,NativeTlsFuzzTest'
# Fuzz.forAll properties in those classes: 4 parser, 4 chunked, 2 rewriter, 4 TLS x 2 providers.
properties=18
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --only) only="$2"; properties=""; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$minutes" in ''|*[!0-9.]*) echo "fuzz.sh: --minutes takes a number" >&2; exit 2 ;; esac
if [ -z "$seed" ]; then
  seed="$(od -An -N7 -tu8 /dev/urandom | tr -d ' ')"
fi
if [ -z "$properties" ]; then
  # A chosen subset: count its properties from the sources.
  properties=0
  for class in ${only//,/ }; do
    for file in $(find "$home/src/test/java" -name "${class//\*/}.java" -o -name "${class//\*/*}.java" 2>/dev/null | sort -u); do
      base="$file"
      grep -q "extends TlsFuzzTest" "$file" && base="$(dirname "$file")/TlsFuzzTest.java"
      properties=$((properties + $(grep -c 'Fuzz.forAll(' "$base")))
    done
  done
  [ "$properties" -gt 0 ] || { echo "fuzz.sh: no fuzz property matches '$only'" >&2; exit 2; }
fi
seconds="$(awk -v m="$minutes" -v p="$properties" 'BEGIN { printf "%.1f", m * 60 / p }')"
echo "fuzz.sh: base seed $seed, $properties properties x ${seconds} s (replay: scripts/fuzz.sh --seed $seed)"
cd "$home"
log="$(mktemp -t moonbeam-fuzz.XXXXXX)"
status=0
mvn -B -q test -Dtest="$only" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dmoonbeam.fuzz.seed="$seed" -Dmoonbeam.fuzz.seconds="$seconds" >"$log" 2>&1 || status=$?
# ANSI colour codes may precede a test's first line of output: match anywhere in the line.
grep -aE "fuzz .*(tries in|time cap)|property '|^  (input|shrunk|failure)|Tests run:.*Fail" "$log" \
  | sed 's/\x1b\[[0-9;]*m//g' | sort -u || true
if [ "$status" -ne 0 ]; then
  echo "fuzz.sh: FAILED (base seed $seed); full log $log, reports in target/surefire-reports"
  exit 1
fi
rm -f "$log"
echo "fuzz.sh: no failure (base seed $seed)"
