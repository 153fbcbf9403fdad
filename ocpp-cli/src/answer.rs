//! Valid answers to any call, for the demo CSMS (`ocpp csms`, `ocpp demo`) and the scripted
//! station (`ocpp station`).
//!
//! The actions of a charging session get the answers a permissive CSMS gives: registration
//! `Accepted` with the current time and a 300 s heartbeat interval, every id token `Accepted`,
//! StartTransaction a fresh transaction id, a charger `Accepted` for the commands a CSMS sends
//! it most. Every other action gets a random response that its schema accepts (reproducible
//! from the seed), so a peer can exercise all of a version's actions against it.
//!
//! Every answer keeps the rules of [`ocpp_types::conditions`] (checked by a debug assertion
//! here and by the tests): a TransactionEvent that carried an `idToken` is answered with
//! `idTokenInfo`, a 1.6 StopTransaction that carried an `idTag` with `idTagInfo`. Incoming
//! requests are checked against the same table by [`handlers`], which reports what they break.

use std::sync::{Arc, Mutex};

use ocpp_rpc::{AnyRequest, AnyResponse, ErrorCode, RpcError};
use ocpp_types::conditions;
use ocpp_types::random::{Gen, SplitMix64};
use ocpp_types::{DateTime, OcppVersion, v16, v21, v201};
use serde_json::json;

use crate::transcript::Transcript;

/// Answers calls: a counter for transaction ids and a random source for the rest.
#[derive(Debug, Clone)]
pub struct Answers {
    random: SplitMix64,
    next_transaction: i64,
}

impl Answers {
    /// Answers whose random part comes from `seed`.
    pub fn new(seed: u64) -> Answers {
        Answers {
            random: SplitMix64(seed),
            next_transaction: 1,
        }
    }

    /// The answer to `request`.
    pub fn answer(&mut self, request: &AnyRequest) -> Result<AnyResponse, RpcError> {
        let action = request.action();
        let version = action.version();
        let time = DateTime::now().to_string();
        let accepted = json!({"status": "Accepted"});
        let payload = match (action.as_str(), version) {
            ("BootNotification", _) => {
                json!({"status": "Accepted", "currentTime": time, "interval": 300})
            }
            ("Heartbeat", _) => json!({"currentTime": time}),
            ("Authorize", OcppVersion::V16) => json!({"idTagInfo": accepted}),
            ("Authorize", _) => json!({"idTokenInfo": accepted}),
            ("StartTransaction", _) => {
                let id = self.next_transaction;
                self.next_transaction += 1;
                json!({"transactionId": id, "idTagInfo": accepted})
            }
            // 1.6 makes idTagInfo optional "because a transaction may have been stopped without
            // an identifier": when the station did send the idTag that stopped it, it gets the
            // tag's status, which a Charge Point with an Authorization Cache stores
            // (rule StopTransaction.conf.idTagInfo).
            ("StopTransaction", _) if carries(request, "idTag") => json!({"idTagInfo": accepted}),
            // 2.x: "required when the transactionEventRequest contained an idToken".
            ("TransactionEvent", _) if carries(request, "idToken") => {
                json!({"idTokenInfo": accepted})
            }
            ("StopTransaction" | "TransactionEvent" | "StatusNotification" | "MeterValues", _) => {
                json!({})
            }
            ("DataTransfer", _) => json!({"status": "UnknownVendorId"}),
            ("GetConfiguration", _) => configuration(request),
            ("GetVariables", _) => variables(request),
            (
                "ChangeAvailability"
                | "Reset"
                | "TriggerMessage"
                | "RemoteStartTransaction"
                | "RemoteStopTransaction"
                | "RequestStartTransaction"
                | "RequestStopTransaction"
                | "ChangeConfiguration"
                | "ClearCache",
                _,
            ) => accepted,
            _ => return self.random(request),
        };
        debug_assert!(
            {
                let asked = serde_json::to_value(request).unwrap_or_default();
                conditions::check_response(version, action.as_str(), &asked, &payload).is_empty()
            },
            "the answer to {} breaks a rule of ocpp_types::conditions: {payload}",
            action.as_str()
        );
        let text = serde_json::to_string(&payload).map_err(internal)?;
        AnyResponse::decode(action, &text).map_err(internal)
    }

