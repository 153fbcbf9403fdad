//! The peer's own messages: the probe answers every CALL the implementation under test makes
//! (with a schema-valid response, and `Accepted` to a station's BootNotification) and checks
//! each against the specification as it goes.

use ocpp_rpc::frame::{self, encode_call_result, encode_error};
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse, ErrorCode, MessageType};
use ocpp_types::random::{Gen, SplitMix64};
use ocpp_types::{MessageError, OcppVersion};

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
                AnyResponse::generate(action, &mut g).and_then(|r| serde_json::to_string(&r).ok());
            generated.unwrap_or_else(|| "{}".to_owned())
        };
        let raw = serde_json::value::RawValue::from_string(response).ok()?;
        encode_call_result(id, &raw)
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
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
