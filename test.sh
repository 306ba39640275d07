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
# (browser and Node.js prerequisites go here)

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

# --- Build -----------------------------------------------------------------------------------------------
dotnet build Notify.sln -c Release -warnaserror -nologo -clp:ErrorsOnly

# --- Setup that needs the build output -------------------------------------------------------------------
# (e.g. the browser install of Playwright, the npm build of the TypeScript SDK go here)

# --- Test ------------------------------------------------------------------------------------------------
results="TestResults/test-sh"
rm -rf "$results"
status=0
dotnet test Notify.sln -c Release --no-build -nologo \
  --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 10m --blame-hang-dump-type none || status=$?

passed=0; failed=0; skipped=0
counter() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2"; }
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" || true)
  [ -n "$counters" ] || continue
  passed=$((passed + $(counter passed "$counters")))
  failed=$((failed + $(counter failed "$counters") + $(counter error "$counters") + $(counter timeout "$counters") + $(counter aborted "$counters")))
  skipped=$((skipped + $(counter notExecuted "$counters")))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "the test run failed (exit code $status) without a failed test in its results: a crash or hang of the test host"
fi
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
