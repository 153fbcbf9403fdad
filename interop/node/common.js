'use strict';
// Shared pieces of the Node interop peers (ocpp-rpc 2.2.1, strict mode).
//
// The peers use ocpp-rpc the way its users do: RPCClient / RPCServer with
// `strictMode: true`, so the library validates every call and response in both
// directions against its bundled OCPP schemas. What is added here:
//
// * the strict-mode validator for ocpp2.1. ocpp-rpc 2.2.1 ships 2.1 schemas
//   (lib/schemas/ocpp2_1.json) but names them `urn:<Action>Request` /
//   `urn:<Action>Response`, while its validator looks up `urn:<Action>.req` /
//   `urn:<Action>.conf` (the 1.6 and 2.0.1 naming), so with the built-in
//   validator every 2.1 call fails with "Schema ... is missing". We build a
//   validator from the same 2.1 file with the ids renamed, using the library's
//   own createValidator, and pass it as `strictModeValidators`. Set
//   INTEROP_NODE_BUILTIN_V21=1 to use the built-in one instead (to see the bug).
// * an answer to any action without a handler: the minimal response the
//   schema accepts;
// * a check of every date-time field received (see checkDateTimes).

const path = require('path');

function requirePeer(name) {
    const local = path.join(__dirname, '..', '.peers', 'node', 'node_modules');
    try {
        return require(require.resolve(name, { paths: [local, __dirname] }));
    } catch (e) {
        process.stderr.write(`error: cannot load ${name} (${e.message}); run interop/setup.sh first\n`);
        process.exit(2);
    }
}

const rpc = requirePeer('ocpp-rpc');
const rpcDir = path.dirname(require.resolve('ocpp-rpc/package.json', {
    paths: [path.join(__dirname, '..', '.peers', 'node', 'node_modules'), __dirname],
}));

const SUBPROTOCOLS = { '1.6': 'ocpp1.6', '2.0.1': 'ocpp2.0.1', '2.1': 'ocpp2.1' };
const VERSION_OF = Object.fromEntries(Object.entries(SUBPROTOCOLS).map(([v, p]) => [p, v]));
const SCHEMA_FILES = { '1.6': 'ocpp1_6.json', '2.0.1': 'ocpp2_0_1.json', '2.1': 'ocpp2_1.json' };

const schemaCache = {};
function schemas(version) {
    if (!schemaCache[version]) {
        schemaCache[version] = require(path.join(rpcDir, 'lib', 'schemas', SCHEMA_FILES[version]));
    }
    return schemaCache[version];
}

// ocpp2.1's schema ids in the 1.6/2.0.1 naming the validator expects.
function renamedV21Schemas() {
    return schemas('2.1').map((s) => {
        let id = s.$id;
        if (id.endsWith('Request')) id = id.slice(0, -'Request'.length) + '.req';
        else if (id.endsWith('Response')) id = id.slice(0, -'Response'.length) + '.conf';
        else id = id + '.req'; // NotifyPeriodicEventStream, a SEND without a response
        return { ...s, $id: id };
    });
}

function strictModeValidators() {
    if (process.env.INTEROP_NODE_BUILTIN_V21 === '1') return [];
    return [rpc.createValidator('ocpp2.1', renamedV21Schemas())];
}

// RFC 3339 with a mandatory offset, as OCPP requires.
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const isDateTime = (v) => typeof v === 'string' && DATETIME_RE.test(v);
const now = () => new Date().toISOString();

function responseSchema(version, action) {
    const id = version === '2.1' ? `urn:${action}Response` : `urn:${action}.conf`;
    return schemas(version).find((s) => s.$id === id);
}

function minimal(schema, root) {
    if (schema.$ref) {
        if (!schema.$ref.startsWith('#/definitions/')) throw new Error(`unsupported $ref ${schema.$ref}`);
        return minimal(root.definitions[schema.$ref.split('/').pop()], root);
    }
    if (schema.enum) return schema.enum[0];
    switch (schema.type) {
        case 'object': {
            const out = {};
            for (const name of schema.required || []) out[name] = minimal(schema.properties[name], root);
            return out;
        }
        case 'array':
            return Array.from({ length: schema.minItems || 0 }, () => minimal(schema.items, root));
        case 'string':
            return schema.format === 'date-time' ? now() : 'x'.repeat(schema.minLength || 0);
        case 'integer':
        case 'number':
            return Math.max(0, schema.minimum || 0);
        case 'boolean':
            return false;
        default:
            return {};
    }
}

function requestSchema(version, action) {
    const id = version === '2.1' ? `urn:${action}Request` : `urn:${action}.req`;
    return schemas(version).find((s) => s.$id === id);
}

// [JSON pointer, value] of each `date-time` string in `value` that is no
// RFC 3339 date-time with an offset.
function* badDateTimes(schema, value, root, pointer = '') {
    while (schema.$ref) schema = root.definitions[schema.$ref.split('/').pop()];
    if (schema.format === 'date-time' && typeof value === 'string' && !isDateTime(value)) yield [pointer, value];
    if (Array.isArray(value)) {
        if (schema.items && typeof schema.items === 'object') {
            for (const [i, item] of value.entries()) yield* badDateTimes(schema.items, item, root, `${pointer}/${i}`);
        }
    } else if (value && typeof value === 'object') {
        const props = schema.properties || {};
        for (const [key, item] of Object.entries(value)) {
            if (props[key]) yield* badDateTimes(props[key], item, root, `${pointer}/${key}`);
        }
    }
}

// ajv-formats 2.1.1, which ocpp-rpc uses, accepts a date-time without an
// offset (its time check compares a missing offset, undefined, with ''), so
// strict mode lets `2024-01-01T00:00:00` through. Check every date-time field
// of every received frame here; `fail` gets one line per bad field.
function checkDateTimes(client, version, fail) {
    const ourCalls = new Map(); // message id -> action of our calls in flight
    client.on('message', ({ message, outbound }) => {
        let frame;
        try { frame = JSON.parse(message); } catch { return; }
        if (!Array.isArray(frame)) return;
        if (outbound) {
            if (frame[0] === 2) ourCalls.set(frame[1], frame[2]);
            return;
        }
        let action; let schema; let kind;
        if (frame[0] === 2 && frame.length === 4) {
            [action, kind] = [frame[2], 'CALL'];
            schema = typeof action === 'string' && requestSchema(version, action);
        } else if (frame[0] === 3) {
            [action, kind] = [ourCalls.get(frame[1]), 'CALLRESULT'];
            ourCalls.delete(frame[1]);
            schema = typeof action === 'string' && responseSchema(version, action);
        }
        if (!schema) return;
        const payload = kind === 'CALL' ? frame[3] : frame[2];
        for (const [pointer, value] of badDateTimes(schema, payload, schema)) {
            fail(`inbound ${action} ${kind}: ${pointer} = ${JSON.stringify(value)} is no RFC 3339 date-time with offset`);
        }
    });
}

// The minimal schema-valid response to `action`, or undefined if unknown.
function minimalResponse(version, action) {
    const schema = responseSchema(version, action);
    return schema ? minimal(schema, schema) : undefined;
}

// One line per frame on stderr, with its direction.
function logFrames(client, who) {
    client.on('message', ({ message, outbound }) => {
        process.stderr.write(`${who}: ${outbound ? 'send' : 'recv'} ${message}\n`);
    });
}

const log = (msg) => process.stderr.write(`interop: ${msg}\n`);

module.exports = {
    rpc, SUBPROTOCOLS, VERSION_OF, strictModeValidators, now, minimalResponse, logFrames, checkDateTimes, log,
};