    /// A random schema-valid response to `request`.
    fn random(&mut self, request: &AnyRequest) -> Result<AnyResponse, RpcError> {
        let mut g = Gen::new(&mut self.random);
        let response =
            match request {
                AnyRequest::V16(r) => v16::Response::generate(r.action(), &mut g)
                    .map(|r| AnyResponse::V16(Box::new(r))),
                AnyRequest::V201(r) => v201::Response::generate(r.action(), &mut g)
                    .map(|r| AnyResponse::V201(Box::new(r))),
                AnyRequest::V21(r) => v21::Response::generate(r.action(), &mut g)
                    .map(|r| AnyResponse::V21(Box::new(r))),
            };
        response.ok_or_else(|| {
            RpcError::new(
                ErrorCode::NotSupported,
                format!("{} has no response", request.action()),
            )
        })
    }
}

/// Whether `request`'s payload has the top-level field `field`.
fn carries(request: &AnyRequest, field: &str) -> bool {
    serde_json::to_value(request).is_ok_and(|payload| payload.get(field).is_some())
}

/// The value of the one configuration setting the scripted station has.
const HEARTBEAT_INTERVAL: &str = "300";

/// 1.6 GetConfiguration: `HeartbeatInterval` is known; every other key asked for is unknown.
fn configuration(request: &AnyRequest) -> serde_json::Value {
    let asked = serde_json::to_value(request).unwrap_or_default();
    let known = json!({"key": "HeartbeatInterval", "readonly": false, "value": HEARTBEAT_INTERVAL});
    match asked.get("key").and_then(serde_json::Value::as_array) {
        None => json!({"configurationKey": [known]}),
        Some(keys) => {
            let (found, unknown): (Vec<_>, Vec<_>) = keys
                .iter()
                .partition(|k| k.as_str() == Some("HeartbeatInterval"));
            let mut answer = json!({});
            if !found.is_empty() {
                answer["configurationKey"] = json!([known]);
            }
            if !unknown.is_empty() {
                answer["unknownKey"] = json!(unknown);
            }
            answer
        }
    }
}

/// 2.x GetVariables: one result per variable asked for; `HeartbeatCtrlr.Interval` is known,
/// every other component unknown.
fn variables(request: &AnyRequest) -> serde_json::Value {
    let asked = serde_json::to_value(request).unwrap_or_default();
    let results: Vec<_> = asked
        .get("getVariableData")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .map(|data| {
            let component = data.get("component").cloned().unwrap_or_default();
            let variable = data.get("variable").cloned().unwrap_or_default();
            let known = component.get("name").and_then(|n| n.as_str()) == Some("HeartbeatCtrlr")
                && variable.get("name").and_then(|n| n.as_str()) == Some("Interval");
            let mut result = json!({"component": component, "variable": variable});
            if let Some(attribute) = data.get("attributeType") {
                result["attributeType"] = attribute.clone();
            }
            if known {
                result["attributeStatus"] = json!("Accepted");
                result["attributeValue"] = json!(HEARTBEAT_INTERVAL);
            } else {
                result["attributeStatus"] = json!("UnknownComponent");
            }
            result
        })
        .collect();
    json!({"getVariableResult": results})
}

/// What the peer's requests broke of [`ocpp_types::conditions`], one line each
/// (`identity: action: finding`).
pub type Broken = Arc<Mutex<Vec<String>>>;

/// Handlers that answer every call validly with [`Answers`] (for `ocpp csms` and
/// `ocpp station` alike: the core refuses the actions the side does not take).
///
/// Each incoming request is also checked against the request rules of
/// [`ocpp_types::conditions`]: what it breaks goes to the transcript (`! ID1: ...`) and, when
/// given, to `broken`; the request is answered all the same, as a lenient peer would.
pub fn handlers(
    seed: u64,
    transcript: Transcript,
    broken: Option<Broken>,
) -> ocpp_rpc_tokio::Handlers {
    let answers = Arc::new(Mutex::new(Answers::new(seed)));
    let mut handlers = ocpp_rpc_tokio::Handlers::new();
    handlers.fallback(move |connection, request| {
        let action = request.action();
        let asked = serde_json::to_value(&request).unwrap_or_default();
        for finding in conditions::check_request(action.version(), action.as_str(), &asked) {
            let line = format!("{}: {}: {finding}", connection.identity(), action.as_str());
            transcript.line(&format!("! {line}"));
            if let Some(broken) = &broken {
                match broken.lock() {
                    Ok(mut broken) => broken.push(line),
                    Err(poisoned) => poisoned.into_inner().push(line),
                }
            }
        }
        let answer = match answers.lock() {
            Ok(mut answers) => answers.answer(&request),
            Err(poisoned) => poisoned.into_inner().answer(&request),
        };
        async move { answer }
    });
    handlers
}

fn internal(error: impl std::fmt::Display) -> RpcError {
    RpcError::new(ErrorCode::InternalError, error.to_string())
}
