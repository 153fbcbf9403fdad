#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets, fuzz/seeds/<target>/, from `ocpp gen`.

    cargo build -p ocpp-rs-cli && python3 fuzz/seeds.py target/debug/ocpp

The output depends only on the schemas and on `ocpp gen` (which is reproducible by seed), so
running it again writes the same files unless either changed. Every seed is valid input in the
format its target reads (see fuzz/README.md).
"""

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
SCHEMAS = FUZZ.parent / "schemas"
SEEDS = FUZZ / "seeds"
# (version as `ocpp gen` takes it, schema folder); the order of `OcppVersion::ALL`.
VERSIONS = [("1.6", "v16"), ("2.0.1", "v201"), ("2.1", "v21")]
# The seed folders this script writes; the others (`station`, `ws_client`) hold hand-made
# inputs and are left alone.
WRITTEN = ["differential_v16", "differential_v201", "differential_v21", "json_reader",
           "handshake", "session_script", "adapter", "flash_store"]
SAMPLES = 6  # random messages drawn per action; the shortest is kept, so the corpus stays small


def actions(folder):
    """Every action of a version, sorted by name: the order of the generated `Action::ALL`."""
    names = set()
    for path in (SCHEMAS / folder).glob("*.json"):
        name = path.stem
        for suffix in ("Request", "Response"):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                break
        names.add(name)
    return sorted(names)


def gen(ocpp, version, *args):
    out = subprocess.run(
        [ocpp, "gen", "--ocpp", version, *args], check=True, capture_output=True, text=True
    ).stdout
    return out.splitlines()


def split(line):
    """A frame written by `ocpp gen` -> (type, id, action or None, payload text as written)."""
    frame = json.loads(line)
    kind, mid = frame[0], frame[1]
    head = [kind, mid] + ([frame[2]] if kind in (2, 6) else [])
    prefix = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1] + ","
    assert line.startswith(prefix) and line.endswith("]"), line
    payload = line[len(prefix) : -1]
    assert json.loads(payload) == frame[-1], line
    return kind, mid, (frame[2] if kind in (2, 6) else None), payload


def shortest(ocpp, version, action):
    """The shortest request and response payload (text) of `action` among SAMPLES draws."""
    requests, responses = [], []
    for line in gen(ocpp, version, "--action", action, "--count", str(SAMPLES), "--responses"):
        kind, _, _, payload = split(line)
        (responses if kind == 3 else requests).append(payload)
    pick = lambda texts: min(texts, key=lambda t: (len(t.encode()), t)) if texts else None
    return pick(requests), pick(responses)


def write(target, name, data):
    path = SEEDS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


# Malformed input, one of each row of ocpp-rpc's answer table that a frame alone can show:
# `json_reader` seeds (each is text the reader must judge as serde_json does).
MALFORMED = [
    "",
    "   ",
    "not json",
    b"\xff\xfe",
    '{"a":1}',
    "[]",
    '["2","1","Heartbeat",{}]',
    '[2,1,"Heartbeat",{}]',
    '[2,"' + "x" * 37 + '","Heartbeat",{}]',
    '[9,"1","Heartbeat",{}]',
    '[2,"1","Heartbeat"]',
    '[2,"1",7,{}]',
    '[2,"1","NoSuchAction",{}]',
    '[2,"1","Heartbeat",{"x":1}]',
    '[2,"1","Heartbeat",null]',
    '[2,"1","Heartbeat",{}] tail',
    '[2,"1","Heartbeat",{},{}]',
    '[3,"404",{}]',
    '[3,"1"]',
    '[4,"1","NoSuchCode","",{}]',
    '[4,"1"]',
    '[5,"1","FormatViolation","",{}]',
    '[6,"1","NotifyPeriodicEventStream",{}]',
    '[6,"1","Heartbeat",{}]',
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    ocpp = sys.argv[1]
    for target in WRITTEN:
        shutil.rmtree(SEEDS / target, ignore_errors=True)
    for version, folder in VERSIONS:
        names = actions(folder)
        assert len(names) < 256, "the differential targets pick the action with one byte"
        # `ocpp gen` draws from `Action::ALL`: every action it names must be in our list.
        drawn = {split(line)[2] for line in gen(ocpp, version, "--count", "3000")}
        assert drawn <= set(names), drawn - set(names)
        for pick, action in enumerate(names):
            request, response = shortest(ocpp, version, action)
            for kind, payload in (("request", request), ("response", response)):
                if payload is not None:
                    seed = bytes([pick]) + payload.encode()
                    write(f"differential_{folder}", f"{action}-{kind}", seed)

    # json_reader: the four message types it compares, several draws each, plus numbers.
    for folder, action, seed_count in (("v201", "TransactionEvent", 8), ("v201", "DataTransfer", 4),
                                       ("v16", "MeterValues", 8), ("v16", "SetChargingProfile", 8)):
        version = dict((f, v) for v, f in VERSIONS)[folder]
        lines = gen(ocpp, version, "--action", action, "--count", str(seed_count * 3))
        texts = sorted({split(line)[3] for line in lines}, key=lambda t: (len(t.encode()), t))
        for n, text in enumerate(texts[:seed_count]):
            write("json_reader", f"{folder}-{action}-{n}", text)
    for n, text in enumerate(['{"a":[1,-0,0.5,1e3,-2.5E-3,1.7976931348623157e308]}',
                              '{"n":123456789012345678901234567890}',
                              '{"s":"\\u00e9\\ud83d\\ude00\\n\\"","t":true,"f":false,"z":null}',
                              '[[[[{}]]],{"":""}]',
                              # Rounds beyond f64::MAX: refused by ours, f64::MAX to serde_json
                              # (found by json_reader, 2026-12-02).
                              '{"a":[1,-0,0.5,1e3,-2.5E-3,1.79769313486231588e308]}']):
        write("json_reader", f"value-{n}", text)
    for n, text in enumerate(MALFORMED):
        write("json_reader", f"malformed-{n}", text)

    # The structure-aware targets decode their input with `arbitrary`, which takes any bytes:
    # fixed pseudo-random inputs of several lengths start them off.
    draw = random.Random(0x5EED)
    for target in ("handshake", "session_script", "adapter", "flash_store"):
        for n, length in enumerate((0, 8, 32, 64, 128, 256, 512, 1024)):
            write(target, f"random-{n}", bytes(draw.randrange(256) for _ in range(length)))

    total = sum(p.stat().st_size for p in SEEDS.rglob("*") if p.is_file())
    count = sum(1 for p in SEEDS.rglob("*") if p.is_file())
    print(f"{count} seeds, {total} bytes, in {SEEDS}")


if __name__ == "__main__":
    main()
