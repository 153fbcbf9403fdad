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
# Then the whole firmware a vendor would flash, examples/firmware (NUCLEO-F429ZI: embassy, the
# Ethernet driver, DHCP, DNS and TCP on smoltcp, the run loop, the flash store), in its release
# profile (the same, with debug info kept out of flash): its flash and RAM (llvm-size), and its
# .text by crate, grouped: our OCPP crates, what they pull in (serde_json, sequential-storage,
# the WebSocket's SHA-1, base64 and httparse), embassy, smoltcp, core/alloc, the rest.
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

echo
echo "== the whole firmware: examples/firmware (NUCLEO-F429ZI, OCPP 2.0.1, embassy, Ethernet, DHCP, DNS)"
cd ../../examples/firmware
cargo build -q --release --locked
fw="${CARGO_TARGET_DIR:-target}/thumbv7em-none-eabihf/release/ocpp-firmware"
"$size_tool" -A "$fw" | awk '
    $1 ~ /^\.(text|rodata|data|vector_table)$/ {flash += $2}
    $1 ~ /^\.(data|bss|uninit)$/ {ram += $2}
    $1 ~ /^\.(vector_table|text|rodata|data|bss|uninit)$/ {print}
    END {
        printf "flash (vector_table + text + rodata + data): %d bytes\n", flash
        printf "static RAM (data + bss + uninit; the heap included): %d bytes\n", ram
    }'
echo
echo "== the whole firmware's .text by crate (cargo bloat --crates; an estimate: code inlined into"
echo "   a task is counted to embassy_executor, generic code to the crate that instantiates it)"
cargo bloat -q --release --crates -n 0 --message-format json 2>/dev/null | python3 -c '
import json, sys
report = json.load(sys.stdin)
groups = [
    ("our OCPP crates (ocpp_types, ocpp_rpc, ocpp_station, ocpp_embedded)",
     lambda n: n.startswith("ocpp_") and n != "ocpp_firmware"),
    ("what they pull in (serde, serde_json, sequential-storage, sha1, base64, httparse, ...)",
     lambda n: n.split("_")[0] in ("serde", "zmij", "itoa", "ryu", "sequential", "sha1", "digest",
                                    "base64", "httparse", "edge", "compact", "percent", "crc")),
    ("embassy (executor, stm32 HAL, net, sync, time)", lambda n: n.startswith("embassy_")),
    ("smoltcp (TCP/IP)", lambda n: n == "smoltcp"),
    ("core, alloc, compiler-builtins", lambda n: n == "std"),
    ("the firmware itself (ocpp_firmware)", lambda n: n == "ocpp_firmware"),
    ("the rest (defmt, allocator, cortex-m, unattributed)", lambda n: True),
]
sizes = [0] * len(groups)
members = [[] for _ in groups]
for crate in report["crates"]:
    for i, (_, test) in enumerate(groups):
        if test(crate["name"]):
            sizes[i] += crate["size"]
            members[i].append(crate)
            break
total = report["text-section-size"]
for (label, _), size, crates in zip(groups, sizes, members):
    print(f"{size:>8} B {100 * size / total:5.1f}%  {label}")
    for crate in crates[:6]:
        name, size = crate["name"], crate["size"]
        print(f"{size:>19} B  {name}")
print(f"{total:>8} B        .text")
'
