//! OCPP-J frames: parsing one WebSocket text message into a [`Frame`] that borrows from it, and
//! writing frames.
//!
//! Parsing reads the array's elements as raw JSON without copying them; a payload stays a
//! borrowed [`RawValue`] until the typed decode reads it. A message id or action is borrowed
//! unless it contains a JSON escape. Every input that is not a valid frame becomes a
//! [`FrameError`], whose [`FrameError::answer`] is the reply the version asks for (see the table
//! in the crate documentation).
//!
//! The frames that make up nearly all traffic (a CALL, CALLRESULT or SEND whose id and action
//! are plain ASCII) take a hand-written fast path for the array's head; everything else, valid
//! or not, goes through the general serde path, and a property test checks that the two agree on
//! every input. The payload is validated as JSON either way.
//!
//! Writing serializes a tuple straight into the output buffer; no `serde_json::Value` is built.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use ocpp_types::OcppVersion;
use serde::Serialize;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::ErrorCode;
use crate::id::MAX_MESSAGE_ID_CHARS;

/// The longest description a CALLERROR or CALLRESULTERROR carries, in characters: 2.x's limit,
/// applied to 1.6 too (which names none), so that no answer grows with the input it answers.
pub const MAX_DESCRIPTION_CHARS: usize = 255;

/// The message id of an answer to a message whose own id could not be read.
pub const UNKNOWN_ID: &str = "-1";

/// A message type number: the first element of every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `2`: a request.
    Call,
    /// `3`: a successful response.
    CallResult,
    /// `4`: an error response.
    CallError,
    /// `5` (2.1): the answer to a CALLRESULT that its receiver could not accept.
    CallResultError,
    /// `6` (2.1): a message that gets no answer.
    Send,
}

impl MessageType {
    /// The number on the wire.
    pub const fn number(self) -> u64 {
        match self {
            MessageType::Call => 2,
            MessageType::CallResult => 3,
            MessageType::CallError => 4,
            MessageType::CallResultError => 5,
            MessageType::Send => 6,
        }
    }

    /// The type with this number, if `version` has it (5 and 6 are 2.1 only).
    pub const fn from_number(number: u64, version: OcppVersion) -> Option<MessageType> {
        let v21 = matches!(version, OcppVersion::V21);
        match number {
            2 => Some(MessageType::Call),
            3 => Some(MessageType::CallResult),
            4 => Some(MessageType::CallError),
            5 if v21 => Some(MessageType::CallResultError),
            6 if v21 => Some(MessageType::Send),
            _ => None,
        }
    }
}

/// The error part of a CALLERROR or CALLRESULTERROR frame.
#[derive(Debug, Clone)]
pub struct ErrorFrame<'a> {
    /// The message id of the message in error.
    pub id: Cow<'a, str>,
    /// The error code as received (see [`ErrorFrame::error_code`]).
    pub code: Cow<'a, str>,
    /// The description.
    pub description: Cow<'a, str>,
    /// The error details: a JSON object.
    pub details: &'a RawValue,
}

impl ErrorFrame<'_> {
    /// The code, in either spelling; `None` for a code no version defines.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.code)
    }
}

/// One OCPP-J message, borrowing from the text it was parsed from.
#[derive(Debug, Clone)]
pub enum Frame<'a> {
    /// `[2, id, action, payload]`
    Call {
        /// Message id.
        id: Cow<'a, str>,
        /// Action name, as received.
        action: Cow<'a, str>,
        /// The request payload, not yet decoded (any JSON value: the typed decode checks it).
        payload: &'a RawValue,
    },
    /// `[3, id, payload]`
    CallResult {
        /// Message id of the CALL it answers.
        id: Cow<'a, str>,
        /// The response payload, not yet decoded.
        payload: &'a RawValue,
    },
    /// `[4, id, code, description, details]`
    CallError(ErrorFrame<'a>),
    /// `[5, id, code, description, details]` (2.1)
    CallResultError(ErrorFrame<'a>),
    /// `[6, id, action, payload]` (2.1)
    Send {
        /// Message id.
        id: Cow<'a, str>,
        /// Action name, as received.
        action: Cow<'a, str>,
        /// The payload, not yet decoded.
        payload: &'a RawValue,
    },
}

impl<'a> Frame<'a> {
    /// Parses one WebSocket text message of a `version` connection.
    pub fn parse(input: &'a [u8], version: OcppVersion) -> Result<Frame<'a>, FrameError> {
        parse(input, version)
    }

    /// The frame's message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Frame::Call { .. } => MessageType::Call,
            Frame::CallResult { .. } => MessageType::CallResult,
            Frame::CallError(_) => MessageType::CallError,
            Frame::CallResultError(_) => MessageType::CallResultError,
            Frame::Send { .. } => MessageType::Send,
        }
    }

    /// The frame's message id.
    pub fn id(&self) -> &str {
        match self {
            Frame::Call { id, .. } | Frame::CallResult { id, .. } | Frame::Send { id, .. } => id,
            Frame::CallError(e) | Frame::CallResultError(e) => &e.id,
        }
    }
}

