//! [`StationRunner`]: the sans-I/O charging-station core of `ocpp-rs-station` on a WebSocket
//! (feature `station`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use ocpp_rpc::Millis;
use ocpp_rpc::handshake::RetryBackOff;
use ocpp_station::store::Store;
use ocpp_station::{
    ConnectorId, Hardware, IdToken, InputError, Reading, RestoreError, Station, StationConfig,
    StationEvent,
};
use ocpp_types::{DateTime, OcppVersion};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use yawc::close::CloseCode;
use yawc::{Frame, OpCode, WebSocket};

use crate::client::{self, ClientConfig, ConnectError, Upgraded};
use crate::connection::Direction;

/// How many inputs may wait for the runner before [`StationHandle::send`] waits for room.
const INPUT_QUEUE: usize = 64;

/// How long the runner waits for the CSMS's close frame after sending its own.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// A hardware event for the station, sent through a [`StationHandle`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StationInput {
    /// A cable was plugged in ([`Station::plug_in`]).
    PlugIn(ConnectorId),
    /// The cable was unplugged ([`Station::unplug`]).
    Unplug(ConnectorId),
    /// A driver presented a token ([`Station::present_token`]).
    PresentToken(ConnectorId, IdToken),
    /// The connector's meter read this ([`Station::meter`]).
    Meter(ConnectorId, Reading),
    /// The connector faulted (`true`) or recovered ([`Station::fault`]).
    Fault(ConnectorId, bool),
}

/// What the runner reports to [`StationRunner::on_event`], after the store holds what the
/// station wrote before it.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunnerEvent {
    /// A connection is up, speaking `version`; the station has been told.
    Connected {
        /// The version the CSMS chose.
        version: OcppVersion,
    },
    /// A connection attempt failed; the next one is in `retry_in`.
    ConnectFailed {
        /// Why it failed.
        error: ConnectError,
        /// How many back-off waits this one makes since the runner started or the last
        /// connection was lost (the wait after a loss counts as the first).
        attempt: u32,
        /// The wait before the next attempt ([`ClientConfig::backoff`]).
        retry_in: Duration,
    },
    /// The connection was lost (closed by either side, a failed write, no pong); the next
    /// attempt is in `retry_in`.
    Disconnected {
        /// The wait before the next attempt.
        retry_in: Duration,
    },
    /// Something the station core reports ([`Station::poll_event`]).
    Station(StationEvent),
    /// The station refused a hardware event (an unknown connector, a reading that is not a
    /// finite number).
    InputRefused {
        /// The event.
        input: StationInput,
        /// Why.
        error: InputError,
    },
}

/// Why a [`StationRunner`] could not start, or stopped on its own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError<E> {
    /// The store could not be read at start-up.
    #[error("cannot read the station's store: {0}")]
    Load(E),
    /// The store holds records the station cannot replay.
    #[error(transparent)]
    Restore(RestoreError),
    /// A store write failed: the runner stops, since nothing that depends on it may be sent.
    /// The write stays pending in the station, which the caller may try again with
    /// [`Station::flush`] (or start a new runner from the store).
    #[error("a write to the station's store failed: {0}")]
    Store(E),
}

/// The input side of a running [`StationRunner`]: hardware events, and stop. Cheap to clone.
#[derive(Debug, Clone)]
pub struct StationHandle {
    inputs: mpsc::Sender<StationInput>,
    stop: Arc<watch::Sender<bool>>,
}

impl StationHandle {
    /// Sends a hardware event, waiting for room in the queue; gives it back if the runner has
    /// ended.
    pub async fn send(&self, input: StationInput) -> Result<(), StationInput> {
        self.inputs.send(input).await.map_err(|error| error.0)
    }

    /// Sends a hardware event without waiting; gives it back if the queue is full or the
    /// runner has ended.
    pub fn try_send(&self, input: StationInput) -> Result<(), StationInput> {
        self.inputs.try_send(input).map_err(|error| match error {
            mpsc::error::TrySendError::Full(input) | mpsc::error::TrySendError::Closed(input) => {
                input
            }
        })
    }

