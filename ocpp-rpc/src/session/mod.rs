//! [`Session`]: the state machine of one OCPP-J connection, and what it takes and gives.
//!
//! - [`config`]: [`Config`] and [`Role`], fixed when the session starts.
//! - [`events`]: the [`Event`]s it reports, with the [`Outcome`] of each call of ours.
//! - [`errors`]: [`RpcError`] (a CALLERROR's content), [`SubmitError`], [`RespondError`],
//!   [`CallFailure`].
//! - this module: the state machine itself.

mod config;
mod errors;
mod events;

pub use config::Config;
pub use errors::{CallFailure, RespondError, RpcError, SubmitError};

pub use events::{
    CallId, Event, IncomingCall, IncomingId, IncomingSend, Outcome, Violation, ViolationKind,
};

use alloc::borrow::Cow;
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use ocpp_types::{
    AnyAction, AnyRequest, AnyResponse, DecodeError, ErrorKind, Message, MessageError, OcppVersion,
    Request, Response, Role, SendMessage,
};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::ErrorCode;
use crate::frame::{self, ErrorFrame, Frame, FrameErrorKind, MessageType};
use crate::id::{CounterIds, IdGenerator, MessageId};
use crate::leniency::{self, Fixes, Leniency, LeniencyEvent, LeniencyKind};
use crate::time::Millis;

#[derive(Debug)]
struct InFlight {
    call: CallId,
    id: MessageId,
    action: AnyAction,
    deadline: Millis,
}

#[derive(Debug)]
struct Queued {
    call: CallId,
    id: MessageId,
    action: AnyAction,
    frame: Vec<u8>,
}

#[derive(Debug)]
struct Pending {
    id: IncomingId,
    message_id: MessageId,
    action: AnyAction,
}

/// The payload's fault in a typed decode of a known action (an action the version lacks cannot
/// reach it: the session resolves actions first).
fn payload_error(error: MessageError) -> DecodeError {
    match error {
        MessageError::Invalid(error) => error,
        other => DecodeError::new(ErrorKind::Syntax, "", other.to_string()),
    }
}

