#!/usr/bin/env bash
# deploy/quickstart.sh - sets up and runs a three-site ruche network on this
# machine: paris, nozay and murray-hill, each peered with the two others.
#
# Installs the missing Debian packages, builds ruched and ruche (Release, in
# build/), makes each site's key and config file under run/SITE/ in the
# checkout (kept across runs, like the sites' data), starts the three nodes
# and prints each site's URL and admin login. Ctrl-C stops all three
# cleanly. Environment: RUCHE_PORT, the first HTTP port (default 8080; the
# sites use three in a row, and replication uses 7101-7302 by default,
# RUCHE_REPL_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

ruche_ensure_packages build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRUCHE_TESTS=OFF -DRUCHE_WERROR=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

sites=(paris nozay murray-hill)
http=${RUCHE_PORT:-8080}
repl=${RUCHE_REPL_PORT:-7101}
mkdir -p run

# Each site's key, made once; its public key is what the others trust.
declare -A key
for site in "${sites[@]}"; do
    [ -f "run/$site/node.key" ] || build/node/ruched --keygen "run/$site" >/dev/null
    key[$site]=$(build/node/ruched --show-key "run/$site")
done

# Site i listens for HTTP on http+i, publishes on repl+100i, syncs on the next port.
config() {
    local i=$1 site=${sites[$1]} j
    cat <<CONF
# ruched.conf of site $site, written by deploy/quickstart.sh
[node]
site = $site
data_dir = run/$site

[http]
listen = 127.0.0.1:$((http + i))

[replication]
pub = tcp://127.0.0.1:$((repl + 100 * i))
sync = tcp://127.0.0.1:$((repl + 100 * i + 1))
CONF
    for j in "${!sites[@]}"; do
        [ "$j" -eq "$i" ] && continue
        cat <<CONF

[peer ${sites[$j]}]
key = ${key[${sites[$j]}]}
pub = tcp://127.0.0.1:$((repl + 100 * j))
sync = tcp://127.0.0.1:$((repl + 100 * j + 1))
CONF
    done
}

pids=()
stop() {
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT
for i in "${!sites[@]}"; do
    config "$i" >"run/${sites[$i]}/ruched.conf"
    build/node/ruched --config "run/${sites[$i]}/ruched.conf" 2>"run/${sites[$i]}.log" &
    pids+=($!)
done

for i in "${!sites[@]}"; do # wait for each node to answer, 10 s at most
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$((http + i))/healthz" >/dev/null && break
        kill -0 "${pids[$i]}" 2>/dev/null || { echo "ruched ${sites[$i]} did not start: see run/${sites[$i]}.log"; exit 1; }
        sleep 0.1
    done
done

echo
echo "  ruche is running: three sites, each replicating to the two others"
for i in "${!sites[@]}"; do
    site=${sites[$i]}
    printf '    %-12s http://127.0.0.1:%d   admin / %s\n' "$site" $((http + i)) \
        "$(cat "run/$site/admin-password")"
done
cat <<MSG

  Open a site's address in a browser and sign in as admin with its password
  (each site has its own accounts): a post made at one site appears live at
  the others.

  From the command line:
    build/cli/ruche --server http://127.0.0.1:$http login admin
    build/cli/ruche post "Bonjour from paris #ruche"
    build/cli/ruche admin adduser alice     # a colleague's account and password
    curl -s http://127.0.0.1:$((http + 2))/api/v1/timelines/public
  Replication status: http://127.0.0.1:$http/api/ruche/v1/replication
  Logs: run/SITE.log. Ctrl-C stops all three.

MSG
wait "${pids[@]}"
