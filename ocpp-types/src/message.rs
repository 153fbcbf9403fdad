//! What every generated message knows about itself: its action, version, senders and answer.

use alloc::string::String;
use core::fmt;

#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
use serde::Serialize;
#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
use serde::de::DeserializeOwned;

use crate::DecodeError;
#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
use crate::{AnyAction, AnyRequest, AnyResponse};

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

/// A side of an OCPP connection.
///
/// OCPP 1.6 calls them the *charge point* and the *central system*; 2.0.1 and 2.1 the *charging
/// station* and the *CSMS* (charging station management system). Who may send an action's
/// request is [`Message::SENT_BY`] (and `Action::senders` of each version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// The charging station (the *charge point* of OCPP 1.6): the WebSocket client.
    ChargingStation,
    /// The CSMS (the *central system* of OCPP 1.6): the WebSocket server.
    Csms,
}

impl Role {
    /// Both roles.
    pub const ALL: [Role; 2] = [Role::ChargingStation, Role::Csms];

    /// The other side of the connection.
    ///
    /// ```
    /// use ocpp_types::Role;
    /// assert_eq!(Role::ChargingStation.peer(), Role::Csms);
    /// assert_eq!(Role::Csms.peer(), Role::ChargingStation);
    /// ```
    pub const fn peer(self) -> Role {
        match self {
            Role::ChargingStation => Role::Csms,
            Role::Csms => Role::ChargingStation,
        }
    }

    #[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
    /// Whether `roles` holds this role (a `const` `contains`).
    pub(crate) const fn is_in(self, roles: &[Role]) -> bool {
        let mut i = 0;
        while i < roles.len() {
            if roles[i] as u8 == self as u8 {
                return true;
            }
            i += 1;
        }
        false
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::ChargingStation => "charging station",
            Role::Csms => "CSMS",
        })
    }
}

#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
/// A message that starts an exchange: the payload of a CALL (every `<Action>Request`, see
/// [`Request`]) or of an OCPP 2.1 SEND ([`SendMessage`]).
///
/// It knows its action, version and senders, and moves in and out of [`AnyRequest`] without
/// any run-time type test (the generated impls are plain `match`es):
///
/// ```
/// use ocpp_types::{AnyRequest, Message, Role, v201::HeartbeatRequest};
///
/// assert_eq!(HeartbeatRequest::ACTION, "Heartbeat");
/// assert_eq!(HeartbeatRequest::SENT_BY, &[Role::ChargingStation]);
/// let any: AnyRequest = HeartbeatRequest::default().into_any();
/// assert_eq!(any.action(), HeartbeatRequest::ANY_ACTION);
/// assert_eq!(HeartbeatRequest::from_any_ref(&any), Some(&HeartbeatRequest::default()));
/// assert_eq!(HeartbeatRequest::try_from_any(any), Ok(HeartbeatRequest::default()));
/// ```
pub trait Message:
    Serialize
    + DeserializeOwned
    + Clone
    + fmt::Debug
    + PartialEq
    + Send
    + Sync
    + 'static
    + Into<AnyRequest>
{
    /// The action name on the wire.
    const ACTION: &'static str;
    /// The OCPP version the message belongs to.
    const VERSION: OcppVersion;
    /// Who may send it: one role, or both (`DataTransfer`).
    const SENT_BY: &'static [Role];
    /// The action, as [`AnyRequest::action`] reports it.
    const ANY_ACTION: AnyAction;
    /// Its schema, as data (see [`crate::schema::decode`]).
    const SCHEMA: &'static crate::Schema;

    /// Whether `role` may send it.
    fn sent_by(role: Role) -> bool {
        role.is_in(Self::SENT_BY)
    }

    /// Wraps it in the cross-version union.
    fn into_any(self) -> AnyRequest;

    /// The message inside `any`, if it is one of this type (`Err` gives `any` back unchanged).
    fn try_from_any(any: AnyRequest) -> Result<Self, AnyRequest>;

    /// The message inside `any`, if it is one of this type.
    fn from_any_ref(any: &AnyRequest) -> Option<&Self>;
}

#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
/// The payload of a CALL: a request, typed, with its action and the type of its answer.
///
/// Every `<Action>Request` of every version implements it, so code can be generic over
/// requests:
///
/// ```
/// use ocpp_types::{Message, Request, v201::HeartbeatRequest};
/// fn action_of<R: Request>(_: &R) -> &'static str { R::ACTION }
/// assert_eq!(action_of(&HeartbeatRequest::default()), "Heartbeat");
/// ```
pub trait Request: Message {
    /// The CALLRESULT payload that answers it.
    type Response: Response<Request = Self>;
}

#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
/// The payload of a CALLRESULT, tied to its request.
///
/// ```
/// use ocpp_types::{AnyResponse, Response, v201::HeartbeatResponse};
/// let response = HeartbeatResponse::new("2025-01-01T00:00:00Z".parse()?);
/// let any: AnyResponse = response.clone().into_any();
/// assert_eq!(any.action().as_str(), "Heartbeat");
/// assert_eq!(HeartbeatResponse::try_from_any(any), Ok(response));
/// # Ok::<(), ocpp_types::DateTimeError>(())
/// ```
pub trait Response:
    Serialize
    + DeserializeOwned
    + Clone
    + fmt::Debug
    + PartialEq
    + Send
    + Sync
    + 'static
    + Into<AnyResponse>
{
    /// The request it answers.
    type Request: Request<Response = Self>;
    /// Its schema, as data (see [`crate::schema::decode`]).
    const SCHEMA: &'static crate::Schema;

    /// Wraps it in the cross-version union.
    fn into_any(self) -> AnyResponse;

    /// The response inside `any`, if it is one of this type (`Err` gives `any` back
    /// unchanged).
    fn try_from_any(any: AnyResponse) -> Result<Self, AnyResponse>;

    /// The response inside `any`, if it is one of this type.
    fn from_any_ref(any: &AnyResponse) -> Option<&Self>;
}

#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
/// The payload of an OCPP 2.1 SEND: a message that gets no answer
/// (`NotifyPeriodicEventStream`).
pub trait SendMessage: Message {}

/// A message that could not be decoded: an action this version does not have, or a payload
/// that breaks its action's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// The action is not one of this version's (or has no such message: a response to a SEND).
    UnknownAction {
        /// The action as received.
        action: String,
    },
    /// The payload breaks the action's schema.
    Invalid(DecodeError),
}

#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
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
