# deploy/lib.sh - shell functions shared by quickstart.sh and test.sh.
# Source it; it defines functions only.

# ruche_packages GROUP... - prints the packages of the given groups listed in
# deploy/packages.txt.
ruche_packages() {
    local groups=" $* "
    local group pkg
    while read -r group pkg; do
        case "$group" in '#'* | '') continue ;; esac
        [[ "$groups" == *" $group "* ]] && echo "$pkg"
    done <"$(dirname "${BASH_SOURCE[0]}")/packages.txt"
}

# ruche_installed PKG - is PKG installed, or provided by an installed package
# (NodeSource's nodejs provides npm, and conflicts with Debian's npm)?
ruche_installed() {
    # grep reads to the end (no -q): an early exit would fail the pipe under pipefail.
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep "ok installed" >/dev/null && return 0
    dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null | grep '^ii' |
        grep -E "[|, ]$1([ ,(]|\$)" >/dev/null
}

# ruche_ensure_packages GROUP... - installs the packages of those groups that
# are missing, with apt-get (as root, or through sudo).
ruche_ensure_packages() {
    local missing=() pkg
    for pkg in $(ruche_packages "$@"); do
        ruche_installed "$pkg" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "ruche: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}"
}
