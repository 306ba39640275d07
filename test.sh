#!/usr/bin/env bash
# The test command of README.md: installs what the machine lacks, then runs every test.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

dotnet build Notify.sln -c Release -warnaserror
dotnet test Notify.sln -c Release --no-build
