// Shared body of the differential targets: `include!`d by `differential_v16.rs`,
// `differential_v201.rs` and `differential_v21.rs`, which list their version's message types.
//
// The first byte picks an action of the version (`Action::ALL`), the rest is the payload
// text. For the action's request type and its response type `T` (a 2.1 SEND message has no
// response), three readers decode the same text:
//
// - `ocpp_types::from_str::<T>`: our fast JSON reader, falling back to serde_json with path
//   tracking when the fast reader refuses (what every decode in the library uses);
// - `serde_json::from_str::<T>`: serde_json's verdict on our `Deserialize` impls, the reference;
// - `ocpp_types::__rt::fast_from_str::<T>`: the fast reader alone.
//
// The first two must give the same verdict and, where both accept, equal values. The fast
// reader may refuse more (it leaves long numbers and rare shapes to serde_json) but must never
// accept what serde_json refuses, nor read a value differently. The version's union decode
// (`AnyRequest::decode` / `AnyResponse::decode`, which the session uses) must agree with
// `from_str` for the type. A payload that decodes must encode, and its encoding must decode to
// the same value.

use ocpp_types::__rt::fast_from_str;
use ocpp_types::{AnyAction, AnyRequest, AnyResponse, MessageError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Holds the three readers of `T` to the same verdicts on `text`; `union` is the version's
/// union decode of the same text, `wrap` puts a `T` into the union type.
fn agree<T, U>(text: &str, union: Result<U, MessageError>, wrap: fn(T) -> U)
where
    T: DeserializeOwned + Serialize + PartialEq + core::fmt::Debug,
    U: PartialEq + core::fmt::Debug,
{
    let ours = ocpp_types::from_str::<T>(text);
    let reference = serde_json::from_str::<T>(text);
    match (&ours, &reference) {
        (Ok(ours), Ok(reference)) => assert_eq!(
            ours, reference,
            "from_str and serde_json read {text:?} differently"
        ),
        (Err(_), Err(_)) => {}
        (Ok(ours), Err(reference)) => {
            panic!("from_str accepts {text:?} as {ours:?}; serde_json refuses: {reference}")
        }
        (Err(ours), Ok(reference)) => {
            panic!("from_str refuses {text:?} ({ours}); serde_json reads {reference:?}")
        }
    }
    if let Ok(fast) = fast_from_str::<T>(text) {
        match &reference {
            Ok(reference) => assert_eq!(
                &fast, reference,
                "the fast reader and serde_json read {text:?} differently"
            ),
            Err(reference) => {
                panic!(
                    "the fast reader accepts {text:?} as {fast:?}; serde_json refuses: {reference}"
                )
            }
        }
    }
    let union = union.ok();
    let ours = ours.ok();
    if let Some(value) = &ours {
        let json = serde_json::to_string(value).expect("a decoded message encodes");
        let again = ocpp_types::from_str::<T>(&json).expect("its encoding decodes");
        assert_eq!(&again, value, "decode(encode(x)) != x for {json}");
    }
    assert_eq!(
        union,
        ours.map(wrap),
        "the union decode and from_str disagree on {text:?}"
    );
}

macro_rules! differential_target {
    ($v:ident, $variant:ident, calls: [$($call:ident),* $(,)?], sends: [$($send:ident),* $(,)?] $(,)?) => {
        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            use ocpp_types::$v as m;
            let Some((&pick, payload)) = data.split_first() else { return };
            let Ok(text) = core::str::from_utf8(payload) else { return };
            let action = m::Action::ALL[pick as usize % m::Action::ALL.len()];
            let any = AnyAction::$variant(action);
            let name = action.as_str();
            $(
                if name == <m::$call as ocpp_types::Message>::ACTION {
                    agree::<m::$call, AnyRequest>(
                        text,
                        AnyRequest::decode(any, text),
                        AnyRequest::from_message,
                    );
                    agree::<<m::$call as ocpp_types::Request>::Response, AnyResponse>(
                        text,
                        AnyResponse::decode(any, text),
                        AnyResponse::from_message,
                    );
                    return;
                }
            )*
            $(
                if name == <m::$send as ocpp_types::Message>::ACTION {
                    agree::<m::$send, AnyRequest>(
                        text,
                        AnyRequest::decode(any, text),
                        AnyRequest::from_message,
                    );
                    return;
                }
            )*
            panic!("the target's table of {} messages lacks {name}", stringify!($v));
        });
    };
}
