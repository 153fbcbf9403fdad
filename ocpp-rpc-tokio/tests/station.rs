//! The station runner against the crate's own server, over real sockets, in every version: a
//! charging session reaches the CSMS in order; a CSMS that goes away mid-transaction and
//! comes back on the same port gets everything the station queued meanwhile; a runner dropped
//! mid-session (a power cut) leaves a store from which the next one ends the transaction with
//! `PowerLoss`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocpp_rpc::handshake::RetryBackOff;
use ocpp_rpc::{AnyResponse, ErrorCode, RpcError};
use ocpp_rpc_tokio::{
    ClientConfig, Handlers, RunnerEvent, RunningServer, Server, ServerConfig, StationHandle,
    StationInput, StationRunner, Stopped,
};
use ocpp_station::store::{FileStore, MemoryStore, Store, SyncMode};
use ocpp_station::{
    BootInfo, ConnectorId, Hardware, IdToken, Reading, ResetKind, StationConfig, StationEvent,
    StopReason, UnlockResult,
};
use ocpp_types::{DateTime, OcppVersion};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const VERSIONS: [OcppVersion; 3] = [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21];
const LIMIT: Duration = Duration::from_secs(20);

/// One call the CSMS received: the station's identity, the action, the payload.
#[derive(Debug, Clone, PartialEq)]
struct Received {
    identity: String,
    action: String,
    payload: Value,
}

/// The CSMS's memory, shared by every server started on it (so it survives a restart).
#[derive(Default)]
struct Memory {
    received: Vec<Received>,
    /// 1.6: the transactionId given to each StartTransaction payload (a retransmission
    /// gets the same one).
    start_ids: HashMap<String, i64>,
}

type Shared = Arc<Mutex<Memory>>;

fn answer(memory: &Shared, identity: &str, action: &str, payload: &Value) -> Value {
    let time = DateTime::now().to_string();
    let accepted = json!({"status": "Accepted"});
    match action {
        "BootNotification" => json!({"currentTime": time, "interval": 300, "status": "Accepted"}),
        "Heartbeat" => json!({"currentTime": time}),
        "Authorize" if payload.get("idTag").is_some() => json!({"idTagInfo": accepted}),
        "Authorize" => json!({"idTokenInfo": accepted}),
        "StartTransaction" => {
            let mut memory = memory.lock().unwrap();
            let key = format!("{identity} {payload}");
            let next = 1000 + memory.start_ids.len() as i64;
            let id = *memory.start_ids.entry(key).or_insert(next);
            json!({"transactionId": id, "idTagInfo": accepted})
        }
        "StopTransaction" if payload.get("idTag").is_some() => json!({"idTagInfo": accepted}),
        "TransactionEvent" if payload.get("idToken").is_some() => json!({"idTokenInfo": accepted}),
        _ => json!({}),
    }
}

/// A CSMS on `addr` that records every call and answers it validly.
async fn csms(addr: SocketAddr, memory: Shared) -> RunningServer {
    let mut handlers = Handlers::new();
    handlers.fallback(move |connection, request| {
        let memory = memory.clone();
        async move {
            let action = request.action();
            let payload = serde_json::to_value(&request).unwrap();
            let identity = connection.identity().to_owned();
            memory.lock().unwrap().received.push(Received {
                identity: identity.clone(),
                action: action.as_str().to_owned(),
                payload: payload.clone(),
            });
            let answer = answer(&memory, &identity, action.as_str(), &payload);
            AnyResponse::decode(action, &answer.to_string())
                .map_err(|e| RpcError::new(ErrorCode::InternalError, e.to_string()))
        }
    });
    // The port may still be held for a moment after a shutdown.
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        match Server::bind(addr, ServerConfig::default(), handlers.clone()).await {
            Ok(server) => return server.start().unwrap(),
            Err(error) if tokio::time::Instant::now() < deadline => {
                eprintln!("bind {addr}: {error}; again");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("bind {addr}: {error}"),
        }
    }
}

