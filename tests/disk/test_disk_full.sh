#!/usr/bin/env bash
# test_disk_full.sh - ruched when the disk under its store fills up, and when
# its store reaches store.max_size_mb. A full store must cost availability
# of writes only: the post that does not fit is refused with 507 and a JSON
# error, every post acknowledged before stays readable (before and after a
# restart), reads go on, and writes resume once there is room again.
#
# Part "tmpfs" mounts an 8 MiB tmpfs for the data directory
# (store.map_size_mb=1, no size limit: the map grows until the disk
# refuses), fills it with posts of about 4000 characters, then remounts it
# with 64 MiB; /readyz answers 503 naming the full disk while it is full,
# 200 again once there is room. Part "limit" runs on an ordinary temporary
# directory with store.max_size_mb=2. Both restart ruched on the same
# directory at the end.
#
# Usage: test_disk_full.sh PATH/TO/ruched [tmpfs|limit|all] (default all).
# The tmpfs part needs root to mount; without it the script prints
# "skipped: needs root" and exits 77, which CTest reports as skipped.
# Needs curl, jq and python3. Prints "N passed, M failed"; exits 1 on any
# failure.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

usage="usage: test_disk_full.sh PATH/TO/ruched [tmpfs|limit|all]"
ruched=${1:?$usage}
part=${2:-all}
case $part in
tmpfs | all)
    if [[ $(id -u) -ne 0 ]]; then
        echo "skipped: needs root"
        exit 77
    fi
    ;;
