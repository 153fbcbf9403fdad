//! Property tests of the durable queue: random interleavings of hardware events,
//! disconnects, CALLERRORs, timeouts and power losses (the store torn at any write), then a
//! run to completion. The CSMS side checks what the issue asks: every transaction's
//! messages arrive in order, 2.x `seqNo` contiguous from 0 with exactly one Started and one
//! Ended, duplicates only as retransmissions of the same message, 1.6 StopTransaction and
//! MeterValues carrying the CSMS's transactionId, and no message lost.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use ocpp_station::{IdToken, Reading, StationEvent};
use ocpp_types::OcppVersion::{self, V16, V21, V201};
use proptest::prelude::*;
use serde_json::Value;
use support::Rig;

#[derive(Debug, Clone)]
enum Op {
    Plug(u32),
    Unplug(u32),
    Token(u32, u8),
    Meter(u32, u16),
    Advance(u32),
    Connect,
    Disconnect,
    Refuse(u32),
    Ignore(u32),
    /// Power fails during the `writes`-th next store write, which is torn after `torn`
    /// bytes.
    CrashDuringWrite {
        writes: usize,
        torn: usize,
    },
    /// Power fails now (between writes).
    PowerCut,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..=2u32).prop_map(Op::Plug),
        2 => (1..=2u32).prop_map(Op::Unplug),
        3 => (1..=2u32, 0..3u8).prop_map(|(c, t)| Op::Token(c, t)),
        3 => (1..=2u32, 1..2000u16).prop_map(|(c, wh)| Op::Meter(c, wh)),
        4 => (1..40_000u32).prop_map(Op::Advance),
        2 => Just(Op::Connect),
        2 => Just(Op::Disconnect),
        1 => (1..3u32).prop_map(Op::Refuse),
        1 => (1..3u32).prop_map(Op::Ignore),
        1 => (0..6usize, 0..400usize).prop_map(|(writes, torn)| Op::CrashDuringWrite { writes, torn }),
        1 => Just(Op::PowerCut),
    ]
}

struct Model {
    energy: [f64; 2],
}

/// What a run went through (to show the generator reaches every path).
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    crashes: usize,
    refused: usize,
    transactions: usize,
    messages: usize,
}

fn run(version: OcppVersion, ops: &[Op]) -> Result<Stats, TestCaseError> {
    let mut config = support::config(version, 2);
    config.variables.offline_tx_for_unknown_id = true;
    let mut rig = Rig::with_config(config);
    let mut model = Model { energy: [0.0; 2] };
    for op in ops {
        // Two hardware events never share a millisecond (else two 1.6 StartTransactions can
        // be identical, and the CSMS here, idempotent, takes them for one).
        rig.advance(1);
        match *op {
            Op::Plug(c) => rig.station.plug_in(c, rig.now).unwrap(),
            Op::Unplug(c) => rig.station.unplug(c, rig.now).unwrap(),
            Op::Token(c, t) => rig
                .station
                .present_token(c, IdToken::rfid(format!("TAG{t}")), rig.now)
                .unwrap(),
            Op::Meter(c, wh) => {
                model.energy[c as usize - 1] += f64::from(wh);
                let reading = Reading {
                    energy_wh: model.energy[c as usize - 1],
                    power_w: f64::from(wh),
                };
                rig.station.meter(c, reading, rig.now).unwrap();
            }
            Op::Advance(ms) => rig.advance(u64::from(ms)),
            Op::Connect => rig.connect(),
            Op::Disconnect => rig.disconnect(),
            Op::Refuse(n) => rig.csms.refuse_next += n,
            Op::Ignore(n) => rig.csms.ignore_next += n,
            Op::CrashDuringWrite { writes, torn } => rig.store.fail_after(writes, torn),
            Op::PowerCut => rig.power_cycle(),
        }
        rig.settle();
    }
    // Run to completion: no more failures, every cable out, online until the queue drains.
    rig.store.restart();
    rig.csms.refuse_next = 0;
    rig.csms.ignore_next = 0;
    rig.connect();
    for c in 1..=2 {
        rig.station.unplug(c, rig.now).unwrap();
        rig.settle();
    }
    // Transactions that stay open without a cable (StopTxOnEVSideDisconnect is on, so none).
    for _ in 0..100 {
        if rig.station.queued() == 0 {
            break;
        }
        rig.advance(10_000);
    }
    prop_assert_eq!(rig.station.queued(), 0, "the queue drains");
    prop_assert_eq!(rig.station.transactions(), 0);
    check(version, &rig)?;
    let accepted = rig.csms.accepted_transaction_messages();
    Ok(Stats {
        crashes: rig.crashes,
        refused: rig.csms.received.iter().filter(|r| r.refused).count(),
        transactions: accepted
            .iter()
            .filter(|m| m.action == "StartTransaction" || m.payload["eventType"] == "Started")
            .count(),
        messages: accepted.len(),
    })
}

