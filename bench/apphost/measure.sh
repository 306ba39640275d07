#!/usr/bin/env bash
# Measures `dotnet run --project Notify.AppHost` on this machine: seconds from the command to the
# "Notify is running" line (every resource healthy), and the memory of the whole local graph (PSS of the
# AppHost, DCP, the dashboard, redis-server and every service with its `dotnet run` launcher), then stops it
# with SIGTERM and checks that nothing is left. Usage: bench/apphost/measure.sh [runs] [extra dotnet run args]
# Writes one line per run to stdout (tab-separated: run, seconds to healthy, PSS MiB, processes, seconds to stop).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}; shift || true
pss_of() { awk '/^Pss:/ {s+=$2} END {print s+0}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
descendants() { local p; for p in $(pgrep -P "$1"); do echo "$p"; descendants "$p"; done; }
for run in $(seq 1 "$runs"); do
  log=$(mktemp)
  start=$(date +%s.%N)
  setsid dotnet run --project Notify.AppHost "$@" -- --AppHost:UseMongod=false >"$log" 2>&1 &
  launcher=$!
  until grep -q "Notify is running" "$log"; do
    kill -0 "$launcher" 2>/dev/null || { echo "the AppHost exited:"; cat "$log"; exit 1; }
    sleep 0.2
  done
  healthy=$(echo "$(date +%s.%N) - $start" | bc)
  apphost=$(pgrep -f "Notify.AppHost/bin/.*/Notify.AppHost" | head -1)
  dcp=$(pgrep -f "dcp start-apiserver --monitor $apphost")
  pids=$( (echo "$launcher"; descendants "$launcher"; echo "$dcp"; descendants "$dcp") | sort -u)
  total=0; count=0
  for p in $pids; do total=$((total + $(pss_of "$p"))); count=$((count + 1)); done
  stop_start=$(date +%s.%N)
  kill -TERM -- "-$launcher"
  while (for p in $pids; do kill -0 "$p" 2>/dev/null && exit 0; done; exit 1); do sleep 0.2; done
  stopped=$(echo "$(date +%s.%N) - $stop_start" | bc)
  printf '%s\t%.1f\t%d\t%d\t%.1f\n' "$run" "$healthy" "$((total / 1024))" "$count" "$stopped"
  rm -f "$log"
done
