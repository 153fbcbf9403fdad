#!/usr/bin/env python3
"""Line coverage of the code each fuzz target is for, before and after its seeds and dictionary.

    python3 fuzz/coverage.py [SECONDS=60] [TARGET ...]

For each target (all by default) it runs the release build for SECONDS of wall time twice,
each into a new corpus: "before", from nothing and without the dictionary (how the targets ran
before seed corpora and a dictionary existed); "after", from `fuzz/seeds/<target>` with
`fuzz/ocpp.dict`. It then replays each corpus through `cargo fuzz coverage` and prints a
Markdown table of the line coverage of each code group below (the share of its lines that ran),
with the runs each fuzzing run made. Needs `cargo +nightly fuzz build -O` first and nightly's
`llvm-tools-preview`. Corpora and reports go under `fuzz/coverage/` (ignored by git).
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
TRIPLE = "x86_64-unknown-linux-gnu"
TARGETS = ["json_reader", "differential_v16", "differential_v201", "differential_v21",
           "handshake", "session_script", "station", "ws_client", "flash_store", "adapter"]
# Code groups: a name and the path pieces that put a source file in it. `v16.rs` and the like
# are the generated message code in OUT_DIR (decoders, encoders and generators together).
GROUPS = [
    ("session", ["ocpp-rpc/src/session/"]),
    ("frame", ["ocpp-rpc/src/frame.rs"]),
    ("handshake rules", ["ocpp-rpc/src/handshake.rs"]),
    ("JSON reader", ["ocpp-types/src/json.rs"]),
    ("field checks", ["ocpp-types/src/rt.rs", "ocpp-types/src/datetime.rs"]),
    ("table decode", ["ocpp-types/src/schema"]),
    ("generated messages", ["/out/v16.rs", "/out/v201.rs", "/out/v21.rs"]),
    ("generated v16", ["/out/v16.rs"]),
    ("generated v201", ["/out/v201.rs"]),
    ("generated v21", ["/out/v21.rs"]),
    ("station core", ["ocpp-station/src/"]),
    ("embedded WebSocket", ["ocpp-embedded/src/websocket.rs"]),
    ("flash store", ["ocpp-embedded/src/flash"]),
    ("tokio adapter", ["ocpp-rpc-tokio/src/"]),
]
# Which groups each target is for (the table shows only those).
FOR = {
    "json_reader": ["JSON reader", "field checks", "generated v16", "generated v201"],
    "differential_v16": ["JSON reader", "field checks", "table decode", "generated v16"],
    "differential_v201": ["JSON reader", "field checks", "table decode", "generated v201"],
    "differential_v21": ["JSON reader", "field checks", "table decode", "generated v21"],
    "handshake": ["handshake rules"],
    "session_script": ["session", "frame", "generated messages"],
    "station": ["station core", "session", "frame"],
    "ws_client": ["embedded WebSocket"],
    "flash_store": ["flash store"],
    "adapter": ["tokio adapter", "handshake rules", "session", "frame"],
}


def llvm_tool(name):
    sysroot = subprocess.run(["rustc", "+nightly", "--print", "sysroot"], check=True,
                             capture_output=True, text=True).stdout.strip()
    return str(Path(sysroot) / "lib" / "rustlib" / TRIPLE / "bin" / name)


def fuzz(target, corpus, seconds, seeded):
    """Runs the release build for `seconds`; the number of runs it made."""
    corpus.mkdir(parents=True, exist_ok=True)
    binary = FUZZ / "target" / TRIPLE / "release" / target
    args = [str(binary), str(corpus)]
    if seeded:
        args += [str(FUZZ / "seeds" / target), f"-dict={FUZZ / 'ocpp.dict'}"]
    args += [f"-max_total_time={seconds}", "-print_final_stats=1", "-timeout=25",
             f"-artifact_prefix={tempfile.gettempdir()}/"]
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"{target} failed ({'seeded' if seeded else 'from nothing'}):\n{out.stderr[-4000:]}")
    found = re.search(r"stat::number_of_executed_units:\s*(\d+)", out.stderr)
    return int(found.group(1)) if found else 0


def coverage(target, corpus):
    """Covered and total lines per group after replaying `corpus`."""
    subprocess.run(["cargo", "+nightly", "fuzz", "coverage", target, str(corpus)], cwd=ROOT,
                   check=True, capture_output=True)
    # cargo fuzz coverage builds into the workspace's target folder, not fuzz/target.
    binary = ROOT / "target" / TRIPLE / "coverage" / TRIPLE / "release" / target
    profile = FUZZ / "coverage" / target / "coverage.profdata"
    report = subprocess.run([llvm_tool("llvm-cov"), "export", "-summary-only",
                             f"-instr-profile={profile}", str(binary)],
                            check=True, capture_output=True, text=True).stdout
    files = json.loads(report)["data"][0]["files"]
    sums = {}
    for name, pieces in GROUPS:
        covered = total = 0
        for f in files:
            if any(piece in f["filename"] for piece in pieces):
                covered += f["summary"]["lines"]["covered"]
                total += f["summary"]["lines"]["count"]
        sums[name] = (covered, total)
    return sums


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    targets = sys.argv[2:] or TARGETS
    print(f"| target | runs before / after ({seconds} s each) | code | lines | before | after |")
    print("|---|---|---|---|---|---|")
    for target in targets:
        results = {}
        for seeded in (False, True):
            corpus = FUZZ / "coverage" / "corpora" / f"{target}-{'after' if seeded else 'before'}"
            subprocess.run(["rm", "-rf", str(corpus)], check=True)
            runs = fuzz(target, corpus, seconds, seeded)
            results[seeded] = (runs, coverage(target, corpus))
        runs = f"{results[False][0]:,} / {results[True][0]:,}"
        for n, group in enumerate(FOR[target]):
            before = results[False][1][group]
            after = results[True][1][group]
            pct = lambda c: f"{100 * c[0] / c[1]:.1f}%" if c[1] else "-"
            label = (f"`{target}`", runs) if n == 0 else ("", "")
            print(f"| {label[0]} | {label[1]} | {group} | {after[1]:,} | {pct(before)} | {pct(after)} |",
                  flush=True)


if __name__ == "__main__":
    main()
