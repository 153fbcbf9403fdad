// Shared body of the differential targets: `include!`d by `differential_v16.rs`,
// `differential_v201.rs` and `differential_v21.rs`, each calling `run` with its version.
//
// The first byte picks an action of the version (`Action::ALL`), the rest is the payload
// text. For the action's request type and its response type `T` (a 2.1 SEND message has no
// response), two readers decode the same text:
//
// - `ocpp_types::from_str::<T>`: our JSON reader (what every decode in the library uses);
// - `serde_json::from_str::<T>`: serde_json's verdict on our `Deserialize` impls, the reference.
//
// They must give the same verdict and, where both accept, equal values (unless the text has a
// number that serde_json may round one unit in the last place off: ours is correctly rounded,
// which also takes a number just above f64::MAX that rounds to it, where serde_json overflows).
// The version's union decode (`AnyRequest::decode` / `AnyResponse::decode`, which the session
// uses) must agree with `from_str` for the type, and so must the table-driven decoder
// (`ocpp_types::schema::decode` with `T`'s schema, what the station core uses): the same
// verdict, the same error (kind, pointer, message) where both refuse, and the value `T`
// encodes to where both accept. A payload that decodes must encode, and its encoding must
// decode to the same value.

include!("numbers.rs");

use ocpp_types::{AnyAction, AnyRequest, AnyResponse, MessageError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Holds the two readers of `T` to the same verdicts on `text`; `union` is the version's
/// union decode of the same text, `wrap` puts a `T` into the union type; `schema` is `T`'s
/// schema as data.
fn agree<T, U>(
    text: &str,
    union: Result<U, MessageError>,
    wrap: fn(T) -> U,
    schema: &'static ocpp_types::Schema,
) where
    T: DeserializeOwned + Serialize + PartialEq + core::fmt::Debug,
    U: PartialEq + core::fmt::Debug,
{
    let ours = ocpp_types::from_str::<T>(text);
    let reference = serde_json::from_str::<T>(text);
    match (&ours, &reference) {
        (Ok(ours), Ok(reference)) => assert!(
            ours == reference || has_long_number(text),
            "from_str and serde_json read {text:?} differently: {ours:?} vs {reference:?}"
        ),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(reference)) if serde_json_overflowed(text, reference) => {}
        (Err(_), Ok(_)) if rounds_beyond_f64(text) => {}
        (Ok(ours), Err(reference)) => {
            panic!("from_str accepts {text:?} as {ours:?}; serde_json refuses: {reference}")
        }
        (Err(ours), Ok(reference)) => {
            panic!("from_str refuses {text:?} ({ours}); serde_json reads {reference:?}")
        }
    }
    match (&ours, ocpp_types::schema::decode(schema, text)) {
        (Ok(typed), Ok(table)) => assert_eq!(
            serde_json::to_value(typed).expect("a decoded message encodes"),
            table,
            "the table-driven decode reads {text:?} differently"
        ),
        (Err(typed), Err(table)) => assert_eq!(
            (typed.kind(), typed.pointer(), typed.message()),
            (table.kind(), table.pointer(), table.message()),
            "the table-driven decode refuses {text:?} otherwise"
        ),
        (typed, table) => panic!(
            "typed and table-driven decodes disagree on {text:?}: {:?} vs {:?}",
            typed.as_ref().map(|_| ()),
            table.map(|_| ())
        ),
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

/// Runs [`agree`] for the request and response type of the action `action`, found by the
/// version's generated `__visit_messages` (so no hand-kept list of types can fall behind).
struct Check<'a> {
    action: AnyAction,
    text: &'a str,
    found: bool,
}

impl ocpp_types::__rt::VisitMessages for Check<'_> {
    fn request<R>(&mut self)
    where
        R: ocpp_types::Request + ocpp_types::random::Generate,
        R::Response: ocpp_types::random::Generate,
    {
        if R::ANY_ACTION != self.action {
            return;
        }
        self.found = true;
        agree::<R, AnyRequest>(
            self.text,
            AnyRequest::decode(self.action, self.text),
            AnyRequest::from_message::<R>,
            R::SCHEMA,
        );
        agree::<R::Response, AnyResponse>(
            self.text,
            AnyResponse::decode(self.action, self.text),
            AnyResponse::from_message::<R::Response>,
            <R::Response as ocpp_types::Response>::SCHEMA,
        );
    }

    fn send<S: ocpp_types::SendMessage + ocpp_types::random::Generate>(&mut self) {
        if S::ANY_ACTION != self.action {
            return;
        }
        self.found = true;
        agree::<S, AnyRequest>(
            self.text,
            AnyRequest::decode(self.action, self.text),
            AnyRequest::from_message::<S>,
            S::SCHEMA,
        );
    }
}

/// The whole target for `version`: the first byte picks the action, the rest is the text.
fn run(version: ocpp_types::OcppVersion, data: &[u8]) {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let Ok(text) = core::str::from_utf8(payload) else {
        return;
    };
    let actions = AnyAction::all(version);
    let action = actions[pick as usize % actions.len()];
    let mut check = Check {
        action,
        text,
        found: false,
    };
    match version {
        ocpp_types::OcppVersion::V16 => ocpp_types::v16::__visit_messages(&mut check),
        ocpp_types::OcppVersion::V201 => ocpp_types::v201::__visit_messages(&mut check),
        ocpp_types::OcppVersion::V21 => ocpp_types::v21::__visit_messages(&mut check),
    }
    assert!(check.found, "__visit_messages of {version} lacks {action}");
}
