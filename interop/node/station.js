#!/usr/bin/env node
'use strict';
// A charging station built on ocpp-rpc 2.2.1 (strict mode) that runs one
// charging session against any CSMS.
//
//   station.js --url ws://HOST:PORT/PATH/ID --ocpp 1.6|2.0.1|2.1 [--scenario charge] [--stay SECONDS]
//
// The same charge scenario as interop/py/station.py: BootNotification,
// StatusNotification, Heartbeat, Authorize, start (1.6 StartTransaction / 2.x
// TransactionEvent Started), meter values (MeterValues / TransactionEvent
// Updated), stop (StopTransaction / TransactionEvent Ended), StatusNotification.
// Strict mode validates every request and response; the station answers any
// call from the CSMS. Exits 0 only if the requested subprotocol was agreed,
// every call got a valid CALLRESULT saying Accepted where it matters, and
// every call from the CSMS was valid. Frames go to stderr.

const { parseArgs } = require('util');
const {
    rpc, SUBPROTOCOLS, strictModeValidators, now, minimalResponse, logFrames, checkDateTimes, log,
} = require('./common');

const ID_TAG = 'INTEROP-TAG-1';
const HEARTBEAT_INTERVAL = '300';

class Failure extends Error {}

function handlers(version) {
    if (version === '1.6') {
        return {
            GetConfiguration: ({ params }) => {
                const known = { HeartbeatInterval: HEARTBEAT_INTERVAL };
                const wanted = params.key && params.key.length ? params.key : Object.keys(known);
                const result = {
                    configurationKey: wanted.filter((k) => k in known)
                        .map((k) => ({ key: k, readonly: false, value: known[k] })),
                };
                const unknown = wanted.filter((k) => !(k in known));
                if (unknown.length) result.unknownKey = unknown;
                return result;
            },
            ChangeAvailability: () => ({ status: 'Accepted' }),
            ChangeConfiguration: () => ({ status: 'Accepted' }),
        };
    }
    return {
        GetVariables: ({ params }) => ({
            getVariableResult: params.getVariableData.map((item) => {
                const known = item.component.name === 'OCPPCommCtrlr' && item.variable.name === 'HeartbeatInterval';
                const entry = {
                    attributeStatus: known ? 'Accepted' : 'UnknownVariable',
                    component: item.component,
                    variable: item.variable,
                };
                if (known) entry.attributeValue = HEARTBEAT_INTERVAL;
                return entry;
            }),
        }),
        SetVariables: ({ params }) => ({
            setVariableResult: params.setVariableData.map((item) => ({
                attributeStatus: 'Accepted', component: item.component, variable: item.variable,
            })),
        }),
        ChangeAvailability: () => ({ status: 'Accepted' }),
    };
}

