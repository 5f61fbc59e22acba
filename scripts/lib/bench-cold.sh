# Sourced by scripts/bench.sh for --cold: what a user sees right after starting a proxy.
# Every round starts each proxy afresh (no warm-up of any kind) and measures back-to-back windows
# of keep-alive TLS 100 B load, with a burst of new connections ("Connection: close", one request
# each) between windows 2 and 3, as rolling restarts and reconnecting clients produce. It records,
# per proxy and round, the time from exec to listening and to the first answered request, and per
# window req/s, p50 and p99. Uses bench.sh's functions and variables (start_proxy, run_wrk, $out...).

cold_runs="$out/cold-runs.tsv"
cold_start="$out/cold-start.tsv"
printf 'round\tproxy\twindow\tkind\trequests\tseconds\trps\tp50_ms\tp99_ms\terrors\tcpu_pct\n' >"$cold_runs"
printf 'round\tproxy\tlisten_ms\tfirst_response_ms\n' >"$cold_start"

ms_since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.0f", (b - a) * 1000}'; }

# cold_start_proxy PROXY: like start_proxy, timed at 10 ms resolution. Sets listen_ms and first_ms
# ("-" when it did not get that far) and returns non-zero on failure.
cold_start_proxy() {
  local proxy="$1" t0 i log="$out/logs/$1-cold-round$round.log"
  listen_ms="-" first_ms="-"
  t0="$(now)"
  case "$proxy" in
    moonbeam*)
      proxy_port="$port"
      write_moonbeam_config ec "$tmp/$proxy-cold.json" "$proxy"
      MOONBEAM_JAVA="${moonbeam_java[$proxy]:-}" taskset -c "$proxy_cpus" "$home/scripts/moonbeam.sh" \
        --config "$tmp/$proxy-cold.json" --threads "$threads" >"$log" 2>&1 &
      ;;
    nginx)
      proxy_port="$nginx_port"
      mkdir -p "$tmp/nginx-proxy-ec"
      write_nginx_proxy_config ec "$tmp/nginx-proxy-ec"
      taskset -c "$proxy_cpus" nginx -p "$tmp/nginx-proxy-ec" -c "$tmp/nginx-proxy-ec/nginx.conf" \
        -e "$out/logs/nginx-proxy-ec.error.log" >"$log" 2>&1 &
      ;;
    haproxy)
      proxy_port="$haproxy_port"
      write_haproxy_config ec "$tmp/haproxy-ec.cfg"
      taskset -c "$proxy_cpus" haproxy -db -f "$tmp/haproxy-ec.cfg" >"$log" 2>&1 &
      ;;
  esac
  proxy_pid="$!"
  pids+=("$proxy_pid")
  # The polling runs on the client CPUs, not beside the starting proxy; both waits end by 60 s.
  local give_up=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$give_up" ]; do
    kill -0 "$proxy_pid" 2>/dev/null || return 1
    if taskset -c "$client_cpus" ss -ltnH "sport = :$proxy_port" 2>/dev/null | grep -q .; then
      listen_ms="$(ms_since "$t0")"
      break
    fi
    sleep 0.01
  done
  [ "$listen_ms" != "-" ] || return 1
  while [ "$SECONDS" -lt "$give_up" ]; do
    kill -0 "$proxy_pid" 2>/dev/null || return 1
    if [ "$(taskset -c "$client_cpus" curl -sk --max-time 2 -o /dev/null -w '%{http_code}' \
        "https://127.0.0.1:$proxy_port/100b" 2>/dev/null)" = 200 ]; then
      first_ms="$(ms_since "$t0")"
      return 0
    fi
    sleep 0.01
  done
  return 1
}