/// The CSMS-side invariants.
fn check(version: OcppVersion, rig: &Rig) -> Result<(), TestCaseError> {
    let accepted = rig.csms.accepted_transaction_messages();
    let discarded = rig
        .events
        .iter()
        .filter(|e| matches!(e, StationEvent::Discarded { .. }))
        .count();
    prop_assert_eq!(
        discarded,
        0,
        "the CSMS never refuses a message as often as the attempts"
    );
    let started_events: BTreeSet<u32> = rig
        .events
        .iter()
        .filter_map(|e| match e {
            StationEvent::TransactionStarted { transaction, .. } => Some(*transaction),
            _ => None,
        })
        .collect();
    if version == V16 {
        // Every StartTransaction the CSMS accepted got an id; the same payload the same id.
        let mut ids: BTreeMap<String, i64> = BTreeMap::new();
        let mut next = 100;
        let mut stops: BTreeMap<i64, Vec<&Value>> = BTreeMap::new();
        let mut seen_stop_or_meter_before_start = false;
        for m in &accepted {
            match m.action.as_str() {
                "StartTransaction" => {
                    ids.entry(m.payload.to_string()).or_insert_with(|| {
                        next += 1;
                        next - 1
                    });
                }
                "MeterValues" | "StopTransaction" => {
                    let id = m.payload["transactionId"].as_i64();
                    prop_assert!(id.is_some(), "{} without transactionId", m.action);
                    let id = id.unwrap_or_default();
                    if !ids.values().any(|v| *v == id) {
                        seen_stop_or_meter_before_start = true;
                    }
                    if m.action == "StopTransaction" {
                        stops.entry(id).or_default().push(&m.payload);
                    }
                }
                _ => {}
            }
        }
        prop_assert!(
            !seen_stop_or_meter_before_start,
            "a message with an id the CSMS never gave"
        );
        // A start whose record was written whole just before power failed reaches the CSMS
        // although the firmware never heard of it: at least as many, never fewer.
        prop_assert!(
            ids.len() >= started_events.len(),
            "a durable start never reached the CSMS"
        );
        for id in ids.values() {
            let s = stops.get(id).map(Vec::as_slice).unwrap_or_default();
            prop_assert!(!s.is_empty(), "transaction {} never stopped", id);
            prop_assert!(
                s.iter().all(|p| *p == s[0]),
                "different StopTransactions for {}",
                id
            );
        }
    } else {
        let mut by_tx: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for m in &accepted {
            let id = m.payload["transactionInfo"]["transactionId"]
                .as_str()
                .unwrap_or_default();
            by_tx.entry(id.to_string()).or_default().push(&m.payload);
        }
        for local in &started_events {
            prop_assert!(
                by_tx.contains_key(&local.to_string()),
                "durable start {} never reached the CSMS",
                local
            );
        }
        for (id, events) in &by_tx {
            // First arrival of each seqNo, in arrival order, must be 0, 1, 2, ...
            let mut first: Vec<i64> = Vec::new();
            let mut payload_of: BTreeMap<i64, &Value> = BTreeMap::new();
            for e in events {
                let seq = e["seqNo"].as_i64().unwrap_or(-1);
                match payload_of.get(&seq) {
                    Some(p) => {
                        prop_assert_eq!(*p, *e, "seqNo {} of {} sent twice differently", seq, id)
                    }
                    None => {
                        payload_of.insert(seq, e);
                        first.push(seq);
                    }
                }
            }
            let expected: Vec<i64> = (0..first.len() as i64).collect();
            prop_assert_eq!(
                &first,
                &expected,
                "transaction {} out of order or with a gap",
                id
            );
            let kinds: Vec<&str> = first
                .iter()
                .map(|s| payload_of[s]["eventType"].as_str().unwrap_or_default())
                .collect();
            prop_assert_eq!(kinds.first().copied(), Some("Started"));
            prop_assert_eq!(kinds.last().copied(), Some("Ended"));
            prop_assert_eq!(kinds.iter().filter(|k| **k == "Started").count(), 1);
            prop_assert_eq!(kinds.iter().filter(|k| **k == "Ended").count(), 1);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn nothing_is_lost_or_reordered_v16(ops in prop::collection::vec(op(), 1..60)) {
        run(V16, &ops)?;
    }

    #[test]
    fn nothing_is_lost_or_reordered_v201(ops in prop::collection::vec(op(), 1..60)) {
        run(V201, &ops)?;
    }

    #[test]
    fn nothing_is_lost_or_reordered_v21(ops in prop::collection::vec(op(), 1..60)) {
        run(V21, &ops)?;
    }
}

/// The generator reaches every path: crashes, refusals, timeouts, transactions.
#[test]
fn the_random_runs_reach_crashes_refusals_and_transactions() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = prop::collection::vec(op(), 1..60);
    let mut total = Stats::default();
    for version in [V16, V201, V21] {
        for _ in 0..100 {
            let ops = strategy.new_tree(&mut runner).unwrap().current();
            let stats = run(version, &ops).unwrap();
            total.crashes += stats.crashes;
            total.refused += stats.refused;
            total.transactions += stats.transactions;
            total.messages += stats.messages;
        }
    }
    println!("{total:?}");
    assert!(total.crashes > 100, "{total:?}");
    assert!(total.refused > 50, "{total:?}");
    assert!(total.transactions > 200, "{total:?}");
}

/// The same session cut by power loss at every one of its store writes, torn at several
/// points: the outcome at the CSMS is always whole.
#[test]
fn a_power_loss_at_every_write_of_a_session() {
    let script = [
        Op::Connect,
        Op::Plug(1),
        Op::Token(1, 0),
        Op::Meter(1, 500),
        Op::Advance(10_000),
        Op::Disconnect,
        Op::Meter(1, 700),
        Op::Advance(10_000),
        Op::Plug(2),
        Op::Token(2, 1),
        Op::Advance(10_000),
        Op::Token(1, 0),
        Op::Connect,
        Op::Advance(10_000),
        Op::Unplug(2),
    ];
    for version in [V16, V201, V21] {
        // How many writes the script makes without a crash.
        let writes = {
            let stats = run(version, &script).unwrap();
            assert!(stats.transactions >= 2);
            20 + stats.messages * 2
        };
        for at in 0..writes {
            for torn in [0, 7, 60, 10_000] {
                let mut ops = vec![Op::CrashDuringWrite { writes: at, torn }];
                ops.extend(script.iter().cloned());
                if let Err(e) = run(version, &ops) {
                    panic!("{version:?}, crash at write {at} torn after {torn}: {e}");
                }
            }
        }
    }
}
