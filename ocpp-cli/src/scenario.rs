//! The scripted charging session of `ocpp station` and `ocpp demo`, without any I/O: it hands
//! out the next request and checks each answer, whatever carries them.
//!
//! The session is what a charger does for one charge, in the version's messages:
//!
//! | step | 1.6 | 2.0.1 and 2.1 |
//! |---|---|---|
//! | boot | BootNotification | BootNotification |
//! | connector available | StatusNotification | StatusNotification |
//! | keep-alive | Heartbeat | Heartbeat |
//! | badge presented | Authorize | Authorize |
//! | start | StartTransaction | TransactionEvent `Started` |
//! | connector in use | StatusNotification `Charging` | StatusNotification `Occupied` |
//! | metering | MeterValues | TransactionEvent `Updated` with meter values |
//! | stop | StopTransaction | TransactionEvent `Ended` |
//! | connector free | StatusNotification `Available` | StatusNotification `Available` |
//!
//! A step's answer must keep the rules of [`ocpp_types::conditions`] that the schema cannot
//! express (a TransactionEvent that carried an `idToken` is answered with `idTokenInfo`, ...)
//! and accept what the station asked for (a BootNotification `Accepted`, an id token
//! `Accepted`); anything else ends the scenario with a [`ScenarioError`]. Payloads are written
//! as JSON and decoded into the version's typed request, so each one is checked against its
//! schema, and against the same rules, before it is sent.

use std::fmt;

use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse};
use ocpp_types::{DateTime, OcppVersion, conditions};
use serde_json::{Value, json};

/// The id tag (1.6) or id token (2.x) the scripted driver presents.
pub const ID_TAG: &str = "DEMO-TAG-0001";

/// Why the scenario stopped before its end.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    /// The action whose step failed.
    pub action: &'static str,
    /// What was wrong.
    pub reason: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.action, self.reason)
    }
}

impl std::error::Error for ScenarioError {}

/// One charging session, step by step.
#[derive(Debug, Clone)]
pub struct Charge {
    version: OcppVersion,
    step: usize,
    /// The transaction id: the CSMS's (1.6, from StartTransaction) or ours (2.x).
    transaction: Value,
    /// The payload of the last request, which the next answer is judged against.
    request: Value,
}

/// The steps, by action name (the same names in every version).
const STEPS: [&str; 9] = [
    "BootNotification",
    "StatusNotification",
    "Heartbeat",
    "Authorize",
    "Start",
    "StatusNotification",
    "Meter",
    "Stop",
    "StatusNotification",
];

impl Charge {
    /// A charging session in `version`'s messages.
    pub fn new(version: OcppVersion) -> Charge {
        let transaction = match version {
            OcppVersion::V16 => Value::Null,
            _ => json!(format!("demo-{}", DateTime::now().unix_timestamp())),
        };
        Charge {
            version,
            step: 0,
            transaction,
            request: Value::Null,
        }
    }

    /// The next request to send, or `None` when the session is over.
    pub fn next_request(&mut self) -> Option<Result<AnyRequest, ScenarioError>> {
        let step = *STEPS.get(self.step)?;
        self.step += 1;
        let (action, payload) = match self.version {
            OcppVersion::V16 => self.request_16(step),
            _ => self.request_2x(step),
        };
        let broken = conditions::check_request(self.version, action, &payload);
        if !broken.is_empty() {
            let reason = format!("the scripted request breaks {}", list(&broken));
            return Some(Err(ScenarioError { action, reason }));
        }
        let request = decode_request(self.version, action, &payload);
        self.request = payload;
        Some(request)
    }

    /// Checks the answer to the request [`Charge::next_request`] gave last.
    pub fn check(&mut self, response: &AnyResponse) -> Result<(), ScenarioError> {
        let action = response.action().as_str();
        let fail = |reason: String| ScenarioError { action, reason };
        let answer = serde_json::to_value(response).map_err(|e| fail(e.to_string()))?;
        let broken = conditions::check_response(self.version, action, &self.request, &answer);
        if !broken.is_empty() {
            return Err(fail(format!("invalid answer: {}", list(&broken))));
        }
        let status = |path: &str| answer.pointer(path).and_then(Value::as_str);
        let refused = |path: &str| match status(path) {
            Some("Accepted") | None => Ok(()),
            Some(other) => Err(fail(format!("{path} is {other}, not Accepted"))),
        };
        match action {
            "BootNotification" => match status("/status") {
                Some("Accepted") => Ok(()),
                other => Err(fail(format!("registration status {other:?}, not Accepted"))),
            },
            "Authorize" if self.version == OcppVersion::V16 => refused("/idTagInfo/status"),
            "Authorize" => refused("/idTokenInfo/status"),
            "StartTransaction" => {
                refused("/idTagInfo/status")?;
                self.transaction = answer
                    .get("transactionId")
                    .cloned()
                    .ok_or_else(|| fail("no transactionId".into()))?;
                Ok(())
            }
            "TransactionEvent" => refused("/idTokenInfo/status"),
            _ => Ok(()),
        }
    }

