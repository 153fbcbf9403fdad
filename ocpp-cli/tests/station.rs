//! `ocpp station` end to end: it completes its sessions against `ocpp csms` in every version,
//! resumes from its store without running more sessions than asked, fails (exit status 1)
//! against a CSMS whose answers or requests break a rule of `ocpp_types::conditions` that the
//! schemas cannot express, and exits 3 when it cannot connect.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::TempDir;

use ocpp_cli::answer::Answers;
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse};
use ocpp_rpc_tokio::{Handlers, RunningServer, Server, ServerConfig};
use ocpp_types::OcppVersion;

fn station_with(url: &str, version: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .args(["station", "--url", url, "--ocpp", version, "--samples", "1"])
        .args(args)
        .output()
        .expect("ocpp station runs")
}

fn station(url: &str, version: &str) -> Output {
    station_with(url, version, &[])
}

#[test]
fn a_session_against_ocpp_csms_in_every_version() {
    let csms = common::Csms::start(&[]);
    let versions: [&'static str; 3] = ["1.6", "2.0.1", "2.1"];
    let runs: Vec<_> = versions
        .iter()
        .map(|version| {
            let url = format!("ws://{}/ocpp/ST-{version}", csms.addr);
            let version = *version;
            std::thread::spawn(move || station(&url, version))
        })
        .collect();
    for (version, run) in versions.iter().zip(runs) {
        let out = run.join().expect("joins");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{version}: {text}");
        common::assert_one_session(version, &text);
    }
}

#[test]
fn a_restarted_station_resumes_without_running_more_sessions() {
    let csms = common::Csms::start(&[]);
    let dir = TempDir::new("resume");
    let url = format!("ws://{}/ocpp/RESUME-1", csms.addr);
    let args = [
        "--store",
        dir.path(),
        "--sessions",
        "2",
        "--meter-interval",
        "200",
    ];
    let out = station_with(&url, "2.0.1", &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        text.matches("\"eventType\":\"Started\"").count(),
        2,
        "{text}"
    );
    assert!(text.contains("2 of 2 sessions done"), "{text}");
    // The same store, the same count: nothing to do, no connection needed.
    let out = station_with("ws://127.0.0.1:9/ocpp/RESUME-1", "2.0.1", &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("2 of 2 sessions started already"), "{text}");
    // One more asked for: one more run, TOKEN-3.
    let args = ["--store", dir.path(), "--sessions", "3"];
    let out = station_with(&url, "2.0.1", &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(
        text.matches("\"eventType\":\"Started\"").count(),
        1,
        "{text}"
    );
    assert!(text.contains("\"idToken\":\"TOKEN-3\""), "{text}");
    assert!(text.contains("3 of 3 sessions done"), "{text}");
}

#[test]
fn no_connection_exits_3() {
    // Nothing listens: retried, then given up.
    let started = std::time::Instant::now();
    let out = station_with(
        "ws://127.0.0.1:9/ocpp/ST1",
        "2.0.1",
        &["--give-up", "1", "--retry-wait", "100"],
    );
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{error}");
    assert!(
        error.contains("no connection to ws://127.0.0.1:9/ocpp/ST1"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // A refused handshake (404 outside the CSMS's path): at once.
    let csms = common::Csms::start(&["--path-prefix", "/ocpp"]);
    let url = format!("ws://{}/elsewhere/ST1", csms.addr);
    let out = station_with(&url, "2.0.1", &[]);
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{error}");
    assert!(error.contains("HTTP 404"), "{error}");
    // No version in common.
    let csms = common::Csms::start(&["--ocpp", "1.6"]);
    let url = format!("ws://{}/ST1", csms.addr);
    let out = station_with(&url, "2.1", &[]);
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{error}");
    assert!(
        error.contains("none of the offered OCPP versions"),
        "{error}"
    );
}

/// A CSMS that answers like `ocpp csms`, but without `bad_call` leaves out `idTokenInfo` /
/// `idTagInfo` from TransactionEvent and StopTransaction answers, and with it makes that call
/// to the station before answering its BootNotification.
async fn careless_csms(
    bad_call: Option<(OcppVersion, &'static str, &'static str)>,
) -> RunningServer {
    let answers = std::sync::Arc::new(std::sync::Mutex::new(Answers::new(1)));
    let mut handlers = Handlers::new();
    handlers.fallback(move |station, request| {
        let action = request.action();
        let answer = match action.as_str() {
            "TransactionEvent" | "StopTransaction" if bad_call.is_none() => {
                AnyResponse::decode(action, "{}").map_err(|e| {
                    ocpp_rpc::RpcError::new(ocpp_rpc::ErrorCode::InternalError, e.to_string())
                })
            }
            _ => answers.lock().expect("not poisoned").answer(&request),
        };
        async move {
            if let (Some((version, name, payload)), "BootNotification") =
                (bad_call, action.as_str())
            {
                let call = AnyAction::from_name(version, name).expect("an action");
                let call = AnyRequest::decode(call, payload).expect("schema-valid");
                let _ = station.call_any(call).await;
            }
            answer
        }
    });
    Server::bind("127.0.0.1:0", ServerConfig::default(), handlers)
        .await
        .expect("binds")
        .start()
        .expect("starts")
}

#[tokio::test]
async fn a_transaction_event_answer_without_id_token_info_is_invalid() {
    let csms = careless_csms(None).await;
    for version in ["2.0.1", "2.1"] {
        let url = format!("ws://{}/ST1", csms.local_addr());
        let out = tokio::task::spawn_blocking(move || station(&url, version))
            .await
            .expect("joins");
        let error = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{version}: {error}");
        assert!(
            error.contains("TransactionEvent: invalid answer: response #/idTokenInfo: missing")
                && error.contains("(TransactionEventResponse.idTokenInfo;"),
            "{version}: {error}"
        );
    }
    csms.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_1_6_stop_transaction_answer_without_id_tag_info_is_invalid() {
    let csms = careless_csms(None).await;
    let url = format!("ws://{}/ST1", csms.local_addr());
    let out = tokio::task::spawn_blocking(move || station(&url, "1.6"))
        .await
        .expect("joins");
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{error}");
    assert!(
        error.contains("StopTransaction: invalid answer: response #/idTagInfo: missing")
            && error.contains("(StopTransaction.conf.idTagInfo;"),
        "{error}"
    );
    csms.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_csms_request_that_breaks_a_rule_fails_the_run() {
    let profile = r#"{"idToken":{"idToken":"T","type":"Central"},"remoteStartId":1,"evseId":0}"#;
    let csms = careless_csms(Some((
        OcppVersion::V201,
        "RequestStartTransaction",
        profile,
    )))
    .await;
    let url = format!("ws://{}/ST1", csms.local_addr());
    let out = tokio::task::spawn_blocking(move || station(&url, "2.0.1"))
        .await
        .expect("joins");
    let error = String::from_utf8_lossy(&out.stderr);
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{error}");
    assert!(
        transcript
            .contains("! ST1: RequestStartTransaction: request #/evseId: 0, not greater than 0"),
        "{transcript}"
    );
    assert!(
        error.contains("the CSMS's requests broke rules")
            && error.contains("RequestStartTransactionRequest.evseId"),
        "{error}"
    );
    csms.shutdown(Duration::from_secs(1)).await;
}
