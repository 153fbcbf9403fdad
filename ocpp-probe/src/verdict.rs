//! Verdicts: what came back in a case, held against what the specification asks.
//!
//! [`judge`] is a pure function of the case and what was [`Observed`], so it is tested without
//! a network (`tests/verdict.rs`) and a researcher can judge frames captured elsewhere.
//!
//! Severity follows the strength of the rule broken:
//! - **critical**: the connection was lost or stopped answering.
//! - **error**: a rule the specification states with MUST/SHALL (or RFC 6455's MUST) is broken
//!   by the answer itself: an invalid frame, a CALLRESULT that breaks its response schema,
//!   the wrong message id, no answer to a valid CALL, a CALLRESULT to an invalid one (2.x
//!   §4.1.7), a pong that never comes, a subprotocol that was not offered.
//! - **warning**: a departure where the specification leaves room: an error code other than
//!   the one its definitions point to (no version has a fault-to-code table), an invalid
//!   message dropped (2.x §4.2.3 allows it), an answer to a message that gets none.
//! - **info**: worth knowing, not a departure (`NotImplemented` for a known action, which
//!   2.x Part 2 K01.FR.29 allows).

use ocpp_rpc::frame::{self, Frame, MAX_DESCRIPTION_CHARS};
use ocpp_rpc::{AnyResponse, ErrorCode};
use ocpp_types::OcppVersion;
use serde::Serialize;

use crate::case::{Case, Expect, Family, UpgradeExpect, ocpp_j};

/// How much a finding matters; the command exits nonzero on [`Severity::Error`] or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; not a departure from the specification.
    Info,
    /// A departure where the specification leaves room, or of a SHOULD.
    Warning,
    /// A MUST or SHALL broken.
    Error,
    /// The connection lost or dead.
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        })
    }
}

/// One departure from the specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The case it was found in.
    pub case: String,
    /// How much it matters.
    pub severity: Severity,
    /// What is wrong, in one line.
    pub summary: String,
    /// Where the specification says what is expected.
    pub clause: String,
}

/// What came back in a case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// The text messages that answer (everything but the peer's own CALLs and SENDs), in
    /// order.
    pub answers: Vec<String>,
    /// The payload of the pong that came, if one did.
    pub pong: Option<String>,
    /// The connection ended during the case.
    pub closed: Option<Closed>,
    /// Whether the connection answered the liveness CALL sent after the case (`None`: none
    /// was sent).
    pub alive: Option<bool>,
    /// The server's answer to a handshake case.
    pub upgrade: Option<Upgrade>,
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Closed {
    /// The close frame's code (`None`: no close frame, the connection just dropped).
    pub code: Option<u16>,
    /// The close frame's reason.
    pub reason: String,
}

/// A server's answer to an upgrade request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upgrade {
    /// The HTTP status (`0`: no HTTP answer, the connection failed).
    pub status: u16,
    /// The `Sec-WebSocket-Protocol` answered.
    pub subprotocol: Option<String>,
    /// After a `101`: whether the server closed the WebSocket within the wait.
    pub closed_by_server: bool,
}

/// The answer frames of a case, read.
enum Answer<'a> {
    Result(&'a str),
    Error { code: String },
}