/// What is wrong with an input that is not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameErrorKind {
    /// Nothing but whitespace (real chargers send these; they are ignored).
    Empty,
    /// Not well-formed JSON (or not UTF-8, or text after the JSON value).
    Syntax,
    /// Well-formed JSON, but not an array.
    NotAnArray,
    /// The first element is missing or not a non-negative integer.
    BadMessageType,
    /// The message id is missing or not a string.
    BadMessageId,
    /// The message id is longer than 36 characters.
    MessageIdTooLong,
    /// A message type number the version does not have (5 and 6 are 2.1 only).
    UnknownMessageType,
    /// A known message type with the wrong number or kinds of elements (a missing payload, an
    /// action that is not a string, details that are not an object, ...).
    BadShape,
}

/// An input that is not a valid frame, with what could still be read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    kind: FrameErrorKind,
    message_type: Option<u64>,
    id: Option<String>,
    detail: &'static str,
}

/// The reply that a malformed or refused message asks for: a CALLERROR (or, for a CALLRESULT on
/// 2.1, a CALLRESULTERROR) with this id and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// [`MessageType::CallError`] or [`MessageType::CallResultError`].
    pub message_type: MessageType,
    /// The message id to answer with (`"-1"` when it could not be read).
    pub id: String,
    /// The error code.
    pub code: ErrorCode,
}

