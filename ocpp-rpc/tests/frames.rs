//! Frame parsing and writing, error codes, and every row of the answer table (crate docs) for
//! each version.

use std::borrow::Cow;

use ocpp_rpc::frame::{self, MAX_DESCRIPTION_CHARS};
use ocpp_rpc::{
    Config, ErrorCode, Event, Frame, FrameErrorKind, MessageType, Millis, Outcome, Role, Session,
    ViolationKind,
};
use ocpp_types::OcppVersion::{self, V16, V21, V201};
use ocpp_types::{ErrorKind, v16, v21, v201};
use serde_json::{Value, json};

const ALL: [OcppVersion; 3] = [V16, V201, V21];

// ---------------------------------------------------------------------------------------------
// Parsing

#[test]
fn parses_every_message_type() {
    for v in ALL {
        match Frame::parse(br#"[2,"19223201","BootNotification",{"a":1}]"#, v).unwrap() {
            Frame::Call {
                id,
                action,
                payload,
            } => {
                assert_eq!(id, "19223201");
                assert_eq!(action, "BootNotification");
                assert_eq!(payload.get(), r#"{"a":1}"#);
                assert!(
                    matches!(id, Cow::Borrowed(_)),
                    "ids without escapes are borrowed"
                );
            }
            other => panic!("{other:?}"),
        }
        match Frame::parse(br#" [ 3 , "x" , { "b" : [1, 2] } ] "#, v).unwrap() {
            Frame::CallResult { id, payload } => {
                assert_eq!(id, "x");
                assert_eq!(payload.get(), r#"{ "b" : [1, 2] }"#);
            }
            other => panic!("{other:?}"),
        }
        match Frame::parse(
            br#"[4,"x","OccurenceConstraintViolation","d",{"k":"v"}]"#,
            v,
        )
        .unwrap()
        {
            Frame::CallError(e) => {
                assert_eq!(e.id, "x");
                assert_eq!(
                    e.error_code(),
                    Some(ErrorCode::OccurrenceConstraintViolation)
                );
                assert_eq!(e.description, "d");
                assert_eq!(e.details.get(), r#"{"k":"v"}"#);
            }
            other => panic!("{other:?}"),
        }
        let five = Frame::parse(br#"[5,"x","FormatViolation","",{}]"#, v);
        let six = Frame::parse(br#"[6,"x","NotifyPeriodicEventStream",{}]"#, v);
        if v == V21 {
            assert!(matches!(five.unwrap(), Frame::CallResultError(_)));
            let six = six.unwrap();
            assert_eq!(six.message_type(), MessageType::Send);
            assert_eq!(six.id(), "x");
        } else {
            assert_eq!(five.unwrap_err().kind(), FrameErrorKind::UnknownMessageType);
            assert_eq!(six.unwrap_err().kind(), FrameErrorKind::UnknownMessageType);
        }
    }
}

#[test]
fn escaped_strings_are_decoded() {
    let frame = Frame::parse(br#"[2,"a\"b\u00e9","Heart\u0062eat",{}]"#, V201).unwrap();
    match frame {
        Frame::Call { id, action, .. } => {
            assert_eq!(id, "a\"bé");
            assert!(matches!(id, Cow::Owned(_)));
            assert_eq!(action, "Heartbeat");
        }
        other => panic!("{other:?}"),
    }
    let frame = Frame::parse(br#"[4,"1","GenericError","line\nbreak",{}]"#, V16).unwrap();
    let Frame::CallError(e) = frame else { panic!() };
    assert_eq!(e.description, "line\nbreak");
}

#[test]
fn classifies_malformed_input() {
    let cases: &[(&[u8], FrameErrorKind)] = &[
        (b"", FrameErrorKind::Empty),
        (b" \r\n\t", FrameErrorKind::Empty),
        (b"[2,\"1\",\"Heartbeat\",{}", FrameErrorKind::Syntax),
        (b"[2,\"1\",\"Heartbeat\",{}] x", FrameErrorKind::Syntax),
        (b"\xff\xfe", FrameErrorKind::Syntax),
        (b"{\"a\":1}", FrameErrorKind::NotAnArray),
        (b"\"text\"", FrameErrorKind::NotAnArray),
        (b"42", FrameErrorKind::NotAnArray),
        (b"null", FrameErrorKind::NotAnArray),
        (b"[]", FrameErrorKind::BadMessageType),
        (
            b"[\"2\",\"1\",\"Heartbeat\",{}]",
            FrameErrorKind::BadMessageType,
        ),
        (
            b"[2.0,\"1\",\"Heartbeat\",{}]",
            FrameErrorKind::BadMessageType,
        ),
        (
            b"[-2,\"1\",\"Heartbeat\",{}]",
            FrameErrorKind::BadMessageType,
        ),
        (b"[2]", FrameErrorKind::BadMessageId),
        (b"[2,1,\"Heartbeat\",{}]", FrameErrorKind::BadMessageId),
        (b"[2,null,\"Heartbeat\",{}]", FrameErrorKind::BadMessageId),
        (b"[9,\"1\",{}]", FrameErrorKind::UnknownMessageType),
        (b"[0,\"1\",{}]", FrameErrorKind::UnknownMessageType),
        (
            b"[99999999999999999999999,\"1\",{}]",
            FrameErrorKind::BadMessageType,
        ),
        (
            b"[18446744073709551615,\"1\",{}]",
            FrameErrorKind::UnknownMessageType,
        ),
        (b"[2,\"1\",\"Heartbeat\"]", FrameErrorKind::BadShape),
        (b"[2,\"1\",\"Heartbeat\",{},{}]", FrameErrorKind::BadShape),
        (b"[2,\"1\",7,{}]", FrameErrorKind::BadShape),
        (b"[3,\"1\"]", FrameErrorKind::BadShape),
        (b"[3,\"1\",{},1]", FrameErrorKind::BadShape),
        (b"[4,\"1\",\"GenericError\",\"\"]", FrameErrorKind::BadShape),
        (
            b"[4,\"1\",\"GenericError\",\"\",[]]",
            FrameErrorKind::BadShape,
        ),
        (b"[4,\"1\",5,\"\",{}]", FrameErrorKind::BadShape),
        (
            b"[4,\"1\",\"GenericError\",null,{}]",
            FrameErrorKind::BadShape,
        ),
    ];
    for v in ALL {
        for (input, kind) in cases {
            let err = Frame::parse(input, v).unwrap_err();
            assert_eq!(
                err.kind(),
                *kind,
                "{v:?} {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
    let long = format!("[2,\"{}\",\"Heartbeat\",{{}}]", "x".repeat(37));
    let err = Frame::parse(long.as_bytes(), V201).unwrap_err();
    assert_eq!(err.kind(), FrameErrorKind::MessageIdTooLong);
    assert_eq!(err.id(), None);
    // 36 characters of 2 bytes each are fine.
    let ok = format!("[2,\"{}\",\"Heartbeat\",{{}}]", "é".repeat(36));
    assert!(Frame::parse(ok.as_bytes(), V201).is_ok());
    // Deep nesting is skipped over without recursion (the typed decode refuses it later).
    let deep = format!(
        "[2,\"1\",\"Heartbeat\",{}{}]",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(Frame::parse(deep.as_bytes(), V201).is_ok());
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        Frame::parse(deep.as_bytes(), V201).unwrap_err().kind(),
        FrameErrorKind::BadMessageType
    );
}

#[test]
fn deeply_nested_input_is_answered_without_overflowing() {
    for v in ALL {
        let deep = format!(
            "[2,\"1\",\"Heartbeat\",{{\"customData\":{}{}}}]",
            "[".repeat(50_000),
            "]".repeat(50_000)
        );
        let (out, _) = feed(&mut csms(v), deep.as_bytes());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0][0], 4);
    }
}

#[test]
fn a_call_payload_may_be_any_json_value() {
    // The frame accepts it; the typed decode refuses what is not an object.
    let frame = Frame::parse(br#"[2,"1","Heartbeat",null]"#, V201).unwrap();
    let Frame::Call { payload, .. } = frame else {
        panic!()
    };
    assert_eq!(payload.get(), "null");
}

// ---------------------------------------------------------------------------------------------
// Writing

#[test]
fn writes_frames_without_values() {
    let call = frame::encode_call("1", "Heartbeat", &v201::HeartbeatRequest::default()).unwrap();
    assert_eq!(call, br#"[2,"1","Heartbeat",{}]"#);
    let time = "2024-01-01T00:00:00Z".parse().unwrap();
    let result = frame::encode_call_result("1", &v201::HeartbeatResponse::new(time)).unwrap();
    assert_eq!(result, br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#);
    let send = frame::encode_send("7", "X", &json!({})).unwrap();
    assert_eq!(send, br#"[6,"7","X",{}]"#);
    let escaped = frame::encode_call("a\"b", "Heartbeat", &json!({})).unwrap();
    assert_eq!(escaped, br#"[2,"a\"b","Heartbeat",{}]"#);
}

#[test]
fn writes_errors_in_the_version_spelling() {
    for (v, format, occurrence, framework) in [
        (
            V16,
            "FormationViolation",
            "OccurenceConstraintViolation",
            "GenericError",
        ),
        (
            V201,
            "FormatViolation",
            "OccurrenceConstraintViolation",
            "RpcFrameworkError",
        ),
        (
            V21,
            "FormatViolation",
            "OccurrenceConstraintViolation",
            "RpcFrameworkError",
        ),
    ] {
        for (code, name) in [
            (ErrorCode::FormatViolation, format),
            (ErrorCode::OccurrenceConstraintViolation, occurrence),
            (ErrorCode::RpcFrameworkError, framework),
        ] {
            let bytes = frame::encode_error(v, MessageType::CallError, "1", code, "d", None);
            let value: Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(value, json!([4, "1", name, "d", {}]));
        }
        let mut details = serde_json::Map::new();
        details.insert("k".into(), json!([1]));
        let bytes = frame::encode_error(
            v,
            MessageType::CallResultError,
            "1",
            ErrorCode::InternalError,
            "",
            Some(&details),
        );
        assert_eq!(bytes, br#"[5,"1","InternalError","",{"k":[1]}]"#);
    }
}

#[test]
fn descriptions_are_cut_to_255_characters_in_every_version() {
    let long = "é".repeat(300);
    for v in ALL {
        let bytes = frame::encode_error(
            v,
            MessageType::CallError,
            "1",
            ErrorCode::GenericError,
            &long,
            None,
        );
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let description = value[3].as_str().unwrap();
        assert_eq!(description.chars().count(), MAX_DESCRIPTION_CHARS, "{v:?}");
    }
    assert_eq!(frame::truncate_chars("aé", 1), "a");
    assert_eq!(frame::truncate_chars("abc", 5), "abc");
}

// ---------------------------------------------------------------------------------------------
// Error codes

#[test]
fn error_codes_round_trip_in_every_version() {
    for v in ALL {
        for code in ErrorCode::ALL {
            let text = code.as_str(v);
            let back = ErrorCode::parse(text).unwrap();
            if code.exists_in(v) {
                assert_eq!(back, code, "{v:?} {text}");
            } else {
                assert_eq!(back, ErrorCode::GenericError);
            }
        }
    }
    assert_eq!(
        ErrorCode::parse("FormationViolation"),
        Some(ErrorCode::FormatViolation)
    );
    assert_eq!(ErrorCode::parse("formatviolation"), None);
    assert_eq!(ErrorCode::FormatViolation.to_string(), "FormatViolation");
}

#[test]
fn decode_errors_map_to_codes() {
    use ErrorCode::*;
    for (kind, code) in [
        (ErrorKind::Missing, OccurrenceConstraintViolation),
        (ErrorKind::Items, OccurrenceConstraintViolation),
        (ErrorKind::Type, TypeConstraintViolation),
        (ErrorKind::Enum, PropertyConstraintViolation),
        (ErrorKind::Range, PropertyConstraintViolation),
        (ErrorKind::Length, PropertyConstraintViolation),
        (ErrorKind::Format, PropertyConstraintViolation),
        (ErrorKind::UnexpectedField, FormatViolation),
        (ErrorKind::Syntax, FormatViolation),
    ] {
        assert_eq!(ErrorCode::from_kind(kind), code);
    }
}

// ---------------------------------------------------------------------------------------------
// The answer table, row by row, for each version

/// A CSMS session (it receives the station's calls).
fn csms(v: OcppVersion) -> Session {
    Session::new(Config::new(v, Role::Csms))
}

/// What a session writes and reports for one input.
fn feed(session: &mut Session, input: &[u8]) -> (Vec<Value>, Vec<Event>) {
    session.receive(input, Millis(0));
    let mut out = Vec::new();
    while let Some(frame) = session.poll_transmit() {
        out.push(serde_json::from_slice(&frame).expect("the session writes valid JSON"));
    }
    let mut events = Vec::new();
    while let Some(event) = session.poll_event() {
        events.push(event);
    }
    (out, events)
}

/// The single CALLERROR written for `input`, as (id, code, description).
fn call_error(v: OcppVersion, input: &[u8]) -> Option<(String, String)> {
    let (out, events) = feed(&mut csms(v), input);
    assert!(out.len() <= 1, "{out:?}");
    let frame = out.into_iter().next()?;
    let items = frame.as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0], 4);
    assert!(items[4].is_object());
    if v != V16 {
        assert!(items[3].as_str().unwrap().chars().count() <= 255);
    }
    // Every answer is also reported.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ProtocolViolation(_))),
        "{events:?}"
    );
    Some((
        items[1].as_str().unwrap().to_string(),
        items[2].as_str().unwrap().to_string(),
    ))
}

/// Checks one row: the answer in 1.6, 2.0.1 and 2.1.
fn row(input: &[u8], expected: [Option<(&str, &str)>; 3]) {
    for (v, expected) in ALL.into_iter().zip(expected) {
        let got = call_error(v, input);
        let got = got.as_ref().map(|(id, code)| (id.as_str(), code.as_str()));
        assert_eq!(got, expected, "{v:?}: {}", String::from_utf8_lossy(input));
    }
}

fn same(id: &'static str, code: &'static str) -> [Option<(&'static str, &'static str)>; 3] {
    [Some((id, code)); 3]
}

#[test]
fn row_empty_frame_is_ignored() {
    for v in ALL {
        for input in [&b""[..], b"  ", b"\n"] {
            let (out, events) = feed(&mut csms(v), input);
            assert!(out.is_empty() && events.is_empty(), "{v:?}");
        }
    }
}

#[test]
fn row_unparseable_json() {
    let answer = [
        Some(("-1", "GenericError")),
        Some(("-1", "RpcFrameworkError")),
        Some(("-1", "RpcFrameworkError")),
    ];
    row(b"[2,\"1\",\"Heartbeat\",{}", answer);
    row(b"not json", answer);
    row(b"[2,\"1\",\"Heartbeat\",{}]]", answer);
    row(b"\xc3\x28", answer);
}

#[test]
fn row_not_an_array() {
    let answer = [
        Some(("-1", "GenericError")),
        Some(("-1", "RpcFrameworkError")),
        Some(("-1", "RpcFrameworkError")),
    ];
    row(br#"{"messageTypeId":2}"#, answer);
    row(b"2", answer);
}

#[test]
fn row_message_type_not_an_integer() {
    row(
        br#"["2","abc","Heartbeat",{}]"#,
        [
            Some(("abc", "GenericError")),
            Some(("abc", "RpcFrameworkError")),
            Some(("abc", "RpcFrameworkError")),
        ],
    );
    row(
        br#"[]"#,
        [
            Some(("-1", "GenericError")),
            Some(("-1", "RpcFrameworkError")),
            Some(("-1", "RpcFrameworkError")),
        ],
    );
}

#[test]
fn row_unreadable_message_id() {
    let answer = [
        Some(("-1", "GenericError")),
        Some(("-1", "RpcFrameworkError")),
        Some(("-1", "RpcFrameworkError")),
    ];
    row(br#"[2,19223201,"Heartbeat",{}]"#, answer);
    row(br#"[2]"#, answer);
    row(br#"[3,{},{}]"#, answer);
    // An error frame is never answered, whatever is wrong with it.
    row(br#"[4,1,"GenericError","",{}]"#, [None, None, None]);
}

#[test]
fn row_message_id_over_36_characters() {
    let input = format!("[2,\"{}\",\"Heartbeat\",{{}}]", "1".repeat(37));
    row(
        input.as_bytes(),
        [
            Some(("-1", "GenericError")),
            Some(("-1", "RpcFrameworkError")),
            Some(("-1", "RpcFrameworkError")),
        ],
    );
    let ok = format!("[2,\"{}\",\"Heartbeat\",{{}}]", "1".repeat(36));
    for v in ALL {
        let (out, events) = feed(&mut csms(v), ok.as_bytes());
        assert!(out.is_empty());
        assert!(matches!(events[..], [Event::IncomingCall(_)]));
    }
}

#[test]
fn row_unknown_message_type() {
    row(
        br#"[7,"1","Heartbeat",{}]"#,
        [None, Some(("1", "MessageTypeNotSupported")), None],
    );
    // 5 and 6 exist only in 2.1.
    row(
        br#"[5,"1","GenericError","",{}]"#,
        [None, Some(("1", "MessageTypeNotSupported")), None],
    );
    row(
        br#"[6,"1","Heartbeat",{}]"#,
        [None, Some(("1", "MessageTypeNotSupported")), None],
    );
    // Ignored still means reported.
    for v in [V16, V21] {
        let (out, events) = feed(&mut csms(v), br#"[7,"1","Heartbeat",{}]"#);
        assert!(out.is_empty());
        assert!(matches!(
            &events[..],
            [Event::ProtocolViolation(violation)]
                if violation.kind == ViolationKind::Frame(FrameErrorKind::UnknownMessageType)
        ));
    }
}

#[test]
fn row_call_of_the_wrong_shape() {
    let answer = [
        Some(("1", "ProtocolError")),
        Some(("1", "RpcFrameworkError")),
        Some(("1", "RpcFrameworkError")),
    ];
    row(br#"[2,"1","Heartbeat"]"#, answer);
    row(br#"[2,"1","Heartbeat",{},{}]"#, answer);
    row(br#"[2,"1",{},{}]"#, answer);
}

#[test]
fn row_unknown_action() {
    row(br#"[2,"1","MakeCoffee",{}]"#, same("1", "NotImplemented"));
    // A 2.x action on a 1.6 connection and the other way round.
    row(
        br#"[2,"1","TransactionEvent",{}]"#,
        [
            Some(("1", "NotImplemented")),
            Some(("1", "OccurrenceConstraintViolation")),
            Some(("1", "OccurrenceConstraintViolation")),
        ],
    );
    row(
        br#"[2,"1","StartTransaction",{}]"#,
        [
            Some(("1", "OccurenceConstraintViolation")),
            Some(("1", "NotImplemented")),
            Some(("1", "NotImplemented")),
        ],
    );
}

#[test]
fn row_known_action_not_taken_from_this_side() {
    // A CSMS does not take a Reset (the CSMS sends it).
    row(
        br#"[2,"1","Reset",{"type":"Hard"}]"#,
        same("1", "NotSupported"),
    );
    // A SEND-only action as a CALL (2.1).
    let (out, _) = feed(
        &mut csms(V21),
        br#"[2,"1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[]}]"#,
    );
    assert_eq!(out, vec![json!([4, "1", "NotSupported", out[0][3], {}])]);
}

/// A BootNotification payload of each version, with `edit` applied.
fn boot(v: OcppVersion, edit: impl Fn(&mut Value)) -> Vec<u8> {
    let mut payload = if v == V16 {
        json!({"chargePointVendor": "VendorX", "chargePointModel": "ModelY"})
    } else {
        json!({"reason": "PowerUp", "chargingStation": {"model": "ModelY", "vendorName": "VendorX"}})
    };
    edit(&mut payload);
    serde_json::to_vec(&json!([2, "b1", "BootNotification", payload])).unwrap()
}

/// The field that a payload edit targets per version.
fn field(v: OcppVersion) -> &'static str {
    if v == V16 {
        "/chargePointModel"
    } else {
        "/chargingStation/model"
    }
}

fn payload_row(edit: impl Fn(OcppVersion, &mut Value), codes: [&str; 3]) {
    for (v, code) in ALL.into_iter().zip(codes) {
        let input = boot(v, |p| edit(v, p));
        let got = call_error(v, &input);
        assert_eq!(
            got,
            Some(("b1".to_string(), code.to_string())),
            "{v:?}: {}",
            String::from_utf8_lossy(&input)
        );
    }
}

fn set(payload: &mut Value, pointer: &str, value: Value) {
    *payload.pointer_mut(pointer).unwrap() = value;
}

fn remove(payload: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    payload
        .pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
}

#[test]
fn row_payload_missing_required() {
    payload_row(
        |v, p| remove(p, field(v)),
        [
            "OccurenceConstraintViolation",
            "OccurrenceConstraintViolation",
            "OccurrenceConstraintViolation",
        ],
    );
}

#[test]
fn row_payload_wrong_type() {
    payload_row(
        |v, p| set(p, field(v), json!(12)),
        ["TypeConstraintViolation"; 3],
    );
    payload_row(
        |v, p| set(p, field(v), Value::Null),
        ["TypeConstraintViolation"; 3],
    );
    payload_row(|_, p| *p = json!([]), ["TypeConstraintViolation"; 3]);
    payload_row(|_, p| *p = Value::Null, ["TypeConstraintViolation"; 3]);
}

#[test]
fn row_payload_value_not_allowed() {
    // Too long.
    payload_row(
        |v, p| set(p, field(v), json!("x".repeat(100))),
        ["PropertyConstraintViolation"; 3],
    );
    // Not in the enumeration (2.x reason; 1.6 has no enum in BootNotification: use a status).
    for v in [V201, V21] {
        let got = call_error(v, &boot(v, |p| set(p, "/reason", json!("Sneezed"))));
        assert_eq!(got.unwrap().1, "PropertyConstraintViolation");
    }
    let got = call_error(
        V16,
        br#"[2,"s","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Sneezing"}]"#,
    );
    assert_eq!(got.unwrap().1, "PropertyConstraintViolation");
    // Out of range (1.6 schemas have no minimum or maximum).
    let got = call_error(
        V201,
        br#"[2,"n","NotifyEVChargingNeeds",{"evseId":1,"chargingNeeds":{"requestedEnergyTransfer":"DC","dcChargingParameters":{"evMaxCurrent":1,"evMaxVoltage":1,"stateOfCharge":101}}}]"#,
    );
    assert_eq!(got.unwrap().1, "PropertyConstraintViolation");
    // Not a date-time.
    let got = call_error(
        V201,
        br#"[2,"m","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"yesterday","sampledValue":[{"value":1}]}]}]"#,
    );
    assert_eq!(got.unwrap().1, "PropertyConstraintViolation");
}

#[test]
fn row_payload_too_few_items() {
    let got = call_error(
        V201,
        br#"[2,"m","MeterValues",{"evseId":1,"meterValue":[]}]"#,
    );
    assert_eq!(got.unwrap().1, "OccurrenceConstraintViolation");
    let got = call_error(
        V16,
        br#"[2,"m","MeterValues",{"connectorId":1,"meterValue":[]}]"#,
    );
    assert_eq!(got.unwrap().1, "OccurenceConstraintViolation");
}

#[test]
fn row_payload_unknown_field() {
    payload_row(
        |_, p| {
            p.as_object_mut()
                .unwrap()
                .insert("vendorExtra".into(), json!(1));
        },
        ["FormationViolation", "FormatViolation", "FormatViolation"],
    );
    // A duplicated key is malformed too.
    let got = call_error(
        V201,
        br#"[2,"h","Heartbeat",{"customData":{"vendorId":"a"},"customData":{"vendorId":"a"}}]"#,
    );
    assert_eq!(got.unwrap().1, "FormatViolation");
}

#[test]
fn row_payload_error_description_names_the_field() {
    let (out, events) = feed(
        &mut csms(V201),
        &boot(V201, |p| remove(p, "/chargingStation/model")),
    );
    let description = out[0][3].as_str().unwrap();
    assert!(
        description.contains("/chargingStation/model"),
        "{description}"
    );
    assert!(matches!(
        &events[..],
        [Event::ProtocolViolation(v)] if v.kind == ViolationKind::InvalidPayload
            && v.answered == Some(ErrorCode::OccurrenceConstraintViolation)
    ));
}

#[test]
fn row_too_many_incoming_calls() {
    for v in ALL {
        let mut config = Config::new(v, Role::Csms);
        config.max_incoming = 2;
        let mut session = Session::new(config);
        for id in ["1", "2"] {
            let (out, _) = feed(
                &mut session,
                format!("[2,\"{id}\",\"Heartbeat\",{{}}]").as_bytes(),
            );
            assert!(out.is_empty());
        }
        let (out, _) = feed(&mut session, br#"[2,"3","Heartbeat",{}]"#);
        assert_eq!(out[0][2], "GenericError");
        assert_eq!(out[0][1], "3");
        // Back-pressure, not misbehaviour: a burst of any length never asks to close.
        for id in 4..100 {
            feed(
                &mut session,
                format!("[2,\"{id}\",\"Heartbeat\",{{}}]").as_bytes(),
            );
        }
        assert!(!session.wants_close(), "{v:?}");
    }
}

#[test]
fn row_a_second_call_with_a_pending_id() {
    for v in ALL {
        let mut session = Session::new(Config::new(v, Role::Csms));
        let (out, _) = feed(&mut session, br#"[2,"7","Heartbeat",{}]"#);
        assert!(out.is_empty());
        let (out, events) = feed(&mut session, br#"[2,"7","Heartbeat",{}]"#);
        let code = if v == V16 {
            "GenericError"
        } else {
            "RpcFrameworkError"
        };
        assert_eq!(
            (out[0][0].as_u64(), out[0][1].as_str(), out[0][2].as_str()),
            (Some(4), Some("7"), Some(code))
        );
        assert!(
            matches!(
                &events[..],
                [Event::ProtocolViolation(violation)] if violation.kind == ViolationKind::DuplicateMessageId
            ),
            "{events:?}"
        );
        assert_eq!(
            session.awaiting_response(),
            1,
            "the first call still awaits its answer"
        );
    }
}

#[test]
fn an_unknown_action_of_any_length_gets_a_short_answer() {
    let name = "x".repeat(60_000);
    for v in ALL {
        let mut session = Session::new(Config::new(v, Role::Csms));
        let (out, events) = feed(
            &mut session,
            format!("[2,\"1\",\"{name}\",{{}}]").as_bytes(),
        );
        assert_eq!(out[0][2], "NotImplemented");
        assert!(serde_json::to_string(&out[0]).unwrap().len() < 400, "{v:?}");
        match &events[..] {
            [Event::ProtocolViolation(violation)] => assert!(violation.detail.len() < 100),
            other => panic!("{other:?}"),
        }
    }
}

/// A station with one call on the wire (message id "1"), and the frames it wrote.
fn station_with_call(v: OcppVersion) -> Session {
    let mut station = Session::new(Config::new(v, Role::ChargingStation));
    match v {
        V16 => station.call(&v16::HeartbeatRequest::default(), Millis(0)),
        V201 => station.call(&v201::HeartbeatRequest::default(), Millis(0)),
        V21 => station.call(&v21::HeartbeatRequest::default(), Millis(0)),
    }
    .unwrap();
    assert_eq!(
        station.poll_transmit().unwrap(),
        br#"[2,"1","Heartbeat",{}]"#
    );
    station
}

fn outcome(events: &[Event]) -> &Outcome {
    events
        .iter()
        .find_map(|e| match e {
            Event::CallCompleted { outcome, .. } => Some(outcome),
            _ => None,
        })
        .expect("the call completed")
}

#[test]
fn row_call_result_breaking_its_schema() {
    for v in ALL {
        let mut station = station_with_call(v);
        let (out, events) = feed(&mut station, br#"[3,"1",{"currentTime":"noon"}]"#);
        assert!(
            matches!(outcome(&events), Outcome::InvalidResponse(e) if e.kind() == ErrorKind::Format)
        );
        if v == V21 {
            assert_eq!(out.len(), 1);
            assert_eq!(out[0][0], 5);
            assert_eq!(out[0][1], "1");
            assert_eq!(out[0][2], "PropertyConstraintViolation");
        } else {
            assert!(out.is_empty(), "{v:?} {out:?}");
        }
    }
}

#[test]
fn row_response_of_the_wrong_shape_for_a_call_on_the_wire() {
    for v in ALL {
        let mut station = station_with_call(v);
        let (out, events) = feed(&mut station, br#"[3,"1"]"#);
        assert!(matches!(outcome(&events), Outcome::InvalidResponse(_)));
        if v == V21 {
            assert_eq!(
                out,
                vec![json!([5, "1", "RpcFrameworkError", out[0][3], {}])]
            );
        } else {
            assert!(out.is_empty());
        }
        let mut station = station_with_call(v);
        let (out, events) = feed(&mut station, br#"[4,"1","GenericError"]"#);
        assert!(matches!(outcome(&events), Outcome::InvalidResponse(_)));
        assert!(out.is_empty(), "an error is never answered");
    }
}

#[test]
fn row_response_for_an_id_never_sent() {
    for v in ALL {
        let mut station = station_with_call(v);
        for input in [
            &br#"[3,"42",{"currentTime":"2024-01-01T00:00:00Z"}]"#[..],
            br#"[4,"42","GenericError","",{}]"#,
        ] {
            let (out, events) = feed(&mut station, input);
            assert!(out.is_empty());
            assert!(matches!(
                &events[..],
                [Event::ProtocolViolation(v)] if v.kind == ViolationKind::UnknownResponse
            ));
        }
        assert_eq!(station.in_flight(), 1);
    }
}

#[test]
fn row_response_for_a_settled_call() {
    for v in ALL {
        let mut station = station_with_call(v);
        let answer = br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#;
        let (_, events) = feed(&mut station, answer);
        assert!(matches!(outcome(&events), Outcome::Response(_)));
        let (out, events) = feed(&mut station, answer);
        assert!(out.is_empty());
        assert!(matches!(
            &events[..],
            [Event::ProtocolViolation(v)] if v.kind == ViolationKind::LateResponse
        ));
    }
}

#[test]
fn row_call_error_with_an_unknown_code() {
    for v in ALL {
        let mut station = station_with_call(v);
        let (out, events) = feed(
            &mut station,
            br#"[4,"1","Teapot","short and stout",{"a":1}]"#,
        );
        assert!(out.is_empty());
        match outcome(&events) {
            Outcome::CallError(e) => {
                assert_eq!(e.code, ErrorCode::GenericError);
                assert_eq!(e.description, "short and stout");
                assert_eq!(e.details.get("a"), Some(&json!(1)));
            }
            other => panic!("{other:?}"),
        }
        assert!(events.iter().any(|e| matches!(
            e,
            Event::ProtocolViolation(v) if v.kind == ViolationKind::UnknownErrorCode
        )));
    }
}

#[test]
fn row_call_error_in_either_spelling() {
    for v in ALL {
        for code in [
            "OccurenceConstraintViolation",
            "OccurrenceConstraintViolation",
        ] {
            let mut station = station_with_call(v);
            let input = format!("[4,\"1\",\"{code}\",\"\",{{}}]");
            let (_, events) = feed(&mut station, input.as_bytes());
            assert!(matches!(
                outcome(&events),
                Outcome::CallError(e) if e.code == ErrorCode::OccurrenceConstraintViolation
            ));
        }
    }
}

#[test]
fn row_call_result_error_is_reported() {
    let (out, events) = feed(&mut csms(V21), br#"[5,"9","FormatViolation","bad",{}]"#);
    assert!(out.is_empty());
    assert!(matches!(
        &events[..],
        [Event::ResponseRejected { message_id, error }]
            if message_id == "9" && error.code == ErrorCode::FormatViolation
    ));
}

#[test]
fn row_send_is_never_answered() {
    let good = br#"[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[{"t":1,"v":"2"}]}]"#;
    let (out, events) = feed(&mut csms(V21), good);
    assert!(out.is_empty());
    assert!(matches!(&events[..], [Event::IncomingSend(s)] if s.message_id == "s1"));
    for bad in [
        &br#"[6,"s1","NotifyPeriodicEventStream",{"id":"x"}]"#[..],
        br#"[6,"s1","Heartbeat",{}]"#,
        br#"[6,"s1","MakeCoffee",{}]"#,
        br#"[6,"s1","NotifyPeriodicEventStream"]"#,
        br#"[6,1,"NotifyPeriodicEventStream",{}]"#,
    ] {
        let (out, events) = feed(&mut csms(V21), bad);
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(bad));
        assert!(matches!(&events[..], [Event::ProtocolViolation(_)]));
    }
}

#[test]
fn valid_calls_of_every_version_decode_to_the_version_enum() {
    let (out, events) = feed(&mut csms(V16), &boot(V16, |_| {}));
    assert!(out.is_empty());
    let Event::IncomingCall(call) = &events[0] else {
        panic!()
    };
    assert!(
        call.request
            .message::<v16::BootNotificationRequest>()
            .is_some()
    );
    for v in [V201, V21] {
        let (out, events) = feed(&mut csms(v), &boot(v, |_| {}));
        assert!(out.is_empty());
        let Event::IncomingCall(call) = &events[0] else {
            panic!()
        };
        assert_eq!(call.request.action().as_str(), "BootNotification");
        assert_eq!(call.request.version(), v);
        assert_eq!(call.message_id, "b1");
    }
}
