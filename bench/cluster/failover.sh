#!/usr/bin/env bash
# Failover timings on a Redis Cluster (3 primaries + 3 replicas on loopback, cluster-node-timeout 5000 ms):
# runs the cluster failover test (the primary owning a connected user's bucket channel killed with SIGKILL and
# never restarted, notifications created right after through the Api, two Realtime instances) RUNS times and
# writes the median and spread of "primary killed -> a surviving node names the replica as the slot's owner"
# and "primary killed -> the notifications created meanwhile reach the open WebSocket" to
# bench/results/cluster-failover.md.
# Usage: bench/cluster/failover.sh [RUNS]   (after: dotnet build Notify.sln -c Release)
#        bench/cluster/failover.sh RUNS LOG  (only summarize the output of an earlier run kept in LOG)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-5}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
bench/repeat-test.sh ClusterFailoverTests "^ *failover:" "$log" "$runs" "${2:-}"
python3 - "$log" "$runs" <<'PY'
import re, statistics, sys, datetime, platform, os
text = open(sys.argv[1]).read()
runs = int(sys.argv[2])
rows = re.findall(r"deliveries resumed (\d+) ms after the primary was killed; its replica owned the slot after (\d+) ms; the three creates were acknowledged after (\d+) ms and had all arrived after (\d+) ms", text)
passed = text.count("Passed Notify.Tests.Cluster.ClusterFailoverTests")
resume = [int(r[0]) for r in rows]
promote = [int(r[1]) for r in rows]
acknowledged = [int(r[2]) for r in rows]
arrived = [int(r[3]) for r in rows]
load = open("/proc/loadavg").read().split()[:3]
def line(name, xs):
    return f"| {name} | {statistics.median(xs):.0f} | {min(xs)} | {max(xs)} | {' '.join(map(str, xs))} |" if xs else f"| {name} | — | — | — | none measured |"
out = [
    "# Redis Cluster failover timings",
    "",
    f"Measured {datetime.date.today().isoformat()} with `bench/cluster/failover.sh {runs}` on {os.cpu_count()} cores ({platform.machine()});",
    f"load average when it finished: {' '.join(load)}. Each run: a fresh Redis Cluster of 3 primaries and 3 replicas",
    "(redis-server 7, `cluster-node-timeout 5000`) on loopback, two Realtime instances and the Api on it; one user's",
    "WebSocket open on one instance; the primary owning that user's bucket channel is killed with SIGKILL and never",
    "restarted, and three notifications are created for the user right after (the Api stores and acknowledges them",
    "while the shard is down).",
    "",
    f"{passed} of {runs} runs passed every assertion of the test (all three, then a fourth created after the failover,",
    "arrived once, in order, on the stream that stayed open).",
    "",
    "| ms after the primary was killed | median | min | max | runs |",
    "|---|---|---|---|---|",
    line("a surviving node names the replica as the slot's owner", promote),
    line("deliveries resume (the first notification created meanwhile reaches the WebSocket)", resume),
    line("the three creates (one after the other) have been acknowledged", acknowledged),
    line("all three have reached the WebSocket", arrived),
    "",
    "The first figure is Redis Cluster's own failure detection and election (about `cluster-node-timeout` plus an",
    "election of a second or two); from there to the second is Notify's: a connected node is asked for the slot map",
    "once a second, then the client reloads its own (which also tries the dead node again, up to about 2 s), waits for the",
    "sharded subscriptions to move and catches each open stream up from the store. The creates stay fast: the",
    "outbox sees that the user's shard has no connected primary and leaves each notification waiting at once (stored",
    "and acknowledged) instead of publishing into the client's 5 s timeout.",
    "",
]
open("bench/results/cluster-failover.md", "w").write("\n".join(out))
print("\n".join(out))
PY
