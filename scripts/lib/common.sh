# Helpers shared by the scripts in scripts/ (sourced, not run).

# java_major JAVA: prints the feature version of the java binary, or nothing. Reads the JDK's
# release file when there is one (instant); otherwise asks the JVM (~0.15 s per call, which the
# launcher would otherwise pay several times on every start).
java_major() {
  local bin="$1" home line
  # A JDK's own bin/java (as under /usr/lib/jvm) needs no resolving; a link such as /usr/bin/java does.
  [ -f "${bin%/bin/java}/release" ] || bin="$(readlink -f "$1" 2>/dev/null || echo "$1")"
  home="${bin%/bin/java}"
  if [ "$home" != "$bin" ] && [ -f "$home/release" ] && [ -x "$bin" ]; then
    while IFS= read -r line; do # bash builtins only: this runs several times per launch
      case "$line" in
        JAVA_VERSION=\"*) line="${line#JAVA_VERSION=\"}"; line="${line#1.}"; echo "${line%%[.\"]*}"; return 0 ;;
      esac
    done <"$home/release"
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9.]*\).*/\1/p' | sed 's/^1\.//' | head -n1
}

# need_tool COMMAND PACKAGE: installs PACKAGE with apt-get (as root) when COMMAND is missing; what
# is still missing afterwards is added to $install_hint, so a caller can name everything at once.
install_hint=""
need_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "$(basename "$0"): installing $2 (apt-get install -y $2) ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 || true
  fi
  command -v "$1" >/dev/null 2>&1 && return 0
  install_hint+=" $2"
}

# port_busy PORT: true when something listens on the TCP port.
port_busy() { [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]; }

# wait_port PID PORT: until PORT listens (max 30 s) while PID lives.
wait_port() {
  for _ in $(seq 1 150); do
    kill -0 "$1" 2>/dev/null || return 1
    port_busy "$2" && return 0
    sleep 0.2
  done
  return 1
}

# need_arg "$@": inside an option loop, stops with the caller's die() when "$1" has no value.
need_arg() { if [ "$#" -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value (see --help)"; fi; }

# start_static_origin DIR PORT: a one-worker nginx on 127.0.0.1:PORT serving the files in DIR (its
# config and logs go to DIR/origin); appends its PID to the caller's pids array and waits until it
# listens. Returns non-zero when it did not start.
start_static_origin() {
  mkdir -p "$1/origin"
  cat >"$1/origin/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $1/origin/nginx.pid;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$2; location / { root $1; } } }
CONF
  nginx -p "$1/origin" -c "$1/origin/nginx.conf" -e "$1/origin/error.log" &
  pids+=("$!")
  wait_port "$!" "$2"
}

# prepare_tls_work PREFIX: the set-up the memory scripts share. Creates $work (world-readable, so
# nginx workers can serve from it) and $pids, stops every PID in $pids and removes $work on exit,
# builds the jar and test classes, finds $java and $jcmd the way the launcher does, and writes a
# development certificate ($work/cert.pem, $work/key.pem) and a tiny file $work/ok.
prepare_tls_work() {
  work="$(mktemp -d "/tmp/$1.XXXXXX")"
  chmod 755 "$work"
  pids=()
  trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
  cd "$home"
  java="$("$home/scripts/moonbeam.sh" --which-java)"
  # Built by the Java the launcher runs (and marked so), or the launcher would build it again.
  if ! JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$java")")")" mvn -B -q -DskipTests package test-compile \
      >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2
    return 1
  fi
  java_major "$java" >"$home/target/.built-with-java"
  jcmd="$(dirname "$(readlink -f "$java")")/jcmd"
  "$java" -cp target/moonbeam.jar dev.moonbeam.tls.DevCertificate "$work/cert.pem" "$work/key.pem" >/dev/null 2>&1
  echo ok >"$work/ok"
}
