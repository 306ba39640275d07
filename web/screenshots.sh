#!/bin/sh
# Refreshes the web UI screenshots in docs/screenshots/ by running the browser tests that take them.
# Needs a Release build (dotnet build Notify.sln -c Release) and Chromium (see docs/web-ui.md).
set -eu
cd "$(dirname "$0")/.."
NOTIFY_SCREENSHOTS=docs/screenshots dotnet test Notify.Tests -c Release --no-build \
  --filter "FullyQualifiedName~InboxSeenAndBulkPageTests|FullyQualifiedName~InboxActionsPageTests|FullyQualifiedName~TasksAndAdminPageTests"
