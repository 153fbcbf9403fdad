#![no_main]
//! Arbitrary bytes as OCPP v16 payloads of every action.
include!("decode.rs");
decode_target!(v16);
