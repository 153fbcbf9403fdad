//! Decode errors: what was wrong with a payload, and where.

use alloc::string::{String, ToString};
use core::fmt;

use serde::Deserialize;

// The messages that this crate's own checks give serde; `ErrorKind::classify` reads them back.
// (serde carries errors as text between a `Deserialize` impl and the caller.)
pub(crate) const LENGTH_PREFIX: &str = "string too long: ";
pub(crate) const RANGE_PREFIX: &str = "value out of range: ";
pub(crate) const ITEMS_PREFIX: &str = "wrong number of items: ";
pub(crate) const FORMAT_PREFIX: &str = "invalid format: ";
pub(crate) const DATE_TIME_PREFIX: &str = "invalid date-time: ";

/// What kind of schema rule a payload broke.
///
/// Each kind corresponds to one OCPP-J error code, which `ocpp-rpc` answers with (the table is in
/// its documentation); [`ErrorKind::error_code`] names the 2.x spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not well-formed JSON, or a JSON object with a duplicated key.
    Syntax,
    /// A required property is absent (`required`).
    Missing,
    /// A property the schema does not define (`additionalProperties: false`).
    UnexpectedField,
    /// A value of the wrong JSON type, `null` included (`type`).
    Type,
    /// A string longer than `maxLength`.
    Length,
    /// A string that is not one of the `enum` values.
    Enum,
    /// A number outside `minimum`/`maximum`, not a `multipleOf`, or beyond 64-bit range.
    Range,
    /// An array with fewer than `minItems` or more than `maxItems` elements.
    Items,
    /// A string that breaks its `format` (`date-time`, `uri`).
    Format,
}

impl ErrorKind {
    /// The OCPP 2.x error code for a payload with this fault (1.6 spells two of them differently,
    /// see `ocpp-rpc`).
    pub const fn error_code(self) -> &'static str {
        match self {
            ErrorKind::Syntax | ErrorKind::UnexpectedField => "FormatViolation",
            ErrorKind::Missing | ErrorKind::Items => "OccurrenceConstraintViolation",
            ErrorKind::Type => "TypeConstraintViolation",
            ErrorKind::Length | ErrorKind::Enum | ErrorKind::Range | ErrorKind::Format => {
                "PropertyConstraintViolation"
            }
        }
    }

    /// Reads the kind from the text of a serde data error (serde's own messages, and the ones
    /// this crate's checks produce).
    fn classify(message: &str) -> ErrorKind {
        const KINDS: &[(&str, ErrorKind)] = &[
            ("missing field `", ErrorKind::Missing),
            ("unknown field `", ErrorKind::UnexpectedField),
            ("invalid type: ", ErrorKind::Type),
            ("unknown variant `", ErrorKind::Enum),
            ("duplicate field `", ErrorKind::Syntax),
            ("invalid value: ", ErrorKind::Range),
            ("invalid length ", ErrorKind::Items),
            (LENGTH_PREFIX, ErrorKind::Length),
            (RANGE_PREFIX, ErrorKind::Range),
            (ITEMS_PREFIX, ErrorKind::Items),
            (FORMAT_PREFIX, ErrorKind::Format),
            (DATE_TIME_PREFIX, ErrorKind::Format),
        ];
        KINDS
            .iter()
            .find(|(prefix, _)| message.starts_with(prefix))
            .map_or(ErrorKind::Syntax, |&(_, kind)| kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Syntax => "malformed JSON",
            ErrorKind::Missing => "missing required property",
            ErrorKind::UnexpectedField => "unexpected property",
            ErrorKind::Type => "wrong type",
            ErrorKind::Length => "too long",
            ErrorKind::Enum => "value not in enumeration",
            ErrorKind::Range => "number out of range",
            ErrorKind::Items => "wrong number of items",
            ErrorKind::Format => "wrong format",
        })
    }
}

/// A payload that its schema rejects: the [`ErrorKind`], a JSON pointer (RFC 6901) to the
/// offending value, and a message for people.
///
/// ```
/// use ocpp_types::{ErrorKind, v201::BootNotificationRequest};
/// let payload = br#"{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V","serialNumber":"this serial number is too long"}}"#;
/// let err = ocpp_types::from_slice::<BootNotificationRequest>(payload).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Length);
/// assert_eq!(err.pointer(), "/chargingStation/serialNumber");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: ErrorKind,
    pointer: String,
    message: String,
}

