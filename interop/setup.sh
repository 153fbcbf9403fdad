#!/usr/bin/env bash
# Installs the interop peers into interop/.peers/ (gitignored), from their
# registries, at pinned versions:
#   interop/.peers/py    Python `ocpp` 2.1.0 + `websockets` (pip --target)
#   interop/.peers/node  Node `ocpp-rpc` 2.2.1 (npm --prefix)
# Idempotent: does nothing when the right versions are already there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers="$here/.peers"
py_dir="$peers/py"
node_dir="$peers/node"
node_version="2.2.1"

say() { printf 'interop setup: %s\n' "$*"; }
die() { printf 'interop setup: error: %s\n' "$*" >&2; exit 1; }

# ---- Python -----------------------------------------------------------------
command -v python3 >/dev/null || die "python3 not found (the Python peer needs Python >= 3.11)"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "python3 is $(python3 -V 2>&1); ocpp 2.1.0 needs Python >= 3.11"

py_stamp="$py_dir/.installed"
if [[ -f "$py_stamp" ]] && cmp -s "$py_stamp" "$here/py/requirements.txt"; then
    say "python peer already installed ($(sed -n 's/^ocpp==//p' "$py_stamp") in $py_dir)"
else
    if ! python3 -m pip --version >/dev/null 2>&1; then
        # Debian's python3 comes without pip; CI runs as root and can add it.
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            say "installing python3-pip with apt-get"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
        else
            die "python3 has no pip; install python3-pip"
        fi
    fi
    say "installing the python peer into $py_dir"
    rm -rf "$py_dir"
    mkdir -p "$py_dir"
    # --target installs outside any environment, so it works with a
    # system python3 that is marked externally managed (PEP 668).
    PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-input \
        --root-user-action=ignore --target "$py_dir" -r "$here/py/requirements.txt"
    cp "$here/py/requirements.txt" "$py_stamp"
fi
PYTHONPATH="$py_dir" python3 -c 'import ocpp.v21, websockets' \
    || die "the python peer does not import; remove $py_dir and run again"

# ---- Node -------------------------------------------------------------------
command -v node >/dev/null || die "node not found (the Node peer needs Node.js >= 17.3)"
command -v npm >/dev/null || die "npm not found"
installed_node_version() {
    node -p "require('$node_dir/node_modules/ocpp-rpc/package.json').version" 2>/dev/null || true
}
if [[ "$(installed_node_version)" == "$node_version" ]]; then
    say "node peer already installed (ocpp-rpc $node_version in $node_dir)"
else
    say "installing the node peer into $node_dir"
    mkdir -p "$node_dir"
    npm install --silent --no-audit --no-fund --prefix "$node_dir" "ocpp-rpc@$node_version"
    [[ "$(installed_node_version)" == "$node_version" ]] || die "ocpp-rpc $node_version did not install"
fi
say "ready"
