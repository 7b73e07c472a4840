#!/usr/bin/env bash
# Kiln's test command: builds what changed, then runs every suite through lit
# (FileCheck tests under test/, GoogleTest binaries under build/test/unit).
# The last line is "N passed, N failed" (", N skipped" when some are).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build/build.ninja ]; then
  echo "build/ is not configured: run scripts/setup.sh first" >&2
  exit 2
fi
ninja -C build || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

export PATH="$(pwd)/.venv/bin:$PATH"
LIT=/usr/lib/llvm-22/bin/lit
log=$(mktemp)
"$LIT" -sv build/test build/test/unit "$@" 2>&1 | tee "$log"
# lit's summary lines look like "  Passed: 72 (100.00%)".
count() {
  awk -F': ' -v k="$1" '{ sub(/^ +/, "", $1) } $1 == k { n += $2 } END { print n + 0 }' "$log"
}
passed=$(( $(count Passed) + $(count "Expectedly Failed") ))
failed=$(( $(count Failed) + $(count "Unexpectedly Passed") + $(count "Timed Out") ))
skipped=$(( $(count Unsupported) + $(count Skipped) + $(count Excluded) ))
rm -f "$log"
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # ran nothing
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
