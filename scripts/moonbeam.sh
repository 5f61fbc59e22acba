#!/usr/bin/env bash
# Starts MoonBeam. Builds target/moonbeam.jar first when it is missing or older than the sources
# (quietly, tests skipped), finds a Java 17+, and execs the JVM so signals reach it directly.
# All arguments pass through: scripts/moonbeam.sh --help (the launcher's own --which-java prints the
# java binary it would run, and --jvm-flags [--config FILE] the JVM flags; both then exit).
set -euo pipefail

script_dir="${BASH_SOURCE[0]%/*}"
[ "$script_dir" = "${BASH_SOURCE[0]}" ] && script_dir=.
home="$(cd "$script_dir/.." && pwd -P)" # bash builtins only, here and below: each exec costs ~5 ms
jar="$home/target/moonbeam.jar"

die() { echo "moonbeam.sh: $*" >&2; exit 1; }

source "$home/scripts/lib/common.sh"

# Which Java: MOONBEAM_JAVA (a java binary) if set; else JAVA_HOME if set; else the newest
# Java 17+ among the one on PATH and the JDKs under /usr/lib/jvm. Newer JDKs are markedly faster
# for TLS (JDK 25 vs 17 on this project's bench: 1.84x full handshakes, from P-256 intrinsics;
# docs/benchmarks.md), so a machine that has one should use it without anyone having to know.
find_java() {
  local candidate major best="" best_major=0
  if [ -n "${MOONBEAM_JAVA:-}" ]; then
    major="$(java_major "$MOONBEAM_JAVA" 2>/dev/null || true)"
    [ -n "$major" ] && [ "$major" -ge 17 ] && { echo "$MOONBEAM_JAVA"; return 0; }
    echo "moonbeam.sh: MOONBEAM_JAVA=$MOONBEAM_JAVA is not a Java 17 or newer" >&2
    return 1
  fi
  if [ -n "${JAVA_HOME:-}" ]; then
    candidate="$JAVA_HOME/bin/java"
    major="$( [ -x "$candidate" ] && java_major "$candidate" || true)"
    [ -n "$major" ] && [ "$major" -ge 17 ] && { echo "$candidate"; return 0; }
    echo "moonbeam.sh: ignoring JAVA_HOME=$JAVA_HOME (Java ${major:-?}); MoonBeam needs Java 17 or newer" >&2
  fi
  local seen=() other duplicate
  for candidate in "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/*/bin/java; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    duplicate=0 # the same JDK is often linked under several names; -ef compares the files themselves
    for other in ${seen[@]+"${seen[@]}"}; do
      [ "$candidate" -ef "$other" ] && { duplicate=1; break; }
    done
    [ "$duplicate" = 1 ] && continue
    seen+=("$candidate")
    major="$(java_major "$candidate")"
    if [ -n "$major" ] && [ "$major" -gt "$best_major" ]; then
      best="$candidate" best_major="$major"
    fi
  done
  [ "$best_major" -ge 17 ] && { echo "$best"; return 0; }
  return 1
}

java="$(find_java)" || die "no Java 17+ found. Install a JDK 17 or newer (e.g. apt-get install openjdk-17-jdk) and put it on PATH, or set JAVA_HOME or MOONBEAM_JAVA."
if [ "${1:-}" = "--which-java" ]; then # the launcher's own flag: which java it would run
  echo "$java"
  exit 0
fi

# A build on Java 22+ also compiles src/main/java22 (RSA signing by the system's OpenSSL); a jar
# built on an older JDK lacks it, so a Java 22+ launch rebuilds it once. The marker file says which
# Java built the jar (valid while the jar is not newer); builds by plain mvn leave none, which
# counts as "older".
java_major_now="$(java_major "$java" || echo 0)"
built_with="$home/target/.built-with-java"
built_by() { # the Java that built the jar, as far as the marker can tell; 0 if unknown
  if [ -f "$built_with" ] && ! [ "$jar" -nt "$built_with" ]; then cat "$built_with"; else echo 0; fi
}
needs_build() {
  [ -f "$jar" ] || return 0
  [ -n "$(find "$home/src/main" "$home/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ] && return 0
  [ "$java_major_now" -ge 22 ] && [ "$(built_by)" -lt 22 ] && return 0
  return 1
}

