#![no_main]
//! Arbitrary bytes as OCPP v21 payloads of every action.
include!("decode.rs");
decode_target!(v21);
