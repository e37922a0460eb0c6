#!/usr/bin/env bash
# tests/browser/setup.sh DIR - installs the browser test's npm packages
# (playwright-core, at the version package-lock.json pins) into DIR, the
# test's folder in the build tree, with `npm ci`; again only when the lock
# file changed. The browser itself is Debian's chromium (deploy/packages.txt).
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
dest=$1
mkdir -p "$dest"
if [ -d "$dest/node_modules/playwright-core" ] && cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
    echo "playwright-core is installed in $dest"
    exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
npm ci --no-audit --no-fund --loglevel=error
echo "installed playwright-core in $dest"
