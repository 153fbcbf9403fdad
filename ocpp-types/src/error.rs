//! Decode errors: what was wrong with a payload, and where.

use alloc::string::String;
use core::fmt;

use serde::Deserialize;

/// What kind of schema rule a payload broke.
///
/// Each kind corresponds to one OCPP-J error code (`FormatViolation`,
/// `OccurrenceConstraintViolation`, ...); the one table from kind to code, with the 1.6 spellings,
/// is `ErrorCode::from_kind` in `ocpp-rpc`. More kinds may come, hence `#[non_exhaustive]`.
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

/// The schema's bound that a value broke, where the check knows it (see [`DecodeError::limit`]).
///
/// ```
/// use ocpp_types::{Limit, v201::BootNotificationRequest};
/// let payload = r#"{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V","serialNumber":"this serial number is too long"}}"#;
/// let err = ocpp_types::from_str::<BootNotificationRequest>(payload).unwrap_err();
/// assert_eq!(err.limit(), Some(Limit::MaxLength(25)));
/// assert_eq!(err.max_length(), Some(25));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// `maxLength`: the most characters (Unicode scalar values, as the schema counts) a string
    /// may have.
    MaxLength(usize),
    /// `minItems`: the fewest elements an array may have.
    MinItems(usize),
    /// `maxItems`: the most elements an array may have.
    MaxItems(usize),
    /// `minimum`: the smallest number allowed (inclusive).
    Minimum(i64),
    /// `maximum`: the largest number allowed (inclusive).
    Maximum(i64),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::MaxLength(n) => write!(f, "maxLength {n}"),
            Limit::MinItems(n) => write!(f, "minItems {n}"),
            Limit::MaxItems(n) => write!(f, "maxItems {n}"),
            Limit::Minimum(n) => write!(f, "minimum {n}"),
            Limit::Maximum(n) => write!(f, "maximum {n}"),
        }
    }
}

/// An f64 displayed as JSON writes it (serde_json's shortest form). Error messages use it
/// rather than `f64`'s `Display`, whose formatting code (7 KB) would otherwise be linked
/// into every firmware for messages alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Number(pub f64);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_string(&self.0) {
            Ok(text) => f.write_str(&text),
            Err(_) => f.write_str("NaN"),
        }
    }
}

/// The one place where an error's text becomes its structure.
///
/// serde carries a custom error from a `Deserialize` impl to the caller only as text
/// (`de::Error::custom`), so this crate's own checks ([`BoundedString`](crate::BoundedString),
/// the `__rt` checks, `DateTime`) describe what they refused with [`rule::write`] (through
/// `rule::message`, `rule::de_error` or `rule::ser_error`), and
/// [`DecodeError`] reads the kind and the limit back with [`rule::read`]; serde's own messages
/// (`missing field`, `unknown variant`, ...) are read there too. Nothing else parses error text.
pub(crate) mod rule {
    use alloc::string::String;
    use core::fmt;

    use super::{ErrorKind, Limit};

