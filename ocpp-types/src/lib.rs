#![doc = include_str!("../README.md")]
//!
//! # Exactly the schema
//! Decoding a payload into a generated type succeeds if and only if the official schema accepts
//! it (the test suite checks this against an independent JSON Schema validator):
//! unknown properties are rejected (except in 2.x `CustomDataType`, which keeps them), `null`
//! is not an absent property, `maxLength` counts characters, `date-time` is RFC 3339 with an
//! offset, and `minimum`/`maximum`/`multipleOf`/`minItems`/`maxItems`/`enum` hold. One deliberate
//! limit: integers are `i64`, so an integer beyond ±2⁶³ is refused as out of range.
//! Serializing never produces a payload the schema rejects: a value that breaks a rule the
//! Rust type cannot express (a number out of range, too many items) fails to serialize.
//!
//! # Modules
//! [`v16`] (with the security extension), [`v201`] and [`v21`], behind the features of the same
//! names. Each has one type per message and per schema definition, an [`v201::Action`] enum,
//! and [`v201::Request`]/[`v201::Response`] enums that decode `(action, payload)`.
//!
//! Every request and 2.1 SEND message implements [`Message`] (its action, version and senders,
//! as [`Role`]s), every CALL's request [`Request`] and every answer [`Response`]; they move in
//! and out of the cross-version unions [`AnyRequest`] and [`AnyResponse`] (whose action is an
//! [`AnyAction`]) through generated `match`es, for code whose version is chosen at run time.
//! The crate is `no_std` with `alloc` (`default-features = false, features = ["alloc", "v201"]`).
//! `schemars`, `proptest`, `arbitrary` (through [`random`]), `chrono` and `time` are optional.
#![no_std]
// The `schemars` impls restate large schemas through `json_schema!`, a recursive macro.
#![recursion_limit = "512"]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
mod any;
mod bounded;
pub mod conditions;
mod datetime;
mod error;
mod json;
mod message;
pub mod schema;
mod uri;

#[cfg(feature = "random")]
pub mod random;

#[doc(hidden)]
pub mod __rt {
    //! Support for the generated code; not a stable API.
    pub use crate::rt::*;

    /// The JSON reader behind [`crate::from_str`], with its own error (for tests that hold it
    /// to `serde_json`'s verdicts).
    pub use crate::json::{Refused, from_str as fast_from_str};
}
mod rt;

#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
pub use any::{AnyAction, AnyRequest, AnyResponse};
pub use bounded::{BoundedString, LengthError};
pub use datetime::{DateTime, DateTimeError};
pub use error::{DecodeError, ErrorKind, Limit, from_slice, from_str};
pub use message::{MessageError, OcppVersion, Role};
pub use schema::Schema;
// The message traits need the union of some version's messages; without a version the crate
// is the runtime alone (BoundedString, DateTime, decode errors).
#[cfg(any(feature = "v16", feature = "v201", feature = "v21"))]
pub use message::{Message, Request, Response, SendMessage};

macro_rules! version_module {
    ($feature:literal, $module:ident, $file:literal, $doc:literal) => {
        #[cfg(feature = $feature)]
        #[doc = $doc]
        #[allow(
            clippy::large_enum_variant,
            clippy::too_many_arguments,
            clippy::upper_case_acronyms
        )]
        pub mod $module {
            use crate::__rt;
            include!(concat!(env!("OUT_DIR"), "/", $file));
        }
    };
}

version_module!(
    "v16",
    v16,
    "v16.rs",
    "OCPP 1.6 (JSON) with the security extension: every message, and the inline types named as \
     the 1.6 specification names them (`IdTagInfo`, `ChargePointStatus`, `MeterValue`, ...)."
);
version_module!(
    "v201",
    v201,
    "v201.rs",
    "OCPP 2.0.1: every message and every schema definition."
);
version_module!(
    "v21",
    v21,
    "v21.rs",
    "OCPP 2.1: every message and every schema definition."
);

#[cfg(test)]
mod generated_source {
    /// The generated files, as `include!` reads them.
    const FILES: &[(&str, &str)] = &[
        #[cfg(feature = "v16")]
        ("v16.rs", include_str!(concat!(env!("OUT_DIR"), "/v16.rs"))),
        #[cfg(feature = "v201")]
        (
            "v201.rs",
            include_str!(concat!(env!("OUT_DIR"), "/v201.rs")),
        ),
        #[cfg(feature = "v21")]
        ("v21.rs", include_str!(concat!(env!("OUT_DIR"), "/v21.rs"))),
    ];

    #[test]
    fn no_generated_line_is_longer_than_200_characters() {
        assert!(
            !FILES.is_empty(),
            "enable a version feature to test its source"
        );
        for (file, source) in FILES {
            assert!(
                source.lines().count() > 1000,
                "{file} is not the generated module"
            );
            for (n, line) in source.lines().enumerate() {
                let width = line.chars().count();
                assert!(width <= 200, "{file}:{}: {width} characters", n + 1);
            }
        }
    }

    #[test]
    fn generated_docs_carry_no_specification_markup() {
        for (file, source) in FILES {
            for (n, line) in source.lines().enumerate() {
                let Some(doc) = line.trim_start().strip_prefix("///") else {
                    continue;
                };
                for markup in ["urn:x-", "&lt;", "&gt;", "&amp;", "<<", ">>", "\\_", "\\|"] {
                    assert!(
                        !doc.contains(markup),
                        "{file}:{}: {markup:?} in {doc:?}",
                        n + 1
                    );
                }
                // The model's business names join words with `_ ` (`Charging_ Schedule`);
                // `_emphasis_` is the specification's own Markdown and stays.
                let joined = doc
                    .split_whitespace()
                    .map(|word| word.trim_start_matches(['(', '"', '*']))
                    .any(|word| word.ends_with('_') && word.matches('_').count() == 1);
                assert!(!joined, "{file}:{}: business name in {doc:?}", n + 1);
            }
            assert!(
                !source.contains("#[doc = "),
                "{file}: docs are `///` comments"
            );
        }
    }
}
