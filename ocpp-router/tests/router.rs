//! The router between a station and two backends, all in this process on loopback (2.0.1):
//! each authorization policy, backends' calls serialised towards the station with their own
//! answers, an allow list, and a secondary that was down receiving every transaction
//! message in order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocpp_router::{Router, RouterConfig, RunningRouter};
use ocpp_rpc::{AnyResponse, ErrorCode, RpcError};
use ocpp_rpc_tokio::{
    ClientConfig, Connection, Handlers, RunningServer, Server, ServerConfig, connect,
};
use ocpp_types::{OcppVersion, v201};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// A 2.0.1 backend that accepts the id tokens starting with one of `accepts`, records every
/// call it gets, and keeps the station's connection for calls of its own.
struct Backend {
    server: RunningServer,
    seen: Seen,
    station: Arc<Mutex<Option<Connection>>>,
}

async fn backend(port: u16, accepts: &'static [&'static str]) -> Backend {
    slow_backend(port, accepts, Duration::ZERO).await
}

/// [`backend`], answering each TransactionEvent only after `delay`.
async fn slow_backend(port: u16, accepts: &'static [&'static str], delay: Duration) -> Backend {
    let seen: Seen = Arc::default();
    let station: Arc<Mutex<Option<Connection>>> = Arc::default();
    let mut config = ServerConfig::default();
    config.versions = vec![OcppVersion::V201];
    // As a 1.6 central system may: several calls of its own in flight at once.
    config.session.max_in_flight = 6;
    let mut handlers = Handlers::new();
    let record = seen.clone();
    handlers.fallback(move |_, request| {
        let action = request.action();
        let payload = serde_json::to_value(&request).unwrap_or_default();
        record
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((action.as_str().to_owned(), payload.clone()));
        let token = payload["idToken"]["idToken"].as_str().unwrap_or_default();
        let status = if accepts.iter().any(|a| token.starts_with(a)) {
            "Accepted"
        } else {
            "Invalid"
        };
        let answer = match action.as_str() {
            "BootNotification" => json!({"currentTime": "2026-12-02T00:00:00Z", "interval": 300, "status": "Accepted"}),
            "Authorize" => json!({"idTokenInfo": {"status": status}}),
            "TransactionEvent" if payload.get("idToken").is_some() => {
                json!({"idTokenInfo": {"status": status}})
            }
            _ => json!({}),
        };
        let answer = AnyResponse::decode(action, &answer.to_string())
            .map_err(|e| RpcError::new(ErrorCode::InternalError, e.to_string()));
        let delay = if action.as_str() == "TransactionEvent" {
            delay
        } else {
            Duration::ZERO
        };
        async move {
            tokio::time::sleep(delay).await;
            answer
        }
    });
    let keep = station.clone();
    let server = Server::bind(("127.0.0.1", port), config, handlers)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .on_connection(move |connection| {
            *keep.lock().unwrap_or_else(|p| p.into_inner()) = Some(connection);
        })
        .start()
        .unwrap_or_else(|e| panic!("{e}"));
    Backend {
        server,
        seen,
        station,
    }
}

