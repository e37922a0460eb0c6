#!/usr/bin/env bash
# test_deb.sh - the .deb, as regional IT gets it: deploy/package.sh builds
# it; dpkg-deb shows its name, version, dependencies (the libraries of
# ruched and ruche, adduser and procps), conffile and files; lintian, when
# there is one, finds no error in it. dpkg installs it: the user ruche, its
# directories with their modes, the unit passing `systemd-analyze verify`
# as installed. Then the node starts on the installed config, once its
# site and address are set there: on a machine run by systemd, as the unit
# in its sandbox (and `systemctl reload` too); elsewhere (a container) as
# the unit's ExecStart run as ruche, without new privileges or
# capabilities. Checked: /healthz, the installed web front end, the key
# and admin password made at first start, the installed ruche client
# signing in and posting, a clean stop. Installing the package again (an
# upgrade) keeps the edited config, the key, the accounts and the post. A
# purge leaves nothing behind: no files, no user.
#
# Usage: test_deb.sh WORK_DIR VERSION (the project's version; WORK_DIR
# gets the package's build tree). It installs a package system-wide, so it
# needs root (else it exits 77, which CTest reports as skipped), and it
# refuses likewise to run on a machine that has ruche installed or a user,
# /etc/ruche or /var/lib/ruche of that name: it would purge them. Needs
# the build group of deploy/packages.txt, curl, jq and systemd-analyze.
# Prints "N passed, M failed"; exits 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"

usage="usage: test_deb.sh WORK_DIR VERSION"
work=${1:?$usage}
version=${2:?$usage}