    /// Asks the runner to stop (from anywhere, also from inside
    /// [`on_event`](StationRunner::on_event)): it writes what the station has for the store and
    /// the CSMS, closes the connection (1000) and returns. Never waits, never lost behind
    /// queued inputs.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }
}

/// What a [`StationRunner`] hands back when it stops: the station and its store, as they
/// are (the queue and the transactions stay in the store for the next runner).
#[derive(Debug)]
#[non_exhaustive]
pub struct Stopped<H: Hardware, S> {
    /// The station.
    pub station: Station<H>,
    /// Its store.
    pub store: S,
}

type EventCallback<H> = Box<dyn FnMut(&Station<H>, &RunnerEvent) + Send>;
type FrameCallback = Box<dyn FnMut(Direction, &str) + Send>;
type Connecting = Pin<Box<dyn Future<Output = Result<Upgraded, ConnectError>> + Send>>;

/// The station core ([`Station`]) on a WebSocket to its CSMS, with a sync [`Store`] (such as
/// `FileStore`), kept alive across connections (feature `station`).
///
/// One future owns everything: the station, its store, the WebSocket when there is one, and
/// the timers. It waits on whichever comes first: a frame from the CSMS, a hardware event
/// from a [`StationHandle`], the station's next deadline, the keep-alive timer (the station's
/// `WebSocketPingInterval`, or [`ping_interval`](Self::ping_interval); then
/// [`ClientConfig::pong_timeout`]; yawc answers the CSMS's pings), the end of a connection
/// attempt or the time of the next one. After each, in the
/// order the station asks: its writes are performed on the store (a failed write stops the
/// runner: nothing may leave that the store does not hold), its frames are written to the
/// socket (within [`ClientConfig::write_timeout`]; a failed write loses the connection), its
/// events go to [`on_event`](Self::on_event).
///
/// The station lives across connections: hardware events and timeouts are processed while
/// offline (transactions start, samples are stored), and the runner reconnects by the
/// station's `RetryBackOff*` variables (B04.FR.01), or [`backoff`](Self::backoff). Both are
/// read at each use, so a CSMS that changes the variables is obeyed from the next ping or
/// attempt on; [`ClientConfig::ping_interval`] and [`ClientConfig::backoff`] are a plain
/// [`Client`](crate::Client)'s and not read here. Its clock
/// ([`Millis`](ocpp_rpc::Millis)) counts from the runner's creation. The runner is a plain
/// future: spawn it (it is `Send` when the hardware and the store are) or await it.
///
/// ```no_run
/// use ocpp_rpc_tokio::{ClientConfig, RunnerEvent, StationInput, StationRunner};
/// use ocpp_station::store::FileStore;
/// use ocpp_station::{BootInfo, ConnectorId, Hardware, IdToken, ResetKind, StationConfig, UnlockResult};
/// use ocpp_types::OcppVersion;
///
/// struct Relay;
/// impl Hardware for Relay {
///     fn set_energy(&mut self, _: ConnectorId, _: bool) {}
///     fn unlock(&mut self, _: ConnectorId) -> UnlockResult { UnlockResult::NotSupported }
///     fn reset(&mut self, _: ResetKind) {}
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let boot = BootInfo { vendor: "VendorX".into(), model: "Wallbox".into(), serial_number: None, firmware_version: None };
/// let station = StationConfig::new(OcppVersion::V201, boot, 1);
/// let client = ClientConfig::new("ws://csms.example:9000/ocpp/CS001", [OcppVersion::V201]);
/// let runner = StationRunner::new(client, station, Relay, FileStore::open("/var/lib/station")?)?
///     .on_event(|station, event| {
///         if let RunnerEvent::Station(event) = event {
///             println!("{event:?} ({} queued)", station.queued());
///         }
///     });
/// let handle = runner.handle();
/// tokio::spawn(async move {
///     let _ = handle.send(StationInput::PlugIn(1)).await;
///     let _ = handle.send(StationInput::PresentToken(1, IdToken::rfid("04A2B3C4"))).await;
/// });
/// runner.run().await?;
/// # Ok(()) }
/// ```
pub struct StationRunner<H: Hardware, S: Store> {
    client: ClientConfig,
    station: Station<H>,
    store: S,
    origin: Instant,
    inputs: mpsc::Receiver<StationInput>,
    stop: watch::Receiver<bool>,
    handle: StationHandle,
    on_event: Option<EventCallback<H>>,
    on_frame: Option<FrameCallback>,
    /// Overrides the station's `WebSocketPingInterval`.
    ping_interval: Option<Duration>,
    /// Overrides the station's `RetryBackOff*` variables.
    backoff: Option<RetryBackOff>,
}

