#!/usr/bin/env bash
# Scans MoonBeam's TLS listener with testssl.sh (Debian package testssl.sh), once per TLS provider,
# and prints a summary: protocols offered, cipher categories and suites, and the vulnerability
# checks. Exits non-zero when a check fails: SSLv2/SSLv3/TLS 1.0/TLS 1.1 offered, a NULL, anonymous,
# export, low, RC4, 3DES or CBC ("average") suite offered, no server cipher order, no forward secrecy,
# or a vulnerability flagged (BREACH is only noted: it depends on the application compressing
# responses that mix secrets with attacker input, which a proxy does not decide).
#   scripts/tls-scan.sh [--providers native,jdk] [--port 31443] [--backend-port 31081] [--keep]
# Loopback only: MoonBeam on 127.0.0.1:PORT with a generated RSA 2048 certificate (and an EC P-256
# one for SNI "ec.test"), a python3 file server as its backend; both are stopped, by PID, on exit.
# --keep leaves the work directory (configs, logs, testssl's JSON and text output).
set -euo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
source "$home/scripts/lib/common.sh"
providers="native,jdk" port=31443 backend_port=31081 keep=""
die() { echo "tls-scan.sh: $*" >&2; exit 2; }
while [ "$#" -gt 0 ]; do
  case "$1" in
    --providers) need_arg "$@"; providers="$2"; shift 2 ;;
    --port) need_arg "$@"; port="$2"; shift 2 ;;
    --backend-port) need_arg "$@"; backend_port="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

need_tool testssl testssl.sh
need_tool openssl openssl
need_tool python3 python3
if [ -n "$install_hint" ]; then
  echo "tls-scan.sh: missing tools. As root: apt-get update && apt-get install -y$install_hint" >&2
  echo "  (testssl.sh is also at https://testssl.sh, run from a git checkout as ./testssl.sh)" >&2
  exit 2
fi
for p in "$port" "$backend_port"; do
  port_busy "$p" && die "port $p is in use; choose another with --port/--backend-port"
done

work="$(mktemp -d /tmp/moonbeam-tls-scan.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$keep" ]; then echo "tls-scan.sh: work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

cd "$home"
java="$("$home/scripts/moonbeam.sh" --which-java)"
# Built by the Java the launcher runs (and marked so), or the launcher would build it again.
JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$java")")")" mvn -B -q -DskipTests package >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; die "build failed"; }
java_major "$java" >"$home/target/.built-with-java"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/rsa.key" -out "$work/rsa.pem" >/dev/null 2>&1 \
  || die "openssl could not make the RSA certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=ec.test \
  -addext "subjectAltName=DNS:ec.test" -keyout "$work/ec.key" -out "$work/ec.pem" >/dev/null 2>&1 \
  || die "openssl could not make the EC certificate"

mkdir -p "$work/www"
echo "hello from the tls-scan backend" >"$work/www/index.html"
python3 -m http.server "$backend_port" --bind 127.0.0.1 --directory "$work/www" >"$work/backend.log" 2>&1 &
pids+=("$!")
wait_port "$!" "$backend_port" || die "the backend did not start on $backend_port"

failed=0
for provider in ${providers//,/ }; do
  case "$provider" in native|jdk) ;; *) die "unknown provider $provider (native or jdk)" ;; esac
  cat >"$work/$provider.json" <<JSON
{"listen": "127.0.0.1:$port", "threads": 1, "backend_servers": ["127.0.0.1:$backend_port"],
 "log": {"file": null}, "warmup": {"enabled": false},
 "ssl": {"cert_file": "$work/rsa.pem", "key_file": "$work/rsa.key", "provider": "$provider",
         "certificates": [{"cert_file": "$work/ec.pem", "key_file": "$work/ec.key"}]}}
JSON
  "$home/scripts/moonbeam.sh" --config "$work/$provider.json" >"$work/moonbeam-$provider.log" 2>&1 &
  proxy=$!
  pids+=("$proxy")
  if ! wait_port "$proxy" "$port"; then
    cat "$work/moonbeam-$provider.log" >&2
    die "MoonBeam ($provider) did not start"
  fi
  served="$(grep -m1 -o 'TLS provider: .*' "$work/moonbeam-$provider.log" || true)"
  echo "=== ssl.provider \"$provider\": ${served:-see $work/moonbeam-$provider.log} ==="
  # -p protocols, -s cipher categories, -E every suite per protocol, -P server preference,
  # -f forward secrecy, -U vulnerabilities (BREACH over HTTP, so the backend answers "/").
  start=$(date +%s)
  testssl --quiet --color 0 --warnings batch --ip one --sneaky \
    -p -s -E -P -f -U --jsonfile "$work/testssl-$provider.json" "127.0.0.1:$port" \
    >"$work/testssl-$provider.txt" 2>&1 || true # its exit code counts findings of every kind
  [ -s "$work/testssl-$provider.json" ] || { cat "$work/testssl-$provider.txt" >&2; die "testssl produced no result"; }
  if ! python3 - "$work/testssl-$provider.json" "$(( $(date +%s) - start ))" <<'PY'; then failed=1; fi
