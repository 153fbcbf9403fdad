//! The session state machine: calls, queueing, timeouts, answers, close, leniency, limits.

use ocpp_rpc::{
    AnyRequest, AnyResponse, CallFailure, CallId, Config, ErrorCode, Event, Fixes, IncomingCall,
    Leniency, LeniencyKind, MessageId, Millis, Outcome, RespondError, Role, Router, RpcError,
    Session, SubmitError, ViolationKind,
};
use ocpp_types::OcppVersion::{self, V16, V21, V201};
use ocpp_types::{v16, v21, v201};
use serde_json::{Value, json};

fn time() -> ocpp_types::DateTime {
    "2024-01-01T00:00:00Z".parse().unwrap()
}

fn station(v: OcppVersion) -> Session {
    Session::new(Config::new(v, Role::ChargingStation))
}

fn csms(v: OcppVersion) -> Session {
    Session::new(Config::new(v, Role::Csms))
}

fn frames(session: &mut Session) -> Vec<Value> {
    std::iter::from_fn(|| session.poll_transmit())
        .map(|f| serde_json::from_slice(&f).unwrap())
        .collect()
}

fn events(session: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

/// Moves every pending frame from `from` to `to`.
fn pump(from: &mut Session, to: &mut Session, now: Millis) -> usize {
    let mut n = 0;
    while let Some(frame) = from.poll_transmit() {
        to.receive(&frame, now);
        n += 1;
    }
    n
}

fn completed(events: &[Event]) -> Vec<(CallId, &Outcome)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::CallCompleted { call, outcome } => Some((*call, outcome)),
            _ => None,
        })
        .collect()
}