# cold_window N KIND SECONDS: one wrk run; KIND keepalive or reconnect (Connection: close).
cold_window() {
  local w="$1" kind="$2" seconds="$3" raw="$out/logs/$current-cold-round$round-w$1-$2.txt" c0 c1 t0 t1 wall cpu line
  local extra=()
  [ "$kind" = reconnect ] && extra=(-H "Connection: close")
  c0="$(cpu_ticks "$proxy_pid")"; t0="$(now)"
  taskset -c "$client_cpus" timeout -k 5 $((seconds + 30)) wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s \
    --latency -s "$tmp/report.lua" ${extra[@]+"${extra[@]}"} "https://127.0.0.1:$proxy_port/100b" >"$raw" 2>&1 || true
  c1="$(cpu_ticks "$proxy_pid")"; t1="$(now)"
  wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')"
  # cpu_ticks prints "USER KERNEL"; the window's CPU share is both together.
  cpu="$(awk -v c0="$c0" -v c1="$c1" -v hz="$clk_tck" -v w="$wall" \
    'BEGIN {split(c0, a, " "); split(c1, b, " "); printf "%.1f", 100 * (b[1] + b[2] - a[1] - a[2]) / hz / w}')"
  line="$(grep '^WRKRESULT' "$raw" || true)"
  if [ -z "$line" ]; then
    printf '%s\t%s\t%s\t%s\t-\t-\t-\t-\t-\t-\t%s\n' "$round" "$current" "$w" "$kind" "$cpu" >>"$cold_runs"
    return
  fi
  local requests dur bytes ec er ew es et p50 p99
  read -r _ requests dur bytes ec er ew es et p50 p99 <<<"$line"
  awk -v r="$round" -v p="$current" -v w="$w" -v k="$kind" -v n="$requests" -v d="$dur" -v e=$((ec + er + ew + es + et)) \
      -v p50="$p50" -v p99="$p99" -v cpu="$cpu" \
    'BEGIN {printf "%s\t%s\t%s\t%s\t%d\t%.3f\t%.0f\t%.2f\t%.2f\t%d\t%s\n", r, p, w, k, n, d / 1e6, n / (d / 1e6), p50 / 1000, p99 / 1000, e, cpu}' >>"$cold_runs"
}

say "cold start: proxies: ${proxies[*]}; $rounds round(s); $cold_windows windows of ${cold_window_s}s keep-alive TLS 100 B (${connections} connections), ${cold_burst_s}s of reconnects after window 2; no warm-up"
for round in $(seq 1 "$rounds"); do
  order=("${proxies[@]:$(( (round - 1) % ${#proxies[@]} ))}" "${proxies[@]:0:$(( (round - 1) % ${#proxies[@]} ))}")
  for current in "${order[@]}"; do
    say "round $round/$rounds: $current (cold)"
    if ! cold_start_proxy "$current"; then
      say "  $current did not start or answer: $(tail -n 3 "$out/logs/$current-cold-round$round.log" | tr '\n' ' ')"
      printf '%s\t%s\t%s\t%s\n' "$round" "$current" "$listen_ms" "$first_ms" >>"$cold_start"
      stop_pid "$proxy_pid"
      continue
    fi
    printf '%s\t%s\t%s\t%s\n' "$round" "$current" "$listen_ms" "$first_ms" >>"$cold_start"
    for w in $(seq 1 "$cold_windows"); do
      cold_window "$w" keepalive "$cold_window_s"
      if [ "$w" -eq 2 ] && [ "$cold_burst_s" -gt 0 ]; then
        cold_window "2b" reconnect "$cold_burst_s"
      fi
    done
    stop_pid "$proxy_pid"
    sleep 1
  done
done

# ---------------------------------------------------------------------------------------------
# Summary: per proxy and window, medians over rounds; the last window stands for "warm".

machine_cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
machine_java="$(MOONBEAM_JAVA= "$home/scripts/moonbeam.sh" --version 2>&1 | head -n1)"
machine_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
cold_summary="$out/cold-summary.tsv"

awk -F'\t' -v prox="${proxies[*]}" -v startfile="$cold_start" '
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return "-"
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  FNR == 1 { next }
  FILENAME == startfile {
    if ($3 != "-") listen[$2] = listen[$2] " " $3
    if ($4 != "-") first[$2] = first[$2] " " $4
    next
  }
  {
    k = $2 SUBSEP $3
    if (!($3 in wseen)) { wseen[$3] = 1; worder[++nw] = $3 }
    kind[$3] = $4
    if ($7 != "-") { rps[k] = rps[k] " " $7; p99[k] = p99[k] " " $9; p50[k] = p50[k] " " $8; per[k] = per[k] " " $7 "/" $9 }
    if ($10 != "-") err[k] += $10; else failed[k]++
  }
  END {
    np = split(prox, P, " ")
    print "proxy\twindow\tkind\trps\tp50_ms\tp99_ms\terrors\tfailed_runs\tper_round\tlisten_ms\tfirst_response_ms"
    for (j = 1; j <= np; j++) for (i = 1; i <= nw; i++) {
      w = worder[i]; k = P[j] SUBSEP w
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", P[j], w, kind[w],
        (rps[k] == "" ? "-" : sprintf("%.0f", median(rps[k]))), (p50[k] == "" ? "-" : sprintf("%.2f", median(p50[k]))),
        (p99[k] == "" ? "-" : sprintf("%.2f", median(p99[k]))), err[k], failed[k], substr(per[k], 2),
        (listen[P[j]] == "" ? "-" : median(listen[P[j]])), (first[P[j]] == "" ? "-" : median(first[P[j]]))
    }
  }' "$cold_start" "$cold_runs" >"$cold_summary"