impl FrameError {
    fn new(kind: FrameErrorKind, detail: &'static str) -> FrameError {
        FrameError {
            kind,
            message_type: None,
            id: None,
            detail,
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> FrameErrorKind {
        self.kind
    }

    /// The message type number, if the first element was a non-negative integer.
    pub fn message_type(&self) -> Option<u64> {
        self.message_type
    }

    /// The message id, if it could be read (a string of at most 36 characters).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// A short explanation for people.
    pub fn detail(&self) -> &'static str {
        self.detail
    }

    /// The CALLERROR that answers this input on a `version` connection, or `None` when the
    /// input is to be ignored. This is the frame part of the table in the crate documentation:
    ///
    /// - empty: ignored;
    /// - an error frame (type 4 or 5) or a SEND (type 6) is never answered, however broken;
    /// - unparseable, not an array, unreadable or too long message id: id `"-1"`,
    ///   `RpcFrameworkError` (`GenericError` on 1.6);
    /// - unknown message type: `MessageTypeNotSupported` on 2.0.1; ignored on 1.6 and 2.1;
    /// - a CALL of the wrong shape: `RpcFrameworkError` on 2.x, `ProtocolError` on 1.6;
    /// - a CALLRESULT of the wrong shape: not answered here (the session reports it to the
    ///   call it answers, and on 2.1 answers it with a CALLRESULTERROR).
    pub fn answer(&self, version: OcppVersion) -> Option<Answer> {
        let framework = ErrorCode::RpcFrameworkError;
        let unknown = |code| {
            Some(Answer {
                message_type: MessageType::CallError,
                id: String::from(UNKNOWN_ID),
                code,
            })
        };
        match (self.kind, self.message_type) {
            (FrameErrorKind::Empty, _) => None,
            (_, Some(4..=6)) if self.kind != FrameErrorKind::UnknownMessageType => None,
            (FrameErrorKind::Syntax | FrameErrorKind::NotAnArray, _) => unknown(framework),
            (FrameErrorKind::BadMessageId | FrameErrorKind::MessageIdTooLong, _) => {
                unknown(framework)
            }
            (FrameErrorKind::BadMessageType, _) => match &self.id {
                Some(id) => Some(Answer {
                    message_type: MessageType::CallError,
                    id: id.clone(),
                    code: framework,
                }),
                None => unknown(framework),
            },
            (FrameErrorKind::UnknownMessageType, _) => match version {
                OcppVersion::V201 => Some(Answer {
                    message_type: MessageType::CallError,
                    id: self.id.clone().unwrap_or_else(|| String::from(UNKNOWN_ID)),
                    code: ErrorCode::MessageTypeNotSupported,
                }),
                OcppVersion::V16 | OcppVersion::V21 => None,
            },
            (FrameErrorKind::BadShape, Some(2)) => Some(Answer {
                message_type: MessageType::CallError,
                id: self.id.clone().unwrap_or_else(|| String::from(UNKNOWN_ID)),
                code: match version {
                    OcppVersion::V16 => ErrorCode::ProtocolError,
                    _ => framework,
                },
            }),
            (FrameErrorKind::BadShape, _) => None,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail)
    }
}

impl core::error::Error for FrameError {}

/// One array element as the parser reads it: numbers and strings by value (strings borrowed
/// unless escaped), payloads raw, anything unexpected skipped.
enum Item<'a> {
    Int(u64),
    Str(Cow<'a, str>),
    Raw(&'a RawValue),
    Other,
}

impl<'a> Item<'a> {
    fn int(&self) -> Option<u64> {
        match self {
            Item::Int(n) => Some(*n),
            _ => None,
        }
    }

    fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Item::Str(s) => Some(s),
            _ => None,
        }
    }

    fn raw(&self) -> Option<&'a RawValue> {
        match self {
            Item::Raw(raw) => Some(raw),
            _ => None,
        }
    }
}

/// A non-negative integer or a string; any other value is read and skipped.
struct Scalar<'a>(Item<'a>);

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar(Item::Int(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar(u64::try_from(v).map_or(Item::Other, Item::Int)))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Scalar(Item::Other))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar(Item::Other))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar(Item::Other))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar(Item::Str(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar(Item::Str(Cow::Owned(String::from(v)))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar(Item::Str(Cow::Owned(v))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(Item::Other))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(Item::Other))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// The elements of a frame: up to five, read by what the message type says they are, and how
/// many there were.
struct Elements<'a> {
    items: [Item<'a>; 5],
    count: usize,
}

impl<'de> Deserialize<'de> for Elements<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ElementsVisitor;
        impl<'de> Visitor<'de> for ElementsVisitor {
            type Value = Elements<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OCPP-J message array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                const S: bool = false;
                const R: bool = true;
                let mut items = [
                    Item::Other,
                    Item::Other,
                    Item::Other,
                    Item::Other,
                    Item::Other,
                ];
                let mut count = 0;
                // Which elements are raw JSON (payloads, details) depends on the type.
                let mut layout: &[bool] = &[S, S];
                while count < layout.len() {
                    let item = if layout[count] {
                        seq.next_element::<&'de RawValue>()?.map(Item::Raw)
                    } else {
                        seq.next_element::<Scalar<'de>>()?.map(|s| s.0)
                    };
                    let Some(item) = item else {
                        return Ok(Elements { items, count });
                    };
                    if count == 0 {
                        layout = match item.int() {
                            Some(2 | 6) => &[S, S, S, R],
                            Some(3) => &[S, S, R],
                            Some(4 | 5) => &[S, S, S, S, R],
                            _ => &[S, S],
                        };
                    }
                    items[count] = item;
                    count += 1;
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count = count.saturating_add(1);
                }
                Ok(Elements { items, count })
            }
        }
        deserializer.deserialize_seq(ElementsVisitor)
    }
}

fn is_object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

