#!/usr/bin/env node
'use strict';
// A CSMS built on ocpp-rpc 2.2.1 (strict mode) for interop tests.
//
//   csms.js --port P [--host 127.0.0.1] [--ocpp 1.6,2.0.1,2.1] [--once]
//
// Same behaviour as interop/py/csms.py: accepts any station at
// ws://HOST:P/<any path>/<identity> with subprotocol ocpp1.6, ocpp2.0.1 or
// ocpp2.1 (the first in --ocpp order that the station offers), answers every
// station-initiated action with a schema-valid response, and once the station
// has booted calls it (GetConfiguration + ChangeAvailability on 1.6,
// GetVariables + ChangeAvailability on 2.x). The station's first call after
// BootNotification is answered only when those calls are done, so a fast
// station is still connected to answer them.
//
// On each disconnect it prints `RESULT <identity> <version> PASS|FAIL <details>`
// on stdout; PASS needs the whole charge scenario, every inbound call valid,
// and our calls answered validly. With --once it exits after the first
// connection (0 on PASS). Prints `listening on ws://HOST:P` when ready.
// Frames go to stderr.

const { parseArgs } = require('util');
const {
    rpc, SUBPROTOCOLS, VERSION_OF, strictModeValidators, now, minimalResponse, logFrames, checkDateTimes, log,
} = require('./common');

const HEARTBEAT_INTERVAL = 300;
const POST_BOOT_WAIT_MS = 15000;
let nextTransactionId = 2001;

class Session {
    constructor(client, version) {
        this.client = client;
        this.version = version;
        this.id = client.identity;
        this.failures = [];
        this.seen = [];
        this.events = []; // 2.x TransactionEvent [eventType, seqNo, transactionId]
        this.transactions = new Set(); // 1.6 transaction ids handed out
        this.booted = false;
        this.ourCalls = [];
        this.postBootDone = new Promise((resolve) => { this.finishPostBoot = resolve; });
        this.postBootFinished = false;
    }

    fail(what) {
        log(`${this.id}: FAIL ${what}`);
        this.failures.push(what);
    }

    // Hold a station call until our own post-boot calls are answered.
    async hold() {
        if (!this.booted || this.postBootFinished) return;
        let timer;
        const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), POST_BOOT_WAIT_MS); });
        const outcome = await Promise.race([this.postBootDone, timeout]);
        clearTimeout(timer);
        if (outcome === 'timeout') this.fail(`our calls to the station were not answered within ${POST_BOOT_WAIT_MS / 1000}s`);
    }

    async ourCall(action, params, check) {
        let result;
        try {
            result = await this.client.call(action, params);
        } catch (e) {
            this.fail(`our ${action}: CALLERROR, invalid or missing response: ${e.rpcErrorCode || ''} ${e.message}`);
            return;
        }
        const problem = check(result);
        if (problem) this.fail(`our ${action}: ${problem}`);
        else {
            log(`${this.id}: our ${action} answered validly`);
            this.ourCalls.push(action);
        }
    }

    expectedOurCalls() {
        return this.version === '1.6' ? ['GetConfiguration', 'ChangeAvailability'] : ['GetVariables', 'ChangeAvailability'];
    }

    async postBoot() {
        try {
            if (this.version === '1.6') {
                await this.ourCall('GetConfiguration', { key: ['HeartbeatInterval'] },
                    (r) => ((r.configurationKey && r.configurationKey.length) || (r.unknownKey && r.unknownKey.length)
                        ? null : 'neither configurationKey nor unknownKey'));
                await this.ourCall('ChangeAvailability', { connectorId: 0, type: 'Operative' }, () => null);
            } else {
                const wanted = [{ component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } }];
                await this.ourCall('GetVariables', { getVariableData: wanted },
                    (r) => (r.getVariableResult.length === 1 ? null
                        : `${r.getVariableResult.length} results for 1 requested variable`));
                await this.ourCall('ChangeAvailability', { operationalStatus: 'Operative' }, () => null);
            }
        } catch (e) {
            this.fail(`post-boot calls crashed: ${e.stack}`);
        } finally {
            this.postBootFinished = true;
            this.finishPostBoot();
        }
    }

    handlers() {
        const accepted = { status: 'Accepted' };
        const common = {
            BootNotification: ({ messageId }) => {
                this.booted = true;
                this.bootMessageId = messageId;
                return { currentTime: now(), interval: HEARTBEAT_INTERVAL, status: 'Accepted' };
            },
            StatusNotification: () => ({}),
            Heartbeat: () => ({ currentTime: now() }),
        };
        if (this.version === '1.6') {
            return {
                ...common,
                Authorize: () => ({ idTagInfo: accepted }),
                StartTransaction: () => {
                    const transactionId = nextTransactionId++;
                    this.transactions.add(transactionId);
                    return { transactionId, idTagInfo: accepted };
                },
                MeterValues: ({ params }) => {
                    if (params.transactionId !== undefined && !this.transactions.has(params.transactionId)) {
                        this.fail(`MeterValues for unknown transactionId ${params.transactionId}`);
                    }
                    return {};
                },
                StopTransaction: ({ params }) => {
                    if (!this.transactions.has(params.transactionId)) {
                        this.fail(`StopTransaction for unknown transactionId ${params.transactionId}`);
                    }
                    return params.idTag === undefined ? {} : { idTagInfo: accepted };
                },
            };
        }
        return {
            ...common,
            Authorize: () => ({ idTokenInfo: accepted }),
            TransactionEvent: ({ params }) => {
                this.events.push([params.eventType, params.seqNo, params.transactionInfo.transactionId]);
                return params.idToken === undefined ? {} : { idTokenInfo: accepted };
            },
            MeterValues: () => ({}),
        };
    }

    // No Heartbeat: a station sends one after HeartbeatInterval (300 s here) without other
    // traffic (1.6 section 4.6, 2.x G02), which a short session never reaches.
    requiredActions() {
        return this.version === '1.6'
            ? ['BootNotification', 'StatusNotification', 'Authorize', 'StartTransaction', 'MeterValues', 'StopTransaction']
            : ['BootNotification', 'StatusNotification', 'Authorize', 'TransactionEvent'];
    }

    verdict() {
        const problems = [...this.failures];
        if (!this.booted) {
            problems.push('no BootNotification');
            return problems;
        }
        const missing = this.requiredActions().filter((a) => !this.seen.includes(a));
        if (missing.length) problems.push(`scenario incomplete, never called: ${missing.join(', ')}`);
        const expected = this.expectedOurCalls();
        if (JSON.stringify(this.ourCalls) !== JSON.stringify(expected)) {
            problems.push(`our calls answered: ${this.ourCalls.join(',') || '-'}, expected ${expected.join(',')}`);
        }
        if (this.version !== '1.6') {
            const kinds = this.events.map((e) => e[0]);
            if (!kinds.includes('Started')) problems.push('no TransactionEvent Started');
            if (!kinds.includes('Ended')) problems.push('no TransactionEvent Ended');
            if (!kinds.includes('Updated') && !this.seen.includes('MeterValues')) {
                problems.push('no meter values (TransactionEvent Updated or MeterValues)');
            }
            const ids = new Set(this.events.map((e) => e[2]));
            if (ids.size > 1) problems.push(`TransactionEvents with different transactionIds: ${[...ids].join(',')}`);
            const seq = this.events.map((e) => e[1]);
            if (seq.some((s, i) => i > 0 && s <= seq[i - 1])) problems.push(`TransactionEvent seqNo not increasing: ${seq.join(',')}`);
        }
        return problems;
    }

    attach() {
        const { client } = this;
        logFrames(client, this.id);
        checkDateTimes(client, this.version, (what) => this.fail(what));
        client.on('strictValidationFailure', (e) => {
            const dir = e.outbound ? 'our' : 'inbound';
            this.fail(`${dir} ${e.method} ${e.isCall ? 'CALL' : 'CALLRESULT'} failed validation: ${e.error.message}`);
        });
        // Our calls start once the BootNotification's CALLRESULT has gone out.
        client.on('message', ({ message, outbound }) => {
            if (!outbound || this.bootMessageId === undefined || this.postBootStarted) return;
            let frame;
            try { frame = JSON.parse(message); } catch { return; }
            if (frame[0] === 3 && frame[1] === this.bootMessageId) {
                this.postBootStarted = true;
                this.postBoot();
            }
        });
        for (const [action, handler] of Object.entries(this.handlers())) {
            client.handle(action, async (args) => {
                this.seen.push(action);
                if (action !== 'BootNotification') await this.hold();
                return handler(args);
            });
        }
        client.handle(({ method }) => {
            this.seen.push(method);
            const payload = minimalResponse(this.version, method);
            if (payload === undefined) throw rpc.createRPCError('NotImplemented', `${method} is no OCPP ${this.version} action`);
            return payload;
        });
    }
}

