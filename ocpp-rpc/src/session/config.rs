//! [`Config`]: how a session behaves, and which side ([`Role`]) it is.

use ocpp_types::{AnyAction, OcppVersion, Role};

use crate::leniency::Leniency;

/// How a session behaves. Build it with [`Config::new`] and change the fields you need.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The OCPP version, fixed for the connection.
    pub version: OcppVersion,
    /// Which side this session is.
    pub role: Role,
    /// How long to wait for the answer to a CALL, from when it is written to the wire
    /// (default 30 s). A queued call's wait starts when it leaves the queue.
    pub call_timeout_ms: u64,
    /// How many CALLs may await their answer at once (default 1, which 2.x requires; some 1.6
    /// peers allow more).
    pub max_in_flight: usize,
    /// How many further CALLs may wait in the queue (default 64); beyond it, [`Session::call`](super::Session::call)
    /// refuses with [`SubmitError::QueueFull`](super::SubmitError::QueueFull).
    pub max_queued: usize,
    /// How many incoming CALLs may await our answer at once (default 16); beyond it, a CALL
    /// is answered with `GenericError` at once.
    pub max_incoming: usize,
    /// After this many bad messages in a row the session asks to close
    /// ([`Event::TooManyBadMessages`](super::Event::TooManyBadMessages), [`Session::wants_close`](super::Session::wants_close)); 0 never (default 10).
    pub max_bad_messages: u32,
    /// Leniency for peers that bend the specification (default: strict).
    pub leniency: Leniency,
    /// The actions this side handles as incoming CALLs, when the application handles only some
    /// (a charging station): a CALL for any other action the version has is answered
    /// `NotSupported` without decoding its payload. `None` (the default) decodes every action
    /// the peer may send.
    pub handled: Option<&'static [AnyAction]>,
}

impl Config {
    /// The defaults for a `role` session on a `version` connection.
    pub fn new(version: OcppVersion, role: Role) -> Config {
        Config {
            version,
            role,
            call_timeout_ms: 30_000,
            max_in_flight: 1,
            max_queued: 64,
            max_incoming: 16,
            max_bad_messages: 10,
            leniency: Leniency::strict(),
            handled: None,
        }
    }
}
