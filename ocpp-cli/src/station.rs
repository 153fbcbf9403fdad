//! `ocpp station`: a simulated charger on the station core of `ocpp-rs-station`, run by
//! [`StationRunner`]: one connector, `sessions` charging sessions one after another, its
//! queue and transactions kept in a [`FileStore`] so that a process killed at any moment
//! resumes where it was.
//!
//! A session: the meter is set, the cable plugged in, the token `TOKEN-<k>` presented (the
//! station authorizes it with the CSMS, or offline); once the transaction has started, the
//! meter reads 10 Wh more every `meter_interval`, and the station sends a sample as often
//! (`StationConfig::sample_interval_ms`; the CSMS reads `MeterValueSampleInterval` /
//! `TxUpdatedInterval` as the interval rounded up to whole seconds); after `samples` of them the driver presents the token again (the
//! transaction ends, reason `Local`) and unplugs. The next session starts when the previous
//! one has ended. The run ends, successfully, once every session has ended and the CSMS has
//! acknowledged every transaction-related message.
//!
//! Progress survives a restart: next to the store's log, a small `progress` file (written to
//! `progress.tmp`, synced, renamed) holds how many sessions have started. It is written when
//! a transaction's start is durable, inside the runner's loop, before the station moves on;
//! a kill between the two leaves the transaction open in the store, and the station core
//! ends it at the next start (`PowerLoss`), naming its number, which is the session's. So a
//! restarted process never runs more than `sessions` in all.
//!
//! Every frame is checked beyond its schema (which the core checks): the CSMS's answers and
//! requests against the rules of [`ocpp_types::conditions`], and a CALLERROR to one of our
//! calls fails the run too.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocpp_rpc_tokio::{
    ClientConfig, ConnectError, Direction, RetryBackOff, RunnerError, RunnerEvent, StationHandle,
    StationInput, StationRunner,
};
use ocpp_station::store::FileStore;
use ocpp_station::{
    BootInfo, ConnectorId, Hardware, IdToken, Reading, RegistrationStatus, ResetKind, Station,
    StationConfig, StationEvent, StopReason, UnlockResult,
};
use ocpp_types::{DateTime, OcppVersion, conditions};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::transcript::Transcript;

#[cfg(feature = "embedded")]
mod embedded;

/// The connector every session uses.
const CONNECTOR: ConnectorId = 1;
/// What the meter reads more at each reading.
const WH_PER_READING: f64 = 10.0;
/// What the meter reads at the start of session `k`: `k` times this (so the register only
/// grows, across sessions and restarts).
const WH_PER_SESSION: f64 = 100_000.0;
/// The power the meter reports while charging.
const POWER_W: f64 = 7400.0;
/// How long nothing must move before a run that has done everything ends.
const QUIET: Duration = Duration::from_millis(300);
/// How long after its last sample a session ends.
const SESSION_TAIL: Duration = Duration::from_millis(250);

/// What `ocpp station` does. [`Options::new`] has the command's defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The CSMS's URL, ending in the station's identity.
    pub url: String,
    /// The OCPP version.
    pub version: OcppVersion,
    /// The store's directory (`None`: a temporary one, removed at the end).
    pub store: Option<PathBuf>,
    /// How many charging sessions, in all, across restarts with the same store.
    pub sessions: u32,
    /// How often the meter is read during a transaction.
    pub meter_interval: Duration,
    /// How many sample intervals a session lasts.
    pub samples: u32,
    /// `RetryBackOffWaitMinimum` (and the random range): the wait before reconnecting.
    pub retry_wait: Duration,
    /// Give up (exit 3) after this long without a connection.
    pub give_up: Duration,
    /// Stay connected at least this long from the start, answering the CSMS's calls as a
    /// charger does between sessions, before a run that has done its sessions ends (for
    /// tools that test the station, `ocpp probe station`).
    pub stay: Duration,
    /// Run the station core on `ocpp-rs-embedded`'s `Runner` (embedded-io-async over a tokio
    /// `TcpStream`, a `FlashStore` on a file-backed NOR flash in `DIR/flash`) instead of
    /// `ocpp-rs-rpc-tokio`'s `StationRunner` with a `FileStore`; `ws://` only. Needs the
    /// `embedded` feature (on by default).
    pub embedded: bool,
}

