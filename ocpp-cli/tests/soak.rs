//! Soak test on real processes: `ocpp csms --record FILE` behind a TCP proxy that cuts every
//! connection at random moments, and one `ocpp station --store DIR` per OCPP version, killed
//! with SIGKILL at random moments and started again on the same store each time, until every
//! station has run its sessions and exited 0. Then the CSMS's record is checked:
//!
//! - 2.0.1 and 2.1: each transaction's TransactionEvents arrive in order, `seqNo` contiguous
//!   from 0, exactly one `Started` (seqNo 0) and one `Ended` (the last), a repeated `seqNo` only
//!   as an identical retransmission: so no message is lost, none out of order;
//! - 1.6: each StartTransaction is answered with one transactionId (`ocpp csms` gives a
//!   retransmitted StartTransaction the id it gave the first time), every MeterValues and
//!   StopTransaction names an id the CSMS gave, after its StartTransaction and before its one
//!   StopTransaction, repeats only as identical retransmissions;
//! - every version: exactly N transactions, one per session token `TOKEN-1`..`TOKEN-N`, each
//!   ended (`Local`, or `PowerLoss` for one a kill cut), meter readings that never go back.
//!
//! 1.6 MeterValues carry no sequence number, so a lost one would not show in the record; the
//! station's queue is the same code as for 2.x, where the sequence proves nothing is lost, and
//! each station exits 0 only with its queue empty.
//!
//! Each stack that runs the station core is soaked: `soak_station_runner` runs `ocpp station`
//! (ocpp-rs-rpc-tokio's `StationRunner`, a `FileStore`), `soak_embedded_runner` runs `ocpp
//! station --embedded` (ocpp-rs-embedded's `Runner` over embedded-io-async, a `FlashStore` on
//! the file-backed NOR flash `DIR/flash`). The two never overlap (a lock), so each has the
//! machine's cores to itself.
//!
//! By default each is the short run CI does: 15 sessions per version, 9 kills (3 per version),
//! 6 connection cuts, well under a minute. `OCPP_SOAK_KILLS` makes it a longer one: that many
//! kills in all (a third per version), ten sessions per kill and version (at least 5), 4/3 as
//! many connection cuts, 30 s per kill besides a minute to finish:
//!
//! ```sh
//! OCPP_SOAK_KILLS=30 cargo test -p ocpp-rs-cli --test soak -- --nocapture
//! OCPP_SOAK_KILLS=30 cargo test -p ocpp-rs-cli --test soak soak_embedded_runner -- --nocapture
//! ```
//!
//! `OCPP_SOAK_SESSIONS` (per version), `OCPP_SOAK_CUTS` and `OCPP_SOAK_SEED` override the
//! numbers of either run.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A small deterministic random source (xorshift64*), seeded per run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A duration between `low` and `high` milliseconds.
    fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.next() % (high - low + 1))
    }
}

/// One connection through the proxy: both sockets, and whether the CSMS's bytes are dropped.
struct Link {
    client: TcpStream,
    server: TcpStream,
    muted: Arc<AtomicBool>,
}

/// A TCP proxy in front of the CSMS that cuts every connection through it at once, after
/// dropping what the CSMS sends for a moment: the calls the station sends meanwhile reach the
/// CSMS (and its record), their answers are lost, so the station sends them again.
struct Proxy {
    addr: SocketAddr,
    open: Arc<Mutex<Vec<Link>>>,
    cuts: AtomicU64,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Arc<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a proxy port");
        let proxy = Arc::new(Proxy {
            addr: listener.local_addr().expect("an address"),
            open: Arc::default(),
            cuts: AtomicU64::new(0),
        });
        let open = proxy.open.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let muted = Arc::new(AtomicBool::new(false));
                let clones = (
                    client.try_clone(),
                    server.try_clone(),
                    client.try_clone(),
                    server.try_clone(),
                );
                let (Ok(client_out), Ok(server_out), Ok(client_link), Ok(server_link)) = clones
                else {
                    continue;
                };
                open.lock().unwrap().push(Link {
                    client: client_link,
                    server: server_link,
                    muted: muted.clone(),
                });
                let never = Arc::new(AtomicBool::new(false));
                std::thread::spawn(move || pipe(client, server_out, &never));
                std::thread::spawn(move || pipe(server, client_out, &muted));
            }
        });
        proxy
    }

    /// Drops what the CSMS sends on every connection for `mute`, then cuts them all.
    fn cut(&self, mute: Duration) {
        let links: Vec<Link> = self.open.lock().unwrap().drain(..).collect();
        for link in &links {
            link.muted.store(true, Ordering::Relaxed);
        }
        std::thread::sleep(mute);
        for link in links {
            let _ = link.client.shutdown(Shutdown::Both);
            let _ = link.server.shutdown(Shutdown::Both);
        }
        self.cuts.fetch_add(1, Ordering::Relaxed);
    }
}

