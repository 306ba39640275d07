#!/usr/bin/env bash
# Runs one test class of Notify.Tests RUNS times (Release build, no rebuild) and writes its pass/fail lines and
# the lines it prints that match PATTERN to LOG. With EARLIER (the LOG of an earlier run) nothing runs: its
# lines are copied to LOG. Used by the failover benchmarks, which summarize LOG.
# Usage: bench/repeat-test.sh CLASS PATTERN LOG RUNS [EARLIER]
set -euo pipefail
cd "$(dirname "$0")/.."
class="$1" pattern="$2" log="$3" runs="$4" earlier="${5:-}"
if [ -n "$earlier" ]; then
  cp "$earlier" "$log"
  exit 0
fi
for i in $(seq 1 "$runs"); do
  echo "run $i of $runs"
  dotnet test Notify.Tests -c Release --no-build --filter "FullyQualifiedName~$class" \
    --logger "console;verbosity=detailed" 2>&1 | grep -E "$pattern|Passed Notify|Failed Notify" | tee -a "$log" || true
done
