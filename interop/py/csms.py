#!/usr/bin/env python3
"""A CSMS built on mobilityhouse `ocpp` 2.1.0 for interop tests.

    csms.py --port P [--host 127.0.0.1] [--ocpp 1.6,2.0.1,2.1] [--once]

Accepts any station at ws://HOST:P/<any path>/<identity> with subprotocol
ocpp1.6, ocpp2.0.1 or ocpp2.1 (in the order given), answers every
station-initiated action with a schema-valid response (the charge scenario's
actions with real answers, any other with the minimal valid one), and once the
station has booted calls it: GetConfiguration and ChangeAvailability on 1.6,
GetVariables and ChangeAvailability on 2.x. The first station call after the
BootNotification is answered only once those calls are done, so a station that
runs its scenario fast is still connected to answer them.

For each connection it prints one line on stdout when the station disconnects:
`RESULT <identity> <version> PASS|FAIL <details>`. PASS needs: the station
booted and ran the whole charge scenario, every call it sent was valid, and it
answered our calls validly. With --once the program exits after the first
connection, 0 on PASS and 1 on FAIL. Prints `listening on ws://HOST:P` when
ready. Frames go to stderr.
"""

import argparse
import asyncio
import itertools
import sys
from urllib.parse import unquote

import common  # sets up the import path of the local peers
from common import LOG, SUBPROTOCOLS, VERSION_OF, PeerMixin, now

import websockets
from ocpp.exceptions import OCPPError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v21 import ChargePoint as ChargePoint21

HEARTBEAT_INTERVAL = 300
POST_BOOT_WAIT = 15  # seconds a station's call may be held for our own calls
TRANSACTION_IDS = itertools.count(1001)


class CsmsMixin(PeerMixin):
    """State and checks shared by the three versions."""

    def init_csms(self, version):
        self.init_peer()
        self.version = version
        self.seen = []  # actions the station called, in order
        self.events = []  # 2.x TransactionEvent (eventType, seqNo, transactionId)
        self.transactions = set()  # 1.6 transaction ids we handed out
        self.booted = False
        self.post_boot_done = asyncio.Event()
        self.our_calls = []  # our calls the station answered validly

    def saw(self, action):
        self.seen.append(action)

    async def hold_until_our_calls_done(self):
        if not self.booted or self.post_boot_done.is_set():
            return
        try:
            await asyncio.wait_for(self.post_boot_done.wait(), POST_BOOT_WAIT)
        except asyncio.TimeoutError:
            self.fail(f"our calls to the station were not answered within {POST_BOOT_WAIT}s")

    async def our_call(self, request, check):
        action = type(request).__name__
        try:
            response = await self.call(request, suppress=False)
        except OCPPError as e:
            self.fail(f"our {action}: CALLERROR or invalid response: {e.code}: {e.description} {e.details}")
            return
        except asyncio.TimeoutError:
            self.fail(f"our {action}: no response")
            return
        problem = check(response)
        if problem:
            self.fail(f"our {action}: {problem}")
        else:
            LOG.info("%s: our %s answered validly", self.id, action)
            self.our_calls.append(action)

    async def post_boot(self):
        try:
            await self.post_boot_calls()
        except Exception as e:  # a bug here must fail the run, not hang it
            self.fail(f"post-boot calls crashed: {e!r}")
        finally:
            self.post_boot_done.set()

    def boot_response(self):
        self.booted = True
        return self._call_result.BootNotification(
            current_time=now(), interval=HEARTBEAT_INTERVAL, status="Accepted"
        )

    def verdict(self):
        problems = list(self.failures)
        if not self.booted:
            problems.append("no BootNotification")
        else:
            missing = [a for a in self.required_actions() if a not in self.seen]
            if missing:
                problems.append("scenario incomplete, never called: " + ", ".join(missing))
            expected_calls = self.expected_our_calls()
            if self.our_calls != expected_calls:
                problems.append(
                    f"our calls answered: {self.our_calls or '-'}, expected {expected_calls}"
                )
        problems.extend(self.transaction_problems())
        return problems


