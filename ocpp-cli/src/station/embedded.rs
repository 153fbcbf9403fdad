//! `ocpp station --embedded`: the same sessions on `ocpp-rs-embedded`'s [`Runner`], the
//! adapter firmware runs, here on the host: embedded-io-async over a tokio [`TcpStream`]
//! ([`FromTokio`] in a [`Shared`]), the store a [`FlashStore`] on a NOR flash simulated in the
//! file `DIR/flash` ([`FileFlash`]), `embassy-time` on the host driver of
//! `ocpp_embedded::host` (this binary's only one). `ws://` only: `wss://` with embedded-tls
//! on the host is tested in ocpp-embedded's own tests.
//!
//! The runner's future is not `Send`: it runs in the command's task, beside the session script.
//! When the script is done, [`Input::Close`] closes the connection cleanly (1000) and the
//! runner is dropped (the store keeps everything).

use std::path::Path;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::channel::Channel;
use embedded_io_adapters::tokio_1::FromTokio;
use ocpp_embedded::flash::{FileFlash, FlashStore};
use ocpp_embedded::run::ConnectFailure;
use ocpp_embedded::websocket::{Endpoint, HandshakeError};
// The binary's `embassy-time` driver is `ocpp_embedded::host::StdClock`, linked by the
// `host-time-driver` feature of the dependency (Cargo.toml).
use ocpp_embedded::{Connect, Event, Input, Observer, RunConfig, Runner, Shared};
use ocpp_rpc_tokio::{Direction, StationInput};
use ocpp_station::Station;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::{
    CONNECT_TIMEOUT, Note, Observed, Options, Progress, Script, Simulated, StationError, Summary,
    Transcript, backoff, nothing_to_do, restore, station_config, store_error,
};

/// The flash: pages of 4 KiB written in 4-byte words, as a common SPI NOR flash.
type Flash = FileFlash<4096, 4>;
/// Its size in pages: 2 MiB.
const PAGES: usize = 512;
/// The longest record the station writes: below its end-of-transaction reserve (2 KiB), as
/// in the firmware example.
const LONGEST_RECORD: usize = 2048;
/// The largest message the CSMS may send (the runner's read buffer).
const READ_BUFFER: usize = 64 * 1024;
/// The runner's write buffer (frames are staged through it piece by piece).
const WRITE_BUFFER: usize = 4096;

/// The script's channel of hardware events to the runner.
pub(super) type Inputs = Channel<NoopRawMutex, Input, 16>;

/// The runner's input for the script's (`None` for one the embedded runner does not have).
pub(super) fn input(input: StationInput) -> Option<Input> {
    Some(match input {
        StationInput::PlugIn(connector) => Input::PlugIn(connector),
        StationInput::Unplug(connector) => Input::Unplug(connector),
        StationInput::PresentToken(connector, token) => Input::Token(connector, token),
        StationInput::Meter(connector, reading) => Input::Meter(connector, reading),
        StationInput::Fault(connector, faulted) => Input::Fault(connector, faulted),
        _ => return None,
    })
}

/// Runs the sessions on the embedded stack (see the module documentation).
pub(super) async fn run(
    options: &Options,
    transcript: Transcript,
    dir: &Path,
    mut progress: Progress,
) -> Result<Summary, StationError> {
    if !options.url.starts_with("ws://") {
        return Err(StationError::Connect(format!(
            "--embedded connects to ws:// URLs only, not {}",
            options.url
        )));
    }
    let mut config = RunConfig::new(&options.url)
        .map_err(|error| StationError::Connect(format!("{}: {error:?}", options.url)))?;
    config.backoff = Some(backoff(options));
    config.connect_timeout = CONNECT_TIMEOUT;
    let len = PAGES * 4096;
    let flash = Flash::open(dir.join("flash"), PAGES).map_err(|e| store_error(dir, e))?;
    let range = 0..u32::try_from(len).unwrap_or(u32::MAX);
    let store = FlashStore::new(flash, range).map_err(|e| store_error(dir, e))?;
    let mut station = station_config(options, &progress.prefix);
    station.store_capacity = FlashStore::<Flash>::store_capacity(len, 11, LONGEST_RECORD);
    let (mut read_buf, mut write_buf) = (vec![0; READ_BUFFER], vec![0; WRITE_BUFFER]);
    let hardware = Simulated {
        transcript: transcript.clone(),
    };
    let mut runner = Runner::start(
        station,
        hardware,
        store,
        config,
        &mut read_buf,
        &mut write_buf,
    )
    .await
    .map_err(|error| store_error(dir, error))?;
    let ended = restore(runner.station_mut(), &mut progress, &transcript, dir)?;
    if let Some(summary) = nothing_to_do(options, &transcript, runner.station(), &progress, ended) {
        return Ok(summary);
    }
    let (observed, notes) = Observed::new(options, transcript, progress);
    let counts = (runner.station().queued(), runner.station().transactions());
    let inputs = Inputs::new();
    let mut script = Script::new(
        options,
        super::Feed::Embedded(&inputs),
        &observed,
        counts,
        ended,
    );
    let mut tcp = Tcp;
    let closed = Arc::new(Closing::default());
    let watch = Watch {
        observed: observed.clone(),
        closing: closed.clone(),
    };
    let outcome = {
        let mut station = pin!(runner.run_observed(&mut tcp, &inputs, random(), watch));
        let outcome = tokio::select! {
            outcome = script.run(notes) => outcome,
            error = &mut station => Err(store_error(dir, error)),
        };
        if outcome.is_ok() {
            // Done: close the connection cleanly (1000, the CSMS's close awaited) before the
            // runner is dropped, as the tokio stack's stop does.
            closed.asked.store(true, Ordering::SeqCst);
            inputs.send(Input::Close).await;
            tokio::select! {
                () = closed.done.notified() => {}
                error = &mut station => return Err(store_error(dir, error)),
                () = tokio::time::sleep(CLOSE_WAIT) => {}
            }
        }
        outcome
    };
    outcome?;
    observed.finish(runner.station(), script.ended)
}

