//! The router's own answers, when no backend can give one (`primary_down = "local"`, or
//! every backend unreachable): what a station offline would decide for itself.

use ocpp_rpc::{AnyAction, AnyResponse, ErrorCode, RpcError};
use ocpp_types::{DateTime, OcppVersion};
use serde_json::{Value, json};

use crate::config::RouterConfig;
use crate::policy::{decision_field, local_decision};

/// The answer to the station's `action` with payload `request`.
///
/// BootNotification is `Accepted` with [`RouterConfig::local_interval`]; Heartbeat gets the
/// time; an authorization gets [`RouterConfig::local_authorize`]'s decision; a 1.6
/// StartTransaction gets a transaction id of the router's own (negative, so that it never
/// equals one a CSMS gave; the replay maps it to the primary's). An action whose response
/// requires nothing gets `{}`; any other a CALLERROR `InternalError`, as the router cannot
/// make up, say, a certificate.
pub(crate) fn answer(
    version: OcppVersion,
    action: &str,
    request: &Value,
    config: &RouterConfig,
) -> Result<Value, RpcError> {
    let now = DateTime::now().to_string();
    let mut answer = match action {
        "BootNotification" => {
            json!({"currentTime": now, "interval": config.local_interval, "status": "Accepted"})
        }
        "Heartbeat" => json!({"currentTime": now}),
        _ => json!({}),
    };
    if let Some(field) = decision_field(version, action) {
        // StopTransaction and TransactionEvent carry a decision only for a token they sent.
        let token = match action {
            "StopTransaction" => request.get("idTag").is_some(),
            "TransactionEvent" => request.get("idToken").is_some(),
            _ => true,
        };
        if token {
            if let Some(object) = answer.as_object_mut() {
                object.extend(local_decision(field, config.local_authorize));
            }
        }
    }
    if (version, action) == (OcppVersion::V16, "StartTransaction") {
        answer["transactionId"] = Value::from(local_transaction_id());
    }
    let valid = AnyAction::from_name(version, action)
        .is_some_and(|a| AnyResponse::decode(a, &answer.to_string()).is_ok());
    if valid {
        Ok(answer)
    } else {
        Err(RpcError::new(
            ErrorCode::InternalError,
            format!("no backend is reachable to answer {action}"),
        ))
    }
}

/// A transaction id of the router's own: negative, from the clock's nanoseconds and a
/// counter, so that two never repeat within a run and a CSMS's (positive) ids are never met.
fn local_transaction_id() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static NEXT: AtomicI64 = AtomicI64::new(0);
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::from(d.subsec_micros()) << 20);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    -1 - ((start + n) & 0x3FFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(accept: bool) -> RouterConfig {
        let mut config = RouterConfig::from_toml(
            "[[backend]]\nname = \"a\"\nurl = \"ws://x\"\nprimary = true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        config.local_authorize = accept;
        config
    }

    #[test]
    fn local_answers_are_schema_valid_and_follow_the_configuration() {
        let accept = config(true);
        let v16 = OcppVersion::V16;
        let start =
            answer(v16, "StartTransaction", &json!({}), &accept).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(start["idTagInfo"]["status"], "Accepted");
        assert!(start["transactionId"].as_i64().is_some_and(|id| id < 0));
        let stop = answer(v16, "StopTransaction", &json!({}), &accept);
        assert_eq!(stop.ok(), Some(json!({})));
        let refuse = config(false);
        let authorize = answer(OcppVersion::V201, "Authorize", &json!({}), &refuse)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(authorize["idTokenInfo"]["status"], "Invalid");
        let event = answer(
            OcppVersion::V21,
            "TransactionEvent",
            &json!({"idToken": {}}),
            &accept,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(event["idTokenInfo"]["status"], "Accepted");
        let boot = answer(OcppVersion::V201, "BootNotification", &json!({}), &accept)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(boot["interval"], 300);
        let certificate = answer(OcppVersion::V201, "SignCertificate", &json!({}), &accept);
        assert!(
            matches!(&certificate, Err(e) if e.code == ErrorCode::InternalError),
            "{certificate:?}"
        );
    }
}
