#!/usr/bin/env bash
# Failover timings with a real Redis Sentinel set: runs the Sentinel fault test (primary killed under a steady
# stream of creates and tasks through two Realtime instances, the Api and two Workers) RUNS times and writes the
# median and spread of "primary killed -> a Sentinel names the promoted replica" and "primary killed -> deliveries
# resume" (the end of the longest silence in what the WebSocket clients receive) to bench/results/sentinel.md.
# Usage: bench/sentinel/failover.sh [RUNS]   (after: dotnet build Notify.sln -c Release)
#        bench/sentinel/failover.sh RUNS LOG  (only summarize the output of an earlier run kept in LOG)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
bench/repeat-test.sh SentinelFaultTests "^ failover:" "$log" "$runs" "${2:-}"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$log" "$runs" "$load_before" "$load_after" <<'PY'
import re, statistics, sys, datetime, platform, os
text = open(sys.argv[1]).read()
runs = int(sys.argv[2])
rows = re.findall(r"deliveries resumed (\d+) ms after the primary was killed; (?:a|every) Sentinel named the promoted \d+ after (\d+) ms; (\d+) tasks", text)
passed = text.count("Passed Notify.Tests.Faults.SentinelFaultTests")
resume = [int(r[0]) for r in rows]
promote = [int(r[1]) for r in rows]
def line(name, xs):
    return f"| {name} | {statistics.median(xs):.0f} | {min(xs)} | {max(xs)} | {' '.join(map(str, xs))} |"
out = [
    "# Sentinel failover timings",
    "",
    f"Measured {datetime.date.today().isoformat()} with `bench/sentinel/failover.sh {runs}` on {os.cpu_count()} cores ({platform.machine()}),",
    f"load average before {sys.argv[3]}, after {sys.argv[4]} (the machine shared with other work). Each run: redis-server 7 as a primary, two replicas and three Sentinels",
    "(quorum 2, `down-after-milliseconds 1000`, `failover-timeout 4000`) on loopback; two Realtime instances, the Api and",
    "two Workers on the sentinel connection string (StackExchange.Redis defaults, `connectTimeout` 5 s); four users",
    "creating a notification every 25 ms each, watched by eight WebSocket clients, and a demo task every 150 ms.",
    "The primary is killed with SIGKILL and never restarted.",
    "",
    f"{passed} of {runs} runs passed every assertion of the fault test (nothing acknowledged lost, no duplicate, order kept,",
    "every task completed, no lease lost, Hangfire running again, every service healthy).",
    "",
    "| ms after the primary was killed | median | min | max | runs |",
    "|---|---|---|---|---|",
    line("a Sentinel names the promoted replica", promote),
    line("deliveries resume (first WebSocket frame after the silence)", resume),
    "",
    "Notifications created during the gap are not lost: the Api stores and acknowledges them (201) and its outbox",
    "publishes them, and Realtime replays each open stream from the store once its subscription is back.",
    "",
]
open("bench/results/sentinel.md", "w").write("\n".join(out))
print("\n".join(out))
PY
