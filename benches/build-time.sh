#!/usr/bin/env bash
# Clean build time of ocpp-rs-types (all three versions) against rust-ocpp 3.0.4 (features
# v1_6,v2_0_1, the versions it covers), on this machine, in fresh target directories.
#
#   bash benches/build-time.sh [release|debug]     (default: release)
#
# Prints both wall times and their ratio, and leaves cargo's --timings report of our build in
# /tmp/ocpp-build-time/ours/cargo-timings/ (what dominates).
set -euo pipefail
profile="${1:-release}"
flag=""
[[ "$profile" == release ]] && flag="--release"
root="$(cd "$(dirname "$0")/.." && pwd)"
work=/tmp/ocpp-build-time
rm -rf "$work"
mkdir -p "$work/peer/src"

# The peer: a throwaway crate depending on rust-ocpp only.
cat > "$work/peer/Cargo.toml" <<'TOML'
[package]
name = "peer"
version = "0.0.0"
edition = "2021"
[dependencies]
rust-ocpp = { version = "=3.0.4", features = ["v1_6", "v2_0_1"] }
[workspace]
TOML
echo "pub use rust_ocpp;" > "$work/peer/src/lib.rs"

# Download everything first so the timings measure compiling only.
(cd "$work/peer" && cargo fetch -q)
(cd "$root" && cargo fetch -q)

seconds() { local start=$SECONDS; "$@" >/dev/null 2>&1; echo $((SECONDS - start)); }

theirs=$(cd "$work/peer" && CARGO_TARGET_DIR="$work/theirs" seconds cargo build $flag)
ours=$(cd "$root" && CARGO_TARGET_DIR="$work/ours" seconds cargo build $flag -p ocpp-rs-types --timings)
echo "clean $profile build, wall seconds, $(nproc) cores"
echo "  rust-ocpp 3.0.4 (v1_6, v2_0_1):          $theirs s"
echo "  ocpp-rs-types (v1.6, v2.0.1, v2.1):      $ours s"
awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "  ratio ours / rust-ocpp:                  %.2f\n", a / b }'
echo "  timings report: $(ls "$root"/target/cargo-timings/cargo-timing.html 2>/dev/null || echo "$work/ours/cargo-timings")"
