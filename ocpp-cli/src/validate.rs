//! `ocpp validate`: checks a log of OCPP-J frames, one per line, against the official schemas.
//!
//! A CALL (or 2.1 SEND) is checked against its action's request schema; a CALLRESULT against the
//! response schema of the action of the earlier CALL with the same message id; CALLERROR and
//! CALLRESULTERROR frames against the frame rules (shape, a known error code). Each input line
//! gets exactly one output line:
//!
//! ```text
//! ok
//! error OccurrenceConstraintViolation #/chargingStation: missing field `chargingStation`
//! ```
//!
//! The code is the OCPP error code a peer would answer with, in the version's spelling (1.6
//! `FormationViolation`, `OccurenceConstraintViolation`). The location is a JSON pointer into the
//! payload in URI-fragment form (RFC 6901 §6): `#` is the whole payload (or the whole frame, for
//! a frame that is not valid OCPP-J), `#/meterValue/0/timestamp` a field. An empty line is `ok`,
//! as a session ignores empty frames.
//!
//! Memory is constant: one line buffer, and at most [`MAX_PENDING`] CALLs awaiting their result
//! (the oldest are forgotten first, and a CALLRESULT for a forgotten CALL is reported as one for
//! an unknown id).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, Write};

use ocpp_rpc::frame::Frame;
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse, ErrorCode};
use ocpp_types::{MessageError, OcppVersion};

/// How many CALLs may await their CALLRESULT before the oldest is forgotten.
pub const MAX_PENDING: usize = 65_536;

/// Why a line is not a valid frame of the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The error code a peer would answer with.
    pub code: ErrorCode,
    /// A JSON pointer (RFC 6901 string form) into the payload; empty for the whole payload or
    /// frame.
    pub pointer: String,
    /// What is wrong, for people.
    pub reason: Cow<'static, str>,
}

impl Fault {
    fn whole(code: ErrorCode, reason: impl Into<Cow<'static, str>>) -> Fault {
        Fault {
            code,
            pointer: String::new(),
            reason: reason.into(),
        }
    }

    fn payload(error: MessageError) -> Fault {
        match error {
            MessageError::Invalid(error) => Fault {
                code: ErrorCode::from_decode_error(&error),
                pointer: error.pointer().to_owned(),
                reason: Cow::Owned(error.message().to_owned()),
            },
            // An action without such a message (a result for a SEND action).
            other => Fault::whole(ErrorCode::NotImplemented, other.to_string()),
        }
    }
}

/// The state of one validation run: the version, and the CALLs awaiting their result.
#[derive(Debug)]
pub struct Validator {
    version: OcppVersion,
    pending: HashMap<Box<str>, (AnyAction, u64)>,
    /// Insertion order of `pending`, for forgetting the oldest; entries whose sequence number no
    /// longer matches were settled or replaced.
    order: VecDeque<(u64, Box<str>)>,
    sequence: u64,
}

impl Validator {
    /// A validator for frames of `version`.
    pub fn new(version: OcppVersion) -> Validator {
        Validator {
            version,
            pending: HashMap::new(),
            order: VecDeque::new(),
            sequence: 0,
        }
    }

    /// Checks one frame (a line without its line ending).
    pub fn check(&mut self, line: &[u8]) -> Result<(), Fault> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let frame = Frame::parse(line, self.version).map_err(|error| {
            let code = match error.answer(self.version) {
                Some(answer) => answer.code,
                None => self.unanswered_frame_code(),
            };
            Fault::whole(code, error.detail())
        })?;
        match frame {
            Frame::Call {
                id,
                action,
                payload,
            } => {
                let action = self.action(&action, true)?;
                AnyRequest::decode(action, payload.get()).map_err(Fault::payload)?;
                self.remember(&id, action);
                Ok(())
            }
            Frame::Send {
                action, payload, ..
            } => {
                let action = self.action(&action, false)?;
                AnyRequest::decode(action, payload.get()).map_err(Fault::payload)?;
                Ok(())
            }
            Frame::CallResult { id, payload } => {
                let action = self.settle(&id)?;
                AnyResponse::decode(action, payload.get()).map_err(Fault::payload)?;
                Ok(())
            }
            Frame::CallError(error) => {
                self.settle(&error.id)?;
                known_code(error.error_code(), &error.code)
            }
            Frame::CallResultError(error) => known_code(error.error_code(), &error.code),
        }
    }

    /// The code for a broken frame that a session would not answer (an unknown message type on
    /// 1.6 and 2.1, a broken CALLERROR or SEND): the version's generic framework error.
    fn unanswered_frame_code(&self) -> ErrorCode {
        match self.version {
            OcppVersion::V16 => ErrorCode::GenericError,
            _ => ErrorCode::RpcFrameworkError,
        }
    }

    /// The action named in a CALL (`call`) or SEND frame, refused as a session would refuse it.
    fn action(&self, name: &str, call: bool) -> Result<AnyAction, Fault> {
        let action = AnyAction::from_name(self.version, name).ok_or_else(|| {
            Fault::whole(
                ErrorCode::NotImplemented,
                format!("OCPP {} has no action {name:?}", self.version),
            )
        })?;
        match (call, action.has_response()) {
            (true, false) => Err(Fault::whole(
                ErrorCode::NotSupported,
                format!("{name} is sent as SEND, not as CALL"),
            )),
            (false, true) => Err(Fault::whole(
                ErrorCode::NotSupported,
                format!("{name} is sent as CALL, not as SEND"),
            )),
            _ => Ok(action),
        }
    }

    fn remember(&mut self, id: &str, action: AnyAction) {
        self.sequence += 1;
        let id: Box<str> = id.into();
        self.pending.insert(id.clone(), (action, self.sequence));
        self.order.push_back((self.sequence, id));
        while self.order.len() > MAX_PENDING {
            if let Some((sequence, id)) = self.order.pop_front() {
                if self.pending.get(&id).is_some_and(|&(_, s)| s == sequence) {
                    self.pending.remove(&id);
                }
            }
        }
    }

    /// The action of the pending CALL `id`, which a result or error settles.
    fn settle(&mut self, id: &str) -> Result<AnyAction, Fault> {
        match self.pending.remove(id) {
            Some((action, _)) => Ok(action),
            None => Err(Fault::whole(
                ErrorCode::GenericError,
                format!("no earlier CALL with message id {id:?} awaits an answer"),
            )),
        }
    }
}