class Csms16(CsmsMixin, ChargePoint16):
    def required_actions(self):
        # No Heartbeat: a station sends one after HeartbeatInterval (300 s here) without
        # other traffic (1.6 section 4.6), which a short session never reaches.
        return ["BootNotification", "StatusNotification", "Authorize",
                "StartTransaction", "MeterValues", "StopTransaction"]

    def expected_our_calls(self):
        return ["GetConfiguration", "ChangeAvailability"]

    async def post_boot_calls(self):
        await self.our_call(
            call16.GetConfiguration(key=["HeartbeatInterval"]),
            lambda r: None if (r.configuration_key or r.unknown_key) else "neither configurationKey nor unknownKey",
        )
        await self.our_call(call16.ChangeAvailability(connector_id=0, type="Operative"), lambda r: None)

    def transaction_problems(self):
        return []

    @on("BootNotification")
    def on_boot(self, **_):
        self.saw("BootNotification")
        return self.boot_response()

    @after("BootNotification")
    def after_boot(self, **_):
        return self.post_boot()

    @on("StatusNotification")
    async def on_status(self, **_):
        self.saw("StatusNotification")
        await self.hold_until_our_calls_done()
        return self._call_result.StatusNotification()

    @on("Heartbeat")
    async def on_heartbeat(self, **_):
        self.saw("Heartbeat")
        await self.hold_until_our_calls_done()
        return self._call_result.Heartbeat(current_time=now())

    @on("Authorize")
    async def on_authorize(self, id_tag, **_):
        self.saw("Authorize")
        await self.hold_until_our_calls_done()
        return self._call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on("StartTransaction")
    async def on_start(self, connector_id, id_tag, meter_start, timestamp, **_):
        self.saw("StartTransaction")
        await self.hold_until_our_calls_done()
        tx = next(TRANSACTION_IDS)
        self.transactions.add(tx)
        return self._call_result.StartTransaction(transaction_id=tx, id_tag_info={"status": "Accepted"})

    @on("MeterValues")
    async def on_meter_values(self, connector_id, meter_value, transaction_id=None, **_):
        self.saw("MeterValues")
        await self.hold_until_our_calls_done()
        if transaction_id is not None and transaction_id not in self.transactions:
            self.fail(f"MeterValues for unknown transactionId {transaction_id}")
        return self._call_result.MeterValues()

    @on("StopTransaction")
    async def on_stop(self, transaction_id, meter_stop, timestamp, id_tag=None, **_):
        self.saw("StopTransaction")
        await self.hold_until_our_calls_done()
        if transaction_id not in self.transactions:
            self.fail(f"StopTransaction for unknown transactionId {transaction_id}")
        if id_tag is None:
            return self._call_result.StopTransaction()
        return self._call_result.StopTransaction(id_tag_info={"status": "Accepted"})


