#!/usr/bin/env bash
# The firmware footprint of our OCPP part, against MicroOcpp's published figures.
#
#   benches/footprint.sh
#
# Builds benches/footprint (a Cortex-M4F firmware running one scripted 2.0.1 charging
# session through the station core: boot, statuses, authorization, a transaction with six
# samples, the nine CSMS calls a station handles, one it does not) in its release profile
# (opt-level z, LTO, one codegen unit, panic abort), then prints:
#   - flash: text + rodata + data of the ELF (llvm-size), and the share of each crate
#     (cargo bloat --crates; its split is an estimate, as it says);
#   - heap: bytes in use after boot (idle) and the most in use during the session, counted by
#     a wrapper around the allocator, on the host and, when qemu-system-arm is installed, on
#     the Cortex-M4 itself (QEMU netduinoplus2, semihosting).
# Tools go into benches/footprint/target/tools; nothing is installed system-wide.
set -euo pipefail
cd "$(dirname "$0")/footprint"
tools="$PWD/target/tools"
mkdir -p "$tools"
rustup target add thumbv7em-none-eabihf >/dev/null
rustup component add llvm-tools >/dev/null 2>&1 || true
if [ ! -x "$tools/bin/cargo-bloat" ]; then
    cargo install -q cargo-bloat --version 0.12.1 --locked --root "$tools"
fi
export PATH="$tools/bin:$PATH"
size_tool="$(find "$(rustc --print sysroot)" -name llvm-size -type f | head -1)"
size_tool="${size_tool:-$(command -v llvm-size || true)}"

cargo build -q --release --target thumbv7em-none-eabihf
elf=target/thumbv7em-none-eabihf/release/footprint
echo "== flash ($elf)"
"$size_tool" -A "$elf" | awk '$1 ~ /^\.(text|rodata|data|vector_table)$/ {print; total += $2}
    END {printf "flash (vector_table + text + rodata + data): %d bytes\n", total}'
echo
echo "== flash by crate (cargo bloat --crates, .text only)"
cargo bloat -q --release --target thumbv7em-none-eabihf --crates -n 14 2>/dev/null | sed -n '1,18p'
echo
echo "== heap, host (counting allocator around the system one)"
cargo run -q --release --features host
if command -v qemu-system-arm >/dev/null; then
    echo
    echo "== heap, Cortex-M4 under QEMU (counting allocator around embedded-alloc)"
    timeout 60 qemu-system-arm -cpu cortex-m4 -machine netduinoplus2 -nographic \
        -semihosting-config enable=on,target=native -kernel "$elf"
fi
echo
echo "MicroOcpp (its README, ESP32, -Os, two connectors, logs off): 121,170 B flash,"
echo "12,308 B idle heap, 21,916 B peak heap."
