//! The durable queue's cost: transaction messages persisted per second with fsync, and
//! storage bytes per queued TransactionEvent, for the station core's `FileStore` and, in the
//! same run on the same disk, for SQLite as EVerest keeps its queue (one row per message,
//! one transaction per insert, `synchronous=FULL`, WAL).
//!
//! `cargo run --release --bin queue [-- MESSAGES [DIR]]` (default 2000 messages, a
//! directory under the system's temporary one).

use std::path::{Path, PathBuf};
use std::time::Instant;

use ocpp_rpc::Millis;
use ocpp_station::store::{FileStore, Store};
use ocpp_station::{
    BootInfo, ConnectorId, Hardware, IdToken, Reading, ResetKind, Station, StationConfig,
    UnlockResult,
};
use ocpp_types::OcppVersion;

struct NoHardware;

impl Hardware for NoHardware {
    fn set_energy(&mut self, _: ConnectorId, _: bool) {}
    fn unlock(&mut self, _: ConnectorId) -> UnlockResult {
        UnlockResult::NotSupported
    }
    fn reset(&mut self, _: ResetKind) {}
}

struct Run {
    messages: usize,
    seconds: f64,
    bytes: u64,
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// An offline 2.0.1 station in one long transaction, one TransactionEvent Updated per
/// sample, each appended and fsynced before the next.
fn station(dir: &Path, messages: usize) -> (Run, Vec<String>) {
    let mut config = StationConfig::new(
        OcppVersion::V201,
        BootInfo {
            vendor: "ocpp-rs".into(),
            model: "bench".into(),
            serial_number: None,
            firmware_version: None,
        },
        1,
    );
    config.variables.offline_tx_for_unknown_id = true;
    config.variables.sample_interval = 1;
    config.store_capacity = 64 << 20;
    let mut store = FileStore::open(dir).expect("store directory");
    let mut station = Station::new(config, NoHardware, &[], Millis(0)).expect("empty store");
    let mut now = Millis(0);
    station.plug_in(1, now).expect("connector 1");
    station
        .present_token(1, IdToken::rfid("BENCH"), now)
        .expect("connector 1");
    station.flush(&mut store, now).expect("write");
    let before = store.len_bytes().expect("size");
    let start = Instant::now();
    for k in 0..messages {
        now = now.plus_millis(1000);
        let reading = Reading {
            energy_wh: 1000.0 + k as f64 * 3.7,
            power_w: 11_000.0,
        };
        station.meter(1, reading, now).expect("connector 1");
        station.handle_timeout(now);
        station.flush(&mut store, now).expect("write");
    }
    let seconds = start.elapsed().as_secs_f64();
    let bytes = store.len_bytes().expect("size") - before;
    let records = store.load().expect("load");
    let payloads = records
        .iter()
        .rev()
        .take(messages)
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect();
    (
        Run {
            messages,
            seconds,
            bytes,
        },
        payloads,
    )
}

/// The same messages into SQLite, one committed insert each.
fn sqlite(dir: &Path, payloads: &[String]) -> Run {
    let path = dir.join("queue.db");
    let db = rusqlite::Connection::open(&path).expect("sqlite");
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE queue (id INTEGER PRIMARY KEY, action TEXT NOT NULL, payload TEXT NOT NULL);",
    )
    .expect("schema");
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    let before = dir_size(dir);
    let start = Instant::now();
    for payload in payloads {
        db.execute(
            "INSERT INTO queue (action, payload) VALUES ('TransactionEvent', ?1)",
            [payload],
        )
        .expect("insert");
    }
    let seconds = start.elapsed().as_secs_f64();
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    let bytes = dir_size(dir).saturating_sub(before);
    Run {
        messages: payloads.len(),
        seconds,
        bytes,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let messages: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let base: PathBuf = args.next().map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ocpp-queue-bench-{}", std::process::id()))
    });
    let ours_dir = base.join("file-store");
    let peer_dir = base.join("sqlite");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&peer_dir).expect("directory");
    let (ours, payloads) = station(&ours_dir, messages);
    let peer = sqlite(&peer_dir, &payloads);
    let _ = std::fs::remove_dir_all(&base);
    println!("| queue ({messages} TransactionEvent Updated, fsync each) | msgs/s | bytes/msg |");
    println!("|---|---|---|");
    for (name, run) in [
        ("ocpp-station FileStore", &ours),
        ("SQLite WAL synchronous=FULL", &peer),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} |",
            run.messages as f64 / run.seconds,
            run.bytes as f64 / run.messages as f64
        );
    }
    println!(
        "ratio (ours / SQLite): {:.2}x the throughput, {:.2}x the bytes",
        (ours.messages as f64 / ours.seconds) / (peer.messages as f64 / peer.seconds),
        (ours.bytes as f64 / ours.messages as f64) / (peer.bytes as f64 / peer.messages as f64)
    );
}
