#![no_main]
//! Arbitrary bytes as OCPP v201 payloads of every action.
include!("decode.rs");
decode_target!(v201);
