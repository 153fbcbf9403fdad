#![no_main]
//! The decode fast path's JSON reader against serde_json on arbitrary text: as a JSON value and
//! as a few message types, what the reader accepts serde_json must accept, with the same value
//! (the reader may refuse more: it leaves long numbers to serde_json).
use ocpp_types::__rt::fast_from_str;
use serde::de::DeserializeOwned;

fn agree<T: DeserializeOwned + PartialEq + core::fmt::Debug>(text: &str) {
    if let Ok(fast) = fast_from_str::<T>(text) {
        let reference = serde_json::from_str::<T>(text).ok();
        assert_eq!(Some(fast), reference, "{text:?}");
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    agree::<serde_json::Value>(text);
    agree::<ocpp_types::v201::TransactionEventRequest>(text);
    agree::<ocpp_types::v201::DataTransferRequest>(text);
    agree::<ocpp_types::v16::MeterValuesRequest>(text);
    agree::<ocpp_types::v16::SetChargingProfileRequest>(text);
});
