#!/usr/bin/env bash
# test_layout.sh - what `cmake --install` lays out, into a DESTDIR: the two
# programs, /etc/ruche/ruched.conf, /var/lib/ruche (mode 0700), the systemd
# unit naming the installed ruched, the web front end under
# PREFIX/share/ruche/web and the documentation. A second install keeps an
# edited config (the default goes beside it as ruched.conf.dist). The
# installed ruched runs on the installed config, as shipped, and serves the
# installed web files. The unit passes `systemd-analyze verify` without a
# word, and `systemd-analyze security` rates its exposure 2.0 or less
# ("OK"): the sandbox of deploy/ruche.service has not been loosened.
#
# Usage: test_layout.sh BUILD_DIR PREFIX UNIT_DIR VERSION (the project's).
# Any user can run it.
# Needs curl, python3 and systemd-analyze (package systemd). Prints
# "N passed, M failed"; exits 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"

usage="usage: test_layout.sh BUILD_DIR PREFIX UNIT_DIR VERSION"
build=${1:?$usage}
prefix=${2:?$usage}
unit_dir=${3:?$usage}
version=${4:?$usage}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ruche_layout.XXXXXX")
root=$tmp/root
node_pid=""
cleanup() {
    [[ -n $node_pid ]] && kill -KILL "$node_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

DESTDIR=$root cmake --install "$build" >"$tmp/install.log" 2>&1 ||
    fatal "cmake --install into a DESTDIR" "$tmp/install.log"
bin=$root$prefix/bin
web=$root$prefix/share/ruche/web
doc=$root$prefix/share/doc/ruche
unit=$root$unit_dir/ruche.service

check "ruched and ruche in PREFIX/bin" test -x "$bin/ruched" -a -x "$bin/ruche"
check "/etc/ruche/ruched.conf is deploy/ruched.conf" same_text "$root/etc/ruche/ruched.conf" \
    "$src/deploy/ruched.conf"
check "/var/lib/ruche, mode 0700" test "$(stat -c %a "$root/var/lib/ruche")" = 700
check "the web front end in PREFIX/share/ruche/web" diff -r "$src/node/web" "$web"
check "deploy/README.md, copyright, changelog in PREFIX/share/doc/ruche" \
    test -f "$doc/README.md" -a -f "$doc/copyright" -a -f "$doc/changelog.gz"
check "the unit in $unit_dir runs the installed ruched on /etc/ruche/ruched.conf" \
    grep -qx "ExecStart=$prefix/bin/ruched --config /etc/ruche/ruched.conf" "$unit"

echo "; edited by the administrator" >>"$root/etc/ruche/ruched.conf"
DESTDIR=$root cmake --install "$build" >"$tmp/install.log" 2>&1 ||
    fatal "a second cmake --install" "$tmp/install.log"
check "a second install keeps the edited config" \
    grep -q "^; edited by the administrator" "$root/etc/ruche/ruched.conf"
check "and puts the default beside it as ruched.conf.dist" \
    same_text "$root/etc/ruche/ruched.conf.dist" "$src/deploy/ruched.conf"

port=$(free_port)
"$bin/ruched" --config "$root/etc/ruche/ruched.conf" --data-dir "$tmp/data" \
    --listen "127.0.0.1:$port" --set "http.web_root=$web" 2>"$tmp/ruched.log" &
node_pid=$!
wait_healthz "$port" "$node_pid" || fatal "the installed ruched answers /healthz" "$tmp/ruched.log"
check "the installed ruched answers /healthz on the shipped config" true
curl -sf "http://127.0.0.1:$port/" >"$tmp/index.html"
check "and serves the installed index.html" same_text "$tmp/index.html" "$web/index.html"
kill -TERM "$node_pid"
wait "$node_pid"
check "and stops with status 0 on SIGTERM" test $? -eq 0
node_pid=""
check "the installed ruche is version $version" test "$("$bin/ruche" --version)" = "ruche $version"

# verify checks that the programs exist: point it at the DESTDIR's ruched.
sed "s|^ExecStart=$prefix/bin/ruched|ExecStart=$bin/ruched|" "$unit" >"$tmp/ruche.service"
check "systemd-analyze verify: no complaint" quiet systemd-analyze verify "$tmp/ruche.service"
check "systemd-analyze security: exposure 2.0 or less" \
    quiet_ok systemd-analyze security --offline=yes --threshold=20 --no-pager "$tmp/ruche.service"
finish