impl<H: Hardware, S: Store> std::fmt::Debug for StationRunner<H, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StationRunner")
            .field("url", &self.client.url)
            .field("station", &self.station)
            .finish_non_exhaustive()
    }
}

/// The live connection.
struct Online {
    socket: WebSocket<TokioIo<hyper::upgrade::Upgraded>>,
    last_heard: Instant,
    awaiting_pong: bool,
}

/// What the runner's loop carries between steps.
struct Link {
    online: Option<Online>,
    connecting: Option<Connecting>,
    /// When to start the next connection attempt (while neither online nor connecting).
    retry_at: Option<Instant>,
    /// Failed attempts since the last connection (0 right after one was lost).
    attempt: u32,
}

impl<H: Hardware, S: Store> StationRunner<H, S> {
    /// A runner for the station `config` describes, resuming from what `store` holds
    /// ([`Station::new`]: transactions a power loss cut are ended at once, with `PowerLoss`).
    /// The writes of that restore are performed here, so the events it produced are ready in
    /// [`station_mut`](Self::station_mut)`().poll_event()` (or go to
    /// [`on_event`](Self::on_event) when [`run`](Self::run) starts).
    ///
    /// The station's wall clock is set from the system clock ([`DateTime::now`]); the
    /// CSMS's answers to BootNotification and Heartbeat set it later. The connection offers
    /// only the station's version (`client.versions` is replaced by it), and the session
    /// settings are the station's (`config.session`; `client.session` is not used).
    pub fn new(
        mut client: ClientConfig,
        config: StationConfig,
        hardware: H,
        mut store: S,
    ) -> Result<StationRunner<H, S>, RunnerError<S::Error>> {
        client.versions = vec![config.version];
        let origin = Instant::now();
        let records = store.load().map_err(RunnerError::Load)?;
        let mut station =
            Station::new(config, hardware, &records, Millis(0)).map_err(RunnerError::Restore)?;
        drop(records);
        station.set_clock(Millis(0), DateTime::now());
        station
            .flush(&mut store, Millis(0))
            .map_err(RunnerError::Store)?;
        let (inputs_tx, inputs) = mpsc::channel(INPUT_QUEUE);
        let (stop_tx, stop) = watch::channel(false);
        Ok(StationRunner {
            client,
            station,
            store,
            origin,
            inputs,
            stop,
            handle: StationHandle {
                inputs: inputs_tx,
                stop: Arc::new(stop_tx),
            },
            on_event: None,
            on_frame: None,
            ping_interval: None,
            backoff: None,
        })
    }

    /// A handle to send hardware events and to stop the runner. Inputs sent before
    /// [`run`](Self::run) wait in the queue.
    pub fn handle(&self) -> StationHandle {
        self.handle.clone()
    }

    /// The station.
    pub fn station(&self) -> &Station<H> {
        &self.station
    }

    /// The station, mutably (before [`run`](Self::run): to take the restore's events, set
    /// the clock, ...). Use [`now`](Self::now) for its clock.
    pub fn station_mut(&mut self) -> &mut Station<H> {
        &mut self.station
    }

