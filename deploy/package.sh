#!/usr/bin/env bash
# deploy/package.sh - builds the .deb of ruche and prints its path.
#
# Configures a build for the prefix /usr (ruched looks for its web files
# under the prefix it was built for) with Debian's hardening flags
# (dpkg-buildflags with hardening=+all: fortified functions, stack
# protector, full RELRO, immediate binding), builds the programs alone (no
# tests) and runs cpack. What goes into the package is set in
# deploy/CMakeLists.txt. Needs the build group of deploy/packages.txt,
# whose build-essential brings dpkg-dev (dpkg-buildflags, and
# dpkg-shlibdeps, which computes the package's dependencies).
#
# Usage: deploy/package.sh [BUILD_DIR [CMAKE_ARGUMENTS...]]
# BUILD_DIR defaults to build-deb; the arguments after it go to cmake, e.g.
# -DRUCHE_PACKAGE_CONTACT="IT Paris <it@paris.example.com>". Everything but
# the path of the .deb goes to standard error.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build-deb}
shift $(($# > 0))

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
flags() { dpkg-buildflags --get "$1"; }
cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DRUCHE_TESTS=OFF -DCMAKE_C_FLAGS="$(flags CPPFLAGS) $(flags CFLAGS)" \
    -DCMAKE_EXE_LINKER_FLAGS="$(flags LDFLAGS)" "$@" >&2
cmake --build "$dir" -j"$(nproc)" >&2
rm -f "$dir"/ruche_*.deb
(cd "$dir" && cpack -G DEB >&2)
ls "$(cd "$dir" && pwd)"/ruche_*.deb
