//! Valid answers to any call, for the demo CSMS (`ocpp csms`, `ocpp demo`).
//!
//! The actions of a charging session get the answers a permissive CSMS gives: registration
//! `Accepted` with the current time and a 300 s heartbeat interval, every id token `Accepted`,
//! StartTransaction a fresh transaction id (the same one again for a retransmission: see
//! [`Answers::answer_for`]), a charger `Accepted` for the commands a CSMS sends it most. Every other action gets a random response that its schema accepts (reproducible
//! from the seed), so a peer can exercise all of a version's actions against it.
//!
//! Every answer keeps the rules of [`ocpp_types::conditions`] (checked by a debug assertion
//! here and by the tests): a TransactionEvent that carried an `idToken` is answered with
//! `idTokenInfo`, a 1.6 StopTransaction that carried an `idTag` with `idTagInfo`. Incoming
//! requests are checked against the same table by [`handlers`], which reports what they break.

use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use ocpp_rpc::{AnyRequest, AnyResponse, ErrorCode, RpcError};
use ocpp_types::conditions;
use ocpp_types::random::{Gen, SplitMix64};
use ocpp_types::{DateTime, OcppVersion, v16, v21, v201};
use serde_json::json;

use crate::transcript::Transcript;

/// How many 1.6 StartTransaction payloads [`Answers`] remembers, to give a retransmission the
/// transaction id it gave the first time.
pub const REMEMBERED_STARTS: usize = 10_000;

/// Answers calls: a counter for transaction ids and a random source for the rest.
#[derive(Debug, Clone)]
pub struct Answers {
    random: SplitMix64,
    next_transaction: i64,
    /// (station identity, StartTransaction payload) -> the transaction id given.
    starts: HashMap<(String, String), i64>,
    /// The id tokens accepted (`None`: every one).
    tokens: Option<Vec<String>>,
    /// The keys of `starts`, oldest first.
    order: VecDeque<(String, String)>,
}

impl Answers {
    /// Answers whose random part comes from `seed`.
    pub fn new(seed: u64) -> Answers {
        Answers {
            random: SplitMix64(seed),
            next_transaction: 1,
            starts: HashMap::new(),
            order: VecDeque::new(),
            tokens: None,
        }
    }

    /// Accepts only these id tokens (1.6 `idTag`, 2.x `idToken.idToken`); any other is
    /// `Invalid` (`ocpp csms --accept`).
    pub fn accepting(mut self, tokens: Vec<String>) -> Answers {
        self.tokens = Some(tokens);
        self
    }

    /// `{"status": ...}` for the id token `request` carries.
    /// Only with `--accept` is the request looked into: every other answer stays as cheap as
    /// it was.
    fn token_status(&self, request: &AnyRequest) -> serde_json::Value {
        let accepted = self.tokens.as_ref().is_none_or(|tokens| {
            let payload = serde_json::to_value(request).unwrap_or_default();
            let token = payload
                .get("idTag")
                .or_else(|| payload.get("idToken").and_then(|t| t.get("idToken")))
                .and_then(serde_json::Value::as_str);
            token.is_none_or(|token| tokens.iter().any(|t| t == token))
        });
        json!({"status": if accepted { "Accepted" } else { "Invalid" }})
    }

    /// The answer to `request` (from a station whose identity does not matter).
    pub fn answer(&mut self, request: &AnyRequest) -> Result<AnyResponse, RpcError> {
        self.answer_for("", request)
    }