fn is_blank(input: &[u8]) -> bool {
    input
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// A cursor over the input, for [`parse_common`].
struct Cursor<'a> {
    input: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.at) {
            self.at += 1;
        }
    }

    /// Skips whitespace, `byte` and whitespace.
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.input.get(self.at) == Some(&byte)).then_some(())?;
        self.at += 1;
        self.skip_ws();
        Some(())
    }

    /// A one-digit number.
    fn digit(&mut self) -> Option<u8> {
        let d = *self.input.get(self.at)?;
        if !d.is_ascii_digit() {
            return None;
        }
        self.at += 1;
        Some(d - b'0')
    }

    /// A string of printable ASCII without escapes.
    fn plain_str(&mut self) -> Option<&'a str> {
        if self.input.get(self.at) != Some(&b'"') {
            return None;
        }
        let start = self.at + 1;
        let len = self.input[start..]
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b))?;
        if self.input[start + len] != b'"' {
            return None;
        }
        self.at = start + len + 1;
        core::str::from_utf8(&self.input[start..start + len]).ok()
    }

    /// The rest of the input as one JSON value followed by `]`.
    fn last_value(&mut self) -> Option<&'a RawValue> {
        let rest = &self.input[self.at..];
        let end = rest.iter().rposition(|&b| b == b']')?;
        if !is_blank(&rest[end + 1..]) {
            return None;
        }
        let text = core::str::from_utf8(&rest[..end]).ok()?;
        serde_json::from_str(text).ok()
    }
}

/// The fast path for the frames that make up nearly all traffic: a CALL, SEND or CALLRESULT
/// whose id and action are short printable ASCII strings. Anything else (and anything invalid)
/// gives `None` and goes the general way, which gives the same result for every input this
/// accepts.
fn parse_common(input: &[u8], version: OcppVersion) -> Option<Frame<'_>> {
    let mut cursor = Cursor { input, at: 0 };
    cursor.eat(b'[')?;
    let number = cursor.digit()?;
    cursor.eat(b',')?;
    let id = cursor.plain_str()?;
    if id.len() > MAX_MESSAGE_ID_CHARS {
        return None;
    }
    cursor.eat(b',')?;
    let id = Cow::Borrowed(id);
    match MessageType::from_number(u64::from(number), version)? {
        message_type @ (MessageType::Call | MessageType::Send) => {
            let action = Cow::Borrowed(cursor.plain_str()?);
            cursor.eat(b',')?;
            let payload = cursor.last_value()?;
            Some(if message_type == MessageType::Call {
                Frame::Call {
                    id,
                    action,
                    payload,
                }
            } else {
                Frame::Send {
                    id,
                    action,
                    payload,
                }
            })
        }
        MessageType::CallResult => Some(Frame::CallResult {
            id,
            payload: cursor.last_value()?,
        }),
        MessageType::CallError | MessageType::CallResultError => None,
    }
}

/// Parses one WebSocket text message of a `version` connection (see [`Frame::parse`]).
pub fn parse(input: &[u8], version: OcppVersion) -> Result<Frame<'_>, FrameError> {
    match parse_common(input, version) {
        Some(frame) => Ok(frame),
        None => parse_general(input, version),
    }
}

