#!/usr/bin/env python3
"""A charging station built on mobilityhouse `ocpp` 2.1.0 that runs one
charging session against any CSMS.

    station.py --url ws://HOST:PORT/PATH/ID --ocpp 1.6|2.0.1|2.1 [--scenario charge] [--stay SECONDS]

Charge scenario: BootNotification, StatusNotification, Heartbeat, Authorize,
start (1.6 StartTransaction / 2.x TransactionEvent Started), meter values
(1.6 MeterValues / 2.x TransactionEvent Updated), stop (1.6 StopTransaction /
2.x TransactionEvent Ended), StatusNotification. The library validates every
request it sends and every response it gets against its OCPP schemas; the
station also answers whatever the CSMS calls (GetConfiguration, GetVariables,
ChangeAvailability, ... and any other action with a minimal valid response).

Exits 0 only if the connection negotiated the requested subprotocol, every call
was answered with a valid CALLRESULT, the answers say what a demo CSMS must say
(Accepted), and every call from the CSMS was valid. The frames go to stderr.
"""

import argparse
import asyncio
import sys
from urllib.parse import unquote, urlsplit

import common  # sets up the import path of the local peers
from common import LOG, SUBPROTOCOLS, PeerMixin, now

import websockets
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21

ID_TAG = "INTEROP-TAG-1"
HEARTBEAT_INTERVAL = "300"


class Station16(PeerMixin, ChargePoint16):
    @on("GetConfiguration")
    def on_get_configuration(self, key=None, **_):
        known = {"HeartbeatInterval": HEARTBEAT_INTERVAL}
        wanted = key if key else list(known)
        result = {
            "configuration_key": [
                {"key": k, "readonly": False, "value": known[k]} for k in wanted if k in known
            ]
        }
        unknown = [k for k in wanted if k not in known]
        if unknown:
            result["unknown_key"] = unknown
        return self._call_result.GetConfiguration(**result)

    @on("ChangeAvailability")
    def on_change_availability(self, connector_id, type, **_):
        return self._call_result.ChangeAvailability(status="Accepted")

    @on("ChangeConfiguration")
    def on_change_configuration(self, key, value, **_):
        return self._call_result.ChangeConfiguration(status="Accepted")


class Station2xHandlers:
    """CSMS-initiated calls of 2.0.1 and 2.1 (the same payloads in both)."""

    @on("GetVariables")
    def on_get_variables(self, get_variable_data, **_):
        results = []
        for item in get_variable_data:
            known = (
                item["component"].get("name") == "OCPPCommCtrlr"
                and item["variable"].get("name") == "HeartbeatInterval"
            )
            entry = {
                "attribute_status": "Accepted" if known else "UnknownVariable",
                "component": item["component"],
                "variable": item["variable"],
            }
            if known:
                entry["attribute_value"] = HEARTBEAT_INTERVAL
            results.append(entry)
        return self._call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, set_variable_data, **_):
        results = [
            {
                "attribute_status": "Accepted",
                "component": item["component"],
                "variable": item["variable"],
            }
            for item in set_variable_data
        ]
        return self._call_result.SetVariables(set_variable_result=results)

    @on("ChangeAvailability")
    def on_change_availability(self, operational_status, **_):
        return self._call_result.ChangeAvailability(status="Accepted")


class Station201(PeerMixin, Station2xHandlers, ChargePoint201):
    pass


class Station21(PeerMixin, Station2xHandlers, ChargePoint21):
    pass