import json, sys
findings = json.load(open(sys.argv[1]))
by_id = {}
for f in findings:
    by_id.setdefault(f["id"], f)
bad = []

def get(key):
    f = by_id.get(key)
    return (f["finding"], f["severity"]) if f else ("(not reported)", "-")

print("  protocols:")
for key, name, allowed in [("SSLv2", "SSLv2", False), ("SSLv3", "SSLv3", False), ("TLS1", "TLS 1.0", False),
                           ("TLS1_1", "TLS 1.1", False), ("TLS1_2", "TLS 1.2", True), ("TLS1_3", "TLS 1.3", True)]:
    finding, severity = get(key)
    offered = finding.startswith("offered")
    verdict = "ok" if offered == allowed or (allowed and not offered) else "FAIL"
    if not allowed and offered:
        bad.append(name + " offered")
    print(f"    {name:8} {finding:45} {verdict}")
if not get("TLS1_2")[0].startswith("offered") and not get("TLS1_3")[0].startswith("offered"):
    bad.append("neither TLS 1.2 nor TLS 1.3 offered")

print("  cipher categories:")
weak = {"cipherlist_NULL": "NULL", "cipherlist_aNULL": "anonymous (aNULL)", "cipherlist_EXPORT": "export",
        "cipherlist_LOW": "low (64 bit, DES, RC2, RC4)", "cipherlist_3DES_IDEA": "3DES / IDEA",
        "cipherlist_AVERAGE": "average (CBC, no AEAD)", "cipherlist_OBSOLETED": "obsoleted (CBC, SHA1...)"}
for key, name in weak.items():
    if key in by_id:
        finding, severity = get(key)
        offered = finding.startswith("offered")
        if offered:
            bad.append(name + " ciphers offered")
        print(f"    {name:30} {finding:25} {'FAIL' if offered else 'ok'}")
for key, name in [("cipherlist_STRONG_NOFS", "strong, no forward secrecy"), ("cipherlist_STRONG_FS", "strong, forward secret"),
                  ("cipherlist_GOOD", "good"), ("cipherlist_STRONG", "strong (AEAD)")]:
    if key in by_id:
        finding, _ = get(key)
        if key == "cipherlist_STRONG_NOFS" and finding.startswith("offered"):
            bad.append("suites without forward secrecy offered")
        print(f"    {name:30} {finding}")

print("  suites offered (from -E):")
suites = [f for f in findings if f["id"].startswith("cipher-tls") or f["id"].startswith("cipher_x")]
for f in suites:
    text = " ".join(f["finding"].split())
    print(f"    {text}")
    # The IANA name at the end of the line says CBC for every non-AEAD block cipher suite.
    if any(marker in text for marker in ("NULL", "EXPORT", "EXP-", "RC4", "DES", "CBC", "anon")):
        bad.append("weak suite: " + text)
# testssl 3.0 says PFS, 3.1+ FS.
for key in ("cipher_order", "FS", "PFS", "FS_ciphers", "PFS_ciphers", "FS_ECDHE_curves", "PFS_ECDHE_curves", "ALPN"):
    if key in by_id:
        finding, severity = get(key)
        print(f"  {key:22} {finding}")
        if key == "cipher_order" and "server" not in finding.lower():
            bad.append("no server cipher order: " + finding)
        if key in ("FS", "PFS") and severity in ("MEDIUM", "HIGH", "CRITICAL"):
            bad.append("forward secrecy: " + finding)

print("  vulnerabilities:")
checks = ["heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego", "CRIME_TLS",
          "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "BEAST_CBC_TLS1",
          "LUCKY13", "winshock", "RC4"]
for key in checks:
    if key not in by_id:
        continue
    finding, severity = get(key)
    flagged = severity in ("MEDIUM", "HIGH", "CRITICAL")
    if key == "BREACH":
        verdict = "note" if flagged else "ok"
    else:
        verdict = "FAIL" if flagged else "ok"
        if flagged:
            bad.append(f"{key}: {finding}")
    print(f"    {key:22} {severity:8} {' '.join(finding.split())[:90]:90} {verdict}")
scan_errors = [f for f in findings if f["severity"] in ("WARN",) or f["id"] in ("scanProblem",)]
for f in scan_errors:
    print(f"  scan warning: {f['id']}: {f['finding']}")
print(f"  ({len(findings)} testssl findings, {sys.argv[2]} s)")
if bad:
    print("  RESULT: FAIL")
    for b in dict.fromkeys(bad):
        print("    - " + b)
    sys.exit(1)
print("  RESULT: pass")
PY
  kill "$proxy" 2>/dev/null || true
  wait "$proxy" 2>/dev/null || true
done
if [ "$failed" -ne 0 ]; then
  echo "tls-scan.sh: FAILED (details: rerun with --keep and read testssl-*.txt)"
  exit 1
fi
echo "tls-scan.sh: all checks passed for: $providers"