[[ $(id -u) -eq 0 ]] || skip "needs root (it installs the .deb with dpkg)"
! dpkg-query -W ruche >/dev/null 2>&1 || skip "dpkg knows a package ruche already"
! getent passwd ruche >/dev/null || skip "a user ruche exists already"
! getent group ruche >/dev/null || skip "a group ruche exists already"
[[ ! -e /etc/ruche && ! -e /var/lib/ruche ]] || skip "/etc/ruche or /var/lib/ruche exists already"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ruche_deb.XXXXXX")
chmod 0755 "$tmp"
node_pid=""
nozay_pid=""
installed=""
# With systemd running the machine, the node runs as the unit, in its
# sandbox. Without (a container), it runs the unit's command line as ruche
# with no new privileges and no capabilities, from the test's shell.
via=setpriv
[[ -d /run/systemd/system ]] && via=systemd
# stop_node: SIGTERM; succeeds if the node exits with status 0.
stop_node() {
    [[ -n $node_pid ]] || return 0
    local pid=$node_pid
    node_pid=""
    if [[ $via == systemd ]]; then
        systemctl stop ruche.service
        test "$(systemctl show -p ExecMainStatus --value ruche.service)" = 0
        return
    fi
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
}
cleanup() {
    if [[ -n $node_pid && $via == systemd ]]; then
        systemctl kill -s KILL ruche.service
        systemctl stop ruche.service
    elif [[ -n $node_pid ]]; then
        kill -KILL "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
    fi
    [[ -n $nozay_pid ]] && kill -KILL "$nozay_pid" 2>/dev/null
    [[ -n $installed ]] && dpkg --purge ruche >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- The package -------------------------------------------------------
deb=$("$src/deploy/package.sh" "$work" 2>"$tmp/package.log") || fatal "deploy/package.sh" \
    "$tmp/package.log"
check "deploy/package.sh made $(basename "$deb")" test -f "$deb"
field() { dpkg-deb -f "$deb" "$1"; }
check "Package: ruche, Version: $version" test "$(field Package) $(field Version)" = "ruche $version"
for lib in libsodium23 libzmq5 libczmq4 liblmdb0 libh2o-evloop0.13 libwslay1 libssl3 libjansson4 \
    libcurl4 libinih1 libc6 adduser procps; do
    check "Depends on $lib" grep -qE "(^|, )$lib( |,|$)" <(field Depends)
done
dpkg-deb -e "$deb" "$tmp/control"
check "conffiles: /etc/ruche/ruched.conf" grep -qx /etc/ruche/ruched.conf "$tmp/control/conffiles"
check "postinst, prerm, postrm, executable" \
    test -x "$tmp/control/postinst" -a -x "$tmp/control/prerm" -a -x "$tmp/control/postrm"
dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/files"
for f in ./usr/bin/ruched ./usr/bin/ruche ./etc/ruche/ruched.conf ./lib/systemd/system/ruche.service \
    ./usr/share/ruche/web/index.html ./usr/share/doc/ruche/copyright ./var/lib/ruche/; do
    check "holds $f" grep -qx "$f" "$tmp/files"
done
if command -v lintian >/dev/null; then
    lintian "$deb" >"$tmp/lintian.log" 2>&1
    check "lintian: no error" test -z "$(grep '^E:' "$tmp/lintian.log")"
    sed 's/^/  lintian | /' "$tmp/lintian.log"
else
    echo "note: no lintian on this machine; the package was not linted"
fi

# --- Installed ---------------------------------------------------------
installed=yes
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || fatal "dpkg -i $(basename "$deb")" "$tmp/dpkg.log"
check "dpkg -i: ruche is installed" \
    test "$(dpkg-query -W -f='${Status}' ruche)" = "install ok installed"
check "a system user ruche without a shell" \
    test "$(getent passwd ruche | cut -d: -f7)" = /usr/sbin/nologin -a "$(id -u ruche)" -lt 1000
check "/var/lib/ruche: ruche:ruche 700" test "$(stat -c '%U:%G %a' /var/lib/ruche)" = "ruche:ruche 700"
check "/etc/ruche: root:ruche 2770" test "$(stat -c '%U:%G %a' /etc/ruche)" = "root:ruche 2770"
check "/etc/ruche/ruched.conf: group ruche, 640" \
    test "$(stat -c '%G %a' /etc/ruche/ruched.conf)" = "ruche 640"
check "systemd-analyze verify of the installed unit: no complaint" \
    quiet systemd-analyze verify /lib/systemd/system/ruche.service

# The first start, after the administrator set the site and the address.
port=$(free_port)
sed -i -e 's/^site = local$/site = debtest/' -e "s/^listen = 127.0.0.1:8080$/listen = 127.0.0.1:$port/" \
    -e "s|^pub =$|pub = tcp://127.0.0.1:$(free_port)|" -e "s|^sync =$|sync = tcp://127.0.0.1:$(free_port)|" \
    /etc/ruche/ruched.conf
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/ruche.service)
# start_node WHAT: starts the node and waits for /healthz.
start_node() {
    if [[ $via == systemd ]]; then
        systemctl start ruche.service
        node_pid=$(systemctl show -p MainPID --value ruche.service)
    else
        # shellcheck disable=SC2086 # the unit's command line, split as systemd does here
        (umask 0077 && exec setpriv --reuid=ruche --regid=ruche --clear-groups --no-new-privs \
            --inh-caps=-all --bounding-set=-all $exec_start) 2>>"$tmp/ruched.log" &
        node_pid=$!
    fi
    if ! wait_healthz "$port" "$node_pid"; then
        [[ $via == systemd ]] && journalctl -u ruche.service -n 40 --no-pager >"$tmp/ruched.log"
        fatal "$1 ($via): /healthz" "$tmp/ruched.log"
    fi
    check "$1 ($via): /healthz answers" true
}
start_node "ruched started as the unit starts it"
url=http://127.0.0.1:$port
curl -sf "$url/" >"$tmp/index.html"
check "it serves the installed web front end" same_text "$tmp/index.html" \
    /usr/share/ruche/web/index.html
check "the node key, made at first start, ruche's and 0600" \
    test "$(stat -c '%U %a' /var/lib/ruche/node.key)" = "ruche 600"
check "the admin password, ruche's and 0600" \
    test "$(stat -c '%U %a' /var/lib/ruche/admin-password)" = "ruche 600"
export XDG_CONFIG_HOME=$tmp/cli
ruche --server "$url" login admin --password-stdin </var/lib/ruche/admin-password >/dev/null
check "the installed ruche signs in as admin" test $? -eq 0
ruche post "Installed from the package" >/dev/null
check "and posts" grep -q "Installed from the package" <(curl -sf "$url/api/v1/timelines/public")
check "the node is the site set in the config, debtest" \
    test "$(curl -sf "$url/api/ruche/v1/replication" | jq -r .site)" = debtest