async function scenario16(call, expect) {
    const boot = await call('BootNotification', { chargePointVendor: 'InteropVendor', chargePointModel: 'InteropModel' });
    expect(boot.status === 'Accepted', `BootNotification: status ${boot.status}, not Accepted`);
    await call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now() });
    await call('Heartbeat', {});
    const auth = await call('Authorize', { idTag: ID_TAG });
    expect(auth.idTagInfo.status === 'Accepted', `Authorize: ${JSON.stringify(auth.idTagInfo)}`);
    await call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    const start = await call('StartTransaction', { connectorId: 1, idTag: ID_TAG, meterStart: 0, timestamp: now() });
    expect(start.idTagInfo.status === 'Accepted', `StartTransaction: ${JSON.stringify(start.idTagInfo)}`);
    const tx = start.transactionId;
    await call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    await call('MeterValues', {
        connectorId: 1,
        transactionId: tx,
        meterValue: [{
            timestamp: now(),
            sampledValue: [
                { value: '1500', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
                { value: '7400', measurand: 'Power.Active.Import', unit: 'W' },
            ],
        }],
    });
    await call('StopTransaction', {
        meterStop: 3000,
        timestamp: now(),
        transactionId: tx,
        reason: 'Local',
        idTag: ID_TAG,
        transactionData: [{
            timestamp: now(),
            sampledValue: [{ value: '3000', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        }],
    });
    await call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' });
}

async function scenario2x(call, expect) {
    const boot = await call('BootNotification', {
        chargingStation: { model: 'InteropModel', vendorName: 'InteropVendor' },
        reason: 'PowerUp',
    });
    expect(boot.status === 'Accepted', `BootNotification: status ${boot.status}, not Accepted`);
    const status = (connectorStatus) => call('StatusNotification', {
        timestamp: now(), connectorStatus, evseId: 1, connectorId: 1,
    });
    await status('Available');
    await call('Heartbeat', {});
    const idToken = { idToken: ID_TAG, type: 'ISO14443' };
    const auth = await call('Authorize', { idToken });
    expect(auth.idTokenInfo.status === 'Accepted', `Authorize: ${JSON.stringify(auth.idTokenInfo)}`);
    const transactionId = 'INTEROP-TX-2';
    const energy = (wh) => [{
        timestamp: now(),
        sampledValue: [{ value: wh, measurand: 'Energy.Active.Import.Register' }],
    }];
    const started = await call('TransactionEvent', {
        eventType: 'Started',
        timestamp: now(),
        triggerReason: 'Authorized',
        seqNo: 0,
        transactionInfo: { transactionId, chargingState: 'Charging' },
        idToken,
        evse: { id: 1, connectorId: 1 },
        meterValue: energy(0),
    });
    if (started.idTokenInfo) {
        expect(started.idTokenInfo.status === 'Accepted', `TransactionEvent Started: ${JSON.stringify(started.idTokenInfo)}`);
    }
    await status('Occupied');
    await call('TransactionEvent', {
        eventType: 'Updated',
        timestamp: now(),
        triggerReason: 'MeterValuePeriodic',
        seqNo: 1,
        transactionInfo: { transactionId, chargingState: 'Charging' },
        meterValue: energy(1500),
    });
    await call('TransactionEvent', {
        eventType: 'Ended',
        timestamp: now(),
        triggerReason: 'StopAuthorized',
        seqNo: 2,
        transactionInfo: { transactionId, chargingState: 'Idle', stoppedReason: 'Local' },
        idToken,
        meterValue: energy(3000),
    });
    await status('Available');
}

async function run({ url, version, callTimeoutMs, stayMs = 0 }) {
    const subprotocol = SUBPROTOCOLS[version];
    const parsed = new URL(url);
    const parts = parsed.pathname.replace(/\/+$/, '').split('/');
    const identity = decodeURIComponent(parts.pop());
    if (!identity) throw new Failure(`no station identity at the end of ${url}`);
    const endpoint = `${parsed.protocol}//${parsed.host}${parts.join('/')}`;

    const failures = [];
    const answered = [];
    const client = new rpc.RPCClient({
        endpoint,
        identity,
        protocols: [subprotocol],
        strictMode: true,
        strictModeValidators: strictModeValidators(),
        reconnect: false,
        callTimeoutMs,
        pingIntervalMs: 0,
    });
    logFrames(client, identity);
    checkDateTimes(client, version, (what) => failures.push(what));
    client.on('strictValidationFailure', (e) => {
        const dir = e.outbound ? 'our' : 'inbound';
        const kind = e.isCall ? 'CALL' : 'CALLRESULT';
        failures.push(`${dir} ${e.method} ${kind} failed validation: ${e.error.message}`);
    });
    let closedEarly = null;
    client.on('disconnect', ({ code, reason }) => { closedEarly = `connection closed: ${code} ${reason}`; });
    for (const [action, handler] of Object.entries(handlers(version))) {
        client.handle(action, (args) => { answered.push(action); return handler(args); });
    }
    client.handle(({ method }) => {
        const payload = minimalResponse(version, method);
        if (payload === undefined) throw rpc.createRPCError('NotImplemented', `${method} is no OCPP ${version} action`);
        answered.push(method);
        return payload;
    });

    try {
        await client.connect();
    } catch (e) {
        throw new Failure(`cannot connect to ${url}: ${e.message}`);
    }
    if (client.protocol !== subprotocol) {
        await client.close({ force: true });
        throw new Failure(`asked for subprotocol ${subprotocol}, server chose ${client.protocol}`);
    }

    const call = async (action, params) => {
        try {
            const result = await client.call(action, params);
            log(`${identity}: ${action} answered validly`);
            return result;
        } catch (e) {
            const what = e.rpcErrorCode ? `${e.rpcErrorCode}: ${e.message}` : e.message;
            throw new Failure(`${action}: CALLERROR, invalid or missing response: ${what}${closedEarly ? ` (${closedEarly})` : ''}`);
        }
    };
    const expect = (ok, what) => { if (!ok) throw new Failure(what); };
    try {
        await (version === '1.6' ? scenario16 : scenario2x)(call, expect);
        // Stay connected, answering the CSMS (for `ocpp probe station`).
        if (stayMs > 0) await new Promise((done) => { setTimeout(done, stayMs); client.once('close', done); });
    } catch (e) {
        if (e instanceof Failure) throw new Failure([...failures, e.message].join('; '));
        throw e;
    } finally {
        await client.close({ code: 1000, awaitPending: true });
    }
    if (failures.length) throw new Failure(failures.join('; '));
    log(`${identity}: answered ${answered.length} call(s) from the CSMS: ${answered.join(', ') || '-'}`);
}

async function main() {
    let opts;
    try {
        ({ values: opts } = parseArgs({
            options: {
                url: { type: 'string' },
                ocpp: { type: 'string' },
                scenario: { type: 'string', default: 'charge' },
                'call-timeout': { type: 'string', default: '15' },
                stay: { type: 'string', default: '0' },
                help: { type: 'boolean', short: 'h' },
            },
        }));
    } catch (e) {
        process.stderr.write(`error: ${e.message}\n`);
        process.exit(2);
    }
    if (opts.help || !opts.url || !SUBPROTOCOLS[opts.ocpp] || opts.scenario !== 'charge') {
        process.stderr.write('usage: station.js --url ws://HOST:PORT/PATH/ID --ocpp 1.6|2.0.1|2.1 [--scenario charge] [--call-timeout SECONDS] [--stay SECONDS]\n');
        process.exit(opts.help ? 0 : 2);
    }
    const version = opts.ocpp;
    try {
        await run({ url: opts.url, version, callTimeoutMs: Number(opts['call-timeout']) * 1000, stayMs: Number(opts.stay) * 1000 });
    } catch (e) {
        process.stderr.write(`station (node ocpp-rpc ${version}): FAIL: ${e instanceof Failure ? e.message : e.stack}\n`);
        process.exit(1);
    }
    process.stdout.write(`station (node ocpp-rpc ${version}): PASS: charge scenario complete\n`);
}

main();
