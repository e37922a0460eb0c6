# tests/lib.sh - shell functions shared by the shell tests (disk, packaging).
# Source it; it defines functions and the counters passed and failed.

passed=0
failed=0

# check DESCRIPTION COMMAND...: runs COMMAND; prints and counts its verdict.
check() {
    local what=$1 verdict=ok
    shift
    "$@" || verdict=FAILED
    if [[ $verdict == ok ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    echo "$verdict: $what"
}

# finish: prints the counts; exits 1 if any check failed.
finish() {
    echo "$passed passed, $failed failed"
    exit $((failed > 0))
}

# fatal DESCRIPTION [LOG]: a failure the remaining checks cannot survive.
fatal() {
    failed=$((failed + 1))
    echo "FAILED: $1"
    [[ -n ${2:-} && -f $2 ]] && tail -n 20 "$2" | sed 's/^/  | /'
    finish
}

# skip REASON: CTest reports the test as skipped (exit 77).
skip() {
    echo "skipped: $1"
    exit 77
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_healthz PORT PID: waits up to 20 s for /healthz to answer 200 while
# PID lives.
wait_healthz() {
    local deadline=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
        curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# eventually SECONDS COMMAND...: runs COMMAND until it succeeds, for
# SECONDS at most.
eventually() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# same_text A B: do files A and B hold the same bytes?
same_text() { cmp -s "$1" "$2"; }

# quiet_ok COMMAND...: COMMAND succeeds; its output is shown only if not.
quiet_ok() {
    local out
    out=$("$@" 2>&1) || { echo "$out" | sed 's/^/  | /'; return 1; }
}

# quiet COMMAND...: COMMAND succeeds and writes nothing (systemd-analyze
# verify only warns, on standard error, about keys it does not know).
quiet() {
    local out
    out=$("$@" 2>&1) || { echo "$out" | sed 's/^/  | /'; return 1; }
    [[ -z $out ]] || { echo "$out" | sed 's/^/  | /'; return 1; }
}