/// A TCP connection per attempt, used as both halves.
struct Tcp;

impl Connect for Tcp {
    type Stream<'s> = Shared<FromTokio<TcpStream>>;
    type Error = std::io::Error;

    async fn connect(&mut self, endpoint: &Endpoint) -> Result<Self::Stream<'_>, Self::Error> {
        let tcp = TcpStream::connect((endpoint.host(), endpoint.port())).await?;
        tcp.set_nodelay(true)?;
        Ok(Shared::new(FromTokio::new(tcp)))
    }
}

/// The WebSocket keys, masks and back-off jitter: xorshift32 seeded from the clock and the
/// process id (a simulator needs no more).
fn random() -> impl FnMut() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let mut state = (nanos ^ std::process::id().rotate_left(16)) | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}

/// Whether a failed connection attempt will fail again whatever the wait: the CSMS refused
/// the handshake (a 4xx) or accepted none of our versions.
fn permanent(failure: &ConnectFailure) -> bool {
    match failure {
        ConnectFailure::Handshake(HandshakeError::Refused(status)) => (400..500).contains(status),
        ConnectFailure::Handshake(HandshakeError::NoCommonVersion) => true,
        _ => false,
    }
}

/// How long the end of a run waits for the connection to close.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// The end of a run: the close asked for, and the disconnection it brings.
#[derive(Default)]
struct Closing {
    asked: AtomicBool,
    done: Notify,
}

/// The runner's observer: the same notes, frames and progress as on the tokio stack.
struct Watch {
    observed: Observed,
    closing: Arc<Closing>,
}

impl Observer<Simulated> for Watch {
    fn event(&mut self, station: &Station<Simulated>, event: Event) {
        if matches!(event, Event::Connected(_) | Event::Disconnected(_)) {
            self.observed.connection_changed();
        }
        if matches!(event, Event::Disconnected(_)) && self.closing.asked.load(Ordering::SeqCst) {
            // The run is over: no note (the script is gone), the connection is closed.
            self.closing.done.notify_one();
            return;
        }
        let note = match event {
            Event::Connected(_) => Note::Connected,
            Event::ConnectFailed(failure) => Note::ConnectFailed {
                permanent: permanent(&failure),
                error: match failure {
                    ConnectFailure::Transport(error) => error,
                    ConnectFailure::Handshake(error) => error.to_string(),
                    ConnectFailure::Timeout => format!("no connection within {CONNECT_TIMEOUT:?}"),
                    other => format!("{other:?}"),
                },
            },
            Event::Disconnected(_) => Note::Disconnected { retry_in: None },
            Event::Station(event) => self.observed.station_event(&event),
            Event::InputRefused(error) => Note::Refused(error.to_string()),
            other => Note::Refused(format!("{other:?}")),
        };
        self.observed
            .note(note, Some((station.queued(), station.transactions())));
    }

    fn message(&mut self, direction: ocpp_embedded::Direction, text: &str) {
        let direction = match direction {
            ocpp_embedded::Direction::Sent => Direction::Outgoing,
            ocpp_embedded::Direction::Received => Direction::Incoming,
        };
        self.observed.frame(direction, text);
    }
}
