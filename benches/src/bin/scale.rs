//! Scale on one box: tens of thousands of stations against ocpp-rs, ocpp-kit 0.3.0 and Node
//! `ocpp-rpc` 2.2.1, from the same load generator in the same run.
//!
//! ```text
//! cargo run --release --manifest-path benches/Cargo.toml --bin scale -- \
//!     [--stations 50000] [--servers 4] [--generators 4] [--peers rust,kit,node] \
//!     [--rates 1000,2000,4000,8000,12000,16000] [--seconds 10] [--fresh 4000]
//! ```
//!
//! A process here may hold at most 20,000 open files, so every CSMS runs as `--servers`
//! single-threaded processes on one port (ours and ocpp-kit's with `SO_REUSEPORT`, Node's with
//! its `cluster` module), and the stations come from `--generators` processes, each connecting from its own
//! loopback address (127.0.0.2, .3, ...) so the ephemeral port range is no limit. For each peer:
//!
//! 1. **Hold**: every station connects (OCPP 2.0.1), boots, and heartbeats every 60 s. The
//!    CSMS processes' resident memory, idle and holding them all, gives the cost per connection.
//! 2. **Load**: TransactionEvent and MeterValues, alternately, from stations in turn, at each
//!    rate in `--rates` (calls per second over all generators, sent on a schedule, not waiting
//!    for answers), `--seconds` each: answered calls per second, p50 and p99 latency.
//! 3. **Connection rate**: `--fresh` more stations connect, boot and leave, 64 at a time per
//!    generator, over ws:// and over wss:// (TLS 1.3, a CA-signed P-256 certificate).
//! 4. **Reconnect storm**: every CSMS process is killed and started again; every station
//!    reconnects by the OCPP back-off (RetryBackOffWaitMinimum 2 s, RandomRange 5 s, doubling)
//!    and boots: the time until all are booted again, the CSMS's peak memory, the longest any
//!    station was without a connection.
//!
//! The generator offers no permessage-deflate (only ocpp-rs would accept it: ocpp-kit is built
//! without its `compression` feature, `ocpp-rpc`'s `ws` server has it off), so every CSMS does
//! the same work per frame. Every CSMS validates what it receives against the schemas
//! (ocpp-rpc in strict mode).
//!
//! Everything stops by itself: each phase has a bound, and the generators and servers are
//! killed when the run ends. `benches/scale.sh` builds and runs it and prints the table.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ocpp_rpc_tokio::{ClientConfig, Connection, Handlers, RetryBackOff, Server, connect};
use ocpp_rs_benches::scale::{self, HEARTBEAT, Pki};
use ocpp_types::{OcppVersion, v201};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Stations a generator connects at once while measuring (the server's accept queue and
/// handshake limit stay far from full).
const CONCURRENCY: usize = 64;
/// The longest a phase may take before the run gives up on it.
const PHASE_BOUND: Duration = Duration::from_secs(300);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let Ok(runtime) = runtime else {
        eprintln!("scale: no tokio runtime");
        std::process::exit(2);
    };
    let outcome = match args.first().map(String::as_str) {
        Some("serve") => runtime.block_on(serve(&args[1..])),
        Some("serve-ocpp-kit") => runtime.block_on(kit::serve(&args[1..])),
        Some("generate") => runtime.block_on(generate(&args[1..])),
        _ => runtime.block_on(orchestrate(&args)),
    };
    if let Err(error) = outcome {
        eprintln!("scale: {error}");
        std::process::exit(1);
    }
}

type Fallible<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// `--name value` from `args`, or `default`.
fn option<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Fallible<T> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(at) => args
            .get(at + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{name} needs a value").into()),
    }
}

// ---- The ocpp-rs CSMS process ---------------------------------------------------------------

