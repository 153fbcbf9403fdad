"""Shared pieces of the Python interop peers (mobilityhouse `ocpp` 2.1.0).

The peers use the library the way its users do: `ChargePoint` subclasses per
version, `@on` handlers, `call()` with the library's own JSON-schema
validation of every request and response in both directions. What is added
here is only what a test peer needs on top:

* an answer to any action that has no `@on` handler, built from the minimal
  schema-valid response the library's own schema file allows (so a CSMS can
  answer every station-initiated action and a station every CSMS-initiated
  one);
* a record of every inbound call that failed validation, so the program can
  exit nonzero instead of only logging it;
* a check of every `date-time` field received (RFC 3339 with an offset),
  which the library's validator does not do.
"""

import asyncio
import json
import logging
import os
import re
import sys
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL_PEERS = os.path.join(HERE, "..", ".peers", "py")
if os.path.isdir(LOCAL_PEERS):
    sys.path.insert(0, os.path.abspath(LOCAL_PEERS))

try:
    import ocpp  # noqa: E402
    import websockets  # noqa: E402,F401
    from ocpp.exceptions import NotImplementedError as OcppNotImplemented  # noqa: E402
    from ocpp.exceptions import OCPPError  # noqa: E402
    from ocpp.messages import validate_payload  # noqa: E402
except ImportError as e:  # pragma: no cover - setup problem, not a test result
    sys.exit(f"error: {e}; run interop/setup.sh first")

SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}
VERSION_OF = {v: k for k, v in SUBPROTOCOLS.items()}

# RFC 3339 date-time with a mandatory offset, as OCPP requires. The library's
# Draft4Validator does not check `format`, so the peers check every date-time
# field of every frame they receive themselves (PeerMixin.check_datetimes).
DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)

LOG = logging.getLogger("interop")


def setup_logging():
    """Frames go to stderr, one line each, as the library logs them."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(name)s: %(message)s"
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)


def now():
    """The current UTC time as OCPP wants it: RFC 3339, `Z` offset."""
    return (
        datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def is_datetime(value):
    return isinstance(value, str) and DATETIME_RE.match(value) is not None


def schema_file(version, action, response):
    """Path of the library's own schema for `action` in `version`."""
    folder = os.path.join(os.path.dirname(ocpp.__file__), "v" + version.replace(".", ""))
    if version == "1.6":
        name = action + ("Response" if response else "")
    else:
        name = action + ("Response" if response else "Request")
    return os.path.join(folder, "schemas", name + ".json")


def _minimal(schema, root):
    """The smallest value `schema` accepts: required members only."""
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/definitions/"):
            raise ValueError(f"unsupported $ref {ref}")
        return _minimal(root["definitions"][ref.split("/")[-1]], root)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _minimal(props[name], root) for name in schema.get("required", [])}
    if kind == "array":
        return [_minimal(schema["items"], root) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        if schema.get("format") == "date-time":
            return now()
        return "x" * schema.get("minLength", 0)
    if kind in ("integer", "number"):
        return max(0, schema.get("minimum", 0))
    if kind == "boolean":
        return False
    return {}


_schemas = {}


def load_schema(version, action, response):
    """The library's schema for `action`, or None if the version lacks it."""
    path = schema_file(version, action, response)
    if path not in _schemas:
        if os.path.exists(path):
            with open(path, encoding="utf-8-sig") as f:
                _schemas[path] = json.load(f)
        else:
            _schemas[path] = None
    return _schemas[path]


def minimal_response(version, action):
    """A schema-valid response to `action`, or None if the version lacks it."""
    schema = load_schema(version, action, response=True)
    return None if schema is None else _minimal(schema, schema)


def bad_datetimes(schema, value, root, pointer=""):
    """(JSON pointer, value) of each `date-time` string in `value` that is no
    RFC 3339 date-time with an offset."""
    while "$ref" in schema:
        schema = root["definitions"][schema["$ref"].split("/")[-1]]
    if schema.get("format") == "date-time" and isinstance(value, str) and not is_datetime(value):
        yield pointer, value
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                yield from bad_datetimes(props[key], item, root, f"{pointer}/{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from bad_datetimes(schema["items"], item, root, f"{pointer}/{i}")


class PeerMixin:
    """Put before the library's `ChargePoint` in the bases of a peer class."""

    def init_peer(self):
        self.failures = []  # what went wrong, one readable line each
        self.answered = []  # actions of inbound calls answered with a result
        self._tasks = set()
        self._our_calls = {}  # message id -> action of our calls in flight

    async def _send(self, message):
        frame = json.loads(message)
        if frame[0] == 2:
            self._our_calls[frame[1]] = frame[2]
        await super()._send(message)

    async def route_message(self, raw_msg):
        self.check_datetimes(raw_msg)
        await super().route_message(raw_msg)

    def check_datetimes(self, raw_msg):
        """The library's validator ignores `format`; check date-times here."""
        try:
            frame = json.loads(raw_msg)
        except ValueError:
            return
        if not isinstance(frame, list) or len(frame) < 3:
            return
        if frame[0] == 2 and len(frame) == 4:
            action, payload, response = frame[2], frame[3], False
        elif frame[0] == 3:
            action, payload, response = self._our_calls.pop(frame[1], None), frame[2], True
        else:
            return
        if not isinstance(action, str):
            return
        schema = load_schema(self._ocpp_version, action, response)
        if schema is None:
            return
        kind = "CALLRESULT" if response else "CALL"
        for pointer, value in bad_datetimes(schema, payload, schema):
            self.fail(f"inbound {action} {kind}: {pointer} = {value!r} is no RFC 3339 date-time with offset")

    def fail(self, what):
        LOG.error("%s: FAIL %s", self.id, what)
        self.failures.append(what)

    async def start_concurrent(self):
        """Like `ChargePoint.start`, but each inbound message is routed in its
        own task, so a handler that waits (see the CSMS) never stops the
        receive loop from reading the answer to our own call."""
        while True:
            message = await self._connection.recv()
            self.logger.info("%s: receive message %s", self.id, message)
            task = asyncio.ensure_future(self.route_message(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle_call(self, msg):
        # An action that is no string (a malformed CALL) goes to the library, which refuses it
        # with a CALLERROR: the generic answer below would raise a TypeError, which ends the
        # library's receive loop (`ocpp probe station` found it).
        if isinstance(msg.action, str) and msg.action not in self.route_map:
            return await self._answer_generic(msg)
        try:
            result = await super()._handle_call(msg)
        except OCPPError as e:
            self.fail(f"inbound {msg.action} rejected: {e.code}: {e.description} {e.details}")
            raise
        self.answered.append(msg.action)
        return result

    async def _answer_generic(self, msg):
        """Validate the request and answer with the minimal valid response."""
        payload = minimal_response(self._ocpp_version, msg.action)
        if payload is None:
            raise OcppNotImplemented(
                details={"cause": f"{msg.action} is no OCPP {self._ocpp_version} action"}
            )
        try:
            await validate_payload(msg, self._ocpp_version)
        except OCPPError as e:
            self.fail(f"inbound {msg.action} rejected: {e.code}: {e.description} {e.details}")
            raise
        response = msg.create_call_result(payload)
        await validate_payload(response, self._ocpp_version)
        await self._send(response.to_json())
        self.answered.append(msg.action)


__all__ = [
    "LOG",
    "PeerMixin",
    "SUBPROTOCOLS",
    "VERSION_OF",
    "is_datetime",
    "minimal_response",
    "now",
    "setup_logging",
]