/// Copies `from` to `to` (dropping the bytes while `muted`) until either ends.
fn pipe(mut from: TcpStream, mut to: TcpStream, muted: &AtomicBool) {
    use std::io::Write;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if !muted.load(Ordering::Relaxed) && to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// A directory under the system's temporary directory, removed when dropped (kept when the
/// test fails, for its logs).
struct TempDir(PathBuf, bool);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!("ocpp-soak-{name}-{nanos}"));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path, true)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if self.1 && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A child process killed (SIGKILL) and reaped when dropped, so a failing test leaves none.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How much disruption, and how many sessions.
#[derive(Debug, Clone, Copy)]
struct Plan {
    sessions: u32,
    kills: u32,
    cuts: u32,
    seed: u64,
    deadline: Duration,
    /// `ocpp station --embedded`.
    embedded: bool,
}

impl Plan {
    /// The plan of the environment's `OCPP_SOAK_*` variables (the module documentation).
    fn from_env(embedded: bool) -> Plan {
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let long = var("OCPP_SOAK_KILLS");
        let kills_in_all = long.unwrap_or(9);
        let kills = kills_in_all.div_ceil(3);
        let (sessions, cuts, deadline) = match long {
            None => (15, 6, Duration::from_secs(55)),
            Some(_) => (
                (10 * kills).max(5),
                (kills_in_all * 4 / 3).max(6),
                Duration::from_secs(60 + 30 * kills_in_all),
            ),
        };
        let sessions = var("OCPP_SOAK_SESSIONS").unwrap_or(sessions);
        let cuts = var("OCPP_SOAK_CUTS").unwrap_or(cuts);
        Plan {
            sessions: sessions as u32,
            kills: kills as u32,
            cuts: cuts as u32,
            seed: var("OCPP_SOAK_SEED").unwrap_or(clock | 1),
            deadline,
            embedded,
        }
    }
}

/// What one version's station went through.
#[derive(Debug, Default)]
struct Run {
    kills: u32,
    starts: u32,
}

/// Runs one station to completion, killing it `plan.kills` times at random moments.
fn station(version: &str, url: &str, dir: &Path, plan: Plan, seed: u64) -> Run {
    let mut random = Random(seed);
    let mut run = Run::default();
    let store = dir.join("store");
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < plan.deadline,
            "{version}: not done within {:?}",
            plan.deadline
        );
        run.starts += 1;
        let log = dir.join(format!("station-{}.log", run.starts));
        let mut guard = Guard(spawn_station(version, url, &store, &plan, &log));
        let child = &mut guard.0;
        if run.kills < plan.kills {
            let wait = random.millis(100, 2000);
            let end = Instant::now() + wait;
            while Instant::now() < end {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                run.kills += 1;
                continue;
            }
        }
        let status = wait_for(child, plan.deadline.saturating_sub(started.elapsed()));
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(
            status,
            Some(0),
            "{version}: ocpp station run {} failed (logs in {}):\n{}",
            run.starts,
            dir.display(),
            tail(&output, 40)
        );
        return run;
    }
}

fn spawn_station(version: &str, url: &str, store: &Path, plan: &Plan, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    let sessions = plan.sessions;
    Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .args(["station", "--url", url, "--ocpp", version])
        .args(plan.embedded.then_some("--embedded"))
        .arg("--store")
        .arg(store)
        .args(["--sessions", &sessions.to_string()])
        .args(["--meter-interval", "50", "--samples", "3"])
        .args(["--retry-wait", "100", "--give-up", "30"])
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("ocpp station starts")
}

/// The exit status, or `None` (killed) after `limit`.
fn wait_for(child: &mut Child, limit: Duration) -> Option<i32> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// One call the CSMS answered, from its record.
#[derive(Debug, Clone)]
struct Answered {
    station: String,
    action: String,
    request: Value,
    response: Value,
}

fn record(path: &Path) -> Vec<Answered> {
    let mut text = String::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(value.get("error").is_none(), "a CALLERROR: {line}");
            Answered {
                station: value["station"].as_str().unwrap().to_owned(),
                action: value["action"].as_str().unwrap().to_owned(),
                request: value["request"].clone(),
                response: value["response"].clone(),
            }
        })
        .collect()
}