/// `serve PORT CERT KEY`: one single-threaded CSMS process on PORT (ws://) and PORT+1 (wss://),
/// both bound with SO_REUSEPORT so that several such processes share them.
async fn serve(args: &[String]) -> Fallible {
    let port: u16 = args.first().ok_or("serve PORT CERT KEY")?.parse()?;
    let (cert, key) = (
        Path::new(args.get(1).ok_or("no CERT")?),
        Path::new(args.get(2).ok_or("no KEY")?),
    );
    let handlers = scale::handlers();
    let mut config = scale::config();
    let plain = Server::from_listener(
        scale::reuse_port_listener(port)?,
        config.clone(),
        handlers.clone(),
    )?
    .start()?;
    config.tls = Some(ocpp_rpc_tokio::pem::server_config(cert, key, None)?);
    let tls =
        Server::from_listener(scale::reuse_port_listener(port + 1)?, config, handlers)?.start()?;
    println!("ready {}", std::process::id());
    std::future::pending::<()>().await;
    drop((plain, tls));
    Ok(())
}

// ---- The ocpp-kit CSMS process --------------------------------------------------------------

/// ocpp-kit 0.3.0's CSMS (`transport::Csms`), configured as ours is: OCPP 2.0.1, the same four
/// answers, no pings, 19,000 connections, 4,096 handshakes at once.
mod kit {
    use ocpp_kit::engine::IncomingRequest;
    use ocpp_kit::rpc::CallError;
    use ocpp_kit::transport::{AcceptEveryStation, BoxFuture, Csms, Ctx, Handler, ServerTls};
    use ocpp_kit::types::DateTime;
    use ocpp_kit::{RawValue, Version, v2_0_1};

    use super::{Fallible, HEARTBEAT, scale};

    struct Answers;

    impl Handler for Answers {
        fn on_request(
            &self,
            ctx: Ctx,
            request: IncomingRequest,
        ) -> BoxFuture<'_, Result<Box<RawValue>, CallError>> {
            Box::pin(async move {
                let action = v2_0_1::Action::from_wire(&request.action)
                    .ok_or_else(|| CallError::not_implemented(&request.action))?;
                let request =
                    v2_0_1::CsRequest::decode(action, &request.payload, ctx.decode_options())?;
                match request {
                    v2_0_1::CsRequest::BootNotification(_) => {
                        ctx.reply(&v2_0_1::BootNotificationResponse::new(
                            DateTime::now(),
                            HEARTBEAT as _,
                            v2_0_1::RegistrationStatus::Accepted,
                        ))
                    }
                    v2_0_1::CsRequest::Heartbeat(_) => {
                        ctx.reply(&v2_0_1::HeartbeatResponse::new(DateTime::now()))
                    }
                    v2_0_1::CsRequest::TransactionEvent(_) => {
                        ctx.reply(&v2_0_1::TransactionEventResponse::new())
                    }
                    v2_0_1::CsRequest::MeterValues(_) => {
                        ctx.reply(&v2_0_1::MeterValuesResponse::new())
                    }
                    other => Err(CallError::not_supported(other.action().as_str())),
                }
            })
        }
    }

    /// `serve-ocpp-kit PORT CERT KEY`: as `serve`, on ocpp-kit.
    pub async fn serve(args: &[String]) -> Fallible {
        let port: u16 = args
            .first()
            .ok_or("serve-ocpp-kit PORT CERT KEY")?
            .parse()?;
        let (cert, key) = (args.get(1).ok_or("no CERT")?, args.get(2).ok_or("no KEY")?);
        let build = |port: u16, tls: Option<ServerTls>| {
            let mut builder = Csms::builder()
                .bind((std::net::Ipv4Addr::LOCALHOST, port).into())
                .versions([Version::V2_0_1])
                .authenticate(AcceptEveryStation)
                .handler(Answers)
                .max_connections(19_000)
                .max_pending_handshakes(4096)
                .ping_interval(None);
            if let Some(tls) = tls {
                builder = builder.tls(tls);
            }
            builder.build()
        };
        let plain = build(port, None)?;
        let tls = build(port + 1, Some(ServerTls::new(cert, key)?))?;
        let plain = tokio::spawn(plain.serve_on(scale::reuse_port_listener(port)?));
        let tls = tokio::spawn(tls.serve_on(scale::reuse_port_listener(port + 1)?));
        println!("ready {}", std::process::id());
        let (plain, tls) = tokio::join!(plain, tls);
        Err(format!("ocpp-kit's servers ended: {plain:?}, {tls:?}").into())
    }
}

// ---- The load generator process -------------------------------------------------------------