{
  echo
  echo "MoonBeam cold-start benchmark, $machine_date — $ncpu CPU ($machine_cpu), $(uname -sr), $machine_java"
  echo "threads=$threads; fresh process per round, no warm-up; ${cold_window_s}s windows of keep-alive TLS 100 B with $connections connections; window 2b = ${cold_burst_s}s of reconnects (Connection: close); $rounds round(s), median shown (req/s / p99 ms per round in brackets)"
  echo "load average (1/5/15 min) before: $load_start, after: $load_end"
  echo
  awk -F'\t' '
    NR == 1 { next }
    { if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1; listen[$1] = $10; first[$1] = $11 }
      if (!($2 in wseen)) { wseen[$2] = 1; worder[++nw] = $2 }
      cell[$1, $2] = $4 " / " $6 " [" $9 "]"
      if ($7 + 0 > 0 || $8 + 0 > 0) bad[$1] = bad[$1] " window " $2 ": " $7 " errors, " $8 " failed run(s);" }
    END {
      printf "%-14s %10s %12s", "proxy", "listen ms", "1st resp ms"
      for (i = 1; i <= nw; i++) printf "  %-24s", "w" worder[i] " req/s / p99"
      printf "\n"
      for (j = 1; j <= n; j++) {
        p = order[j]; printf "%-14s %10s %12s", p, listen[p], first[p]
        for (i = 1; i <= nw; i++) printf "  %-24s", cell[p, worder[i]]
        printf "\n"
      }
      for (j = 1; j <= n; j++) if (bad[order[j]] != "") printf "problems %s:%s\n", order[j], bad[order[j]]
      # First window against the last (MoonBeam warm) and p99 against nginx per window.
      last = worder[nw]
      for (j = 1; j <= n; j++) {
        p = order[j]; split(cell[p, worder[1]], a, " "); split(cell[p, last], b, " ")
        if (b[1] + 0 > 0 && b[3] + 0 > 0)
          printf "%s: window 1 = %.2fx its window-%s req/s, p99 %.1fx its window-%s p99\n", p, a[1] / b[1], last, a[3] / b[3], last
      }
      if (!("nginx" in seen)) exit
      for (j = 1; j <= n; j++) {
        p = order[j]; if (p == "nginx") continue
        line = ""
        for (i = 1; i <= nw; i++) {
          split(cell[p, worder[i]], a, " "); split(cell["nginx", worder[i]], b, " ")
          line = line sprintf(" w%s %s", worder[i], (b[3] + 0 > 0 && a[3] != "-") ? sprintf("%.2f", a[3] / b[3]) : "-")
        }
        printf "%s p99 / nginx p99 per window:%s\n", p, line
      }
    }' "$cold_summary"
  echo
  echo "results: $out/results-cold.json, chart: $out/chart-cold.svg, raw: $cold_runs, $cold_start, logs: $out/logs/"
} | tee "$out/table-cold.txt"