# Flags: the request path makes (next to) no garbage and the buffers are pooled, so a small heap
# and the serial collector do: against the JVM's defaults (G1, larger initial heap) they cut the
# resident memory under TLS load from ~134 MB to ~90 MB at the same throughput (wrk, 1 thread).
# The fixed 32 MB young generation is for JSSE's ~2.6 KB of garbage per TLS request: a young
# collection every ~0.2 s instead of every ~45 ms took the TLS 100 B p99 from ~1.8 to ~1.5 ms.
# The old generation starts at 4 MB (-Xms = young + 4m): ~4 MB is live in it, and every page of its
# minimum size stays resident once a crowd of connections has passed through it, even after the
# heap shrinks. With a 16 MB minimum, RSS stayed 14-34% above its baseline after 19,500 idle TLS
# connections had come and gone; with 4 MB, +8% (docs/benchmarks.md, "TLS soak").
default_flags="-Xms36m -Xmn32m -Xmx512m -XX:+UseSerialGC -XX:MaxDirectMemorySize=1g -XX:ReservedCodeCacheSize=64m -Xss512k"
# After a crowd of connections leaves, MoonBeam runs one full collection (HeapTrimmer); these let
# it shrink the heap back to what is live in one go instead of a quarter per collection.
default_flags+=" -XX:-ShrinkHeapInSteps -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30"
# Java 22+ can hand freed native memory (mostly the JIT compiler's arenas) back to the OS each
# second: RSS under TLS load 112 -> 90-98 MB, and 112 -> 83 MB once the load stops.
[ "$java_major_now" -ge 22 ] 2>/dev/null && default_flags+=" -XX:TrimNativeHeapInterval=1000"
# The JDK's epoll selector looks every ready key up by its file descriptor boxed as an Integer, and
# Integer.valueOf caches only up to 127: with ~600 sockets (h2load -c50 -m10 and its backend
# connections) that was ~22 bytes of garbage per request and a young collection every ~30 s. A
# cache up to 16383 (320 KB of heap) covers 16k descriptors (~8k proxied connections, a client and a
# backend socket each): 0 bytes per request (scripts/gc-check.sh --modes h2). MOONBEAM_JAVA_OPTS
# replaces these flags: keep this one there.
default_flags+=" -Djava.lang.Integer.IntegerCache.high=16383"
# The native TLS provider loads BoringSSL through JNI; JDK 24+ warns about that unless it is allowed
# (the jar's manifest says the same for plain `java -jar`; JDK 17 accepts the flag too).
default_flags+=" --enable-native-access=ALL-UNNAMED"
# JIT: C1 only (-XX:TieredStopAtLevel=1) unless JSSE will serve TLS. With the native TLS provider a
# request's CPU time goes mostly to the kernel and BoringSSL; the Java part compiled by C1 alone
# serves HTTP/1.1 about as fast as with C2 (TLS 100 B 25.9k vs 26.2k req/s per core, plain 33.0k
# vs 33.2k, handshakes 2,853 vs 2,937, 0 bytes of garbage per request either way), without C2
# compiling on the serving core after start: in the first 5 s after start, p99 4.4 ms with C1
# against 11-14 ms with C2 (docs/benchmarks.md, "JIT"). JSSE is Java code and needs C2 (under C1:
# 17% fewer requests, 40% fewer handshakes), so a config that asks for "provider": "jdk", or a
# machine MoonBeam ships no BoringSSL build for, keeps the full tiered JIT. MoonBeam warns at start
# if JSSE ends up serving under C1 anyway.
# MOONBEAM_JIT=c1 or tiered overrides the choice and keeps the other default flags. So does
# MOONBEAM_JIT=tiered-nice, for a proxy that runs for days and serves much HTTP/2: the tiered JIT
# with its C2 compiler threads at nice 10 once MoonBeam listens (it sets that itself, through
# java.lang.foreign on Java 22+ on Linux; CompilerThreadPriority.java), so C2 compiles in the
# loops' idle time. Once compiled (~20 s under load) it serves HTTP/2 with a quarter less user CPU
# per request than C1 (about +10% requests per core), but its first 10-15 s after a start are
# slower (window 1 0.55-0.84x its later req/s, where C1 holds 1.0x): docs/benchmarks.md, "JIT:
# C2 at nice 10". Dynamic compiler threads are off there so that every one exists to be lowered.
config_arg="$home/conf/proxy_config.json"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --config|-c) [ $((i + 1)) -lt ${#args[@]} ] && config_arg="${args[i + 1]}" ;;
    --config=*) config_arg="${args[i]#--config=}" ;;
  esac
done
jit_mode=c1
case "${OSTYPE:-}/${HOSTTYPE:-}" in linux*/x86_64|linux*/aarch64) ;; *) jit_mode=tiered ;; esac # BoringSslLibrary's builds
config_text=""
[ -f "$config_arg" ] && { IFS= read -r -d '' config_text <"$config_arg" || true; }
provider_jdk='"provider"[[:space:]]*:[[:space:]]*"jdk"'
[[ "$config_text" =~ $provider_jdk ]] && jit_mode=tiered
case "${MOONBEAM_JIT:-}" in
  "") ;;
  c1|tiered|tiered-nice) jit_mode="$MOONBEAM_JIT" ;;
  *) die "MOONBEAM_JIT must be c1, tiered or tiered-nice, not '$MOONBEAM_JIT'" ;;
esac
case "$jit_mode" in
  c1) default_flags+=" -XX:TieredStopAtLevel=1 -Dmoonbeam.jit=c1" ;;
  tiered-nice) default_flags+=" -XX:-UseDynamicNumberOfCompilerThreads -Dmoonbeam.jit=tiered-nice -Dmoonbeam.jit.compilerNice=10" ;;
esac
jvm_flags=(${MOONBEAM_JAVA_OPTS:-$default_flags})
if [ "${1:-}" = "--jvm-flags" ]; then # the launcher's own flag: the JVM flags it would use (with the
  echo "${jvm_flags[*]}"                 # arguments that follow, e.g. --config FILE), and exit
  exit 0
fi

if needs_build; then
  command -v mvn >/dev/null 2>&1 || die "target/moonbeam.jar is missing or stale and Maven (mvn) is not installed to build it. Install Maven 3.8+."
  echo "moonbeam.sh: building target/moonbeam.jar ..." >&2
  build_log="$(mktemp)"
  if ! (cd "$home" && JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$java")")")" mvn -B -q -DskipTests package >"$build_log" 2>&1); then
    cat "$build_log" >&2
    rm -f "$build_log"
    die "build failed (output above)"
  fi
  rm -f "$build_log"
  echo "$java_major_now" >"$built_with"
fi

exec "$java" "${jvm_flags[@]}" -Dmoonbeam.home="$home" -jar "$jar" "$@"
