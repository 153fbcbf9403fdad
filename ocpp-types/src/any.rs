//! [`AnyAction`], [`AnyRequest`] and [`AnyResponse`]: one type over the actions and messages of
//! every enabled version, for code whose version is chosen at run time (a session, a router).
//!
//! Each version module has its own `Action`, `Request` and `Response` enums; these wrap them,
//! tagged with the version. Moving a concrete message in and out goes through the generated
//! impls of [`Message`] and [`Response`] (plain `match`es over the version enums), so this file
//! names no action.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use serde::{Serialize, Serializer};

use crate::{Message, MessageError, OcppVersion, Response, Role};

#[cfg(feature = "v16")]
use crate::v16;
#[cfg(feature = "v21")]
use crate::v21;
#[cfg(feature = "v201")]
use crate::v201;

/// Applies `$body` to the version enum inside `$value` (bound as `$inner`) whatever its version.
macro_rules! each_version {
    ($value:expr, $ty:ident, $inner:ident => $body:expr) => {
        match $value {
            #[cfg(feature = "v16")]
            $ty::V16($inner) => $body,
            #[cfg(feature = "v201")]
            $ty::V201($inner) => $body,
            #[cfg(feature = "v21")]
            $ty::V21($inner) => $body,
        }
    };
}

/// An action of any version: the version's `Action` enum, tagged with the version.
///
/// ```
/// use ocpp_types::{AnyAction, OcppVersion, Role};
/// let action = AnyAction::from_name(OcppVersion::V16, "BootNotification").unwrap();
/// assert_eq!((action.version(), action.as_str()), (OcppVersion::V16, "BootNotification"));
/// assert!(action.sent_by(Role::ChargingStation) && !action.sent_by(Role::Csms));
/// assert_eq!(AnyAction::from_name(OcppVersion::V16, "TransactionEvent"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AnyAction {
    /// An OCPP 1.6 action.
    #[cfg(feature = "v16")]
    V16(v16::Action),
    /// An OCPP 2.0.1 action.
    #[cfg(feature = "v201")]
    V201(v201::Action),
    /// An OCPP 2.1 action.
    #[cfg(feature = "v21")]
    V21(v21::Action),
}

impl AnyAction {
    /// The action of `version` with this exact name (`None` also when the version's feature is
    /// off).
    pub fn from_name(version: OcppVersion, name: &str) -> Option<AnyAction> {
        match version {
            #[cfg(feature = "v16")]
            OcppVersion::V16 => v16::Action::from_name(name).map(AnyAction::V16),
            #[cfg(feature = "v201")]
            OcppVersion::V201 => v201::Action::from_name(name).map(AnyAction::V201),
            #[cfg(feature = "v21")]
            OcppVersion::V21 => v21::Action::from_name(name).map(AnyAction::V21),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = name;
                None
            }
        }
    }

    /// Every action of `version`, sorted by name (empty when the version's feature is off).
    pub fn all(version: OcppVersion) -> Vec<AnyAction> {
        match version {
            #[cfg(feature = "v16")]
            OcppVersion::V16 => v16::Action::ALL
                .iter()
                .map(|&a| AnyAction::V16(a))
                .collect(),
            #[cfg(feature = "v201")]
            OcppVersion::V201 => v201::Action::ALL
                .iter()
                .map(|&a| AnyAction::V201(a))
                .collect(),
            #[cfg(feature = "v21")]
            OcppVersion::V21 => v21::Action::ALL
                .iter()
                .map(|&a| AnyAction::V21(a))
                .collect(),
            #[allow(unreachable_patterns)]
            _ => Vec::new(),
        }
    }

    /// The version the action belongs to.
    pub const fn version(self) -> OcppVersion {
        match self {
            #[cfg(feature = "v16")]
            AnyAction::V16(_) => OcppVersion::V16,
            #[cfg(feature = "v201")]
            AnyAction::V201(_) => OcppVersion::V201,
            #[cfg(feature = "v21")]
            AnyAction::V21(_) => OcppVersion::V21,
        }
    }

    /// The action's name on the wire.
    pub const fn as_str(self) -> &'static str {
        each_version!(self, AnyAction, a => a.as_str())
    }

    /// Who may send the action's request: one role, or both (`DataTransfer`).
    pub const fn senders(self) -> &'static [Role] {
        each_version!(self, AnyAction, a => a.senders())
    }

    /// Whether `role` may send the action's request.
    pub const fn sent_by(self, role: Role) -> bool {
        each_version!(self, AnyAction, a => a.sent_by(role))
    }

    /// Whether it is a CALL answered by a CALLRESULT (`false` for 2.1's SEND messages).
    pub const fn has_response(self) -> bool {
        each_version!(self, AnyAction, a => a.has_response())
    }

    /// The schema of the action's request (or SEND message), as data.
    pub const fn request_schema(self) -> &'static crate::Schema {
        each_version!(self, AnyAction, a => a.request_schema())
    }

    /// The schema of the action's response (`None` for a SEND message), as data.
    pub const fn response_schema(self) -> Option<&'static crate::Schema> {
        each_version!(self, AnyAction, a => a.response_schema())
    }
}

