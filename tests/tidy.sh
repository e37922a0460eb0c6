#!/usr/bin/env bash
# tidy.sh - runs clang-tidy (the checks of .clang-tidy at the top of the
# tree) over every C file of node/, cli/ and proto/, at any depth, with the
# compile commands of a build; the CI static-check step.
#
#   tests/tidy.sh [BUILD_DIR]
#
# BUILD_DIR (default: build-tidy at the top of the tree) is configured if it
# has no compile_commands.json yet; nothing is compiled. Files run in
# parallel, one clang-tidy per core. Exits non-zero on any warning (listed
# with its check) or if clang-tidy cannot run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-tidy}
cd "$root"

if ! command -v clang-tidy >/dev/null; then
    echo "tidy.sh: clang-tidy is missing (apt-get install clang-tidy)" >&2
    exit 1
fi
if [ ! -f "$build/compile_commands.json" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi

# A module's unit test beside it (ru_x_test.c) is a script of checks, long by
# nature: the size and style checks are for the code that ships.
mapfile -t files < <(find node cli proto -name '*.c' ! -name '*_test.c' | sort)
if [ "${#files[@]}" -eq 0 ]; then
    echo "tidy.sh: no C files under node/, cli/, proto/" >&2
    exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "clang-tidy: ${#files[@]} files, $(nproc) at a time"
status=0
printf '%s\n' "${files[@]}" |
    xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet >"$log" 2>/dev/null || status=$?
warnings=$(grep -c ': warning: ' "$log" || true)
if [ "$warnings" -ne 0 ]; then
    cat "$log"
    echo "clang-tidy: $warnings warnings" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "clang-tidy failed (exit $status)" >&2
    exit 1
fi
echo "clang-tidy: no warnings"