    /// The answer to `request` from the station `identity`.
    ///
    /// A 1.6 StartTransaction that repeats one this station sent before, payload for payload,
    /// gets the transaction id the first got: it is the same transaction, sent again because
    /// our answer was lost (the station queues its transaction messages and sends them until
    /// answered, 1.6 section 4.10). A new id would leave the first one open forever, with
    /// the station's StopTransaction naming the second. A new transaction always differs from
    /// an earlier one (its timestamp and meterStart at least). The last
    /// [`REMEMBERED_STARTS`] payloads are remembered.
    pub fn answer_for(
        &mut self,
        identity: &str,
        request: &AnyRequest,
    ) -> Result<AnyResponse, RpcError> {
        let action = request.action();
        let version = action.version();
        let time = DateTime::now().to_string();
        let accepted = json!({"status": "Accepted"});
        let token = self.token_status(request);
        let payload = match (action.as_str(), version) {
            ("BootNotification", _) => {
                json!({"status": "Accepted", "currentTime": time, "interval": 300})
            }
            ("Heartbeat", _) => json!({"currentTime": time}),
            ("Authorize", OcppVersion::V16) => json!({"idTagInfo": token}),
            ("Authorize", _) => json!({"idTokenInfo": token}),
            ("StartTransaction", _) => {
                let key = (
                    identity.to_owned(),
                    serde_json::to_string(request).map_err(internal)?,
                );
                let id = match self.starts.get(&key) {
                    Some(id) => *id,
                    None => {
                        let id = self.next_transaction;
                        self.next_transaction += 1;
                        if self.order.len() == REMEMBERED_STARTS {
                            if let Some(oldest) = self.order.pop_front() {
                                self.starts.remove(&oldest);
                            }
                        }
                        self.order.push_back(key.clone());
                        self.starts.insert(key, id);
                        id
                    }
                };
                json!({"transactionId": id, "idTagInfo": token})
            }
            // 1.6 makes idTagInfo optional "because a transaction may have been stopped without
            // an identifier": when the station did send the idTag that stopped it, it gets the
            // tag's status, which a Charge Point with an Authorization Cache stores
            // (rule StopTransaction.conf.idTagInfo).
            ("StopTransaction", _) if carries(request, "idTag") => json!({"idTagInfo": token}),
            // 2.x: "required when the transactionEventRequest contained an idToken".
            ("TransactionEvent", _) if carries(request, "idToken") => {
                json!({"idTokenInfo": token})
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

/// A record of every call answered (`ocpp csms --record FILE`): one JSON object per line,
/// `{"station": identity, "action": action, "request": payload, "response": payload}` (or
/// `"error": code` for a CALLERROR), written when the answer is decided, before it is sent, each
/// line with one `write` to the file (so a killed process leaves whole lines). A call whose
/// answer never reached the station, which sends it again, is recorded twice.
#[derive(Debug, Clone)]
pub struct Record(Arc<Mutex<std::fs::File>>);

impl Record {
    /// Creates (or truncates) the file.
    pub fn create(path: &Path) -> std::io::Result<Record> {
        Ok(Record(Arc::new(Mutex::new(std::fs::File::create(path)?))))
    }

    /// Writes the line of one call and its answer.
    pub fn write(
        &self,
        identity: &str,
        request: &AnyRequest,
        answer: &Result<AnyResponse, RpcError>,
    ) {
        let mut line = json!({
            "station": identity,
            "action": request.action().as_str(),
            "request": request,
        });
        match answer {
            Ok(response) => line["response"] = json!(response),
            Err(error) => line["error"] = json!(error.code.to_string()),
        }
        let mut text = line.to_string();
        text.push('\n');
        let mut file = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(error) = file.write_all(text.as_bytes()) {
            report_record_error(&error);
        }
    }
}

/// A record that cannot be written is reported once on stderr; the CSMS goes on answering.
fn report_record_error(error: &std::io::Error) {
    static REPORTED: std::sync::Once = std::sync::Once::new();
    REPORTED.call_once(|| eprintln!("ocpp csms: cannot write the record: {error}"));
}

/// Called with the connection of each station whose BootNotification was answered.
pub type OnBoot = Arc<dyn Fn(&ocpp_rpc_tokio::Connection) + Send + Sync>;

/// Handlers that answer every call validly with [`Answers`] (the core refuses the actions the
/// side does not take), writing each to `record` if given.
///
/// Each incoming request is also checked against the request rules of
/// [`ocpp_types::conditions`]: what it breaks goes to the transcript (`! ID1: ...`) and, when
/// given, to `broken`; the request is answered all the same, as a lenient peer would.
pub fn handlers(
    answers: Answers,
    transcript: Transcript,
    broken: Option<Broken>,
    record: Option<Record>,
    on_boot: Option<OnBoot>,
) -> ocpp_rpc_tokio::Handlers {
    let answers = Arc::new(Mutex::new(answers));
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
        let identity = connection.identity();
        let answer = match answers.lock() {
            Ok(mut answers) => answers.answer_for(identity, &request),
            Err(poisoned) => poisoned.into_inner().answer_for(identity, &request),
        };
        if let Some(record) = &record {
            record.write(identity, &request, &answer);
        }
        if let (Some(on_boot), "BootNotification", true) =
            (&on_boot, action.as_str(), answer.is_ok())
        {
            on_boot(&connection);
        }
        async move { answer }
    });
    handlers
}

fn internal(error: impl std::fmt::Display) -> RpcError {
    RpcError::new(ErrorCode::InternalError, error.to_string())
}