/// What the record shows of one station's transactions.
#[derive(Debug, Default)]
struct Tally {
    /// Transaction-related messages, each counted once.
    messages: usize,
    /// Identical retransmissions.
    duplicates: usize,
    transactions: usize,
    power_loss: usize,
}

/// The energy readings of a transaction message's meter values.
fn energies(payload: &Value) -> Vec<f64> {
    let mut found = Vec::new();
    for key in ["meterValue", "transactionData"] {
        for value in payload[key].as_array().into_iter().flatten() {
            for sample in value["sampledValue"].as_array().into_iter().flatten() {
                let energy = sample
                    .get("measurand")
                    .is_none_or(|m| m == "Energy.Active.Import.Register");
                if energy {
                    let reading = match &sample["value"] {
                        Value::String(s) => s.parse().ok(),
                        other => other.as_f64(),
                    };
                    found.extend(reading);
                }
            }
        }
    }
    found
}

fn check_2x(station: &str, calls: &[&Answered], sessions: u32) -> Tally {
    let mut tally = Tally::default();
    // transactionId -> (the distinct events by seqNo, in arrival order)
    let mut transactions: HashMap<String, Vec<Value>> = HashMap::new();
    let mut order = Vec::new();
    for call in calls.iter().filter(|c| c.action == "TransactionEvent") {
        let event = &call.request;
        let id = event["transactionInfo"]["transactionId"]
            .as_str()
            .unwrap()
            .to_owned();
        let seq = event["seqNo"].as_u64().unwrap() as usize;
        let events = transactions.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            Vec::new()
        });
        if seq < events.len() {
            assert_eq!(
                events[seq], *event,
                "{station} {id}: seqNo {seq} again, but not the same message"
            );
            tally.duplicates += 1;
        } else {
            assert_eq!(
                seq,
                events.len(),
                "{station} {id}: seqNo {seq} after {} (a message lost or out of order)",
                events.len()
            );
            events.push(event.clone());
            tally.messages += 1;
        }
    }
    let mut tokens = BTreeSet::new();
    for id in &order {
        let events = &transactions[id];
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| e["eventType"].as_str().unwrap())
            .collect();
        assert_eq!(kinds[0], "Started", "{station} {id}: {kinds:?}");
        assert_eq!(kinds.last(), Some(&"Ended"), "{station} {id}: {kinds:?}");
        assert!(
            kinds[1..kinds.len() - 1].iter().all(|k| *k == "Updated"),
            "{station} {id}: {kinds:?}"
        );
        let token = events[0]["idToken"]["idToken"].as_str().unwrap().to_owned();
        assert!(
            tokens.insert(token.clone()),
            "{station}: {token} started twice"
        );
        let reason = events[events.len() - 1]["transactionInfo"]["stoppedReason"]
            .as_str()
            .unwrap_or("Local");
        match reason {
            "PowerLoss" => tally.power_loss += 1,
            "Local" => {}
            other => panic!("{station} {id}: ended {other}"),
        }
        let readings: Vec<f64> = events.iter().flat_map(energies).collect();
        assert!(
            readings.windows(2).all(|w| w[0] <= w[1]),
            "{station} {id}: the meter went back: {readings:?}"
        );
    }
    tally.transactions = order.len();
    let expected: BTreeSet<String> = (1..=sessions).map(|k| format!("TOKEN-{k}")).collect();
    assert_eq!(tokens, expected, "{station}: one transaction per session");
    tally
}