impl fmt::Display for AnyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The action's name.
impl Serialize for AnyAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A request (or 2.1 SEND message) of any version: the version's `Request` enum, boxed (the
/// largest message is several hundred bytes; a boxed union moves cheaply).
///
/// ```
/// use ocpp_types::{AnyRequest, v16, v201};
///
/// let any = AnyRequest::from_message(v201::HeartbeatRequest::default());
/// assert_eq!(any.action().as_str(), "Heartbeat");
/// assert_eq!(any.message::<v201::HeartbeatRequest>(), Some(&v201::HeartbeatRequest::default()));
/// // The wrong type gives the request back.
/// let any = any.into_message::<v16::HeartbeatRequest>().unwrap_err();
/// let heartbeat: v201::HeartbeatRequest = any.into_message().unwrap();
/// # let _ = heartbeat;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum AnyRequest {
    /// An OCPP 1.6 request.
    #[cfg(feature = "v16")]
    V16(Box<v16::Request>),
    /// An OCPP 2.0.1 request.
    #[cfg(feature = "v201")]
    V201(Box<v201::Request>),
    /// An OCPP 2.1 request or SEND message.
    #[cfg(feature = "v21")]
    V21(Box<v21::Request>),
}

impl AnyRequest {
    /// A random schema-valid request (or SEND message) of `action` (see [`crate::random`]).
    #[cfg(feature = "random")]
    pub fn generate(action: AnyAction, g: &mut crate::random::Gen<'_>) -> Option<AnyRequest> {
        match action {
            #[cfg(feature = "v16")]
            AnyAction::V16(a) => v16::Request::generate(a, g).map(|r| AnyRequest::V16(Box::new(r))),
            #[cfg(feature = "v201")]
            AnyAction::V201(a) => {
                v201::Request::generate(a, g).map(|r| AnyRequest::V201(Box::new(r)))
            }
            #[cfg(feature = "v21")]
            AnyAction::V21(a) => v21::Request::generate(a, g).map(|r| AnyRequest::V21(Box::new(r))),
        }
    }

    /// The action.
    pub fn action(&self) -> AnyAction {
        match self {
            #[cfg(feature = "v16")]
            AnyRequest::V16(m) => AnyAction::V16(m.action()),
            #[cfg(feature = "v201")]
            AnyRequest::V201(m) => AnyAction::V201(m.action()),
            #[cfg(feature = "v21")]
            AnyRequest::V21(m) => AnyAction::V21(m.action()),
        }
    }

    /// The version.
    pub fn version(&self) -> OcppVersion {
        self.action().version()
    }

    /// Decodes the payload of `action`, enforcing its schema.
    ///
    /// ```
    /// use ocpp_types::{AnyAction, AnyRequest, MessageError, OcppVersion};
    /// let action = AnyAction::from_name(OcppVersion::V201, "Heartbeat").unwrap();
    /// assert_eq!(AnyRequest::decode(action, "{}")?.action(), action);
    /// assert!(matches!(AnyRequest::decode(action, "[]"), Err(MessageError::Invalid(_))));
    /// # Ok::<(), MessageError>(())
    /// ```
    pub fn decode(action: AnyAction, payload: &str) -> Result<AnyRequest, MessageError> {
        Ok(match action {
            #[cfg(feature = "v16")]
            AnyAction::V16(a) => v16::Request::decode_action(a, payload)?.into(),
            #[cfg(feature = "v201")]
            AnyAction::V201(a) => v201::Request::decode_action(a, payload)?.into(),
            #[cfg(feature = "v21")]
            AnyAction::V21(a) => v21::Request::decode_action(a, payload)?.into(),
        })
    }

    /// Wraps a concrete request or SEND message of any version (the same as
    /// [`Message::into_any`]).
    pub fn from_message<M: Message>(message: M) -> AnyRequest {
        message.into_any()
    }

    /// The concrete message, if it is an `M` (`Err` gives `self` back unchanged).
    pub fn into_message<M: Message>(self) -> Result<M, AnyRequest> {
        M::try_from_any(self)
    }

    /// The concrete message, if it is an `M`.
    pub fn message<M: Message>(&self) -> Option<&M> {
        M::from_any_ref(self)
    }
}

