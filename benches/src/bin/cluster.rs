//! The cluster's cost: a call to a station from the node holding it (local) against the same
//! call routed through NATS (request-reply through nats-server to the holder and back), one at
//! a time (latency) and many at once (throughput); and station calls (TransactionEvent)
//! answered by the node's own handler against the same calls handed to a worker through
//! JetStream (stored, then answered), many stations sending at once.
//!
//! `cd benches && cargo run --release --bin cluster -- [STATIONS] [CALLS] [SECONDS] [CONCURRENCY]`
//! (defaults 200, 5000, 10, 64). Needs nats-server (`bash ocpp-cluster/nats-server.sh`). Everything
//! runs on this box: nats-server in its own process; the node, the stations and the caller in
//! this one, the caller on a NATS connection of its own, as an application process would be.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ocpp_cluster::testing::{NatsServer, wait_until};
use ocpp_cluster::{Cluster, ClusterConfig, Node, NodeConfig, Worker};
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse};
use ocpp_rpc_tokio::{ClientConfig, Connection, Handlers, Server, ServerConfig, connect};
use ocpp_rs_benches::quantile_ms;
use ocpp_types::{OcppVersion, v201};

/// A call through either path.
#[derive(Clone)]
enum Path {
    Local(Node),
    Routed(Cluster),
}

impl Path {
    async fn call(&self, identity: &str) -> bool {
        let request = AnyRequest::from_message(v201::ClearCacheRequest::default());
        match self {
            Path::Local(node) => node.call_any(identity, request).await.is_ok(),
            Path::Routed(cluster) => cluster.call_any(identity, request).await.is_ok(),
        }
    }
}

fn identity(i: usize) -> String {
    format!("CS-{i:04}")
}

fn transaction_event() -> AnyRequest {
    let action = AnyAction::from_name(OcppVersion::V201, "TransactionEvent");
    let json = ocpp_rs_benches::transaction_event();
    match action.map(|a| AnyRequest::decode(a, &json)) {
        Some(Ok(request)) => request,
        _ => unreachable!("the bench's TransactionEvent is valid"),
    }
}

