#!/usr/bin/env bash
# Interop tests of the `ocpp` binary against two peers no one here wrote:
# Python `ocpp` 2.1.0 (mobilityhouse) and Node `ocpp-rpc` 2.2.1 (strict mode).
#
#   interop/run.sh [OPTIONS] [PATH-TO-OCPP-BINARY]
#
# For each peer (py, node) and OCPP version (1.6, 2.0.1, 2.1):
#   their station  -> `ocpp csms`       (does our CSMS answer a real station?)
#   `ocpp station` -> their CSMS        (does our station satisfy a real CSMS,
#                                        and answer the CSMS's own calls?)
#   `ocpp station --embedded` -> their CSMS  (the same on the embedded stack)
# plus the peers against each other first (py <-> node), which proves the peer
# programs themselves work. Prints a table and exits nonzero on any failure.
#
# Options:
#   --peers-only        only the peers against each other (no `ocpp` binary
#                       needed): every station x CSMS pairing of py and node
#   --versions "V ..."  OCPP versions to run (default: "1.6 2.0.1 2.1")
#   --no-setup          do not run interop/setup.sh first
#
# Without PATH-TO-OCPP-BINARY the binary is $OCPP_BIN, or else it is built
# with `cargo build -p ocpp-rs-cli`. Logs of every case: interop/.logs/.
# Each process runs under `timeout` ($INTEROP_TIMEOUT seconds, default 60).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
logs="$here/.logs"
case_timeout="${INTEROP_TIMEOUT:-60}"

peers_only=0
setup=1
versions="1.6 2.0.1 2.1"
ocpp_bin="${OCPP_BIN:-}"
while (($#)); do
    case "$1" in
        --peers-only) peers_only=1 ;;
        --no-setup) setup=0 ;;
        --versions)
            (($# >= 2)) || { echo "run.sh: --versions needs a value" >&2; exit 2; }
            versions="$2"
            shift
            ;;
        -h | --help)
            sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) ocpp_bin="$1" ;;
    esac
    shift
done
for v in $versions; do
    case "$v" in
        1.6 | 2.0.1 | 2.1) ;;
        *) echo "run.sh: unknown OCPP version $v" >&2; exit 2 ;;
    esac
done

# ---- background processes: every one is killed on exit ----------------------
bg_pids=()
cleanup() {
    local pid
    for pid in "${bg_pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${bg_pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ((setup)); then
    bash "$here/setup.sh" || { echo "run.sh: setup failed" >&2; exit 1; }
fi

if ((!peers_only)); then
    if [[ -z "$ocpp_bin" ]]; then
        echo "run.sh: building the ocpp binary (cargo build -p ocpp-rs-cli)"
        (cd "$repo" && cargo build -q -p ocpp-rs-cli) || { echo "run.sh: cargo build failed" >&2; exit 1; }
        ocpp_bin="${CARGO_TARGET_DIR:-$repo/target}/debug/ocpp"
    fi
    [[ -x "$ocpp_bin" ]] || { echo "run.sh: $ocpp_bin is not an executable" >&2; exit 1; }
    ocpp_bin="$(cd "$(dirname "$ocpp_bin")" && pwd)/$(basename "$ocpp_bin")"
    for sub in csms station; do
        if ! timeout 10 "$ocpp_bin" "$sub" --help >/dev/null 2>&1; then
            echo "run.sh: '$ocpp_bin $sub --help' fails: the binary has no '$sub' subcommand yet." >&2
            echo "run.sh: run 'interop/run.sh --peers-only' to test the peers alone." >&2
            exit 1
        fi
    done
fi

# ---- the programs under test --------------------------------------------------
# csms_cmd KIND PORT VERSION and station_cmd KIND URL VERSION DIR set the array
# `cmd`. The peers' CSMS runs with --once: it exits after the station leaves,
# 0 only if the station ran the whole scenario validly and answered its calls.
# `ocpp csms` keeps running; it must still be alive when the station is done.
cmd=()
csms_cmd() {
    case "$1" in
        py) cmd=(python3 "$here/py/csms.py" --port "$2" --ocpp "$3" --once) ;;
        node) cmd=(node "$here/node/csms.js" --port "$2" --ocpp "$3" --once) ;;
        # All three offered, the station's version not first: exercises
        # subprotocol negotiation too.
        ocpp) cmd=("$ocpp_bin" csms --listen "127.0.0.1:$2" --ocpp "2.0.1,1.6,2.1") ;;
    esac
}
station_cmd() {
    case "$1" in
        py) cmd=(python3 "$here/py/station.py" --url "$2" --ocpp "$3") ;;
        node) cmd=(node "$here/node/station.js" --url "$2" --ocpp "$3") ;;
        # The station core, one session, its store in the case's log directory (fresh
        # for every run: the logs are removed first).
        ocpp) cmd=("$ocpp_bin" station --url "$2" --ocpp "$3" --store "$4/store" --sessions 1) ;;
        # The same, on the embedded stack: ocpp-embedded's Runner over embedded-io-async,
        # its flash store on a file-backed NOR flash (DIR/store/flash).
        ocpp-emb) cmd=("$ocpp_bin" station --embedded --url "$2" --ocpp "$3" --store "$4/store" --sessions 1) ;;
    esac
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT PID: poll until something accepts on PORT (20 s at most),
# giving up early if PID exits.
wait_port() {
    local deadline=$((SECONDS + 20))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        kill -0 "$2" 2>/dev/null || return 1
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

# wait_exit PID SECONDS: wait for PID to exit; kill it if it takes longer.
# Sets `rc` to its exit status (124 when it had to be killed).
wait_exit() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.05
    done
    if kill -0 "$1" 2>/dev/null; then
        kill "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        rc=124
    else
        wait "$1" 2>/dev/null
        rc=$?
    fi
}

