#!/usr/bin/env bash
# test_keygen.sh - ruched's key commands, run as an operator would:
# --keygen, --show-key, refusal to replace a key, refusal of a key file
# others may read, and the usage errors. Usage: test_keygen.sh PATH/TO/ruched
set -euo pipefail

ruched=${1:?usage: test_keygen.sh PATH/TO/ruched}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ruche_keygen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...: runs COMMAND, counts the outcome
    local what=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok: $what"
    else
        failed=$((failed + 1))
        echo "FAILED: $what"
    fi
}

# run NAME ARGS...: runs ruched, keeping stdout, stderr and status in
# $tmp/NAME.out, $tmp/NAME.err and $status.
run() {
    local name=$1
    shift
    status=0
    "$ruched" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || status=$?
}

data=$tmp/data # does not exist yet: --keygen makes it

run keygen --keygen "$data"
key=$(cat "$tmp/keygen.out")
check "--keygen exits 0" test "$status" -eq 0
check "--keygen prints one 43-character base64url key" \
    grep -Eqx '[A-Za-z0-9_-]{43}' "$tmp/keygen.out"
check "--keygen prints nothing else on stdout" test "$(wc -l <"$tmp/keygen.out")" -eq 1
if [[ $status -ne 0 || ! -f $data/node.key ]]; then
    cat "$tmp/keygen.err"
    echo "no key was made: the remaining checks cannot run"
    echo "$passed passed, $((failed + 1)) failed"
    exit 1
fi
check "the data directory is made with mode 700" test "$(stat -c %a "$data")" = 700
check "node.key is mode 600" test "$(stat -c %a "$data/node.key")" = 600
check "node.pub holds the printed key" test "$(cat "$data/node.pub")" = "$key"
check "node.pub is the key and one newline" test "$(wc -c <"$data/node.pub")" -eq 44
check "node.key does not contain the public key" bash -c '! grep -q -- "$1" "$2"' _ "$key" "$data/node.key"

run show --show-key "$data"
check "--show-key exits 0" test "$status" -eq 0
check "--show-key prints the same key" test "$(cat "$tmp/show.out")" = "$key"

cp -p "$data/node.key" "$tmp/node.key.before"
run again --keygen "$data"
check "a second --keygen exits 1" test "$status" -eq 1
check "it names node.key on stderr" grep -q "$data/node.key" "$tmp/again.err"
check "it prints nothing on stdout" test ! -s "$tmp/again.out"
check "it leaves node.key byte-identical" cmp -s "$data/node.key" "$tmp/node.key.before"
check "it leaves node.pub alone" test "$(cat "$data/node.pub")" = "$key"

chmod 644 "$data/node.key"
run open --show-key "$data"
check "--show-key on a mode 644 key fails" test "$status" -ne 0
check "it tells to chmod" grep -q "chmod 600" "$tmp/open.err"
check "it prints no key" test ! -s "$tmp/open.out"
chmod 600 "$data/node.key"

run missing --show-key "$tmp/nowhere"
check "--show-key without a key exits 1" test "$status" -eq 1
check "it says how to make one" grep -q -- "--keygen" "$tmp/missing.err"

run unknown --frobnicate
check "an unknown option exits 2" test "$status" -eq 2
check "it prints the usage" grep -q "Usage: ruched" "$tmp/unknown.err"
run mixed --keygen "$data" --site paris
check "a command with other options exits 2" test "$status" -eq 2
run noarg --keygen
check "--keygen without DIR exits 2" test "$status" -eq 2
run extra --show-key "$data" more
check "an extra argument exits 2" test "$status" -eq 2

run version --version
check "--version exits 0" test "$status" -eq 0
check "--version names ruched" grep -Eq '^ruched [0-9]' "$tmp/version.out"
run help --help
check "--help exits 0" test "$status" -eq 0
check "--help documents the exit codes" grep -q "Exit status" "$tmp/help.out"

echo "$passed passed, $failed failed"
test "$failed" -eq 0
