//! `ocpp station` end to end: it completes a session against `ocpp csms` in every version, and
//! fails (exit status 1) against a CSMS whose answers or requests break a rule of
//! `ocpp_types::conditions` that the schemas cannot express.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use ocpp_cli::answer::Answers;
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse};
use ocpp_rpc_tokio::{Handlers, RunningServer, Server, ServerConfig};
use ocpp_types::OcppVersion;

fn station(url: &str, version: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .args(["station", "--url", url, "--ocpp", version])
        .output()
        .expect("ocpp station runs")
}

#[test]
fn a_session_against_ocpp_csms_in_every_version() {
    let csms = common::Csms::start(&[]);
    for version in ["1.6", "2.0.1", "2.1"] {
        let out = station(&format!("ws://{}/ocpp/ST-{version}", csms.addr), version);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{version}: {text}");
        assert!(text.contains("station: 9 calls, every one answered validly"));
        assert!(text.contains("station → CSMS  [2,\"1\",\"BootNotification\""));
        assert!(text.contains("CSMS → station  [3,\"1\","));
    }
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
