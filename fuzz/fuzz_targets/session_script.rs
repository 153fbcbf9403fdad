#![no_main]
//! Structure-aware: two `ocpp_rpc::Session`s of one version, a station and a CSMS, connected
//! back to back, driven by a script that `arbitrary` decodes from the input.
//!
//! Steps: calls of any action with schema-valid payloads from `ocpp_types::random` (seeded
//! from the input; actions the side may not send too), 2.1 SEND messages, delivering or
//! dropping the frames in transit, delivering one after mutating it at byte or JSON level,
//! injecting peer frames (CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND) built from valid
//! payloads and then mutated, raw bytes of the input's own as frames, answers to incoming calls (valid, of the wrong action, errors,
//! to stale ids), clock ticks, closing one side, reconnecting (fresh sessions), leniency
//! settings. The configuration (calls in flight, queue, incoming limit, bad-message limit,
//! timeout) comes from the input too.
//!
//! After every step, for each side:
//! - every frame written parses with `frame::parse`, and the fast and general parsers agree
//!   on every frame received;
//! - every CALL written belongs to an accepted call, in the order the calls were accepted,
//!   with its action; never more than `max_in_flight` CALLs are on the wire awaiting an answer
//!   (counted from the frames), and the session's `in_flight()` and `queued()` say the same;
//! - every accepted call gets exactly one `CallCompleted` (none for an id never accepted), a
//!   response of its own action, and all of them have one once the side is closed;
//! - `poll_timeout` is never at or before the time `handle_timeout` was just given;
//! - an incoming call is of an action the peer may send; every answer we give writes exactly
//!   one frame with the call's message id;
//! - a frame the other session wrote, delivered intact, is taken as it was meant: a CALL
//!   becomes an incoming call (unless over the incoming limit or a duplicate id), a
//!   CALLRESULT to a call on the wire completes it with the response, a CALLERROR with an
//!   error.

use std::collections::{BTreeMap, VecDeque};

use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use ocpp_rpc::frame::{self, Frame};
use ocpp_rpc::{
    AnyAction, AnyRequest, AnyResponse, CallId, Config, ErrorCode, Event, Fixes, IncomingId,
    Leniency, Millis, Outcome, RespondError, Role, RpcError, Session, SubmitError, ViolationKind,
};
use ocpp_types::random::{Gen, SplitMix64};
use ocpp_types::{OcppVersion, v16, v21, v201};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Side {
    Station,
    Csms,
}

#[derive(Debug, Arbitrary)]
struct Setup {
    version: u8,
    max_in_flight: u8,
    max_queued: u8,
    max_incoming: u8,
    max_bad_messages: u8,
    timeout_s: u8,
    station_fixes: u8,
    csms_fixes: u8,
}

#[derive(Debug, Arbitrary)]
enum Atom {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array,
    Object,
}

