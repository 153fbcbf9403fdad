//! What travels over NATS between the processes of a cluster: the headers that say which
//! station and which action a message is about, and the outcome of a call.
//!
//! A routed call is a NATS request to the holder node's call subject: the headers name the
//! station, the version and the action, the payload is the request's JSON. A station call
//! handed to workers is a JetStream message with the same headers plus the node and a call
//! number to answer to. Both are answered with an [`Outcome`]: its kind in a header, the
//! response's JSON (or the CALLERROR as JSON, or a reason as text) in the payload.

use async_nats::HeaderMap;
use bytes::Bytes;
use ocpp_rpc::{AnyAction, ErrorCode, RpcError};
use ocpp_types::OcppVersion;

use crate::key;

/// The station, as it sent its identity ([`key::escape`]d).
pub(crate) const STATION: &str = "Ocpp-Station";
/// The version, as its WebSocket subprotocol (`ocpp2.0.1`).
pub(crate) const VERSION: &str = "Ocpp-Version";
/// The action.
pub(crate) const ACTION: &str = "Ocpp-Action";
/// The node a handed-off call came in on.
pub(crate) const NODE: &str = "Ocpp-Node";
/// The node's number for a handed-off call, to match its answer.
pub(crate) const CALL: &str = "Ocpp-Call";
/// The presence session a node is told to close (eviction).
pub(crate) const SESSION: &str = "Ocpp-Session";
/// An outcome's kind.
const OUTCOME: &str = "Ocpp-Outcome";

/// Which station a message is about and what it asks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Addressed {
    pub(crate) identity: String,
    pub(crate) action: AnyAction,
}

impl Addressed {
    pub(crate) fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(STATION, key::escape(&self.identity).as_str());
        headers.insert(VERSION, self.action.version().subprotocol());
        headers.insert(ACTION, self.action.as_str());
        headers
    }

    pub(crate) fn from_headers(headers: Option<&HeaderMap>) -> Result<Addressed, String> {
        let identity = header(headers, STATION)?;
        let identity = key::unescape(identity)
            .ok_or_else(|| format!("{STATION} {identity:?} is not escaped"))?;
        let version = header(headers, VERSION)?;
        let version = OcppVersion::from_subprotocol(version)
            .ok_or_else(|| format!("{VERSION} {version:?} is no OCPP version"))?;
        let action = header(headers, ACTION)?;
        let action = AnyAction::from_name(version, action)
            .ok_or_else(|| format!("{action:?} is no action of OCPP {version}"))?;
        Ok(Addressed { identity, action })
    }
}

/// The value of header `name`, which must be there.
pub(crate) fn header<'a>(headers: Option<&'a HeaderMap>, name: &str) -> Result<&'a str, String> {
    headers
        .and_then(|h| h.get(name))
        .map(|v| v.as_str())
        .ok_or_else(|| format!("no {name} header"))
}

/// How a call ended, as one process tells another.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The response's JSON.
    Result(Bytes),
    /// The station (or a worker) answered with a CALLERROR.
    CallError(RpcError),
    /// The node does not hold the station (any more).
    NotConnected,
    /// The station did not answer within its session's call timeout.
    Timeout,
    /// The call failed otherwise (the connection closed, the request was refused, the
    /// response broke its schema, the message could not be read): why.
    Failed(String),
}

impl Outcome {
    pub(crate) fn encode(&self, mut headers: HeaderMap) -> (HeaderMap, Bytes) {
        let (kind, payload) = match self {
            Outcome::Result(json) => ("result", json.clone()),
            Outcome::CallError(error) => {
                let json = serde_json::json!({
                    "code": error.code.name(),
                    "description": error.description,
                    "details": error.details,
                });
                ("call-error", Bytes::from(json.to_string()))
            }
            Outcome::NotConnected => ("not-connected", Bytes::new()),
            Outcome::Timeout => ("timeout", Bytes::new()),
            Outcome::Failed(why) => ("failed", Bytes::from(why.clone())),
        };
        headers.insert(OUTCOME, kind);
        (headers, payload)
    }

    pub(crate) fn decode(headers: Option<&HeaderMap>, payload: &Bytes) -> Result<Outcome, String> {
        Ok(match header(headers, OUTCOME)? {
            "result" => Outcome::Result(payload.clone()),
            "call-error" => Outcome::CallError(rpc_error(payload)?),
            "not-connected" => Outcome::NotConnected,
            "timeout" => Outcome::Timeout,
            "failed" => Outcome::Failed(String::from_utf8_lossy(payload).into_owned()),
            other => return Err(format!("unknown outcome {other:?}")),
        })
    }
}

fn rpc_error(payload: &[u8]) -> Result<RpcError, String> {
    let value: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| format!("CALLERROR not JSON: {e}"))?;
    let code = value
        .get("code")
        .and_then(|c| c.as_str())
        .and_then(ErrorCode::parse)
        .ok_or("CALLERROR without a known code")?;
    let description = value
        .get("description")
        .and_then(|d| d.as_str())
        .unwrap_or_default();
    let details = value
        .get("details")
        .and_then(|d| d.as_object())
        .cloned()
        .unwrap_or_default();
    Ok(RpcError::new(code, description).with_details(details))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addressed_round_trips_through_headers() {
        let action = AnyAction::from_name(OcppVersion::V16, "Reset");
        let addressed = Addressed {
            identity: "CP 1.a".into(),
            action: action.expect("1.6 has Reset"),
        };
        let headers = addressed.headers();
        assert_eq!(Addressed::from_headers(Some(&headers)), Ok(addressed));
    }

    #[test]
    fn bad_headers_say_what_is_wrong() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            Addressed::from_headers(Some(&headers)),
            Err("no Ocpp-Station header".into())
        );
        headers.insert(STATION, "cp1");
        headers.insert(VERSION, "ocpp9");
        headers.insert(ACTION, "Reset");
        assert!(Addressed::from_headers(Some(&headers)).is_err_and(|e| e.contains("ocpp9")));
        headers.insert(VERSION, "ocpp2.0.1");
        headers.insert(ACTION, "StartTransaction");
        assert!(
            Addressed::from_headers(Some(&headers)).is_err_and(|e| e.contains("StartTransaction"))
        );
    }

    #[test]
    fn outcomes_round_trip() {
        let mut details = serde_json::Map::new();
        details.insert("field".into(), "evse".into());
        for outcome in [
            Outcome::Result(Bytes::from_static(br#"{"status":"Accepted"}"#)),
            Outcome::CallError(
                RpcError::new(ErrorCode::PropertyConstraintViolation, "bad evse")
                    .with_details(details),
            ),
            Outcome::NotConnected,
            Outcome::Timeout,
            Outcome::Failed("connection closed".into()),
        ] {
            let (headers, payload) = outcome.encode(HeaderMap::new());
            assert_eq!(Outcome::decode(Some(&headers), &payload), Ok(outcome));
        }
        assert!(Outcome::decode(None, &Bytes::new()).is_err());
    }
}