impl Options {
    /// One session against `url`, a reading a second, two samples, a temporary store.
    pub fn new(url: impl Into<String>, version: OcppVersion) -> Options {
        Options {
            url: url.into(),
            version,
            store: None,
            sessions: 1,
            meter_interval: Duration::from_secs(1),
            samples: 2,
            retry_wait: Duration::from_secs(1),
            give_up: Duration::from_secs(60),
            stay: Duration::ZERO,
            embedded: false,
        }
    }

    /// The station's sample interval: the meter interval (at least 1 ms).
    pub fn sample_interval_ms(&self) -> u64 {
        u64::try_from(self.meter_interval.as_millis().max(1)).unwrap_or(u64::MAX)
    }

    /// The sample interval the CSMS reads (`MeterValueSampleInterval` /
    /// `SampledDataCtrlr.TxUpdatedInterval`): the meter interval rounded up to whole seconds.
    pub fn sample_interval_secs(&self) -> u32 {
        let ms = self.meter_interval.as_millis().max(1);
        u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX)
    }
}

/// Why `ocpp station` failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StationError {
    /// No connection could be made: a refusal that retrying will not change, or none for
    /// [`Options::give_up`].
    #[error("{0}")]
    Connect(String),
    /// The CSMS answered a call invalidly, refused what the station asked for, or broke the
    /// protocol.
    #[error("{0}")]
    Protocol(String),
    /// The store could not be used (or is full).
    #[error("the station's store in {dir}: {reason}")]
    Store {
        /// The store's directory.
        dir: String,
        /// What went wrong.
        reason: String,
    },
}

impl StationError {
    /// The command's exit status: 3 for no connection, 1 for the CSMS's faults, 2 for the
    /// store.
    pub fn exit_code(&self) -> u8 {
        match self {
            StationError::Connect(_) => 3,
            StationError::Protocol(_) => 1,
            StationError::Store { .. } => 2,
        }
    }
}

/// How a run went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Calls the CSMS answered (validly) in this run.
    pub calls: usize,
    /// Sessions started in all (with earlier runs on the same store).
    pub sessions: u32,
    /// Transactions that ended in this run (power-loss ends of a previous run included).
    pub ended: u32,
}

/// What the runner's callbacks tell the session script, with the station's queue and
/// transaction counts right after it.
#[derive(Debug)]
enum Note {
    Connected,
    ConnectFailed {
        permanent: bool,
        error: String,
    },
    Disconnected {
        /// The back-off's wait, when the stack says it.
        retry_in: Option<Duration>,
    },
    Station(StationEvent),
    /// A hardware event the station refused (a bug of this program).
    Refused(String),
    /// A frame broke a rule.
    Broken(String),
    /// The progress file could not be written.
    Progress(String),
}

/// The sessions started, kept in `DIR/progress`.
#[derive(Debug, Clone)]
struct Progress {
    dir: PathBuf,
    started: u32,
    /// Put before the station's number for a transaction to make its 2.x transactionId,
    /// unique to this store.
    prefix: String,
}

impl Progress {
    const FILE: &'static str = "progress";
    const TMP: &'static str = "progress.tmp";

