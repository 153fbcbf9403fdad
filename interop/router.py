#!/usr/bin/env python3
"""`ocpp router` between real processes, for each OCPP version (1.6, 2.0.1, 2.1).

    interop/router.py PATH-TO-OCPP-BINARY [--versions "1.6 2.0.1 2.1"]

For each version:
  `ocpp station` (2 sessions) -> `ocpp router` -> `ocpp csms --calls 5` (primary)
                                              \\-> Python `ocpp` CSMS (secondary)
The secondary may call GetConfiguration (1.6) or GetVariables (2.x) on the station,
not ChangeAvailability, which the Python CSMS also calls after every boot. It is killed
once the station's first transaction message has gone through and started again three
seconds later. Then the Node `ocpp-rpc` station runs its charge scenario through the same
router.

Checks, from the router's transcript (`--transcript`, one JSON object a frame):
  - both stations exit 0 (every call answered validly, every transaction message acked);
  - the station never has two calls of the router in flight, and calls from both backends
    reached it;
  - the primary's five calls were answered (its own output), the secondary's allowed calls
    got CALLRESULTs and its ChangeAvailability a CALLERROR SecurityError;
  - transaction messages came while the secondary was down, and the secondary got every
    transaction message of the station, answered, in the station's order; on 1.6 with its
    own transaction ids in place of the primary's.
Then, for each authorization policy, `ocpp station` through the router between two
`ocpp csms --accept TOKENS` that disagree on its token: the station gets the status the
policy gives (and on 2.x the deciding backend named in customData), and exits 0 only when
its token was accepted.
Logs: interop/.logs/router/VERSION/. Exits 1 on any failure. Needs interop/setup.sh's
peers (it runs setup.sh first).
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TX_ACTIONS = {"StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wait(proc, seconds):
    """PROC's exit status, or "timeout" once it ran SECONDS (it is killed then)."""
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "timeout"


