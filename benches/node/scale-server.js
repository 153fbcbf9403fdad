#!/usr/bin/env node
'use strict';
// The Node peer of benches/src/bin/scale.rs: a CSMS on ocpp-rpc 2.2.1 (strict mode, OCPP
// 2.0.1), as WORKERS single-threaded processes sharing PORT (ws://) and PORT+1 (wss://) through
// Node's cluster module, answering what the scale bench's stations send.
//
//   scale-server.js PORT WORKERS CERT KEY
//
// Prints `ready PRIMARY_PID WORKER_PID...` once every worker listens. Pings are off, as for
// the ocpp-rs CSMS in the same bench.

const cluster = require('cluster');
const fs = require('fs');
const http = require('http');
const https = require('https');

const [port, workers, cert, key] = process.argv.slice(2);
const HEARTBEAT = 60;

if (cluster.isPrimary) {
    let ready = 0;
    for (let i = 0; i < Number(workers); i++) cluster.fork();
    cluster.on('message', (worker, message) => {
        if (message === 'ready' && ++ready === Number(workers)) {
            const pids = Object.values(cluster.workers).map((w) => w.process.pid);
            console.log(`ready ${process.pid} ${pids.join(' ')}`);
        }
    });
    cluster.on('exit', (worker, code, signal) => {
        process.stderr.write(`worker ${worker.process.pid} ended (${signal || code})\n`);
    });
} else {
    const { rpc } = require('../../interop/node/common');
    const server = new rpc.RPCServer({
        protocols: ['ocpp2.0.1'],
        strictMode: true,
        pingIntervalMs: 0,
    });
    const now = () => new Date().toISOString();
    server.on('client', (client) => {
        client.handle('BootNotification', () => ({ currentTime: now(), interval: HEARTBEAT, status: 'Accepted' }));
        client.handle('Heartbeat', () => ({ currentTime: now() }));
        client.handle('TransactionEvent', () => ({}));
        client.handle('MeterValues', () => ({}));
    });
    const plain = http.createServer();
    const secure = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
    let listening = 0;
    const listened = () => { if (++listening === 2) process.send('ready'); };
    for (const [httpServer, p] of [[plain, Number(port)], [secure, Number(port) + 1]]) {
        httpServer.on('upgrade', server.handleUpgrade);
        httpServer.listen({ port: p, host: '127.0.0.1', backlog: 4096 }, listened);
    }
}