impl Backend {
    fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    fn seen(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn station(&self) -> Connection {
        for _ in 0..200 {
            if let Some(c) = self
                .station
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
            {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "the router never connected to the backend on port {}",
            self.port()
        )
    }
}

async fn router(
    primary: u16,
    secondary: u16,
    authorization: &str,
    store: &std::path::Path,
) -> RunningRouter {
    router_with(
        primary,
        secondary,
        &format!("authorization = \"{authorization}\""),
        store,
    )
    .await
}

/// A router with `settings` (TOML lines) before the two backends.
async fn router_with(
    primary: u16,
    secondary: u16,
    settings: &str,
    store: &std::path::Path,
) -> RunningRouter {
    let text = format!(
        r#"
        listen = "127.0.0.1:0"
        ocpp = ["2.0.1"]
        store = "{}"
        {settings}
        retry_wait_ms = 200
        connect_wait_ms = 500
        [[backend]]
        name = "billing"
        url = "ws://127.0.0.1:{primary}/ocpp"
        primary = true
        [[backend]]
        name = "energy"
        url = "ws://127.0.0.1:{secondary}/ocpp"
        allow = ["GetVariables"]
        "#,
        store.display()
    );
    let config = RouterConfig::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    Router::new(config)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

fn store(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ocpp-router-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A station that answers GetVariables after 30 ms, echoing the component asked for, and
/// counts how many of the router's calls it had in flight at once at the most.
async fn station(router: &RunningRouter, identity: &str) -> (Connection, Arc<AtomicUsize>) {
    let url = format!("ws://{}/ocpp/{identity}", router.local_addr());
    let most = Arc::new(AtomicUsize::new(0));
    let now = Arc::new(AtomicUsize::new(0));
    let mut handlers = Handlers::new();
    let (count, peak) = (now.clone(), most.clone());
    handlers.on(move |_, request: v201::GetVariablesRequest| {
        let (count, peak) = (count.clone(), peak.clone());
        async move {
            let at_once = count.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(at_once, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(30)).await;
            count.fetch_sub(1, Ordering::SeqCst);
            let asked = &request.get_variable_data[0];
            let result = v201::GetVariableResultType::new(
                v201::GetVariableStatusEnumType::Accepted,
                asked.component.clone(),
                asked.variable.clone(),
            );
            Ok(v201::GetVariablesResponse::new(vec![result]))
        }
    });
    let connection = connect(&ClientConfig::new(url, [OcppVersion::V201]), handlers)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let boot = json!({"chargingStation": {"model": "m", "vendorName": "v"}, "reason": "PowerUp"});
    call(&connection, "BootNotification", boot).await;
    (connection, most)
}

/// A backend's GetVariables of `component`'s HeartbeatInterval.
fn get_variables(component: &str) -> v201::GetVariablesRequest {
    v201::GetVariablesRequest::new(vec![v201::GetVariableDataType::new(
        v201::ComponentType::new(ocpp_types::BoundedString::truncating(component)),
        v201::VariableType::new(ocpp_types::BoundedString::truncating("HeartbeatInterval")),
    )])
}

async fn call(connection: &Connection, action: &str, payload: Value) -> Value {
    let action = ocpp_rpc::AnyAction::from_name(OcppVersion::V201, action)
        .unwrap_or_else(|| panic!("{action}"));
    let request = ocpp_rpc::AnyRequest::decode(action, &payload.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let response = connection
        .call_any(request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_value(&response).unwrap_or_else(|e| panic!("{e}"))
}

async fn authorize(station: &Connection, token: &str) -> String {
    let answer = call(
        station,
        "Authorize",
        json!({"idToken": {"idToken": token, "type": "ISO14443"}}),
    )
    .await;
    answer["idTokenInfo"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn each_authorization_policy_decides_as_documented() {
    // The primary accepts BOTH and PRIMARY, the secondary BOTH and SECONDARY.
    let billing = backend(0, &["BOTH", "PRIMARY"]).await;
    let energy = backend(0, &["BOTH", "SECONDARY"]).await;
    let expected = [
        ("primary", ["Accepted", "Accepted", "Invalid"]),
        ("any", ["Accepted", "Accepted", "Accepted"]),
        ("all", ["Accepted", "Invalid", "Invalid"]),
    ];
    for (policy, statuses) in expected {
        let dir = store(policy);
        let router = router(billing.port(), energy.port(), policy, &dir).await;
        let (station, _) = station(&router, &format!("CS-{policy}")).await;
        let mut got = Vec::new();
        for token in ["BOTH-1", "PRIMARY-1", "SECONDARY-1"] {
            got.push(authorize(&station, token).await);
        }
        assert_eq!(got, statuses, "policy {policy}");
        if policy == "any" {
            let answer = call(
                &station,
                "Authorize",
                json!({"idToken": {"idToken": "SECONDARY-2", "type": "ISO14443"}}),
            )
            .await;
            assert_eq!(answer["customData"]["decidedBy"], "energy");
        }
        station.close().await;
        router.shutdown(Duration::from_secs(1)).await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn backends_calls_reach_the_station_one_at_a_time_each_with_its_own_answers() {
    let billing = backend(0, &[]).await;
    let energy = backend(0, &[]).await;
    let dir = store("calls");
    let router = router(billing.port(), energy.port(), "primary", &dir).await;
    let (_station, most) = station(&router, "CS-CALLS").await;
    let (to_billing, to_energy) = (billing.station().await, energy.station().await);
    let mut calls = Vec::new();
    for _ in 0..5 {
        for (connection, component) in [(&to_billing, "Billing"), (&to_energy, "Energy")] {
            let connection = connection.clone();
            let request = get_variables(component);
            calls.push(tokio::spawn(async move {
                let response = connection.call(request).await;
                (component, response)
            }));
        }
    }
    for call in calls {
        let (component, response) = call.await.unwrap_or_else(|e| panic!("{e}"));
        let response = response.unwrap_or_else(|e| panic!("{component}: {e}"));
        assert_eq!(response.get_variable_result[0].component.name, component);
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "two calls were in flight at the station"
    );
    // Reset is not on the energy manager's allow list.
    let reset = v201::ResetRequest::new(v201::ResetEnumType::Immediate);
    match to_energy.call(reset).await {
        Err(ocpp_rpc::CallFailure::CallError(error)) => {
            assert_eq!(error.code, ErrorCode::SecurityError);
        }
        other => panic!("a refused call got {other:?}"),
    }
    router.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_secondary_that_was_down_gets_every_transaction_message_in_order() {
    let billing = backend(0, &["T"]).await;
    let energy = backend(0, &["T"]).await;
    let port = energy.port();
    let dir = store("replay");
    let router = router(billing.port(), port, "primary", &dir).await;
    let (station, _) = station(&router, "CS-REPLAY").await;
    energy.station().await;
    energy.server.shutdown(Duration::from_millis(100)).await;
    let event = |seq: u32, kind: &str| {
        json!({
            "eventType": kind, "timestamp": "2026-12-02T00:00:00Z", "triggerReason": "Authorized",
            "seqNo": seq, "transactionInfo": {"transactionId": "TX-1"},
            "idToken": {"idToken": "T-1", "type": "ISO14443"}
        })
    };
    for seq in 0..5 {
        let kind = match seq {
            0 => "Started",
            4 => "Ended",
            _ => "Updated",
        };
        let answer = call(&station, "TransactionEvent", event(seq, kind)).await;
        assert_eq!(answer["idTokenInfo"]["status"], "Accepted");
    }
    let energy = backend(port, &["T"]).await;
    let mut delivered = Vec::new();
    for _ in 0..100 {
        delivered = energy
            .seen()
            .into_iter()
            .filter(|(action, _)| action == "TransactionEvent")
            .map(|(_, payload)| payload["seqNo"].as_u64().unwrap_or(99))
            .collect();
        if delivered.len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivered, [0, 1, 2, 3, 4]);
    // The BootNotification came first, so the backend knows the station.
    assert_eq!(energy.seen()[0].0, "BootNotification");
    let primary: Vec<u64> = billing
        .seen()
        .into_iter()
        .filter(|(action, _)| action == "TransactionEvent")
        .map(|(_, p)| p["seqNo"].as_u64().unwrap_or(99))
        .collect();
    assert_eq!(primary, [0, 1, 2, 3, 4]);
    router.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A port nothing listens on (for now).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn transaction_events(backend: &Backend) -> Vec<u64> {
    backend
        .seen()
        .into_iter()
        .filter(|(action, _)| action == "TransactionEvent")
        .map(|(_, p)| p["seqNo"].as_u64().unwrap_or(99))
        .collect()
}

async fn started_transaction(station: &Connection) {
    for seq in 0..3 {
        let event = json!({
            "eventType": if seq == 0 { "Started" } else { "Updated" },
            "timestamp": "2026-12-02T00:00:00Z", "triggerReason": "Authorized",
            "seqNo": seq, "transactionInfo": {"transactionId": "TX-9"},
            "idToken": {"idToken": "T-9", "type": "ISO14443"}
        });
        let answer = call(station, "TransactionEvent", event).await;
        assert_eq!(answer["idTokenInfo"]["status"], "Accepted", "{answer}");
    }
}

/// Waits until `backend` has seen the transaction events 0, 1, 2 (or gives up after 5 s).
async fn replayed(backend: &Backend) -> Vec<u64> {
    for _ in 0..100 {
        if transaction_events(backend).len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    transaction_events(backend)
}

#[tokio::test]
async fn while_the_primary_is_down_the_next_backend_answers_and_the_primary_gets_it_all_later() {
    let port = closed_port();
    let energy = backend(0, &["T"]).await;
    let dir = store("failover");
    let router = router_with(port, energy.port(), "primary_down = \"failover\"", &dir).await;
    let (station, _) = station(&router, "CS-FAILOVER").await;
    // The energy manager accepts T-tokens and answers in the primary's place.
    assert_eq!(authorize(&station, "T-1").await, "Accepted");
    assert_eq!(authorize(&station, "X-1").await, "Invalid");
    started_transaction(&station).await;
    // The energy manager got each transaction message once: its answer was its copy.
    assert_eq!(transaction_events(&energy), [0, 1, 2]);
    // The primary comes: the station's BootNotification, then every transaction message.
    let billing = backend(port, &["T"]).await;
    assert_eq!(replayed(&billing).await, [0, 1, 2]);
    assert_eq!(billing.seen()[0].0, "BootNotification");
    router.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn with_primary_down_local_the_router_answers_and_the_primary_gets_it_all_later() {
    let port = closed_port();
    let energy = backend(0, &[]).await;
    let dir = store("local");
    let settings = "primary_down = \"local\"\nlocal_authorize = true";
    let router = router_with(port, energy.port(), settings, &dir).await;
    // The BootNotification is answered by the router itself.
    let (station, _) = station(&router, "CS-LOCAL").await;
    // The energy manager refuses every token but does not decide: the router accepts.
    assert_eq!(authorize(&station, "T-1").await, "Accepted");
    started_transaction(&station).await;
    // Its copies go on their own, after the station was answered.
    assert_eq!(replayed(&energy).await, [0, 1, 2]);
    let billing = backend(port, &["T"]).await;
    assert_eq!(replayed(&billing).await, [0, 1, 2]);
    router.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_backend_call_that_finds_the_station_s_queue_full_is_refused_at_once() {
    // A backend whose session lets 6 calls be in flight at once, and a queue of 1.
    let billing = backend(0, &[]).await;
    let energy = backend(0, &[]).await;
    let dir = store("queue");
    let router = router_with(billing.port(), energy.port(), "queue = 1", &dir).await;
    let (_station, most) = station(&router, "CS-QUEUE").await;
    let to_billing = billing.station().await;
    let ask = get_variables("Billing");
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let (connection, request) = (to_billing.clone(), ask.clone());
            tokio::spawn(async move { connection.call(request).await })
        })
        .collect();
    let (mut answered, mut refused) = (0, 0);
    for call in calls {
        match call.await.unwrap_or_else(|e| panic!("{e}")) {
            Ok(_) => answered += 1,
            Err(ocpp_rpc::CallFailure::CallError(error)) => {
                assert_eq!(error.code, ErrorCode::GenericError);
                assert!(
                    error.description.contains("cannot be delivered"),
                    "{error:?}"
                );
                refused += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert!(
        answered >= 2 && refused >= 1,
        "{answered} answered, {refused} refused"
    );
    assert_eq!(most.load(Ordering::SeqCst), 1);
    router.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn what_a_router_could_not_deliver_reaches_the_backend_after_the_router_restarts() {
    let billing = backend(0, &["T"]).await;
    let port = closed_port();
    let dir = store("restart");
    let first = router(billing.port(), port, "primary", &dir).await;
    let (station, _) = station(&first, "CS-RESTART").await;
    started_transaction(&station).await;
    station.close().await;
    first.shutdown(Duration::from_secs(1)).await;
    // A new router on the same store; the energy manager is up now. The station only
    // reconnects: it does not boot again.
    let energy = backend(port, &["T"]).await;
    let second = router(billing.port(), port, "primary", &dir).await;
    let url = format!("ws://{}/ocpp/CS-RESTART", second.local_addr());
    let _again = connect(
        &ClientConfig::new(url, [OcppVersion::V201]),
        Handlers::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replayed(&energy).await, [0, 1, 2]);
    // It learnt of the station from the BootNotification the first router kept.
    assert_eq!(energy.seen()[0].0, "BootNotification");
    second.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_backend_asked_in_vain_gets_the_message_once() {
    // The primary is down; the energy manager answers transaction messages too late to be
    // failed over to, so the router answers itself, and the message already in the energy
    // manager's queue is not copied to it a second time.
    let port = closed_port();
    let energy = slow_backend(0, &["T"], Duration::from_millis(400)).await;
    let dir = store("once");
    let settings = "primary_down = \"failover\"\nanswer_timeout_ms = 150";
    let router = router_with(port, energy.port(), settings, &dir).await;
    let (station, _) = station(&router, "CS-ONCE").await;
    started_transaction(&station).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(transaction_events(&energy), [0, 1, 2]);
    router.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_station_that_connects_again_keeps_its_backends_and_their_calls_reach_the_new_connection()
{
    let billing = backend(0, &[]).await;
    let energy = backend(0, &[]).await;
    let dir = store("again");
    let router = router(billing.port(), energy.port(), "primary", &dir).await;
    let (first, first_peak) = station(&router, "CS-AGAIN").await;
    let to_billing = billing.station().await;
    let (_second, second_peak) = station(&router, "CS-AGAIN").await;
    first.closed().await;
    assert_eq!(router.stations(), 1);
    // The backend's connection was kept, and its call reaches the newer connection.
    assert!(billing.station().await.same(&to_billing));
    let answer = to_billing
        .call(get_variables("Billing"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.get_variable_result[0].component.name, "Billing");
    // The older connection never had a call in flight; the newer one had this one.
    assert_eq!(first_peak.load(Ordering::SeqCst), 0);
    assert_eq!(second_peak.load(Ordering::SeqCst), 1);
    router.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}