/// Hardware that remembers the power path's state.
#[derive(Debug, Default)]
struct Relay {
    energy: HashMap<ConnectorId, bool>,
}

impl Hardware for Relay {
    fn set_energy(&mut self, connector: ConnectorId, on: bool) {
        self.energy.insert(connector, on);
    }
    fn unlock(&mut self, _: ConnectorId) -> UnlockResult {
        UnlockResult::Unlocked
    }
    fn reset(&mut self, _: ResetKind) {}
}

fn station_config(version: OcppVersion) -> StationConfig {
    let boot = BootInfo {
        vendor: "ocpp-rs".into(),
        model: "runner-test".into(),
        serial_number: None,
        firmware_version: None,
    };
    let mut config = StationConfig::new(version, boot, 1);
    config.variables.sample_interval = 1;
    config.variables.offline_tx_for_unknown_id = true;
    config.session.call_timeout_ms = 5_000;
    config
}

fn client_config(addr: SocketAddr, identity: &str) -> ClientConfig {
    let mut client = ClientConfig::new(format!("ws://{addr}/ocpp/{identity}"), [OcppVersion::V201]);
    client.connect_timeout = Duration::from_secs(5);
    client
}

/// Reconnections a test need not wait for (the station's variables count whole seconds).
const FAST: RetryBackOff = RetryBackOff {
    wait_minimum: Duration::from_millis(100),
    random_range: Duration::from_millis(100),
    repeat_times: 2,
};

/// What the test sees of a runner: each event with the station's queue and transaction
/// counts right after it.
struct Seen {
    events: mpsc::UnboundedReceiver<(String, usize, usize)>,
    log: Vec<String>,
}