/// A generator's view of its stations.
struct Fleet {
    plain_url: String,
    tls_url: String,
    source: IpAddr,
    tls: Arc<ocpp_rpc_tokio::rustls::ClientConfig>,
    /// The first station's number (identities are unique over all generators).
    first: usize,
    /// Each station's connection while it has one.
    connections: Vec<Mutex<Option<Connection>>>,
    /// Stations booted at least once since the last `storm` command.
    booted: AtomicUsize,
    /// Microseconds since the Unix epoch of the last boot, and the longest time (µs) one station
    /// spent without a connection, since the last `storm` command.
    last_boot_us: AtomicU64,
    longest_down_us: AtomicU64,
    attempts: AtomicU64,
    /// Whether stations count their reconnections (set by `storm`).
    storm: std::sync::atomic::AtomicBool,
}

/// `generate PLAIN_URL TLS_URL SOURCE FIRST COUNT CA`: COUNT stations, driven by commands on
/// stdin, one answer line each on stdout.
async fn generate(args: &[String]) -> Fallible {
    let [plain_url, tls_url, source, first, count, ca] = args else {
        return Err("generate PLAIN_URL TLS_URL SOURCE FIRST COUNT CA".into());
    };
    let count: usize = count.parse()?;
    let fleet = Arc::new(Fleet {
        plain_url: plain_url.clone(),
        tls_url: tls_url.clone(),
        source: source.parse()?,
        tls: ocpp_rpc_tokio::pem::client_config(Path::new(ca), None)?,
        first: first.parse()?,
        connections: (0..count).map(|_| Mutex::new(None)).collect(),
        booted: AtomicUsize::new(0),
        last_boot_us: AtomicU64::new(0),
        longest_down_us: AtomicU64::new(0),
        attempts: AtomicU64::new(0),
        storm: Default::default(),
    });
    let mut commands = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = commands.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["hold"] => hold(&fleet).await,
            ["load", rate, seconds] => load(&fleet, rate.parse()?, seconds.parse()?).await,
            ["fresh", count, tls] => fresh(&fleet, count.parse()?, *tls == "tls").await,
            ["storm"] => {
                fleet.booted.store(0, Ordering::SeqCst);
                fleet.longest_down_us.store(0, Ordering::SeqCst);
                fleet.attempts.store(0, Ordering::SeqCst);
                fleet.storm.store(true, Ordering::SeqCst);
                "armed".to_owned()
            }
            ["storm?"] => storm_report(&fleet).await,
            ["quit"] => return Ok(()),
            _ => format!("error unknown command {line:?}"),
        };
        println!("{answer}");
    }
    Ok(())
}

fn client_config(fleet: &Fleet, url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(url, vec![OcppVersion::V201]);
    config.ping_interval = None;
    config.pong_timeout = Duration::from_secs(3600);
    config.local_address = Some(fleet.source);
    // Only ocpp-rs would accept it: without it every CSMS does the same work per frame.
    config.permessage_deflate = false;
    config.connect_timeout = Duration::from_secs(60);
    config.tls = Some(fleet.tls.clone());
    config
}

async fn connect_and_boot(config: &ClientConfig) -> Option<Connection> {
    let connection = connect(config, Handlers::new()).await.ok()?;
    let boot: v201::BootNotificationRequest =
        serde_json::from_str(&ocpp_rs_benches::boot_notification()).ok()?;
    let answer = connection.call(boot).await.ok()?;
    (answer.status == v201::RegistrationStatusEnumType::Accepted).then_some(connection)
}

/// Connects every station (CONCURRENCY at a time), each then living on in its own task:
/// heartbeating, and reconnecting by the back-off when its connection is lost. Answers
/// `held OK MILLIS`.
async fn hold(fleet: &Arc<Fleet>) -> String {
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    for index in 0..fleet.connections.len() {
        let (fleet, permits, done) = (fleet.clone(), permits.clone(), done.clone());
        tokio::spawn(async move {
            let permit = permits.acquire_owned().await;
            let first = live(&fleet, index).await;
            drop(permit);
            let _ = done.send(first.is_some());
            if let Some(connection) = first {
                station(fleet, index, connection).await;
            }
        });
    }
    drop(done);
    let mut held = 0;
    // Each task lives on after its answer, so count answers rather than wait for the channel
    // to close.
    for _ in 0..fleet.connections.len() {
        match finished.recv().await {
            Some(ok) => held += usize::from(ok),
            None => break,
        }
    }
    format!("held {held} {}", started.elapsed().as_millis())
}