class Csms2xHandlers:
    """The 2.0.1 and 2.1 CSMS (the scenario's payloads are the same in both)."""

    def required_actions(self):
        # No Heartbeat: a station sends one after HeartbeatInterval (300 s here) without
        # other traffic (2.x G02), which a short session never reaches.
        return ["BootNotification", "StatusNotification", "Authorize", "TransactionEvent"]

    def expected_our_calls(self):
        return ["GetVariables", "ChangeAvailability"]

    async def post_boot_calls(self):
        c = self._call
        wanted = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]
        await self.our_call(
            c.GetVariables(get_variable_data=wanted),
            lambda r: None if len(r.get_variable_result) == 1
            else f"{len(r.get_variable_result)} results for 1 requested variable",
        )
        await self.our_call(c.ChangeAvailability(operational_status="Operative"), lambda r: None)

    def transaction_problems(self):
        kinds = [e[0] for e in self.events]
        problems = []
        if self.booted:
            if "Started" not in kinds:
                problems.append("no TransactionEvent Started")
            if "Ended" not in kinds:
                problems.append("no TransactionEvent Ended")
            if "Updated" not in kinds and "MeterValues" not in self.seen:
                problems.append("no meter values (TransactionEvent Updated or MeterValues)")
        ids = {e[2] for e in self.events}
        if len(ids) > 1:
            problems.append(f"TransactionEvents with different transactionIds: {sorted(ids)}")
        seq = [e[1] for e in self.events]
        if any(b <= a for a, b in zip(seq, seq[1:])):
            problems.append(f"TransactionEvent seqNo not increasing: {seq}")
        return problems

    @on("BootNotification")
    def on_boot(self, **_):
        self.saw("BootNotification")
        return self.boot_response()

    @after("BootNotification")
    def after_boot(self, **_):
        return self.post_boot()

    @on("StatusNotification")
    async def on_status(self, **_):
        self.saw("StatusNotification")
        await self.hold_until_our_calls_done()
        return self._call_result.StatusNotification()

    @on("Heartbeat")
    async def on_heartbeat(self, **_):
        self.saw("Heartbeat")
        await self.hold_until_our_calls_done()
        return self._call_result.Heartbeat(current_time=now())

    @on("Authorize")
    async def on_authorize(self, id_token, **_):
        self.saw("Authorize")
        await self.hold_until_our_calls_done()
        return self._call_result.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    async def on_transaction_event(self, event_type, seq_no, transaction_info, id_token=None, **_):
        self.saw("TransactionEvent")
        await self.hold_until_our_calls_done()
        self.events.append((event_type, seq_no, transaction_info["transaction_id"]))
        if id_token is None:
            return self._call_result.TransactionEvent()
        return self._call_result.TransactionEvent(id_token_info={"status": "Accepted"})

    @on("MeterValues")
    async def on_meter_values(self, evse_id, meter_value, **_):
        self.saw("MeterValues")
        await self.hold_until_our_calls_done()
        return self._call_result.MeterValues()


class Csms201(CsmsMixin, Csms2xHandlers, ChargePoint201):
    pass


class Csms21(CsmsMixin, Csms2xHandlers, ChargePoint21):
    pass


CSMS = {"1.6": Csms16, "2.0.1": Csms201, "2.1": Csms21}


class Server:
    def __init__(self, once):
        self.once = once
        self.results = []
        self.first_done = asyncio.Event()

    def report(self, identity, version, problems):
        verdict = "FAIL " + "; ".join(problems) if problems else "PASS"
        print(f"RESULT {identity} {version} {verdict}", flush=True)
        self.results.append(not problems)
        self.first_done.set()

    async def handle(self, ws):
        identity = unquote(ws.request.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])
        version = VERSION_OF.get(ws.subprotocol)
        if version is None:
            await ws.close(1002, "no common OCPP subprotocol")
            self.report(identity or "-", "-", ["no common OCPP subprotocol"])
            return
        cp = CSMS[version](identity, ws, response_timeout=POST_BOOT_WAIT)
        cp.init_csms(version)
        LOG.info("%s: connected with %s", identity, ws.subprotocol)
        try:
            await cp.start_concurrent()
        except websockets.exceptions.ConnectionClosedOK:
            pass
        except websockets.exceptions.ConnectionClosedError as e:
            cp.fail(f"connection closed with an error: {e}")
        # Handlers still running when the station left.
        for task in list(cp._tasks):
            task.cancel()
        self.report(identity, version, cp.verdict())


async def serve(args):
    versions = [v.strip() for v in args.ocpp.split(",") if v.strip()]
    for v in versions:
        if v not in SUBPROTOCOLS:
            sys.exit(f"error: unknown OCPP version {v!r} (1.6, 2.0.1, 2.1)")
    server = Server(args.once)
    async with websockets.serve(
        server.handle,
        args.host,
        args.port,
        subprotocols=[SUBPROTOCOLS[v] for v in versions],
        ping_interval=None,
    ):
        print(f"listening on ws://{args.host}:{args.port}", flush=True)
        if args.once:
            await server.first_done.wait()
            return 0 if all(server.results) else 1
        await asyncio.Future()  # until killed
    return 0


def main():
    common.setup_logging()
    p = argparse.ArgumentParser(description="OCPP CSMS (mobilityhouse ocpp 2.1.0)")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--ocpp", default="2.0.1,1.6,2.1", help="comma-separated versions, preferred first")
    p.add_argument("--once", action="store_true", help="exit after the first station disconnects")
    args = p.parse_args()
    try:
        sys.exit(asyncio.run(serve(args)))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