impl Seen {
    /// Waits for an event whose text contains `wanted` (and, with `idle`, after which the
    /// station has no transaction and nothing queued).
    async fn until(&mut self, wanted: &str, idle: bool) {
        let found = tokio::time::timeout(LIMIT, async {
            while let Some((event, queued, transactions)) = self.events.recv().await {
                self.log
                    .push(format!("{event} [{queued} queued, {transactions} tx]"));
                if event.contains(wanted) && (!idle || (queued == 0 && transactions == 0)) {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(
            matches!(found, Ok(true)),
            "no {wanted:?} (idle: {idle}); saw:\n{}",
            self.log.join("\n")
        );
    }
}

fn new_runner<S: Store + Send + 'static>(
    client: ClientConfig,
    version: OcppVersion,
    store: S,
) -> (StationRunner<Relay, S>, Seen)
where
    S::Error: Send,
{
    let (tx, events) = mpsc::unbounded_channel();
    let runner = StationRunner::new(client, station_config(version), Relay::default(), store)
        .unwrap()
        .backoff(FAST)
        .on_event(move |station, event| {
            let text = match event {
                RunnerEvent::Station(event) => format!("{event:?}"),
                other => format!("{other:?}"),
            };
            let _ = tx.send((text, station.queued(), station.transactions()));
        });
    (
        runner,
        Seen {
            events,
            log: Vec::new(),
        },
    )
}

/// Plugs in, presents `token`, and lets the meter run for `ms` (a reading every 100 ms).
async fn charge(handle: &StationHandle, token: &str, energy: &mut f64, ms: u64) {
    handle.send(StationInput::PlugIn(1)).await.unwrap();
    handle
        .send(StationInput::PresentToken(1, IdToken::rfid(token)))
        .await
        .unwrap();
    meter(handle, energy, ms).await;
}

async fn meter(handle: &StationHandle, energy: &mut f64, ms: u64) {
    for _ in 0..ms / 100 {
        *energy += 10.0;
        let reading = Reading {
            energy_wh: *energy,
            power_w: 7400.0,
        };
        handle.send(StationInput::Meter(1, reading)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The transaction-related messages `identity` sent, retransmissions (the same payload
/// again) counted and left out, in arrival order.
fn transaction_messages(memory: &Shared, identity: &str) -> (Vec<(String, Value)>, usize) {
    let memory = memory.lock().unwrap();
    let mut messages: Vec<(String, Value)> = Vec::new();
    let mut duplicates = 0;
    for r in &memory.received {
        let tx = matches!(
            r.action.as_str(),
            "StartTransaction" | "StopTransaction" | "MeterValues" | "TransactionEvent"
        );
        if r.identity != identity || !tx {
            continue;
        }
        let message = (r.action.clone(), r.payload.clone());
        if messages.contains(&message) {
            duplicates += 1;
        } else {
            messages.push(message);
        }
    }
    (messages, duplicates)
}

/// Checks one transaction's messages: in order, complete, and ended as `reason` says;
/// returns how many meter samples it carried.
fn check_transaction(
    version: OcppVersion,
    memory: &Shared,
    messages: &[(String, Value)],
    reason: &str,
) -> usize {
    let actions: Vec<&str> = messages.iter().map(|(a, _)| a.as_str()).collect();
    if version == OcppVersion::V16 {
        assert_eq!(actions.first(), Some(&"StartTransaction"), "{actions:?}");
        assert_eq!(actions.last(), Some(&"StopTransaction"), "{actions:?}");
        let samples = &actions[1..actions.len() - 1];
        assert!(samples.iter().all(|a| *a == "MeterValues"), "{actions:?}");
        let start = &messages[0].1;
        let given = memory
            .lock()
            .unwrap()
            .start_ids
            .values()
            .copied()
            .collect::<Vec<_>>();
        let id = messages[1].1["transactionId"].as_i64().unwrap();
        assert!(given.contains(&id), "{id} was given by the CSMS: {given:?}");
        for (_, payload) in &messages[1..] {
            assert_eq!(payload["transactionId"], id, "{payload}");
        }
        let stop = &messages[messages.len() - 1].1;
        assert_eq!(stop["reason"], reason, "{stop}");
        assert!(stop["meterStop"].as_i64() >= start["meterStart"].as_i64());
        samples.len()
    } else {
        assert!(
            actions.iter().all(|a| *a == "TransactionEvent"),
            "{actions:?}"
        );
        let kinds: Vec<(&str, i64)> = messages
            .iter()
            .map(|(_, p)| {
                (
                    p["eventType"].as_str().unwrap(),
                    p["seqNo"].as_i64().unwrap(),
                )
            })
            .collect();
        for (expected, (_, seq)) in kinds.iter().enumerate() {
            assert_eq!(*seq, expected as i64, "seqNo contiguous from 0: {kinds:?}");
        }
        assert_eq!(kinds[0].0, "Started", "{kinds:?}");
        assert_eq!(kinds[kinds.len() - 1].0, "Ended", "{kinds:?}");
        assert!(
            kinds[1..kinds.len() - 1]
                .iter()
                .all(|(k, _)| *k == "Updated"),
            "{kinds:?}"
        );
        let id = &messages[0].1["transactionInfo"]["transactionId"];
        assert!(
            messages
                .iter()
                .all(|(_, p)| p["transactionInfo"]["transactionId"] == *id)
        );
        let end = &messages[messages.len() - 1].1;
        assert_eq!(end["transactionInfo"]["stoppedReason"], reason, "{end}");
        kinds.len() - 2
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "ocpp-rpc-tokio-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn identity(test: &str, version: OcppVersion) -> String {
    format!("{test}-{}", version.to_string().replace('.', ""))
}

async fn a_session(addr: SocketAddr, memory: Shared, version: OcppVersion) {
    let id = identity("SESSION", version);
    let (runner, mut seen) = new_runner(client_config(addr, &id), version, MemoryStore::new());
    let handle = runner.handle();
    let task = tokio::spawn(runner.run());
    seen.until("Connected", false).await;
    seen.until("Registration(Accepted)", false).await;
    let mut energy = 1000.0;
    charge(&handle, "TAG-1", &mut energy, 2500).await;
    seen.until("TransactionStarted", false).await;
    handle.send(StationInput::Unplug(1)).await.unwrap();
    seen.until("TransactionEnded", false).await;
    seen.until("Delivered", true).await;
    // The connector's status after the unplug follows the transaction's end on the wire.
    let after_end = || {
        let memory = memory.lock().unwrap();
        let mine: Vec<&str> = memory
            .received
            .iter()
            .filter(|r| r.identity == id)
            .map(|r| r.action.as_str())
            .collect();
        let end = mine
            .iter()
            .rposition(|a| *a == "StopTransaction" || *a == "TransactionEvent");
        let status = mine.iter().rposition(|a| *a == "StatusNotification");
        matches!((end, status), (Some(end), Some(status)) if status > end)
    };
    let waited = tokio::time::timeout(LIMIT, async {
        while !after_end() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "{version}: no status after the transaction's end"
    );
    handle.stop();
    let Stopped { station, .. } = tokio::time::timeout(LIMIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(station.hardware().energy.get(&1), Some(&false));
    let (messages, duplicates) = transaction_messages(&memory, &id);
    assert_eq!(duplicates, 0, "{version}: {messages:?}");
    let samples = check_transaction(version, &memory, &messages, "EVDisconnected");
    assert!(samples >= 2, "{version}: {samples} samples in 2.5 s at 1 s");
    // The rest of the session, in order, before and after the transaction.
    let memory = memory.lock().unwrap();
    let actions: Vec<&str> = memory
        .received
        .iter()
        .filter(|r| r.identity == id)
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(actions[0], "BootNotification", "{version}: {actions:?}");
    let authorize = actions.iter().position(|a| *a == "Authorize").unwrap();
    let start = actions
        .iter()
        .position(|a| *a == "StartTransaction" || *a == "TransactionEvent")
        .unwrap();
    assert!(authorize < start, "{version}: {actions:?}");
    // The connector's status changes are reported around the transaction.
    let last_status = actions
        .iter()
        .rposition(|a| *a == "StatusNotification")
        .unwrap();
    assert!(start < last_status, "{version}: {actions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charging_session_reaches_the_csms_in_order() {
    let memory = Shared::default();
    let server = csms("127.0.0.1:0".parse().unwrap(), memory.clone()).await;
    let addr = server.local_addr();
    let sessions = VERSIONS.map(|v| tokio::spawn(a_session(addr, memory.clone(), v)));
    for session in sessions {
        session.await.unwrap();
    }
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_drains_after_the_csms_comes_back() {
    let memory = Shared::default();
    let server = csms("127.0.0.1:0".parse().unwrap(), memory.clone()).await;
    let addr = server.local_addr();
    let mut runs = Vec::new();
    let mut handles = Vec::new();
    for version in VERSIONS {
        let id = identity("OUTAGE", version);
        let (runner, seen) = new_runner(client_config(addr, &id), version, MemoryStore::new());
        handles.push(runner.handle());
        runs.push((version, id, tokio::spawn(runner.run()), seen));
    }
    for (_, _, _, seen) in &mut runs {
        seen.until("Registration(Accepted)", false).await;
    }
    let mut energy = [1000.0; 3];
    for (handle, energy) in handles.iter().zip(&mut energy) {
        handle.send(StationInput::PlugIn(1)).await.unwrap();
        handle
            .send(StationInput::PresentToken(1, IdToken::rfid("TAG-2")))
            .await
            .unwrap();
        *energy += 10.0;
    }
    for (_, _, _, seen) in &mut runs {
        seen.until("TransactionStarted", false).await;
    }
    // The CSMS goes away mid-transaction: the stations go on charging, offline.
    server.shutdown(Duration::from_millis(200)).await;
    for (_, _, _, seen) in &mut runs {
        seen.until("Disconnected", false).await;
    }
    for _ in 0..25 {
        for (handle, energy) in handles.iter().zip(&mut energy) {
            *energy += 10.0;
            let reading = Reading {
                energy_wh: *energy,
                power_w: 7400.0,
            };
            handle.send(StationInput::Meter(1, reading)).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The driver leaves while the CSMS is still away: the end is queued too.
    for handle in &handles {
        handle
            .send(StationInput::PresentToken(1, IdToken::rfid("TAG-2")))
            .await
            .unwrap();
    }
    for (_, _, _, seen) in &mut runs {
        seen.until("TransactionEnded", false).await;
    }
    let received_while_away = memory.lock().unwrap().received.len();
    // The CSMS comes back on the same port: every queued message reaches it.
    let server = csms(addr, memory.clone()).await;
    for (version, id, task, mut seen) in runs {
        seen.until("Connected", false).await;
        seen.until("Delivered", true).await;
        let (messages, _duplicates) = transaction_messages(&memory, &id);
        let samples = check_transaction(version, &memory, &messages, "Local");
        assert!(samples >= 2, "{version}: {samples} samples stored offline");
        if version != OcppVersion::V16 {
            let offline: Vec<&Value> = messages.iter().map(|(_, p)| &p["offline"]).collect();
            assert_eq!(
                offline.last(),
                Some(&&json!(true)),
                "{version}: ended offline"
            );
            assert!(
                offline.iter().filter(|o| ***o == json!(true)).count() >= 3,
                "{version}: samples and the end were made offline: {offline:?}"
            );
        }
        task.abort();
    }
    assert!(memory.lock().unwrap().received.len() > received_while_away);
    server.shutdown(Duration::from_secs(1)).await;
}

async fn a_power_cut(addr: SocketAddr, memory: Shared, version: OcppVersion) {
    let id = identity("POWERCUT", version);
    let dir = TempDir::new(&id);
    let store = FileStore::open_with(&dir.0, SyncMode::Data).unwrap();
    let (runner, mut seen) = new_runner(client_config(addr, &id), version, store);
    let handle = runner.handle();
    let task = tokio::spawn(runner.run());
    seen.until("Registration(Accepted)", false).await;
    let mut energy = 500.0;
    charge(&handle, "TAG-3", &mut energy, 1500).await;
    seen.until("TransactionStarted", false).await;
    // Power cut: the runner and everything it held are gone at once.
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());

    let store = FileStore::open(&dir.0).unwrap();
    let (mut runner, mut seen) = new_runner(client_config(addr, &id), version, store);
    // The restore's events are ready before the runner runs.
    let restored: Vec<StationEvent> =
        std::iter::from_fn(|| runner.station_mut().poll_event()).collect();
    assert!(
        matches!(
            restored.as_slice(),
            [StationEvent::TransactionEnded {
                connector: 1,
                reason: StopReason::PowerLoss,
                ..
            }]
        ),
        "{version}: {restored:?}"
    );
    assert!(runner.station().queued() > 0);
    let handle = runner.handle();
    let task = tokio::spawn(runner.run());
    seen.until("Delivered", true).await;
    handle.stop();
    let stopped = tokio::time::timeout(LIMIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(stopped.station.queued(), 0);
    let (messages, _duplicates) = transaction_messages(&memory, &id);
    check_transaction(version, &memory, &messages, "PowerLoss");
    // A third start finds nothing left to do.
    drop(stopped);
    let store = FileStore::open(&dir.0).unwrap();
    let (mut runner, _seen) = new_runner(client_config(addr, &id), version, store);
    assert_eq!(runner.station_mut().poll_event(), None);
    assert_eq!(
        (runner.station().queued(), runner.station().transactions()),
        (0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_dropped_mid_session_ends_the_transaction_with_power_loss() {
    let memory = Shared::default();
    let server = csms("127.0.0.1:0".parse().unwrap(), memory.clone()).await;
    let addr = server.local_addr();
    let cuts = VERSIONS.map(|v| tokio::spawn(a_power_cut(addr, memory.clone(), v)));
    for cut in cuts {
        cut.await.unwrap();
    }
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn hardware_events_are_processed_offline_and_refused_inputs_reported() {
    // No CSMS at all: the station starts a transaction offline and keeps its messages.
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let (runner, mut seen) = new_runner(
        client_config(addr, "OFFLINE-1"),
        OcppVersion::V201,
        MemoryStore::new(),
    );
    let handle = runner.handle();
    let task = tokio::spawn(runner.run());
    seen.until("ConnectFailed", false).await;
    handle.send(StationInput::PlugIn(7)).await.unwrap();
    seen.until("UnknownConnector(7)", false).await;
    let mut energy = 0.0;
    charge(&handle, "TAG-4", &mut energy, 1200).await;
    seen.until("TransactionStarted", false).await;
    handle.send(StationInput::Unplug(1)).await.unwrap();
    seen.until("TransactionEnded", false).await;
    handle.stop();
    let stopped = tokio::time::timeout(LIMIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // Start, at least one sample, end: all waiting for a CSMS.
    assert!(
        stopped.station.queued() >= 3,
        "{}",
        stopped.station.queued()
    );
    assert_eq!(stopped.station.transactions(), 0);
}

/// The runner reconnects by the station's `RetryBackOff*` variables as the CSMS last set them
/// (B04.FR.01, read at each attempt), not by `ClientConfig::backoff`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_back_off_follows_the_variables_the_csms_sets() {
    use ocpp_rpc::{AnyAction, AnyRequest};

    let set = Arc::new(tokio::sync::Notify::new());
    let mut handlers = Handlers::new();
    let told = set.clone();
    handlers.fallback(move |connection, request| {
        let told = told.clone();
        async move {
            let action = request.action();
            if action.as_str() == "StatusNotification" {
                tokio::spawn(async move {
                    let set_variables = AnyAction::from_name(OcppVersion::V201, "SetVariables")
                        .expect("a 2.0.1 action");
                    let item = |name: &str, value: &str| {
                        json!({
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": name},
                            "attributeValue": value,
                        })
                    };
                    let payload = json!({"setVariableData": [
                        item("RetryBackOffWaitMinimum", "3"),
                        item("RetryBackOffRandomRange", "0"),
                    ]});
                    let request = AnyRequest::decode(set_variables, &payload.to_string())
                        .expect("a valid SetVariables");
                    let answer = connection.call_any(request).await.expect("answered");
                    let answer = serde_json::to_value(&answer).expect("encodes");
                    let statuses: Vec<&Value> = answer["setVariableResult"]
                        .as_array()
                        .expect("results")
                        .iter()
                        .map(|r| &r["attributeStatus"])
                        .collect();
                    assert_eq!(statuses, [&json!("Accepted"), &json!("Accepted")]);
                    told.notify_one();
                });
            }
            let answer = match action.as_str() {
                "BootNotification" => json!({
                    "currentTime": "2026-12-02T00:00:00Z",
                    "interval": 300,
                    "status": "Accepted",
                }),
                _ => json!({}),
            };
            AnyResponse::decode(action, &answer.to_string())
                .map_err(|e| RpcError::new(ErrorCode::InternalError, e.to_string()))
        }
    });
    let any_port: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let server = Server::bind(any_port, ServerConfig::default(), handlers)
        .await
        .unwrap()
        .start()
        .unwrap();
    let addr = server.local_addr();
    let mut config = station_config(OcppVersion::V201);
    // What the station starts with, and what a plain Client would use: neither is the answer.
    config.variables.retry_back_off_wait_minimum = 7;
    config.variables.retry_back_off_random_range = 0;
    let mut client = client_config(addr, "BACKOFF");
    client.backoff = FAST;
    let (events, mut seen) = mpsc::unbounded_channel();
    let runner = StationRunner::new(client, config, Relay::default(), MemoryStore::new())
        .unwrap()
        .on_event(move |_, event| {
            if let RunnerEvent::Disconnected { retry_in } = event {
                let _ = events.send(*retry_in);
            }
        });
    let task = tokio::spawn(runner.run());
    tokio::time::timeout(LIMIT, set.notified())
        .await
        .expect("the CSMS set the variables");
    server.shutdown(Duration::from_millis(200)).await;
    let retry_in = tokio::time::timeout(LIMIT, seen.recv())
        .await
        .expect("a disconnection")
        .expect("an event");
    assert_eq!(retry_in, Duration::from_secs(3));
    task.abort();
}
