//! The station core against a scripted CSMS: boot, status, heartbeat, authorization,
//! transactions with meter values, the CSMS's calls, and power loss.

mod support;

use ocpp_rpc::Millis;
use ocpp_station::{IdToken, Reading, StationEvent, StopReason};
use ocpp_types::OcppVersion::{self, V16, V21, V201};
use serde_json::json;
use support::Rig;

const VERSIONS: [OcppVersion; 3] = [V16, V201, V21];

fn charge(rig: &mut Rig, connector: u32, token: &str) {
    rig.station.plug_in(connector, rig.now).unwrap();
    rig.settle();
    rig.station
        .present_token(connector, IdToken::rfid(token), rig.now)
        .unwrap();
    rig.settle();
}

#[test]
fn boot_then_status_of_every_connector_then_heartbeats() {
    for v in VERSIONS {
        let mut rig = Rig::new(v, 2);
        rig.connect();
        let actions = rig.csms.actions();
        let statuses = if v == V16 { 3 } else { 2 };
        assert_eq!(actions[0], "BootNotification", "{v:?}");
        assert_eq!(actions[1..].len(), statuses, "{v:?}: {actions:?}");
        assert!(actions[1..].iter().all(|a| *a == "StatusNotification"));
        // The clock comes from the CSMS.
        assert_eq!(
            rig.station.time(rig.now).to_string(),
            "2025-06-01T12:00:00Z"
        );
        rig.advance(300_000);
        assert_eq!(rig.csms.actions().last(), Some(&"Heartbeat"), "{v:?}");
        // A reconnection sends no second BootNotification, but every status again.
        rig.disconnect();
        rig.connect();
        let boots = rig
            .csms
            .actions()
            .iter()
            .filter(|a| **a == "BootNotification")
            .count();
        assert_eq!(boots, 1, "{v:?}");
        assert!(rig.events.contains(&StationEvent::Registration(
            ocpp_station::RegistrationStatus::Accepted
        )));
    }
}

#[test]
fn nothing_but_boot_before_acceptance() {
    for v in VERSIONS {
        let mut rig = Rig::new(v, 1);
        rig.csms.boot_status = "Pending";
        rig.connect();
        charge(&mut rig, 1, "TAG1");
        assert_eq!(rig.csms.actions(), ["BootNotification"], "{v:?}");
        // The transaction started offline-style (unknown id not allowed: refused).
        assert_eq!(rig.station.transactions(), 0);
        rig.csms.boot_status = "Accepted";
        rig.advance(300_000);
        let actions = rig.csms.actions();
        assert_eq!(
            actions[1], "BootNotification",
            "{v:?}: retried after the interval"
        );
        assert!(actions.contains(&"StatusNotification"));
    }
}