impl Serialize for AnyRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        each_version!(self, AnyRequest, m => m.serialize(serializer))
    }
}

/// A response of any version: the version's `Response` enum, boxed.
///
/// ```
/// use ocpp_types::{AnyResponse, v201::HeartbeatResponse};
///
/// let response = HeartbeatResponse::new("2025-01-01T00:00:00Z".parse()?);
/// let any = AnyResponse::from_message(response.clone());
/// assert_eq!(any.action().as_str(), "Heartbeat");
/// assert_eq!(any.message::<HeartbeatResponse>(), Some(&response));
/// assert_eq!(any.into_message::<HeartbeatResponse>(), Ok(response));
/// # Ok::<(), ocpp_types::DateTimeError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum AnyResponse {
    /// An OCPP 1.6 response.
    #[cfg(feature = "v16")]
    V16(Box<v16::Response>),
    /// An OCPP 2.0.1 response.
    #[cfg(feature = "v201")]
    V201(Box<v201::Response>),
    /// An OCPP 2.1 response.
    #[cfg(feature = "v21")]
    V21(Box<v21::Response>),
}

impl AnyResponse {
    /// A random schema-valid response of `action` (`None` for a SEND message; see
    /// [`crate::random`]).
    #[cfg(feature = "random")]
    pub fn generate(action: AnyAction, g: &mut crate::random::Gen<'_>) -> Option<AnyResponse> {
        match action {
            #[cfg(feature = "v16")]
            AnyAction::V16(a) => {
                v16::Response::generate(a, g).map(|r| AnyResponse::V16(Box::new(r)))
            }
            #[cfg(feature = "v201")]
            AnyAction::V201(a) => {
                v201::Response::generate(a, g).map(|r| AnyResponse::V201(Box::new(r)))
            }
            #[cfg(feature = "v21")]
            AnyAction::V21(a) => {
                v21::Response::generate(a, g).map(|r| AnyResponse::V21(Box::new(r)))
            }
        }
    }

    /// The action it answers.
    pub fn action(&self) -> AnyAction {
        match self {
            #[cfg(feature = "v16")]
            AnyResponse::V16(m) => AnyAction::V16(m.action()),
            #[cfg(feature = "v201")]
            AnyResponse::V201(m) => AnyAction::V201(m.action()),
            #[cfg(feature = "v21")]
            AnyResponse::V21(m) => AnyAction::V21(m.action()),
        }
    }

    /// The version.
    pub fn version(&self) -> OcppVersion {
        self.action().version()
    }

    /// Decodes the CALLRESULT payload of `action`, enforcing its schema (an action without a
    /// response, a 2.1 SEND, is [`MessageError::UnknownAction`]).
    pub fn decode(action: AnyAction, payload: &str) -> Result<AnyResponse, MessageError> {
        Ok(match action {
            #[cfg(feature = "v16")]
            AnyAction::V16(a) => v16::Response::decode_action(a, payload)?.into(),
            #[cfg(feature = "v201")]
            AnyAction::V201(a) => v201::Response::decode_action(a, payload)?.into(),
            #[cfg(feature = "v21")]
            AnyAction::V21(a) => v21::Response::decode_action(a, payload)?.into(),
        })
    }

    /// Wraps a concrete response of any version (the same as [`Response::into_any`]).
    pub fn from_message<R: Response>(message: R) -> AnyResponse {
        message.into_any()
    }

    /// The concrete response, if it is an `R` (`Err` gives `self` back unchanged).
    pub fn into_message<R: Response>(self) -> Result<R, AnyResponse> {
        R::try_from_any(self)
    }

    /// The concrete response, if it is an `R`.
    pub fn message<R: Response>(&self) -> Option<&R> {
        R::from_any_ref(self)
    }
}

impl Serialize for AnyResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        each_version!(self, AnyResponse, m => m.serialize(serializer))
    }
}

macro_rules! from_version {
    ($feature:literal, $module:ident, $variant:ident) => {
        #[cfg(feature = $feature)]
        impl From<$module::Request> for AnyRequest {
            fn from(message: $module::Request) -> Self {
                AnyRequest::$variant(Box::new(message))
            }
        }

        #[cfg(feature = $feature)]
        impl From<$module::Response> for AnyResponse {
            fn from(message: $module::Response) -> Self {
                AnyResponse::$variant(Box::new(message))
            }
        }

        #[cfg(feature = $feature)]
        impl From<$module::Action> for AnyAction {
            fn from(action: $module::Action) -> Self {
                AnyAction::$variant(action)
            }
        }
    };
}

from_version!("v16", v16, V16);
from_version!("v201", v201, V201);
from_version!("v21", v21, V21);
