#![doc = include_str!("../README.md")]
//!
//! # The pipeline
//! It reads top-down:
//! 1. [`schema`] loads a folder: one JSON schema per message.
//! 2. [`model`] turns the schemas into a model of named types, merging the definitions that
//!    2.0.1 and 2.1 repeat in every file (and failing where two same-named ones differ), and
//!    naming 1.6's inline types from the table in [`v16_names`].
//! 3. [`emit`] writes the model as Rust source against the runtime of `ocpp-rs-types`, with the
//!    schemas' descriptions as doc comments cleaned of the specification's markup by [`doc`],
//!    and [`tables`] writes it once more as data (the `schemas` module), for the runtime's
//!    table-driven decoder.
//!
//! The OCPP schemas use a small subset of JSON Schema (draft-04/06): `type` (one of object,
//! string, integer, number, boolean, array), `properties`, `required`, `additionalProperties`,
//! `enum`, `$ref` to `#/definitions`, `maxLength`, `minimum`, `maximum`, `multipleOf`,
//! `minItems`, `maxItems`, `format` (`date-time`, `uri`), and annotations. Anything else fails
//! generation with a message, rather than producing a type that is laxer than its schema.

pub mod doc;
pub mod emit;
pub mod model;
pub mod schema;
pub mod senders;
pub mod tables;
pub mod v16_names;

use std::fmt;
use std::path::Path;

/// An OCPP version whose schemas this crate knows how to name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// OCPP 1.6 (JSON) with the security extension.
    V16,
    /// OCPP 2.0.1.
    V201,
    /// OCPP 2.1.
    V21,
}

impl Version {
    /// All versions, oldest first.
    pub const ALL: [Version; 3] = [Version::V16, Version::V201, Version::V21];

    /// The module name (`v16`, `v201`, `v21`), also the schema folder's name.
    pub fn module(self) -> &'static str {
        match self {
            Version::V16 => "v16",
            Version::V201 => "v201",
            Version::V21 => "v21",
        }
    }

    /// The WebSocket subprotocol name, e.g. `ocpp2.0.1`.
    pub fn subprotocol(self) -> &'static str {
        match self {
            Version::V16 => "ocpp1.6",
            Version::V201 => "ocpp2.0.1",
            Version::V21 => "ocpp2.1",
        }
    }

    /// Parses `1.6`, `2.0.1`, `2.1`, the module names or the subprotocol names.
    pub fn parse(s: &str) -> Option<Version> {
        match s.trim_start_matches("ocpp") {
            "1.6" | "v16" | "16" => Some(Version::V16),
            "2.0.1" | "v201" | "201" => Some(Version::V201),
            "2.1" | "v21" | "21" => Some(Version::V21),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.subprotocol().trim_start_matches("ocpp"))
    }
}

/// Why generation failed: names the file and the place in it.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

macro_rules! bail {
    ($($arg:tt)*) => { return Err($crate::Error(format!($($arg)*))) };
}
pub(crate) use bail;

/// Generates the Rust module for one version from its schema folder.
pub fn generate(version: Version, schema_dir: &Path) -> Result<String, Error> {
    let schemas = schema::load(version, schema_dir)?;
    let model = model::Model::build(version, &schemas)?;
    Ok(emit::emit(&model))
}
