//! The demo CSMS's answers: schema-valid for every action a station sends, keeping the rules
//! the schemas cannot express, and one transaction id per 1.6 transaction.

use ocpp_cli::answer::Answers;
use ocpp_rpc::AnyRequest;
use ocpp_types::OcppVersion;

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
fn a_start_transaction_sent_again_gets_the_same_transaction_id() {
    let action = ocpp_rpc::AnyAction::from_name(OcppVersion::V16, "StartTransaction").unwrap();
    let start = |meter: u32| {
        let payload = format!(
            r#"{{"connectorId":1,"idTag":"T1","meterStart":{meter},"timestamp":"2025-01-01T00:00:00Z"}}"#
        );
        AnyRequest::decode(action, &payload).unwrap()
    };
    let id = |response: ocpp_rpc::AnyResponse| {
        serde_json::to_value(&response).unwrap()["transactionId"]
            .as_i64()
            .unwrap()
    };
    let mut answers = Answers::new(1);
    let first = id(answers.answer_for("CS1", &start(100)).unwrap());
    // The same transaction, sent again after a lost answer: the same id.
    assert_eq!(id(answers.answer_for("CS1", &start(100)).unwrap()), first);
    // Another transaction, or the same payload from another station: a new id each.
    let second = id(answers.answer_for("CS1", &start(200)).unwrap());
    let third = id(answers.answer_for("CS2", &start(100)).unwrap());
    assert!(first != second && second != third && first != third);
    // Only so many are remembered.
    for n in 0..ocpp_cli::answer::REMEMBERED_STARTS as u32 {
        answers.answer_for("CS3", &start(1000 + n)).unwrap();
    }
    assert_ne!(id(answers.answer_for("CS1", &start(100)).unwrap()), first);
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

#[test]
fn with_an_accept_list_other_tokens_are_invalid_in_every_message_that_decides() {
    let status = |version, action: &str, payload: &str, field: &str| {
        let action = ocpp_rpc::AnyAction::from_name(version, action).unwrap();
        let request = AnyRequest::decode(action, payload).unwrap();
        let mut answers = Answers::new(1).accepting(vec!["GOOD".to_owned()]);
        let response = serde_json::to_value(answers.answer(&request).unwrap()).unwrap();
        response[field]["status"].as_str().unwrap().to_owned()
    };
    let v16 = OcppVersion::V16;
    assert_eq!(
        status(v16, "Authorize", r#"{"idTag":"GOOD"}"#, "idTagInfo"),
        "Accepted"
    );
    assert_eq!(
        status(v16, "Authorize", r#"{"idTag":"BAD"}"#, "idTagInfo"),
        "Invalid"
    );
    let start =
        r#"{"connectorId":1,"idTag":"BAD","meterStart":0,"timestamp":"2025-01-01T00:00:00Z"}"#;
    assert_eq!(
        status(v16, "StartTransaction", start, "idTagInfo"),
        "Invalid"
    );
    let token = |t: &str| format!(r#"{{"idToken":{{"idToken":"{t}","type":"ISO14443"}}}}"#);
    let v201 = OcppVersion::V201;
    assert_eq!(
        status(v201, "Authorize", &token("GOOD"), "idTokenInfo"),
        "Accepted"
    );
    assert_eq!(
        status(v201, "Authorize", &token("BAD"), "idTokenInfo"),
        "Invalid"
    );
}