    /// The station's clock: milliseconds since the runner was created.
    pub fn now(&self) -> Millis {
        Millis(u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Calls `callback` with every [`RunnerEvent`], and the station as it is after it (to read
    /// [`Station::queued`], [`Station::transactions`], ...). It runs inside the runner's loop:
    /// it must return promptly (use [`StationHandle::try_send`] or [`StationHandle::stop`] to
    /// act, or forward the event to a channel).
    pub fn on_event(
        mut self,
        callback: impl FnMut(&Station<H>, &RunnerEvent) + Send + 'static,
    ) -> StationRunner<H, S> {
        self.on_event = Some(Box::new(callback));
        self
    }

    /// Pings after this much silence instead of the station's `WebSocketPingInterval` (which
    /// the CSMS may change; its 0 turns pings off).
    pub fn ping_interval(mut self, interval: Duration) -> StationRunner<H, S> {
        self.ping_interval = Some(interval);
        self
    }

    /// Reconnects by this back-off instead of the station's `RetryBackOff*` variables (whole
    /// seconds; a test or a demo may want shorter waits).
    pub fn backoff(mut self, backoff: RetryBackOff) -> StationRunner<H, S> {
        self.backoff = Some(backoff);
        self
    }

    /// The keep-alive interval in force: the override, else the station's variable.
    fn keep_alive_interval(&self) -> Option<Duration> {
        self.ping_interval
            .or_else(|| self.station.config().variables.ping_interval())
    }

    /// Calls `callback` with every OCPP-J frame, received or sent, as text (for transcripts;
    /// [`ClientConfig::observer`] needs a [`Connection`](crate::Connection), which a runner
    /// does not have, and is not used).
    pub fn on_frame(
        mut self,
        callback: impl FnMut(Direction, &str) + Send + 'static,
    ) -> StationRunner<H, S> {
        self.on_frame = Some(Box::new(callback));
        self
    }

    /// Runs until [`StationHandle::stop`] (or until dropped: like a power cut, it loses
    /// nothing the store holds), then returns the station and its store. Fails only when a
    /// store write fails.
    pub async fn run(mut self) -> Result<Stopped<H, S>, RunnerError<S::Error>> {
        let mut link = Link {
            online: None,
            connecting: None,
            retry_at: Some(Instant::now()),
            attempt: 0,
        };
        // The restore's events, and any from calls made before `run`.
        self.step(&mut link).await?;
        let mut inputs_open = true;
        let mut stop_open = true;
        // The last station deadline handled, so that one the station does not move on from
        // never spins the loop.
        let mut last_deadline: Option<Millis> = None;
        loop {
            if *self.stop.borrow() {
                break;
            }
            let station_deadline = self.station.poll_timeout().map(|at| {
                let at = match last_deadline {
                    Some(last) if at <= last => last.plus_millis(10),
                    _ => at,
                };
                (at, self.origin + Duration::from_millis(at.0))
            });
            let keep_alive = link
                .online
                .as_ref()
                .and_then(|o| self.keep_alive_deadline(o));
            let retry_at = match (&link.online, &link.connecting) {
                (None, None) => link.retry_at,
                _ => None,
            };
            tokio::select! {
                changed = self.stop.changed(), if stop_open => {
                    if changed.is_err() {
                        stop_open = false;
                    }
                }
                input = self.inputs.recv(), if inputs_open => match input {
                    Some(input) => self.input(input),
                    // Every handle is gone: the station runs on without inputs.
                    None => inputs_open = false,
                },
                result = connecting(&mut link.connecting) => {
                    link.connecting = None;
                    self.connected(&mut link, result);
                }
                () = sleep_until(retry_at) => {
                    link.retry_at = None;
                    let client = self.client.clone();
                    link.connecting = Some(Box::pin(async move { client::handshake(&client).await }));
                }
                frame = next_frame(&mut link.online) => self.frame(&mut link, frame).await,
                () = sleep_until(station_deadline.map(|(_, at)| at)) => {
                    last_deadline = station_deadline.map(|(at, _)| at);
                    let now = self.now();
                    self.station.handle_timeout(now);
                }
                () = sleep_until(keep_alive) => self.keep_alive(&mut link).await,
            }
            self.step(&mut link).await?;
        }
        self.close(&mut link).await?;
        Ok(Stopped {
            station: self.station,
            store: self.store,
        })
    }

    fn emit(&mut self, event: RunnerEvent) {
        if let Some(callback) = &mut self.on_event {
            callback(&self.station, &event);
        }
    }

    fn observe(&mut self, direction: Direction, frame: &str) {
        if let Some(callback) = &mut self.on_frame {
            callback(direction, frame);
        }
    }

    fn input(&mut self, input: StationInput) {
        let now = self.now();
        let result = match &input {
            StationInput::PlugIn(connector) => self.station.plug_in(*connector, now),
            StationInput::Unplug(connector) => self.station.unplug(*connector, now),
            StationInput::PresentToken(connector, token) => {
                self.station.present_token(*connector, token.clone(), now)
            }
            StationInput::Meter(connector, reading) => {
                self.station.meter(*connector, *reading, now)
            }
            StationInput::Fault(connector, faulted) => {
                self.station.fault(*connector, *faulted, now)
            }
        };
        if let Err(error) = result {
            self.emit(RunnerEvent::InputRefused { input, error });
        }
    }

    fn connected(&mut self, link: &mut Link, result: Result<Upgraded, ConnectError>) {
        match result {
            Ok(upgraded) => {
                link.attempt = 0;
                link.online = Some(Online {
                    socket: upgraded.socket,
                    last_heard: Instant::now(),
                    awaiting_pong: false,
                });
                let now = self.now();
                self.station.connected(now);
                self.emit(RunnerEvent::Connected {
                    version: upgraded.version,
                });
            }
            Err(error) => {
                let retry_in = self.retry(link);
                tracing::warn!(%error, ?retry_in, "connection attempt failed");
                self.emit(RunnerEvent::ConnectFailed {
                    error,
                    attempt: link.attempt,
                    retry_in,
                });
            }
        }
    }

    /// Schedules the next connection attempt by the back-off; returns the wait.
    fn retry(&mut self, link: &mut Link) -> Duration {
        let backoff = self
            .backoff
            .unwrap_or_else(|| self.station.config().variables.retry_back_off());
        let wait = backoff.delay(link.attempt, client::random_u32());
        link.attempt = link.attempt.saturating_add(1);
        link.retry_at = Some(Instant::now() + wait);
        wait
    }

    /// The connection is gone: the station is told, the next attempt scheduled.
    fn lost(&mut self, link: &mut Link) {
        if link.online.take().is_none() {
            return;
        }
        let now = self.now();
        self.station.disconnected(now);
        let retry_in = self.retry(link);
        tracing::info!(?retry_in, "connection lost; reconnecting");
        self.emit(RunnerEvent::Disconnected { retry_in });
    }

    async fn frame(&mut self, link: &mut Link, frame: Option<Frame>) {
        let Some(online) = &mut link.online else {
            return;
        };
        let Some(frame) = frame else {
            self.lost(link);
            return;
        };
        online.last_heard = Instant::now();
        online.awaiting_pong = false;
        match frame.opcode() {
            OpCode::Text => match std::str::from_utf8(frame.payload()) {
                Ok(text) => {
                    self.observe(Direction::Incoming, text);
                    let now = self.now();
                    self.station.receive(text.as_bytes(), now);
                }
                // RFC 6455, 8.1: a text message that is not UTF-8 fails the connection.
                Err(_) => self.close_with(link, CloseCode::Invalid, "not UTF-8").await,
            },
            OpCode::Binary => {
                self.close_with(link, CloseCode::Unsupported, "OCPP-J is text only")
                    .await;
            }
            // yawc has answered it; the connection is over.
            OpCode::Close => self.lost(link),
            // Pings are answered by yawc; a pong (or a ping) tells the CSMS is there.
            _ => {}
        }
    }

    fn keep_alive_deadline(&self, online: &Online) -> Option<Instant> {
        let wait = match (online.awaiting_pong, self.keep_alive_interval()) {
            (false, Some(interval)) => interval,
            (true, _) | (false, None) => self.client.pong_timeout,
        };
        Some(online.last_heard + wait)
    }

    /// Pings after [`ClientConfig::ping_interval`] of silence; gives up after
    /// [`ClientConfig::pong_timeout`] more.
    async fn keep_alive(&mut self, link: &mut Link) {
        let write_timeout = self.client.write_timeout;
        let pinging = self.keep_alive_interval().is_some();
        let Some(online) = &mut link.online else {
            return;
        };
        if online.awaiting_pong || !pinging {
            tracing::info!("CSMS silent for too long; closing");
            self.close_with(link, CloseCode::Away, "no pong").await;
            return;
        }
        online.awaiting_pong = true;
        online.last_heard = Instant::now();
        let ping = online.socket.send(Frame::ping(Vec::new()));
        if !matches!(tokio::time::timeout(write_timeout, ping).await, Ok(Ok(()))) {
            self.lost(link);
        }
    }

    /// Sends a close frame (within the write timeout) and treats the connection as lost.
    async fn close_with(&mut self, link: &mut Link, code: CloseCode, reason: &'static str) {
        if let Some(online) = &mut link.online {
            let close = online.socket.send(Frame::close(code, reason.as_bytes()));
            let _ = tokio::time::timeout(self.client.write_timeout, close).await;
        }
        self.lost(link);
    }

    /// What follows every input, in the order the station asks: its writes on the store,
    /// its frames on the socket, its events to the application. A failed write to the socket
    /// loses the connection, which the station hears of before the next round.
    async fn step(&mut self, link: &mut Link) -> Result<(), RunnerError<S::Error>> {
        loop {
            let now = self.now();
            self.station
                .flush(&mut self.store, now)
                .map_err(RunnerError::Store)?;
            if !self.transmit(link).await {
                self.lost(link);
                continue;
            }
            while let Some(event) = self.station.poll_event() {
                self.emit(RunnerEvent::Station(event));
            }
            if link.online.is_some() && self.station.wants_close() {
                tracing::warn!("too many bad messages from the CSMS; closing");
                self.close_with(link, CloseCode::Policy, "too many bad messages")
                    .await;
                continue;
            }
            return Ok(());
        }
    }

    /// Writes the station's frames, within the write timeout; `false` if the socket failed.
    async fn transmit(&mut self, link: &mut Link) -> bool {
        let write_timeout = self.client.write_timeout;
        let mut frames = Vec::new();
        // Offline this only lets a due Reset happen (the station has no session).
        while let Some(frame) = self.station.poll_transmit() {
            match String::from_utf8(frame) {
                Ok(text) => frames.push(text),
                // The session writes JSON, which is UTF-8; skip anything else.
                Err(_) => continue,
            }
        }
        let Some(online) = &mut link.online else {
            return true;
        };
        if frames.is_empty() {
            return true;
        }
        for text in &frames {
            self.observe(Direction::Outgoing, text);
        }
        let socket = &mut online.socket;
        let write = async move {
            for text in frames {
                socket.feed(Frame::text(text)).await?;
            }
            socket.flush().await
        };
        match tokio::time::timeout(write_timeout, write).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::info!(%error, "write to the CSMS failed");
                false
            }
            Err(_) => {
                tracing::warn!(
                    ?write_timeout,
                    "the CSMS did not read within the write timeout"
                );
                false
            }
        }
    }

    /// Stopping: the last writes and frames, a close frame, the station told.
    async fn close(&mut self, link: &mut Link) -> Result<(), RunnerError<S::Error>> {
        link.connecting = None;
        let write_timeout = self.client.write_timeout;
        if let Some(online) = &mut link.online {
            let close = online.socket.send(Frame::close(CloseCode::Normal, b""));
            if matches!(tokio::time::timeout(write_timeout, close).await, Ok(Ok(()))) {
                // Wait briefly for the CSMS's close frame, as the closing handshake asks.
                let socket = &mut online.socket;
                let _ = tokio::time::timeout(CLOSE_WAIT, async {
                    while let Some(frame) = socket.next().await {
                        if frame.opcode() == OpCode::Close {
                            break;
                        }
                    }
                })
                .await;
            }
        }
        if link.online.take().is_some() {
            let now = self.now();
            self.station.disconnected(now);
        }
        let now = self.now();
        self.station
            .flush(&mut self.store, now)
            .map_err(RunnerError::Store)?;
        while let Some(event) = self.station.poll_event() {
            self.emit(RunnerEvent::Station(event));
        }
        Ok(())
    }
}

/// The end of the connection attempt in progress (never, without one).
async fn connecting(attempt: &mut Option<Connecting>) -> Result<Upgraded, ConnectError> {
    match attempt {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

/// The next frame of the live connection (never, without one).
async fn next_frame(online: &mut Option<Online>) -> Option<Frame> {
    match online {
        Some(online) => online.socket.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