    fn load(dir: &Path) -> std::io::Result<Progress> {
        let mut progress = Progress {
            dir: dir.to_path_buf(),
            started: 0,
            prefix: String::new(),
        };
        match std::fs::read_to_string(dir.join(Self::FILE)) {
            Ok(text) => {
                for line in text.lines() {
                    match line.split_once(' ') {
                        Some(("started", n)) => {
                            progress.started = n.trim().parse().map_err(|_| {
                                std::io::Error::new(
                                    std::io::ErrorKind::InvalidData,
                                    format!("bad progress line {line:?}"),
                                )
                            })?;
                        }
                        Some(("prefix", prefix)) => progress.prefix = prefix.trim().to_owned(),
                        _ => {}
                    }
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        if progress.prefix.is_empty() {
            progress.prefix = format!("T{:X}-", DateTime::now().unix_timestamp());
            progress.save()?;
        }
        Ok(progress)
    }

    /// Writes the file whole, synced, in place of the old one, synced.
    fn save(&self) -> std::io::Result<()> {
        let tmp = self.dir.join(Self::TMP);
        let mut file = std::fs::File::create(&tmp)?;
        writeln!(file, "started {}\nprefix {}", self.started, self.prefix)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, self.dir.join(Self::FILE))?;
        #[cfg(unix)]
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

/// The hardware of a simulator: nothing to switch; the CSMS's commands go to the transcript.
struct Simulated {
    transcript: Transcript,
}

impl Hardware for Simulated {
    fn set_energy(&mut self, _: ConnectorId, _: bool) {}
    fn unlock(&mut self, _: ConnectorId) -> UnlockResult {
        UnlockResult::Unlocked
    }
    fn reset(&mut self, kind: ResetKind) {
        self.transcript.line(&format!(
            "-- reset ({kind:?}) asked: a simulator carries on"
        ));
    }
}

/// The rules beyond the schemas, checked on every frame: our calls' answers, the CSMS's
/// requests. Also counts the answers.
struct Checker {
    version: OcppVersion,
    identity: String,
    /// Our calls waiting for an answer: message id -> (action, payload).
    calls: HashMap<String, (String, Value)>,
    answered: usize,
    /// When the last frame went either way.
    last_frame: Instant,
}

/// What a frame broke: why the run fails, and the transcript's `!` lines.
struct Breach {
    error: String,
    lines: Vec<String>,
}

impl Checker {
    /// What `frame` breaks, if anything.
    fn frame(&mut self, direction: Direction, frame: &str) -> Option<Breach> {
        self.last_frame = Instant::now();
        let Ok(Value::Array(frame)) = serde_json::from_str::<Value>(frame) else {
            // Malformed frames are the session's to answer and report.
            return None;
        };
        let kind = frame.first().and_then(Value::as_u64);
        let id = frame.get(1).and_then(Value::as_str).unwrap_or_default();
        let text = |index: usize| frame.get(index).and_then(Value::as_str).unwrap_or_default();
        let payload = |index: usize| frame.get(index).cloned().unwrap_or_default();
        match (direction, kind) {
            (Direction::Outgoing, Some(2)) => {
                self.calls
                    .insert(id.to_owned(), (text(2).to_owned(), payload(3)));
                None
            }
            (Direction::Incoming, Some(3)) => {
                let (action, request) = self.calls.remove(id)?;
                self.answered += 1;
                let broken =
                    conditions::check_response(self.version, &action, &request, &payload(2));
                (!broken.is_empty()).then(|| Breach {
                    error: format!("{action}: invalid answer: {}", list(&broken)),
                    lines: Vec::new(),
                })
            }
            (Direction::Incoming, Some(4)) => {
                let (action, _) = self.calls.remove(id)?;
                Some(Breach {
                    error: format!(
                        "{action}: answered with a CALLERROR: {} {}",
                        text(2),
                        text(3)
                    ),
                    lines: Vec::new(),
                })
            }
            (Direction::Incoming, Some(2)) => {
                let action = text(2);
                let broken = conditions::check_request(self.version, action, &payload(3));
                (!broken.is_empty()).then(|| Breach {
                    error: format!(
                        "the CSMS's requests broke rules of the specification: {}: {action}: {}",
                        self.identity,
                        list(&broken)
                    ),
                    lines: broken
                        .iter()
                        .map(|finding| format!("! {}: {action}: {finding}", self.identity))
                        .collect(),
                })
            }
            _ => None,
        }
    }
}

/// The findings, one after the other.
fn list(findings: &[conditions::Finding]) -> String {
    let texts: Vec<String> = findings.iter().map(ToString::to_string).collect();
    texts.join("; ")
}

/// A directory removed when dropped (the store of a run without `--store`).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("ocpp-station-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether a failed connection attempt will fail again whatever the wait: the CSMS refused
/// the handshake (a 4xx), accepted none of our versions, or the URL is unusable.
fn permanent(error: &ConnectError) -> bool {
    match error {
        ConnectError::Refused(status) => (400..500).contains(status),
        ConnectError::NoCommonVersion(_) | ConnectError::Url { .. } => true,
        _ => false,
    }
}

fn station_config(options: &Options, prefix: &str) -> StationConfig {
    let boot = BootInfo {
        vendor: "ocpp-rs".into(),
        model: "demo-station".into(),
        serial_number: None,
        firmware_version: Some(env!("CARGO_PKG_VERSION").into()),
    };
    let mut config = StationConfig::new(options.version, boot, 1);
    // The CSMS reads the interval in whole seconds; the station samples at the meter's pace.
    config.variables.sample_interval = options.sample_interval_secs();
    config.sample_interval_ms = Some(options.sample_interval_ms());
    // Sessions go on while the CSMS is away: an unknown token is accepted offline.
    config.variables.offline_tx_for_unknown_id = true;
    // Room for long offline stretches.
    config.store_capacity = 1 << 20;
    config.transaction_id_prefix = prefix.to_owned();
    config
}

/// The reconnection back-off of both stacks.
fn backoff(options: &Options) -> RetryBackOff {
    RetryBackOff {
        wait_minimum: options.retry_wait,
        random_range: options.retry_wait,
        repeat_times: 3,
    }
}

/// How long a connection attempt (TCP and the WebSocket handshake) may take, on both stacks.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn client_config(options: &Options) -> ClientConfig {
    let mut client = ClientConfig::new(options.url.clone(), [options.version]);
    client.connect_timeout = CONNECT_TIMEOUT;
    client
}

/// Runs the sessions against the CSMS at [`Options::url`]; returns once every session has
/// ended and every transaction-related message is acknowledged. [`Options::embedded`] chooses
/// the stack that runs the station core; the sessions are the same.
pub async fn run(options: &Options, transcript: Transcript) -> Result<Summary, StationError> {
    let temp;
    let dir = match &options.store {
        Some(dir) => dir.clone(),
        None => {
            temp = TempDir::new().map_err(|e| store_error(&std::env::temp_dir(), e))?;
            temp.0.clone()
        }
    };
    let progress = std::fs::create_dir_all(&dir)
        .and_then(|()| Progress::load(&dir))
        .map_err(|e| store_error(&dir, e))?;
    if options.embedded {
        #[cfg(feature = "embedded")]
        return embedded::run(options, transcript, &dir, progress).await;
        #[cfg(not(feature = "embedded"))]
        return Err(StationError::Connect(
            "this ocpp was built without the `embedded` feature: no --embedded".into(),
        ));
    }
    run_tokio(options, transcript, &dir, progress).await
}

/// The sessions on [`StationRunner`] (`ocpp-rs-rpc-tokio`) with a [`FileStore`] in `dir`.
async fn run_tokio(
    options: &Options,
    transcript: Transcript,
    dir: &Path,
    mut progress: Progress,
) -> Result<Summary, StationError> {
    let fail = |error: std::io::Error| store_error(dir, error);
    let store = FileStore::open(dir).map_err(fail)?;
    let runner = StationRunner::new(
        client_config(options),
        station_config(options, &progress.prefix),
        Simulated {
            transcript: transcript.clone(),
        },
        store,
    );
    let mut runner = runner
        .map_err(|error| match error {
            RunnerError::Load(e) | RunnerError::Store(e) => fail(e),
            other => store_error(dir, other),
        })?
        .backoff(backoff(options));
    let ended = restore(runner.station_mut(), &mut progress, &transcript, dir)?;
    if let Some(summary) = nothing_to_do(options, &transcript, runner.station(), &progress, ended) {
        return Ok(summary);
    }
    let (observed, notes) = Observed::new(options, transcript, progress);
    let frames = observed.clone();
    let events = observed.clone();
    let runner = runner
        .on_frame(move |direction, frame| frames.frame(direction, frame))
        .on_event(move |station, event| {
            if matches!(
                event,
                RunnerEvent::Connected { .. } | RunnerEvent::Disconnected { .. }
            ) {
                events.connection_changed();
            }
            let note = match event {
                RunnerEvent::Connected { .. } => Note::Connected,
                RunnerEvent::ConnectFailed { error, .. } => Note::ConnectFailed {
                    permanent: permanent(error),
                    error: error.to_string(),
                },
                RunnerEvent::Disconnected { retry_in } => Note::Disconnected {
                    retry_in: Some(*retry_in),
                },
                RunnerEvent::Station(event) => events.station_event(event),
                RunnerEvent::InputRefused { input, error } => {
                    Note::Refused(format!("{input:?}: {error}"))
                }
                other => Note::Refused(format!("{other:?}")),
            };
            events.note(note, Some((station.queued(), station.transactions())));
        });
    let handle = runner.handle();
    let counts = (runner.station().queued(), runner.station().transactions());
    let task = tokio::spawn(runner.run());
    let mut script = Script::new(
        options,
        Feed::Tokio(handle.clone()),
        &observed,
        counts,
        ended,
    );
    let outcome = script.run(notes).await;
    handle.stop();
    let stopped = task
        .await
        .map_err(|error| StationError::Protocol(format!("the station's runner failed: {error}")))?;
    let stopped = stopped.map_err(|error| match error {
        RunnerError::Load(e) | RunnerError::Store(e) => fail(e),
        other => store_error(dir, other),
    })?;
    outcome?;
    observed.finish(&stopped.station, script.ended)
}

/// The restore: transactions a power loss cut are ended (and counted as started). Returns how
/// many ended.
fn restore(
    station: &mut Station<Simulated>,
    progress: &mut Progress,
    transcript: &Transcript,
    dir: &Path,
) -> Result<u32, StationError> {
    let mut ended = 0;
    while let Some(event) = station.poll_event() {
        if let StationEvent::TransactionEnded {
            transaction,
            reason,
            ..
        } = event
        {
            transcript.line(&format!(
                "-- transaction {transaction} was cut by the last stop: ended ({reason:?})"
            ));
            ended += 1;
            if transaction > progress.started {
                progress.started = transaction;
                progress.save().map_err(|e| store_error(dir, e))?;
            }
        }
    }
    Ok(ended)
}

/// `Some` when every session has started and nothing is queued nor running: the run is over
/// before it connects. Otherwise says whether it resumes.
fn nothing_to_do(
    options: &Options,
    transcript: &Transcript,
    station: &Station<Simulated>,
    progress: &Progress,
    ended: u32,
) -> Option<Summary> {
    let (queued, transactions) = (station.queued(), station.transactions());
    if progress.started >= options.sessions
        && queued == 0
        && transactions == 0
        && options.stay.is_zero()
    {
        transcript.line(&format!(
            "-- {} of {} sessions started already, nothing queued: nothing to do",
            progress.started, options.sessions
        ));
        return Some(Summary {
            calls: 0,
            sessions: progress.started,
            ended,
        });
    }
    if progress.started > 0 || queued > 0 {
        transcript.line(&format!(
            "-- resuming: {} of {} sessions started, {queued} messages queued",
            progress.started, options.sessions
        ));
    }
    None
}

/// What both stacks' callbacks share: the transcript, the checks, the progress file, and the
/// notes to the session script.
#[derive(Clone)]
struct Observed {
    transcript: Transcript,
    checker: Arc<Mutex<Checker>>,
    progress: Arc<Mutex<Progress>>,
    notes: mpsc::UnboundedSender<(Note, Option<(usize, usize)>)>,
}

impl Observed {
    fn new(options: &Options, transcript: Transcript, progress: Progress) -> (Observed, Notes) {
        let identity = options
            .url
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let checker = Arc::new(Mutex::new(Checker {
            version: options.version,
            identity,
            calls: HashMap::new(),
            answered: 0,
            last_frame: Instant::now(),
        }));
        let (notes, rx) = mpsc::unbounded_channel();
        let observed = Observed {
            transcript,
            checker,
            progress: Arc::new(Mutex::new(progress)),
            notes,
        };
        (observed, rx)
    }

    /// A frame went: printed and checked.
    fn frame(&self, direction: Direction, frame: &str) {
        self.transcript.frame("station", "CSMS", direction, frame);
        let breach = lock(&self.checker).frame(direction, frame);
        if let Some(breach) = breach {
            for line in &breach.lines {
                self.transcript.line(line);
            }
            self.note(Note::Broken(breach.error), None);
        }
    }

    /// A connection came up or went down. Message ids start again on each connection, and
    /// calls left unanswered by one that ended are not waited for: forget them (before the
    /// new connection's first frame, which comes after this event).
    fn connection_changed(&self) {
        lock(&self.checker).calls.clear();
    }

    /// The station's event as a note; a transaction's start is counted in the progress file
    /// before the station moves on (see the module documentation).
    fn station_event(&self, event: &StationEvent) -> Note {
        if let StationEvent::TransactionStarted { transaction, .. } = event {
            let mut progress = lock(&self.progress);
            if *transaction > progress.started {
                progress.started = *transaction;
                if let Err(error) = progress.save() {
                    self.note(Note::Progress(error.to_string()), None);
                }
            }
        }
        Note::Station(event.clone())
    }

    fn note(&self, note: Note, counts: Option<(usize, usize)>) {
        let _ = self.notes.send((note, counts));
    }

    /// The summary of a run whose script succeeded, if the stopped station holds nothing more.
    fn finish(&self, station: &Station<Simulated>, ended: u32) -> Result<Summary, StationError> {
        let (queued, transactions) = (station.queued(), station.transactions());
        if queued != 0 || transactions != 0 {
            return Err(StationError::Protocol(format!(
                "stopped with {queued} messages queued and {transactions} transactions running"
            )));
        }
        Ok(Summary {
            calls: lock(&self.checker).answered,
            sessions: lock(&self.progress).started,
            ended,
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn store_error(dir: &Path, error: impl std::fmt::Display) -> StationError {
    StationError::Store {
        dir: dir.display().to_string(),
        reason: error.to_string(),
    }
}

/// Where the current session stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// No session running.
    Idle,
    /// Plugged in, token presented, no transaction yet.
    Authorizing(u32),
    /// The transaction runs until `until`.
    Charging { session: u32, until: Instant },
    /// The token was presented again; the transaction is ending.
    Stopping(u32),
}

/// Where the script's hardware events go: the stack running the station.
enum Feed<'a> {
    /// [`StationRunner`]'s handle.
    Tokio(StationHandle),
    /// `ocpp_embedded::Runner`'s input channel.
    #[cfg(feature = "embedded")]
    Embedded(&'a embedded::Inputs),
    #[cfg(not(feature = "embedded"))]
    #[allow(dead_code)]
    Never(std::marker::PhantomData<&'a ()>),
}

/// The driver and the car: hardware events for the station, session after session.
struct Script<'a> {
    options: &'a Options,
    feed: Feed<'a>,
    progress: Arc<Mutex<Progress>>,
    checker: Arc<Mutex<Checker>>,
    transcript: Transcript,
    /// The station's (queued messages, running transactions) after the last event.
    counts: (usize, usize),
    phase: Phase,
    registered: bool,
    ever_connected: bool,
    /// Without a connection since then.
    offline_since: Option<Instant>,
    ended: u32,
    /// The first protocol break by the CSMS, under --stay (which keeps serving).
    violation: Option<String>,
}

type Notes = mpsc::UnboundedReceiver<(Note, Option<(usize, usize)>)>;

impl<'a> Script<'a> {
    /// A script starting with the station's `counts` (queued messages, running
    /// transactions) and `ended` transactions ended by the restore.
    fn new(
        options: &'a Options,
        feed: Feed<'a>,
        observed: &Observed,
        counts: (usize, usize),
        ended: u32,
    ) -> Script<'a> {
        Script {
            options,
            feed,
            progress: observed.progress.clone(),
            checker: observed.checker.clone(),
            transcript: observed.transcript.clone(),
            counts,
            phase: Phase::Idle,
            registered: false,
            ever_connected: false,
            offline_since: Some(Instant::now()),
            ended,
            violation: None,
        }
    }

    async fn run(&mut self, mut notes: Notes) -> Result<(), StationError> {
        let stay_until = Instant::now() + self.options.stay;
        let mut meter = tokio::time::interval(self.options.meter_interval);
        meter.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut energy = 0.0;
        loop {
            let started = lock(&self.progress).started;
            let mut quiet_at = None;
            if self.phase == Phase::Idle
                && started >= self.options.sessions
                && self.counts == (0, 0)
            {
                // Done once the last status changes are answered too: no call of ours waits
                // for an answer, and nothing moved for a moment.
                let (waiting, last_frame) = {
                    let checker = lock(&self.checker);
                    (checker.calls.len(), checker.last_frame)
                };
                if waiting == 0 && last_frame.elapsed() >= QUIET && Instant::now() >= stay_until {
                    if let Some(violation) = self.violation.take() {
                        return Err(StationError::Protocol(violation));
                    }
                    self.transcript.line(&format!(
                        "-- {started} of {} sessions done, every message acknowledged",
                        self.options.sessions
                    ));
                    return Ok(());
                }
                quiet_at = Some((last_frame + QUIET).max(stay_until));
            }
            if self.phase == Phase::Idle && started < self.options.sessions && self.registered {
                let session = started + 1;
                energy = WH_PER_SESSION * f64::from(session);
                self.transcript.line(&format!(
                    "-- session {session} of {}: plug in, present TOKEN-{session}",
                    self.options.sessions
                ));
                self.send(StationInput::Meter(CONNECTOR, reading(energy)))
                    .await?;
                self.send(StationInput::PlugIn(CONNECTOR)).await?;
                self.send(StationInput::PresentToken(CONNECTOR, token(session)))
                    .await?;
                self.phase = Phase::Authorizing(session);
            }
            let charging_until = match self.phase {
                Phase::Charging { until, .. } => Some(until),
                _ => None,
            };
            let give_up_at = self.offline_since.map(|since| since + self.options.give_up);
            tokio::select! {
                note = notes.recv() => match note {
                    Some((note, counts)) => {
                        if let Some(counts) = counts {
                            self.counts = counts;
                        }
                        self.note(note).await?;
                    }
                    None => return Err(StationError::Protocol("the station's runner stopped".into())),
                },
                _ = meter.tick(), if charging_until.is_some() => {
                    energy += WH_PER_READING;
                    self.send(StationInput::Meter(CONNECTOR, reading(energy))).await?;
                }
                () = sleep_until(charging_until) => {
                    if let Phase::Charging { session, .. } = self.phase {
                        self.transcript.line(&format!("-- session {session}: present TOKEN-{session} again to stop"));
                        self.send(StationInput::PresentToken(CONNECTOR, token(session))).await?;
                        self.phase = Phase::Stopping(session);
                    }
                }
                () = sleep_until(quiet_at) => {}
                () = sleep_until(give_up_at) => {
                    return Err(StationError::Connect(format!(
                        "no connection to {} for {:?}",
                        self.options.url, self.options.give_up
                    )));
                }
            }
        }
    }

    async fn send(&self, input: StationInput) -> Result<(), StationError> {
        match &self.feed {
            Feed::Tokio(handle) => handle
                .send(input)
                .await
                .map_err(|_| StationError::Protocol("the station's runner stopped".into())),
            #[cfg(feature = "embedded")]
            Feed::Embedded(inputs) => match embedded::input(input) {
                Some(input) => {
                    inputs.send(input).await;
                    Ok(())
                }
                None => Err(StationError::Protocol(
                    "an input the embedded runner does not take".into(),
                )),
            },
            #[cfg(not(feature = "embedded"))]
            Feed::Never(_) => Ok(()),
        }
    }

    async fn note(&mut self, note: Note) -> Result<(), StationError> {
        match note {
            Note::Connected => {
                self.ever_connected = true;
                self.offline_since = None;
            }
            Note::ConnectFailed { permanent, error } => {
                self.transcript
                    .line(&format!("-- cannot connect: {error}; retrying"));
                if permanent && !self.ever_connected {
                    return Err(StationError::Connect(error));
                }
            }
            Note::Disconnected { retry_in } => {
                self.offline_since = Some(Instant::now());
                match retry_in {
                    Some(wait) => self.transcript.line(&format!(
                        "-- connection lost; reconnecting in {} ms",
                        wait.as_millis()
                    )),
                    None => self.transcript.line("-- connection lost; reconnecting"),
                }
            }
            Note::Station(event) => self.event(event).await?,
            Note::Refused(what) => {
                return Err(StationError::Protocol(format!(
                    "the station refused an input: {what}"
                )));
            }
            Note::Broken(what) if self.options.stay.is_zero() => {
                return Err(StationError::Protocol(what));
            }
            Note::Broken(what) => {
                self.violation.get_or_insert(what);
            }
            Note::Progress(error) => {
                return Err(StationError::Store {
                    dir: lock(&self.progress).dir.display().to_string(),
                    reason: format!("cannot write the progress file: {error}"),
                });
            }
        }
        Ok(())
    }

    async fn event(&mut self, event: StationEvent) -> Result<(), StationError> {
        match event {
            StationEvent::Registration(RegistrationStatus::Accepted) => self.registered = true,
            StationEvent::Registration(RegistrationStatus::Rejected) => {
                return Err(StationError::Protocol(
                    "BootNotification: the CSMS rejected the station".into(),
                ));
            }
            StationEvent::Authorization {
                token,
                accepted: false,
                ..
            } => {
                return Err(StationError::Protocol(format!(
                    "Authorize: the CSMS did not accept {token}"
                )));
            }
            StationEvent::TransactionStarted { transaction, .. } => {
                let session = match self.phase {
                    Phase::Authorizing(session) => session,
                    _ => transaction,
                };
                let samples = u64::from(self.options.samples);
                let interval = Duration::from_millis(self.options.sample_interval_ms());
                let until =
                    Instant::now() + interval * u32::try_from(samples).unwrap_or(1) + SESSION_TAIL;
                self.transcript.line(&format!(
                    "-- session {session}: transaction {transaction} started"
                ));
                self.phase = Phase::Charging { session, until };
            }
            StationEvent::TransactionEnded {
                transaction,
                reason,
                ..
            } => {
                self.ended += 1;
                self.transcript.line(&format!(
                    "-- transaction {transaction} ended ({reason:?}); unplug"
                ));
                if reason != StopReason::Local && reason != StopReason::EvDisconnected {
                    self.transcript.line(&format!(
                        "-- (ended by the station or the CSMS: {reason:?})"
                    ));
                }
                self.send(StationInput::Unplug(CONNECTOR)).await?;
                self.phase = Phase::Idle;
            }
            StationEvent::InvalidResponse { action, detail } => {
                return Err(StationError::Protocol(format!(
                    "{}: invalid answer: {detail}",
                    action.as_str()
                )));
            }
            StationEvent::Violation(violation) => {
                let message = format!("the CSMS broke the protocol: {violation:?}");
                // A charger under test (--stay) answers as the specification says and goes
                // on; the run still fails at its end.
                if self.options.stay.is_zero() {
                    return Err(StationError::Protocol(message));
                }
                self.transcript.line(&format!("-- {message}"));
                self.violation.get_or_insert(message);
            }
            StationEvent::Discarded {
                action, failure, ..
            } => {
                return Err(StationError::Protocol(format!(
                    "{}: given up after the CSMS refused it: {failure:?}",
                    action.as_str()
                )));
            }
            StationEvent::StoreFull => {
                return Err(StationError::Store {
                    dir: lock(&self.progress).dir.display().to_string(),
                    reason: "full".into(),
                });
            }
            _ => {}
        }
        Ok(())
    }
}

fn token(session: u32) -> IdToken {
    IdToken::rfid(format!("TOKEN-{session}"))
}

fn reading(energy_wh: f64) -> Reading {
    Reading {
        energy_wh,
        power_w: POWER_W,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
