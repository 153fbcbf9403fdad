#![no_main]
//! The JSON reader against serde_json on arbitrary text, as a JSON value and as a few message
//! types: the same verdict, and where both accept the same value (unless the text has a number
//! that serde_json may round one unit in the last place off: the reader's is correctly
//! rounded, which also takes a number just above f64::MAX that rounds to it, where
//! serde_json's parse overflows, and refuses one that rounds beyond f64::MAX, which serde_json
//! may read as f64::MAX). Where a type refuses text that is JSON, the error's path names a
//! value that is in it.
include!("numbers.rs");

use ocpp_types::__rt::fast_from_str;
use serde::de::DeserializeOwned;

fn agree<T: DeserializeOwned + PartialEq + core::fmt::Debug>(text: &str) {
    let ours = fast_from_str::<T>(text);
    if let Err(refused) = &ours {
        if refused.is_data() {
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
                let pointer = refused.pointer();
                assert!(
                    json.pointer(&pointer).is_some(),
                    "{text:?}: no value at {pointer:?}"
                );
            }
        }
    }
    let reference = serde_json::from_str::<T>(text);
    match (ours, reference) {
        (Ok(ours), Ok(reference)) => assert!(
            ours == reference || has_long_number(text),
            "{text:?}: {ours:?} vs {reference:?}"
        ),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(reference)) if serde_json_overflowed(text, &reference) => {}
        (Err(_), Ok(_)) if rounds_beyond_f64(text) => {}
        (ours, reference) => panic!("{text:?}: ours {ours:?}, serde_json {reference:?}"),
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    agree::<serde_json::Value>(text);
    agree::<ocpp_types::v201::TransactionEventRequest>(text);
    agree::<ocpp_types::v201::DataTransferRequest>(text);
    agree::<ocpp_types::v16::MeterValuesRequest>(text);
    agree::<ocpp_types::v16::SetChargingProfileRequest>(text);
});