limit) ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ruche_disk.XXXXXX")
mnt=$tmp/mnt
node_pid=""
cleanup() {
    if [[ -n $node_pid ]]; then
        kill -KILL "$node_pid" 2>/dev/null
        wait "$node_pid" 2>/dev/null
    fi
    if mountpoint -q "$mnt" 2>/dev/null; then
        umount "$mnt" || umount -l "$mnt"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start_node DIR ARGS...: runs ruched on DIR and a free port, its log in a
# new file $log; waits (30 s at most) until GET /healthz answers.
starts=0
start_node() {
    local dir=$1 port
    shift
    port=$(free_port)
    base=http://127.0.0.1:$port
    starts=$((starts + 1))
    log=$tmp/ruched.$starts.log
    "$ruched" --data-dir "$dir" --site disk --listen "127.0.0.1:$port" "$@" >"$log" 2>&1 &
    node_pid=$!
    local deadline=$(($(now_ms) + 30000))
    until curl -sf --max-time 2 "$base/healthz" >/dev/null; do
        kill -0 "$node_pid" 2>/dev/null || return 1
        (($(now_ms) < deadline)) || return 1
        sleep 0.05
    done
}

# stop_node: SIGTERM, then the exit status of ruched (30 s at most). Fails
# if ruched had already exited: something else stopped it.
stop_node() {
    local deadline=$(($(now_ms) + 30000)) status
    if ! kill -TERM "$node_pid" 2>/dev/null; then
        wait "$node_pid"
        echo "  ruched (pid $node_pid) had already exited, status $?; its last log lines:"
        tail -n 5 "$log" | sed 's/^/  ruched: /'
        node_pid=""
        return 1
    fi
    while kill -0 "$node_pid" 2>/dev/null && (($(now_ms) < deadline)); do
        sleep 0.05
    done
    kill -0 "$node_pid" 2>/dev/null && kill -KILL "$node_pid"
    wait "$node_pid"
    status=$?
    node_pid=""
    return "$status"
}

# api METHOD PATH [JSON-FILE]: one request; the body goes to $tmp/body, the
# status to $code ("000" when there is no answer within 30 s).
api() {
    local args=(-s --max-time 30 -o "$tmp/body" -w '%{http_code}' -X "$1")
    [[ -n ${token:-} ]] && args+=(-H "Authorization: Bearer $token")
    [[ $# -ge 3 ]] && args+=(-H "Content-Type: application/json" --data-binary "@$3")
    : >"$tmp/body"
    code=$(curl "${args[@]}" "$base$2") || true
}

login() {
    local password
    password=$(cat "$1/admin-password") || return 1
    token=""
    jq -n --arg p "$password" '{grant_type: "password", username: "admin", password: $p}' \
        >"$tmp/login.json"
    api POST /oauth/token "$tmp/login.json"
    [[ $code == 200 ]] && token=$(jq -r .access_token "$tmp/body") && [[ -n $token ]]
}

filler=$(printf 'abcdefghi %.0s' {1..400}) # 4000 characters, no JSON escapes

# fill_until_full LABEL MAX: posts "post LABEL.N <filler>end" for N = 1, 2,
# ... until ruched answers something other than 200, MAX posts at most. The
# acknowledged ones are appended to $tmp/acked as "ID LABEL.N"; the last
# answer is left in $code and $tmp/body.
fill_until_full() {
    local n
    for ((n = 1; n <= $2; n++)); do
        printf '{"status":"post %s.%d %send"}' "$1" "$n" "$filler" >"$tmp/post.json"
        api POST /api/v1/statuses "$tmp/post.json"
        [[ $code == 200 ]] || return 0
        echo "$(jq -r .id "$tmp/body") $1.$n" >>"$tmp/acked"
    done
}

# all_acked_readable: GET of every acknowledged post answers 200 with its
# id and text (plain ASCII, so its JSON string is the text itself). Lists
# the first few that do not.
all_acked_readable() {
    local id key body bad=0
    while read -r id key; do
        api GET "/api/v1/statuses/$id"
        body=$(<"$tmp/body")
        if [[ $code != 200 || $body != *"\"id\":\"$id\""* ||
            $body != *"\"text\":\"post $key ${filler}end\""* ]]; then
            bad=$((bad + 1))
            [[ $bad -le 5 ]] && echo "  post $key (id $id): status $code, ${body:0:200}"
        fi
    done <"$tmp/acked"
    [[ $bad -eq 0 ]]
}

is_json_error() { jq -e '.error | type == "string" and length > 0' "$tmp/body" >/dev/null 2>&1; }
error_says() { jq -r .error "$tmp/body" 2>/dev/null | grep -Eq "$1"; }
acked_count() { wc -l <"$tmp/acked"; }
newest_acked() { tail -n 1 "$tmp/acked" | cut -d' ' -f1; }

# timeline_serves_newest: the public timeline answers 200 with the newest
# acknowledged post first.
timeline_serves_newest() {
    api GET "/api/v1/timelines/public?limit=5"
    [[ $code == 200 ]] && [[ $(jq -r '.[0].id' "$tmp/body") == "$(newest_acked)" ]]
}

# count_matches: the admin's statuses_count is the number of acknowledged
# posts, so no refused post was stored.
count_matches() {
    api GET /api/v1/accounts/verify_credentials
    [[ $code == 200 ]] && [[ $(jq -r .statuses_count "$tmp/body") == "$(acked_count)" ]]
}

# after_full DESCRIPTION PATTERN: the checks every full store must pass,
# PATTERN being what the error message must say.
after_full() {
    check "$1: posting ends with 507 (got $code after $(acked_count) acknowledged posts)" \
        test "$code" = 507
    check "the 507 answer is JSON with an error message" is_json_error
    check "the error says why: $(jq -r .error "$tmp/body" 2>/dev/null)" error_says "$2"
    check "posts were acknowledged before the store filled up" test "$(acked_count)" -gt 0
    check "every acknowledged post reads back with its text" all_acked_readable
    check "the public timeline still answers, newest post first" timeline_serves_newest
    check "no refused post was stored (statuses_count = acknowledged)" count_matches
}

# restart_and_check DIR ARGS...: SIGTERM, a clean exit, a new start on the
# same directory, and every acknowledged post still there.
restart_and_check() {
    local dir=$1
    shift
    check "ruched exits 0 on SIGTERM" stop_node
    start_node "$dir" "$@" || fatal "ruched restarts on the same data directory" "${log:-}"
    check "logging in again works" login "$dir"
    check "after the restart every acknowledged post reads back with its text" all_acked_readable
    check "after the restart the public timeline has the newest post first" timeline_serves_newest
}

# ---- Part tmpfs: the disk fills up -----------------------------------------

part_tmpfs() {
    mkdir -p "$mnt"
    mount -t tmpfs -o size=8m,mode=0700 tmpfs "$mnt" || fatal "mounting an 8 MiB tmpfs" "${log:-}"
    data=$mnt/data
    : >"$tmp/acked"
    start_node "$data" --set store.map_size_mb=1 || fatal "ruched starts on the tmpfs" "${log:-}"
    login "$data" || fatal "logging in as admin" "${log:-}"

    fill_until_full disk 5000
    after_full "disk full" "no space left|size limit"
    api GET /readyz
    check "while the disk is full, /readyz answers 503 (got $code)" test "$code" = 503
    check "and says why: $(jq -r .error "$tmp/body" 2>/dev/null)" error_says "disk holding it is full"

    mount -o remount,size=64m "$mnt" || fatal "remounting the tmpfs with 64 MiB" "${log:-}"
    api GET /readyz
    check "with room on the disk again, /readyz answers 200 (got $code)" test "$code" = 200
    fill_until_full more 3
    check "after freeing space, new posts are acknowledged again" test "$code" = 200
    check "and they read back, with the old ones" all_acked_readable
    restart_and_check "$data" --set store.map_size_mb=1
    check "ruched exits 0 on SIGTERM" stop_node
    umount "$mnt" || fatal "unmounting the tmpfs" "${log:-}"
}

# ---- Part limit: the store reaches store.max_size_mb -------------------------

part_limit() {
    data=$tmp/store
    : >"$tmp/acked"
    start_node "$data" --set store.map_size_mb=1 --set store.max_size_mb=2 ||
        fatal "ruched starts with store.max_size_mb=2" "${log:-}"
    login "$data" || fatal "logging in as admin" "${log:-}"

    fill_until_full limit 2000
    after_full "store size limit" "size limit"
    check "the log says the store is full" grep -q "the store is full" "$log"
    restart_and_check "$data" --set store.map_size_mb=1 --set store.max_size_mb=2
    check "ruched exits 0 on SIGTERM" stop_node
}

case $part in
tmpfs) part_tmpfs ;;
limit) part_limit ;;
all)
    part_tmpfs
    part_limit
    ;;
esac
finish