class Scenario:
    """Runs the calls one after the other and checks each answer."""

    def __init__(self, cp, version):
        self.cp = cp
        self.version = version

    async def call(self, request):
        action = type(request).__name__
        try:
            # suppress=False: a CALLERROR raises instead of returning None.
            response = await self.cp.call(request, suppress=False)
        except OCPPError as e:
            raise Failure(f"{action}: CALLERROR or invalid response: {e.code}: {e.description} {e.details}")
        except asyncio.TimeoutError:
            raise Failure(f"{action}: no response in time")
        LOG.info("%s: %s answered validly", self.cp.id, action)
        return response

    def expect(self, ok, what):
        if not ok:
            raise Failure(what)

    async def run(self):
        if self.version == "1.6":
            await self.run16()
        else:
            await self.run2x(call201 if self.version == "2.0.1" else call21)

    async def run16(self):
        c = call16
        boot = await self.call(
            c.BootNotification(charge_point_model="InteropModel", charge_point_vendor="InteropVendor")
        )
        self.expect(boot.status == "Accepted", f"BootNotification: status {boot.status}, not Accepted")
        await self.call(c.StatusNotification(connector_id=1, error_code="NoError", status="Available", timestamp=now()))
        await self.call(c.Heartbeat())
        auth = await self.call(c.Authorize(id_tag=ID_TAG))
        self.expect(auth.id_tag_info["status"] == "Accepted", f"Authorize: {auth.id_tag_info}")
        await self.call(c.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
        start = await self.call(c.StartTransaction(connector_id=1, id_tag=ID_TAG, meter_start=0, timestamp=now()))
        self.expect(start.id_tag_info["status"] == "Accepted", f"StartTransaction: {start.id_tag_info}")
        tx = start.transaction_id
        await self.call(c.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        await self.call(
            c.MeterValues(
                connector_id=1,
                transaction_id=tx,
                meter_value=[
                    {
                        "timestamp": now(),
                        "sampled_value": [
                            {"value": "1500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                            {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
                        ],
                    }
                ],
            )
        )
        await self.call(
            c.StopTransaction(
                meter_stop=3000,
                timestamp=now(),
                transaction_id=tx,
                reason="Local",
                id_tag=ID_TAG,
                transaction_data=[
                    {
                        "timestamp": now(),
                        "sampled_value": [
                            {"value": "3000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                        ],
                    }
                ],
            )
        )
        await self.call(c.StatusNotification(connector_id=1, error_code="NoError", status="Available"))

    async def run2x(self, c):
        boot = await self.call(
            c.BootNotification(
                charging_station={"model": "InteropModel", "vendor_name": "InteropVendor"},
                reason="PowerUp",
            )
        )
        self.expect(boot.status == "Accepted", f"BootNotification: status {boot.status}, not Accepted")
        await self.call(
            c.StatusNotification(timestamp=now(), connector_status="Available", evse_id=1, connector_id=1)
        )
        await self.call(c.Heartbeat())
        id_token = {"id_token": ID_TAG, "type": "ISO14443"}
        auth = await self.call(c.Authorize(id_token=id_token))
        self.expect(auth.id_token_info["status"] == "Accepted", f"Authorize: {auth.id_token_info}")
        tx = {"transaction_id": "INTEROP-TX-1"}
        energy = lambda wh: [  # noqa: E731
            {
                "timestamp": now(),
                "sampled_value": [{"value": wh, "measurand": "Energy.Active.Import.Register"}],
            }
        ]
        started = await self.call(
            c.TransactionEvent(
                event_type="Started",
                timestamp=now(),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={**tx, "charging_state": "Charging"},
                id_token=id_token,
                evse={"id": 1, "connector_id": 1},
                meter_value=energy(0.0),
            )
        )
        if started.id_token_info is not None:
            self.expect(started.id_token_info["status"] == "Accepted", f"TransactionEvent Started: {started.id_token_info}")
        await self.call(
            c.StatusNotification(timestamp=now(), connector_status="Occupied", evse_id=1, connector_id=1)
        )
        await self.call(
            c.TransactionEvent(
                event_type="Updated",
                timestamp=now(),
                trigger_reason="MeterValuePeriodic",
                seq_no=1,
                transaction_info={**tx, "charging_state": "Charging"},
                meter_value=energy(1500.0),
            )
        )
        await self.call(
            c.TransactionEvent(
                event_type="Ended",
                timestamp=now(),
                trigger_reason="StopAuthorized",
                seq_no=2,
                transaction_info={**tx, "charging_state": "Idle", "stopped_reason": "Local"},
                id_token=id_token,
                meter_value=energy(3000.0),
            )
        )
        await self.call(
            c.StatusNotification(timestamp=now(), connector_status="Available", evse_id=1, connector_id=1)
        )


class Failure(Exception):
    pass


STATIONS = {"1.6": Station16, "2.0.1": Station201, "2.1": Station21}


async def run(args):
    subprotocol = SUBPROTOCOLS[args.ocpp]
    identity = unquote(urlsplit(args.url).path.rstrip("/").rsplit("/", 1)[-1])
    if not identity:
        raise Failure(f"no station identity at the end of {args.url}")
    try:
        ws = await websockets.connect(
            args.url, subprotocols=[subprotocol], proxy=None, open_timeout=10, ping_interval=None
        )
    except (OSError, websockets.exceptions.WebSocketException, asyncio.TimeoutError) as e:
        raise Failure(f"cannot connect to {args.url}: {e}")
    receiver = scenario = None
    try:
        if ws.subprotocol != subprotocol:
            raise Failure(f"asked for subprotocol {subprotocol}, server chose {ws.subprotocol!r}")
        cp = STATIONS[args.ocpp](identity, ws, response_timeout=args.call_timeout)
        cp.init_peer()
        receiver = asyncio.ensure_future(cp.start())
        scenario = asyncio.ensure_future(Scenario(cp, args.ocpp).run())
        done, _ = await asyncio.wait({receiver, scenario}, return_when=asyncio.FIRST_COMPLETED)
        if scenario not in done:
            raise Failure(f"connection ended before the scenario finished: {receiver.exception()!r}")
        try:
            scenario.result()
        except Failure as e:
            raise Failure("; ".join(cp.failures + [str(e)]))
        if args.stay:
            # Stay connected, answering the CSMS (for `ocpp probe station`).
            await asyncio.wait({receiver}, timeout=args.stay)
        if cp.failures:
            raise Failure("; ".join(cp.failures))
        LOG.info("%s: answered %d call(s) from the CSMS: %s", identity, len(cp.answered), ", ".join(cp.answered) or "-")
    finally:
        for task in (scenario, receiver):
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(*(t for t in (scenario, receiver) if t), return_exceptions=True)
        await ws.close()


def main():
    common.setup_logging()
    p = argparse.ArgumentParser(description="OCPP charging station (mobilityhouse ocpp 2.1.0)")
    p.add_argument("--url", required=True, help="ws://HOST:PORT/PATH/IDENTITY")
    p.add_argument("--ocpp", required=True, choices=sorted(SUBPROTOCOLS))
    p.add_argument("--scenario", default="charge", choices=["charge"])
    p.add_argument("--call-timeout", type=float, default=15, help="seconds to wait for each answer")
    p.add_argument("--stay", type=float, default=0, help="seconds to stay connected after the scenario, answering the CSMS")
    args = p.parse_args()
    try:
        asyncio.run(run(args))
    except Failure as e:
        print(f"station (python ocpp {args.ocpp}): FAIL: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"station (python ocpp {args.ocpp}): PASS: charge scenario complete")


if __name__ == "__main__":
    main()