/// `stations` connected to `url_of(i)` send TransactionEvents one after another for
/// `seconds`: answered calls per second, and how many failed.
async fn station_calls(
    url_of: impl Fn(usize) -> String,
    stations: usize,
    seconds: u64,
) -> Result<(f64, u64), Box<dyn std::error::Error>> {
    let mut connections = Vec::with_capacity(stations);
    for i in 0..stations {
        connections.push(
            connect(
                &ClientConfig::new(url_of(i), [OcppVersion::V201]),
                Handlers::new(),
            )
            .await?,
        );
    }
    let answered = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let senders: Vec<_> = connections
        .iter()
        .cloned()
        .map(|connection| {
            let (answered, failed) = (answered.clone(), failed.clone());
            tokio::spawn(async move {
                while Instant::now() < end {
                    match connection.call_any(transaction_event()).await {
                        Ok(_) => answered.fetch_add(1, Ordering::Relaxed),
                        Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for sender in senders {
        let _ = sender.await;
    }
    let rate = answered.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    for connection in connections {
        connection.close().await;
    }
    Ok((rate, failed.load(Ordering::Relaxed)))
}

/// The worker of the handed-off calls: answers each at once, each in a task of its own (as a
/// worker that stores them in a database would).
async fn worker(cluster: Cluster) {
    let Ok(mut worker) = Worker::join(&cluster, "bench").await else {
        return;
    };
    while let Some(job) = worker.next().await {
        if let Ok(job) = job {
            tokio::spawn(job.answer(AnyResponse::from_message(
                v201::TransactionEventResponse::default(),
            )));
        }
    }
}

/// `calls` calls one after another over the stations: p50 and p99 in ms.
async fn latency(path: &Path, stations: usize, calls: usize) -> (f64, f64, usize) {
    let mut micros = Vec::with_capacity(calls);
    let mut failed = 0;
    for n in 0..calls {
        let started = Instant::now();
        if !path.call(&identity(n % stations)).await {
            failed += 1;
        }
        micros.push(started.elapsed().as_micros() as u64);
    }
    micros.sort_unstable();
    (
        quantile_ms(&micros, 0.5),
        quantile_ms(&micros, 0.99),
        failed,
    )
}

/// `concurrency` callers for `seconds`: answered calls per second.
async fn throughput(path: &Path, stations: usize, seconds: u64, concurrency: usize) -> (f64, u64) {
    let answered = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let lanes: Vec<_> = (0..concurrency)
        .map(|lane| {
            let (path, answered, failed) = (path.clone(), answered.clone(), failed.clone());
            tokio::spawn(async move {
                let mut n = lane;
                while Instant::now() < end {
                    if path.call(&identity(n % stations)).await {
                        answered.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    n += concurrency;
                }
            })
        })
        .collect();
    for lane in lanes {
        let _ = lane.await;
    }
    let rate = answered.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    (rate, failed.load(Ordering::Relaxed))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let arg = |i: usize, default: usize| args.get(i).copied().unwrap_or(default);
    let (stations, calls, seconds, concurrency) =
        (arg(0, 200), arg(1, 5000), arg(2, 10) as u64, arg(3, 64));

    let nats = NatsServer::start().await?;
    let cluster = Cluster::connect(nats.url(), ClusterConfig::default()).await?;
    let node = Node::join(&cluster, NodeConfig::new("a")?).await?;
    let mut config = ServerConfig::default();
    config.limits.max_connections_per_address = usize::MAX;
    config.limits.messages_per_second = u32::MAX / 2;
    config.limits.message_burst = u32::MAX / 2;
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::TransactionEventRequest| async {
        Ok(v201::TransactionEventResponse::default())
    });
    let server = Server::bind("127.0.0.1:0", config.clone(), node.handlers(handlers)).await?;
    let server = node.attach(server).start()?;
    // Node h hands TransactionEvent to the worker.
    let handing = Cluster::connect(nats.url(), ClusterConfig::default()).await?;
    let event = AnyAction::from_name(OcppVersion::V201, "TransactionEvent").ok_or("2.0.1")?;
    let h = Node::join(&handing, NodeConfig::new("h")?.handoff([event])).await?;
    let h_server = Server::bind("127.0.0.1:0", config, h.handlers(Handlers::new())).await?;
    let h_server = h.attach(h_server).start()?;
    tokio::spawn(worker(
        Cluster::connect(nats.url(), ClusterConfig::default()).await?,
    ));

    let mut held: Vec<Connection> = Vec::with_capacity(stations);
    for i in 0..stations {
        let mut handlers = Handlers::new();
        handlers.on(|_, _: v201::ClearCacheRequest| async {
            Ok(v201::ClearCacheResponse::new(
                v201::ClearCacheStatusEnumType::Accepted,
            ))
        });
        let url = format!("ws://{}/{}", server.local_addr(), identity(i));
        held.push(connect(&ClientConfig::new(url, [OcppVersion::V201]), handlers).await?);
    }
    // The application: its own NATS connection, no station.
    let app = Cluster::connect(nats.url(), ClusterConfig::default()).await?;
    let present = wait_until(Duration::from_secs(30), || async {
        app.locate(&identity(stations - 1))
            .await
            .ok()
            .flatten()
            .is_some()
    });
    if !present.await {
        return Err("the stations' presence was not written".into());
    }

    let local = Path::Local(node.clone());
    let routed = Path::Routed(app);
    // Warm both paths up.
    latency(&local, stations, calls / 10).await;
    latency(&routed, stations, calls / 10).await;
    let (local_p50, local_p99, local_failed) = latency(&local, stations, calls).await;
    let (routed_p50, routed_p99, routed_failed) = latency(&routed, stations, calls).await;
    let (local_rate, local_lost) = throughput(&local, stations, seconds, concurrency).await;
    let (routed_rate, routed_lost) = throughput(&routed, stations, seconds, concurrency).await;

    for connection in held {
        connection.close().await;
    }
    let a_addr = server.local_addr();
    let h_addr = h_server.local_addr();
    let (here_rate, here_failed) =
        station_calls(|i| format!("ws://{a_addr}/TX-{i}"), concurrency, seconds).await?;
    let (handed_rate, handed_failed) =
        station_calls(|i| format!("ws://{h_addr}/TX-{i}"), concurrency, seconds).await?;

    println!(
        "{stations} stations on one node; {calls} calls one at a time; {concurrency} at once for {seconds} s\n"
    );
    println!(
        "| | local (the node holding the station) | routed (through nats-server) | routed / local |"
    );
    println!("|---|---|---|---|");
    println!(
        "| p50 | {local_p50:.3} ms | {routed_p50:.3} ms | {:.2}x |",
        routed_p50 / local_p50
    );
    println!(
        "| p99 | {local_p99:.3} ms | {routed_p99:.3} ms | {:.2}x |",
        routed_p99 / local_p99
    );
    println!(
        "| calls/s, {concurrency} at once | {local_rate:.0} | {routed_rate:.0} | {:.2}x |",
        routed_rate / local_rate
    );
    println!(
        "| TransactionEvent/s from {concurrency} stations | {here_rate:.0} (node's handler) | {handed_rate:.0} (stored in JetStream, answered by a worker) | {:.2}x |",
        handed_rate / here_rate
    );
    println!(
        "\nfailed: local {}, routed {}, station calls here {here_failed}, handed off {handed_failed}",
        local_failed as u64 + local_lost,
        routed_failed as u64 + routed_lost
    );
    server.shutdown(Duration::from_secs(1)).await;
    h_server.shutdown(Duration::from_secs(1)).await;
    Ok(())
}
