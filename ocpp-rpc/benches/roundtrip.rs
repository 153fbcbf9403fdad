//! CALL + CALLRESULT round trips between two sessions in memory, and the cost of parsing a
//! frame against `serde_json::from_slice::<IgnoredAny>` of the same bytes.
//!
//! `cargo bench -p ocpp-rs-rpc --bench roundtrip`; criterion prints the time per round trip and,
//! as throughput, round trips (elements) per second.
#![allow(
    missing_docs,
    reason = "criterion_group! writes an undocumented pub fn"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ocpp_rpc::{Config, Event, Frame, Millis, Role, Session};
use ocpp_types::OcppVersion;
use ocpp_types::v201;
use serde::de::IgnoredAny;

fn pair() -> (Session, Session) {
    (
        Session::new(Config::new(OcppVersion::V201, Role::ChargingStation)),
        Session::new(Config::new(OcppVersion::V201, Role::Csms)),
    )
}

/// One full round trip: the station calls, the CSMS decodes the request and answers with
/// `respond`, the station decodes the typed response.
fn round_trip<R: ocpp_types::Request>(
    station: &mut Session,
    csms: &mut Session,
    request: &R,
    response: &R::Response,
) -> R::Response {
    let now = Millis(0);
    station.call(request, now).unwrap();
    while let Some(frame) = station.poll_transmit() {
        csms.receive(&frame, now);
    }
    while let Some(event) = csms.poll_event() {
        if let Event::IncomingCall(call) = event {
            black_box(&call.request);
            csms.respond(call.id, response).unwrap();
        }
    }
    while let Some(frame) = csms.poll_transmit() {
        station.receive(&frame, now);
    }
    match station.poll_event() {
        Some(Event::CallCompleted { outcome, .. }) => outcome.into_response::<R>().unwrap(),
        other => panic!("{other:?}"),
    }
}

fn transaction_event() -> v201::TransactionEventRequest {
    let json = r#"{
        "eventType": "Updated",
        "timestamp": "2024-05-01T12:00:00.000Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 12,
        "transactionInfo": {"transactionId": "f2b0a9c6-1d6e-4c1b-9a51-5b1f1c7d0e3a", "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [{
            "timestamp": "2024-05-01T12:00:00.000Z",
            "sampledValue": [
                {"value": 12345.6, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
                {"value": 7200.0, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
                {"value": 16.1, "measurand": "Current.Import", "phase": "L1"},
                {"value": 16.0, "measurand": "Current.Import", "phase": "L2"},
                {"value": 15.9, "measurand": "Current.Import", "phase": "L3"},
                {"value": 230.4, "measurand": "Voltage", "phase": "L1-N"},
                {"value": 61.0, "measurand": "SoC", "context": "Sample.Periodic"}
            ]
        }]
    }"#;
    ocpp_types::from_str(json).unwrap()
}

fn bench_round_trips(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");
    group.throughput(Throughput::Elements(1));

    let (mut station, mut csms) = pair();
    let heartbeat = v201::HeartbeatRequest::default();
    let now: ocpp_types::DateTime = "2024-05-01T12:00:00Z".parse().unwrap();
    let answer = v201::HeartbeatResponse::new(now);
    group.bench_function("heartbeat_v201", |b| {
        b.iter(|| black_box(round_trip(&mut station, &mut csms, &heartbeat, &answer)))
    });

    let (mut station, mut csms) = pair();
    let event = transaction_event();
    let answer = v201::TransactionEventResponse::default();
    group.bench_function("transaction_event_v201", |b| {
        b.iter(|| black_box(round_trip(&mut station, &mut csms, &event, &answer)))
    });
    group.finish();
}

fn bench_parse(c: &mut Criterion) {
    let heartbeat = br#"[2,"19223201","Heartbeat",{}]"#.to_vec();
    let event =
        ocpp_rpc::frame::encode_call("19223201", "TransactionEvent", &transaction_event()).unwrap();
    let mut group = c.benchmark_group("frame");
    for (name, frame) in [("heartbeat", &heartbeat), ("transaction_event", &event)] {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        group.bench_function(format!("{name}/parse"), |b| {
            b.iter(|| black_box(Frame::parse(black_box(frame), OcppVersion::V201).is_ok()))
        });
        group.bench_function(format!("{name}/ignored_any"), |b| {
            b.iter(|| black_box(serde_json::from_slice::<IgnoredAny>(black_box(frame)).is_ok()))
        });
        // Parse plus the typed decode of the payload, for scale.
        group.bench_function(format!("{name}/parse_and_decode"), |b| {
            b.iter(|| {
                let Ok(Frame::Call {
                    action, payload, ..
                }) = Frame::parse(black_box(frame), OcppVersion::V201)
                else {
                    unreachable!()
                };
                black_box(v201::Request::decode(&action, payload.get()).is_ok())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_round_trips, bench_parse);
criterion_main!(benches);
