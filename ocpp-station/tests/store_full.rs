//! A store that runs full: the log never passes its capacity; the authorization cache gives
//! way first; then periodic samples are no longer kept and new transactions are refused, so
//! every running transaction can still end, and what was kept is delivered whole.

mod support;

use ocpp_station::{IdToken, Reading, StationEvent};
use ocpp_types::OcppVersion::{V16, V21, V201};
use support::Rig;

#[test]
fn a_full_store_refuses_new_transactions_but_ends_the_running_ones() {
    for v in [V16, V201, V21] {
        let mut config = support::config(v, 2);
        config.variables.offline_tx_for_unknown_id = true;
        config.store_capacity = 8 * 1024;
        let capacity = config.store_capacity;
        let mut rig = Rig::with_config(config);
        rig.connect();
        rig.disconnect();
        rig.station.plug_in(1, rig.now).unwrap();
        rig.station
            .present_token(1, IdToken::rfid("LONG"), rig.now)
            .unwrap();
        rig.settle();
        assert_eq!(rig.station.transactions(), 1);
        let mut energy = 0.0;
        for _ in 0..200 {
            energy += 100.0;
            rig.station
                .meter(
                    1,
                    Reading {
                        energy_wh: energy,
                        power_w: 7000.0,
                    },
                    rig.now,
                )
                .unwrap();
            rig.advance(10_000);
            assert!(
                rig.store.len() <= capacity,
                "{v:?}: log {} over {capacity}",
                rig.store.len()
            );
        }
        assert!(rig.events.contains(&StationEvent::StoreFull), "{v:?}");
        let kept = rig.station.queued();
        assert!(kept > 5 && kept < 200, "{v:?}: {kept} messages kept");
        // No room for another transaction.
        rig.station.plug_in(2, rig.now).unwrap();
        rig.station
            .present_token(2, IdToken::rfid("SECOND"), rig.now)
            .unwrap();
        rig.settle();
        assert_eq!(
            rig.station.transactions(),
            1,
            "{v:?}: the second is refused"
        );
        assert!(rig.events.contains(&StationEvent::Authorization {
            connector: 2,
            token: "SECOND".into(),
            accepted: false
        }));
        // The running one still ends, with its last reading.
        rig.station.unplug(1, rig.now).unwrap();
        rig.settle();
        assert_eq!(rig.station.transactions(), 0);
        assert!(rig.store.len() <= capacity);
        // And survives a power cycle, then reaches the CSMS whole.
        rig.power_cycle();
        rig.connect();
        rig.advance(1);
        assert_eq!(rig.station.queued(), 0, "{v:?}");
        let messages = rig.csms.accepted_transaction_messages();
        assert_eq!(messages.len(), kept + 1, "{v:?}");
        let last = &messages.last().unwrap().payload;
        if v == V16 {
            assert_eq!(last["meterStop"], 20_000);
            assert_eq!(messages[0].action, "StartTransaction");
        } else {
            assert_eq!(last["eventType"], "Ended");
            assert_eq!(
                last["seqNo"].as_u64(),
                Some(messages.len() as u64 - 1),
                "contiguous seqNo"
            );
        }
    }
}

#[test]
fn the_authorization_cache_gives_way_before_transaction_data() {
    for v in [V16, V201] {
        let mut config = support::config(v, 1);
        config.store_capacity = 6 * 1024;
        let capacity = config.store_capacity;
        let mut rig = Rig::with_config(config);
        rig.connect();
        // Three hundred tokens, each cached: more than the store holds.
        for k in 0..300 {
            rig.station
                .present_token(1, IdToken::rfid(format!("CARD-{k:04}")), rig.now)
                .unwrap();
            rig.settle();
            rig.station.unplug(1, rig.now).unwrap();
            rig.settle();
            assert!(rig.store.len() <= capacity, "{v:?}: log over capacity");
        }
        // A transaction still starts and ends.
        rig.station.plug_in(1, rig.now).unwrap();
        rig.station
            .present_token(1, IdToken::rfid("CARD-LAST"), rig.now)
            .unwrap();
        rig.settle();
        assert_eq!(rig.station.transactions(), 1, "{v:?}");
        rig.station.unplug(1, rig.now).unwrap();
        rig.settle();
        assert_eq!(rig.station.queued(), 0);
        // The newest cache entries survived a power cycle, the oldest went.
        rig.disconnect();
        rig.power_cycle();
        rig.station.plug_in(1, rig.now).unwrap();
        rig.station
            .present_token(1, IdToken::rfid("CARD-0299"), rig.now)
            .unwrap();
        rig.settle();
        assert_eq!(
            rig.station.transactions(),
            1,
            "{v:?}: a recent card is cached"
        );
        rig.station.unplug(1, rig.now).unwrap();
        rig.station.plug_in(1, rig.now).unwrap();
        rig.station
            .present_token(1, IdToken::rfid("CARD-0000"), rig.now)
            .unwrap();
        rig.settle();
        assert_eq!(
            rig.station.transactions(),
            0,
            "{v:?}: the oldest card was evicted"
        );
    }
}
