#!/usr/bin/env bash
# deploy/quickstart.sh - sets up and runs a ruche node on this machine.
#
# Installs the missing Debian packages, builds ruched and ruche (Release, in
# build/), and runs the node of site "paris" in the foreground with its data
# under run/paris in the checkout, serving http://127.0.0.1:8080. Prints the
# URL and the admin login; Ctrl-C stops the node cleanly. Run it again at
# any time: the data and the admin password are kept.
# Environment: RUCHE_PORT (default 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

ruche_ensure_packages build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRUCHE_TESTS=OFF -DRUCHE_WERROR=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

port=${RUCHE_PORT:-8080}
data=run/paris
mkdir -p run
build/node/ruched --data-dir "$data" --site paris --listen "127.0.0.1:$port" &
node=$!
trap 'kill -TERM "$node" 2>/dev/null; wait "$node"' INT TERM

for _ in $(seq 100); do # wait for the node to answer, 10 s at most
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    kill -0 "$node" 2>/dev/null || { echo "ruched did not start"; exit 1; }
    sleep 0.1
done

cat <<MSG

  ruche is running: site paris at http://127.0.0.1:$port
  log in as admin, password $(cat "$data/admin-password"), for example:
    build/cli/ruche --server http://127.0.0.1:$port login admin
    build/cli/ruche post "Hello from paris #ruche"
  Ctrl-C stops the node.

MSG
wait "$node"