fn check_16(station: &str, calls: &[&Answered], sessions: u32) -> Tally {
    let mut tally = Tally::default();
    // transactionId -> its StartTransaction, then its other messages, distinct, in order.
    let mut transactions: HashMap<i64, Vec<(String, Value)>> = HashMap::new();
    let mut order = Vec::new();
    let mut seen: Vec<(String, Value)> = Vec::new();
    for call in calls {
        let message = (call.action.clone(), call.request.clone());
        let id = match call.action.as_str() {
            "StartTransaction" => call.response["transactionId"].as_i64().unwrap(),
            "MeterValues" | "StopTransaction" => call.request["transactionId"]
                .as_i64()
                .unwrap_or_else(|| panic!("{station}: no transactionId: {:?}", call.request)),
            _ => continue,
        };
        if seen.contains(&message) {
            tally.duplicates += 1;
            if call.action == "StartTransaction" {
                let first = transactions[&id][0].1.clone();
                assert_eq!(
                    first, call.request,
                    "{station}: id {id} given to two starts"
                );
            }
            continue;
        }
        seen.push(message.clone());
        tally.messages += 1;
        if call.action == "StartTransaction" {
            assert!(
                !transactions.contains_key(&id),
                "{station}: transactionId {id} given to two different StartTransactions"
            );
            order.push(id);
            transactions.insert(id, vec![message]);
            continue;
        }
        let messages = transactions.get_mut(&id).unwrap_or_else(|| {
            panic!(
                "{station}: {} for transactionId {id}, which the CSMS never gave",
                call.action
            )
        });
        assert!(
            messages.last().is_none_or(|(a, _)| a != "StopTransaction"),
            "{station} {id}: {} after its StopTransaction",
            call.action
        );
        messages.push(message);
    }
    let mut tokens = BTreeSet::new();
    for id in &order {
        let messages = &transactions[id];
        let (last, stop) = messages.last().unwrap();
        assert_eq!(last, "StopTransaction", "{station} {id}: never stopped");
        let token = messages[0].1["idTag"].as_str().unwrap().to_owned();
        assert!(
            tokens.insert(token.clone()),
            "{station}: {token} started twice"
        );
        match stop["reason"].as_str().unwrap_or("Local") {
            "PowerLoss" => tally.power_loss += 1,
            "Local" => {}
            other => panic!("{station} {id}: stopped {other}"),
        }
        let mut readings = vec![messages[0].1["meterStart"].as_f64().unwrap()];
        readings.extend(messages[1..].iter().flat_map(|(_, p)| energies(p)));
        readings.push(stop["meterStop"].as_f64().unwrap());
        assert!(
            readings.windows(2).all(|w| w[0] <= w[1]),
            "{station} {id}: the meter went back: {readings:?}"
        );
    }
    tally.transactions = order.len();
    let expected: BTreeSet<String> = (1..=sessions).map(|k| format!("TOKEN-{k}")).collect();
    assert_eq!(tokens, expected, "{station}: one transaction per session");
    tally
}