describe_rc() {
    case "$1" in
        124) echo "timed out" ;;
        *) echo "exit $1" ;;
    esac
}

rows=()
passed=0
failed=0

# run_case STATION_KIND CSMS_KIND VERSION
run_case() {
    local st="$1" cs="$2" v="$3"
    local dir="$logs/${st}-station_${cs}-csms_${v}"
    local port url cpid spid src csrc note="" result start verdict row
    # The previous case's processes have all been waited for: forget their
    # ids so that the exit trap never signals a reused one.
    bg_pids=()
    mkdir -p "$dir"
    start=$SECONDS
    port="$(free_port)"
    url="ws://127.0.0.1:$port/ocpp/CS-${st}-${v//./}"

    csms_cmd "$cs" "$port" "$v"
    printf '%q ' "${cmd[@]}" >"$dir/csms.cmd"
    timeout "$case_timeout" "${cmd[@]}" >"$dir/csms.out" 2>"$dir/csms.err" &
    cpid=$!
    bg_pids+=("$cpid")

    if ! wait_port "$port" "$cpid"; then
        wait_exit "$cpid" 1
        note="CSMS not listening on $port ($(describe_rc "$rc"))"
        src=-1
        csrc=$rc
    else
        station_cmd "$st" "$url" "$v" "$dir"
        printf '%q ' "${cmd[@]}" >"$dir/station.cmd"
        # In the background so that a signal to this script is acted on
        # at once (bash runs traps only between foreground commands).
        timeout "$case_timeout" "${cmd[@]}" >"$dir/station.out" 2>"$dir/station.err" &
        spid=$!
        bg_pids+=("$spid")
        wait "$spid"
        src=$?
        if [[ "$cs" == ocpp ]]; then
            if kill -0 "$cpid" 2>/dev/null; then
                csrc=0
            else
                wait "$cpid" 2>/dev/null
                csrc=$?
                note="ocpp csms exited ($(describe_rc "$csrc")) "
                ((csrc == 0)) && csrc=1
            fi
            kill "$cpid" 2>/dev/null
            wait "$cpid" 2>/dev/null
        else
            # The --once CSMS reports when the station has gone; a station
            # that failed may never have connected, so do not wait long.
            if ((src == 0)); then wait_exit "$cpid" 15; else wait_exit "$cpid" 3; fi
            csrc=$rc
        fi
        ((src == 0)) || note+="station $(describe_rc "$src") "
        if [[ "$cs" != ocpp ]] && ((csrc != 0)); then
            verdict="$(grep -m1 '^RESULT' "$dir/csms.out" | cut -c1-200)"
            note+="csms $(describe_rc "$csrc"): ${verdict:-no RESULT (no station session ended)}"
        fi
    fi

    if ((src == 0 && csrc == 0)); then
        result=PASS
        passed=$((passed + 1))
    else
        result=FAIL
        failed=$((failed + 1))
        {
            echo "---- FAIL: $st station -> $cs csms, OCPP $v (logs: $dir)"
            [[ -f "$dir/station.err" ]] && { echo "station stderr (last lines):"; tail -n 8 "$dir/station.err"; }
            [[ -s "$dir/station.out" ]] && { echo "station stdout:"; tail -n 8 "$dir/station.out"; }
            echo "csms stdout:"; tail -n 5 "$dir/csms.out"
            echo "csms stderr (last lines):"; tail -n 8 "$dir/csms.err"
        } | cut -c1-400
    fi
    row="$(printf '%-17s %-14s %-6s %-6s %4ss  %s' "$st station" "$cs csms" "$v" "$result" "$((SECONDS - start))" "$note")"
    rows+=("$row")
    printf '%s\n' "$row"
}

rm -rf "$logs"
mkdir -p "$logs"
echo "interop: logs in $logs"
if ((peers_only)); then
    for v in $versions; do
        for st in py node; do
            for cs in py node; do
                run_case "$st" "$cs" "$v"
            done
        done
    done
else
    for v in $versions; do
        run_case py node "$v"
        run_case node py "$v"
    done
    for v in $versions; do
        for peer in py node; do
            run_case "$peer" ocpp "$v"
            run_case ocpp "$peer" "$v"
            run_case ocpp-emb "$peer" "$v"
        done
    done
fi

echo
echo "interop summary (python ocpp 2.1.0, node ocpp-rpc 2.2.1 strict mode)"
printf '%-17s %-14s %-6s %-6s %5s  %s\n' STATION CSMS OCPP RESULT TIME NOTE
printf '%s\n' "${rows[@]}"
echo "interop: $passed passed, $failed failed"
((failed == 0))