    fn request_16(&self, step: &str) -> (&'static str, Value) {
        let time = DateTime::now().to_string();
        let status = |status: &str| json!({"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": time});
        let meter = |wh: u32| {
            json!([{"timestamp": time, "sampledValue": [
                {"value": wh.to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
            ]}])
        };
        match (step, self.step) {
            ("BootNotification", _) => (
                "BootNotification",
                json!({"chargePointVendor": "ocpp-rs", "chargePointModel": "demo-station"}),
            ),
            ("StatusNotification", 2) => ("StatusNotification", status("Available")),
            ("Heartbeat", _) => ("Heartbeat", json!({})),
            ("Authorize", _) => ("Authorize", json!({"idTag": ID_TAG})),
            ("Start", _) => (
                "StartTransaction",
                json!({"connectorId": 1, "idTag": ID_TAG, "meterStart": 0, "timestamp": time}),
            ),
            ("StatusNotification", 6) => ("StatusNotification", status("Charging")),
            ("Meter", _) => (
                "MeterValues",
                json!({"connectorId": 1, "transactionId": self.transaction, "meterValue": meter(1500)}),
            ),
            ("Stop", _) => (
                "StopTransaction",
                json!({"transactionId": self.transaction, "idTag": ID_TAG, "meterStop": 3000,
                       "timestamp": time, "reason": "Local", "transactionData": meter(3000)}),
            ),
            _ => ("StatusNotification", status("Available")),
        }
    }

    fn request_2x(&self, step: &str) -> (&'static str, Value) {
        let time = DateTime::now().to_string();
        let id_token = json!({"idToken": ID_TAG, "type": "ISO14443"});
        let status = |status: &str| json!({"timestamp": time, "connectorStatus": status, "evseId": 1, "connectorId": 1});
        let meter = |wh: f64| {
            json!([{"timestamp": time, "sampledValue": [
                {"value": wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
                {"value": 7400.0, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
            ]}])
        };
        let event = |event: &str, trigger: &str, seq: u32, info: Value| {
            json!({"eventType": event, "timestamp": time, "triggerReason": trigger, "seqNo": seq,
                   "transactionInfo": info})
        };
        let id = &self.transaction;
        match (step, self.step) {
            ("BootNotification", _) => (
                "BootNotification",
                json!({"chargingStation": {"model": "demo-station", "vendorName": "ocpp-rs"},
                       "reason": "PowerUp"}),
            ),
            ("StatusNotification", 2) => ("StatusNotification", status("Available")),
            ("Heartbeat", _) => ("Heartbeat", json!({})),
            ("Authorize", _) => ("Authorize", json!({"idToken": id_token})),
            ("Start", _) => {
                let info = json!({"transactionId": id, "chargingState": "EVConnected"});
                let mut started = event("Started", "Authorized", 0, info);
                started["idToken"] = id_token;
                started["evse"] = json!({"id": 1, "connectorId": 1});
                ("TransactionEvent", started)
            }
            ("StatusNotification", 6) => ("StatusNotification", status("Occupied")),
            ("Meter", _) => {
                let info = json!({"transactionId": id, "chargingState": "Charging"});
                let mut updated = event("Updated", "MeterValuePeriodic", 1, info);
                updated["meterValue"] = meter(1500.0);
                ("TransactionEvent", updated)
            }
            ("Stop", _) => {
                let info =
                    json!({"transactionId": id, "chargingState": "Idle", "stoppedReason": "Local"});
                let mut ended = event("Ended", "StopAuthorized", 2, info);
                // The driver ending authorization presents the token again
                // (rule TransactionEventRequest.idToken).
                ended["idToken"] = id_token;
                ended["meterValue"] = meter(3000.0);
                ("TransactionEvent", ended)
            }
            _ => ("StatusNotification", status("Available")),
        }
    }
}

/// The findings, one after the other.
fn list(findings: &[conditions::Finding]) -> String {
    let texts: Vec<String> = findings.iter().map(ToString::to_string).collect();
    texts.join("; ")
}

/// The request of `action` in `version` from its JSON, checked against the schema.
pub fn decode_request(
    version: OcppVersion,
    action: &'static str,
    payload: &Value,
) -> Result<AnyRequest, ScenarioError> {
    let fail = |reason: String| ScenarioError { action, reason };
    let known = AnyAction::from_name(version, action)
        .ok_or_else(|| fail(format!("OCPP {version} has no action {action}")))?;
    let text = serde_json::to_string(payload).map_err(|e| fail(e.to_string()))?;
    AnyRequest::decode(known, &text).map_err(|e| fail(e.to_string()))
}