fn known_code(code: Option<ErrorCode>, text: &str) -> Result<(), Fault> {
    match code {
        Some(_) => Ok(()),
        None => Err(Fault::whole(
            ErrorCode::PropertyConstraintViolation,
            format!("{text:?} is not an OCPP error code"),
        )),
    }
}

/// Totals of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// Lines that are not valid.
    pub errors: u64,
}

/// Validates every line of `input`, writing one verdict line per input line to `output`.
pub fn run(
    version: OcppVersion,
    mut input: impl BufRead,
    output: impl Write,
) -> io::Result<Summary> {
    let mut output = io::BufWriter::with_capacity(64 * 1024, output);
    let mut validator = Validator::new(version);
    let mut line = Vec::with_capacity(4096);
    let mut summary = Summary::default();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let mut frame = line.as_slice();
        if let Some(rest) = frame.strip_suffix(b"\n") {
            frame = rest.strip_suffix(b"\r").unwrap_or(rest);
        }
        summary.lines += 1;
        match validator.check(frame) {
            Ok(()) => output.write_all(b"ok\n")?,
            Err(fault) => {
                summary.errors += 1;
                write_fault(&mut output, version, &fault)?;
            }
        }
    }
    output.flush()?;
    Ok(summary)
}

/// `error <code> <pointer>: <reason>`, on one line whatever the reason contains.
fn write_fault(output: &mut impl Write, version: OcppVersion, fault: &Fault) -> io::Result<()> {
    write!(output, "error {} #", fault.code.as_str(version))?;
    for &byte in fault.pointer.as_bytes() {
        if fragment_safe(byte) {
            output.write_all(&[byte])?;
        } else {
            write!(output, "%{byte:02X}")?;
        }
    }
    output.write_all(b": ")?;
    for part in fault.reason.split(['\n', '\r']) {
        output.write_all(part.as_bytes())?;
    }
    output.write_all(b"\n")
}

/// Bytes a URI fragment holds as they are (RFC 3986: unreserved, sub-delims, `:@/?`).
fn fragment_safe(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdicts(version: OcppVersion, input: &str) -> String {
        let mut out = Vec::new();
        run(version, input.as_bytes(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pointers_are_fragments() {
        let input = "[2,\"1\",\"Heartbeat\",{\"a b\":1}]\n";
        assert_eq!(
            verdicts(OcppVersion::V201, input),
            "error FormatViolation #/a%20b: unknown field `a b`, expected `customData`\n"
        );
    }

    #[test]
    fn forgets_the_oldest_call_beyond_the_limit() {
        let mut validator = Validator::new(OcppVersion::V201);
        for i in 0..=MAX_PENDING {
            validator
                .check(format!("[2,\"{i}\",\"Heartbeat\",{{}}]").as_bytes())
                .unwrap();
        }
        assert_eq!(validator.pending.len(), MAX_PENDING);
        assert!(validator.order.len() <= MAX_PENDING);
        let result = br#"[3,"0",{"currentTime":"2024-01-01T00:00:00Z"}]"#;
        assert_eq!(
            validator.check(result).unwrap_err().code,
            ErrorCode::GenericError
        );
        let result = br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#;
        assert_eq!(validator.check(result), Ok(()));
    }
}
