#!/usr/bin/env bash
# run.sh - builds the libFuzzer targets, seeds them and runs each for a
# fixed time, one after the other; the CI fuzz step.
#
#   tests/fuzz/run.sh SECONDS [BUILD_DIR]
#
# SECONDS is each target's time: CI gives 45, six minutes for the eight
# targets. BUILD_DIR (default: build-fuzz at the top of the tree) is
# configured with clang, the fuzz targets and the address/undefined
# sanitizers.
#
# Seeds of proto/'s decoders come from proto/vectors.json (RUCHE_VECTORS=FILE
# reads another file): update envelopes and payloads seed fuzz_update,
# message bytes seed fuzz_msg, and each invalid case seeds the target of
# its decoder; the hex lines of tests/fuzz/seeds/person.hex, the persons
# of the vectors' profiles of version 3, seed fuzz_update as bare persons.
# The node's targets are seeded from tests/fuzz/seeds: files
# under config/ (and deploy/ruched.conf) seed fuzz_config, under keyfile/
# fuzz_keyfile, under text/ fuzz_text, under params/ fuzz_params, under
# multipart/ fuzz_multipart, and the hex lines of store.hex fuzz_store. Corpora start fresh on every run, under
# BUILD_DIR/fuzz-corpus; crashing inputs are kept under
# BUILD_DIR/fuzz-artifacts and each target's output in
# BUILD_DIR/fuzz-<target>.log.
#
# Exits non-zero if a target crashes, times out, leaks or cannot be run.
set -euo pipefail

usage() {
    echo "usage: $0 SECONDS [BUILD_DIR]" >&2
    exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ] || ! [[ $1 =~ ^[1-9][0-9]*$ ]]; then
    usage
fi
secs=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${2:-$root/build-fuzz}
vectors=${RUCHE_VECTORS:-$root/proto/vectors.json}

# A fuzz target's input size cap: large enough for the largest legal
# update envelope (RU_MAX_PAYLOAD plus its framing), and for a message of
# two of them; raised to the largest seed if one is larger still. A full
# chunk of a blob (1 MiB) is past it on purpose, as inputs that size slow
# every run: the chunks of the vectors (up to 64 KiB) and the one over
# 1 MiB cut short after its length reach every check of the decoder.
update_max_len=70000
msg_max_len=140000
# The node's inputs: a config or a text of a few kilobytes, a key file
# line, a stored record, the parts of an upload.
node_max_len=4096
seeds=$root/tests/fuzz/seeds

need_jq() {
    command -v jq >/dev/null && return
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y -q jq >/dev/null
    else
        echo "run.sh: jq is missing (apt-get install jq)" >&2
        exit 1
    fi
}

# Writes each hex string read from stdin, one a line, as a binary seed
# file DIR/NAME-N.
write_seeds() {
    local dir=$1 name=$2 n=0 hex
    while IFS= read -r hex; do
        printf '%s' "$hex" | perl -e 'local $/; print pack("H*", <STDIN>)' >"$dir/$name-$n"
        n=$((n + 1))
    done
    echo "  $n seeds $name -> $dir"
}

make_corpora() {
    local corpus=$build/fuzz-corpus
    rm -rf "$corpus" "$build/fuzz-artifacts"
    mkdir -p "$corpus/update" "$corpus/msg" "$build/fuzz-artifacts"
    echo "seeds from $vectors:"
    jq -r '.updates[] | .envelope // empty' "$vectors" | write_seeds "$corpus/update" envelope
    jq -r '.updates[] | .payload // empty' "$vectors" | write_seeds "$corpus/update" payload
    jq -r '.messages[] | .bytes // empty' "$vectors" | write_seeds "$corpus/msg" message
    jq -r '.invalid[] | select(.decoder == "update") | .bytes' "$vectors" |
        write_seeds "$corpus/update" invalid
    jq -r '.invalid[] | select(.decoder == "message") | .bytes' "$vectors" |
        write_seeds "$corpus/msg" invalid
    echo "seeds from $seeds:"
    for dir in config keyfile text params multipart; do
        mkdir -p "$corpus/$dir"
        cp "$seeds/$dir"/* "$corpus/$dir/"
        echo "  $(find "$corpus/$dir" -type f | wc -l) seeds $dir -> $corpus/$dir"
    done
    cp "$root/deploy/ruched.conf" "$corpus/config/"
    mkdir -p "$corpus/store"
    grep -v '^#' "$seeds/store.hex" | write_seeds "$corpus/store" record
    grep -v '^#' "$seeds/person.hex" | write_seeds "$corpus/update" person
}

# The larger of a default cap and the largest file in a corpus.
max_len_for() {
    local corpus=$1 cap=$2 biggest
    biggest=$(find "$corpus" -type f -printf '%s\n' | sort -n | tail -n 1)
    echo $((${biggest:-0} > cap ? ${biggest:-0} : cap))
}

# Runs one target over its corpus; returns its exit status.
run_target() {
    local target=$1 corpus=$build/fuzz-corpus/$2 cap=$3 log=$build/fuzz-$1.log status=0
    local max_len
    max_len=$(max_len_for "$corpus" "$cap")
    echo "== $target: ${secs}s, max_len $max_len, log $log"
    # handle_abort: a failed check (abort) gets a stack trace too.
    ASAN_OPTIONS=${ASAN_OPTIONS:-handle_abort=1} UBSAN_OPTIONS=print_stacktrace=1 \
        "$build/tests/fuzz/$target" \
        -max_total_time="$secs" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz-artifacts/$target-" "$corpus" >"$log" 2>&1 ||
        status=$?
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    if [ "$status" -ne 0 ]; then
        echo "!! $target failed (exit $status); last lines of $log:"
        tail -n 60 "$log"
        ls -l "$build/fuzz-artifacts" || true
    fi
    return "$status"
}

if [ ! -f "$vectors" ]; then
    echo "run.sh: no seed file $vectors" >&2
    exit 1
fi
need_jq
CC=clang cmake -S "$root" -B "$build" -DRUCHE_FUZZ=ON -DRUCHE_SANITIZE=ON -DRUCHE_TESTS=ON \
    -DRUCHE_WERROR=ON >/dev/null
# Each target: its corpus under BUILD_DIR/fuzz-corpus and its input cap.
targets=(
    "fuzz_update update $update_max_len"
    "fuzz_msg msg $msg_max_len"
    "fuzz_config config $node_max_len"
    "fuzz_keyfile keyfile $node_max_len"
    "fuzz_store store $node_max_len"
    "fuzz_text text $node_max_len"
    "fuzz_params params $node_max_len"
    "fuzz_multipart multipart $node_max_len"
)
names=()
for t in "${targets[@]}"; do
    names+=("${t%% *}")
done
cmake --build "$build" --target "${names[@]}" -j "$(nproc)"
make_corpora

failed=0
for t in "${targets[@]}"; do
    # shellcheck disable=SC2086 # the three words of the row
    run_target $t || failed=1
done
if [ "$failed" -ne 0 ]; then
    echo "fuzzing found a problem" >&2
    exit 1
fi
echo "fuzzing: no crash, timeout or leak"
