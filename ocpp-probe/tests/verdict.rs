//! The verdict logic: a right answer passes, and each kind of wrong answer is caught with the
//! right severity. Cases come from the real catalogue, answers are scripted.

use ocpp_probe::case::{Expect, UpgradeExpect};
use ocpp_probe::verdict::{Closed, Upgrade};
use ocpp_probe::{Case, Observed, Plan, Severity, Target, catalogue, judge};
use ocpp_types::OcppVersion;

fn case(version: OcppVersion, target: Target, id: &str) -> Case {
    let cases = catalogue(&Plan::new(version, target, 1));
    match cases.into_iter().find(|c| c.id == id) {
        Some(case) => case,
        None => panic!("no case {id}"),
    }
}

/// The message id a case's answer must carry.
fn id_of(case: &Case) -> String {
    match &case.expect {
        Expect::CallError { id, .. }
        | Expect::Answer { id, .. }
        | Expect::ErrorOrSilence { id, .. } => id.clone(),
        _ => String::new(),
    }
}

fn answered(answers: &[String]) -> Observed {
    Observed {
        answers: answers.to_vec(),
        alive: Some(true),
        ..Observed::default()
    }
}

/// The severities found, in order.
fn severities(case: &Case, version: OcppVersion, observed: &Observed) -> Vec<Severity> {
    judge(case, version, observed)
        .iter()
        .map(|f| f.severity)
        .collect()
}

