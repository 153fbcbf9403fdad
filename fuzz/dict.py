#!/usr/bin/env python3
"""Writes fuzz/ocpp.dict, the libFuzzer dictionary every fuzz target runs with, from the schemas.

    python3 fuzz/dict.py

A dictionary gives the mutator whole tokens to insert or splice, where finding a 20-character
field name byte by byte would take it millions of runs. This one holds what OCPP-J text is made
of: the frame heads of the five message types, every action name, field name and enum value of
every version (as JSON strings, field names with their colon), the RPC error codes, date-time
shapes the schemas' `date-time` format allows and refuses, numbers at the edges of what the
readers take, JSON escapes, and the words of a WebSocket upgrade (subprotocols, headers, Basic
credentials) for the handshake and adapter targets. The output depends only on the schemas:
running it again writes the same file.
"""

import json
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
SCHEMAS = FUZZ.parent / "schemas"
DICT = FUZZ / "ocpp.dict"

FRAME_HEADS = ['[2,"', '[3,"', '[4,"', '[5,"', '[6,"', '","', '",{', "}]", ",{}]"]
ERROR_CODES = [
    "FormatViolation", "FormationViolation", "GenericError", "InternalError",
    "MessageTypeNotSupported", "NotImplemented", "NotSupported",
    "OccurrenceConstraintViolation", "OccurenceConstraintViolation",
    "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError", "SecurityError",
    "TypeConstraintViolation",
]
DATE_TIMES = [
    "2026-12-02T10:15:11Z", "2026-12-02T10:15:11.123Z", "2026-12-02T10:15:11.123456789Z",
    "2026-12-02T10:15:11+01:00", "2026-12-02T10:15:11-00:30", "2026-12-02t10:15:11z",
    "2026-12-02 10:15:11Z", "2026-02-29T00:00:00Z", "2024-02-29T23:59:60Z", "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z", "2026-12-02T24:00:00Z", "2026-12-02T10:15:11", "2026-12-02",
]
NUMBERS = [
    "-0", "0.0", "1e3", "-2.5E-3", "1.7976931348623157e308", "1.7976931348623158e308",
    "4.9e-324", "2147483647", "2147483648", "-2147483649", "9007199254740993",
    "18446744073709551616", "123456789012345678901234567890", "1.0000000000000002",
]
JSON_TOKENS = [
    "true", "false", "null", "{}", "[]", '""', '\\"', "\\\\", "\\/", "\\u0000", "\\u00e9",
    "\\ud83d\\ude00", "\\ud800", "\\udc00", "\\n", "\\t", '"customData":{"vendorId":"',
    '"vendorId":"', "\xc3\xa9", "\xf0\x9f\x98\x80", "\xef\xbb\xbf",
]
HANDSHAKE = [
    "ocpp1.6", "ocpp2.0", "ocpp2.0.1", "ocpp2.1", "OCPP1.6", "ocpp1.6, ocpp2.0.1", "2.1",
    "GET ", " HTTP/1.1\r\n", "\r\n", "\r\n\r\n", "Host: ", "Upgrade: websocket\r\n",
    "Connection: Upgrade\r\n", "Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Key: ",
    "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol: ", "Authorization: Basic ",
    "Content-Length: ", "Transfer-Encoding: chunked\r\n", "HTTP/1.1 101 Switching Protocols\r\n",
    "Sec-WebSocket-Accept: ", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "/ocpp/", "%2F", "%3A", "%25",
    "%00", "%C3%A9", "..", ":", "CP001",
]


def actions_and_words():
    """Action names, field names and enum values across every version's schemas."""
    actions, fields, enums = set(), set(), set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    fields.update(value)
                elif key == "enum" and isinstance(value, list):
                    enums.update(str(v) for v in value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted(SCHEMAS.glob("*/*.json")):
        name = path.stem
        actions.add(name[: -len("Response")] if name.endswith("Response") else
                    name[: -len("Request")] if name.endswith("Request") else name)
        walk(json.loads(path.read_text()))
    return sorted(actions), sorted(fields), sorted(enums)


def quote(token):
    """A token as a libFuzzer dictionary value: printable ASCII as is, other bytes as \\xNN."""
    out = []
    for byte in token.encode("latin-1" if all(ord(c) < 256 for c in token) else "utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02X}")
    return '"' + "".join(out) + '"'


def main():
    actions, fields, enums = actions_and_words()
    sections = [
        ("frame heads", FRAME_HEADS),
        ("actions, as JSON strings", [f'"{a}"' for a in actions]),
        ("field names, as object keys", [f'"{f}":' for f in fields]),
        ("enum values, as JSON strings", [f'"{e}"' for e in enums]),
        ("RPC error codes", [f'"{c}"' for c in ERROR_CODES]),
        ("date-times, as JSON strings", [f'"{d}"' for d in DATE_TIMES]),
        ("numbers", NUMBERS),
        ("JSON", JSON_TOKENS),
        ("WebSocket upgrade", HANDSHAKE),
    ]
    lines = ["# The libFuzzer dictionary of every fuzz target; written by fuzz/dict.py from the schemas."]
    seen = set()
    for title, tokens in sections:
        lines.append(f"# {title}")
        for token in tokens:
            if token not in seen:
                seen.add(token)
                lines.append(quote(token))
    DICT.write_text("\n".join(lines) + "\n")
    print(f"{len(seen)} tokens in {DICT}")


if __name__ == "__main__":
    main()