impl Atom {
    fn value(&self) -> Value {
        match self {
            Atom::Null => Value::Null,
            Atom::Bool(b) => json!(b),
            Atom::Int(n) => json!(n),
            Atom::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
            Atom::Str(s) => json!(s),
            Atom::Array => json!([]),
            Atom::Object => json!({}),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Mutation {
    None,
    // Byte level.
    Flip { at: u16, xor: u8 },
    Truncate { at: u16 },
    Insert { at: u16, bytes: Vec<u8> },
    Remove { at: u16, len: u8 },
    // JSON level: the frame array.
    MessageType(Atom),
    Id(Atom),
    Element { at: u8, value: Atom },
    RemoveElement(u8),
    AddElement(Atom),
    ActionSuffix,
    // JSON level: the payload object.
    RemoveKey(u8),
    NullKey(u8),
    SetKey(u8, Atom),
    UnknownKey(String, Atom),
    LongString(u8, u16),
}

#[derive(Debug, Arbitrary)]
enum Step {
    Call {
        side: Side,
        action: u8,
        seed: u64,
    },
    Send {
        side: Side,
        action: u8,
        seed: u64,
    },
    Deliver {
        from: Side,
        count: u8,
    },
    Tamper {
        from: Side,
        mutation: Mutation,
    },
    Drop {
        from: Side,
    },
    /// Bytes of the fuzzer's own as a frame: no structure at all.
    Raw {
        to: Side,
        bytes: Vec<u8>,
    },
    Inject {
        to: Side,
        kind: u8,
        action: u8,
        seed: u64,
        id: u8,
        mutation: Mutation,
    },
    Respond {
        side: Side,
        pick: u8,
        seed: u64,
    },
    RespondWrong {
        side: Side,
        pick: u8,
        action: u8,
        seed: u64,
    },
    RespondError {
        side: Side,
        pick: u8,
        code: u8,
        description: String,
    },
    RespondStale {
        side: Side,
        id: u64,
    },
    Tick {
        ms: u32,
    },
    Close {
        side: Side,
    },
    Reconnect,
    Leniency {
        side: Side,
        fixes: u8,
        action: Option<u8>,
    },
}

#[derive(Debug, Arbitrary)]
struct Script {
    setup: Setup,
    steps: Vec<Step>,
}

const ERROR_CODES: &[&str] = &[
    "GenericError",
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormatViolation",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurrenceConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "RpcFrameworkError",
    "MessageTypeNotSupported",
    "NoSuchCode",
];

fn actions(version: OcppVersion) -> Vec<AnyAction> {
    AnyAction::all(version)
}

include!("generate.rs");

fn fixes(bits: u8) -> Fixes {
    Fixes {
        drop_unknown_fields: bits & 1 != 0,
        null_as_absent: bits & 2 != 0,
        truncate_long_strings: bits & 4 != 0,
        strip_request_suffix: bits & 8 != 0,
    }
}

/// A frame in transit, and whether it is exactly what the other session wrote in the normal
/// course of things (not a reaction to tampered or injected input).
struct InTransit {
    bytes: Vec<u8>,
    honest: bool,
}

/// A frame written: its message type and id.
struct Written {
    message_type: u8,
    id: String,
}

struct Peer {
    role: Role,
    config: Config,
    session: Session,
    /// Every call accepted by this session: its action, and whether it has its outcome.
    accepted: BTreeMap<CallId, (AnyAction, bool)>,
    /// Accepted calls whose CALL is not written yet, in order.
    unwritten: VecDeque<CallId>,
    /// CALLs on the wire awaiting an answer: message id -> call.
    on_wire: BTreeMap<String, CallId>,
    /// Incoming calls awaiting our answer: id, action, message id, honest.
    pending: Vec<(IncomingId, AnyAction, String, bool)>,
    /// Frames written, on their way to the other side.
    outbox: VecDeque<InTransit>,
}

impl Peer {
    fn new(config: Config) -> Peer {
        Peer {
            role: config.role,
            session: Session::new(config.clone()),
            config,
            accepted: BTreeMap::new(),
            unwritten: VecDeque::new(),
            on_wire: BTreeMap::new(),
            pending: Vec::new(),
            outbox: VecDeque::new(),
        }
    }

    fn version(&self) -> OcppVersion {
        self.config.version
    }

    /// Takes what the session wrote and reported, checking both; `honest` marks the frames.
    fn drain(&mut self, honest: bool) -> (Vec<Written>, Vec<Event>) {
        let version = self.version();
        let mut written = Vec::new();
        while let Some(out) = self.session.poll_transmit() {
            let parsed = match frame::parse(&out, version) {
                Ok(parsed) => parsed,
                Err(e) => panic!(
                    "the {:?} wrote an invalid frame {:?}: {e:?}",
                    self.role,
                    String::from_utf8_lossy(&out)
                ),
            };
            let message_type = match &parsed {
                Frame::Call { id, action, .. } => {
                    let Some(call) = self.unwritten.pop_front() else {
                        panic!("a CALL {id} written for no accepted call");
                    };
                    let (expected, _) = self.accepted[&call];
                    assert_eq!(action.as_ref(), expected.as_str(), "CALL {id} of {call:?}");
                    let previous = self.on_wire.insert(id.to_string(), call);
                    assert!(
                        previous.is_none(),
                        "message id {id} reused while on the wire"
                    );
                    2
                }
                Frame::CallResult { .. } => 3,
                Frame::CallError(_) => 4,
                Frame::CallResultError(_) => 5,
                Frame::Send { .. } => 6,
            };
            written.push(Written {
                message_type,
                id: parsed.id().to_string(),
            });
            self.outbox.push_back(InTransit { bytes: out, honest });
        }
        let mut events = Vec::new();
        while let Some(event) = self.session.poll_event() {
            match &event {
                Event::CallCompleted { call, outcome } => {
                    let Some((action, done)) = self.accepted.get_mut(call) else {
                        panic!("an outcome for {call:?}, which was never accepted");
                    };
                    assert!(!*done, "a second outcome for {call:?}: {outcome:?}");
                    *done = true;
                    let action = *action;
                    if let Some(at) = self.unwritten.iter().position(|c| c == call) {
                        // Only a close ends a call that never reached the wire.
                        assert!(matches!(outcome, Outcome::Closed), "{outcome:?}");
                        self.unwritten.remove(at);
                    } else {
                        self.on_wire.retain(|_, c| c != call);
                    }
                    if let Outcome::Response(response) = outcome {
                        assert_eq!(response.action(), action, "a response of another action");
                    }
                }
                Event::IncomingCall(incoming) => {
                    let action = incoming.request.action();
                    assert_eq!(action.version(), version);
                    assert!(action.has_response() && action.sent_by(self.role.peer()));
                    self.pending.push((
                        incoming.id,
                        action,
                        incoming.message_id.as_str().to_string(),
                        honest,
                    ));
                }
                Event::IncomingSend(send) => {
                    let action = send.message.action();
                    assert!(!action.has_response() && action.sent_by(self.role.peer()));
                }
                _ => {}
            }
            events.push(event);
        }
        let on_wire = self.on_wire.len();
        assert!(
            on_wire <= self.config.max_in_flight,
            "{on_wire} CALLs on the wire, at most {} allowed",
            self.config.max_in_flight
        );
        if !self.session.is_closed() {
            assert_eq!(on_wire, self.session.in_flight());
            assert_eq!(self.unwritten.len(), self.session.queued());
        }
        (written, events)
    }

    /// Every accepted call has its outcome (after a close).
    fn all_settled(&self) {
        for (call, (action, done)) in &self.accepted {
            assert!(*done, "{call:?} ({action}) has no outcome after the close");
        }
        assert!(self.on_wire.is_empty() && self.unwritten.is_empty());
    }

    fn close(&mut self) {
        self.session.close();
        self.drain(false);
        self.all_settled();
        self.pending.clear();
        assert!(self.session.poll_transmit().is_none());
    }

    /// Answers pending call `pick` with `answer`, checking that exactly one frame with its
    /// message id is written.
    fn answer(
        &mut self,
        pick: u8,
        answer: impl FnOnce(&mut Session, IncomingId, AnyAction) -> Result<(), RespondError>,
    ) {
        if self.pending.is_empty() {
            return;
        }
        let (id, action, message_id, honest) =
            self.pending.remove(pick as usize % self.pending.len());
        let result = answer(&mut self.session, id, action);
        assert!(
            !matches!(
                result,
                Err(RespondError::UnknownCall(_) | RespondError::Closed)
            ),
            "{result:?}"
        );
        let (written, _) = self.drain(honest);
        let answers: Vec<_> = written.iter().filter(|w| w.id == message_id).collect();
        assert_eq!(
            answers.len(),
            1,
            "answers to {message_id}: {}",
            answers.len()
        );
        assert!(matches!(answers[0].message_type, 3 | 4));
    }
}

struct World {
    version: OcppVersion,
    actions: Vec<AnyAction>,
    now: u64,
    station: Peer,
    csms: Peer,
}

impl World {
    fn peers(&mut self, side: Side) -> (&mut Peer, &mut Peer) {
        match side {
            Side::Station => (&mut self.station, &mut self.csms),
            Side::Csms => (&mut self.csms, &mut self.station),
        }
    }

    /// An action `role` may send as a CALL (or as a SEND with `send`) when `pick`'s high bit
    /// is clear; any action of the version otherwise.
    fn action(&self, pick: u8, role: Role, send: bool) -> AnyAction {
        if pick & 0x80 == 0 {
            let fitting: Vec<_> = self
                .actions
                .iter()
                .copied()
                .filter(|a| a.sent_by(role) && a.has_response() != send)
                .collect();
            if !fitting.is_empty() {
                return fitting[pick as usize % fitting.len()];
            }
        }
        self.actions[pick as usize % self.actions.len()]
    }

    /// Delivers `bytes` to `to`; `honest` if the other session wrote them untouched.
    fn deliver(&mut self, to: Side, bytes: &[u8], honest: bool) {
        let version = self.version;
        assert_eq!(
            format!("{:?}", frame::parse(bytes, version)),
            format!("{:?}", frame::parse_general(bytes, version)),
            "the fast and the general frame parser disagree on {:?}",
            String::from_utf8_lossy(bytes)
        );
        let now = Millis(self.now);
        let (peer, _) = self.peers(to);
        if peer.session.is_closed() {
            peer.session.receive(bytes, now);
            assert!(peer.session.poll_transmit().is_none() && peer.session.poll_event().is_none());
            return;
        }
        let before = peer.on_wire.clone();
        let incoming_before = peer.session.awaiting_response();
        peer.session.receive(bytes, now);
        let (_, events) = peer.drain(honest);
        if !honest {
            return;
        }
        let parsed = frame::parse(bytes, version).expect("an honest frame parses");
        match parsed {
            Frame::Call { id, .. } => {
                let taken = events
                    .iter()
                    .any(|e| matches!(e, Event::IncomingCall(c) if c.message_id.as_str() == id));
                let refused = events.iter().any(|e| {
                    matches!(e, Event::ProtocolViolation(v) if matches!(v.kind,
                        ViolationKind::TooManyIncomingCalls | ViolationKind::DuplicateMessageId))
                });
                assert!(
                    taken || refused,
                    "an intact CALL was not taken (awaiting {incoming_before}): {events:?}"
                );
            }
            Frame::CallResult { id, .. } => {
                if let Some(call) = before.get(id.as_ref()) {
                    let ok = events.iter().any(|e| matches!(e,
                        Event::CallCompleted { call: c, outcome: Outcome::Response(_) } if c == call));
                    assert!(
                        ok,
                        "an intact CALLRESULT did not complete {call:?}: {events:?}"
                    );
                }
            }
            Frame::CallError(error) => {
                if let Some(call) = before.get(error.id.as_ref()) {
                    let ok = events.iter().any(|e| matches!(e,
                        Event::CallCompleted { call: c, outcome: Outcome::CallError(_) } if c == call));
                    assert!(
                        ok,
                        "an intact CALLERROR did not complete {call:?}: {events:?}"
                    );
                }
            }
            _ => {}
        }
    }

    fn reconnect(&mut self) {
        self.station.close();
        self.csms.close();
        self.station = Peer::new(self.station.config.clone());
        self.csms = Peer::new(self.csms.config.clone());
    }

    fn step(&mut self, step: &Step) {
        let now = Millis(self.now);
        match *step {
            Step::Call { side, action, seed } => {
                let role = self.peers(side).0.role;
                let action = self.action(action, role, false);
                let Some(request) = request(action, seed) else {
                    return;
                };
                let peer = self.peers(side).0;
                let room = peer.session.queued() < peer.config.max_queued
                    || (peer.session.queued() == 0
                        && peer.session.in_flight() < peer.config.max_in_flight);
                match peer.session.call_any(&request, now) {
                    Ok(call) => {
                        assert!(action.has_response() && action.sent_by(role));
                        assert!(room, "accepted a call with no room");
                        assert!(peer.accepted.insert(call, (action, false)).is_none());
                        peer.unwritten.push_back(call);
                    }
                    Err(SubmitError::QueueFull) => assert!(!room),
                    Err(SubmitError::Closed) => assert!(peer.session.is_closed()),
                    Err(SubmitError::NotAllowed { .. }) => assert!(!action.sent_by(role)),
                    Err(SubmitError::WrongMessageType(_)) => assert!(!action.has_response()),
                    Err(SubmitError::Encode(_)) => {}
                    Err(other) => panic!("{action}: {other:?}"),
                }
                peer.drain(true);
            }
            Step::Send { side, action, seed } => {
                let role = self.peers(side).0.role;
                let action = self.action(action, role, true);
                let Some(message) = request(action, seed) else {
                    return;
                };
                let peer = self.peers(side).0;
                match peer.session.send_any(&message) {
                    Ok(_) => assert!(!action.has_response() && action.sent_by(role)),
                    Err(SubmitError::Closed) => assert!(peer.session.is_closed()),
                    Err(SubmitError::NotAllowed { .. }) => assert!(!action.sent_by(role)),
                    Err(SubmitError::WrongMessageType(_)) => assert!(action.has_response()),
                    Err(SubmitError::Encode(_)) => {}
                    Err(other) => panic!("{action}: {other:?}"),
                }
                peer.drain(true);
            }
            Step::Deliver { from, count } => {
                for _ in 0..=count % 4 {
                    let Some(frame) = self.peers(from).0.outbox.pop_front() else {
                        break;
                    };
                    let to = other(from);
                    self.deliver(to, &frame.bytes, frame.honest);
                }
            }
            Step::Tamper { from, ref mutation } => {
                let Some(frame) = self.peers(from).0.outbox.pop_front() else {
                    return;
                };
                let bytes = mutate(frame.bytes, mutation);
                self.deliver(other(from), &bytes, false);
            }
            Step::Drop { from } => {
                self.peers(from).0.outbox.pop_front();
            }
            Step::Inject {
                to,
                kind,
                action,
                seed,
                id,
                ref mutation,
            } => {
                let peer_role = self.peers(to).0.role.peer();
                let action = self.action(action, peer_role, kind % 5 == 4);
                let receiver = self.peers(to).0;
                let wire: Vec<(String, CallId)> = receiver
                    .on_wire
                    .iter()
                    .map(|(k, v)| (k.clone(), *v))
                    .collect();
                let (message_id, answered) = if id & 1 == 0 && !wire.is_empty() {
                    let (message_id, call) = &wire[id as usize / 2 % wire.len()];
                    (message_id.clone(), Some(receiver.accepted[call].0))
                } else {
                    (format!("i{id}"), None)
                };
                let code = ERROR_CODES[seed as usize % ERROR_CODES.len()];
                let frame = match kind % 5 {
                    0 => match request(action, seed) {
                        Some(r) => json!([2, message_id, action.as_str(), r]),
                        None => return,
                    },
                    1 => match response(answered.unwrap_or(action), seed) {
                        Some(r) => json!([3, message_id, r]),
                        None => json!([3, message_id, {}]),
                    },
                    2 => json!([4, message_id, code, "injected", {}]),
                    3 => json!([5, message_id, code, "injected", {"k": 1}]),
                    _ => match request(action, seed) {
                        Some(r) => json!([6, message_id, action.as_str(), r]),
                        None => return,
                    },
                };
                let Ok(bytes) = serde_json::to_vec(&frame) else {
                    return;
                };
                let bytes = mutate(bytes, mutation);
                self.deliver(to, &bytes, false);
            }
            Step::Raw { to, ref bytes } => self.deliver(to, bytes, false),
            Step::Respond { side, pick, seed } => {
                self.peers(side).0.answer(pick, |session, id, action| {
                    match response(action, seed) {
                        Some(r) => session.respond_any(id, &r).or_else(|e| match e {
                            RespondError::Invalid(_) => Ok(()),
                            other => Err(other),
                        }),
                        None => {
                            session.respond_error(id, &RpcError::new(ErrorCode::NotSupported, ""))
                        }
                    }
                });
            }
            Step::RespondWrong {
                side,
                pick,
                action,
                seed,
            } => {
                let wrong = self.actions[action as usize % self.actions.len()];
                self.peers(side).0.answer(pick, |session, id, action| {
                    let Some(r) = response(wrong, seed) else {
                        return session
                            .respond_error(id, &RpcError::new(ErrorCode::InternalError, ""));
                    };
                    match session.respond_any(id, &r) {
                        Err(RespondError::WrongResponse { .. }) if wrong != action => Ok(()),
                        Ok(()) | Err(RespondError::Invalid(_)) if wrong == action => Ok(()),
                        other => panic!("a {wrong} response to a {action} call: {other:?}"),
                    }
                });
            }
            Step::RespondError {
                side,
                pick,
                code,
                ref description,
            } => {
                let code = ErrorCode::ALL[code as usize % ErrorCode::ALL.len()];
                self.peers(side).0.answer(pick, |session, id, _| {
                    session.respond_error(id, &RpcError::new(code, description.as_str()))
                });
            }
            Step::RespondStale { side, id } => {
                let peer = self.peers(side).0;
                if peer.pending.iter().any(|p| p.0 == IncomingId(id)) {
                    return;
                }
                let result = peer
                    .session
                    .respond_error(IncomingId(id), &RpcError::new(ErrorCode::GenericError, ""));
                assert!(
                    matches!(
                        result,
                        Err(RespondError::UnknownCall(_) | RespondError::Closed)
                    ),
                    "{result:?}"
                );
                let (written, _) = peer.drain(false);
                assert!(
                    written.is_empty(),
                    "an answer to no pending call was written"
                );
            }
            Step::Tick { ms } => {
                self.now = self.now.saturating_add(u64::from(ms));
                let now = Millis(self.now);
                for peer in [&mut self.station, &mut self.csms] {
                    peer.session.handle_timeout(now);
                    peer.drain(true);
                    if let Some(next) = peer.session.poll_timeout() {
                        assert!(
                            next > now,
                            "the next deadline {next:?} is not after {now:?}"
                        );
                    }
                }
            }
            Step::Close { side } => self.peers(side).0.close(),
            Step::Reconnect => self.reconnect(),
            Step::Leniency {
                side,
                fixes: bits,
                action,
            } => {
                let leniency = match action {
                    None => Leniency::all_actions(fixes(bits)),
                    Some(a) => Leniency::strict().action(
                        self.actions[a as usize % self.actions.len()].as_str(),
                        fixes(bits),
                    ),
                };
                let peer = self.peers(side).0;
                peer.session.set_leniency(leniency.clone());
                peer.config.leniency = leniency;
            }
        }
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Station => Side::Csms,
        Side::Csms => Side::Station,
    }
}

/// The element of a frame array that holds the payload object, if any.
fn payload_of(frame: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let array = frame.as_array_mut()?;
    let at = match array.first()?.as_u64()? {
        2 | 6 => 3,
        3 => 2,
        _ => 4,
    };
    array.get_mut(at)?.as_object_mut()
}

fn key_at(map: &serde_json::Map<String, Value>, at: u8) -> Option<String> {
    if map.is_empty() {
        return None;
    }
    map.keys().nth(at as usize % map.len()).cloned()
}

fn mutate(mut bytes: Vec<u8>, mutation: &Mutation) -> Vec<u8> {
    let position = |at: u16, len: usize| if len == 0 { 0 } else { at as usize % (len + 1) };
    match mutation {
        Mutation::None => return bytes,
        Mutation::Flip { at, xor } => {
            if !bytes.is_empty() {
                let at = *at as usize % bytes.len();
                bytes[at] ^= xor;
            }
            return bytes;
        }
        Mutation::Truncate { at } => {
            bytes.truncate(position(*at, bytes.len()));
            return bytes;
        }
        Mutation::Insert { at, bytes: extra } => {
            let at = position(*at, bytes.len());
            bytes.splice(at..at, extra.iter().copied());
            return bytes;
        }
        Mutation::Remove { at, len } => {
            let at = position(*at, bytes.len());
            let end = (at + *len as usize).min(bytes.len());
            bytes.drain(at..end);
            return bytes;
        }
        _ => {}
    }
    let Ok(mut frame) = serde_json::from_slice::<Value>(&bytes) else {
        return bytes;
    };
    match mutation {
        Mutation::MessageType(atom) => {
            if let Some(first) = frame.as_array_mut().and_then(|a| a.first_mut()) {
                *first = atom.value();
            }
        }
        Mutation::Id(atom) => {
            if let Some(id) = frame.as_array_mut().and_then(|a| a.get_mut(1)) {
                *id = atom.value();
            }
        }
        Mutation::Element { at, value } => {
            if let Some(array) = frame.as_array_mut()
                && !array.is_empty()
            {
                let at = *at as usize % array.len();
                array[at] = value.value();
            }
        }
        Mutation::RemoveElement(at) => {
            if let Some(array) = frame.as_array_mut()
                && !array.is_empty()
            {
                let at = *at as usize % array.len();
                array.remove(at);
            }
        }
        Mutation::AddElement(atom) => {
            if let Some(array) = frame.as_array_mut() {
                array.push(atom.value());
            }
        }
        Mutation::ActionSuffix => {
            if let Some(Value::String(action)) = frame.as_array_mut().and_then(|a| a.get_mut(2)) {
                action.push_str("Request");
            }
        }
        Mutation::RemoveKey(at) => {
            if let Some(map) = payload_of(&mut frame)
                && let Some(key) = key_at(map, *at)
            {
                map.remove(&key);
            }
        }
        Mutation::NullKey(at) => {
            if let Some(map) = payload_of(&mut frame)
                && let Some(key) = key_at(map, *at)
            {
                map.insert(key, Value::Null);
            }
        }
        Mutation::SetKey(at, atom) => {
            if let Some(map) = payload_of(&mut frame)
                && let Some(key) = key_at(map, *at)
            {
                map.insert(key, atom.value());
            }
        }
        Mutation::UnknownKey(key, atom) => {
            if let Some(map) = payload_of(&mut frame) {
                map.insert(key.clone(), atom.value());
            }
        }
        Mutation::LongString(at, len) => {
            if let Some(map) = payload_of(&mut frame)
                && let Some(key) = key_at(map, *at)
            {
                map.insert(key, Value::String("x".repeat(*len as usize % 1200)));
            }
        }
        _ => {}
    }
    serde_json::to_vec(&frame).unwrap_or(bytes)
}

fuzz_target!(|data: &[u8]| {
    let Ok(script) = Script::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let setup = &script.setup;
    let version = OcppVersion::ALL[setup.version as usize % 3];
    let config = |role: Role, bits: u8| {
        let mut config = Config::new(version, role);
        config.max_in_flight = 1 + setup.max_in_flight as usize % 3;
        config.max_queued = setup.max_queued as usize % 6;
        config.max_incoming = 1 + setup.max_incoming as usize % 4;
        config.max_bad_messages = u32::from(setup.max_bad_messages % 12);
        config.call_timeout_ms = 1_000 * (1 + u64::from(setup.timeout_s % 60));
        if bits != 0 {
            config.leniency = Leniency::all_actions(fixes(bits));
        }
        config
    };
    let mut world = World {
        version,
        actions: actions(version),
        now: 0,
        station: Peer::new(config(Role::ChargingStation, setup.station_fixes)),
        csms: Peer::new(config(Role::Csms, setup.csms_fixes)),
    };
    for step in script.steps.iter().take(64) {
        world.step(step);
    }
    world.station.close();
    world.csms.close();
});