impl DecodeError {
    /// Builds an error (for decoders layered on this crate's types).
    pub fn new(kind: ErrorKind, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError {
            kind,
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// What rule was broken.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// JSON pointer to the offending value (`""` for the payload itself); for a missing or an
    /// unknown property, to that property (`/chargingStation/model`).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// Human-readable explanation.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn from_serde(err: serde_json::Error, mut pointer: String) -> Self {
        // serde_json appends " at line L column C"; the pointer says where.
        let mut message = err.to_string();
        if err.line() != 0 {
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
        }
        let kind = if err.is_data() {
            ErrorKind::classify(&message)
        } else {
            ErrorKind::Syntax
        };
        // serde reports a missing or an unknown field at the object that lacks or has it; the
        // pointer names the property itself.
        let name = match kind {
            ErrorKind::Missing => backticked(&message),
            ErrorKind::UnexpectedField => unknown_field_name(&message),
            _ => None,
        };
        if let Some(name) = name {
            push_token(&mut pointer, name);
        }
        DecodeError {
            kind,
            pointer,
            message,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

impl core::error::Error for DecodeError {}

/// The text between the first pair of backticks in `message`.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The property name in serde's "unknown field `name`, expected ..." (the name comes from the
/// input and may itself hold backticks).
fn unknown_field_name(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    ["`, expected", "`, there are no fields"]
        .iter()
        .find_map(|end| rest.rfind(end))
        .map_or_else(|| rest.strip_suffix('`'), |end| Some(&rest[..end]))
}

/// Appends one reference token to a JSON pointer, escaped as RFC 6901 requires.
fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => push_token(&mut pointer, &index.to_string()),
            Segment::Map { key } => push_token(&mut pointer, key),
            Segment::Enum { variant } => push_token(&mut pointer, variant),
            Segment::Unknown => {}
        }
    }
    pointer
}

/// Decodes a payload into a generated type, enforcing its schema.
///
/// Bytes that are not UTF-8 are refused (as malformed JSON); the rest is [`from_str`].
pub fn from_slice<'de, T: Deserialize<'de>>(payload: &'de [u8]) -> Result<T, DecodeError> {
    match core::str::from_utf8(payload) {
        Ok(text) => from_str(text),
        Err(_) => checked(payload),
    }
}

/// Decodes a payload held as text (a WebSocket text message, the only kind OCPP-J uses) into a
/// generated type, enforcing its schema.
///
/// The fast path is this crate's own JSON reader, which accepts no more than `serde_json`
/// does. Only when it refuses is the payload decoded a second time, by `serde_json` with path
/// tracking, which gives the verdict and says where the fault is; valid payloads pay nothing
/// for it.
pub fn from_str<'de, T: Deserialize<'de>>(payload: &'de str) -> Result<T, DecodeError> {
    match crate::json::from_str(payload) {
        Ok(value) => Ok(value),
        Err(_) => checked(payload.as_bytes()),
    }
}

/// `serde_json`'s decode with the JSON pointer of the fault.
#[cold]
fn checked<'de, T: Deserialize<'de>>(payload: &'de [u8]) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => match de.end() {
            Ok(()) => Ok(value),
            Err(trailing) => Err(DecodeError::from_serde(trailing, String::new())),
        },
        Err(err) => {
            let pointer = pointer_of(err.path());
            Err(DecodeError::from_serde(err.into_inner(), pointer))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_serde_messages() {
        assert_eq!(
            ErrorKind::classify("missing field `status`"),
            ErrorKind::Missing
        );
        assert_eq!(
            ErrorKind::classify("unknown field `x`, expected `a`"),
            ErrorKind::UnexpectedField
        );
        assert_eq!(
            ErrorKind::classify("invalid type: null, expected i64"),
            ErrorKind::Type
        );
        assert_eq!(
            ErrorKind::classify("unknown variant `Foo`, expected one of"),
            ErrorKind::Enum
        );
        assert_eq!(
            ErrorKind::classify("string too long: 3 characters"),
            ErrorKind::Length
        );
        assert_eq!(ErrorKind::classify("something else"), ErrorKind::Syntax);
    }

    #[test]
    fn unknown_field_names_are_read_whole() {
        assert_eq!(
            unknown_field_name("unknown field `a`b`, expected one of `x`, `y`"),
            Some("a`b")
        );
        assert_eq!(
            unknown_field_name("unknown field `z`, there are no fields"),
            Some("z")
        );
        assert_eq!(unknown_field_name("missing field `z`"), None);
    }

    #[cfg(feature = "v201")]
    #[test]
    fn missing_and_unknown_properties_are_named() {
        use crate::v201::{BootNotificationRequest, HeartbeatRequest};
        let err = crate::from_str::<HeartbeatRequest>(r#"{"customData":{"vendorId":"V"},"a/b":1}"#)
            .unwrap_err();
        assert_eq!(
            (err.kind(), err.pointer()),
            (ErrorKind::UnexpectedField, "/a~1b")
        );
        let payload = r#"{"reason":"PowerUp","chargingStation":{"vendorName":"V","Model":"M"}}"#;
        let err = crate::from_str::<BootNotificationRequest>(payload).unwrap_err();
        assert_eq!(
            (err.kind(), err.pointer()),
            (ErrorKind::UnexpectedField, "/chargingStation/Model")
        );
        let payload = r#"{"reason":"PowerUp","chargingStation":{"vendorName":"V"}}"#;
        let err = crate::from_str::<BootNotificationRequest>(payload).unwrap_err();
        assert_eq!(
            (err.kind(), err.pointer()),
            (ErrorKind::Missing, "/chargingStation/model")
        );
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        let mut p = String::new();
        push_token(&mut p, "a/b~c");
        assert_eq!(p, "/a~1b~0c");
    }
}
