//! [`ErrorCode`]: the error codes of CALLERROR and CALLRESULTERROR, spelled per version.

use core::fmt;

use ocpp_types::{DecodeError, ErrorKind, OcppVersion};

/// An OCPP-J RPC error code, as carried by a CALLERROR (and, in 2.1, a CALLRESULTERROR).
///
/// One enum for every version: [`ErrorCode::as_str`] gives the spelling the version uses on the
/// wire, and [`ErrorCode::parse`] accepts every spelling of every version.
///
/// | variant | 1.6 on the wire | 2.0.1 / 2.1 on the wire |
/// |---|---|---|
/// | [`FormatViolation`](ErrorCode::FormatViolation) | `FormationViolation` | `FormatViolation` |
/// | [`OccurrenceConstraintViolation`](ErrorCode::OccurrenceConstraintViolation) | `OccurenceConstraintViolation` (sic) | `OccurrenceConstraintViolation` |
/// | [`RpcFrameworkError`](ErrorCode::RpcFrameworkError) | `GenericError` (1.6 has no such code) | `RpcFrameworkError` |
/// | [`MessageTypeNotSupported`](ErrorCode::MessageTypeNotSupported) | `GenericError` (1.6 has no such code) | `MessageTypeNotSupported` |
/// | every other variant | its name | its name |
///
/// ```
/// use ocpp_rpc::ErrorCode;
/// use ocpp_types::OcppVersion;
/// assert_eq!(ErrorCode::FormatViolation.as_str(OcppVersion::V16), "FormationViolation");
/// assert_eq!(ErrorCode::FormatViolation.as_str(OcppVersion::V201), "FormatViolation");
/// assert_eq!(ErrorCode::parse("OccurenceConstraintViolation"), Some(ErrorCode::OccurrenceConstraintViolation));
/// assert_eq!(ErrorCode::parse("OccurrenceConstraintViolation"), Some(ErrorCode::OccurrenceConstraintViolation));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// The requested action is not known by the receiver.
    NotImplemented,
    /// The requested action is recognized but not supported by the receiver.
    NotSupported,
    /// An internal error occurred and the receiver could not process the action.
    InternalError,
    /// The payload is incomplete (1.6) or does not conform to the PDU structure (2.x).
    ProtocolError,
    /// A security issue prevented the receiver from completing the action.
    SecurityError,
    /// The payload is syntactically incorrect (1.6 spells it `FormationViolation`).
    FormatViolation,
    /// A field contains a value that is not allowed (enumeration, length, range, format).
    PropertyConstraintViolation,
    /// A field violates occurrence constraints: a required field is missing, or an array has
    /// too few or too many items (1.6 spells it `OccurenceConstraintViolation`).
    OccurrenceConstraintViolation,
    /// A field violates data type constraints (`"somestring": 12`).
    TypeConstraintViolation,
    /// Any other error.
    GenericError,
    /// The content is not a valid RPC message, for example the message id could not be read
    /// (2.x only; sent as `GenericError` on 1.6).
    RpcFrameworkError,
    /// A message type number that this implementation does not support (2.x only; sent as
    /// `GenericError` on 1.6).
    MessageTypeNotSupported,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::NotImplemented,
        ErrorCode::NotSupported,
        ErrorCode::InternalError,
        ErrorCode::ProtocolError,
        ErrorCode::SecurityError,
        ErrorCode::FormatViolation,
        ErrorCode::PropertyConstraintViolation,
        ErrorCode::OccurrenceConstraintViolation,
        ErrorCode::TypeConstraintViolation,
        ErrorCode::GenericError,
        ErrorCode::RpcFrameworkError,
        ErrorCode::MessageTypeNotSupported,
    ];

    /// The code as `version` spells it on the wire. Codes that `version` lacks become the
    /// closest code it has (see the table on [`ErrorCode`]), so the result is always valid.
    pub const fn as_str(self, version: OcppVersion) -> &'static str {
        let v16 = matches!(version, OcppVersion::V16);
        match self {
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::FormatViolation if v16 => "FormationViolation",
            ErrorCode::FormatViolation => "FormatViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation if v16 => "OccurenceConstraintViolation",
            ErrorCode::OccurrenceConstraintViolation => "OccurrenceConstraintViolation",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
            ErrorCode::GenericError => "GenericError",
            ErrorCode::RpcFrameworkError | ErrorCode::MessageTypeNotSupported if v16 => {
                "GenericError"
            }
            ErrorCode::RpcFrameworkError => "RpcFrameworkError",
            ErrorCode::MessageTypeNotSupported => "MessageTypeNotSupported",
        }
    }

    /// The 2.x name of the variant (what [`fmt::Display`] prints).
    pub const fn name(self) -> &'static str {
        self.as_str(OcppVersion::V201)
    }

    /// Whether `version` defines this code under some spelling.
    pub const fn exists_in(self, version: OcppVersion) -> bool {
        !matches!(
            (self, version),
            (
                ErrorCode::RpcFrameworkError | ErrorCode::MessageTypeNotSupported,
                OcppVersion::V16
            )
        )
    }

    /// The code for a name, in any version's spelling (`FormationViolation` and
    /// `FormatViolation`, `OccurenceConstraintViolation` and `OccurrenceConstraintViolation`).
    /// Exact and case-sensitive otherwise.
    pub fn parse(name: &str) -> Option<ErrorCode> {
        Some(match name {
            "NotImplemented" => ErrorCode::NotImplemented,
            "NotSupported" => ErrorCode::NotSupported,
            "InternalError" => ErrorCode::InternalError,
            "ProtocolError" => ErrorCode::ProtocolError,
            "SecurityError" => ErrorCode::SecurityError,
            "FormatViolation" | "FormationViolation" => ErrorCode::FormatViolation,
            "PropertyConstraintViolation" => ErrorCode::PropertyConstraintViolation,
            "OccurrenceConstraintViolation" | "OccurenceConstraintViolation" => {
                ErrorCode::OccurrenceConstraintViolation
            }
            "TypeConstraintViolation" => ErrorCode::TypeConstraintViolation,
            "GenericError" => ErrorCode::GenericError,
            "RpcFrameworkError" => ErrorCode::RpcFrameworkError,
            "MessageTypeNotSupported" => ErrorCode::MessageTypeNotSupported,
            _ => return None,
        })
    }

    /// The code that answers a payload with this kind of schema fault:
    ///
    /// | [`ErrorKind`] | code |
    /// |---|---|
    /// | `Missing`, `Items` | `OccurrenceConstraintViolation` |
    /// | `Type` | `TypeConstraintViolation` |
    /// | `Enum`, `Range`, `Length`, `Format` | `PropertyConstraintViolation` |
    /// | `UnexpectedField`, `Syntax` | `FormatViolation` |
    pub fn from_kind(kind: ErrorKind) -> ErrorCode {
        match kind {
            ErrorKind::Missing | ErrorKind::Items => ErrorCode::OccurrenceConstraintViolation,
            ErrorKind::Type => ErrorCode::TypeConstraintViolation,
            ErrorKind::Enum | ErrorKind::Range | ErrorKind::Length | ErrorKind::Format => {
                ErrorCode::PropertyConstraintViolation
            }
            ErrorKind::UnexpectedField | ErrorKind::Syntax => ErrorCode::FormatViolation,
            _ => ErrorCode::GenericError,
        }
    }

    /// The code that answers a payload that failed its typed decode (see [`ErrorCode::from_kind`]).
    pub fn from_decode_error(error: &DecodeError) -> ErrorCode {
        ErrorCode::from_kind(error.kind())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