/// An action name from the peer, cut for a report (the answer's description is cut anyway).
fn shorten(text: &str) -> &str {
    match text.char_indices().nth(64) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// How a session decodes payloads, and into what: the requests the peer calls it with, and
/// the answers to its own calls. [`AllMessages`] decodes every action of the version into its
/// generated type; an implementation that decodes only some answers the others as if the
/// action were not supported (a payload it cannot decode is `MessageError::UnknownAction` for
/// a request). A firmware's decoders may give something other than the generated types (the
/// station core checks payloads with `ocpp_types::schema::decode` and keeps the fields it
/// reads), so that no typed decoder is linked at all.
pub trait Decoders {
    /// What a request (or SEND message) decodes to: [`Event::IncomingCall`] carries it.
    type Request: fmt::Debug + Clone + PartialEq;
    /// What an answer to our call decodes to: [`Outcome::Response`] carries it.
    type Response: fmt::Debug + Clone + PartialEq;
    /// Decodes the payload of a CALL (or SEND) for `action`, enforcing its schema.
    fn request(action: AnyAction, payload: &str) -> Result<Self::Request, MessageError>;
    /// Decodes the payload of a CALLRESULT to our call of `action`, enforcing its schema.
    fn response(action: AnyAction, payload: &str) -> Result<Self::Response, MessageError>;
}

/// Every action of every enabled version ([`AnyRequest::decode`], [`AnyResponse::decode`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllMessages;

impl Decoders for AllMessages {
    type Request = AnyRequest;
    type Response = AnyResponse;

    fn request(action: AnyAction, payload: &str) -> Result<AnyRequest, MessageError> {
        AnyRequest::decode(action, payload)
    }

    fn response(action: AnyAction, payload: &str) -> Result<AnyResponse, MessageError> {
        AnyResponse::decode(action, payload)
    }
}

/// The events of a session that decodes with `D`.
type EventOf<D> = Event<<D as Decoders>::Request, <D as Decoders>::Response>;

/// How many settled call ids are remembered to tell a late answer from an unknown one.
const SETTLED_MEMORY: usize = 16;

/// One OCPP-J connection's state machine, sans I/O.
///
/// Feed it every WebSocket text message with [`receive`](Session::receive) and the clock with
/// [`handle_timeout`](Session::handle_timeout) (when [`poll_timeout`](Session::poll_timeout)
/// says); write what [`poll_transmit`](Session::poll_transmit) gives to the socket; act on what
/// [`poll_event`](Session::poll_event) gives. Make calls with [`call`](Session::call), answer
/// incoming ones with [`respond`](Session::respond). It never blocks, reads a clock or panics
/// on input.
///
/// ```
/// use ocpp_rpc::{Config, Event, Millis, Role, Session};
/// use ocpp_types::{OcppVersion, v201};
///
/// let mut station = Session::new(Config::new(OcppVersion::V201, Role::ChargingStation));
/// let mut csms = Session::new(Config::new(OcppVersion::V201, Role::Csms));
/// let now = Millis(0);
///
/// let call = station.call(&v201::HeartbeatRequest::default(), now)?;
/// while let Some(frame) = station.poll_transmit() {
///     csms.receive(&frame, now);
/// }
/// let Some(Event::IncomingCall(incoming)) = csms.poll_event() else { unreachable!() };
/// let time = "2024-01-01T00:00:00Z".parse()?;
/// csms.respond(incoming.id, &v201::HeartbeatResponse::new(time))?;
/// while let Some(frame) = csms.poll_transmit() {
///     station.receive(&frame, now);
/// }
/// let Some(Event::CallCompleted { call: done, outcome }) = station.poll_event() else { unreachable!() };
/// assert_eq!(done, call);
/// assert_eq!(outcome.into_response::<v201::HeartbeatRequest>()?.current_time, time);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session<G: IdGenerator = CounterIds, D: Decoders = AllMessages> {
    config: Config,
    ids: G,
    next_call: u64,
    next_incoming: u64,
    in_flight: Vec<InFlight>,
    queue: VecDeque<Queued>,
    incoming: Vec<Pending>,
    settled: VecDeque<MessageId>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<EventOf<D>>,
    bad_streak: u32,
    wants_close: bool,
    closed: bool,
    leniency_taken: Vec<(String, LeniencyKind)>,
    decoders: PhantomData<D>,
}

impl<G: IdGenerator, D: Decoders> fmt::Debug for Session<G, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .field("in_flight", &self.in_flight)
            .field("queued", &self.queue.len())
            .field("incoming", &self.incoming)
            .field("bad_streak", &self.bad_streak)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl Session<CounterIds> {
    /// A session with the default id generator ([`CounterIds`] from 1).
    pub fn new(config: Config) -> Session<CounterIds> {
        Session::with_id_generator(config, CounterIds::new())
    }
}

impl<G: IdGenerator> Session<G> {
    /// A session whose message ids come from `ids`.
    pub fn with_id_generator(config: Config, ids: G) -> Session<G> {
        Session::with_decoders(config, ids)
    }
}