fn incoming(events: Vec<Event>) -> Vec<IncomingCall> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::IncomingCall(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn boot201() -> v201::BootNotificationRequest {
    v201::BootNotificationRequest::new(
        v201::ChargingStationType::new("Model".parse().unwrap(), "Vendor".parse().unwrap()),
        v201::BootReasonEnumType::PowerUp,
    )
}

#[test]
fn a_typed_round_trip_in_every_version() {
    let now = Millis(5);
    // 1.6
    let (mut cs, mut cp) = (station(V16), csms(V16));
    let call = cs.call(&v16::HeartbeatRequest::default(), now).unwrap();
    pump(&mut cs, &mut cp, now);
    let [c] = &incoming(events(&mut cp))[..] else {
        panic!()
    };
    assert!(c.request.message::<v16::HeartbeatRequest>().is_some());
    cp.respond(c.id, &v16::HeartbeatResponse::new(time()))
        .unwrap();
    pump(&mut cp, &mut cs, now);
    let ev = events(&mut cs);
    let [(id, outcome)] = &completed(&ev)[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(*id, call);
    let response = (*outcome)
        .clone()
        .into_response::<v16::HeartbeatRequest>()
        .unwrap();
    assert_eq!(response.current_time, time());
    // 2.0.1 and 2.1 with a richer message.
    let (mut cs, mut cp) = (station(V201), csms(V201));
    cs.call(&boot201(), now).unwrap();
    pump(&mut cs, &mut cp, now);
    let [c] = &incoming(events(&mut cp))[..] else {
        panic!()
    };
    let boot: v201::BootNotificationRequest = c.request.clone().into_message().unwrap();
    assert_eq!(boot, boot201());
    let answer = v201::BootNotificationResponse::new(
        time(),
        300,
        v201::RegistrationStatusEnumType::Accepted,
    );
    cp.respond(c.id, &answer).unwrap();
    pump(&mut cp, &mut cs, now);
    let ev = events(&mut cs);
    let [(_, outcome)] = &completed(&ev)[..] else {
        panic!()
    };
    assert_eq!(
        (*outcome)
            .clone()
            .into_response::<v201::BootNotificationRequest>()
            .unwrap(),
        answer
    );
    let (mut cs, mut cp) = (station(V21), csms(V21));
    cs.call(&v21::HeartbeatRequest::default(), now).unwrap();
    pump(&mut cs, &mut cp, now);
    let [c] = &incoming(events(&mut cp))[..] else {
        panic!()
    };
    cp.respond(c.id, &v21::HeartbeatResponse::new(time()))
        .unwrap();
    pump(&mut cp, &mut cs, now);
    assert!(matches!(
        completed(&events(&mut cs))[..],
        [(_, Outcome::Response(_))]
    ));
}

#[test]
fn calls_are_checked_before_they_leave() {
    let mut cs = station(V201);
    assert_eq!(
        cs.call(&v16::HeartbeatRequest::default(), Millis(0)),
        Err(SubmitError::WrongVersion {
            session: V201,
            message: V16
        })
    );
    // A station may not send Reset.
    let reset = v201::ResetRequest::new(v201::ResetEnumType::Immediate);
    assert_eq!(
        cs.call(&reset, Millis(0)),
        Err(SubmitError::NotAllowed {
            action: "Reset",
            role: Role::ChargingStation
        })
    );
    assert!(csms(V201).call(&reset, Millis(0)).is_ok());
    // DataTransfer goes both ways.
    let data = v201::DataTransferRequest::new("v".parse().unwrap());
    assert!(cs.call(&data, Millis(0)).is_ok());
    assert!(csms(V201).call(&data, Millis(0)).is_ok());
    // Nothing was written for the refused calls.
    assert_eq!(frames(&mut cs).len(), 1);
}

#[test]
fn one_call_in_flight_the_rest_queued_in_order() {
    let mut cs = station(V201);
    let mut cp = csms(V201);
    let ids: Vec<CallId> = (0..3)
        .map(|_| {
            cs.call(&v201::HeartbeatRequest::default(), Millis(0))
                .unwrap()
        })
        .collect();
    assert_eq!((cs.in_flight(), cs.queued()), (1, 2));
    let written = frames(&mut cs);
    assert_eq!(written.len(), 1, "only one CALL on the wire");
    cp.receive(
        serde_json::to_string(&written[0]).unwrap().as_bytes(),
        Millis(0),
    );
    let mut order = Vec::new();
    for step in 0..3 {
        let calls = incoming(events(&mut cp));
        assert_eq!(calls.len(), 1);
        cp.respond(calls[0].id, &v201::HeartbeatResponse::new(time()))
            .unwrap();
        pump(&mut cp, &mut cs, Millis(step));
        for (id, outcome) in completed(&events(&mut cs)) {
            assert!(matches!(outcome, Outcome::Response(_)));
            order.push(id);
        }
        assert!(cs.in_flight() <= 1);
        pump(&mut cs, &mut cp, Millis(step));
    }
    assert_eq!(order, ids);
    assert_eq!((cs.in_flight(), cs.queued()), (0, 0));
}

#[test]
fn the_queue_is_bounded() {
    let mut config = Config::new(V201, Role::ChargingStation);
    config.max_queued = 2;
    let mut cs = Session::new(config);
    for _ in 0..3 {
        cs.call(&v201::HeartbeatRequest::default(), Millis(0))
            .unwrap();
    }
    assert_eq!(
        cs.call(&v201::HeartbeatRequest::default(), Millis(0)),
        Err(SubmitError::QueueFull)
    );
}

#[test]
fn more_in_flight_for_16_peers_that_allow_it() {
    let mut config = Config::new(V16, Role::ChargingStation);
    config.max_in_flight = 3;
    let mut cs = Session::new(config);
    for _ in 0..5 {
        cs.call(&v16::HeartbeatRequest::default(), Millis(0))
            .unwrap();
    }
    assert_eq!((cs.in_flight(), cs.queued()), (3, 2));
    assert_eq!(frames(&mut cs).len(), 3);
    // Answers out of order are matched by id.
    cs.receive(
        br#"[3,"2",{"currentTime":"2024-01-01T00:00:00Z"}]"#,
        Millis(1),
    );
    let ev = events(&mut cs);
    assert_eq!(completed(&ev)[0].0, CallId(1));
    assert_eq!(frames(&mut cs), vec![json!([2, "4", "Heartbeat", {}])]);
}

#[test]
fn timeouts_come_from_the_injected_clock() {
    let mut config = Config::new(V201, Role::ChargingStation);
    config.call_timeout_ms = 1_000;
    let mut cs = Session::new(config);
    let first = cs
        .call(&v201::HeartbeatRequest::default(), Millis(100))
        .unwrap();
    let second = cs
        .call(&v201::HeartbeatRequest::default(), Millis(200))
        .unwrap();
    assert_eq!(cs.poll_timeout(), Some(Millis(1_100)));
    cs.handle_timeout(Millis(1_099));
    assert!(events(&mut cs).is_empty());
    cs.handle_timeout(Millis(1_100));
    let ev = events(&mut cs);
    assert_eq!(completed(&ev), vec![(first, &Outcome::Timeout)]);
    // The queued call went out when the first timed out, with its own full timeout.
    assert_eq!(frames(&mut cs).len(), 2);
    assert_eq!(cs.poll_timeout(), Some(Millis(2_100)));
    // A late answer to the first is reported, not matched to the second.
    cs.receive(
        br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#,
        Millis(1_200),
    );
    let ev = events(&mut cs);
    assert!(matches!(
        &ev[..],
        [Event::ProtocolViolation(v)] if v.kind == ViolationKind::LateResponse
    ));
    cs.handle_timeout(Millis(5_000));
    assert_eq!(
        completed(&events(&mut cs)),
        vec![(second, &Outcome::Timeout)]
    );
    assert_eq!(cs.poll_timeout(), None);
}

#[test]
fn call_errors_reach_the_caller_typed() {
    for v in [V16, V201, V21] {
        let mut cs = station(v);
        let call = match v {
            V16 => cs.call(&v16::HeartbeatRequest::default(), Millis(0)),
            V201 => cs.call(&v201::HeartbeatRequest::default(), Millis(0)),
            V21 => cs.call(&v21::HeartbeatRequest::default(), Millis(0)),
        }
        .unwrap();
        cs.receive(
            br#"[4,"1","NotSupported","no heartbeats here",{"why":"policy"}]"#,
            Millis(0),
        );
        let ev = events(&mut cs);
        let [(id, Outcome::CallError(e))] = &completed(&ev)[..] else {
            panic!("{ev:?}")
        };
        assert_eq!(*id, call);
        assert_eq!(e.code, ErrorCode::NotSupported);
        assert_eq!(e.description, "no heartbeats here");
        assert_eq!(e.details["why"], "policy");
    }
    let failure = Outcome::CallError(RpcError::new(ErrorCode::SecurityError, "x"))
        .into_response::<v201::HeartbeatRequest>()
        .unwrap_err();
    assert!(matches!(failure, CallFailure::CallError(_)));
    assert!(matches!(
        Outcome::Timeout.into_response::<v201::HeartbeatRequest>(),
        Err(CallFailure::Timeout)
    ));
}

#[test]
fn duplicate_answers_settle_a_call_once() {
    let mut cs = station(V201);
    cs.call(&v201::HeartbeatRequest::default(), Millis(0))
        .unwrap();
    let answer = br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#;
    cs.receive(answer, Millis(0));
    cs.receive(answer, Millis(0));
    cs.receive(br#"[4,"1","GenericError","",{}]"#, Millis(0));
    let ev = events(&mut cs);
    assert_eq!(completed(&ev).len(), 1);
    let late = ev
        .iter()
        .filter(
            |e| matches!(e, Event::ProtocolViolation(v) if v.kind == ViolationKind::LateResponse),
        )
        .count();
    assert_eq!(late, 2);
}

#[test]
fn an_invalid_response_is_reported_as_such() {
    for v in [V201, V21] {
        let mut cs = station(v);
        if v == V201 {
            cs.call(&boot201(), Millis(0)).unwrap();
        } else {
            let boot = v21::BootNotificationRequest::new(
                v21::ChargingStationType::new("M".parse().unwrap(), "V".parse().unwrap()),
                v21::BootReasonEnumType::PowerUp,
            );
            cs.call(&boot, Millis(0)).unwrap();
        }
        frames(&mut cs);
        cs.receive(
            br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z","interval":300}]"#,
            Millis(0),
        );
        let ev = events(&mut cs);
        let [(_, Outcome::InvalidResponse(e))] = &completed(&ev)[..] else {
            panic!()
        };
        assert_eq!(e.pointer(), "/status");
        let out = frames(&mut cs);
        if v == V21 {
            assert_eq!(out[0][0], 5);
            assert_eq!(out[0][2], "OccurrenceConstraintViolation");
        } else {
            assert!(out.is_empty());
        }
    }
}

#[test]
fn incoming_calls_are_not_blocked_by_our_outstanding_call() {
    let (mut cs, mut cp) = (station(V201), csms(V201));
    // Both sides call at the same time.
    cs.call(&v201::HeartbeatRequest::default(), Millis(0))
        .unwrap();
    let reset = v201::ResetRequest::new(v201::ResetEnumType::OnIdle);
    cp.call(&reset, Millis(0)).unwrap();
    pump(&mut cs, &mut cp, Millis(0));
    pump(&mut cp, &mut cs, Millis(0));
    // Each answers the other's call while its own is outstanding.
    let [c] = &incoming(events(&mut cs))[..] else {
        panic!()
    };
    cs.respond(
        c.id,
        &v201::ResetResponse::new(v201::ResetStatusEnumType::Scheduled),
    )
    .unwrap();
    let [c] = &incoming(events(&mut cp))[..] else {
        panic!()
    };
    cp.respond(c.id, &v201::HeartbeatResponse::new(time()))
        .unwrap();
    pump(&mut cs, &mut cp, Millis(0));
    pump(&mut cp, &mut cs, Millis(0));
    assert!(matches!(
        completed(&events(&mut cs))[..],
        [(_, Outcome::Response(_))]
    ));
    assert!(matches!(
        completed(&events(&mut cp))[..],
        [(_, Outcome::Response(_))]
    ));
}

#[test]
fn a_response_to_another_action_becomes_internal_error() {
    let mut cp = csms(V201);
    cp.receive(br#"[2,"h","Heartbeat",{}]"#, Millis(0));
    let [c] = &incoming(events(&mut cp))[..] else {
        panic!()
    };
    let wrong = v201::ClearCacheResponse::new(v201::ClearCacheStatusEnumType::Accepted);
    assert_eq!(
        cp.respond(c.id, &wrong),
        Err(RespondError::WrongResponse {
            expected: "Heartbeat",
            got: "ClearCache"
        })
    );
    let out = frames(&mut cp);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0][0], 4);
    assert_eq!(out[0][1], "h");
    assert_eq!(out[0][2], "InternalError");
    // Answered exactly once.
    assert_eq!(
        cp.respond(c.id, &v201::HeartbeatResponse::new(time())),
        Err(RespondError::UnknownCall(c.id))
    );
    // A response of another version is refused the same way.
    cp.receive(br#"[2,"h2","Heartbeat",{}]"#, Millis(0));
    let [c] = &incoming(events(&mut cp))[..] else {
        panic!()
    };
    assert!(matches!(
        cp.respond(c.id, &v16::HeartbeatResponse::new(time())),
        Err(RespondError::WrongResponse { .. })
    ));
    assert_eq!(frames(&mut cp)[0][2], "InternalError");
}

#[test]
fn a_response_that_breaks_its_schema_becomes_internal_error() {
    // 2.0.1 GetVariablesResponse needs at least one result: an empty list does not serialize.
    let mut cs = station(V201);
    cs.receive(
        br#"[2,"g","GetVariables",{"getVariableData":[{"component":{"name":"C"},"variable":{"name":"V"}}]}]"#,
        Millis(0),
    );
    let [c] = &incoming(events(&mut cs))[..] else {
        panic!()
    };
    let invalid = v201::GetVariablesResponse::new(Vec::new());
    assert!(matches!(
        cs.respond(c.id, &invalid),
        Err(RespondError::Invalid(_))
    ));
    let out = frames(&mut cs);
    assert_eq!(out, vec![json!([4, "g", "InternalError", out[0][3], {}])]);
}

#[test]
fn respond_error_and_any() {
    let mut cp = csms(V16);
    cp.receive(br#"[2,"a","Heartbeat",{}]"#, Millis(0));
    cp.receive(br#"[2,"b","Heartbeat",{}]"#, Millis(0));
    let calls = incoming(events(&mut cp));
    let mut details = serde_json::Map::new();
    details.insert("retry".into(), json!(true));
    cp.respond_error(
        calls[0].id,
        &RpcError::new(ErrorCode::FormatViolation, "nope").with_details(details),
    )
    .unwrap();
    let response = AnyResponse::from_message(v16::HeartbeatResponse::new(time()));
    cp.respond_any(calls[1].id, &response).unwrap();
    assert_eq!(
        frames(&mut cp),
        vec![
            json!([4, "a", "FormationViolation", "nope", {"retry": true}]),
            json!([3, "b", {"currentTime": "2024-01-01T00:00:00Z"}]),
        ]
    );
}

#[test]
fn close_ends_every_call_exactly_once() {
    let mut cs = station(V201);
    let calls: Vec<CallId> = (0..3)
        .map(|_| {
            cs.call(&v201::HeartbeatRequest::default(), Millis(0))
                .unwrap()
        })
        .collect();
    cs.receive(br#"[2,"x","GetLocalListVersion",{}]"#, Millis(0));
    let pending = incoming(events(&mut cs));
    cs.close();
    cs.close();
    let ev = events(&mut cs);
    let ended: Vec<_> = completed(&ev);
    assert_eq!(ended.len(), 3);
    for (call, (id, outcome)) in calls.iter().zip(ended) {
        assert_eq!(*call, id);
        assert_eq!(*outcome, Outcome::Closed);
    }
    assert!(cs.poll_transmit().is_none());
    assert_eq!(
        cs.call(&v201::HeartbeatRequest::default(), Millis(0)),
        Err(SubmitError::Closed)
    );
    assert_eq!(
        cs.respond(pending[0].id, &v201::GetLocalListVersionResponse::new(1)),
        Err(RespondError::Closed)
    );
    cs.receive(
        br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#,
        Millis(0),
    );
    cs.handle_timeout(Millis(u64::MAX));
    assert!(events(&mut cs).is_empty());
}

#[test]
fn bad_messages_in_a_row_ask_to_close() {
    let mut config = Config::new(V201, Role::Csms);
    config.max_bad_messages = 3;
    let mut cp = Session::new(config);
    cp.receive(b"garbage", Millis(0));
    cp.receive(b"garbage", Millis(0));
    // A good message resets the count.
    cp.receive(br#"[2,"1","Heartbeat",{}]"#, Millis(0));
    cp.receive(b"garbage", Millis(0));
    cp.receive(br#"[2,"2","Heartbeat",{"x":1}]"#, Millis(0));
    assert!(!cp.wants_close());
    // Empty frames do not count either way.
    cp.receive(b"", Millis(0));
    cp.receive(br#"[3,"nope",{}]"#, Millis(0));
    assert!(cp.wants_close());
    let ev = events(&mut cp);
    assert_eq!(
        ev.iter()
            .filter(|e| **e == Event::TooManyBadMessages)
            .count(),
        1
    );
    // Unknown actions are legitimate traffic, not bad messages.
    let mut config = Config::new(V201, Role::Csms);
    config.max_bad_messages = 2;
    let mut cp = Session::new(config);
    for _ in 0..5 {
        cp.receive(br#"[2,"1","VendorThing",{}]"#, Millis(0));
    }
    assert!(!cp.wants_close());
    // 0 disables the limit.
    let mut config = Config::new(V201, Role::Csms);
    config.max_bad_messages = 0;
    let mut cp = Session::new(config);
    for _ in 0..100 {
        cp.receive(b"[", Millis(0));
    }
    assert!(!cp.wants_close());
}

fn lenient(v: OcppVersion, fixes: Fixes) -> Session {
    let mut config = Config::new(v, Role::Csms);
    config.leniency = Leniency::strict().action("BootNotification", fixes);
    Session::new(config)
}

fn leniencies(events: &[Event]) -> Vec<(String, LeniencyKind)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Leniency(l) => Some((l.pointer.clone(), l.kind)),
            _ => None,
        })
        .collect()
}

const MESSY_BOOT: &[u8] = br#"[2,"b","BootNotification",{"reason":"PowerUp","vendorExtra":{"a":1},"chargingStation":{"model":"M","vendorName":"V","serialNumber":"0123456789012345678901234567890","modem":null}}]"#;

#[test]
fn leniency_is_off_by_default() {
    let mut cp = csms(V201);
    cp.receive(MESSY_BOOT, Millis(0));
    assert_eq!(frames(&mut cp)[0][2], "FormatViolation");
    assert!(leniencies(&events(&mut cp)).is_empty());
}

#[test]
fn leniency_fixes_are_applied_and_reported() {
    let mut cp = lenient(V201, Fixes::ALL);
    cp.receive(MESSY_BOOT, Millis(0));
    assert!(frames(&mut cp).is_empty());
    let ev = events(&mut cp);
    let mut fixes = leniencies(&ev);
    fixes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        fixes,
        vec![
            ("/chargingStation/modem".into(), LeniencyKind::DroppedNull),
            (
                "/chargingStation/serialNumber".into(),
                LeniencyKind::TruncatedString { max: 25 }
            ),
            ("/vendorExtra".into(), LeniencyKind::DroppedUnknownField),
        ]
    );
    let [c] = &incoming(ev)[..] else { panic!() };
    let boot: &v201::BootNotificationRequest = c.request.message().unwrap();
    assert_eq!(
        boot.charging_station.serial_number.as_deref(),
        Some("0123456789012345678901234")
    );
    assert_eq!(boot.charging_station.modem, None);
}

#[test]
fn each_leniency_is_separate_and_per_action() {
    // Only unknown fields: the null and the long string are still refused.
    let only = Fixes {
        drop_unknown_fields: true,
        ..Fixes::NONE
    };
    let mut cp = lenient(V201, only);
    cp.receive(MESSY_BOOT, Millis(0));
    let out = frames(&mut cp);
    assert_eq!(out[0][0], 4);
    assert!(
        leniencies(&events(&mut cp)).is_empty(),
        "no fix reported for a refused message"
    );
    // Only for BootNotification: a Heartbeat with an extra field is refused.
    let mut cp = lenient(V201, Fixes::ALL);
    cp.receive(br#"[2,"h","Heartbeat",{"extra":1}]"#, Millis(0));
    assert_eq!(frames(&mut cp)[0][2], "FormatViolation");
    // Null for a required field stays a type error, even when nulls are dropped.
    let mut cp = lenient(V201, Fixes::ALL);
    cp.receive(
        br#"[2,"b","BootNotification",{"reason":null,"chargingStation":{"model":"M","vendorName":"V"}}]"#,
        Millis(0),
    );
    assert_eq!(frames(&mut cp)[0][2], "TypeConstraintViolation");
    // 1.6: the same fixes with 1.6 spellings.
    let mut cp = lenient(V16, Fixes::ALL);
    cp.receive(
        br#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M","chargePointSerialNumber":"0123456789012345678901234567890","iccid":null,"x":1}]"#,
        Millis(0),
    );
    assert!(frames(&mut cp).is_empty());
    assert_eq!(leniencies(&events(&mut cp)).len(), 3);
}

#[test]
fn request_suffix_leniency() {
    let input =
        br#"[2,"a","BootNotificationRequest",{"chargePointVendor":"V","chargePointModel":"M"}]"#;
    let mut strict = csms(V16);
    strict.receive(input, Millis(0));
    assert_eq!(frames(&mut strict)[0][2], "NotImplemented");
    let mut cp = lenient(
        V16,
        Fixes {
            strip_request_suffix: true,
            ..Fixes::NONE
        },
    );
    cp.receive(input, Millis(0));
    assert!(frames(&mut cp).is_empty());
    let ev = events(&mut cp);
    assert_eq!(
        leniencies(&ev),
        vec![(String::new(), LeniencyKind::StrippedRequestSuffix)]
    );
    assert_eq!(
        incoming(ev)[0].request.action().as_str(),
        "BootNotification"
    );
}

#[test]
fn leniency_applies_to_responses_too() {
    let mut config = Config::new(V201, Role::ChargingStation);
    config.leniency = Leniency::all_actions(Fixes::ALL);
    let mut cs = Session::new(config);
    cs.call(&v201::HeartbeatRequest::default(), Millis(0))
        .unwrap();
    cs.receive(
        br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z","serverName":"x"}]"#,
        Millis(0),
    );
    let ev = events(&mut cs);
    assert_eq!(
        leniencies(&ev),
        vec![("/serverName".into(), LeniencyKind::DroppedUnknownField)]
    );
    assert!(matches!(completed(&ev)[..], [(_, Outcome::Response(_))]));
}

#[test]
fn send_is_not_queued_behind_calls() {
    let mut cs = station(V21);
    cs.call(&v21::HeartbeatRequest::default(), Millis(0))
        .unwrap();
    cs.call(&v21::HeartbeatRequest::default(), Millis(0))
        .unwrap();
    let stream = v21::NotifyPeriodicEventStream::new(
        vec![v21::StreamDataElementType::new(1.0, "2".parse().unwrap())],
        1,
        0,
        time(),
    );
    let id = cs.send(&stream).unwrap();
    let out = frames(&mut cs);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1][0], 6);
    assert_eq!(out[1][1], id.as_str());
    assert_eq!(out[1][2], "NotifyPeriodicEventStream");
    let mut cp = csms(V21);
    cp.receive(
        serde_json::to_string(&out[1]).unwrap().as_bytes(),
        Millis(0),
    );
    assert!(frames(&mut cp).is_empty(), "a SEND gets no answer");
    assert!(matches!(&events(&mut cp)[..], [Event::IncomingSend(_)]));
    // A CSMS may not send it.
    assert!(matches!(
        csms(V21).send(&stream),
        Err(SubmitError::NotAllowed { .. })
    ));
}

#[test]
fn send_any_takes_send_messages_only() {
    let stream = v21::NotifyPeriodicEventStream::new(
        vec![v21::StreamDataElementType::new(1.0, "2".parse().unwrap())],
        1,
        0,
        time(),
    );
    let mut cs = station(V21);
    let id = cs.send_any(&AnyRequest::from_message(stream)).unwrap();
    let out = frames(&mut cs);
    assert_eq!(
        (out[0][0].as_u64(), out[0][1].as_str()),
        (Some(6), Some(id.as_str()))
    );
    let heartbeat = AnyRequest::from_message(v21::HeartbeatRequest::default());
    assert_eq!(
        cs.send_any(&heartbeat),
        Err(SubmitError::WrongMessageType("Heartbeat"))
    );
    let other_version = AnyRequest::from_message(v201::HeartbeatRequest::default());
    assert!(matches!(
        cs.send_any(&other_version),
        Err(SubmitError::WrongVersion { .. })
    ));
    assert!(
        frames(&mut cs).is_empty(),
        "nothing refused reaches the wire"
    );
}

#[test]
fn message_ids_are_unique_and_pluggable() {
    // A generator that repeats itself: ids in use are skipped.
    let mut n = 0u64;
    let ids = move || {
        n += 1;
        MessageId::from_u64(n / 2)
    };
    let mut config = Config::new(V16, Role::ChargingStation);
    config.max_in_flight = 10;
    let mut cs = Session::with_id_generator(config, ids);
    for _ in 0..5 {
        cs.call(&v16::HeartbeatRequest::default(), Millis(0))
            .unwrap();
    }
    let out: Vec<Value> = std::iter::from_fn(|| cs.poll_transmit())
        .map(|f| serde_json::from_slice(&f).unwrap())
        .collect();
    let mut seen: Vec<&str> = out.iter().map(|f| f[1].as_str().unwrap()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    // A generator stuck on one id gives up rather than loop.
    let mut cs = Session::with_id_generator(Config::new(V16, Role::ChargingStation), || {
        MessageId::new("same").unwrap()
    });
    cs.call(&v16::HeartbeatRequest::default(), Millis(0))
        .unwrap();
    assert_eq!(
        cs.call(&v16::HeartbeatRequest::default(), Millis(0)),
        Err(SubmitError::IdCollision)
    );
}

#[test]
fn router_dispatches_by_type() {
    let mut router = Router::new();
    router.on(|boot: v201::BootNotificationRequest| {
        if boot.charging_station.vendor_name.as_str() == "Evil" {
            return Err(RpcError::new(ErrorCode::SecurityError, "go away"));
        }
        Ok(v201::BootNotificationResponse::new(
            "2024-01-01T00:00:00Z".parse().unwrap(),
            60,
            v201::RegistrationStatusEnumType::Accepted,
        ))
    });
    router.on(|_: v201::HeartbeatRequest| Ok(v201::HeartbeatResponse::new(time())));
    assert!(router.handles(V201, "Heartbeat"));
    let mut cp = csms(V201);
    cp.receive(br#"[2,"1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]"#, Millis(0));
    cp.receive(br#"[2,"2","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"Evil"}}]"#, Millis(0));
    cp.receive(br#"[2,"3","StatusNotification",{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}]"#, Millis(0));
    cp.receive(br#"[2,"4","Heartbeat",{}]"#, Millis(0));
    for call in incoming(events(&mut cp)) {
        router.handle(&mut cp, call).unwrap();
    }
    let out = frames(&mut cp);
    assert_eq!(
        out[0],
        json!([3, "1", {"currentTime": "2024-01-01T00:00:00Z", "interval": 60, "status": "Accepted"}])
    );
    assert_eq!(out[1][2], "SecurityError");
    assert_eq!(out[2][2], "NotSupported");
    assert_eq!(out[3][0], 3);
    // dispatch works without a session, on any version.
    let request = AnyRequest::from_message(v16::HeartbeatRequest::default());
    assert_eq!(
        router.dispatch(request).unwrap_err().code,
        ErrorCode::NotSupported
    );
}

#[test]
fn any_conversions() {
    let boot = boot201();
    let any = AnyRequest::from_message(boot.clone());
    assert_eq!(any.action().as_str(), "BootNotification");
    assert_eq!(any.message::<v201::BootNotificationRequest>(), Some(&boot));
    assert!(any.message::<v21::BootNotificationRequest>().is_none());
    let any = any.into_message::<v201::HeartbeatRequest>().unwrap_err();
    assert_eq!(
        serde_json::to_value(&any).unwrap(),
        serde_json::to_value(&boot).unwrap()
    );
    // Only messages convert (`AnyRequest::from_message(42u8)` does not compile).
    let send = v21::NotifyPeriodicEventStream::new(
        vec![v21::StreamDataElementType::new(1.0, "2".parse().unwrap())],
        1,
        0,
        time(),
    );
    let any = AnyRequest::from_message(send);
    assert!(!any.action().has_response());
}

#[test]
fn call_any_and_version_enums() {
    let mut cs = station(V201);
    let request = AnyRequest::from(v201::Request::from(v201::HeartbeatRequest::default()));
    cs.call_any(&request, Millis(0)).unwrap();
    cs.receive(
        br#"[3,"1",{"currentTime":"2024-01-01T00:00:00Z"}]"#,
        Millis(0),
    );
    let ev = events(&mut cs);
    let [(_, Outcome::Response(r))] = &completed(&ev)[..] else {
        panic!()
    };
    assert!(matches!(
        r,
        AnyResponse::V201(b) if matches!(**b, v201::Response::Heartbeat(_))
    ));
    let wrong = AnyRequest::from(v16::Request::from(v16::HeartbeatRequest::default()));
    assert!(matches!(
        cs.call_any(&wrong, Millis(0)),
        Err(SubmitError::WrongVersion { .. })
    ));
}

#[test]
fn counter_ids_are_decimal() {
    for n in [0u64, 9, 10, 12345, 99_999, u64::MAX] {
        assert_eq!(MessageId::from_u64(n).as_str(), n.to_string());
    }
    let long = MessageId::new(&"é".repeat(36)).unwrap();
    assert_eq!(long.as_str().chars().count(), 36);
    assert_eq!(long, MessageId::new(&"é".repeat(36)).unwrap());
    assert!(MessageId::new(&"é".repeat(37)).is_none());
}

#[test]
fn actions_outside_the_handled_list_are_refused_without_decoding() {
    use ocpp_rpc::AnyAction;
    static HANDLED: [AnyAction; 1] = [AnyAction::V201(ocpp_types::v201::Action::Reset)];
    let mut config = Config::new(V201, Role::ChargingStation);
    config.handled = Some(&HANDLED);
    let mut station = Session::new(config);
    // A payload that would not even decode: refused as unsupported, not as invalid.
    station.receive(br#"[2,"1","GetLog",{"broken":true}]"#, Millis(0));
    station.receive(br#"[2,"2","Reset",{"type":"Immediate"}]"#, Millis(0));
    let out = frames(&mut station);
    assert_eq!(out[0][2], "NotSupported");
    let events = events(&mut station);
    assert!(events.iter().any(|e| matches!(e,
        Event::ProtocolViolation(v) if v.kind == ViolationKind::UnsupportedAction)));
    assert_eq!(incoming(events).len(), 1, "Reset is handled and decoded");
}

#[test]
fn call_json_writes_the_payload_as_it_is() {
    use ocpp_rpc::AnyAction;
    let mut station = station(V201);
    let payload =
        serde_json::value::RawValue::from_string(r#"{"reason":"PowerUp"}"#.into()).unwrap();
    let action = AnyAction::from_name(V201, "Heartbeat").unwrap();
    station.call_json(action, &payload, Millis(0)).unwrap();
    assert_eq!(
        frames(&mut station)[0],
        json!([2, "1", "Heartbeat", {"reason": "PowerUp"}])
    );
    let v16 = AnyAction::from_name(V16, "Heartbeat").unwrap();
    assert!(matches!(
        station.call_json(v16, &payload, Millis(0)),
        Err(SubmitError::WrongVersion { .. })
    ));
}

#[test]
fn respond_json_writes_the_answer_as_it_is() {
    let mut station = station(V201);
    station.receive(br#"[2,"7","Reset",{"type":"Immediate"}]"#, Millis(0));
    let call = incoming(events(&mut station)).remove(0);
    let payload =
        serde_json::value::RawValue::from_string(r#"{"status":"Accepted"}"#.into()).unwrap();
    station.respond_json(call.id, &payload).unwrap();
    assert_eq!(
        frames(&mut station)[0],
        json!([3, "7", {"status": "Accepted"}])
    );
    assert!(matches!(
        station.respond_json(call.id, &payload),
        Err(RespondError::UnknownCall(_))
    ));
}
