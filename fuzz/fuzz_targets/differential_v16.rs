#![no_main]
//! OCPP 1.6: the same payload text through our decode (`ocpp_types::from_str`) and through
//! plain `serde_json::from_str`, as the request and the response of the action the first byte
//! picks: the same verdict and equal values (the checks are in `differential.rs`).
include!("differential.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| run(ocpp_types::OcppVersion::V16, data));
