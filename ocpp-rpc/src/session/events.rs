//! What a session reports: [`Event`]s, with the [`Outcome`] of each of our calls, the incoming
//! calls and SEND messages to act on, and the [`Violation`]s of the peer.

use alloc::string::String;

use ocpp_types::{AnyRequest, AnyResponse, DecodeError, Request};

use super::errors::{CallFailure, RpcError};
use crate::ErrorCode;
use crate::frame::FrameErrorKind;
use crate::id::MessageId;
use crate::leniency::LeniencyEvent;

/// Identifies one of our calls, from [`Session::call`](super::Session::call) to its [`Event::CallCompleted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

/// Identifies one incoming CALL, from [`Event::IncomingCall`] to [`Session::respond`](super::Session::respond).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IncomingId(pub u64);

/// How one of our calls ended. Every call ends in exactly one outcome.
///
/// `P` is what answers decode to (see [`Decoders`](super::Decoders)): [`AnyResponse`] unless
/// the session was given other decoders.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome<P = AnyResponse> {
    /// The CALLRESULT, decoded (and schema-valid). [`Outcome::into_response`] gives the
    /// concrete type.
    Response(P),
    /// The peer answered with a CALLERROR.
    CallError(RpcError),
    /// The peer's answer broke its schema or the frame structure (on 2.1 the session answered
    /// it with a CALLRESULTERROR).
    InvalidResponse(DecodeError),
    /// No answer within the call timeout.
    Timeout,
    /// The connection closed first (or the call was still queued when it closed).
    Closed,
}

impl<P> Outcome<P> {
    /// The decoded response, or why there is none (what an adapter hands to the caller
    /// waiting on the call).
    pub fn into_result(self) -> Result<P, CallFailure> {
        match self {
            Outcome::Response(response) => Ok(response),
            Outcome::CallError(error) => Err(CallFailure::CallError(error)),
            Outcome::InvalidResponse(error) => Err(CallFailure::InvalidResponse(error)),
            Outcome::Timeout => Err(CallFailure::Timeout),
            Outcome::Closed => Err(CallFailure::Closed),
        }
    }
}

impl Outcome {
    /// The response as `R::Response`, or why there is none.
    ///
    /// ```
    /// # use ocpp_rpc::{Outcome, CallFailure};
    /// # use ocpp_types::v201::HeartbeatRequest;
    /// # fn f(outcome: Outcome) -> Result<(), CallFailure> {
    /// let response = outcome.into_response::<HeartbeatRequest>()?;
    /// println!("CSMS time: {}", response.current_time);
    /// # Ok(()) }
    /// ```
    pub fn into_response<R: Request>(self) -> Result<R::Response, CallFailure> {
        self.into_result()?
            .into_message::<R::Response>()
            .map_err(|other| CallFailure::WrongType(other.action().as_str()))
    }
}

/// An incoming CALL, decoded and schema-valid, awaiting [`Session::respond`](super::Session::respond) (or
/// [`Session::respond_error`](super::Session::respond_error)).
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingCall<Q = AnyRequest> {
    /// What to answer it with.
    pub id: IncomingId,
    /// Its message id on the wire.
    pub message_id: MessageId,
    /// The request ([`AnyRequest`] unless the session was given other
    /// [`Decoders`](super::Decoders)).
    pub request: Q,
}

/// An incoming 2.1 SEND message, decoded and schema-valid (it gets no answer).
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingSend<Q = AnyRequest> {
    /// Its message id on the wire.
    pub message_id: MessageId,
    /// The message.
    pub message: Q,
}

/// What went wrong with an incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationKind {
    /// Not a frame: see the [`FrameErrorKind`].
    Frame(FrameErrorKind),
    /// A CALL (or SEND) for an action the version does not have.
    UnknownAction,
    /// A CALL for an action the version has but that this side does not take as a CALL (sent
    /// by the wrong side, a SEND-only action, or one outside [`Config::handled`](super::Config::handled);
    /// for a SEND, a CALL-only action).
    UnsupportedAction,
    /// A payload that breaks its schema.
    InvalidPayload,
    /// A CALLRESULT or CALLERROR whose id matches no call we sent.
    UnknownResponse,
    /// A CALLRESULT or CALLERROR for a call already settled (timed out or answered).
    LateResponse,
    /// A CALLERROR with an error code no version defines (reported as `GenericError`).
    UnknownErrorCode,
    /// More incoming CALLs awaiting our answer than [`Config::max_incoming`](super::Config::max_incoming)
    /// (answered `GenericError`; not counted as a bad message).
    TooManyIncomingCalls,
    /// A CALL whose message id is that of another incoming CALL still awaiting our answer.
    DuplicateMessageId,
}

/// An incoming message that broke the protocol, and what the session did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// What was wrong.
    pub kind: ViolationKind,
    /// The message id, when it could be read.
    pub message_id: Option<String>,
    /// An explanation for people (for payloads: JSON pointer and rule).
    pub detail: String,
    /// The error code the session answered with, if it answered.
    pub answered: Option<ErrorCode>,
}

/// Something the application should know about, from [`Session::poll_event`](super::Session::poll_event).
///
/// `Q` and `P` are what requests and answers decode to: [`AnyRequest`] and [`AnyResponse`]
/// unless the session was given other [`Decoders`](super::Decoders).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event<Q = AnyRequest, P = AnyResponse> {
    /// The peer called us: answer with [`Session::respond`](super::Session::respond) or [`Session::respond_error`](super::Session::respond_error).
    IncomingCall(IncomingCall<Q>),
    /// The peer sent a 2.1 SEND message.
    IncomingSend(IncomingSend<Q>),
    /// One of our calls ended.
    CallCompleted {
        /// The call.
        call: CallId,
        /// How it ended.
        outcome: Outcome<P>,
    },
    /// The peer refused one of our CALLRESULTs with a CALLRESULTERROR (2.1).
    ResponseRejected {
        /// The message id of our CALLRESULT.
        message_id: String,
        /// The peer's error.
        error: RpcError,
    },
    /// A leniency was taken on an incoming message.
    Leniency(LeniencyEvent),
    /// An incoming message broke the protocol.
    ProtocolViolation(Violation),
    /// [`Config::max_bad_messages`](super::Config::max_bad_messages) bad messages in a row: close the connection.
    TooManyBadMessages,
}
