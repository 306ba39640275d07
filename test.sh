#!/usr/bin/env bash
# The test command of README.md: installs what the machine lacks, builds the solution (Release, warnings
# as errors), runs every test, and ends with one plain line: "N passed, N failed, N skipped".
# Exit code: 0 when every test passed, non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")"

# --- System packages ---------------------------------------------------------------------------------
# One line per command the tests need: `command -v <command> || apt_packages+=(<debian package>)`.
apt_packages=()
command -v redis-server >/dev/null 2>&1 || apt_packages+=(redis-server)
# The browser tests drive Debian's Chromium (never a downloaded browser); the SDK and the web UI need Node.js 20+.
command -v chromium >/dev/null 2>&1 || [ -n "${NOTIFY_CHROMIUM:-}" ] || apt_packages+=(chromium)
command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)

if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "installing: ${apt_packages[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "missing ${apt_packages[*]}: run as root or install them (apt-get install -y ${apt_packages[*]})" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

# --- JavaScript: the SDK's unit tests, and the web UI built into Notify.Api/wwwroot (committed too, so a ---
# --- fresh clone runs without npm; rebuilding here keeps the served UI in step with its sources) -----------
js_log="$(mktemp)"
js_status=0
(cd clients/notify-js && npm ci --no-audit --no-fund --loglevel=error && npm test) 2>&1 | tee "$js_log" || js_status=$?
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build)

# --- Build -----------------------------------------------------------------------------------------------
dotnet build Notify.sln -c Release -warnaserror -nologo -clp:ErrorsOnly

# --- Setup that needs the build output -------------------------------------------------------------------
# (e.g. the browser install of Playwright, the npm build of the TypeScript SDK go here)

# --- Test ------------------------------------------------------------------------------------------------
results="TestResults/test-sh"
rm -rf "$results"
status=0
test_log="$(mktemp)"
dotnet test Notify.sln -c Release --no-build -nologo \
  --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 10m --blame-hang-dump-type none 2>&1 | tee "$test_log" || status=$?

# The SDK's node:test totals ("ℹ pass N", "ℹ fail N") count with the .NET ones.
passed=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$js_log" | tail -n 1); passed=${passed:-0}
failed=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$js_log" | tail -n 1); failed=${failed:-0}
skipped=$(sed -n 's/^ℹ skipped \([0-9]*\)$/\1/p' "$js_log" | tail -n 1); skipped=${skipped:-0}
if [ "$js_status" -ne 0 ]; then
  status=$js_status
  [ "$failed" -gt 0 ] || failed=1
fi
counter() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2"; }
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" || true)
  [ -n "$counters" ] || continue
  passed=$((passed + $(counter passed "$counters")))
  failed=$((failed + $(counter failed "$counters") + $(counter error "$counters") + $(counter timeout "$counters") + $(counter aborted "$counters")))
  # Skipped tests are counted as total - executed (VSTest leaves notExecuted at 0 for them).
  skipped=$((skipped + $(counter total "$counters") - $(counter executed "$counters")))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "the test run failed (exit code $status) without a failed test in its results: a crash or hang of the test host"
fi
# Repeat each failed test's report (name, message, start of the stack and output) at the end, where a
# reader of only the last lines of a long run still sees it.
if [ "$failed" -gt 0 ]; then
  echo "--- failed tests ---"
  grep -E '^  Failed [A-Za-z]' "$test_log" | head -20 || true
  awk '/^  Failed [A-Za-z]/ { shown++; lines = 0; on = (shown <= 2) }
       /^  (Passed|Skipped) [A-Za-z]/ || /^\[xUnit\.net/ || /^(Failed|Passed)! / { on = 0 }
       on && lines++ < 40 { print }' "$test_log"
  grep -E '^ *not ok' "$js_log" | head -20 || true
fi
rm -f "$test_log" "$js_log"
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