#[test]
fn the_code_the_definitions_give_passes_and_any_other_is_a_warning() {
    let v = OcppVersion::V201;
    let case = case(v, Target::Csms, "rpc.unknown-action");
    let id = id_of(&case);
    let right = format!(r#"[4,"{id}","NotImplemented","",{{}}]"#);
    assert_eq!(severities(&case, v, &answered(&[right])), []);
    let other = format!(r#"[4,"{id}","NotSupported","",{{}}]"#);
    let found = judge(&case, v, &answered(&[other]));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(
        found[0].summary.contains("NotSupported"),
        "{}",
        found[0].summary
    );
    assert!(found[0].clause.contains("§4.3"), "{}", found[0].clause);
}

#[test]
fn accepting_an_unknown_action_or_a_broken_payload_is_an_error_on_2x_and_a_warning_on_1_6() {
    for (version, severity) in [
        (OcppVersion::V201, Severity::Error),
        (OcppVersion::V16, Severity::Warning),
    ] {
        let plan = Plan::new(version, Target::Csms, 1);
        let broken = catalogue(&plan)
            .into_iter()
            .find(|c| c.id.starts_with("payload.Authorize.missing:"))
            .unwrap_or_else(|| panic!("no missing-property case for {version}"));
        let id = id_of(&broken);
        let result = format!(r#"[3,"{id}",{{}}]"#);
        assert_eq!(
            severities(&broken, version, &answered(&[result])),
            [severity],
            "{version}"
        );
    }
    let v = OcppVersion::V201;
    let unknown = case(v, Target::Csms, "rpc.unknown-action");
    let result = format!(r#"[3,"{}",{{}}]"#, id_of(&unknown));
    assert_eq!(
        severities(&unknown, v, &answered(&[result])),
        [Severity::Error]
    );
}

#[test]
fn a_missing_answer_to_a_broken_payload_is_a_warning_but_to_a_valid_call_an_error() {
    let v = OcppVersion::V21;
    let broken = case(v, Target::Csms, "payload.Heartbeat.not-an-object:");
    assert_eq!(severities(&broken, v, &answered(&[])), [Severity::Warning]);
    let valid = case(v, Target::Csms, "payload.Heartbeat.valid.0");
    assert_eq!(severities(&valid, v, &answered(&[])), [Severity::Error]);
}

#[test]
fn a_valid_call_needs_a_callresult_that_validates() {
    let v = OcppVersion::V201;
    let valid = case(v, Target::Csms, "payload.Heartbeat.valid.0");
    let id = id_of(&valid);
    let good = format!(r#"[3,"{id}",{{"currentTime":"2026-12-02T10:00:00Z"}}]"#);
    assert_eq!(severities(&valid, v, &answered(&[good])), []);
    let bad = format!(r#"[3,"{id}",{{"currentTime":"yesterday"}}]"#);
    let found = judge(&valid, v, &answered(&[bad]));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity, Severity::Error);
    assert!(
        found[0].summary.contains("HeartbeatResponse"),
        "{}",
        found[0].summary
    );
    // A refusal that is not about the payload is allowed; one that calls it invalid is not.
    let unsupported = format!(r#"[4,"{id}","NotSupported","",{{}}]"#);
    assert_eq!(severities(&valid, v, &answered(&[unsupported])), []);
    let invalid = format!(r#"[4,"{id}","PropertyConstraintViolation","",{{}}]"#);
    assert_eq!(
        severities(&valid, v, &answered(&[invalid])),
        [Severity::Warning]
    );
}

#[test]
fn wrong_ids_invalid_frames_and_unknown_codes_are_errors() {
    let v = OcppVersion::V201;
    let case = case(v, Target::Csms, "rpc.unknown-action");
    let id = id_of(&case);
    let wrong_id = r#"[4,"someone-else","NotImplemented","",{}]"#.to_owned();
    let found = severities(&case, v, &answered(&[wrong_id]));
    // The foreign answer, and then no answer to the case itself.
    assert_eq!(found, [Severity::Error, Severity::Warning]);
    let four_elements = format!(r#"[4,"{id}","NotImplemented",""]"#);
    assert!(severities(&case, v, &answered(&[four_elements])).contains(&Severity::Error));
    let details_not_object = format!(r#"[4,"{id}","NotImplemented","",[]]"#);
    assert!(severities(&case, v, &answered(&[details_not_object])).contains(&Severity::Error));
    let invented = format!(r#"[4,"{id}","Oops","",{{}}]"#);
    assert!(severities(&case, v, &answered(&[invented])).contains(&Severity::Error));
    // 2.x no longer has 1.6's spelling: a warning (the code is still understood), besides
    // the code being another than the definitions give.
    let old = format!(r#"[4,"{id}","FormationViolation","",{{}}]"#);
    assert_eq!(
        severities(&case, v, &answered(&[old])),
        [Severity::Warning, Severity::Warning]
    );
}

#[test]
fn the_1_6_spellings_are_the_right_ones_on_1_6() {
    let v = OcppVersion::V16;
    let case = case(
        v,
        Target::Csms,
        "payload.Authorize.unknown-property:/ocppRsProbeUnknown",
    );
    let id = id_of(&case);
    let right = format!(r#"[4,"{id}","FormationViolation","",{{}}]"#);
    assert_eq!(severities(&case, v, &answered(&[right])), []);
    // The right code in 2.x's spelling: one warning, for the spelling alone.
    let respelled = format!(r#"[4,"{id}","FormatViolation","",{{}}]"#);
    let found = judge(&case, v, &answered(&[respelled]));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(found[0].summary.contains("spelled"), "{}", found[0].summary);
}

#[test]
fn messages_that_get_no_answer_must_get_none() {
    let v = OcppVersion::V21;
    let send = case(v, Target::Csms, "rpc.send");
    assert_eq!(severities(&send, v, &answered(&[])), []);
    let error = r#"[4,"rpc.send","NotSupported","",{}]"#.to_owned();
    assert_eq!(severities(&send, v, &answered(&[error])), [Severity::Error]);
    let unknown_id = case(v, Target::Csms, "rpc.result-for-unknown-id");
    let error = r#"[4,"rpc.never-sent","GenericError","",{}]"#.to_owned();
    assert_eq!(
        severities(&unknown_id, v, &answered(&[error])),
        [Severity::Warning]
    );
}

#[test]
fn a_lost_or_dead_connection_is_critical() {
    let v = OcppVersion::V201;
    let case = case(v, Target::Csms, "rpc.not-json");
    assert_eq!(severities(&case, v, &answered(&[])), []);
    let closed = Observed {
        closed: Some(Closed {
            code: Some(1011),
            reason: "boom".to_owned(),
        }),
        ..Observed::default()
    };
    let found = judge(&case, v, &closed);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Critical);
    assert!(found[0].summary.contains("1011"), "{}", found[0].summary);
    // A close code reserved for reports (1005, 1006) or undefined is an error besides.
    for (code, more) in [
        (1000, false),
        (1001, false),
        (1008, false),
        (4001, false),
        (1005, true),
        (1006, true),
        (999, true),
        (2000, true),
    ] {
        let closed = Observed {
            closed: Some(Closed {
                code: Some(code),
                reason: String::new(),
            }),
            ..Observed::default()
        };
        let expected: &[Severity] = if more {
            &[Severity::Critical, Severity::Error]
        } else {
            &[Severity::Critical]
        };
        assert_eq!(severities(&case, v, &closed), expected, "{code}");
    }
    let dead = Observed {
        alive: Some(false),
        ..Observed::default()
    };
    assert_eq!(severities(&case, v, &dead), [Severity::Critical]);
}

#[test]
fn a_ping_needs_its_pong() {
    let v = OcppVersion::V16;
    let ping = case(v, Target::Station, "ws.ping");
    let pong = |payload: &str| Observed {
        pong: Some(payload.to_owned()),
        ..Observed::default()
    };
    assert_eq!(severities(&ping, v, &pong("ocpp-rs-probe")), []);
    assert_eq!(severities(&ping, v, &pong("other")), [Severity::Error]);
    assert_eq!(
        severities(&ping, v, &Observed::default()),
        [Severity::Error]
    );
}

#[test]
fn handshake_answers_are_judged_by_the_negotiation_rules() {
    let v = OcppVersion::V201;
    let upgrade = |status: u16, subprotocol: Option<&str>, closed_by_server: bool| Observed {
        upgrade: Some(Upgrade {
            status,
            subprotocol: subprotocol.map(str::to_owned),
            closed_by_server,
        }),
        ..Observed::default()
    };
    let offer = case(v, Target::Csms, "handshake.offer-list");
    assert!(matches!(
        offer.expect,
        Expect::Upgrade(UpgradeExpect::Version(OcppVersion::V201))
    ));
    assert_eq!(
        severities(&offer, v, &upgrade(101, Some("ocpp2.0.1"), false)),
        []
    );
    assert_eq!(
        severities(&offer, v, &upgrade(101, Some("ocpp1.6"), false)),
        [Severity::Error]
    );
    assert_eq!(
        severities(&offer, v, &upgrade(400, None, false)),
        [Severity::Error]
    );

    let none = case(v, Target::Csms, "handshake.no-common-version");
    assert_eq!(severities(&none, v, &upgrade(101, None, true)), []);
    assert_eq!(
        severities(&none, v, &upgrade(101, None, false)),
        [Severity::Error]
    );
    assert_eq!(
        severities(&none, v, &upgrade(400, None, false)),
        [Severity::Error]
    );
    assert_eq!(
        severities(&none, v, &upgrade(101, Some("ocpp2.0.1"), false)),
        [Severity::Error]
    );

    let plan = Plan {
        credentials: true,
        ..Plan::new(v, Target::Csms, 1)
    };
    let wrong = catalogue(&plan)
        .into_iter()
        .find(|c| c.id == "handshake.wrong-password");
    let wrong = wrong.unwrap_or_else(|| panic!("no wrong-password case"));
    assert_eq!(severities(&wrong, v, &upgrade(401, None, false)), []);
    assert_eq!(
        severities(&wrong, v, &upgrade(101, Some("ocpp2.0.1"), true)),
        []
    );
    assert_eq!(
        severities(&wrong, v, &upgrade(101, Some("ocpp2.0.1"), false)),
        [Severity::Error]
    );
}
