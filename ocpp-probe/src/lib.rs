#![doc = include_str!("../README.md")]
//!
//! # The library
//! Black-box conformance and robustness testing of another OCPP implementation over a real
//! WebSocket: point it at a CSMS ([`probe_csms`], the probe is a station) or let a station
//! connect ([`probe_station`], the probe is a CSMS), and get every place where the
//! implementation departs from the OCPP-J specification of its version (1.6, 2.0.1, 2.1),
//! each with the clause, the exact frame sent and everything that came back.
//!
//! # Pieces
//! - [`mod@catalogue`]: the cases of a [`Plan`] (version, side under test, seed), in four
//!   [`Family`]s: the WebSocket handshake, RPC framing (the malformed-input table of
//!   `ocpp-rs-rpc`), payloads (schema-valid random requests for every action the side
//!   takes, and each one broken by [`mutate`] in every way its schema allows), and behaviour
//!   (pings; the peer's own calls, checked as they come). The same plan gives the same cases;
//!   a case id names one.
//! - [`verdict::judge`]: a pure function from a case and what was [`Observed`] to
//!   [`Finding`]s with a [`Severity`] (see [`verdict`] for what each level means).
//! - [`campaign`]: runs the cases over a connection, one at a time and at a polite rate,
//!   answering the peer's own calls, reconnecting after a lost connection.
//! - [`report`]: the [`Report`], as JSON, JUnit XML and one line per finding.
//!
//! # Adding a case
//! A case is data ([`Case`]): push one onto the catalogue's output, or build a `Vec<Case>`
//! of your own and judge what comes back with [`verdict::judge`].
//!
//! ```
//! use ocpp_probe::{Plan, Target, catalogue};
//! use ocpp_types::OcppVersion;
//!
//! let plan = Plan::new(OcppVersion::V201, Target::Csms, 7);
//! let cases = catalogue(&plan);
//! assert!(cases.iter().any(|c| c.id == "rpc.unknown-action"));
//! assert_eq!(cases, catalogue(&plan)); // reproducible
//! ```
//!
//! Probing a real charger calls every action it takes, `Reset` and `UpdateFirmware`
//! included: leave those out with [`Plan::skip`].

pub mod campaign;
pub mod case;
pub mod catalogue;
pub mod mutate;
mod peer;
pub mod report;
pub mod verdict;

pub use campaign::{Settings, probe_csms, probe_station, probe_station_on};
pub use case::{Case, Expect, Family, Step, Target};
pub use catalogue::{Plan, catalogue};
pub use report::{CaseResult, Report};
pub use verdict::{Finding, Observed, Severity, judge};