#[test]
fn a_charging_session_in_every_version() {
    for v in VERSIONS {
        let mut rig = Rig::new(v, 1);
        rig.connect();
        rig.station
            .meter(
                1,
                Reading {
                    energy_wh: 1000.0,
                    power_w: 0.0,
                },
                rig.now,
            )
            .unwrap();
        charge(&mut rig, 1, "TAG1");
        assert_eq!(rig.station.transactions(), 1, "{v:?}");
        assert_eq!(rig.station.hardware().energy.get(&1), Some(&true));
        for step in 1..=3 {
            rig.station
                .meter(
                    1,
                    Reading {
                        energy_wh: 1000.0 + 500.0 * f64::from(step),
                        power_w: 7000.0,
                    },
                    rig.now,
                )
                .unwrap();
            rig.advance(10_000);
        }
        rig.station.unplug(1, rig.now).unwrap();
        rig.settle();
        assert_eq!(rig.station.transactions(), 0);
        assert_eq!(rig.station.queued(), 0, "{v:?}: everything acknowledged");
        assert_eq!(rig.station.hardware().energy.get(&1), Some(&false));
        if v == V16 {
            let start = &rig.payloads("StartTransaction")[0];
            assert_eq!(start["meterStart"], 1000);
            assert_eq!(start["idTag"], "TAG1");
            let samples = rig.payloads("MeterValues");
            assert_eq!(samples.len(), 3);
            assert!(samples.iter().all(|m| m["transactionId"] == 100));
            let stop = &rig.payloads("StopTransaction")[0];
            assert_eq!(stop["transactionId"], 100);
            assert_eq!(stop["meterStop"], 2500);
            assert_eq!(stop["reason"], "EVDisconnected");
        } else {
            let events = rig.payloads("TransactionEvent");
            let kinds: Vec<_> = events
                .iter()
                .map(|e| {
                    (
                        e["eventType"].as_str().unwrap(),
                        e["seqNo"].as_i64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                kinds,
                [
                    ("Started", 0),
                    ("Updated", 1),
                    ("Updated", 2),
                    ("Updated", 3),
                    ("Ended", 4)
                ],
                "{v:?}"
            );
            assert_eq!(events[0]["triggerReason"], "Authorized");
            assert_eq!(events[0]["idToken"]["idToken"], "TAG1");
            assert_eq!(events[0]["evse"], json!({"id": 1, "connectorId": 1}));
            assert_eq!(events[1]["triggerReason"], "MeterValuePeriodic");
            assert_eq!(
                events[4]["transactionInfo"]["stoppedReason"],
                "EVDisconnected"
            );
            assert_eq!(
                events[4]["meterValue"][0]["sampledValue"][0]["value"],
                2500.0
            );
            let ids: Vec<_> = events
                .iter()
                .map(|e| e["transactionInfo"]["transactionId"].clone())
                .collect();
            assert!(ids.iter().all(|id| *id == ids[0]));
        }
        assert!(rig.events.iter().any(|e| matches!(
            e,
            StationEvent::TransactionEnded {
                reason: StopReason::EvDisconnected,
                ..
            }
        )));
        // Each status change once, as the version names it (no Occupied twice on 2.x).
        let key = if v == V16 {
            "status"
        } else {
            "connectorStatus"
        };
        let statuses: Vec<&str> = rig
            .payloads("StatusNotification")
            .iter()
            .filter(|s| s["connectorId"] == 1 || s["evseId"] == 1)
            .map(|s| s[key].as_str().unwrap())
            .collect();
        let expected: &[&str] = if v == V16 {
            &[
                "Available",
                "Preparing",
                "SuspendedEV",
                "Charging",
                "Available",
            ]
        } else {
            &["Available", "Occupied", "Available"]
        };
        assert_eq!(statuses, expected, "{v:?}");
        if v == V16 {
            // The start is on the wire before the status it causes.
            let actions = rig.csms.actions();
            let start = actions
                .iter()
                .position(|a| *a == "StartTransaction")
                .unwrap();
            let suspended = rig
                .csms
                .received
                .iter()
                .position(|r| r.payload["status"] == "SuspendedEV")
                .unwrap();
            assert!(start < suspended, "{actions:?}");
        }
    }
}

#[test]
fn a_transaction_started_offline_gets_its_id_when_the_start_is_answered() {
    for v in VERSIONS {
        let mut config = support::config(v, 1);
        config.variables.offline_tx_for_unknown_id = true;
        let mut rig = Rig::with_config(config);
        rig.connect();
        rig.disconnect();
        charge(&mut rig, 1, "OFFLINE");
        assert_eq!(rig.station.transactions(), 1, "{v:?}");
        rig.advance(25_000);
        rig.station
            .present_token(1, IdToken::rfid("OFFLINE"), rig.now)
            .unwrap();
        rig.settle();
        assert_eq!(rig.station.queued(), 4, "{v:?}");
        rig.connect();
        rig.advance(1);
        assert_eq!(rig.station.queued(), 0, "{v:?}");
        if v == V16 {
            let samples = rig.payloads("MeterValues");
            assert!(
                samples.iter().all(|m| m["transactionId"] == 100),
                "{samples:?}"
            );
            assert_eq!(rig.payloads("StopTransaction")[0]["transactionId"], 100);
            assert_eq!(rig.payloads("StopTransaction")[0]["reason"], "Local");
        } else {
            let events = rig.payloads("TransactionEvent");
            assert!(events.iter().all(|e| e["offline"] == true), "{events:?}");
            assert_eq!(events.last().unwrap()["triggerReason"], "StopAuthorized");
        }
    }
}

#[test]
fn power_loss_ends_the_open_transaction_with_its_last_stored_reading() {
    for v in VERSIONS {
        let mut rig = Rig::new(v, 1);
        rig.connect();
        charge(&mut rig, 1, "TAG1");
        rig.station
            .meter(
                1,
                Reading {
                    energy_wh: 4321.0,
                    power_w: 11000.0,
                },
                rig.now,
            )
            .unwrap();
        rig.advance(10_000);
        rig.station
            .meter(
                1,
                Reading {
                    energy_wh: 9999.0,
                    power_w: 11000.0,
                },
                rig.now,
            )
            .unwrap();
        rig.power_cycle();
        assert_eq!(rig.station.transactions(), 0);
        assert_eq!(rig.station.queued(), 1, "{v:?}: the end waits in the store");
        rig.connect();
        if v == V16 {
            let stop = &rig.payloads("StopTransaction")[0];
            assert_eq!(stop["reason"], "PowerLoss");
            assert_eq!(
                stop["meterStop"], 4321,
                "the last stored reading, not the lost one"
            );
            assert_eq!(stop["transactionId"], 100);
        } else {
            let end = *rig.payloads("TransactionEvent").last().unwrap();
            assert_eq!(end["eventType"], "Ended");
            assert_eq!(end["triggerReason"], "AbnormalCondition");
            assert_eq!(end["transactionInfo"]["stoppedReason"], "PowerLoss");
            assert_eq!(end["seqNo"], 2);
        }
        // BootNotification comes first after the power cycle, then the queue.
        let after_boot: Vec<_> = rig.csms.actions().into_iter().rev().take(1).collect();
        assert!(
            support::is_transaction_message(after_boot[0]) || after_boot[0] == "StatusNotification"
        );
    }
}

#[test]
fn csms_calls_are_answered() {
    for v in VERSIONS {
        let mut rig = Rig::new(v, 2);
        rig.connect();
        let v16 = v == V16;
        // Remote start, then the cable.
        if v16 {
            rig.csms.call(
                "RemoteStartTransaction",
                json!({"idTag": "REMOTE"}),
                rig.now,
            );
        } else {
            rig.csms.call(
                "RequestStartTransaction",
                json!({"idToken": {"idToken": "REMOTE", "type": "Central"}, "remoteStartId": 7}),
                rig.now,
            );
        }
        rig.settle();
        assert_eq!(
            rig.csms.answers.last().unwrap().1["status"],
            "Accepted",
            "{v:?}"
        );
        rig.station.plug_in(1, rig.now).unwrap();
        rig.settle();
        assert_eq!(rig.station.transactions(), 1);
        if !v16 {
            let started = rig.payloads("TransactionEvent")[0].clone();
            assert_eq!(started["triggerReason"], "RemoteStart");
            assert_eq!(started["transactionInfo"]["remoteStartId"], 7);
        }
        // Unknown and unsupported actions.
        // Configuration.
        if v16 {
            rig.csms.call(
                "ChangeConfiguration",
                json!({"key": "HeartbeatInterval", "value": "120"}),
                rig.now,
            );
            rig.csms.call(
                "ChangeConfiguration",
                json!({"key": "NoSuchKey", "value": "1"}),
                rig.now,
            );
            rig.csms.call(
                "ChangeConfiguration",
                json!({"key": "MeterValuesSampledData", "value": "Voltage"}),
                rig.now,
            );
            rig.csms.call(
                "GetConfiguration",
                json!({"key": ["HeartbeatInterval", "Nope"]}),
                rig.now,
            );
        } else {
            rig.csms.call("SetVariables", json!({"setVariableData": [
                {"attributeValue": "120", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {"attributeValue": "1", "component": {"name": "Nope"}, "variable": {"name": "X"}},
                {"attributeValue": "x", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            ]}), rig.now);
            rig.csms.call("GetVariables", json!({"getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "Nope"}},
            ]}), rig.now);
            rig.csms.call(
                "GetBaseReport",
                json!({"requestId": 3, "reportBase": "FullInventory"}),
                rig.now,
            );
        }
        rig.settle();
        let answers: Vec<_> = rig.csms.answers.iter().map(|(_, a)| a.clone()).collect();
        if v16 {
            let n = answers.len();
            assert_eq!(answers[n - 4]["status"], "Accepted");
            assert_eq!(answers[n - 3]["status"], "NotSupported");
            assert_eq!(answers[n - 2]["status"], "Rejected");
            assert_eq!(answers[n - 1]["configurationKey"][0]["value"], "120");
            assert_eq!(answers[n - 1]["unknownKey"], json!(["Nope"]));
        } else {
            let n = answers.len();
            let set = &answers[n - 3]["setVariableResult"];
            assert_eq!(set[0]["attributeStatus"], "Accepted");
            assert_eq!(set[1]["attributeStatus"], "UnknownComponent");
            assert_eq!(set[2]["attributeStatus"], "Rejected");
            let get = &answers[n - 2]["getVariableResult"];
            assert_eq!(get[0]["attributeValue"], "120");
            assert_eq!(get[1]["attributeStatus"], "UnknownVariable");
            assert_eq!(answers[n - 1]["status"], "Accepted");
            let report = rig.payloads("NotifyReport");
            assert!(report.len() >= 3, "a report in parts");
            let items: usize = report
                .iter()
                .map(|r| r["reportData"].as_array().unwrap().len())
                .sum();
            assert_eq!(items, 17);
            for (k, part) in report.iter().enumerate() {
                assert_eq!(part["requestId"], 3);
                assert_eq!(part["seqNo"], k);
                assert_eq!(part["tbc"], k + 1 < report.len());
            }
        }
        assert_eq!(rig.station.config().variables.heartbeat_interval, 120);
        // The change survives a power cycle.
        rig.power_cycle();
        assert_eq!(
            rig.station.config().variables.heartbeat_interval,
            120,
            "{v:?}"
        );
        rig.connect();
        // Trigger, availability, unlock, reset.
        let trigger = json!({"requestedMessage": "Heartbeat"});
        rig.csms.call("TriggerMessage", trigger, rig.now);
        let log = if v16 {
            json!({"requestedMessage": "DiagnosticsStatusNotification"})
        } else {
            json!({"requestedMessage": "LogStatusNotification"})
        };
        rig.csms.call("TriggerMessage", log, rig.now);
        let unavailable = if v16 {
            json!({"connectorId": 2, "type": "Inoperative"})
        } else {
            json!({"operationalStatus": "Inoperative", "evse": {"id": 2}})
        };
        rig.csms.call("ChangeAvailability", unavailable, rig.now);
        let unlock = if v16 {
            json!({"connectorId": 2})
        } else {
            json!({"evseId": 2, "connectorId": 1})
        };
        rig.csms.call("UnlockConnector", unlock, rig.now);
        let reset = if v16 {
            json!({"type": "Hard"})
        } else {
            json!({"type": "Immediate"})
        };
        rig.csms.call("Reset", reset, rig.now);
        rig.settle();
        let n = rig.csms.answers.len();
        let statuses: Vec<_> = rig.csms.answers[n - 5..]
            .iter()
            .map(|(_, a)| a["status"].clone())
            .collect();
        assert_eq!(
            statuses,
            [
                json!("Accepted"),
                json!("NotImplemented"),
                json!("Accepted"),
                json!("Unlocked"),
                json!("Accepted")
            ],
            "{v:?}"
        );
        assert_eq!(rig.station.hardware().resets.len(), 1);
        assert!(
            rig.csms.actions().ends_with(&["Heartbeat"])
                || rig.csms.actions().contains(&"Heartbeat")
        );
    }
}

#[test]
fn actions_the_station_does_not_handle_are_not_supported() {
    for v in VERSIONS {
        let mut rig = Rig::new(v, 1);
        rig.connect();
        let frame = br#"[2,"x1","ClearCache",{}]"#.to_vec();
        rig.station.receive(&frame, Millis(0));
        let out = rig.station.poll_transmit().unwrap();
        let out: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(out[2], "NotSupported", "{v:?}");
        rig.station
            .receive(br#"[2,"x2","NoSuchAction",{}]"#, Millis(0));
        let out: serde_json::Value =
            serde_json::from_slice(&rig.station.poll_transmit().unwrap()).unwrap();
        assert_eq!(out[2], "NotImplemented", "{v:?}");
    }
}

#[test]
fn samples_can_be_finer_than_a_second() {
    let mut config = support::config(V201, 1);
    config.sample_interval_ms = Some(250);
    let mut rig = Rig::with_config(config);
    rig.connect();
    charge(&mut rig, 1, "TAG1");
    rig.advance(1_000);
    let updated = rig
        .payloads("TransactionEvent")
        .iter()
        .filter(|e| e["eventType"] == "Updated")
        .count();
    assert_eq!(updated, 4);
}