/// One connection and boot of station `index`, recorded in the fleet.
async fn live(fleet: &Fleet, index: usize) -> Option<Connection> {
    let url = format!("{}/S{:05}", fleet.plain_url, fleet.first + index);
    fleet.attempts.fetch_add(1, Ordering::Relaxed);
    let connection = connect_and_boot(&client_config(fleet, &url)).await?;
    if let Ok(mut slot) = fleet.connections[index].lock() {
        *slot = Some(connection.clone());
    }
    Some(connection)
}

/// A station's life after its first boot: heartbeats while connected; when the connection is
/// lost, reconnection by the back-off until it has booted again.
async fn station(fleet: Arc<Fleet>, index: usize, mut connection: Connection) {
    let backoff = RetryBackOff {
        wait_minimum: Duration::from_secs(2),
        random_range: Duration::from_secs(5),
        repeat_times: 3,
    };
    let mut random = Random(index as u64 * 0x9e37_79b9_7f4a_7c15 + 1);
    loop {
        let heartbeats = async {
            loop {
                tokio::time::sleep(Duration::from_secs(HEARTBEAT)).await;
                let _ = connection.call(v201::HeartbeatRequest::default()).await;
            }
        };
        tokio::select! {
            () = connection.closed() => {}
            () = heartbeats => {}
        }
        let lost = Instant::now();
        if let Ok(mut slot) = fleet.connections[index].lock() {
            *slot = None;
        }
        let mut attempt = 0;
        connection = loop {
            tokio::time::sleep(backoff.delay(attempt, random.next())).await;
            if let Some(connection) = live(&fleet, index).await {
                break connection;
            }
            attempt = attempt.saturating_add(1);
        };
        if fleet.storm.load(Ordering::SeqCst) {
            let down = lost.elapsed().as_micros() as u64;
            fleet.longest_down_us.fetch_max(down, Ordering::SeqCst);
            fleet.last_boot_us.fetch_max(epoch_us(), Ordering::SeqCst);
            fleet.booted.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Waits until every station has booted again since `storm` (or the bound): `storm BOOTED
/// LAST_BOOT_EPOCH_US LONGEST_DOWN_US ATTEMPTS`.
async fn storm_report(fleet: &Fleet) -> String {
    let deadline = Instant::now() + PHASE_BOUND;
    while fleet.booted.load(Ordering::SeqCst) < fleet.connections.len() && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fleet.storm.store(false, Ordering::SeqCst);
    format!(
        "storm {} {} {} {}",
        fleet.booted.load(Ordering::SeqCst),
        fleet.last_boot_us.load(Ordering::SeqCst),
        fleet.longest_down_us.load(Ordering::SeqCst),
        fleet.attempts.load(Ordering::SeqCst),
    )
}

fn epoch_us() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

/// Calls at `rate` per second for `seconds`, TransactionEvent and MeterValues alternately, each
/// from the next connected station; answers `latencies FAILED ELAPSED_MS US US ...` once every call has
/// ended (ELAPSED_MS: from the first call to the last answer).
async fn load(fleet: &Arc<Fleet>, rate: f64, seconds: f64) -> String {
    let transaction: Option<v201::TransactionEventRequest> =
        serde_json::from_str(&ocpp_rs_benches::transaction_event()).ok();
    let meter: Option<v201::MeterValuesRequest> =
        serde_json::from_str(&ocpp_rs_benches::meter_values_201()).ok();
    let (Some(transaction), Some(meter)) = (transaction, meter) else {
        return "error the payloads do not decode".to_owned();
    };
    let calls = (rate * seconds) as usize;
    let started = tokio::time::Instant::now();
    let (done, mut results) = tokio::sync::mpsc::unbounded_channel();
    let mut next = 0;
    for call in 0..calls {
        tokio::time::sleep_until(started + Duration::from_secs_f64(call as f64 / rate)).await;
        let connection = (0..fleet.connections.len()).find_map(|_| {
            next = (next + 1) % fleet.connections.len();
            fleet.connections[next].lock().ok()?.clone()
        });
        let Some(connection) = connection else {
            let _ = done.send(None);
            continue;
        };
        let (transaction, meter, done) = (transaction.clone(), meter.clone(), done.clone());
        tokio::spawn(async move {
            let at = Instant::now();
            let ok = if call % 2 == 0 {
                connection.call(transaction).await.is_ok()
            } else {
                connection.call(meter).await.is_ok()
            };
            let _ = done.send(ok.then(|| at.elapsed().as_micros() as u64));
        });
    }
    drop(done);
    let (mut failed, mut latencies) = (0, Vec::with_capacity(calls));
    while let Some(result) = results.recv().await {
        match result {
            Some(us) => latencies.push(us.to_string()),
            None => failed += 1,
        }
    }
    let elapsed = started.elapsed().as_millis();
    format!("latencies {failed} {elapsed} {}", latencies.join(" "))
}

/// `count` new stations connect (over TLS with `tls`), boot and leave, CONCURRENCY at a time:
/// `fresh OK MILLIS`.
async fn fresh(fleet: &Arc<Fleet>, count: usize, tls: bool) -> String {
    static ROUND: AtomicUsize = AtomicUsize::new(0);
    let round = ROUND.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let queue: Arc<Mutex<VecDeque<usize>>> = Arc::new(Mutex::new((0..count).collect()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (fleet, queue) = (fleet.clone(), queue.clone());
        workers.spawn(async move {
            let mut ok = 0;
            while let Some(i) = queue.lock().ok().and_then(|mut q| q.pop_front()) {
                let base = if tls {
                    &fleet.tls_url
                } else {
                    &fleet.plain_url
                };
                let url = format!("{base}/F{round}-{}", fleet.first + i);
                if let Some(connection) = connect_and_boot(&client_config(&fleet, &url)).await {
                    connection.close().await;
                    ok += 1;
                }
            }
            ok
        });
    }
    let mut ok = 0;
    while let Some(result) = workers.join_next().await {
        ok += result.unwrap_or(0);
    }
    format!("fresh {ok} {}", started.elapsed().as_millis())
}

/// xorshift64: the back-off's random part, different per station, no dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
}

// ---- The orchestrator -----------------------------------------------------------------------

/// A peer CSMS: how to start its processes.
#[derive(Clone, Copy, PartialEq)]
enum Peer {
    Rust,
    Kit,
    Node,
}

impl Peer {
    fn name(self) -> &'static str {
        match self {
            Peer::Rust => "ocpp-rs",
            Peer::Kit => "ocpp-kit 0.3.0",
            Peer::Node => "Node ocpp-rpc 2.2.1",
        }
    }
}

/// The CSMS processes of a peer; all their pids (for memory).
struct Csms {
    children: Vec<Child>,
    pids: Vec<u32>,
}

impl Csms {
    async fn start(peer: Peer, servers: usize, port: u16, pki: &Pki) -> Fallible<Csms> {
        let exe = std::env::current_exe()?;
        let mut children = Vec::new();
        let mut pids = Vec::new();
        let commands: Vec<Command> = match peer {
            Peer::Rust | Peer::Kit => (0..servers)
                .map(|_| {
                    let mut command = Command::new(&exe);
                    let role = if peer == Peer::Rust {
                        "serve"
                    } else {
                        "serve-ocpp-kit"
                    };
                    command.arg(role).arg(port.to_string());
                    command.arg(&pki.cert).arg(&pki.key);
                    command
                })
                .collect(),
            Peer::Node => {
                let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("node/scale-server.js");
                let mut command = Command::new("node");
                command
                    .arg(script)
                    .arg(port.to_string())
                    .arg(servers.to_string());
                command.arg(&pki.cert).arg(&pki.key);
                vec![command]
            }
        };
        for mut command in commands {
            let mut child = command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let stdout = child.stdout.take().ok_or("no stdout")?;
            let line = tokio::time::timeout(
                Duration::from_secs(60),
                BufReader::new(stdout).lines().next_line(),
            )
            .await??
            .ok_or("the CSMS ended before it was ready")?;
            // `ready PID...`: the process and, for Node, its workers.
            pids.extend(
                line.split_whitespace()
                    .skip(1)
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
            children.push(child);
        }
        Ok(Csms { children, pids })
    }

    fn rss_kib(&self) -> u64 {
        self.pids
            .iter()
            .map(|&pid| ocpp_rs_benches::rss_kib(pid))
            .sum()
    }

    async fn kill(mut self) {
        for pid in &self.pids {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        for child in &mut self.children {
            let _ = child.kill().await;
        }
    }
}

/// A generator process and its command line.
struct Generator {
    _child: Child,
    stdin: ChildStdin,
    answers: Lines<BufReader<ChildStdout>>,
}

impl Generator {
    async fn ask(&mut self, command: &str) -> Fallible<String> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        let answer = tokio::time::timeout(PHASE_BOUND * 2, self.answers.next_line())
            .await??
            .ok_or("a generator ended")?;
        if answer.starts_with("error") {
            return Err(answer.into());
        }
        Ok(answer)
    }
}

/// Sends `command(i)` to every generator at once and returns their answers.
async fn ask_all(
    generators: &mut [Generator],
    command: impl Fn(usize) -> String,
) -> Fallible<Vec<String>> {
    let asks = generators
        .iter_mut()
        .enumerate()
        .map(|(i, g)| {
            let command = command(i);
            async move { g.ask(&command).await }
        })
        .collect::<Vec<_>>();
    let mut answers = Vec::new();
    for answer in futures_util::future::join_all(asks).await {
        answers.push(answer?);
    }
    Ok(answers)
}

fn free_port_pair() -> Fallible<u16> {
    for _ in 0..100 {
        let first = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = first.local_addr()?.port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err("no two free ports in a row".into())
}

/// What one peer measured.
#[derive(Default)]
struct Figures {
    held: usize,
    connect_secs: f64,
    idle_kib: u64,
    held_kib: u64,
    rates: Vec<(f64, f64, f64, f64, usize)>,
    fresh_plain: f64,
    fresh_tls: f64,
    storm_booted: usize,
    storm_secs: f64,
    storm_peak_kib: u64,
    storm_longest_down_secs: f64,
    storm_attempts: u64,
}

async fn orchestrate(args: &[String]) -> Fallible {
    let stations: usize = option(args, "--stations", 50_000)?;
    let servers: usize = option(args, "--servers", 4)?;
    let generators: usize = option(args, "--generators", 4)?;
    let peers: String = option(args, "--peers", "rust,kit,node".to_owned())?;
    let rates: String = option(
        args,
        "--rates",
        "1000,2000,4000,8000,12000,16000".to_owned(),
    )?;
    let seconds: f64 = option(args, "--seconds", 10.0)?;
    let fresh_count: usize = option(args, "--fresh", 4000)?;
    let rates: Vec<f64> = rates.split(',').filter_map(|r| r.parse().ok()).collect();
    let dir = std::env::temp_dir().join(format!("ocpp-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let pki = scale::pki(&dir)?;

    let mut table = Vec::new();
    for peer in peers.split(',') {
        let peer = match peer {
            "rust" => Peer::Rust,
            "kit" => Peer::Kit,
            "node" => Peer::Node,
            other => return Err(format!("unknown peer {other:?} (rust, kit, node)").into()),
        };
        eprintln!(
            "== {}: {stations} stations, {servers} CSMS processes",
            peer.name()
        );
        let figures = run_peer(
            peer,
            stations,
            servers,
            generators,
            &rates,
            seconds,
            fresh_count,
            &pki,
        )
        .await?;
        table.push((peer, figures));
    }
    let _ = std::fs::remove_dir_all(&dir);
    print_table(&table, stations, servers, generators, seconds);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn run_peer(
    peer: Peer,
    stations: usize,
    servers: usize,
    generator_count: usize,
    rates: &[f64],
    seconds: f64,
    fresh_count: usize,
    pki: &Pki,
) -> Fallible<Figures> {
    let port = free_port_pair()?;
    let csms = Csms::start(peer, servers, port, pki).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut figures = Figures {
        idle_kib: csms.rss_kib(),
        ..Figures::default()
    };

    let exe = std::env::current_exe()?;
    let share = stations.div_ceil(generator_count);
    let mut generators = Vec::new();
    for g in 0..generator_count {
        let first = g * share;
        let count = share.min(stations.saturating_sub(first));
        let mut child = Command::new(&exe)
            .arg("generate")
            .arg(format!("ws://127.0.0.1:{port}"))
            .arg(format!("wss://localhost:{}", port + 1))
            .arg(format!("127.0.0.{}", 2 + g))
            .arg(first.to_string())
            .arg(count.to_string())
            .arg(&pki.ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let answers = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        generators.push(Generator {
            _child: child,
            stdin,
            answers,
        });
    }

    // 1. Hold.
    let answers = ask_all(&mut generators, |_| "hold".to_owned()).await?;
    for answer in &answers {
        let words: Vec<&str> = answer.split_whitespace().collect();
        figures.held += words
            .get(1)
            .and_then(|w| w.parse::<usize>().ok())
            .unwrap_or(0);
        let ms: f64 = words.get(2).and_then(|w| w.parse().ok()).unwrap_or(0.0);
        figures.connect_secs = figures.connect_secs.max(ms / 1000.0);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    figures.held_kib = csms.rss_kib();
    eprintln!(
        "   held {} in {:.1} s; {} KiB -> {} KiB",
        figures.held, figures.connect_secs, figures.idle_kib, figures.held_kib
    );

    // 2. Load.
    for &rate in rates {
        let per = rate / generator_count as f64;
        let answers = ask_all(&mut generators, |_| format!("load {per} {seconds}")).await?;
        let (mut failed, mut elapsed) = (0, seconds);
        let mut latencies: Vec<u64> = Vec::new();
        for answer in &answers {
            let mut words = answer.split_whitespace().skip(1);
            failed += words
                .next()
                .and_then(|w| w.parse::<usize>().ok())
                .unwrap_or(0);
            let ms = words
                .next()
                .and_then(|w| w.parse::<f64>().ok())
                .unwrap_or(0.0);
            elapsed = elapsed.max(ms / 1000.0);
            latencies.extend(words.filter_map(|w| w.parse::<u64>().ok()));
        }
        latencies.sort_unstable();
        let quantile = |q: f64| ocpp_rs_benches::quantile_ms(&latencies, q);
        // Answers per second from the first call to the last answer: below the offered rate
        // once the CSMS cannot keep up.
        let answered = latencies.len() as f64 / elapsed;
        eprintln!(
            "   load {rate}/s: {answered:.0}/s answered, p50 {:.1} ms, p99 {:.1} ms, {failed} failed",
            quantile(0.5),
            quantile(0.99)
        );
        figures
            .rates
            .push((rate, answered, quantile(0.5), quantile(0.99), failed));
    }

    // 3. Connection rate.
    for tls in [false, true] {
        let per = fresh_count / generator_count;
        let kind = if tls { "tls" } else { "plain" };
        let answers = ask_all(&mut generators, |_| format!("fresh {per} {kind}")).await?;
        let (mut ok, mut secs) = (0usize, 0f64);
        for answer in &answers {
            let words: Vec<&str> = answer.split_whitespace().collect();
            ok += words
                .get(1)
                .and_then(|w| w.parse::<usize>().ok())
                .unwrap_or(0);
            let ms: f64 = words.get(2).and_then(|w| w.parse().ok()).unwrap_or(0.0);
            secs = secs.max(ms / 1000.0);
        }
        let rate = ok as f64 / secs.max(1e-9);
        eprintln!("   {kind} connections: {ok} in {secs:.2} s = {rate:.0}/s");
        if tls {
            figures.fresh_tls = rate;
        } else {
            figures.fresh_plain = rate;
        }
    }

    // 4. Reconnect storm.
    ask_all(&mut generators, |_| "storm".to_owned()).await?;
    csms.kill().await;
    let csms = Csms::start(peer, servers, port, pki).await?;
    let restarted = epoch_us_f();
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = {
        let (peak, pids) = (peak.clone(), csms.pids.clone());
        tokio::spawn(async move {
            loop {
                let rss: u64 = pids.iter().map(|&pid| ocpp_rs_benches::rss_kib(pid)).sum();
                peak.fetch_max(rss, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let answers = ask_all(&mut generators, |_| "storm?".to_owned()).await?;
    sampling.abort();
    figures.storm_peak_kib = peak.load(Ordering::Relaxed);
    let mut last_boot = 0u64;
    for answer in &answers {
        let words: Vec<u64> = answer
            .split_whitespace()
            .skip(1)
            .filter_map(|w| w.parse().ok())
            .collect();
        if let [booted, last, down, attempts] = words[..] {
            figures.storm_booted += booted as usize;
            last_boot = last_boot.max(last);
            figures.storm_longest_down_secs =
                figures.storm_longest_down_secs.max(down as f64 / 1e6);
            figures.storm_attempts += attempts;
        }
    }
    figures.storm_secs = (last_boot as f64 - restarted) / 1e6;
    eprintln!(
        "   storm: {} of {} booted again {:.1} s after the restart; peak {} KiB; longest down {:.1} s; {} attempts",
        figures.storm_booted,
        figures.held,
        figures.storm_secs,
        figures.storm_peak_kib,
        figures.storm_longest_down_secs,
        figures.storm_attempts
    );

    for generator in &mut generators {
        let _ = generator.stdin.write_all(b"quit\n").await;
    }
    csms.kill().await;
    Ok(figures)
}

fn epoch_us_f() -> f64 {
    epoch_us() as f64
}

fn print_table(
    table: &[(Peer, Figures)],
    stations: usize,
    servers: usize,
    generators: usize,
    seconds: f64,
) {
    println!(
        "\n{stations} stations (OCPP 2.0.1) from {generators} generator processes; each CSMS as \
         {servers} single-threaded processes on one port; 2 cores shared by all\n"
    );
    let row = |name: &str, cell: &dyn Fn(&Figures) -> String| {
        let cells: Vec<String> = table
            .iter()
            .map(|(_, f)| format!("{:>22}", cell(f)))
            .collect();
        println!("{name:<44}{}", cells.join(""));
    };
    let names: Vec<String> = table
        .iter()
        .map(|(p, _)| format!("{:>22}", p.name()))
        .collect();
    println!("{:<44}{}", "", names.join(""));
    row("connections held", &|f| f.held.to_string());
    row("time to connect and boot all (s)", &|f| {
        format!("{:.1}", f.connect_secs)
    });
    row("CSMS memory idle / holding (MiB)", &|f| {
        format!(
            "{:.0} / {:.0}",
            f.idle_kib as f64 / 1024.0,
            f.held_kib as f64 / 1024.0
        )
    });
    row("memory per connection (KiB)", &|f| {
        format!(
            "{:.1}",
            f.held_kib.saturating_sub(f.idle_kib) as f64 / f.held.max(1) as f64
        )
    });
    let rate_count = table.iter().map(|(_, f)| f.rates.len()).max().unwrap_or(0);
    for i in 0..rate_count {
        let offered = table
            .iter()
            .find_map(|(_, f)| f.rates.get(i).map(|r| r.0))
            .unwrap_or(0.0);
        row(
            &format!("{offered:.0} calls/s offered: answered/s, p50/p99 ms"),
            &|f| {
                f.rates
                    .get(i)
                    .map_or(String::new(), |(_, answered, p50, p99, failed)| {
                        let failed = if *failed > 0 {
                            format!(" ({failed} failed)")
                        } else {
                            String::new()
                        };
                        format!("{answered:.0}, {p50:.1}/{p99:.0}{failed}")
                    })
            },
        );
    }
    row("highest rate with p99 < 100 ms (calls/s)", &|f| {
        f.rates
            .iter()
            .filter(|r| r.3 < 100.0 && r.4 == 0)
            .map(|r| r.1)
            .fold(0.0, f64::max)
            .round()
            .to_string()
    });
    row("new connections per second, ws://", &|f| {
        format!("{:.0}", f.fresh_plain)
    });
    row("new connections per second, wss://", &|f| {
        format!("{:.0}", f.fresh_tls)
    });
    row("storm: booted again / held", &|f| {
        format!("{} / {}", f.storm_booted, f.held)
    });
    row("storm: all booted after restart (s)", &|f| {
        format!("{:.1}", f.storm_secs)
    });
    row("storm: longest a station was down (s)", &|f| {
        format!("{:.1}", f.storm_longest_down_secs)
    });
    row("storm: connection attempts", &|f| {
        f.storm_attempts.to_string()
    });
    row("storm: CSMS peak memory (MiB)", &|f| {
        format!("{:.0}", f.storm_peak_kib as f64 / 1024.0)
    });
    println!("\n(load phases of {seconds} s each; latency from the generator, send to answer)");
}
