//! Three `ocpp csms --cluster` nodes as separate processes on a real nats-server, a thousand
//! stations spread over them, calls routed to the stations from this process (which holds no
//! station) and from `ocpp call` processes, transaction messages handed to two `ocpp worker`
//! processes, and one node and one worker killed mid-run: every call answered or failed
//! cleanly, every station back on the other nodes, no transaction message the stations were
//! told was accepted missing from the workers' records.

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Csms;
use ocpp_cluster::testing::{NatsServer, wait_until};
use ocpp_cluster::{CallError, Cluster, ClusterConfig};
use ocpp_rpc::{AnyAction, AnyRequest};
use ocpp_rpc_tokio::{ClientConfig, Handlers, connect};
use ocpp_types::{OcppVersion, v201};

const STATIONS: usize = 1000;
/// A station sends a transaction message this often.
const EVENT_EVERY: Duration = Duration::from_secs(3);
/// How long a routed call may wait (the nodes' session timeout is 30 s; a station here
/// answers at once).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

type Acknowledged = Arc<Mutex<HashSet<(String, i64)>>>;

fn identity(i: usize) -> String {
    format!("CS-{i:04}")
}

fn transaction_event(station: &str, seq_no: i64) -> AnyRequest {
    let action = AnyAction::from_name(OcppVersion::V201, "TransactionEvent").expect("2.0.1");
    let json = format!(
        r#"{{"eventType":"Updated","timestamp":"2026-12-02T10:00:00Z","triggerReason":"MeterValuePeriodic","seqNo":{seq_no},"transactionInfo":{{"transactionId":"{station}"}}}}"#
    );
    AnyRequest::decode(action, &json).expect("valid")
}

/// One station: connects to node `i % 3`, sends a TransactionEvent every few seconds (the
/// same seqNo again until it is answered), and on losing its connection reconnects to the
/// next node after a short pause, until `stop`.
async fn station(
    i: usize,
    nodes: Arc<Vec<String>>,
    acknowledged: Acknowledged,
    stop: Arc<AtomicBool>,
) {
    let id = identity(i);
    let mut node = i % nodes.len();
    let mut seq_no = 0;
    // Spread the stations' events over the period.
    let offset = EVENT_EVERY.mul_f64((i % 100) as f64 / 100.0);
    while !stop.load(Ordering::SeqCst) {
        let mut handlers = Handlers::new();
        handlers.on(|_, _: v201::ClearCacheRequest| async {
            Ok(v201::ClearCacheResponse::new(
                v201::ClearCacheStatusEnumType::Accepted,
            ))
        });
        let url = format!("ws://{}/{id}", nodes[node]);
        let mut config = ClientConfig::new(url, [OcppVersion::V201]);
        // Twenty source addresses: a node admits 100 connections per address.
        config.local_address = Some(std::net::IpAddr::from([127, 0, 0, 10 + (i % 20) as u8]));
        let Ok(connection) = connect(&config, handlers).await else {
            node = (node + 1) % nodes.len();
            tokio::time::sleep(Duration::from_millis(200 + (i % 7) as u64 * 100)).await;
            continue;
        };
        tokio::time::sleep(offset).await;
        while !stop.load(Ordering::SeqCst) && !connection.is_closed() {
            match connection.call_any(transaction_event(&id, seq_no)).await {
                Ok(_) => {
                    acknowledged
                        .lock()
                        .expect("lock")
                        .insert((id.clone(), seq_no));
                    seq_no += 1;
                }
                Err(_) if connection.is_closed() => break,
                Err(_) => {}
            }
            tokio::select! {
                () = tokio::time::sleep(EVENT_EVERY) => {}
                () = connection.closed() => {}
            }
        }
        connection.close().await;
        node = (node + 1) % nodes.len();
        tokio::time::sleep(Duration::from_millis(100 + (i % 9) as u64 * 100)).await;
    }
}

/// `ocpp worker` on the cluster, writing what it answers to `record`; killed on drop.
struct WorkerProcess(std::process::Child);

