//! The scripted charging session against the demo answers, over two in-memory sessions of the
//! sans-I/O core: every step is answered, every answer is schema-valid and accepted.

use ocpp_cli::answer::Answers;
use ocpp_cli::scenario::Charge;
use ocpp_rpc::{AnyRequest, Config, Event, Millis, Outcome, Role, Session};
use ocpp_types::OcppVersion;

fn run(version: OcppVersion) -> Vec<String> {
    let mut station = Session::new(Config::new(version, Role::ChargingStation));
    let mut csms = Session::new(Config::new(version, Role::Csms));
    let mut answers = Answers::new(7);
    let mut charge = Charge::new(version);
    let mut actions = Vec::new();
    while let Some(request) = charge.next_request() {
        let request = request.expect("every scripted request is schema-valid");
        actions.push(request.action().as_str().to_owned());
        station.call_any(&request, Millis(0)).expect("call");
        while let Some(frame) = station.poll_transmit() {
            csms.receive(&frame, Millis(0));
        }
        while let Some(event) = csms.poll_event() {
            let Event::IncomingCall(call) = event else {
                panic!("{event:?}")
            };
            match answers.answer(&call.request) {
                Ok(response) => csms.respond_any(call.id, &response).expect("respond"),
                Err(error) => panic!("{}: {error:?}", call.request.action()),
            }
        }
        while let Some(frame) = csms.poll_transmit() {
            station.receive(&frame, Millis(0));
        }
        match station.poll_event() {
            Some(Event::CallCompleted {
                outcome: Outcome::Response(response),
                ..
            }) => charge.check(&response).expect("the demo answers accept"),
            other => panic!("{other:?}"),
        }
    }
    actions
}

#[test]
fn a_whole_charge_in_every_version() {
    assert_eq!(
        run(OcppVersion::V16),
        [
            "BootNotification",
            "StatusNotification",
            "Heartbeat",
            "Authorize",
            "StartTransaction",
            "StatusNotification",
            "MeterValues",
            "StopTransaction",
            "StatusNotification"
        ]
    );
    for version in [OcppVersion::V201, OcppVersion::V21] {
        assert_eq!(
            run(version),
            [
                "BootNotification",
                "StatusNotification",
                "Heartbeat",
                "Authorize",
                "TransactionEvent",
                "StatusNotification",
                "TransactionEvent",
                "TransactionEvent",
                "StatusNotification"
            ]
        );
    }
}

/// The request `ocpp gen` writes for `action` with `seed`, decoded.
fn generated_request(version: OcppVersion, action: ocpp_types::AnyAction, seed: u64) -> AnyRequest {
    let options = ocpp_cli::generate::Options {
        version,
        action: Some(action),
        count: 1,
        seed,
        responses: false,
    };
    let mut frame = Vec::new();
    ocpp_cli::generate::run(&options, &mut frame).expect("gen");
    let frame: serde_json::Value = serde_json::from_slice(&frame).expect("JSON");
    AnyRequest::decode(action, &frame[3].to_string()).expect("a valid request")
}

#[test]
fn answers_every_action_a_station_sends_with_a_valid_response() {
    for version in OcppVersion::ALL {
        let mut answers = Answers::new(1);
        for action in ocpp_types::AnyAction::all(version) {
            if !action.has_response() {
                continue;
            }
            for seed in 0..20 {
                let request = generated_request(version, action, seed);
                let response = answers.answer(&request).expect("an answer");
                assert_eq!(response.action(), action);
                // What goes on the wire decodes again: the answer is schema-valid.
                let text = serde_json::to_string(&response).expect("encode");
                ocpp_rpc::AnyResponse::decode(action, &text).expect("schema-valid answer");
            }
        }
    }
}

#[test]
fn a_refused_registration_ends_the_scenario() {
    let mut charge = Charge::new(OcppVersion::V201);
    let _boot = charge.next_request();
    let refused = r#"{"currentTime":"2024-01-01T00:00:00Z","interval":300,"status":"Rejected"}"#;
    let action = ocpp_rpc::AnyAction::from_name(OcppVersion::V201, "BootNotification").unwrap();
    let response = ocpp_rpc::AnyResponse::decode(action, refused).unwrap();
    let error = charge.check(&response).unwrap_err();
    assert_eq!(error.action, "BootNotification");
    assert!(error.reason.contains("Rejected"), "{error}");
}

#[test]
fn answers_keep_the_rules_the_schemas_cannot_express() {
    use ocpp_types::conditions::{CONDITIONS, Subject, check_response};
    let mut checked = 0;
    let mut with_token = 0;
    for version in OcppVersion::ALL {
        let mut answers = Answers::new(3);
        for action in ocpp_types::AnyAction::all(version) {
            let ruled = CONDITIONS
                .iter()
                .any(|c| c.subject == Subject::Response && c.applies_to(version, action.as_str()));
            if !ruled {
                continue;
            }
            for seed in 0..100 {
                let request = generated_request(version, action, seed);
                let response = answers.answer(&request).expect("an answer");
                let response = serde_json::to_value(&response).expect("JSON");
                let asked = serde_json::to_value(&request).expect("JSON");
                let transaction = matches!(action.as_str(), "TransactionEvent" | "StopTransaction");
                if transaction && asked.get("idToken").or(asked.get("idTag")).is_some() {
                    with_token += 1;
                }
                let broken = check_response(version, action.as_str(), &asked, &response);
                assert!(broken.is_empty(), "{version} {asked}: {broken:?}");
                checked += 1;
            }
        }
    }
    // Authorize, TransactionEvent and GetVariables in 2.0.1 and 2.1, StopTransaction in 1.6.
    assert_eq!(checked, 7 * 100);
    assert!(
        with_token > 30,
        "requests that need idTokenInfo/idTagInfo: {with_token}"
    );
}
