#![no_main]
//! The JSON reader against serde_json on arbitrary text, as a JSON value and as a few message
//! types: the same verdict, and where both accept the same value (unless the text has a number
//! that serde_json may round one unit in the last place off: the reader's is correctly
//! rounded, which also takes a number just above f64::MAX that rounds to it, where
//! serde_json's parse overflows). Where the reader refuses, its error names a path that exists in the text's JSON
//! value, if the text is JSON.
use ocpp_types::__rt::fast_from_str;
use serde::de::DeserializeOwned;

fn agree<T: DeserializeOwned + PartialEq + core::fmt::Debug>(text: &str) {
    let ours = fast_from_str::<T>(text);
    let reference = serde_json::from_str::<T>(text);
    match (ours, reference) {
        (Ok(ours), Ok(reference)) => assert!(
            ours == reference || has_long_number(text),
            "{text:?}: {ours:?} vs {reference:?}"
        ),
        (Err(_), Err(_)) => {}
        // A number just beyond f64::MAX that rounds down to it: serde_json's inexact
        // parse overflows.
        (Ok(_), Err(reference))
            if has_long_number(text) && reference.to_string().starts_with("number out of range") => {}
        (ours, reference) => panic!("{text:?}: ours {ours:?}, serde_json {reference:?}"),
    }
}

/// Whether `text` has a number of 16 or more digits, or an exponent.
fn has_long_number(text: &str) -> bool {
    let mut run = 0;
    text.bytes().any(|b| {
        run = match b {
            b'0'..=b'9' => run + 1,
            b'.' => run,
            _ => 0,
        };
        run >= 16 || b == b'e' || b == b'E'
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    agree::<serde_json::Value>(text);
    agree::<ocpp_types::v201::TransactionEventRequest>(text);
    agree::<ocpp_types::v201::DataTransferRequest>(text);
    agree::<ocpp_types::v16::MeterValuesRequest>(text);
    agree::<ocpp_types::v16::SetChargingProfileRequest>(text);
});
