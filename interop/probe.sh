#!/usr/bin/env bash
# `ocpp probe` against the peers' CSMS and station programs, every version:
#
#   interop/probe.sh [--versions "1.6 2.0.1 2.1"] [--peers "py node"] [PATH-TO-OCPP-BINARY]
#
# For each peer (py: mobilityhouse `ocpp` 2.1.0, node: `ocpp-rpc` 2.2.1) and version:
#   ocpp probe csms    -> their CSMS   (csms.py / csms.js, kept running)
#   their station      -> ocpp probe station  (station.py / station.js --stay 120)
# Prints each campaign's summary line and a table of findings by severity; every
# report (JSON: each case, its frames, what came back, the findings) and the
# one-line-per-finding text are in interop/.logs/probe/. The findings are the
# result: this exits nonzero only when a campaign could not run at all.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
logs="$here/.logs/probe"
versions="1.6 2.0.1 2.1"
peers="py node"
ocpp_bin="${OCPP_BIN:-}"
while (($#)); do
    case "$1" in
        --versions) versions="$2"; shift ;;
        --peers) peers="$2"; shift ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) ocpp_bin="$1" ;;
    esac
    shift
done
bash "$here/setup.sh" >/dev/null || { echo "probe.sh: setup failed" >&2; exit 1; }
if [[ -z "$ocpp_bin" ]]; then
    (cd "$repo" && cargo build -q --release -p ocpp-rs-cli) || exit 1
    ocpp_bin="$repo/target/release/ocpp"
fi
rm -rf "$logs" && mkdir -p "$logs"

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

failed=0
printf '%-6s %-8s %-6s %8s %8s %8s %8s %8s\n' peer side ocpp cases critical error warning info
for peer in $peers; do
    for v in $versions; do
        # Their CSMS, probed.
        port=$(free_port)
        case "$peer" in
            py) python3 "$here/py/csms.py" --port "$port" --ocpp "$v" >"$logs/$peer-csms-$v.peer.out" 2>"$logs/$peer-csms-$v.peer.err" & ;;
            node) node "$here/node/csms.js" --port "$port" --ocpp "$v" >"$logs/$peer-csms-$v.peer.out" 2>"$logs/$peer-csms-$v.peer.err" & ;;
        esac
        pids+=($!)
        wait_port "$port" || { echo "probe.sh: $peer CSMS did not start" >&2; failed=1; continue; }
        timeout 900 "$ocpp_bin" probe csms --url "ws://127.0.0.1:$port/ocpp/PROBE-$peer" --ocpp "$v" \
            --report "$logs/$peer-csms-$v.json" >"$logs/$peer-csms-$v.txt" 2>&1
        (($? == 2 || $? == 124)) && failed=1
        kill "${pids[-1]}" 2>/dev/null

        # Their station, probed.
        port=$(free_port)
        timeout 900 "$ocpp_bin" probe station --listen "127.0.0.1:$port" --ocpp "$v" \
            --report "$logs/$peer-station-$v.json" >"$logs/$peer-station-$v.txt" 2>&1 &
        probe=$!
        wait_port "$port"
        case "$peer" in
            py) python3 "$here/py/station.py" --url "ws://127.0.0.1:$port/ocpp/ST-$peer" --ocpp "$v" --stay 120 >"$logs/$peer-station-$v.peer.out" 2>"$logs/$peer-station-$v.peer.err" & ;;
            node) node "$here/node/station.js" --url "ws://127.0.0.1:$port/ocpp/ST-$peer" --ocpp "$v" --stay 120 >"$logs/$peer-station-$v.peer.out" 2>"$logs/$peer-station-$v.peer.err" & ;;
        esac
        pids+=($!)
        wait "$probe"
        status=$?
        ((status == 2 || status == 124)) && failed=1
        kill "${pids[-1]}" 2>/dev/null

        for side in csms station; do
            python3 - "$logs/$peer-$side-$v.json" "$peer" "$side" "$v" <<'PY'
import json, sys
path, peer, side, v = sys.argv[1:]
try:
    r = json.load(open(path))
except (OSError, ValueError):
    print(f"{peer:<6} {side:<8} {v:<6} {'(no report)':>8}")
    sys.exit()
found = [f for c in r["cases"] for f in c["findings"]] + r["peer_findings"]
count = lambda s: sum(f["severity"] == s for f in found)
print(f"{peer:<6} {side:<8} {v:<6} {len(r['cases']):>8} {count('critical'):>8} {count('error'):>8} {count('warning'):>8} {count('info'):>8}")
PY
        done
    done
done
echo "probe.sh: reports in $logs"
exit "$failed"