async function main() {
    let opts;
    try {
        ({ values: opts } = parseArgs({
            options: {
                port: { type: 'string' },
                host: { type: 'string', default: '127.0.0.1' },
                ocpp: { type: 'string', default: '2.0.1,1.6,2.1' },
                once: { type: 'boolean', default: false },
                help: { type: 'boolean', short: 'h' },
            },
        }));
    } catch (e) {
        process.stderr.write(`error: ${e.message}\n`);
        process.exit(2);
    }
    const versions = (opts.ocpp || '').split(',').map((v) => v.trim()).filter(Boolean);
    if (opts.help || !opts.port || !versions.length || versions.some((v) => !SUBPROTOCOLS[v])) {
        process.stderr.write('usage: csms.js --port P [--host 127.0.0.1] [--ocpp 1.6,2.0.1,2.1] [--once]\n');
        process.exit(opts.help ? 0 : 2);
    }

    const server = new rpc.RPCServer({
        protocols: versions.map((v) => SUBPROTOCOLS[v]),
        strictMode: true,
        strictModeValidators: strictModeValidators(),
        pingIntervalMs: 0,
        callTimeoutMs: POST_BOOT_WAIT_MS,
    });
    const results = [];
    server.on('client', (client) => {
        const version = VERSION_OF[client.protocol];
        log(`${client.identity}: connected with ${client.protocol}`);
        const session = new Session(client, version);
        session.attach();
        client.on('close', ({ code, reason }) => {
            if (code !== 1000 && code !== 1005) session.fail(`connection closed with ${code} ${reason}`);
            const problems = session.verdict();
            results.push(problems.length === 0);
            process.stdout.write(`RESULT ${client.identity} ${version} ${problems.length ? `FAIL ${problems.join('; ')}` : 'PASS'}\n`);
            if (opts.once) {
                server.close({ force: true }).finally(() => process.exit(problems.length ? 1 : 0));
            }
        });
    });
    server.on('upgradeAborted', ({ error, identity }) => log(`${identity}: handshake aborted: ${error && error.message}`));
    await server.listen(Number(opts.port), opts.host);
    process.stdout.write(`listening on ws://${opts.host}:${opts.port}\n`);
}

main().catch((e) => {
    process.stderr.write(`csms: ${e.stack}\n`);
    process.exit(2);
});
