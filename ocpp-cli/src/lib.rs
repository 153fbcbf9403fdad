#![doc = include_str!("../README.md")]
//!
//! # Modules
//! One per subcommand ([`demo`], [`csms`] and [`cluster`], [`station`], [`validate`], [`generate`], [`probe`]), and what
//! they share: the valid [`answer`]s of the demo CSMS, the frame [`transcript`] they print.

pub mod answer;
pub mod cluster;
pub mod csms;
pub mod demo;
pub mod generate;
pub mod probe;
pub mod router;
pub mod station;
pub mod transcript;
pub mod validate;

use ocpp_types::OcppVersion;

/// Parses `1.6`, `2.0.1` or `2.1` (or the subprotocol names `ocpp1.6`, ...), for clap.
pub fn parse_version(text: &str) -> Result<OcppVersion, String> {
    OcppVersion::from_subprotocol(text)
        .ok_or_else(|| format!("unknown OCPP version {text:?}; expected 1.6, 2.0.1 or 2.1"))
}