class Case:
    def __init__(self, binary, version):
        self.binary = binary
        self.version = version
        self.dir = os.path.join(HERE, ".logs", "router", version)
        subprocess.run(["rm", "-rf", self.dir], check=True)
        os.makedirs(self.dir)
        self.procs = []
        self.problems = []

    def start(self, name, argv):
        out = open(os.path.join(self.dir, name + ".log"), "w")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=HERE)
        self.procs.append(proc)
        return proc

    def start_router(self, port, version, primary_port, secondary_port, settings="", energy=""):
        """`ocpp router` on PORT between the primary "billing" and the secondary "energy",
        with SETTINGS (TOML lines) and ENERGY (lines of the secondary's table); its frames
        in router.jsonl."""
        config = os.path.join(self.dir, "router.toml")
        with open(config, "w") as f:
            f.write(
                f'listen = "127.0.0.1:{port}"\nocpp = ["{version}"]\n'
                f'store = "{os.path.join(self.dir, "router-store")}"\n{settings}\n'
                f'[[backend]]\nname = "billing"\nurl = "ws://127.0.0.1:{primary_port}/ocpp"\nprimary = true\n'
                f'[[backend]]\nname = "energy"\nurl = "ws://127.0.0.1:{secondary_port}/ocpp"\n{energy}\n'
            )
        transcript = os.path.join(self.dir, "router.jsonl")
        return self.start("router", [self.binary, "router", "--config", config, "--transcript", transcript])

    def fail(self, what):
        self.problems.append(what)

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def frames(self):
        path = os.path.join(self.dir, "router.jsonl")
        hops = []
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        hop = json.loads(line)
                        hop["message"] = json.loads(hop["frame"])
                        hops.append(hop)
        return hops

    def station_tx_count(self, identity):
        return sum(
            1
            for h in self.frames()
            if h["station"] == identity
            and h["peer"] == "station"
            and h["direction"] == "in"
            and h["message"][0] == 2
            and h["message"][2] in TX_ACTIONS
        )

    def run(self):
        v = self.version
        primary_port, secondary_port, router_port = free_port(), free_port(), free_port()
        primary = self.start(
            "primary",
            [self.binary, "csms", "--listen", f"127.0.0.1:{primary_port}", "--ocpp", v, "--calls", "5"],
        )
        secondary_argv = [sys.executable, os.path.join(HERE, "py", "csms.py"), "--port", str(secondary_port), "--ocpp", v]
        secondary = self.start("secondary-1", secondary_argv)
        read = "GetConfiguration" if v == "1.6" else "GetVariables"
        router = self.start_router(
            router_port, v, primary_port, secondary_port, "retry_wait_ms = 500", f'allow = ["{read}"]'
        )
        for port, proc in [(primary_port, primary), (secondary_port, secondary), (router_port, router)]:
            if not wait_port(port, proc):
                self.fail(f"nothing listens on {port}")
                return
        identity = f"ROUTED-{v}"
        station = self.start(
            "station",
            [
                self.binary, "station", "--url", f"ws://127.0.0.1:{router_port}/ocpp/{identity}",
                "--ocpp", v, "--store", os.path.join(self.dir, "station-store"),
                "--sessions", "2", "--meter-interval", "1000", "--stay", "20",
            ],
        )
        # Kill the secondary after the station's first transaction message went through.
        deadline = time.time() + 30
        while self.station_tx_count(identity) == 0 and time.time() < deadline:
            time.sleep(0.05)
        at_kill = self.station_tx_count(identity)
        secondary.kill()
        secondary.wait()
        time.sleep(3)
        at_restart = self.station_tx_count(identity)
        self.start("secondary-2", secondary_argv)
        rc = wait(station, 90)
        if rc != 0:
            self.fail(f"ocpp station through the router: exit {rc}")
        if not 0 < at_kill < at_restart:
            self.fail(f"no transaction message while the secondary was down ({at_kill} before, {at_restart} after)")
        # The Node station through the same router.
        node = self.start(
            "node-station",
            ["node", os.path.join(HERE, "node", "station.js"), "--url", f"ws://127.0.0.1:{router_port}/ocpp/NODE-{v}", "--ocpp", v],
        )
        rc = wait(node, 60)
        if rc != 0:
            self.fail(f"node station through the router: exit {rc}")
        # Let the secondary's queue drain before looking.
        total = self.station_tx_count(identity)
        deadline = time.time() + 20
        while time.time() < deadline and len(self.delivered(identity)) < total:
            time.sleep(0.2)
        self.stop_all()
        self.check(identity, read)

    def delivered(self, identity):
        """(action, payload) of each transaction message the secondary answered, in the
        order sent, each once."""
        hops = [h for h in self.frames() if h["station"] == identity and h["peer"] == "energy"]
        # Message ids start again on each connection: an answer goes with the latest CALL
        # of its id.
        pending, answered = {}, []
        for h in hops:
            m = h["message"]
            if h["direction"] == "out" and m[0] == 2 and m[2] in TX_ACTIONS:
                pending[m[1]] = (m[2], m[3])
            elif h["direction"] == "out" and m[0] == 2:
                pending.pop(m[1], None)
            elif h["direction"] == "in" and m[0] == 3 and m[1] in pending:
                answered.append(pending.pop(m[1]))
        seen, result = set(), []
        for item in answered:
            key = json.dumps(item, sort_keys=True)
            if key not in seen:
                seen.add(key)
                result.append(item)
        return result

    def check(self, identity, read):
        hops = self.frames()
        mine = [h for h in hops if h["station"] == identity]
        # One call of the router in flight at the station at a time.
        outstanding, most, to_station = set(), 0, 0
        for h in mine:
            if h["peer"] != "station":
                continue
            m = h["message"]
            if h["direction"] == "out" and m[0] == 2:
                outstanding.add(m[1])
                to_station += 1
                most = max(most, len(outstanding))
            elif h["direction"] == "in" and m[0] in (3, 4):
                outstanding.discard(m[1])
        if most != 1:
            self.fail(f"the station had up to {most} calls of the router in flight")
        # Each backend got its own answers: the primary reads the meter sample interval
        # (`ocpp csms --calls`), the Python CSMS the heartbeat interval.
        asked = {}
        for h in mine:
            m = h["message"]
            if h["peer"] in ("billing", "energy") and h["direction"] == "in" and m[0] == 2:
                asked[(h["peer"], m[1])] = m[2]
            elif h["peer"] in ("billing", "energy") and h["direction"] == "out" and m[0] == 3:
                if asked.pop((h["peer"], m[1]), None) == read:
                    if h["peer"] == "energy":
                        own = "HeartbeatInterval"
                    else:
                        own = "MeterValueSampleInterval" if self.version == "1.6" else "TxUpdatedInterval"
                    if own not in json.dumps(m[2]):
                        self.fail(f"{h['peer']} got an answer to another's {read}: {m[2]}")
        # The primary's calls.
        with open(os.path.join(self.dir, "primary.log"), encoding="utf-8") as f:
            answered = sum(1 for line in f if f"to {identity}: answered" in line)
        if answered != 5:
            self.fail(f"the primary's calls answered: {answered} of 5")
        # The secondary's calls: allowed ones answered, ChangeAvailability refused.
        from_energy = {}
        verdicts = {"allowed": 0, "refused": 0}
        for h in mine:
            if h["peer"] != "energy":
                continue
            m = h["message"]
            if h["direction"] == "in" and m[0] == 2:
                from_energy[m[1]] = m[2]
            elif h["direction"] == "out" and m[0] in (3, 4) and m[1] in from_energy:
                action = from_energy[m[1]]
                if action == read and m[0] == 3:
                    verdicts["allowed"] += 1
                elif action == "ChangeAvailability" and m[0] == 4 and m[2] == "SecurityError":
                    verdicts["refused"] += 1
                else:
                    self.fail(f"the secondary's {action} got {m}")
        if verdicts["allowed"] == 0 or verdicts["refused"] == 0:
            self.fail(f"the secondary's calls: {verdicts}")
        if to_station < 5 + verdicts["allowed"]:
            self.fail(f"only {to_station} calls reached the station")
        # Every transaction message reached the secondary, in order.
        station_tx = [
            (h["message"][2], h["message"][3])
            for h in mine
            if h["peer"] == "station" and h["direction"] == "in" and h["message"][0] == 2 and h["message"][2] in TX_ACTIONS
        ]
        delivered = self.delivered(identity)

        def strip(item):
            action, payload = item
            payload = {k: v for k, v in payload.items() if k != "transactionId"}
            return action, payload

        if [strip(x) for x in delivered] != [strip(x) for x in station_tx]:
            self.fail(
                f"the secondary got {[a for a, _ in delivered]}, the station sent {[a for a, _ in station_tx]}"
            )
        if self.version == "1.6":
            self.check_ids(mine)
        return station_tx

    def check_ids(self, mine):
        """The secondary's StopTransaction names the id the secondary gave, not the primary's."""
        pending, ids = {}, set()
        for h in mine:
            m = h["message"]
            if h["peer"] != "energy":
                continue
            if h["direction"] == "out" and m[0] == 2:
                pending[m[1]] = m[2]
            elif h["direction"] == "in" and m[0] == 3 and pending.pop(m[1], None) == "StartTransaction":
                ids.add(m[2]["transactionId"])
        stops = [
            h["message"][3]["transactionId"]
            for h in mine
            if h["peer"] == "energy" and h["direction"] == "out" and h["message"][0] == 2 and h["message"][2] == "StopTransaction"
        ]
        if not stops or any(i not in ids for i in stops):
            self.fail(f"the secondary's StopTransaction ids {stops} are not among its own {sorted(ids)}")


