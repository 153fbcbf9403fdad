//! The run loop against the workspace's tokio CSMS over loopback TCP: a charging session in
//! every version, the CSMS going away and coming back in the middle of a transaction, a
//! message too large for the read buffer, pings, and a store that fails.

mod support;

use std::time::Duration;

use ocpp_embedded::run::Disconnect;
use ocpp_embedded::{Blocking, Event, Input, Runner};
use ocpp_station::store::MemoryStore;
use ocpp_station::{IdToken, Reading, StationEvent};
use ocpp_types::OcppVersion;
use support::*;

fn url(server: &ocpp_rpc_tokio::RunningServer, identity: &str) -> String {
    format!("ws://{}/ocpp/{identity}", server.local_addr())
}

/// Plug in, present a token, read the meter while samples go out, unplug; every
/// transaction-related message reaches the CSMS once and is acknowledged.
async fn charging_session(version: OcppVersion) {
    let log = Log::default();
    let server = csms("127.0.0.1:0".parse().unwrap(), log.clone()).await;
    let mut read_buf = vec![0u8; 4096];
    let mut write_buf = vec![0u8; 256];
    let mut runner = Runner::start(
        station_config(version),
        Charger::default(),
        Blocking(MemoryStore::new()),
        run_config(&url(&server, "CS001")),
        &mut read_buf,
        &mut write_buf,
    )
    .await
    .expect("start");
    let inputs = Inputs::new();
    let (mut events, sink) = Events::new();
    let mut tcp = Tcp;
    let run = runner.run(&mut tcp, inputs.dyn_receiver(), random(), sink);
    let script = async {
        events
            .wait("Connected", |e| *e == Event::Connected(version))
            .await;
        events.wait("the boot accepted", registered).await;
        inputs.send(Input::PlugIn(1)).await;
        inputs.send(Input::Token(1, IdToken::rfid("TAG1"))).await;
        events
            .wait("the transaction", |e| {
                matches!(e, Event::Station(StationEvent::TransactionStarted { .. }))
            })
            .await;
        inputs
            .send(Input::Meter(
                1,
                Reading {
                    energy_wh: 1200.0,
                    power_w: 7400.0,
                },
            ))
            .await;
        // A sample a second: wait for two to be acknowledged.
        events
            .until("two samples", |seen| {
                seen.iter().filter(|e| delivered(e)).count() >= 3
            })
            .await;
        inputs.send(Input::Unplug(1)).await;
        events
            .until("every transaction message acknowledged", |seen| {
                let messages = transaction_messages(&log);
                ended(&messages) && seen.iter().filter(|e| delivered(e)).count() == messages.len()
            })
            .await;
    };
    tokio::select! {
        error = run => panic!("the run loop stopped: {error:?}"),
        () = script => {}
    }
    assert_eq!(runner.station().queued(), 0);
    assert_eq!(runner.station().transactions(), 0);
    let hardware = runner.station().hardware();
    assert_eq!(hardware.energy.first(), Some(&(1, true)));
    assert_eq!(hardware.energy.last(), Some(&(1, false)));
    let actions: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.action.clone())
        .collect();
    assert_eq!(actions[0], "BootNotification", "{actions:?}");
    assert!(
        actions.iter().any(|a| a == "StatusNotification"),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a == "Authorize"), "{actions:?}");
    let messages = transaction_messages(&log);
    assert!(
        messages.len() >= 4,
        "start, two samples, end: {messages:#?}"
    );
    match version {
        OcppVersion::V16 => {
            assert_eq!(messages[0].action, "StartTransaction");
            assert!(
                messages[1..messages.len() - 1]
                    .iter()
                    .all(|m| m.action == "MeterValues")
            );
            assert_eq!(messages.last().unwrap().action, "StopTransaction");
            assert_eq!(messages.last().unwrap().payload["reason"], "EVDisconnected");
        }
        _ => {
            let seq: Vec<i64> = messages
                .iter()
                .map(|m| m.payload["seqNo"].as_i64().unwrap())
                .collect();
            assert_eq!(seq, (0..messages.len() as i64).collect::<Vec<_>>());
            assert_eq!(messages[0].payload["eventType"], "Started");
            assert_eq!(messages.last().unwrap().payload["eventType"], "Ended");
        }
    }
    server.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn a_charging_session_in_1_6() {
    charging_session(OcppVersion::V16).await;
}

