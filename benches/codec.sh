#!/usr/bin/env bash
# Decode/encode benchmarks of ocpp-rs against rust-ocpp 3.0.4 and the IgnoredAny floor, from two
# packages (rust-ocpp's build has serde_json's arbitrary_precision; ours must not), then a table
# of ratios. `bash benches/codec.sh` (about 8 minutes after the builds).
set -euo pipefail
cd "$(dirname "$0")"
# Each message in fresh processes, ours and theirs in turn: a long-running bench process fragments
# its heap, which slowed whichever decode ran last by up to 40%.
: > /tmp/ocpp-codec-ours.log
: > /tmp/ocpp-codec-theirs.log
for message in "2.0.1 TransactionEvent" "2.0.1 BootNotification" "1.6 MeterValues" "2.0.1 NotifyReport"; do
  cargo bench -q -p ocpp-rs-benches --bench codec -- --noplot "/$message" 2>&1 | tee -a /tmp/ocpp-codec-ours.log
  cargo bench -q -p ocpp-rs-bench-rust-ocpp --bench codec -- --noplot "/$message" 2>&1 | tee -a /tmp/ocpp-codec-theirs.log
done
python3 - <<'PY'
import re
times = {}
for log in ("/tmp/ocpp-codec-ours.log", "/tmp/ocpp-codec-theirs.log"):
    name = None
    for line in open(log):
        if re.match(r"^(decode|encode)/", line):
            name = line.split("  ")[0].strip()
            if "time:" not in line:
                continue
        m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", line)
        if m and name and "%" not in line:
            scale = {"ns": 1, "µs": 1e3, "us": 1e3, "ms": 1e6}[m.group(2)]
            times[name] = float(m.group(1)) * scale
            name = None
def t(k): return times.get(k)
print("\n%-34s %10s %10s %10s %9s %9s" % ("message", "ocpp-rs", "rust-ocpp", "floor", "ours/flr", "ours/r-o"))
for msg in ["2.0.1 TransactionEvent", "2.0.1 BootNotification", "1.6 MeterValues", "2.0.1 NotifyReport (100 entries)"]:
    o, r, f = t(f"decode/{msg}/ocpp-rs"), t(f"decode/{msg}/rust-ocpp+validate"), t(f"decode/{msg}/floor-IgnoredAny")
    fa = t(f"decode/{msg}/floor-IgnoredAny-arbitrary-precision")
    if None in (o, r, f): continue
    print("%-34s %8.0fns %8.0fns %8.0fns %8.2fx %8.2fx   (rust-ocpp/its floor %.2fx)" % ("decode " + msg, o, r, f, o / f, o / r, r / fa if fa else float("nan")))
for msg in ["2.0.1 TransactionEvent", "2.0.1 BootNotification", "1.6 MeterValues", "2.0.1 NotifyReport (100 entries)"]:
    o, r = t(f"encode/{msg}/ocpp-rs"), t(f"encode/{msg}/rust-ocpp")
    if None in (o, r): continue
    print("%-34s %8.0fns %8.0fns %10s %9s %8.2fx" % ("encode " + msg, o, r, "", "", o / r))
PY