awk -F'\t' -v cpu="$machine_cpu" -v ncpu="$ncpu" -v kernel="$(uname -sr)" -v jdk="$machine_java" -v date="$machine_date" \
    -v load0="$load_start" -v load1="$load_end" -v threads="$threads" -v rounds="$rounds" -v conns="$connections" \
    -v win="$cold_window_s" -v burst="$cold_burst_s" -v pcpu="$proxy_cpus" -v ccpu="$client_cpus" -v runsfile="$cold_runs" -v startfile="$cold_start" '
  function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return "\"" s "\"" }
  function v(s) { return (s == "-" || s == "") ? "null" : s }
  FNR == 1 { next }
  FILENAME == startfile {
    starts = starts sprintf("%s\n    {\"round\": %d, \"proxy\": %s, \"listen_ms\": %s, \"first_response_ms\": %s}", (ns++ ? "," : ""), $1, q($2), v($3), v($4))
    next
  }
  FILENAME == runsfile {
    runs = runs sprintf("%s\n    {\"round\": %d, \"proxy\": %s, \"window\": %s, \"kind\": %s, \"requests\": %s, \"seconds\": %s, \"rps\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"errors\": %s, \"cpu_pct\": %s}", (nr++ ? "," : ""), $1, q($2), q($3), q($4), v($5), v($6), v($7), v($8), v($9), v($10), v($11))
    next
  }
  {
    windows = windows sprintf("%s\n    {\"proxy\": %s, \"window\": %s, \"kind\": %s, \"rps\": %s, \"p50_ms\": %s, \"p99_ms\": %s, \"errors\": %d, \"failed_runs\": %d, \"listen_ms\": %s, \"first_response_ms\": %s}", (nw++ ? "," : ""), q($1), q($2), q($3), v($4), v($5), v($6), $7, $8, v($10), v($11))
  }
  END {
    printf "{\n  \"scenario\": \"cold-start\",\n  \"date\": %s,\n  \"machine\": {\"nproc\": %d, \"cpu\": %s, \"kernel\": %s, \"jdk\": %s, \"loadavg_before\": %s, \"loadavg_after\": %s},\n", q(date), ncpu, q(cpu), q(kernel), q(jdk), q(load0), q(load1)
    printf "  \"settings\": {\"threads\": %d, \"rounds\": %d, \"connections\": %d, \"window_s\": %d, \"reconnect_burst_s\": %d, \"proxy_cpus\": %s, \"client_cpus\": %s},\n", threads, rounds, conns, win, burst, q(pcpu), q(ccpu)
    printf "  \"windows\": [%s\n  ],\n  \"start\": [%s\n  ],\n  \"runs\": [%s\n  ]\n}\n", windows, starts, runs
  }' "$cold_summary" "$cold_start" "$cold_runs" >"$out/results-cold.json"

# SVG: per window, one bar per proxy (median req/s), its p99 written on the bar.
awk -F'\t' -v title="Cold start: req/s per 5 s window right after start ($threads thread(s); $machine_date)" \
    -v sub_title="$ncpu CPU: $machine_cpu; label = p99 ms; 2b = reconnect burst" '
  function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
  NR == 1 { next }
  {
    if (!($1 in pseen)) { pseen[$1] = 1; porder[++np] = $1 }
    if (!($2 in wseen)) { wseen[$2] = 1; worder[++nw] = $2 }
    rps[$1, $2] = $4; p99[$1, $2] = $6
    if ($4 != "-" && $4 + 0 > max + 0) max = $4
  }
  END {
    color["moonbeam"] = "#3b6fd8"; color["moonbeam-jsse"] = "#9bb5ea"; color["nginx"] = "#2e9d4f"; color["haproxy"] = "#d9822b"
    bar = 16; gap = 3; left = 60; width = 560; top = 70
    h = top + nw * (np * (bar + gap) + 16) + 30
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", left + width + 160, h
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", esc(title)
    printf "<text x=\"10\" y=\"40\" fill=\"#555\">%s</text>\n", esc(sub_title)
    for (j = 1; j <= np; j++) {
      c = (porder[j] in color) ? color[porder[j]] : "#888"
      printf "<rect x=\"%d\" y=\"50\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"60\">%s</text>\n", 10 + (j - 1) * 120, c, 26 + (j - 1) * 120, esc(porder[j])
    }
    y = top
    for (i = 1; i <= nw; i++) {
      w = worder[i]
      printf "<text x=\"10\" y=\"%d\" font-weight=\"bold\">w%s</text>\n", y + bar, esc(w)
      for (j = 1; j <= np; j++) {
        p = porder[j]; c = (p in color) ? color[p] : "#888"; v = rps[p, w]
        if (v == "-" || v == "" || max + 0 == 0) {
          printf "<text x=\"%d\" y=\"%d\" fill=\"#b00\">%s: no result</text>\n", left, y + 12, esc(p)
        } else {
          bw = int(width * v / max + 0.5); if (bw < 1) bw = 1
          printf "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s window %s: %s req/s, p99 %s ms</title></rect>\n", left, y, bw, bar, c, esc(p), esc(w), v, p99[p, w]
          printf "<text x=\"%d\" y=\"%d\">%s req/s, p99 %s ms</text>\n", left + bw + 5, y + 12, v, p99[p, w]
        }
        y += bar + gap
      }
      y += 16
    }
    printf "</svg>\n"
  }' "$cold_summary" >"$out/chart-cold.svg"
say "done: $out"