impl<G: IdGenerator, D: Decoders> Session<G, D> {
    /// A session whose message ids come from `ids` and which decodes payloads with `D` (a
    /// station that decodes only the actions it handles and the answers to its own calls,
    /// so its firmware links no other decoder).
    pub fn with_decoders(config: Config, ids: G) -> Session<G, D> {
        Session {
            config,
            ids,
            next_call: 0,
            next_incoming: 0,
            in_flight: Vec::new(),
            queue: VecDeque::new(),
            incoming: Vec::new(),
            settled: VecDeque::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            bad_streak: 0,
            wants_close: false,
            closed: false,
            leniency_taken: Vec::new(),
            decoders: PhantomData,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The connection's OCPP version.
    pub fn version(&self) -> OcppVersion {
        self.config.version
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// Sets the leniency (for example once the peer's identity is known).
    pub fn set_leniency(&mut self, leniency: Leniency) {
        self.config.leniency = leniency;
    }

    /// How many of our CALLs are on the wire awaiting an answer.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// How many of our CALLs wait in the queue.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// How many incoming CALLs await our answer.
    pub fn awaiting_response(&self) -> usize {
        self.incoming.len()
    }

    /// Whether the session asks for the connection to be closed (too many bad messages).
    pub fn wants_close(&self) -> bool {
        self.wants_close
    }

    /// Whether [`close`](Session::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Calls the peer with a request of the session's version. The CALL is written at once if
    /// fewer than [`Config::max_in_flight`] calls are on the wire, else queued. Its outcome
    /// comes as [`Event::CallCompleted`] with the returned id.
    pub fn call<R: Request>(&mut self, request: &R, now: Millis) -> Result<CallId, SubmitError> {
        if R::VERSION != self.config.version {
            return Err(SubmitError::WrongVersion {
                session: self.config.version,
                message: R::VERSION,
            });
        }
        let action = R::ANY_ACTION;
        self.submit(action, request, now)
    }

    /// Calls the peer with a request held as an [`AnyRequest`] (see [`call`](Session::call)).
    pub fn call_any(&mut self, request: &AnyRequest, now: Millis) -> Result<CallId, SubmitError> {
        let action = request.action();
        if action.version() != self.config.version {
            return Err(SubmitError::WrongVersion {
                session: self.config.version,
                message: action.version(),
            });
        }
        self.submit(action, request, now)
    }

    /// Calls the peer with a payload already serialized as JSON (a station's durable queue
    /// keeps its messages so). The payload is written as it is: the caller vouches that it
    /// is `action`'s request of the session's version.
    pub fn call_json(
        &mut self,
        action: AnyAction,
        payload: &RawValue,
        now: Millis,
    ) -> Result<CallId, SubmitError> {
        if action.version() != self.config.version {
            return Err(SubmitError::WrongVersion {
                session: self.config.version,
                message: action.version(),
            });
        }
        self.submit(action, payload, now)
    }

    fn submit<P: Serialize + ?Sized>(
        &mut self,
        action: AnyAction,
        payload: &P,
        now: Millis,
    ) -> Result<CallId, SubmitError> {
        if self.closed {
            return Err(SubmitError::Closed);
        }
        if !action.has_response() {
            return Err(SubmitError::WrongMessageType(action.as_str()));
        }
        self.check_sender(action)?;
        let room = self.in_flight.len() < self.config.max_in_flight && self.queue.is_empty();
        if !room && self.queue.len() >= self.config.max_queued {
            return Err(SubmitError::QueueFull);
        }
        let id = self.fresh_id()?;
        let frame = frame::encode_call(&id, action.as_str(), payload)
            .map_err(|e| SubmitError::Encode(e.to_string()))?;
        let call = CallId(self.next_call);
        self.next_call += 1;
        if room {
            self.transmit.push_back(frame);
            self.in_flight.push(InFlight {
                call,
                id,
                action,
                deadline: now.plus_millis(self.config.call_timeout_ms),
            });
        } else {
            self.queue.push_back(Queued {
                call,
                id,
                action,
                frame,
            });
        }
        Ok(call)
    }

    /// Sends a 2.1 SEND message. It is written at once, never queued behind calls, and gets no
    /// answer (so no clock is needed). Returns its message id.
    pub fn send<S: SendMessage>(&mut self, message: &S) -> Result<MessageId, SubmitError> {
        if S::VERSION != self.config.version {
            return Err(SubmitError::WrongVersion {
                session: self.config.version,
                message: S::VERSION,
            });
        }
        let action = S::ANY_ACTION;
        self.submit_send(action, message)
    }

    /// Sends a 2.1 SEND message held as an [`AnyRequest`] (see [`send`](Session::send)); a
    /// request of a CALL action is refused with [`SubmitError::WrongMessageType`].
    pub fn send_any(&mut self, message: &AnyRequest) -> Result<MessageId, SubmitError> {
        let action = message.action();
        if action.version() != self.config.version {
            return Err(SubmitError::WrongVersion {
                session: self.config.version,
                message: action.version(),
            });
        }
        self.submit_send(action, message)
    }

    fn submit_send<P: Serialize + ?Sized>(
        &mut self,
        action: AnyAction,
        payload: &P,
    ) -> Result<MessageId, SubmitError> {
        if self.closed {
            return Err(SubmitError::Closed);
        }
        if action.has_response() {
            return Err(SubmitError::WrongMessageType(action.as_str()));
        }
        self.check_sender(action)?;
        let id = self.fresh_id()?;
        let frame = frame::encode_send(&id, action.as_str(), payload)
            .map_err(|e| SubmitError::Encode(e.to_string()))?;
        self.transmit.push_back(frame);
        Ok(id)
    }

    fn check_sender(&self, action: AnyAction) -> Result<(), SubmitError> {
        if action.sent_by(self.config.role) {
            Ok(())
        } else {
            Err(SubmitError::NotAllowed {
                action: action.as_str(),
                role: self.config.role,
            })
        }
    }

    fn fresh_id(&mut self) -> Result<MessageId, SubmitError> {
        for _ in 0..16 {
            let id = self.ids.next_id();
            let in_use =
                self.in_flight.iter().any(|c| c.id == id) || self.queue.iter().any(|c| c.id == id);
            if !in_use {
                return Ok(id);
            }
        }
        Err(SubmitError::IdCollision)
    }

    /// Answers an incoming call with its typed response.
    ///
    /// The response must answer the call's action (`T` is `R::Response` for the call's
    /// request `R`); a response to another action, or one that does not serialize, is not sent:
    /// the peer gets an `InternalError` CALLERROR instead, and the error says why. Either way
    /// the call is answered exactly once.
    pub fn respond<T: Response>(
        &mut self,
        incoming: IncomingId,
        response: &T,
    ) -> Result<(), RespondError> {
        let pending = self.take_pending(incoming)?;
        if <T::Request as Message>::ANY_ACTION != pending.action {
            return Err(self.wrong_response(&pending, <T::Request as Message>::ACTION));
        }
        self.write_response(&pending, response)
    }

    /// Answers an incoming call with a response held as an [`AnyResponse`] (see
    /// [`respond`](Session::respond)).
    pub fn respond_any(
        &mut self,
        incoming: IncomingId,
        response: &AnyResponse,
    ) -> Result<(), RespondError> {
        let pending = self.take_pending(incoming)?;
        if response.action() != pending.action {
            return Err(self.wrong_response(&pending, response.action().as_str()));
        }
        self.write_response(&pending, response)
    }

    /// Answers an incoming call with a payload already serialized as JSON, written as it is:
    /// the caller vouches that it is the response of the call's action (a station that builds
    /// its answers as text, without linking every response type).
    pub fn respond_json(
        &mut self,
        incoming: IncomingId,
        payload: &RawValue,
    ) -> Result<(), RespondError> {
        let pending = self.take_pending(incoming)?;
        self.write_response(&pending, payload)
    }

    /// Answers an incoming call with a CALLERROR.
    pub fn respond_error(
        &mut self,
        incoming: IncomingId,
        error: &RpcError,
    ) -> Result<(), RespondError> {
        let pending = self.take_pending(incoming)?;
        self.answer(
            MessageType::CallError,
            &pending.message_id,
            error.code,
            &error.description,
            Some(&error.details),
        );
        Ok(())
    }

    fn take_pending(&mut self, incoming: IncomingId) -> Result<Pending, RespondError> {
        if self.closed {
            return Err(RespondError::Closed);
        }
        let at = self
            .incoming
            .iter()
            .position(|p| p.id == incoming)
            .ok_or(RespondError::UnknownCall(incoming))?;
        Ok(self.incoming.swap_remove(at))
    }

    fn wrong_response(&mut self, pending: &Pending, got: &'static str) -> RespondError {
        let expected = pending.action.as_str();
        self.answer(
            MessageType::CallError,
            &pending.message_id,
            ErrorCode::InternalError,
            "the handler produced a response to another action",
            None,
        );
        RespondError::WrongResponse { expected, got }
    }

    fn write_response<P: Serialize + ?Sized>(
        &mut self,
        pending: &Pending,
        response: &P,
    ) -> Result<(), RespondError> {
        match frame::encode_call_result(&pending.message_id, response) {
            Ok(frame) => {
                self.transmit.push_back(frame);
                Ok(())
            }
            Err(e) => {
                self.answer(
                    MessageType::CallError,
                    &pending.message_id,
                    ErrorCode::InternalError,
                    "the handler produced an invalid response",
                    None,
                );
                Err(RespondError::Invalid(e.to_string()))
            }
        }
    }

    /// The next frame to write to the WebSocket (as a text message), in order.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<EventOf<D>> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Session::handle_timeout) should next be called: the earliest
    /// deadline of a call on the wire.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.in_flight.iter().map(|c| c.deadline).min()
    }

    /// Ends every call on the wire whose deadline is at or before `now` with
    /// [`Outcome::Timeout`], and writes queued calls in their place.
    pub fn handle_timeout(&mut self, now: Millis) {
        let mut i = 0;
        while i < self.in_flight.len() {
            if self.in_flight[i].deadline <= now {
                let expired = self.in_flight.remove(i);
                self.settle(expired.id);
                self.complete(expired.call, Outcome::Timeout);
            } else {
                i += 1;
            }
        }
        self.pump(now);
    }

    /// The connection is gone: every call on the wire or in the queue ends with
    /// [`Outcome::Closed`], incoming calls can no longer be answered, and unsent frames are
    /// dropped. The session accepts nothing afterwards; use a new one for a new connection.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        let in_flight = core::mem::take(&mut self.in_flight);
        for call in in_flight {
            self.complete(call.call, Outcome::Closed);
        }
        let queue = core::mem::take(&mut self.queue);
        for call in queue {
            self.complete(call.call, Outcome::Closed);
        }
        self.incoming.clear();
        self.transmit.clear();
    }

    /// Processes one incoming WebSocket text message.
    pub fn receive(&mut self, input: &[u8], now: Millis) {
        if self.closed {
            return;
        }
        let parsed = frame::parse(input, self.config.version);
        match parsed {
            Ok(Frame::Call {
                id,
                action,
                payload,
            }) => self.on_call(&id, &action, payload),
            Ok(Frame::CallResult { id, payload }) => self.on_call_result(&id, payload, now),
            Ok(Frame::CallError(error)) => self.on_call_error(&error, now),
            Ok(Frame::CallResultError(error)) => self.on_call_result_error(&error),
            Ok(Frame::Send {
                id,
                action,
                payload,
            }) => self.on_send(&id, &action, payload),
            Err(error) => self.on_frame_error(&error, now),
        }
    }

    fn on_frame_error(&mut self, error: &frame::FrameError, now: Millis) {
        if error.kind() == FrameErrorKind::Empty {
            return;
        }
        // A broken answer to one of our calls still ends that call.
        if let (Some(3..=4), Some(id)) = (error.message_type(), error.id()) {
            if let Some(at) = self.in_flight.iter().position(|c| c.id == id) {
                let call = self.in_flight.remove(at);
                let reason = DecodeError::new(ErrorKind::Syntax, "", error.detail());
                if error.message_type() == Some(3) && self.config.version == OcppVersion::V21 {
                    self.answer(
                        MessageType::CallResultError,
                        &call.id,
                        ErrorCode::RpcFrameworkError,
                        error.detail(),
                        None,
                    );
                }
                self.settle(call.id);
                self.complete(call.call, Outcome::InvalidResponse(reason));
                self.bad();
                self.pump(now);
                return;
            }
        }
        let answer = error.answer(self.config.version);
        if let Some(answer) = &answer {
            self.answer(
                answer.message_type,
                &answer.id,
                answer.code,
                error.detail(),
                None,
            );
        }
        self.violation(Violation {
            kind: ViolationKind::Frame(error.kind()),
            message_id: error.id().map(String::from),
            detail: String::from(error.detail()),
            answered: answer.map(|a| a.code),
        });
        self.bad();
    }

    /// Resolves an incoming action name, with the `Request` suffix leniency.
    fn resolve_action(&mut self, message_id: &MessageId, name: &str) -> Option<AnyAction> {
        let version = self.config.version;
        if let Some(action) = AnyAction::from_name(version, name) {
            return Some(action);
        }
        let stripped = name.strip_suffix("Request")?;
        let action = AnyAction::from_name(version, stripped)?;
        if !self
            .config
            .leniency
            .fixes_for(action.as_str())
            .strip_request_suffix
        {
            return None;
        }
        self.events.push_back(Event::Leniency(LeniencyEvent {
            message_id: message_id.clone(),
            action: action.as_str(),
            pointer: String::new(),
            kind: LeniencyKind::StrippedRequestSuffix,
        }));
        Some(action)
    }

    fn on_call(&mut self, id: &str, action: &str, payload: &RawValue) {
        // The frame parser checked the length.
        let Some(message_id) = MessageId::new(id) else {
            return;
        };
        let refuse = |kind, code, detail: String| (kind, code, detail);
        let refusal = match self.resolve_action(&message_id, action) {
            None => Some(refuse(
                ViolationKind::UnknownAction,
                ErrorCode::NotImplemented,
                alloc::format!("unknown action {:?}", shorten(action)),
            )),
            Some(known) if !known.has_response() || !known.sent_by(self.config.role.peer()) => {
                Some(refuse(
                    ViolationKind::UnsupportedAction,
                    ErrorCode::NotSupported,
                    alloc::format!("{known} is not accepted as a CALL by this side"),
                ))
            }
            Some(known) if self.config.handled.is_some_and(|h| !h.contains(&known)) => {
                Some(refuse(
                    ViolationKind::UnsupportedAction,
                    ErrorCode::NotSupported,
                    alloc::format!("{known} is not supported"),
                ))
            }
            Some(_) if self.incoming.iter().any(|p| p.message_id == message_id) => Some(refuse(
                ViolationKind::DuplicateMessageId,
                ErrorCode::RpcFrameworkError,
                String::from("a call with this message id already awaits our answer"),
            )),
            Some(_) if self.incoming.len() >= self.config.max_incoming => Some(refuse(
                ViolationKind::TooManyIncomingCalls,
                ErrorCode::GenericError,
                String::from("too many calls awaiting an answer"),
            )),
            Some(known) => match self.decode_request(&message_id, known, payload) {
                Ok(request) => {
                    let incoming = IncomingId(self.next_incoming);
                    self.next_incoming += 1;
                    self.incoming.push(Pending {
                        id: incoming,
                        message_id: message_id.clone(),
                        action: known,
                    });
                    self.events.push_back(Event::IncomingCall(IncomingCall {
                        id: incoming,
                        message_id: message_id.clone(),
                        request,
                    }));
                    self.good();
                    None
                }
                Err(error) => Some(refuse(
                    ViolationKind::InvalidPayload,
                    ErrorCode::from_decode_error(&error),
                    error.to_string(),
                )),
            },
        };
        if let Some((kind, code, detail)) = refusal {
            self.answer(MessageType::CallError, &message_id, code, &detail, None);
            self.violation(Violation {
                kind,
                message_id: Some(String::from(id)),
                detail,
                answered: Some(code),
            });
            // Too many calls at once is back-pressure, not misbehaviour: a station that bursts
            // its queue after reconnecting gets CALLERRORs to retry, never a disconnect.
            match kind {
                ViolationKind::InvalidPayload | ViolationKind::DuplicateMessageId => self.bad(),
                _ => self.good(),
            }
        }
    }

    fn on_send(&mut self, id: &str, action: &str, payload: &RawValue) {
        let Some(message_id) = MessageId::new(id) else {
            return;
        };
        let (kind, detail) = match self.resolve_action(&message_id, action) {
            None => (
                ViolationKind::UnknownAction,
                alloc::format!("unknown action {:?}", shorten(action)),
            ),
            Some(known) if known.has_response() || !known.sent_by(self.config.role.peer()) => (
                ViolationKind::UnsupportedAction,
                alloc::format!("{known} is not accepted as a SEND by this side"),
            ),
            Some(known) => match self.decode_request(&message_id, known, payload) {
                Ok(message) => {
                    self.events.push_back(Event::IncomingSend(IncomingSend {
                        message_id,
                        message,
                    }));
                    self.good();
                    return;
                }
                Err(error) => (ViolationKind::InvalidPayload, error.to_string()),
            },
        };
        // A SEND is never answered.
        self.violation(Violation {
            kind,
            message_id: Some(String::from(id)),
            detail,
            answered: None,
        });
        self.bad();
    }

    fn fixes(&self, action: AnyAction) -> Fixes {
        if self.config.leniency.is_strict() {
            Fixes::NONE
        } else {
            self.config.leniency.fixes_for(action.as_str())
        }
    }

    fn decode_request(
        &mut self,
        message_id: &MessageId,
        action: AnyAction,
        payload: &RawValue,
    ) -> Result<D::Request, DecodeError> {
        self.decode(message_id, action, payload, D::request)
    }

    fn decode_response(
        &mut self,
        message_id: &MessageId,
        action: AnyAction,
        payload: &RawValue,
    ) -> Result<D::Response, DecodeError> {
        self.decode(message_id, action, payload, D::response)
    }

    /// Decodes a payload of `action` strictly, or with the leniency configured for it.
    fn decode<T>(
        &mut self,
        message_id: &MessageId,
        action: AnyAction,
        payload: &RawValue,
        decode: fn(AnyAction, &str) -> Result<T, MessageError>,
    ) -> Result<T, DecodeError> {
        let fixes = self.fixes(action);
        let text = payload.get();
        let decode = |text: &str| decode(action, text).map_err(payload_error);
        if !fixes.fixes_payloads() {
            return decode(text);
        }
        let mut taken = core::mem::take(&mut self.leniency_taken);
        let result = leniency::decode_lenient(text, fixes, decode, &mut taken);
        self.report_fixes(message_id, action, &mut taken);
        self.leniency_taken = taken;
        result
    }

    fn report_fixes(
        &mut self,
        message_id: &MessageId,
        action: AnyAction,
        taken: &mut Vec<(String, LeniencyKind)>,
    ) {
        for (pointer, kind) in taken.drain(..) {
            self.events.push_back(Event::Leniency(LeniencyEvent {
                message_id: message_id.clone(),
                action: action.as_str(),
                pointer,
                kind,
            }));
        }
    }

    /// Finds the call an answer is for; reports an unknown or late one.
    fn take_in_flight(&mut self, id: &str) -> Option<InFlight> {
        if let Some(at) = self.in_flight.iter().position(|c| c.id == id) {
            return Some(self.in_flight.remove(at));
        }
        let late = self.settled.iter().any(|s| s == id);
        self.violation(Violation {
            kind: if late {
                ViolationKind::LateResponse
            } else {
                ViolationKind::UnknownResponse
            },
            message_id: Some(String::from(id)),
            detail: String::from(if late {
                "an answer to a call already settled"
            } else {
                "an answer to no call of ours"
            }),
            answered: None,
        });
        if late {
            self.good();
        } else {
            self.bad();
        }
        None
    }

    fn on_call_result(&mut self, id: &str, payload: &RawValue, now: Millis) {
        let Some(call) = self.take_in_flight(id) else {
            return;
        };
        let outcome = match self.decode_response(&call.id, call.action, payload) {
            Ok(response) => {
                self.good();
                Outcome::Response(response)
            }
            Err(error) => {
                if self.config.version == OcppVersion::V21 {
                    self.answer(
                        MessageType::CallResultError,
                        &call.id,
                        ErrorCode::from_decode_error(&error),
                        &error.to_string(),
                        None,
                    );
                }
                self.bad();
                Outcome::InvalidResponse(error)
            }
        };
        self.settle(call.id);
        self.complete(call.call, outcome);
        self.pump(now);
    }

    fn rpc_error(&mut self, frame: &ErrorFrame<'_>) -> RpcError {
        let code = match frame.error_code() {
            Some(code) => code,
            None => {
                self.violation(Violation {
                    kind: ViolationKind::UnknownErrorCode,
                    message_id: Some(String::from(frame.id.as_ref())),
                    detail: alloc::format!("unknown error code {:?}", frame.code),
                    answered: None,
                });
                ErrorCode::GenericError
            }
        };
        RpcError {
            code,
            description: Cow::into_owned(frame.description.clone()),
            details: serde_json::from_str(frame.details.get()).unwrap_or_default(),
        }
    }

    fn on_call_error(&mut self, frame: &ErrorFrame<'_>, now: Millis) {
        let Some(call) = self.take_in_flight(&frame.id) else {
            return;
        };
        let error = self.rpc_error(frame);
        self.good();
        self.settle(call.id);
        self.complete(call.call, Outcome::CallError(error));
        self.pump(now);
    }

    fn on_call_result_error(&mut self, frame: &ErrorFrame<'_>) {
        let error = self.rpc_error(frame);
        self.good();
        self.events.push_back(Event::ResponseRejected {
            message_id: String::from(frame.id.as_ref()),
            error,
        });
    }

    /// Writes a CALLERROR or CALLRESULTERROR.
    fn answer(
        &mut self,
        message_type: MessageType,
        id: &str,
        code: ErrorCode,
        description: &str,
        details: Option<&serde_json::Map<String, serde_json::Value>>,
    ) {
        self.transmit.push_back(frame::encode_error(
            self.config.version,
            message_type,
            id,
            code,
            description,
            details,
        ));
    }

    fn complete(&mut self, call: CallId, outcome: Outcome<D::Response>) {
        self.events
            .push_back(Event::CallCompleted { call, outcome });
    }

    fn settle(&mut self, id: MessageId) {
        if self.settled.len() == SETTLED_MEMORY {
            self.settled.pop_front();
        }
        self.settled.push_back(id);
    }

    /// Writes queued calls while there is room on the wire.
    fn pump(&mut self, now: Millis) {
        while self.in_flight.len() < self.config.max_in_flight {
            let Some(next) = self.queue.pop_front() else {
                break;
            };
            self.transmit.push_back(next.frame);
            self.in_flight.push(InFlight {
                call: next.call,
                id: next.id,
                action: next.action,
                deadline: now.plus_millis(self.config.call_timeout_ms),
            });
        }
    }

    fn violation(&mut self, violation: Violation) {
        self.events.push_back(Event::ProtocolViolation(violation));
    }

    fn bad(&mut self) {
        self.bad_streak = self.bad_streak.saturating_add(1);
        let limit = self.config.max_bad_messages;
        if limit != 0 && self.bad_streak >= limit && !self.wants_close {
            self.wants_close = true;
            self.events.push_back(Event::TooManyBadMessages);
        }
    }

    fn good(&mut self) {
        self.bad_streak = 0;
    }
}
