//! What every generated message knows about itself: its action, version, sender and answer.

use alloc::string::String;
use core::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::DecodeError;

/// An OCPP version, as negotiated by the WebSocket subprotocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OcppVersion {
    /// OCPP 1.6 (JSON), `ocpp1.6`.
    V16,
    /// OCPP 2.0.1, `ocpp2.0.1`.
    V201,
    /// OCPP 2.1, `ocpp2.1`.
    V21,
}

impl OcppVersion {
    /// Every version, oldest first.
    pub const ALL: [OcppVersion; 3] = [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21];

    /// The WebSocket subprotocol (`ocpp1.6`, `ocpp2.0.1`, `ocpp2.1`).
    pub const fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp1.6",
            OcppVersion::V201 => "ocpp2.0.1",
            OcppVersion::V21 => "ocpp2.1",
        }
    }

    /// The version for a subprotocol name, or a bare version number (`2.0.1`).
    pub fn from_subprotocol(name: &str) -> Option<OcppVersion> {
        match name.strip_prefix("ocpp").unwrap_or(name) {
            "1.6" => Some(OcppVersion::V16),
            "2.0.1" => Some(OcppVersion::V201),
            "2.1" => Some(OcppVersion::V21),
            _ => None,
        }
    }
}

impl fmt::Display for OcppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.subprotocol()[4..])
    }
}

/// Which side of a connection sends an action's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    /// The charging station (the "charge point" of 1.6).
    ChargingStation,
    /// The CSMS (the "central system" of 1.6).
    Csms,
    /// Either side (`DataTransfer`).
    Both,
}

impl Sender {
    /// Whether a station (`true`) or a CSMS (`false`) may send it.
    pub const fn allows(self, from_station: bool) -> bool {
        match self {
            Sender::Both => true,
            Sender::ChargingStation => from_station,
            Sender::Csms => !from_station,
        }
    }
}

/// The payload of a CALL: a request, typed, with its action and the type of its answer.
///
/// Every `<Action>Request` of every version implements it, so code can be generic over
/// requests:
///
/// ```
/// use ocpp_types::{Request, v201::HeartbeatRequest};
/// fn action_of<R: Request>(_: &R) -> &'static str { R::ACTION }
/// assert_eq!(action_of(&HeartbeatRequest::default()), "Heartbeat");
/// ```
pub trait Request:
    Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static
{
    /// The action name on the wire.
    const ACTION: &'static str;
    /// The OCPP version the message belongs to.
    const VERSION: OcppVersion;
    /// Who may send it.
    const SENDER: Sender;
    /// The CALLRESULT payload that answers it.
    type Response: Response<Request = Self>;
}

/// The payload of a CALLRESULT, tied to its request.
pub trait Response:
    Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static
{
    /// The request it answers.
    type Request: Request<Response = Self>;
}

/// The payload of an OCPP 2.1 SEND: a message that gets no answer.
pub trait SendMessage:
    Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static
{
    /// The action name on the wire.
    const ACTION: &'static str;
    /// The OCPP version the message belongs to.
    const VERSION: OcppVersion;
    /// Who may send it.
    const SENDER: Sender;
}

/// A message that could not be decoded: an action this version does not have, or a payload
/// that breaks its action's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// The action is not one of this version's (or has no such message: a response to a SEND).
    UnknownAction {
        /// The action as received.
        action: String,
    },
    /// The payload breaks the action's schema.
    Invalid(DecodeError),
}

impl MessageError {
    pub(crate) fn unknown_action(action: &str) -> MessageError {
        MessageError::UnknownAction {
            action: String::from(action),
        }
    }
}

impl From<DecodeError> for MessageError {
    fn from(err: DecodeError) -> Self {
        MessageError::Invalid(err)
    }
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::UnknownAction { action } => write!(f, "unknown action {action:?}"),
            MessageError::Invalid(err) => err.fmt(f),
        }
    }
}

impl core::error::Error for MessageError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            MessageError::Invalid(err) => Some(err),
            MessageError::UnknownAction { .. } => None,
        }
    }
}