def policy_case(binary, version, policy, primary_accepts, secondary_accepts):
    """One station session through the router between two `ocpp csms`, each accepting
    only the tokens given, under `policy`: the problems found, and the Authorize status
    the station got."""
    case = Case(binary, os.path.join(version, f"policy-{policy}-{primary_accepts}-{secondary_accepts}"))
    try:
        ports = [free_port(), free_port(), free_port()]
        backends = []
        for name, port, accepts in [("primary", ports[0], primary_accepts), ("secondary", ports[1], secondary_accepts)]:
            proc = case.start(name, [binary, "csms", "--listen", f"127.0.0.1:{port}", "--ocpp", version, "--accept", accepts])
            backends.append((port, proc))
        router = case.start_router(ports[2], version, ports[0], ports[1], f'authorization = "{policy}"')
        backends.append((ports[2], router))
        if not all(wait_port(port, proc) for port, proc in backends):
            case.fail("nothing listens")
            return case.problems, None
        station = case.start(
            "station",
            [binary, "station", "--url", f"ws://127.0.0.1:{ports[2]}/ocpp/POLICY", "--ocpp", version,
             "--store", os.path.join(case.dir, "station-store"), "--sessions", "1", "--meter-interval", "200"],
        )
        rc = wait(station, 30)
        statuses, decided = [], []
        pending = {}
        for h in case.frames():
            m = h["message"]
            if h["peer"] != "station":
                continue
            if h["direction"] == "in" and m[0] == 2:
                pending[m[1]] = m[2]
            elif h["direction"] == "out" and m[0] == 3 and pending.get(m[1]) == "Authorize":
                info = m[2].get("idTagInfo") or m[2].get("idTokenInfo")
                statuses.append(info["status"])
                decided.append(m[2].get("customData", {}).get("decidedBy"))
        if not statuses:
            case.fail("the station's Authorize was not answered")
            return case.problems, None
        want_rc = 0 if statuses[0] == "Accepted" else 1
        if rc != want_rc:
            case.fail(f"the station exited {rc} after its token was {statuses[0]}")
        return case.problems, (statuses[0], decided[0])
    finally:
        case.stop_all()


# (policy, tokens the primary accepts, tokens the secondary accepts, status the station gets,
# the backend that decided, as 2.x answers name it: under "primary" the primary's answer
# passes unchanged)
POLICIES = [
    ("primary", "NOBODY", "TOKEN-1", "Invalid", None),
    ("primary", "TOKEN-1", "NOBODY", "Accepted", None),
    ("any", "NOBODY", "TOKEN-1", "Accepted", "energy"),
    ("all", "TOKEN-1", "NOBODY", "Invalid", "energy"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--versions", default="1.6 2.0.1 2.1")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    subprocess.run(["bash", os.path.join(HERE, "setup.sh")], check=True, stdout=subprocess.DEVNULL)
    failed = 0
    for version in args.versions.split():
        case = Case(binary, version)
        try:
            case.run()
        finally:
            case.stop_all()
        verdict = "PASS" if not case.problems else "FAIL " + "; ".join(case.problems)
        print(f"router {version}: {verdict}", flush=True)
        failed += bool(case.problems)
        for policy, primary, secondary, status, by in POLICIES:
            problems, got = policy_case(binary, version, policy, primary, secondary)
            if got is not None:
                # 1.6 has no customData: the router names the decider in its log only.
                want = (status, by if version != "1.6" else None)
                if got != want:
                    problems.append(f"the station got {got}, not {want}")
            verdict = "PASS" if not problems else "FAIL " + "; ".join(problems)
            print(f"router {version} authorization={policy} (primary accepts {primary}, secondary {secondary}): {verdict}", flush=True)
            failed += bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