/// Judges what came back in `case` against the specification of `version`.
pub fn judge(case: &Case, version: OcppVersion, observed: &Observed) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut finding = |severity: Severity, summary: String, clause: String| {
        findings.push(Finding {
            case: case.id.clone(),
            severity,
            summary,
            clause,
        });
    };
    // Every answer must be a frame, whatever the case.
    let mut answers: Vec<(String, Answer<'_>)> = Vec::new();
    for text in &observed.answers {
        match frame::parse(text.as_bytes(), version) {
            Err(error) => finding(
                Severity::Error,
                format!(
                    "answered with an invalid OCPP-J frame ({}): {}",
                    error.detail(),
                    clip(text)
                ),
                ocpp_j(version, "§4.1.3, §4.2", "§4.1.3, §4.2"),
            ),
            Ok(Frame::CallResult { id, payload }) => {
                answers.push((id.into_owned(), Answer::Result(payload.get())))
            }
            Ok(Frame::CallError(error) | Frame::CallResultError(error)) => {
                check_error_frame(version, &error.code, &error.description, &mut finding);
                answers.push((
                    error.id.into_owned(),
                    Answer::Error {
                        code: error.code.into_owned(),
                    },
                ));
            }
            Ok(other) => finding(
                Severity::Error,
                format!(
                    "answered with a {:?} frame: {}",
                    other.message_type(),
                    clip(text)
                ),
                ocpp_j(version, "§4.2", "§4.2"),
            ),
        }
    }
    let code_clause = ocpp_j(version, "§4.2.3 Table 7", "§4.3");
    match &case.expect {
        Expect::CallError { id, codes, strict } => {
            take_foreign(id, &mut answers, version, &mut finding);
            match answers.first() {
                None if observed.closed.is_none() => finding(
                    Severity::Warning,
                    format!("no answer; expected CALLERROR {}", names(codes, version)),
                    ocpp_j(version, "§4.2.3", "§4.1.7, §4.2.3"),
                ),
                None => {}
                Some((_, Answer::Result(payload))) => finding(
                    if *strict {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    format!(
                        "accepted it with CALLRESULT {}; expected CALLERROR {}",
                        clip(payload),
                        names(codes, version)
                    ),
                    ocpp_j(version, "§4.2.3", "§4.1.7"),
                ),
                Some((_, Answer::Error { code })) => {
                    // An implementation that does not support the action refuses it before
                    // reading its payload: the specification orders no checks.
                    let action_refused = case.family == Family::Payload
                        && matches!(
                            ErrorCode::parse(code),
                            Some(ErrorCode::NotSupported | ErrorCode::NotImplemented)
                        );
                    if !action_refused && !one_of(codes, code) {
                        finding(
                            Severity::Warning,
                            format!(
                                "CALLERROR {code}; the definitions give {}",
                                names(codes, version)
                            ),
                            code_clause,
                        );
                    }
                }
            }
        }
        Expect::Answer {
            id,
            action,
            request,
        } => {
            take_foreign(id, &mut answers, version, &mut finding);
            match answers.first() {
                None if observed.closed.is_none() => finding(
                    Severity::Error,
                    format!("no answer to a schema-valid {action} CALL"),
                    ocpp_j(version, "§4.1.1, §4.2.3 (errata §3.3)", "§4.1.1, §4.2.3"),
                ),
                None => {}
                Some((_, Answer::Result(payload))) => {
                    if let Err(error) = AnyResponse::decode(*action, payload) {
                        finding(
                            Severity::Error,
                            format!("CALLRESULT breaks the {action}Response schema: {error}"),
                            format!("OCPP {version} {action}Response JSON schema"),
                        );
                    }
                }
                Some((_, Answer::Error { code })) => {
                    let parsed = ErrorCode::parse(code);
                    let payload_class = matches!(
                        parsed,
                        Some(
                            ErrorCode::FormatViolation
                                | ErrorCode::OccurrenceConstraintViolation
                                | ErrorCode::PropertyConstraintViolation
                                | ErrorCode::TypeConstraintViolation
                                | ErrorCode::ProtocolError
                                | ErrorCode::RpcFrameworkError
                        )
                    );
                    if payload_class {
                        let rules = ocpp_types::conditions::check_request(
                            version,
                            action.as_str(),
                            request,
                        );
                        if rules.is_empty() {
                            finding(
                                Severity::Warning,
                                format!("refused a schema-valid {action} request with {code}"),
                                ocpp_j(version, "§4.2.3 Table 7", "§4.1.7, §4.3"),
                            );
                        }
                    } else if parsed == Some(ErrorCode::NotImplemented) {
                        finding(
                            Severity::Info,
                            format!(
                                "NotImplemented for {action}, an action of OCPP {version} (NotSupported means known but not supported)"
                            ),
                            code_clause,
                        );
                    }
                }
            }
        }
        Expect::Silence { strict } => {
            let severity = if *strict {
                Severity::Error
            } else {
                Severity::Warning
            };
            for (id, answer) in &answers {
                match answer {
                    Answer::Result(payload) => finding(
                        severity,
                        format!(
                            "answered with CALLRESULT [{id}] {}; nothing answers this message",
                            clip(payload)
                        ),
                        ocpp_j(version, "§4.1.3, §4.2", "§4.1.3, §4.2"),
                    ),
                    Answer::Error { code } => finding(
                        severity,
                        format!(
                            "answered with CALLERROR [{id}] {code}; this message gets no answer"
                        ),
                        ocpp_j(version, "§4.1.3", "§4.1.3, §4.2.4 (2.1 SEND)"),
                    ),
                }
            }
        }
        Expect::ErrorOrSilence { codes, .. } => {
            for (_, answer) in &answers {
                match answer {
                    Answer::Result(payload) => finding(
                        Severity::Warning,
                        format!(
                            "accepted a malformed frame with CALLRESULT {}",
                            clip(payload)
                        ),
                        ocpp_j(version, "§4.2.3", "§4.1.7, §4.2.3"),
                    ),
                    Answer::Error { code } => {
                        if !codes.is_empty() && !one_of(codes, code) {
                            finding(
                                Severity::Warning,
                                format!(
                                    "CALLERROR {code}; the definitions give {}",
                                    names(codes, version)
                                ),
                                code_clause.clone(),
                            );
                        }
                    }
                }
            }
        }
        Expect::Pong => {
            let sent = match &case.step {
                crate::case::Step::Ping(payload) => payload.as_str(),
                _ => "",
            };
            match &observed.pong {
                None if observed.closed.is_none() => finding(
                    Severity::Error,
                    "no pong to a ping".to_owned(),
                    "RFC 6455 §5.5.2".to_owned(),
                ),
                Some(payload) if payload != sent => finding(
                    Severity::Error,
                    format!("pong with payload {payload:?}, not the ping's {sent:?}"),
                    "RFC 6455 §5.5.3".to_owned(),
                ),
                _ => {}
            }
        }
        Expect::Upgrade(expect) => {
            judge_upgrade(
                case,
                version,
                *expect,
                observed.upgrade.as_ref(),
                &mut finding,
            );
            return findings;
        }
    }
    if let Some(closed) = &observed.closed {
        finding(
            Severity::Critical,
            match closed.code {
                Some(code) => format!("closed the connection ({code} {:?})", closed.reason),
                None => "dropped the connection".to_owned(),
            },
            ocpp_j(version, "§4.2.3 (errata §3.3)", "§4.1.7, §4.2.3"),
        );
        if let Some(code) = closed.code.filter(|&code| !close_code_may_be_sent(code)) {
            finding(
                Severity::Error,
                format!("closed with code {code}, which no endpoint may send"),
                "RFC 6455 §7.4.1, §7.4.2".to_owned(),
            );
        }
    } else if observed.alive == Some(false) {
        finding(
            Severity::Critical,
            "stopped answering: no answer to the liveness CALL after this case".to_owned(),
            ocpp_j(version, "§4.1.1", "§4.1.1"),
        );
    }
    findings
}

/// Whether an endpoint may put `code` in a close frame (RFC 6455 §7.4): the defined codes
/// but 1004, 1005, 1006 and 1015, and 3000-4999 (registered and private).
pub fn close_code_may_be_sent(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Answers whose id is not `id`: each is an error (§4.1.4: an answer carries its CALL's id),
/// except `-1` on 2.x for input whose id could not be read.
fn take_foreign(
    id: &str,
    answers: &mut Vec<(String, Answer<'_>)>,
    version: OcppVersion,
    finding: &mut impl FnMut(Severity, String, String),
) {
    answers.retain(|(answer_id, _)| {
        if answer_id == id {
            return true;
        }
        finding(
            Severity::Error,
            format!("answered with message id {answer_id:?}; the CALL's id was {id:?}"),
            ocpp_j(version, "§4.1.4", "§4.1.4"),
        );
        false
    });
}

/// Checks a CALLERROR's code and description against the version.
fn check_error_frame(
    version: OcppVersion,
    code: &str,
    description: &str,
    finding: &mut impl FnMut(Severity, String, String),
) {
    let defined = ErrorCode::parse(code).filter(|c| c.exists_in(version));
    match defined {
        None => finding(
            Severity::Error,
            format!("error code {code:?} is not one of OCPP {version}'s"),
            ocpp_j(version, "§4.2.3 Table 7", "§4.2.3 Table 7, §4.3"),
        ),
        Some(c) if c.as_str(version) != code => finding(
            Severity::Warning,
            format!(
                "error code {code:?} is spelled {:?} in OCPP {version}",
                c.as_str(version)
            ),
            ocpp_j(version, "§4.2.3 Table 7 (errata §5.1, §5.2)", "§4.3"),
        ),
        Some(_) => {}
    }
    if version != OcppVersion::V16 && description.chars().count() > MAX_DESCRIPTION_CHARS {
        finding(
            Severity::Warning,
            format!(
                "error description of {} characters",
                description.chars().count()
            ),
            ocpp_j(version, "§4.2.3", "§4.2.3 Table 7 (string[255])"),
        );
    }
}

fn judge_upgrade(
    case: &Case,
    version: OcppVersion,
    expect: UpgradeExpect,
    upgrade: Option<&Upgrade>,
    finding: &mut impl FnMut(Severity, String, String),
) {
    let negotiation = ocpp_j(version, "§3.1.2, §3.2", "§3.1.2, §3.2 (2.1: §3.3)");
    let Some(upgrade) = upgrade else {
        finding(
            Severity::Critical,
            "no answer to the upgrade request".to_owned(),
            negotiation,
        );
        return;
    };
    let offered: Vec<&str> = match &case.step {
        crate::case::Step::Handshake(step) => step
            .subprotocols
            .as_deref()
            .map(|list| list.split(',').map(str::trim).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if let Some(chosen) = &upgrade.subprotocol {
        if upgrade.status == 101 && !offered.contains(&chosen.as_str()) {
            finding(
                Severity::Error,
                format!("chose subprotocol {chosen:?}, which was not offered ({offered:?})"),
                "RFC 6455 §4.2.2, §4.1".to_owned(),
            );
            return;
        }
    }
    let open = upgrade.status == 101 && !upgrade.closed_by_server;
    match expect {
        UpgradeExpect::Version(v) => {
            if upgrade.status != 101 || upgrade.subprotocol.as_deref() != Some(v.subprotocol()) {
                finding(
                    Severity::Error,
                    format!(
                        "answered {} with subprotocol {:?}; expected 101 with {:?}",
                        upgrade.status,
                        upgrade.subprotocol,
                        v.subprotocol()
                    ),
                    negotiation,
                );
            }
        }
        UpgradeExpect::NoVersion => {
            if upgrade.status != 101 {
                finding(
                    Severity::Error,
                    format!(
                        "refused the upgrade with {}; expected 101 without a subprotocol, then a close",
                        upgrade.status
                    ),
                    negotiation,
                );
            } else if !upgrade.closed_by_server {
                finding(
                    Severity::Error,
                    "kept the WebSocket open with no OCPP version in common".to_owned(),
                    negotiation,
                );
            }
        }
        UpgradeExpect::Refused => {
            if open {
                finding(
                    Severity::Error,
                    "accepted the connection with missing or wrong credentials".to_owned(),
                    match version {
                        OcppVersion::V16 => {
                            "OCPP 1.6 Security Whitepaper, security profile 1".to_owned()
                        }
                        _ => format!("OCPP {version} Part 2, A00 security profiles 1 and 2"),
                    },
                );
            }
        }
        UpgradeExpect::IdentityRefused => {
            if open {
                finding(
                    Severity::Warning,
                    "accepted an identity that is no identifierString[48]".to_owned(),
                    ocpp_j(version, "§3.1.1", "§3.1.1 (identifierString[48])"),
                );
            }
        }
    }
}

/// Whether `code` is one of `codes`, in either version's spelling (a misspelling is a
/// finding of its own, [`check_error_frame`]'s).
fn one_of(codes: &[ErrorCode], code: &str) -> bool {
    ErrorCode::parse(code).is_some_and(|parsed| codes.contains(&parsed))
}

/// The codes as `version` spells them.
fn names(codes: &[ErrorCode], version: OcppVersion) -> String {
    codes
        .iter()
        .map(|c| c.as_str(version))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `text` cut for a one-line summary.
fn clip(text: &str) -> String {
    let cut = frame::truncate_chars(text, 120);
    if cut.len() < text.len() {
        format!("{cut}...")
    } else {
        cut.to_owned()
    }
}