    /// A rule that one of this crate's checks enforces.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub(crate) enum Rule {
        /// A string with more characters than `maxLength`.
        MaxLength(usize),
        /// A number below `minimum`.
        Minimum(i64),
        /// A number above `maximum`.
        Maximum(i64),
        /// A number that is not a multiple of `multipleOf` (the value, for people).
        MultipleOf(f64),
        /// An integer beyond the 64-bit range.
        Integer64,
        /// NaN or an infinity, which JSON cannot carry (on output only).
        FiniteNumber,
        /// An array with fewer elements than `minItems`.
        MinItems(usize),
        /// An array with more elements than `maxItems`.
        MaxItems(usize),
        /// `format: uri`.
        Uri,
        /// `format: date-time`.
        DateTime,
    }

    impl Rule {
        /// The kind of fault.
        pub(crate) fn kind(self) -> ErrorKind {
            match self {
                Rule::MaxLength(_) => ErrorKind::Length,
                Rule::Minimum(_)
                | Rule::Maximum(_)
                | Rule::MultipleOf(_)
                | Rule::Integer64
                | Rule::FiniteNumber => ErrorKind::Range,
                Rule::MinItems(_) | Rule::MaxItems(_) => ErrorKind::Items,
                Rule::Uri | Rule::DateTime => ErrorKind::Format,
            }
        }

        /// The bound, where there is one.
        pub(crate) fn limit(self) -> Option<Limit> {
            match self {
                Rule::MaxLength(n) => Some(Limit::MaxLength(n)),
                Rule::Minimum(n) => Some(Limit::Minimum(n)),
                Rule::Maximum(n) => Some(Limit::Maximum(n)),
                Rule::MinItems(n) => Some(Limit::MinItems(n)),
                Rule::MaxItems(n) => Some(Limit::MaxItems(n)),
                Rule::MultipleOf(_)
                | Rule::Integer64
                | Rule::FiniteNumber
                | Rule::Uri
                | Rule::DateTime => None,
            }
        }

        /// What was wrong, for people: the first part of every message.
        fn what(self) -> &'static str {
            match self.kind() {
                ErrorKind::Length => "string too long",
                ErrorKind::Range => "value out of range",
                ErrorKind::Items => "wrong number of items",
                _ => "invalid format",
            }
        }
    }

    impl fmt::Display for Rule {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if let Some(limit) = self.limit() {
                return limit.fmt(f);
            }
            match self {
                Rule::MultipleOf(step) => write!(f, "multipleOf {}", super::Number(*step)),
                Rule::Integer64 => f.write_str("64-bit integer"),
                Rule::FiniteNumber => f.write_str("JSON number"),
                Rule::Uri => f.write_str("uri"),
                _ => f.write_str("date-time"),
            }
        }
    }

    /// Writes the message of a broken rule: `<what> (<rule>): <detail>`, e.g.
    /// `string too long (maxLength 20): 25 characters`. [`read`] reads it back.
    pub(crate) fn write(
        f: &mut fmt::Formatter<'_>,
        rule: Rule,
        detail: fmt::Arguments<'_>,
    ) -> fmt::Result {
        write!(f, "{} ({rule}): {detail}", rule.what())
    }

    /// A broken rule and its detail, displayed as [`write`] writes it.
    struct Described<'a>(Rule, fmt::Arguments<'a>);

    impl fmt::Display for Described<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write(f, self.0, self.1)
        }
    }

    /// [`write`] into a `String`.
    pub(crate) fn message(rule: Rule, detail: fmt::Arguments<'_>) -> String {
        alloc::format!("{}", Described(rule, detail))
    }

    /// The deserialization error for a broken rule, `detail` being the refused value. Cold, and
    /// given the bare value (no `format_args!` at the call), so that a visitor that reads valid
    /// values stays small enough to be inlined into the reader.
    #[cold]
    pub(crate) fn de_error<E: serde::de::Error>(rule: Rule, detail: impl fmt::Display) -> E {
        E::custom(Described(rule, format_args!("{detail}")))
    }

    /// The serialization error for a broken rule, `detail` being the refused value.
    #[cold]
    pub(crate) fn ser_error<E: serde::ser::Error>(rule: Rule, detail: impl fmt::Display) -> E {
        E::custom(Described(rule, format_args!("{detail}")))
    }

    /// The kind and limit of a serde data error's message: one written by [`write`], or one of
    /// serde's own. Text that is neither is a syntax fault.
    pub(crate) fn read(message: &str) -> (ErrorKind, Option<Limit>) {
        if let Some(rule) = read_rule(message) {
            return (rule.kind(), rule.limit());
        }
        const SERDE: &[(&str, ErrorKind)] = &[
            ("missing field `", ErrorKind::Missing),
            ("unknown field `", ErrorKind::UnexpectedField),
            ("invalid type: ", ErrorKind::Type),
            ("unknown variant `", ErrorKind::Enum),
            ("duplicate field `", ErrorKind::Syntax),
            ("invalid value: ", ErrorKind::Range),
            ("invalid length ", ErrorKind::Items),
        ];
        let kind = SERDE
            .iter()
            .find(|(prefix, _)| message.starts_with(prefix))
            .map_or(ErrorKind::Syntax, |&(_, kind)| kind);
        (kind, None)
    }

    /// The rule in a message that [`write`] wrote.
    fn read_rule(message: &str) -> Option<Rule> {
        let (what, rest) = message.split_once(" (")?;
        let (rule, _detail) = rest.split_once("): ")?;
        let (keyword, arg) = rule.split_once(' ').unwrap_or((rule, ""));
        let parsed = match (what, keyword) {
            ("string too long", "maxLength") => Rule::MaxLength(arg.parse().ok()?),
            ("value out of range", "minimum") => Rule::Minimum(arg.parse().ok()?),
            ("value out of range", "maximum") => Rule::Maximum(arg.parse().ok()?),
            ("value out of range", "multipleOf") => Rule::MultipleOf(arg.parse().ok()?),
            ("value out of range", "64-bit") => Rule::Integer64,
            ("value out of range", "JSON") => Rule::FiniteNumber,
            ("wrong number of items", "minItems") => Rule::MinItems(arg.parse().ok()?),
            ("wrong number of items", "maxItems") => Rule::MaxItems(arg.parse().ok()?),
            ("invalid format", "uri") => Rule::Uri,
            ("invalid format", "date-time") => Rule::DateTime,
            _ => return None,
        };
        // Only what `write` writes: the rule must read back as it was written.
        (alloc::format!("{parsed}") == rule && parsed.what() == what).then_some(parsed)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use alloc::string::ToString;

        #[test]
        fn every_rule_reads_back_as_its_kind_and_limit() {
            let rules = [
                (
                    Rule::MaxLength(20),
                    ErrorKind::Length,
                    Some(Limit::MaxLength(20)),
                ),
                (
                    Rule::Minimum(-9),
                    ErrorKind::Range,
                    Some(Limit::Minimum(-9)),
                ),
                (Rule::Maximum(9), ErrorKind::Range, Some(Limit::Maximum(9))),
                (Rule::MultipleOf(0.1), ErrorKind::Range, None),
                (Rule::Integer64, ErrorKind::Range, None),
                (Rule::FiniteNumber, ErrorKind::Range, None),
                (
                    Rule::MinItems(1),
                    ErrorKind::Items,
                    Some(Limit::MinItems(1)),
                ),
                (
                    Rule::MaxItems(4),
                    ErrorKind::Items,
                    Some(Limit::MaxItems(4)),
                ),
                (Rule::Uri, ErrorKind::Format, None),
                (Rule::DateTime, ErrorKind::Format, None),
            ];
            for (rule, kind, limit) in rules {
                assert_eq!((rule.kind(), rule.limit()), (kind, limit), "{rule:?}");
                // The detail may hold anything the input held, parentheses included.
                let text = message(rule, format_args!("\"a): (b\" is wrong"));
                assert_eq!(read_rule(&text), Some(rule), "{text}");
                assert_eq!(read(&text), (kind, limit), "{text}");
            }
            assert_eq!(
                message(Rule::MaxLength(20), format_args!("25 characters")),
                "string too long (maxLength 20): 25 characters"
            );
        }

        #[test]
        fn serde_messages_read_as_their_kind() {
            let cases = [
                ("missing field `status`", ErrorKind::Missing),
                (
                    "unknown field `x`, expected `a`",
                    ErrorKind::UnexpectedField,
                ),
                ("invalid type: null, expected i64", ErrorKind::Type),
                ("unknown variant `Foo`, expected one of", ErrorKind::Enum),
                ("duplicate field `a`", ErrorKind::Syntax),
                ("invalid length 3, expected 2", ErrorKind::Items),
                ("something else", ErrorKind::Syntax),
                // Like ours, but not written by `write`: no limit read into it.
                ("string too long (maxLength x): 3", ErrorKind::Syntax),
                ("string too long (minimum 3): 3", ErrorKind::Syntax),
            ];
            for (text, kind) in cases {
                assert_eq!(read(text), (kind, None), "{text}");
            }
            assert_eq!(Limit::MaxItems(3).to_string(), "maxItems 3");
        }
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

/// A payload that its schema rejects: the [`ErrorKind`], the schema's [`Limit`] where there is
/// one, a JSON pointer (RFC 6901) to the offending value, and a message for people.
///
/// ```
/// use ocpp_types::{ErrorKind, v201::BootNotificationRequest};
/// let payload = br#"{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V","serialNumber":"this serial number is too long"}}"#;
/// let err = ocpp_types::from_slice::<BootNotificationRequest>(payload).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Length);
/// assert_eq!(err.pointer(), "/chargingStation/serialNumber");
/// assert_eq!(err.max_length(), Some(25));
/// assert_eq!(err.message(), "string too long (maxLength 25): 30 characters");
/// ```
///
/// serde hands an error raised inside a `Deserialize` impl to its caller only as text, so the
/// kind and the limit are read back from that text, in one private place of this crate that
/// also writes the messages of its own checks (a test holds every check's message to the kind
/// and limit it stands for). Use [`kind`](Self::kind) and [`limit`](Self::limit), never the
/// message, whose wording may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: ErrorKind,
    limit: Option<Limit>,
    pointer: String,
    message: String,
}