#[tokio::test]
async fn a_charging_session_in_2_0_1() {
    charging_session(OcppVersion::V201).await;
}

#[tokio::test]
async fn a_charging_session_in_2_1() {
    charging_session(OcppVersion::V21).await;
}

/// The CSMS shuts down while a transaction runs; samples and the end are taken offline;
/// the station reconnects by its back-off once the CSMS is back on the same address, and
/// every message of the transaction arrives, in order.
async fn csms_restarts_mid_transaction(version: OcppVersion) {
    let log = Log::default();
    let server = csms("127.0.0.1:0".parse().unwrap(), log.clone()).await;
    let addr = server.local_addr();
    let mut read_buf = vec![0u8; 4096];
    let mut write_buf = vec![0u8; 256];
    let mut runner = Runner::start(
        station_config(version),
        Charger::default(),
        Blocking(MemoryStore::new()),
        run_config(&url(&server, "CS002")),
        &mut read_buf,
        &mut write_buf,
    )
    .await
    .expect("start");
    let inputs = Inputs::new();
    let (mut events, sink) = Events::new();
    let mut tcp = Tcp;
    let run = runner.run(&mut tcp, inputs.dyn_receiver(), random(), sink);
    let script = async {
        events.wait("the boot accepted", registered).await;
        inputs.send(Input::PlugIn(1)).await;
        inputs.send(Input::Token(1, IdToken::rfid("TAG2"))).await;
        events.wait("the start acknowledged", delivered).await;
        server.shutdown(Duration::ZERO).await;
        events
            .wait("the loss", |e| matches!(e, Event::Disconnected(_)))
            .await;
        inputs
            .send(Input::Meter(
                1,
                Reading {
                    energy_wh: 3000.0,
                    power_w: 11000.0,
                },
            ))
            .await;
        events.wait("a failed attempt", connect_failed).await;
        // Samples are taken offline (one a second), then the cable goes.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        inputs.send(Input::Unplug(1)).await;
        events
            .wait("the end, offline", |e| {
                matches!(e, Event::Station(StationEvent::TransactionEnded { .. }))
            })
            .await;
        let offline = transaction_messages(&log).len();
        let again = csms(addr, log.clone()).await;
        events
            .until("every transaction message acknowledged", |seen| {
                let messages = transaction_messages(&log);
                ended(&messages) && seen.iter().filter(|e| delivered(e)).count() == messages.len()
            })
            .await;
        (offline, again)
    };
    let (offline, again) = tokio::select! {
        error = run => panic!("the run loop stopped: {error:?}"),
        done = script => done,
    };
    assert_eq!(runner.station().queued(), 0);
    assert_eq!(
        events.count(|e| matches!(e, Event::Connected(_))),
        2,
        "{:#?}",
        events.seen
    );
    assert!(
        events
            .seen
            .iter()
            .any(|e| matches!(e, Event::Disconnected(Disconnect::Closed(Some(1001)))))
    );
    let messages = transaction_messages(&log);
    assert!(
        messages.len() >= offline + 3,
        "at least two offline samples and the end came after the restart: {messages:#?}"
    );
    match version {
        OcppVersion::V16 => {
            assert_eq!(messages[0].action, "StartTransaction");
            assert_eq!(messages.last().unwrap().action, "StopTransaction");
            for m in &messages[1..] {
                assert_eq!(m.payload["transactionId"], 101, "{m:?}");
            }
        }
        _ => {
            let seq: Vec<i64> = messages
                .iter()
                .map(|m| m.payload["seqNo"].as_i64().unwrap())
                .collect();
            assert_eq!(seq, (0..messages.len() as i64).collect::<Vec<_>>());
            assert_eq!(messages.last().unwrap().payload["eventType"], "Ended");
            assert!(
                messages[1..].iter().any(|m| m.payload["offline"] == true),
                "the samples taken offline say so"
            );
        }
    }
    // No BootNotification on reconnection (the boot was accepted in this power cycle).
    let boots = log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.action == "BootNotification")
        .count();
    assert_eq!(boots, 1);
    again.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn the_csms_restarts_mid_transaction_and_nothing_is_lost_1_6() {
    csms_restarts_mid_transaction(OcppVersion::V16).await;
}

#[tokio::test]
async fn the_csms_restarts_mid_transaction_and_nothing_is_lost_2_0_1() {
    csms_restarts_mid_transaction(OcppVersion::V201).await;
}