# --- A second site, peered as deploy/README.md says --------------------
# nozay runs the installed ruched too, as root, from a directory of the test.
# It is peered first, so debtest refuses it until debtest is peered too;
# it tries again on its anti-entropy timer, made short here.
nozay_port=$(free_port)
nozay_url=http://127.0.0.1:$nozay_port
mkdir "$tmp/nozay"
cat >"$tmp/nozay/ruched.conf" <<CONF
[node]
site = nozay
data_dir = $tmp/nozay/data
[http]
listen = 127.0.0.1:$nozay_port
[replication]
pub = tcp://127.0.0.1:$(free_port)
sync = tcp://127.0.0.1:$(free_port)
anti_entropy_s = 2
CONF
/usr/bin/ruched --config "$tmp/nozay/ruched.conf" 2>"$tmp/nozay.log" &
nozay_pid=$!
wait_healthz "$nozay_port" "$nozay_pid" || fatal "a second site, nozay, starts" "$tmp/nozay.log"
at_nozay() { XDG_CONFIG_HOME=$tmp/cli-nozay "$@"; }
at_nozay ruche --server "$nozay_url" login admin --password-stdin <"$tmp/nozay/data/admin-password" \
    >/dev/null || fatal "ruche login at nozay"
peer_args() { "$@" ruche --json admin key | jq -r '"\(.key) \(.pub) \(.sync)"'; }
read -r -a debtest_peer < <(peer_args env)
read -r -a nozay_peer < <(peer_args at_nozay)
check "ruche admin key gives each site's key and endpoints" \
    test ${#debtest_peer[@]} -eq 3 -a ${#nozay_peer[@]} -eq 3
check "ruche admin add-peer debtest ..., at nozay" \
    quiet_ok at_nozay ruche admin add-peer debtest -- "${debtest_peer[@]}"
check "ruche admin add-peer nozay ..., at debtest" quiet_ok ruche admin add-peer nozay -- "${nozay_peer[@]}"
conf_has_nozay() {
    grep -q "^\[peer nozay\]" /etc/ruche/ruched.conf && grep -q "^# ruched.conf - " /etc/ruche/ruched.conf
}
check "the node wrote [peer nozay] into /etc/ruche/ruched.conf, its comments kept" conf_has_nozay
connected() {
    curl -sf "$1/api/ruche/v1/replication" |
        jq -e --arg site "$2" '.peers[] | select(.site == $site) | .connected' >/dev/null
}
both_connected() { connected "$url" nozay && connected "$nozay_url" debtest; }
check "debtest and nozay connect to each other" eventually 30 both_connected
has_post() { grep -q "Installed from the package" <(curl -sf "$1/api/v1/timelines/public"); }
check "the post made at debtest reaches nozay" eventually 30 has_post "$nozay_url"
check "ruche status shows nozay connected" grep -qE "^nozay +yes" <(ruche status)
if [[ $via == systemd ]]; then
    check "systemctl reload ruche (SIGHUP): the same process serves on" \
        systemctl reload ruche.service
    check "  after the reload" wait_healthz "$port" "$node_pid"
fi
stop_node
check "SIGTERM stops it with status 0" test $? -eq 0

# --- An upgrade --------------------------------------------------------
sha256sum /var/lib/ruche/node.key /var/lib/ruche/admin-password >"$tmp/secrets.sha256"
dpkg -i --force-confold "$deb" >"$tmp/dpkg.log" 2>&1 || fatal "dpkg -i again (an upgrade)" \
    "$tmp/dpkg.log"
check "an upgrade keeps the edited config" grep -qx "site = debtest" /etc/ruche/ruched.conf
check "and the node key and admin password" sha256sum --quiet -c "$tmp/secrets.sha256"
start_node "ruched started after the upgrade"
check "the post is still there" has_post "$url"
check "and nozay connected again" eventually 30 connected "$url" nozay
stop_node
check "SIGTERM stops it with status 0" test $? -eq 0

kill -TERM "$nozay_pid"
wait "$nozay_pid"
check "nozay stops with status 0" test $? -eq 0
nozay_pid=""

# --- Purged ------------------------------------------------------------
dpkg --purge ruche >"$tmp/dpkg.log" 2>&1 || fatal "dpkg --purge ruche" "$tmp/dpkg.log"
installed=""
check "purged: dpkg knows no ruche" test -z "$(dpkg-query -W -f='${Status}' ruche 2>/dev/null)"
check "no /usr/bin/ruched, /usr/bin/ruche, unit or web files" test ! -e /usr/bin/ruched -a \
    ! -e /usr/bin/ruche -a ! -e /lib/systemd/system/ruche.service -a ! -e /usr/share/ruche
check "no /etc/ruche, no /var/lib/ruche" test ! -e /etc/ruche -a ! -e /var/lib/ruche
check "no user or group ruche" test -z "$(getent passwd ruche)$(getent group ruche)"
finish
