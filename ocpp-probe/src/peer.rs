//! The peer's own messages: the probe answers every CALL the implementation under test makes
//! (with a schema-valid response, and `Accepted` to a station's BootNotification) and checks
//! each against the specification as it goes.

use ocpp_rpc::frame::{self, encode_call_result, encode_error};
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse, ErrorCode, MessageType};
use ocpp_types::random::{Gen, SplitMix64};
use ocpp_types::{MessageError, OcppVersion, Schema};
use serde_json::Value;

use crate::case::{Target, ocpp_j};
use crate::verdict::{Finding, Severity};

/// The answer to a station's BootNotification, the same object in every version.
pub(crate) fn boot_accepted(now: &str) -> String {
    format!(r#"{{"status":"Accepted","currentTime":"{now}","interval":300}}"#)
}

/// A BootNotification request of `version` for the probe's own boot.
pub(crate) fn boot_request(version: OcppVersion) -> &'static str {
    match version {
        OcppVersion::V16 => r#"{"chargePointVendor":"ocpp-rs","chargePointModel":"probe"}"#,
        _ => r#"{"chargingStation":{"vendorName":"ocpp-rs","model":"probe"},"reason":"PowerUp"}"#,
    }
}

/// Sets every `status` whose enumeration has `Accepted` to `Accepted`, throughout a
/// (schema-valid) response: the probe answers a station's calls as a CSMS that accepts it
/// (its boot, its tokens, its transactions), so that a station runs its usual course while
/// it is probed; everything else stays random.
fn accept(schema: &'static Schema, value: &mut Value) {
    match (schema, value) {
        (Schema::Object(object), Value::Object(map)) => {
            for (name, child) in object.names().iter().zip(object.schemas()) {
                let Some(field) = map.get_mut(*name) else {
                    continue;
                };
                match child {
                    Schema::Enum { values, .. }
                        if *name == "status" && values.contains(&"Accepted") =>
                    {
                        *field = Value::String("Accepted".to_owned());
                    }
                    _ => accept(child, field),
                }
            }
        }
        (Schema::Array { items, .. }, Value::Array(list)) => {
            for item in list {
                accept(items, item);
            }
        }
        _ => {}
    }
}

/// How many findings on the peer's own messages a connection, and a report, keeps.
pub(crate) const MAX_PEER_FINDINGS: usize = 1_000;

/// What the probe knows of the peer's own calls.
pub(crate) struct Peer {
    version: OcppVersion,
    target: Target,
    source: SplitMix64,
    /// Departures found in the peer's own messages.
    pub(crate) findings: Vec<Finding>,
    /// How many CALLs the peer made.
    pub(crate) calls: u64,
    /// Whether a station's BootNotification was answered on this connection.
    pub(crate) booted: bool,
}

impl Peer {
    pub(crate) fn new(version: OcppVersion, target: Target, seed: u64) -> Peer {
        Peer {
            version,
            target,
            source: SplitMix64(seed ^ 0xA11C_E5ED),
            findings: Vec::new(),
            calls: 0,
            booted: false,
        }
    }

    fn finding(&mut self, case: String, severity: Severity, summary: String, clause: String) {
        if self.findings.len() >= MAX_PEER_FINDINGS {
            return;
        }
        self.findings.push(Finding {
            case,
            severity,
            summary,
            clause,
        });
    }

    /// Handles a CALL (`send`: a SEND) of the peer: the reply to write, if any.
    pub(crate) fn on_call(
        &mut self,
        id: &str,
        action_name: &str,
        payload: &str,
        send: bool,
        now: &str,
    ) -> Option<String> {
        let version = self.version;
        self.calls += 1;
        let case = format!("peer.{action_name}");
        let reply_error = |code: ErrorCode, description: &str| {
            (!send).then(|| {
                String::from_utf8_lossy(&encode_error(
                    version,
                    MessageType::CallError,
                    id,
                    code,
                    description,
                    None,
                ))
                .into_owned()
            })
        };
        let Some(action) = AnyAction::from_name(version, action_name) else {
            self.finding(
                case,
                Severity::Error,
                format!("the peer called {action_name:?}, which OCPP {version} does not have"),
                ocpp_j(version, "§4.2.1", "§4.1.6, §4.2.1"),
            );
            return reply_error(ErrorCode::NotImplemented, "unknown action");
        };
        if !action.sent_by(self.target.role()) || action.has_response() == send {
            self.finding(
                case,
                Severity::Error,
                format!(
                    "the peer sent {action} as a {}, which its role does not send that way",
                    if send { "SEND" } else { "CALL" }
                ),
                format!("OCPP {version} Part 2 (message direction of {action})"),
            );
            return reply_error(ErrorCode::NotSupported, "not sent by this side");
        }
        if let Err(error) = AnyRequest::decode(action, payload) {
            let detail = match &error {
                MessageError::Invalid(decode) => decode.to_string(),
                other => other.to_string(),
            };
            self.finding(
                case,
                Severity::Error,
                format!("the peer's own {action} request breaks its schema: {detail}"),
                format!("OCPP {version} {action}Request JSON schema"),
            );
            let code = match &error {
                MessageError::Invalid(decode) => ErrorCode::from_decode_error(decode),
                _ => ErrorCode::NotImplemented,
            };
            return reply_error(code, &detail);
        }
        if send {
            return None;
        }
        let response = if action.as_str() == "BootNotification" && self.target == Target::Station {
            self.booted = true;
            boot_accepted(now)
        } else {
            let mut g = Gen::new(&mut self.source);
            let generated =
                AnyResponse::generate(action, &mut g).and_then(|r| serde_json::to_value(&r).ok());
            let mut response = generated.unwrap_or_default();
            if let Some(schema) = action.response_schema() {
                accept(schema, &mut response);
            }
            response.to_string()
        };
        let raw = serde_json::value::RawValue::from_string(response).ok()?;
        encode_call_result(id, &raw)
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Records a CALL of the peer's (`id`) that came while its CALL `held` was still
    /// unanswered.
    pub(crate) fn crossed(&mut self, held: &str, id: &str) {
        let version = self.version;
        self.finding(
            "peer.one-call-in-flight".to_owned(),
            if version == OcppVersion::V16 {
                Severity::Warning
            } else {
                Severity::Error
            },
            format!("the peer sent CALL {id:?} while its CALL {held:?} was unanswered"),
            ocpp_j(version, "§4.1.1 (SHOULD NOT)", "§4.1.1 (SHALL NOT)"),
        );
    }

    /// Checks the peer's answer to one of the probe's own valid calls (its boot, a liveness
    /// call): a CALLRESULT must validate.
    pub(crate) fn on_own_answer(&mut self, action: AnyAction, text: &str) {
        let version = self.version;
        if let Ok(frame::Frame::CallResult { payload, .. }) = frame::parse(text.as_bytes(), version)
        {
            if let Err(error) = AnyResponse::decode(action, payload.get()) {
                self.finding(
                    format!("peer.{action}"),
                    Severity::Error,
                    format!("CALLRESULT to the probe's {action} breaks the {action}Response schema: {error}"),
                    format!("OCPP {version} {action}Response JSON schema"),
                );
            }
        }
    }
}