/// [`parse`] without its fast path for common frames (for tests that check the two agree).
#[doc(hidden)]
pub fn parse_general(input: &[u8], version: OcppVersion) -> Result<Frame<'_>, FrameError> {
    if is_blank(input) {
        return Err(FrameError::new(FrameErrorKind::Empty, "empty message"));
    }
    let elements: Elements<'_> = match serde_json::from_slice(input) {
        Ok(elements) => elements,
        Err(e) if e.is_data() => {
            return Err(FrameError::new(
                FrameErrorKind::NotAnArray,
                "not a JSON array",
            ));
        }
        Err(_) => return Err(FrameError::new(FrameErrorKind::Syntax, "not valid JSON")),
    };
    let Elements { items, count } = elements;
    let [item0, item1, item2, item3, item4] = items;
    let number = item0.int();
    let id = item1.into_str();
    let fail = |kind, detail| FrameError {
        kind,
        message_type: number,
        id: id
            .as_deref()
            .filter(|id| {
                id.len() <= MAX_MESSAGE_ID_CHARS || id.chars().count() <= MAX_MESSAGE_ID_CHARS
            })
            .map(ToString::to_string),
        detail,
    };
    let Some(number) = number else {
        return Err(fail(
            FrameErrorKind::BadMessageType,
            "the message type is not an integer",
        ));
    };
    let Some(id) = id.clone() else {
        return Err(fail(
            FrameErrorKind::BadMessageId,
            "the message id is missing or not a string",
        ));
    };
    if id.len() > MAX_MESSAGE_ID_CHARS && id.chars().count() > MAX_MESSAGE_ID_CHARS {
        return Err(fail(
            FrameErrorKind::MessageIdTooLong,
            "the message id is longer than 36 characters",
        ));
    }
    let Some(message_type) = MessageType::from_number(number, version) else {
        return Err(fail(
            FrameErrorKind::UnknownMessageType,
            "a message type this version does not have",
        ));
    };
    let shape = |detail| Err(fail(FrameErrorKind::BadShape, detail));
    match message_type {
        MessageType::Call | MessageType::Send => {
            if count != 4 {
                return shape("a CALL or SEND has four elements");
            }
            let (Some(action), Some(payload)) = (item2.into_str(), item3.raw()) else {
                return shape("the action is not a string");
            };
            Ok(if message_type == MessageType::Call {
                Frame::Call {
                    id,
                    action,
                    payload,
                }
            } else {
                Frame::Send {
                    id,
                    action,
                    payload,
                }
            })
        }
        MessageType::CallResult => match (count, item2.raw()) {
            (3, Some(payload)) => Ok(Frame::CallResult { id, payload }),
            _ => shape("a CALLRESULT has three elements"),
        },
        MessageType::CallError | MessageType::CallResultError => {
            if count != 5 {
                return shape("a CALLERROR or CALLRESULTERROR has five elements");
            }
            let details = item4.raw().filter(|d| is_object(d));
            let (Some(code), Some(description), Some(details)) =
                (item2.into_str(), item3.into_str(), details)
            else {
                return shape(
                    "the error code and description must be strings, the details an object",
                );
            };
            let frame = ErrorFrame {
                id,
                code,
                description,
                details,
            };
            Ok(if message_type == MessageType::CallError {
                Frame::CallError(frame)
            } else {
                Frame::CallResultError(frame)
            })
        }
    }
}

/// `text` cut to at most `max` characters, at a character boundary.
pub fn truncate_chars(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Writes `[2, id, action, payload]`.
pub fn encode_call<P: Serialize + ?Sized>(
    id: &str,
    action: &str,
    payload: &P,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&(2u8, id, action, payload))
}

/// Writes `[3, id, payload]`.
pub fn encode_call_result<P: Serialize + ?Sized>(
    id: &str,
    payload: &P,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&(3u8, id, payload))
}

/// Writes `[6, id, action, payload]` (2.1).
pub fn encode_send<P: Serialize + ?Sized>(
    id: &str,
    action: &str,
    payload: &P,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&(6u8, id, action, payload))
}

/// Writes `[4, id, code, description, details]` (`message_type` [`MessageType::CallError`]) or
/// `[5, ...]` ([`MessageType::CallResultError`]) as `version` spells it: the code in the
/// version's spelling, the description cut to [`MAX_DESCRIPTION_CHARS`] characters, the
/// details `{}` when `None`.
pub fn encode_error(
    version: OcppVersion,
    message_type: MessageType,
    id: &str,
    code: ErrorCode,
    description: &str,
    details: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Vec<u8> {
    let description = truncate_chars(description, MAX_DESCRIPTION_CHARS);
    let number: u8 = match message_type {
        MessageType::CallResultError => 5,
        _ => 4,
    };
    let empty = serde_json::Map::new();
    let details = details.unwrap_or(&empty);
    let code = code.as_str(version);
    match serde_json::to_vec(&(number, id, code, description, details)) {
        Ok(frame) => frame,
        // A map of strings to JSON values always serializes; keep a valid frame regardless.
        Err(_) => serde_json::to_vec(&(number, id, code, description, &empty)).unwrap_or_default(),
    }
}