fn soak(plan: Plan) {
    println!("soak: {plan:?}");
    let dir = TempDir::new("run");
    let record_file = dir.0.join("record.jsonl");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let csms_addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let csms = Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .args([
            "csms",
            "--listen",
            &csms_addr.to_string(),
            "--ocpp",
            "2.0.1,2.1,1.6",
        ])
        .arg("--record")
        .arg(&record_file)
        .stdout(Stdio::null())
        .spawn()
        .expect("ocpp csms starts");
    let csms = Guard(csms);
    let ready = Instant::now();
    while TcpStream::connect(csms_addr).is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(20),
            "ocpp csms listens"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let proxy = Proxy::start(csms_addr);

    // The proxy cuts every connection now and then, `plan.cuts` times.
    let done = Arc::new(AtomicBool::new(false));
    let cutter = {
        let (proxy, done) = (proxy.clone(), done.clone());
        let mut random = Random(plan.seed ^ 0x5eed);
        std::thread::spawn(move || {
            for _ in 0..plan.cuts {
                let end = Instant::now() + random.millis(300, 3000);
                while Instant::now() < end && !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if done.load(Ordering::Relaxed) {
                    break;
                }
                proxy.cut(random.millis(100, 1200));
            }
        })
    };

    let versions: [&'static str; 3] = ["1.6", "2.0.1", "2.1"];
    let started = Instant::now();
    let runs: Vec<_> = versions
        .iter()
        .enumerate()
        .map(|(n, &version)| {
            let identity = format!("SOAK-{}", version.replace('.', ""));
            let url = format!("ws://{}/ocpp/{identity}", proxy.addr);
            let station_dir = dir.0.join(&identity);
            std::fs::create_dir_all(&station_dir).unwrap();
            let seed = plan
                .seed
                .wrapping_add((n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
                | 1;
            std::thread::spawn(move || (identity, station(version, &url, &station_dir, plan, seed)))
        })
        .collect();
    let runs: Vec<(String, Run)> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    done.store(true, Ordering::Relaxed);
    cutter.join().unwrap();
    let elapsed = started.elapsed();
    drop(csms);

    let calls = record(&record_file);
    let mut total = Tally::default();
    let mut kills = 0;
    for ((identity, run), version) in runs.iter().zip(versions) {
        let mine: Vec<&Answered> = calls.iter().filter(|c| c.station == *identity).collect();
        let tally = if version == "1.6" {
            check_16(identity, &mine, plan.sessions)
        } else {
            check_2x(identity, &mine, plan.sessions)
        };
        assert_eq!(tally.transactions, plan.sessions as usize, "{identity}");
        println!(
            "soak: {identity}: {} runs, {} kills, {} transactions ({} ended by PowerLoss), \
             {} transaction messages, {} duplicates, {} calls in all",
            run.starts,
            run.kills,
            tally.transactions,
            tally.power_loss,
            tally.messages,
            tally.duplicates,
            mine.len()
        );
        kills += run.kills;
        total.messages += tally.messages;
        total.duplicates += tally.duplicates;
        total.transactions += tally.transactions;
        total.power_loss += tally.power_loss;
    }
    let stack = if plan.embedded {
        "ocpp station --embedded"
    } else {
        "ocpp station"
    };
    println!(
        "soak ({stack}): {kills} kills, {} connection cuts, {} transactions ({} ended by PowerLoss), \
         {} transaction messages, {} duplicates, 0 lost, {:.1} s (seed {})",
        proxy.cuts.load(Ordering::Relaxed),
        total.transactions,
        total.power_loss,
        total.messages,
        total.duplicates,
        elapsed.as_secs_f64(),
        plan.seed
    );
    // A station that finished before its last kill came is not killed again.
    assert!(
        plan.kills == 0 || kills > 0,
        "no station was killed: the test proves nothing"
    );
}

/// The soaks one after the other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `ocpp station` on ocpp-rs-rpc-tokio's `StationRunner` and a `FileStore`.
#[test]
fn soak_station_runner() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    soak(Plan::from_env(false));
}

/// `ocpp station --embedded` on ocpp-rs-embedded's `Runner` and a `FlashStore` on a
/// file-backed flash.
#[cfg(feature = "embedded")]
#[test]
fn soak_embedded_runner() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    soak(Plan::from_env(true));
}

/// The record's checks fail on what they are there to catch.
mod checks {
    use super::*;
    use serde_json::json;

    fn event(id: &str, kind: &str, seq: u64, token: &str) -> Answered {
        let mut request = json!({"eventType": kind, "seqNo": seq,
            "transactionInfo": {"transactionId": id}});
        if kind == "Started" {
            request["idToken"] = json!({"idToken": token, "type": "ISO14443"});
        }
        Answered {
            station: "CS".into(),
            action: "TransactionEvent".into(),
            request,
            response: json!({}),
        }
    }

    fn check(calls: &[Answered]) -> Tally {
        check_2x("CS", &calls.iter().collect::<Vec<_>>(), 1)
    }

    #[test]
    fn a_complete_transaction_passes_with_its_retransmissions() {
        let tally = check(&[
            event("T1", "Started", 0, "TOKEN-1"),
            event("T1", "Updated", 1, ""),
            event("T1", "Updated", 1, ""),
            event("T1", "Ended", 2, ""),
        ]);
        assert_eq!((tally.messages, tally.duplicates), (3, 1));
    }

    #[test]
    #[should_panic(expected = "a message lost or out of order")]
    fn a_lost_message_fails() {
        check(&[
            event("T1", "Started", 0, "TOKEN-1"),
            event("T1", "Ended", 2, ""),
        ]);
    }

    #[test]
    #[should_panic(expected = "not the same message")]
    fn a_repeat_that_differs_fails() {
        let mut changed = event("T1", "Started", 0, "TOKEN-1");
        changed.request["timestamp"] = json!("2025-01-01T00:00:00Z");
        check(&[event("T1", "Started", 0, "TOKEN-1"), changed]);
    }

    #[test]
    #[should_panic(expected = "never stopped")]
    fn a_1_6_transaction_without_its_stop_fails() {
        let start = Answered {
            station: "CS".into(),
            action: "StartTransaction".into(),
            request: json!({"connectorId": 1, "idTag": "TOKEN-1", "meterStart": 0,
                "timestamp": "2025-01-01T00:00:00Z"}),
            response: json!({"transactionId": 7, "idTagInfo": {"status": "Accepted"}}),
        };
        check_16("CS", &[&start], 1);
    }

    #[test]
    #[should_panic(expected = "which the CSMS never gave")]
    fn a_1_6_stop_of_an_unknown_transaction_fails() {
        let stop = Answered {
            station: "CS".into(),
            action: "StopTransaction".into(),
            request: json!({"transactionId": 8, "meterStop": 0,
                "timestamp": "2025-01-01T00:00:00Z"}),
            response: json!({}),
        };
        check_16("CS", &[&stop], 1);
    }
}
