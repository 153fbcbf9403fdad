//! The errors of a session: the peer's [`RpcError`] (a CALLERROR's content), why a message
//! was not sent ([`SubmitError`]) or an answer not given ([`RespondError`]), and why a call got
//! no response ([`CallFailure`]).

use alloc::string::String;
use core::fmt;

use ocpp_types::{DecodeError, OcppVersion, Role};

use super::events::IncomingId;
use crate::ErrorCode;

/// An error to send or one received: code, description and details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// The code (an unknown code received is [`ErrorCode::GenericError`]).
    pub code: ErrorCode,
    /// The description (cut to 255 characters when sent on 2.x).
    pub description: String,
    /// The details object.
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl RpcError {
    /// An error with no details.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> RpcError {
        RpcError {
            code,
            description: description.into(),
            details: serde_json::Map::new(),
        }
    }

    /// Sets the details.
    pub fn with_details(mut self, details: serde_json::Map<String, serde_json::Value>) -> Self {
        self.details = details;
        self
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.description.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{}: {}", self.code, self.description)
        }
    }
}

impl core::error::Error for RpcError {}

/// Why [`Session::call`](super::Session::call) or [`Session::send`](super::Session::send)
/// refused a message: it was never written to the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The queue is full ([`Config::max_queued`](super::Config::max_queued)): back-pressure, try again after a call ends.
    #[error("the call queue is full")]
    QueueFull,
    /// The message belongs to another version than the session's.
    #[error("a {message} message on a {session} session")]
    WrongVersion {
        /// The session's version.
        session: OcppVersion,
        /// The message's version.
        message: OcppVersion,
    },
    /// Not an action of the session's version (or its feature is off).
    #[error("unknown action {0}")]
    UnknownAction(&'static str),
    /// This side may not send the action.
    #[error("a {role:?} may not send {action}")]
    NotAllowed {
        /// The action.
        action: &'static str,
        /// This side.
        role: Role,
    },
    /// A SEND-only action passed to `call`, or a CALL action passed to `send`.
    #[error("{0} is not sent this way (CALL vs SEND)")]
    WrongMessageType(&'static str),
    /// The message could not be serialized (it breaks a schema rule its type cannot express,
    /// such as a number out of range).
    #[error("the message does not serialize: {0}")]
    Encode(String),
    /// The id generator kept returning ids in use.
    #[error("the id generator returned only ids in use")]
    IdCollision,
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
}

/// Why a call got no response: the error of a typed call, in the sans-I/O core
/// ([`Outcome::into_response`](super::Outcome::into_response)) and in every runtime adapter
/// (`connection.call(request).await`) alike.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallFailure {
    /// The session refused to send it (a request of another version, a full queue, ...).
    #[error("not sent: {0}")]
    Refused(SubmitError),
    /// The peer answered with a CALLERROR.
    #[error("CALLERROR {0}")]
    CallError(RpcError),
    /// The peer's answer broke its schema.
    #[error("invalid response: {0}")]
    InvalidResponse(DecodeError),
    /// No answer in time.
    #[error("no response in time")]
    Timeout,
    /// The connection closed before the answer came (or the call was still queued).
    #[error("connection closed")]
    Closed,
    /// The response is not of the type asked for (it answers another action).
    #[error("the response answers {0}, not the action asked for")]
    WrongType(&'static str),
}

/// Why [`Session::respond`](super::Session::respond) or
/// [`Session::respond_error`](super::Session::respond_error) did not send the answer given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RespondError {
    /// No incoming call awaits an answer with this id (already answered, or the session was
    /// closed and reopened).
    #[error("no incoming call {0:?} awaits an answer")]
    UnknownCall(IncomingId),
    /// The response answers another action; an `InternalError` CALLERROR was sent instead.
    #[error("a {got} response to a {expected} call; sent InternalError instead")]
    WrongResponse {
        /// The incoming call's action.
        expected: &'static str,
        /// The response's action.
        got: &'static str,
    },
    /// The response does not serialize (it breaks its schema); an `InternalError` CALLERROR
    /// was sent instead.
    #[error("invalid response ({0}); sent InternalError instead")]
    Invalid(String),
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
}
