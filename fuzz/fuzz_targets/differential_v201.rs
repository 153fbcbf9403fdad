#![no_main]
//! OCPP 2.0.1: the same payload text through our decode (`ocpp_types::from_str`: the fast JSON
//! reader with its serde_json fallback), through plain `serde_json::from_str` and through the
//! fast reader alone, as the request and the response of the action the first byte picks: the
//! same verdict and equal values, and the fast reader never accepts what serde_json refuses
//! (the checks are in `differential.rs`).
include!("differential.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| run(ocpp_types::OcppVersion::V201, data));
