#!/usr/bin/env bash
# Runs one fuzz target for a fixed budget of CPU time (not wall time, so a run shares the
# machine without being cut short), from its seeds with the dictionary, and prints what it did.
#
#     bash fuzz/long.sh TARGET [CPU_SECONDS=3600] [CORPUS=fuzz/corpus/TARGET]
#
# Build first (release, ASan): cargo +nightly fuzz build -O
# A budget may be spent in several runs on the same CORPUS: each starts where the last stopped.
# New inputs go to CORPUS; crashes to fuzz/artifacts/TARGET/. The run is niced, and is stopped
# with SIGINT once the fuzzer process has used CPU_SECONDS of CPU; a crash, leak or timeout
# stops it sooner, and the script's exit status is then the fuzzer's (non-zero).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: fuzz/long.sh TARGET [CPU_SECONDS] [CORPUS]}"
budget="${2:-3600}"
corpus="${3:-fuzz/corpus/$target}"
binary="fuzz/target/x86_64-unknown-linux-gnu/release/$target"
[[ -x "$binary" ]] || { echo "no $binary: cargo +nightly fuzz build -O" >&2; exit 2; }
mkdir -p "$corpus" "fuzz/artifacts/$target"
log="$(mktemp)"
nice -n 19 "$binary" "$corpus" "fuzz/seeds/$target" -dict=fuzz/ocpp.dict \
    -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 -timeout=25 \
    -max_total_time=$((budget * 20)) >"$log" 2>&1 &
pid=$!
ticks="$(getconf CLK_TCK)"
cpu=0
while kill -0 "$pid" 2>/dev/null; do
    # utime + stime of the fuzzer (fields 14 and 15 of /proc/PID/stat, after the command name).
    if stat="$(cat "/proc/$pid/stat" 2>/dev/null)"; then
        read -r utime stime <<<"$(echo "${stat##*) }" | awk '{print $12, $13}')"
        cpu=$(((utime + stime) / ticks))
        if ((cpu >= budget)); then
            kill -INT "$pid"
            break
        fi
    fi
    sleep 5
done
status=0
wait "$pid" || status=$?
runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)"
grep -E '^(INFO: Seed|INFO: Loaded|stat::|==[0-9]+==ERROR|SUMMARY|.*panicked)' "$log" | tail -20
# SIGINT ends libFuzzer with its `-interrupted_exitcode`, 72 by default: the budget was spent.
if ((status == 72)); then status=0; fi
echo "$target: $runs runs in ${cpu} s of CPU ($((runs / (cpu > 0 ? cpu : 1))) exec/s), corpus $(ls "$corpus" | wc -l) inputs, exit $status"
cp "$log" "fuzz/artifacts/$target/last-run.log"
rm -f "$log"
exit "$status"