impl WorkerProcess {
    fn start(nats: &str, record: &str) -> WorkerProcess {
        let child = Command::new(env!("CARGO_BIN_EXE_ocpp"))
            .args([
                "worker",
                "--cluster",
                nats,
                "--consumer",
                "transactions",
                "--record",
                record,
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("ocpp worker starts");
        WorkerProcess(child)
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The (station, seqNo) of every TransactionEvent a worker's record holds.
fn recorded(record: &str) -> HashSet<(String, i64)> {
    let text = std::fs::read_to_string(record).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["action"] == "TransactionEvent" && line.get("response").is_some())
        .filter_map(|line| {
            let station = line["station"].as_str()?.to_owned();
            Some((station, line["request"]["seqNo"].as_i64()?))
        })
        .collect()
}

#[derive(Default, Debug)]
struct Tally {
    answered: usize,
    unreachable: usize,
    not_connected: usize,
    timeout: usize,
    failed: usize,
}

/// Routed ClearCache calls to stations in turn, `concurrency` at a time, until `stop`: every
/// one must end within the call timeout, answered or failed with a clean error.
async fn caller(app: Cluster, concurrency: usize, stop: Arc<AtomicBool>) -> Tally {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let lanes = (0..concurrency).map(|lane| {
        let (app, stop, tally) = (app.clone(), stop.clone(), tally.clone());
        tokio::spawn(async move {
            let mut n = lane;
            while !stop.load(Ordering::SeqCst) {
                let id = identity((n * 37) % STATIONS);
                n += concurrency;
                let started = tokio::time::Instant::now();
                let outcome = app.call(&id, v201::ClearCacheRequest::default()).await;
                let took = started.elapsed();
                assert!(
                    took < CALL_TIMEOUT + Duration::from_secs(2),
                    "{id}: {took:?}"
                );
                let mut tally = tally.lock().expect("lock");
                match outcome {
                    Ok(response) => {
                        assert_eq!(response.status, v201::ClearCacheStatusEnumType::Accepted);
                        tally.answered += 1;
                    }
                    Err(CallError::Unreachable { .. }) => tally.unreachable += 1,
                    Err(CallError::NotConnected(_)) => tally.not_connected += 1,
                    Err(CallError::Timeout) => tally.timeout += 1,
                    Err(CallError::Failed(_)) => tally.failed += 1,
                    Err(other) => panic!("{id}: not a clean failure: {other}"),
                }
            }
        })
    });
    for lane in lanes.collect::<Vec<_>>() {
        lane.await.expect("a caller lane");
    }
    Arc::try_unwrap(tally)
        .map(|t| t.into_inner().expect("lock"))
        .unwrap_or_default()
}

/// Where every station is, by node name (`None`: nowhere).
async fn placement(app: &Cluster) -> Vec<Option<String>> {
    let mut placement = Vec::with_capacity(STATIONS);
    for i in 0..STATIONS {
        placement.push(app.locate(&identity(i)).await.expect("presence readable"));
    }
    placement
}

fn ocpp_call(nats: &str, station: &str, payload: &str) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .args([
            "call",
            "--cluster",
            nats,
            "--station",
            station,
            "--ocpp",
            "2.0.1",
        ])
        .args(["--timeout", "5", "ClearCache", payload])
        .output()
        .expect("ocpp call runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_a_thousand_stations_routed_calls_a_node_and_a_worker_killed() {
    let _ = ocpp_rpc_tokio::raise_open_file_limit(4 * STATIONS);
    let nats = NatsServer::start().await.expect("nats-server");
    let url = nats.url().to_owned();
    let mut nodes: Vec<Csms> = ["n1", "n2", "n3"]
        .iter()
        .map(|name| {
            Csms::start(&[
                "--ocpp",
                "2.0.1",
                "--cluster",
                &url,
                "--node",
                name,
                "--handoff",
                "TransactionEvent",
                "--presence-ttl",
                "4",
            ])
        })
        .collect();
    // Their transcripts are read (into memory), so a full pipe never stops a node.
    let _transcripts: Vec<_> = nodes.iter_mut().map(Csms::lines).collect();
    let addresses = Arc::new(nodes.iter().map(|n| n.addr.clone()).collect::<Vec<_>>());

    let mut config = ClusterConfig::default();
    config.call_timeout = CALL_TIMEOUT;
    let app = Cluster::connect(&url, config)
        .await
        .expect("the application joins");
    let records = common::TempDir::new("cluster-workers");
    std::fs::create_dir_all(&records.0).expect("a directory for the records");
    let record = |n: usize| {
        records
            .0
            .join(format!("worker-{n}.jsonl"))
            .display()
            .to_string()
    };
    let mut workers = vec![
        WorkerProcess::start(&url, &record(1)),
        WorkerProcess::start(&url, &record(2)),
    ];

    let acknowledged = Acknowledged::default();
    let stop_stations = Arc::new(AtomicBool::new(false));
    let stations: Vec<_> = (0..STATIONS)
        .map(|i| {
            tokio::spawn(station(
                i,
                addresses.clone(),
                acknowledged.clone(),
                stop_stations.clone(),
            ))
        })
        .collect();

    // Every station connected and present, spread over the three nodes.
    let everywhere = wait_until(Duration::from_secs(90), || async {
        placement(&app).await.iter().all(Option::is_some)
    })
    .await;
    let present = placement(&app).await.iter().filter(|p| p.is_some()).count();
    assert!(everywhere, "{present} of {STATIONS} stations present");
    let on_n2 = placement(&app)
        .await
        .iter()
        .filter(|p| p.as_deref() == Some("n2"))
        .count();
    assert!(on_n2 > STATIONS / 4, "{on_n2} stations on n2");

    // Routed calls from here throughout; n2 is killed (SIGKILL) a few seconds in.
    let stop_calls = Arc::new(AtomicBool::new(false));
    let calls = tokio::spawn(caller(app.clone(), 16, stop_calls.clone()));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let acknowledged_before = acknowledged.lock().expect("lock").len();
    drop(nodes.remove(1));
    // And a worker: what it took and did not acknowledge goes to the other (after the ack
    // wait), or the stations send it again.
    drop(workers.remove(0));

    // Its stations come back on n1 and n3.
    let moved = wait_until(Duration::from_secs(60), || async {
        placement(&app)
            .await
            .iter()
            .all(|p| matches!(p.as_deref(), Some("n1" | "n3")))
    })
    .await;
    assert!(moved, "stations still on n2 or nowhere");
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop_calls.store(true, Ordering::SeqCst);
    let tally = calls.await.expect("the caller");
    assert!(tally.answered > 100, "{tally:?}");

    // Now every station answers a routed call.
    for chunk in (0..STATIONS).collect::<Vec<_>>().chunks(50) {
        let calls: Vec<_> = chunk
            .iter()
            .map(|&i| {
                let app = app.clone();
                tokio::spawn(async move {
                    app.call(&identity(i), v201::ClearCacheRequest::default())
                        .await
                })
            })
            .collect();
        for (call, i) in calls.into_iter().zip(chunk) {
            let answer = call.await.expect("task");
            assert!(answer.is_ok(), "{}: {answer:?}", identity(*i));
        }
    }

    // From other processes: `ocpp call`.
    let (code, stdout) = ocpp_call(&url, &identity(7), "{}");
    assert_eq!(code, Some(0));
    assert!(stdout.contains(r#""status":"Accepted""#), "{stdout}");
    assert_eq!(ocpp_call(&url, "CS-NONE", "{}").0, Some(3));
    assert_eq!(ocpp_call(&url, &identity(7), r#"{"extra":1}"#).0, Some(2));

    // The stations stop; no transaction message they were told was accepted is missing from
    // what the worker processed, and transactions went on after the kill.
    stop_stations.store(true, Ordering::SeqCst);
    for station in stations {
        let _ = tokio::time::timeout(Duration::from_secs(40), station).await;
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    drop(workers);
    let processed: HashSet<_> = recorded(&record(1))
        .union(&recorded(&record(2)))
        .cloned()
        .collect();
    let lost: Vec<_> = acknowledged.difference(&processed).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged but never processed: {lost:?}",
        lost.len()
    );
    assert!(
        acknowledged.len() > acknowledged_before + STATIONS / 2,
        "{} acknowledged, {acknowledged_before} before the kill",
        acknowledged.len()
    );
    println!(
        "routed calls during the kill: {tally:?}; transaction messages acknowledged: {}",
        acknowledged.len()
    );
}
