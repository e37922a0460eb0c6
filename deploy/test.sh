#!/usr/bin/env bash
# deploy/test.sh - sets up and runs every test of ruche.
#
# Installs the missing Debian packages, builds from scratch in its own build
# directory (build-test, or $RUCHE_BUILD_DIR) and runs the whole suite through
# CTest, ending with CTest's summary. Extra arguments go to cmake, e.g.
#   ./deploy/test.sh -DRUCHE_SANITIZE=ON -DRUCHE_WERROR=ON
# Idempotent; works as root on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

ruche_ensure_packages build test
build_dir=${RUCHE_BUILD_DIR:-build-test}
rm -rf "$build_dir"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build_dir" -j"$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)"
