#![doc = include_str!("../README.md")]
//!
//! # Modules
//! - [`frame`]: parse one WebSocket text message into a [`Frame`] borrowing from it (payloads
//!   stay raw JSON until decoded); write frames straight to bytes.
//! - [`ErrorCode`]: the RPC error codes, spelled per version.
//! - [`Session`]: calls (one in flight by default, the rest queued with back-pressure),
//!   correlation, timeouts from the injected clock, typed decode of incoming calls, validated
//!   answers, the bad-message limit.
//! - [`Leniency`]: explicit, per-action tolerance for chargers that bend the specification.
//! - [`Router`]: one typed handler per action.
//! - [`AnyRequest`], [`AnyResponse`], [`AnyAction`]: the messages of every version in one type.
//! - [`handshake`]: the OCPP rules of the WebSocket handshake (identity, subprotocol, Basic
//!   auth) and the reconnection back-off, shared by the runtime adapters.
//!
//! # Runtime adapters
//! The core names no runtime: `ocpp-rs-rpc-tokio` (crate `ocpp_rpc_tokio`) runs sessions over
//! tokio WebSockets, as a CSMS server and as a station client; an embedded adapter drives the
//! same session over `embedded-io-async`. An adapter's major version never forces one on this
//! crate.
//!
//! # Answers to malformed and refused input
//!
//! Every input is classified; the session answers as the version's specification asks,
//! reports an [`Event::ProtocolViolation`] (except for empty frames), and counts it as a bad
//! message where marked (see [`Config::max_bad_messages`]; any good message resets the count).
//! "CALLERROR(id, code)" is `[4, id, code, description, {}]`; codes are written in the
//! version's spelling (1.6 `FormationViolation`, `OccurenceConstraintViolation`).
//!
//! | input | 1.6 | 2.0.1 | 2.1 | bad |
//! |---|---|---|---|---|
//! | empty frame (only whitespace) | ignored | ignored | ignored | no |
//! | not JSON, not UTF-8, text after the JSON value | CALLERROR("-1", GenericError) | CALLERROR("-1", RpcFrameworkError) | CALLERROR("-1", RpcFrameworkError) | yes |
//! | JSON but not an array | CALLERROR("-1", GenericError) | CALLERROR("-1", RpcFrameworkError) | CALLERROR("-1", RpcFrameworkError) | yes |
//! | message type missing or not an integer | CALLERROR(id or "-1", GenericError) | CALLERROR(id or "-1", RpcFrameworkError) | same as 2.0.1 | yes |
//! | message id missing or not a string (type 2, 3 or unknown) | CALLERROR("-1", GenericError) | CALLERROR("-1", RpcFrameworkError) | CALLERROR("-1", RpcFrameworkError) | yes |
//! | message id over 36 characters (type 2, 3 or unknown) | CALLERROR("-1", GenericError) | CALLERROR("-1", RpcFrameworkError) | CALLERROR("-1", RpcFrameworkError) | yes |
//! | unknown message type (types 5 and 6 included, except on 2.1) | ignored | CALLERROR(id, MessageTypeNotSupported) | ignored | yes |
//! | CALL of the wrong shape (not 4 elements, action not a string) | CALLERROR(id, ProtocolError) | CALLERROR(id, RpcFrameworkError) | CALLERROR(id, RpcFrameworkError) | yes |
//! | CALL, unknown action | CALLERROR(id, NotImplemented) | CALLERROR(id, NotImplemented) | CALLERROR(id, NotImplemented) | no |
//! | CALL, known action this side does not take (sent by the wrong side; a SEND-only action) | CALLERROR(id, NotSupported) | same | same | no |
//! | CALL, known action without a [`Router`] handler | CALLERROR(id, NotSupported) | same | same | no |
//! | CALL payload: required property missing; too few/many array items | CALLERROR(id, OccurenceConstraintViolation) | CALLERROR(id, OccurrenceConstraintViolation) | same as 2.0.1 | yes |
//! | CALL payload: wrong JSON type (`null` included; a payload that is not an object) | CALLERROR(id, TypeConstraintViolation) | same | same | yes |
//! | CALL payload: value not allowed (enumeration, range, length, format) | CALLERROR(id, PropertyConstraintViolation) | same | same | yes |
//! | CALL payload: property the schema does not define; duplicate key | CALLERROR(id, FormationViolation) | CALLERROR(id, FormatViolation) | CALLERROR(id, FormatViolation) | yes |
//! | CALL while [`Config::max_incoming`] calls await our answer | CALLERROR(id, GenericError) | same | same | no (back-pressure) |
//! | CALL whose id is that of a CALL still awaiting our answer | CALLERROR(id, GenericError) | CALLERROR(id, RpcFrameworkError) | same as 2.0.1 | yes |
//! | CALLRESULT whose payload breaks its schema | call ends [`Outcome::InvalidResponse`] | same | same, and CALLRESULTERROR(id, code as for a CALL payload) | yes |
//! | CALLRESULT or CALLERROR of the wrong shape, id of a call on the wire | call ends [`Outcome::InvalidResponse`] | same | same; a CALLRESULT also gets CALLRESULTERROR(id, RpcFrameworkError) | yes |
//! | CALLRESULT or CALLERROR for an id we never sent | ignored | ignored | ignored | yes |
//! | CALLRESULT or CALLERROR for a call already settled (timed out, answered) | ignored | ignored | ignored | no |
//! | CALLERROR with an unknown error code | call ends with `GenericError` | same | same | no |
//! | CALLERROR or CALLRESULTERROR of the wrong shape (any id) | ignored: an error is never answered | same | same | yes |
//! | CALLRESULTERROR (2.1) | - | - | [`Event::ResponseRejected`] | no |
//! | SEND (2.1): unknown action, CALL-only action, bad payload, bad shape | - | - | ignored: a SEND is never answered | yes (unknown action: yes) |
//! | our handler's response answers another action, or does not serialize | CALLERROR(id, InternalError) | same | same | - |
//!
//! 1.6 has neither `RpcFrameworkError` nor `MessageTypeNotSupported`: where 2.x uses
//! `RpcFrameworkError`, 1.6 answers `GenericError` ("any other error", as other 1.6
//! implementations do), except for a CALL of the wrong shape, which 1.6's `ProtocolError`
//! ("payload for action is incomplete") describes. Descriptions are cut to 255 characters (2.x's
//! limit, applied to 1.6 too); details are always a JSON object. Whatever a handler does, no invalid frame is written.
//!
//! # Typed outcomes
//! A call's response is decoded when it arrives (so a schema violation is reported as such,
//! and answered on 2.1), into the version's `Response` enum, wrapped in [`AnyResponse`];
//! [`Outcome::into_response`] moves the concrete `R::Response` out of it without copying or
//! decoding again. An async adapter's `call(req).await -> Result<R::Response, _>` is a
//! `CallId` lookup and that one call.
//!
//! # Driving a session (adapters, fuzzing)
//! [`Session::receive`]`(bytes, now)` for each incoming text message,
//! [`Session::handle_timeout`]`(now)` at [`Session::poll_timeout`], then drain
//! [`Session::poll_transmit`] and [`Session::poll_event`]; [`Session::close`] when the socket
//! closes. No input makes it panic.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(not(any(feature = "v16", feature = "v201", feature = "v21")))]
compile_error!("enable at least one OCPP version feature: v16, v201 or v21");

mod error_code;
pub mod frame;
pub mod handshake;
mod id;
mod leniency;
mod route;
mod session;
mod time;

pub use error_code::ErrorCode;
pub use frame::{Frame, FrameError, FrameErrorKind, MessageType};
pub use id::{CounterIds, IdGenerator, MAX_MESSAGE_ID_CHARS, MessageId};
pub use leniency::{Fixes, Leniency, LeniencyEvent, LeniencyKind, MAX_FIXES};
/// The messages of every version in one type, from `ocpp-types` (so typed sessions need no
/// second dependency).
pub use ocpp_types::{AnyAction, AnyRequest, AnyResponse, Role};
pub use route::Router;
pub use session::{
    AllMessages, CallFailure, CallId, Config, Decoders, Event, IncomingCall, IncomingId,
    IncomingSend, Outcome, RespondError, RpcError, Session, SubmitError, Violation, ViolationKind,
};
pub use time::Millis;

/// Re-export of the message types, so users need one dependency.
pub use ocpp_types;