impl DecodeError {
    /// Builds an error (for decoders layered on this crate's types), without a [`Limit`].
    pub fn new(kind: ErrorKind, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError {
            kind,
            limit: None,
            pointer: pointer.into(),
            message: message.into(),
        }
    }

    /// The same error, with the schema's bound that the value broke.
    pub fn with_limit(mut self, limit: Limit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// What rule was broken.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The schema's bound that the value broke, where the check knows it: `maxLength` for
    /// [`ErrorKind::Length`], `minItems`/`maxItems` for [`ErrorKind::Items`], `minimum`/`maximum`
    /// for [`ErrorKind::Range`] (not for `multipleOf` or the 64-bit range).
    pub fn limit(&self) -> Option<Limit> {
        self.limit
    }

    /// The `maxLength` of a string that was too long, in characters (what a lenient peer
    /// truncates to).
    pub fn max_length(&self) -> Option<usize> {
        match self.limit {
            Some(Limit::MaxLength(max)) => Some(max),
            _ => None,
        }
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

    /// The reader's refusal as a decode error: its kind and limit read from the message.
    #[cold]
    pub(crate) fn from_reader(refused: &crate::json::Refused) -> Self {
        let message = String::from(refused.message());
        let mut pointer = refused.pointer();
        let (kind, limit) = if refused.is_data() {
            rule::read(&message)
        } else {
            (ErrorKind::Syntax, None)
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
            limit,
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
pub(crate) fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Decodes a payload into a generated type, enforcing its schema.
///
/// Bytes that are not UTF-8 are refused (as malformed JSON); the rest is [`from_str`].
pub fn from_slice<'de, T: Deserialize<'de>>(payload: &'de [u8]) -> Result<T, DecodeError> {
    match core::str::from_utf8(payload) {
        Ok(text) => from_str(text),
        Err(err) => Err(DecodeError::new(
            ErrorKind::Syntax,
            "",
            alloc::format!("malformed JSON: not UTF-8 at byte {}", err.valid_up_to()),
        )),
    }
}

/// Decodes a payload held as text (a WebSocket text message, the only kind OCPP-J uses) into a
/// generated type, enforcing its schema.
///
/// One pass of this crate's JSON reader, which accepts exactly what `serde_json` does; a
/// refusal says what was wrong and where.
pub fn from_str<'de, T: Deserialize<'de>>(payload: &'de str) -> Result<T, DecodeError> {
    crate::json::from_str(payload).map_err(|refused| DecodeError::from_reader(&refused))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[cfg(feature = "v201")]
    #[test]
    fn limits_come_with_the_error() {
        use crate::v201::{
            BootNotificationRequest, GetVariablesRequest, NotifyEVChargingNeedsRequest,
        };
        let payload = r#"{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"ÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜÄÖÜ"}}"#;
        let err = crate::from_str::<BootNotificationRequest>(payload).unwrap_err();
        assert_eq!(
            (err.kind(), err.max_length()),
            (ErrorKind::Length, Some(50))
        );
        assert_eq!(err.pointer(), "/chargingStation/vendorName");
        let err = crate::from_str::<GetVariablesRequest>(r#"{"getVariableData":[]}"#).unwrap_err();
        assert_eq!(
            (err.kind(), err.limit()),
            (ErrorKind::Items, Some(Limit::MinItems(1)))
        );
        assert_eq!(err.max_length(), None);
        let payload = r#"{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"DC","dcChargingParameters":{"evMaxCurrent":1,"evMaxVoltage":1,"stateOfCharge":101}}}"#;
        let err = crate::from_str::<NotifyEVChargingNeedsRequest>(payload).unwrap_err();
        assert_eq!(
            (err.kind(), err.limit()),
            (ErrorKind::Range, Some(Limit::Maximum(100)))
        );
        assert_eq!(
            err.pointer(),
            "/chargingNeeds/dcChargingParameters/stateOfCharge"
        );
        let err = crate::from_str::<BootNotificationRequest>("{").unwrap_err();
        assert_eq!((err.kind(), err.limit()), (ErrorKind::Syntax, None));
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        let mut p = String::new();
        push_token(&mut p, "a/b~c");
        assert_eq!(p, "/a~1b~0c");
    }
}
