// Shared body of the decode targets: `include!`d with `$v` naming the version module.
//
// The first byte picks an action, the rest is the payload (text, as a WebSocket text message is).
// A payload that decodes must encode, and the encoding must decode to the same value (the
// schema-exactness contract: what we accept we can also produce). A payload that does not decode must fail with an error, never a panic.
macro_rules! decode_target {
    ($v:ident) => {
        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            use ocpp_types::$v::{Action, Request, Response};
            let Some((&pick, payload)) = data.split_first() else { return };
            let Ok(payload) = core::str::from_utf8(payload) else { return };
            let action = Action::ALL[pick as usize % Action::ALL.len()];
            if let Ok(request) = Request::decode(action.as_str(), payload) {
                let json = serde_json::to_string(&request).expect("a decoded request encodes");
                let again = Request::decode(action.as_str(), &json).expect("its encoding decodes");
                assert_eq!(again, request);
            }
            if let Ok(response) = Response::decode(action.as_str(), payload) {
                let json = serde_json::to_string(&response).expect("a decoded response encodes");
                let again = Response::decode(action.as_str(), &json).expect("its encoding decodes");
                assert_eq!(again, response);
            }
        });
    };
}
