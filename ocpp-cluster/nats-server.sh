#!/usr/bin/env bash
# Puts a nats-server (Debian's package, 2.9.x, with JetStream) at .ci/tools/bin/nats-server for
# the cluster tests and benchmark, without installing anything system-wide: the package is
# downloaded with `apt-get download` and unpacked. Idempotent. A nats-server already on PATH is
# used as it is (linked).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.ci/tools/bin"
target="$bin/nats-server"
say() { printf 'nats-server: %s\n' "$*"; }

if [[ -x "$target" ]] && "$target" --version >/dev/null 2>&1; then
    # The binary's version line already names it ("nats-server: v2.9.10").
    echo "$("$target" --version) at $target"
    exit 0
fi
mkdir -p "$bin"
if found="$(command -v nats-server)"; then
    ln -sf "$found" "$target"
    say "using $found"
    exit 0
fi
command -v apt-get >/dev/null || { say "error: no apt-get; install nats-server 2.9+ and put it on PATH" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download nats-server >/dev/null 2>&1; then
    # A fresh machine may have no package lists yet.
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq
    else
        sudo apt-get update -qq
    fi
    apt-get download nats-server >/dev/null
fi
dpkg-deb -x nats-server_*.deb unpacked
install -m 0755 unpacked/usr/sbin/nats-server "$target"
echo "$("$target" --version) installed at $target"
