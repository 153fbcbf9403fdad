//! A test case: what the probe sends, and what the specification says must come back.

use ocpp_rpc::{AnyAction, ErrorCode};
use ocpp_types::{OcppVersion, Role};
use serde::Serialize;
use serde_json::Value;

/// The side of the connection under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A CSMS: the probe connects to it as a charging station.
    Csms,
    /// A charging station: the probe accepts its connection as a CSMS.
    Station,
}

impl Target {
    /// The role of the implementation under test.
    pub const fn role(self) -> Role {
        match self {
            Target::Csms => Role::Csms,
            Target::Station => Role::ChargingStation,
        }
    }

    /// The role the probe plays.
    pub const fn probe_role(self) -> Role {
        match self {
            Target::Csms => Role::ChargingStation,
            Target::Station => Role::Csms,
        }
    }

    /// A cheap CALL the target takes in every version, whose answer (a CALLRESULT or any
    /// CALLERROR) shows that the connection still serves: `Heartbeat` to a CSMS,
    /// `GetLocalListVersion` to a station.
    pub const fn liveness_action(self) -> &'static str {
        match self {
            Target::Csms => "Heartbeat",
            Target::Station => "GetLocalListVersion",
        }
    }
}

/// The families of cases, in the order a campaign runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// The WebSocket handshake: subprotocols, identity, Basic auth (a connection each).
    Handshake,
    /// RPC framing: malformed and misdirected frames.
    Framing,
    /// Payloads: schema-valid requests, and systematically broken ones.
    Payload,
    /// Behaviour over time: pings, and the peer's own frames throughout the run.
    Behaviour,
}

/// What the probe does in a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Writes one WebSocket text message (any text: malformed frames are the point).
    Text(String),
    /// Writes a WebSocket ping with this payload.
    Ping(String),
    /// Opens a connection of its own with this upgrade request (probing a CSMS only).
    Handshake(HandshakeStep),
}

/// An upgrade request of a handshake case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandshakeStep {
    /// The `Sec-WebSocket-Protocol` value (`None`: no such header).
    pub subprotocols: Option<String>,
    /// The identity in place of the URL's last path segment (already percent-encoded);
    /// `None` keeps the URL's.
    pub identity: Option<String>,
    /// Which credentials go in `Authorization`.
    pub credentials: Credentials,
}

/// The `Authorization` header of a handshake case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Credentials {
    /// Those the probe was given (none when it was given none).
    AsGiven,
    /// No `Authorization` header.
    Omitted,
    /// The identity with a wrong password.
    WrongPassword,
}

/// What must come back, by the version's specification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// A CALLERROR with this message id and one of `codes` (the first is the one the
    /// specification's definitions point to; the others are readings it also supports).
    /// Another code is a warning; a CALLRESULT, an error when `invalid` says the CALL broke
    /// the schema (OCPP-J 2.x §4.1.7), else a warning; no answer, a warning (2.x §4.2.3 lets
    /// a receiver drop an invalid message).
    CallError {
        /// The message id the answer must carry.
        id: String,
        /// The codes the specification supports for this input.
        #[serde(serialize_with = "ser::codes")]
        codes: Vec<ErrorCode>,
        /// Whether a CALLRESULT (accepting the input) is an error rather than a warning.
        strict: bool,
    },
    /// The answer to a schema-valid CALL: a CALLRESULT that is valid for `action`, or a
    /// CALLERROR that does not call the payload invalid.
    Answer {
        /// The message id the answer must carry.
        id: String,
        /// The action called.
        action: AnyAction,
        /// The request, to tell a refusal by a rule outside the schema
        /// (`ocpp_types::conditions`) from a wrong one.
        request: Value,
    },
    /// No answer at all (SEND, a response to nothing): any answer is a warning, an error
    /// when `strict` (the specification says SHALL NOT answer, or SHALL ignore); the
    /// connection must still serve.
    Silence {
        /// Whether an answer breaks a SHALL.
        strict: bool,
    },
    /// A CALLERROR (with `id` and one of `codes`, if any are given) or no answer: the
    /// specification does not require an answer; the connection must still serve.
    ErrorOrSilence {
        /// The message id an answer must carry.
        id: String,
        /// The codes the specification supports, if it names any.
        #[serde(serialize_with = "ser::codes")]
        codes: Vec<ErrorCode>,
    },
    /// A pong with the ping's payload (RFC 6455 §5.5.2).
    Pong,
    /// The server's answer to a handshake case.
    Upgrade(UpgradeExpect),
}

/// The answer a handshake case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeExpect {
    /// `101` with exactly this version's subprotocol.
    Version(#[serde(serialize_with = "ser::version")] OcppVersion),
    /// No version in common: `101` without `Sec-WebSocket-Protocol`, then a close (§3.2 in
    /// 1.6 and 2.0.1, §3.3 in 2.1); never a subprotocol that was not offered.
    NoVersion,
    /// Wrong or missing credentials: no WebSocket that stays open.
    Refused,
    /// An identity the version does not allow (too long, a character outside
    /// identifierString): refused (accepting it is a warning: the rule binds the station).
    IdentityRefused,
}

/// One test case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Stable id (`rpc.unknown-action`, `payload.Reset.missing:/type`); with the campaign's
    /// seed it names the case for `--case`.
    pub id: String,
    /// Its family.
    pub family: Family,
    /// What it tests, for people.
    pub title: String,
    /// What the probe does.
    pub step: Step,
    /// What must come back.
    pub expect: Expect,
    /// Where the specification says so.
    pub clause: String,
}

/// The clause of `version`'s OCPP-J specification for a topic, as a citation.
pub(crate) fn ocpp_j(version: OcppVersion, section_16: &str, section_2x: &str) -> String {
    match version {
        OcppVersion::V16 => format!("OCPP-J 1.6 {section_16}"),
        OcppVersion::V201 => format!("OCPP-J 2.0.1 {section_2x}"),
        OcppVersion::V21 => format!("OCPP-J 2.1 {section_2x}"),
    }
}

/// Serializing the core's types by their names.
pub(crate) mod ser {
    use ocpp_rpc::ErrorCode;
    use ocpp_types::OcppVersion;
    use serde::Serializer;

    /// Error codes by their 2.x names.
    pub(crate) fn codes<S: Serializer>(
        codes: &[ErrorCode],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(codes.iter().map(|c| c.name()))
    }

    /// A version as `2.0.1`.
    pub(crate) fn version<S: Serializer>(
        version: &OcppVersion,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(version)
    }
}
