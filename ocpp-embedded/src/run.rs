//! [`Runner`]: the station's connection to the CSMS as one future, on any executor.
//!
//! ```text
//! firmware ──Input──▶ channel ──▶ Runner::run ──▶ Station ──▶ AsyncStore (each write durable
//!                                     │  ▲                    before any frame that needs it)
//!                     Connect ──▶ stream (TCP, TLS) ──▶ WebSocket ──▶ CSMS
//!                                     ▼
//!                                  events (closure)
//! ```
//!
//! [`Runner::run`] owns the connection: it connects through the firmware's [`Connect`] (which
//! opens a TCP socket, or TLS over one), performs the WebSocket handshake, drives the
//! [`Station`] as its contract asks (every store write done and reported before any frame,
//! then the frames, then the events, and the timeouts on time), answers pings, sends a ping
//! after the station's `WebSocketPingInterval` without a word from the CSMS and drops the
//! connection if no answer comes within [`RunConfig::pong_timeout`], and after every failure or
//! loss waits as its `RetryBackOff*` variables say before connecting again. Hardware events come in through an
//! `embassy-sync` channel and are handled at once, connected or not (a transaction starts
//! and ends offline too; its messages wait in the store). It never spawns, needs no `Send`,
//! and returns only when the store fails: a write the store refused is kept and retried
//! first by the next `run`, and nothing that depends on it leaves before it.
//!
//! Time is `embassy-time`'s [`Instant`] and [`Timer`]: the firmware links a time driver (every
//! embassy HAL has one; host programs `host::StdClock`, feature
//! `host-time-driver`).

use alloc::format;
use alloc::string::String;
use core::convert::Infallible;
use core::future::Future;
use core::pin::pin;
use core::time::Duration;

use embassy_futures::select::{Either3, select3};
use embassy_sync::blocking_mutex::raw::RawMutex;
use embassy_sync::channel::{Channel, DynamicReceiver, Receiver};
use embassy_time::{Instant, Timer, with_deadline, with_timeout};
use embedded_io_async::{Read, Write};
use ocpp_rpc::Millis;
use ocpp_rpc::handshake::RetryBackOff;
use ocpp_station::store::Write as StoreWrite;
use ocpp_station::{
    ConnectorId, Hardware, IdToken, InputError, Reading, RestoreError, Station, StationConfig,
    StationEvent,
};
use ocpp_types::{DateTime, OcppVersion};

use crate::AsyncStore;
use crate::stream::Split;
use crate::websocket::{
    Endpoint, FrameReader, FrameWriter, HandshakeError, Incoming, Outgoing, UrlError, WsError,
    client_handshake,
};

/// Opens a new stream to the CSMS for each connection attempt: a TCP connection to
/// [`Endpoint::host`] and [`Endpoint::port`], with TLS over it when
/// [`Endpoint::is_secure`] (see `tls::open`).
///
/// The stream may borrow from the connector (its socket buffers, TLS record buffers): it is
/// dropped before the next `connect`.
#[allow(async_fn_in_trait)]
pub trait Connect {
    /// The connection.
    type Stream<'s>: Split
    where
        Self: 's;
    /// Why it could not be opened.
    type Error: core::fmt::Debug;

    /// Opens a connection (the run loop bounds it by [`RunConfig::connect_timeout`]).
    async fn connect(&mut self, endpoint: &Endpoint) -> Result<Self::Stream<'_>, Self::Error>;
}

/// A hardware event from the firmware, for [`Runner::run`]'s channel. Each is applied at
/// once, at the time it is received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Input {
    /// A cable was plugged in ([`Station::plug_in`]).
    PlugIn(ConnectorId),
    /// The cable was unplugged ([`Station::unplug`]).
    Unplug(ConnectorId),
    /// A driver presented a token ([`Station::present_token`]).
    Token(ConnectorId, IdToken),
    /// A meter reading ([`Station::meter`]).
    Meter(ConnectorId, Reading),
    /// The connector faulted (`true`) or recovered ([`Station::fault`]).
    Fault(ConnectorId, bool),
    /// The wall clock, from an RTC or NTP ([`Station::set_clock`]).
    Clock(DateTime),
    /// Close the connection cleanly (a close frame with 1000, then the CSMS's awaited for
    /// [`RunConfig::close_timeout`]), as before a planned restart: reported as
    /// [`Disconnect::Asked`]. The loop then connects again after the back-off, unless the
    /// firmware drops its future on that event. Nothing happens without a connection.
    Close,
}

/// Where the run loop takes the firmware's [`Input`]s from: implemented for an `embassy-sync`
/// (0.7) channel of inputs, its `Receiver` and `DynamicReceiver`. With another channel (another
/// `embassy-sync` version, one of the firmware's own), implement it on a wrapper:
///
/// ```text
/// struct Hw<'a>(embassy_sync_08::channel::Receiver<'a, CriticalSectionRawMutex, Input, 8>);
/// impl ocpp_embedded::run::Inputs for Hw<'_> {
///     async fn next(&mut self) -> Input { self.0.receive().await }
/// }
/// ```
#[allow(async_fn_in_trait)]
pub trait Inputs {
    /// The next input. The future must be cancel-safe: dropped before it completes, it has
    /// taken nothing (the loop races it against the connection and the clock).
    async fn next(&mut self) -> Input;
}

impl<M: RawMutex, const N: usize> Inputs for &Channel<M, Input, N> {
    async fn next(&mut self) -> Input {
        self.receive().await
    }
}

impl<M: RawMutex, const N: usize> Inputs for Receiver<'_, M, Input, N> {
    async fn next(&mut self) -> Input {
        self.receive().await
    }
}

impl Inputs for DynamicReceiver<'_, Input> {
    async fn next(&mut self) -> Input {
        self.receive().await
    }
}

impl<T: Inputs + ?Sized> Inputs for &mut T {
    async fn next(&mut self) -> Input {
        (**self).next().await
    }
}

/// What the run loop reports to the firmware.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The station's own event (registration, authorization, transactions, ...).
    Station(StationEvent),
    /// The WebSocket connection is up, in this version.
    Connected(OcppVersion),
    /// A connection attempt failed; the next waits for the back-off.
    ConnectFailed(ConnectFailure),
    /// The connection was lost or closed; the next attempt waits for the back-off.
    Disconnected(Disconnect),
    /// The station refused an [`Input`] (an unknown connector, a reading that is not finite).
    InputRefused(InputError),
}

/// Which way an OCPP message went, for [`Observer::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The station sent it to the CSMS.
    Sent,
    /// It came from the CSMS.
    Received,
}

/// What [`Runner::run_observed`] reports: every [`Event`] with the station right after it,
/// and every OCPP message sent or received.
pub trait Observer<H: Hardware> {
    /// An event; `station` is the station as the event leaves it (its
    /// [`queued`](Station::queued) messages, its running
    /// [`transactions`](Station::transactions)).
    fn event(&mut self, station: &Station<H>, event: Event);

    /// An OCPP message (a text frame), as it is handed to the connection or as it came,
    /// before the station reads it. Nothing by default.
    fn message(&mut self, direction: Direction, text: &str) {
        let _ = (direction, text);
    }
}

/// The observer [`Runner::run`] uses: its closure gets the events, nothing else.
struct EventsOnly<E>(E);

impl<H: Hardware, E: FnMut(Event)> Observer<H> for EventsOnly<E> {
    fn event(&mut self, _station: &Station<H>, event: Event) {
        (self.0)(event);
    }
}

/// Why a connection attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// [`Connect::connect`] failed: its error, as `Debug` prints it.
    Transport(String),
    /// The WebSocket handshake failed.
    Handshake(HandshakeError),
    /// The connection and handshakes took longer than [`RunConfig::connect_timeout`].
    Timeout,
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disconnect {
    /// Reading failed: the stream (I/O, the CSMS closed it) or what came (a protocol error,
    /// a message larger than the read buffer, text that is not UTF-8), closed with the code
    /// of [`WsError::close_code`].
    Read(WsError),
    /// Writing failed.
    Write(WsError),
    /// A write took longer than [`RunConfig::write_timeout`].
    WriteTimeout,
    /// The CSMS closed the connection, with this code.
    Closed(Option<u16>),
    /// No pong (nor anything else) within [`RunConfig::pong_timeout`] of a ping (closed
    /// with 1001).
    NoPong,
    /// The CSMS sent a binary message, which OCPP-J does not have (closed with 1003).
    Binary,
    /// The CSMS sent too many bad messages in a row (closed with 1008).
    BadMessages,
    /// The firmware asked for it ([`Input::Close`]; closed with 1000).
    Asked,
}

impl Disconnect {
    /// The close frame's code this end calls for, if one is sent.
    fn close_code(&self) -> Option<u16> {
        match self {
            Disconnect::Read(error) => error.close_code(),
            Disconnect::Write(_) | Disconnect::WriteTimeout => None,
            // The CSMS's close is echoed.
            Disconnect::Closed(code) => Some(code.unwrap_or(1000)),
            Disconnect::NoPong => Some(1001),
            Disconnect::Binary => Some(1003),
            Disconnect::BadMessages => Some(1008),
            Disconnect::Asked => Some(1000),
        }
    }

    /// Whether this end's close is worth waiting for the CSMS's answer to: it closed a
    /// connection that still works.
    fn lingers(&self) -> bool {
        matches!(
            self,
            Disconnect::Binary | Disconnect::BadMessages | Disconnect::Asked
        )
    }
}

/// Why [`Runner::run`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunError<E> {
    /// The store failed a write. It is kept, and the next [`Runner::run`] performs it before
    /// anything else.
    Store(E),
}

impl<E: core::fmt::Debug> core::fmt::Display for RunError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RunError::Store(error) => write!(f, "the store failed: {error:?}"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for RunError<E> {}

/// Why [`Runner::start`] could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError<E> {
    /// The store could not be loaded.
    Load(E),
    /// The store holds records the station does not know.
    Restore(RestoreError),
    /// The records the restore wrote (the ends of transactions a power loss cut) could not
    /// be written.
    Write(E),
}

impl<E: core::fmt::Debug> core::fmt::Display for StartError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StartError::Load(error) => write!(f, "the store could not be loaded: {error:?}"),
            StartError::Restore(error) => write!(f, "{error}"),
            StartError::Write(error) => write!(f, "the store could not be written: {error:?}"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for StartError<E> {}

/// How the run loop connects and keeps the connection. Build it with [`RunConfig::new`].
#[derive(Clone)]
#[non_exhaustive]
pub struct RunConfig {
    /// The CSMS.
    pub endpoint: Endpoint,
    /// The Basic-auth password of security profiles 1 and 2 (`BasicAuthPassword`; 1.6
    /// `AuthorizationKey`); the user is the identity.
    pub password: Option<String>,
    /// A ping interval that replaces the station's `WebSocketPingInterval`
    /// ([`Variables::ping_interval`](ocpp_station::Variables::ping_interval), whole seconds,
    /// read at every wait so that a change by the CSMS applies at once), for simulators and
    /// tests that need finer steps. Default `None`: the variable.
    pub ping_interval: Option<Duration>,
    /// Drop the connection when a ping's pong (or anything else) has not come within this
    /// time. Default 30 s.
    pub pong_timeout: Duration,
    /// How long [`Connect::connect`] and the WebSocket handshake may take together.
    /// Default 30 s.
    pub connect_timeout: Duration,
    /// How long one frame may take to write before the connection is dropped. Default 30 s.
    pub write_timeout: Duration,
    /// After sending a close frame, how long to wait for the CSMS's. Default 1 s.
    pub close_timeout: Duration,
    /// A reconnection back-off that replaces the station's `RetryBackOff*` variables
    /// ([`Variables::retry_back_off`](ocpp_station::Variables::retry_back_off), whole seconds),
    /// for simulators and tests that need finer steps. Default `None`: the variables.
    pub backoff: Option<RetryBackOff>,
}

impl core::fmt::Debug for RunConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RunConfig")
            .field("endpoint", &self.endpoint)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ping_interval", &self.ping_interval)
            .field("pong_timeout", &self.pong_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl RunConfig {
    /// Connects to `url` (`ws://host:port/path/<identity>` or `wss://...`) with the defaults:
    /// no password, pings and back-off as the station's variables say.
    pub fn new(url: &str) -> Result<RunConfig, UrlError> {
        Ok(RunConfig {
            endpoint: Endpoint::parse(url)?,
            password: None,
            ping_interval: None,
            pong_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(1),
            backoff: None,
        })
    }
}

/// The station, its store and the connection's buffers, run by [`Runner::run`].
///
/// The read buffer bounds the messages the CSMS may send: a message must fit it with its
/// frame header (at most 14 bytes; [`FrameReader::max_message`]), and a larger one closes the
/// connection with 1009. It also holds the handshake response head (a few hundred bytes). The
/// write buffer only stages frames on their way out, so any size from
/// [`MIN_WRITE_BUFFER`](crate::websocket::MIN_WRITE_BUFFER) bytes works; a larger one means
/// fewer writes.
pub struct Runner<'b, H: Hardware, S: AsyncStore> {
    station: Station<H>,
    store: S,
    unwritten: Option<StoreWrite>,
    read_buf: &'b mut [u8],
    write_buf: &'b mut [u8],
    config: RunConfig,
    attempt: u32,
}

impl<H: Hardware, S: AsyncStore> core::fmt::Debug for Runner<'_, H, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Runner")
            .field("station", &self.station)
            .field("unwritten", &self.unwritten.is_some())
            .field("read_buf", &self.read_buf.len())
            .field("write_buf", &self.write_buf.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<'b, H: Hardware, S: AsyncStore> Runner<'b, H, S> {
    /// Loads the store and restores the station from it (transactions cut by a power loss
    /// end at once, as [`Station::new`] says).
    pub async fn start(
        station: StationConfig,
        hardware: H,
        mut store: S,
        config: RunConfig,
        read_buf: &'b mut [u8],
        write_buf: &'b mut [u8],
    ) -> Result<Runner<'b, H, S>, StartError<S::Error>> {
        let records = store.load().await.map_err(StartError::Load)?;
        let mut station =
            Station::new(station, hardware, &records, now()).map_err(StartError::Restore)?;
        // What the restore wrote (transactions a power loss cut, ended) is made durable now,
        // so its events are there to read before `run`, as they were before the restart.
        while let Some(write) = station.poll_write() {
            store.write(&write).await.map_err(StartError::Write)?;
            station.write_done(now());
        }
        Ok(Runner::new(station, store, config, read_buf, write_buf))
    }

    /// A runner for a station built from `store`'s records.
    pub fn new(
        station: Station<H>,
        store: S,
        config: RunConfig,
        read_buf: &'b mut [u8],
        write_buf: &'b mut [u8],
    ) -> Runner<'b, H, S> {
        Runner {
            station,
            store,
            unwritten: None,
            read_buf,
            write_buf,
            config,
            attempt: 0,
        }
    }

    /// The station.
    pub fn station(&self) -> &Station<H> {
        &self.station
    }

    /// The station, mutably (between runs).
    pub fn station_mut(&mut self) -> &mut Station<H> {
        &mut self.station
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The station and the store back.
    pub fn into_parts(self) -> (Station<H>, S) {
        (self.station, self.store)
    }

    /// Runs the station: connects, keeps connected, reconnects, applies `inputs` (an
    /// `embassy-sync` channel's `&Channel`, `Receiver` or `DynamicReceiver`), and calls
    /// `events` with everything the firmware may want to know; `random` gives the random
    /// numbers the WebSocket keys, frame masks and back-off jitter need (a hardware RNG).
    ///
    /// Returns only when the store fails (the connection is then dropped, and the station
    /// told). Dropping the future drops the connection too and loses nothing: what was not
    /// acknowledged is in the store, and the next `run` starts from there.
    pub async fn run<C, I, R, E>(
        &mut self,
        connector: &mut C,
        inputs: I,
        random: R,
        events: E,
    ) -> RunError<S::Error>
    where
        C: Connect,
        I: Inputs,
        R: FnMut() -> u32,
        E: FnMut(Event),
    {
        self.run_observed(connector, inputs, random, EventsOnly(events))
            .await
    }

    /// [`run`](Self::run) with an [`Observer`]: each event comes with the station as it is
    /// right after it (its queue, its transactions), and every OCPP message is shown as it
    /// is sent or received (a host program's transcript and checks; firmware needs
    /// [`run`](Self::run) only).
    pub async fn run_observed<C, I, R, O>(
        &mut self,
        connector: &mut C,
        mut inputs: I,
        mut random: R,
        mut observer: O,
    ) -> RunError<S::Error>
    where
        C: Connect,
        I: Inputs,
        R: FnMut() -> u32,
        O: Observer<H>,
    {
        match self
            .run_loop(connector, &mut inputs, &mut random, &mut observer)
            .await
        {
            Ok(never) => match never {},
            Err(error) => error,
        }
    }

    async fn run_loop<C, I, R, E>(
        &mut self,
        connector: &mut C,
        inputs: &mut I,
        random: &mut R,
        events: &mut E,
    ) -> Result<Infallible, RunError<S::Error>>
    where
        C: Connect,
        I: Inputs,
        R: FnMut() -> u32,
        E: Observer<H>,
    {
        let Runner {
            station,
            store,
            unwritten,
            read_buf,
            write_buf,
            config,
            attempt,
        } = self;
        let mut core = Core {
            station,
            store,
            unwritten,
            events,
        };
        let mut frames = FrameReader::new(read_buf);
        let mut out = FrameWriter::new(write_buf);
        if core.station.is_connected() {
            // An earlier run was dropped while connected.
            core.station.disconnected(now());
        }
        core.settle_offline().await?;
        // Every attempt but the first waits as the back-off says (one await of it: each one
        // would be a copy of its state machine in this future).
        let mut retry = false;
        loop {
            if retry {
                core.back_off(inputs, config.backoff.as_ref(), attempt, random)
                    .await?;
            }
            retry = true;
            let deadline = Instant::now().saturating_add(ticks(config.connect_timeout));
            let versions = [core.station.config().version];
            let opened = core
                .serve(
                    inputs,
                    with_deadline(deadline, connector.connect(&config.endpoint)),
                )
                .await?;
            let mut stream = match opened {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    let failure = ConnectFailure::Transport(format!("{error:?}"));
                    core.events
                        .event(core.station, Event::ConnectFailed(failure));
                    continue;
                }
                Err(_) => {
                    core.events
                        .event(core.station, Event::ConnectFailed(ConnectFailure::Timeout));
                    continue;
                }
            };
            let (mut reader, mut writer) = stream.split();
            let handshake = client_handshake(
                &mut reader,
                &mut writer,
                &mut frames,
                &config.endpoint,
                &versions,
                config.password.as_deref(),
                &mut *random,
            );
            let version = match core
                .serve(inputs, with_deadline(deadline, handshake))
                .await?
            {
                Ok(Ok(version)) => version,
                failed => {
                    let failure = match failed {
                        Ok(Err(error)) => ConnectFailure::Handshake(error),
                        _ => ConnectFailure::Timeout,
                    };
                    core.events
                        .event(core.station, Event::ConnectFailed(failure));
                    continue;
                }
            };
            *attempt = 0;
            core.station.connected(now());
            core.events.event(core.station, Event::Connected(version));
            let mut sender = Sender {
                writer: &mut writer,
                out: &mut out,
                config,
                random: &mut *random,
            };
            let ended = core
                .session(inputs, &mut reader, &mut frames, &mut sender)
                .await;
            if let Some(code) = ended.as_ref().ok().and_then(Disconnect::close_code) {
                sender.close(code).await;
            }
            core.station.disconnected(now());
            let reason = ended?;
            core.settle_offline().await?;
            if reason.lingers() {
                let drain = async {
                    while let Ok(incoming) = frames.next(&mut reader).await {
                        if matches!(incoming, Incoming::Close(_)) {
                            break;
                        }
                    }
                };
                let _ = with_timeout(ticks(config.close_timeout), drain).await;
            }
            core.events.event(core.station, Event::Disconnected(reason));
        }
    }
}

/// The station's side of the loop: the station, its store, and the firmware's event sink.
struct Core<'r, H: Hardware, S: AsyncStore, E> {
    station: &'r mut Station<H>,
    store: &'r mut S,
    unwritten: &'r mut Option<StoreWrite>,
    events: &'r mut E,
}

/// The writing side of a connection.
struct Sender<'l, 'b, Wr, R> {
    writer: &'l mut Wr,
    out: &'l mut FrameWriter<'b>,
    config: &'l RunConfig,
    random: &'l mut R,
}

impl<Wr: Write, R: FnMut() -> u32> Sender<'_, '_, Wr, R> {
    /// Sends one frame within the write timeout.
    async fn send(&mut self, kind: Outgoing, payload: &[u8]) -> Result<(), Disconnect> {
        let mask = (self.random)();
        let send = self.out.send(self.writer, kind, payload, mask);
        match with_timeout(ticks(self.config.write_timeout), send).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Disconnect::Write(error)),
            Err(_) => Err(Disconnect::WriteTimeout),
        }
    }

    /// Sends a close frame (failures do not matter: the connection ends anyway).
    async fn close(&mut self, code: u16) {
        let _ = self.send(Outgoing::Close, &code.to_be_bytes()).await;
    }
}

impl<H: Hardware, S: AsyncStore, E: Observer<H>> Core<'_, H, S, E> {
    /// Applies a hardware event.
    fn apply(&mut self, input: Input) {
        let now = now();
        let station = &mut *self.station;
        let result = match input {
            Input::PlugIn(connector) => station.plug_in(connector, now),
            Input::Unplug(connector) => station.unplug(connector, now),
            Input::Token(connector, token) => station.present_token(connector, token, now),
            Input::Meter(connector, reading) => station.meter(connector, reading, now),
            Input::Fault(connector, faulted) => station.fault(connector, faulted, now),
            Input::Clock(time) => {
                station.set_clock(now, time);
                Ok(())
            }
            // A connection's loop closes it (`session`); without one there is nothing to close.
            Input::Close => Ok(()),
        };
        if let Err(error) = result {
            self.events.event(self.station, Event::InputRefused(error));
        }
    }

    /// Performs every store write, each reported to the station once durable; a failed one
    /// is kept for the next attempt.
    async fn write(&mut self) -> Result<(), RunError<S::Error>> {
        loop {
            let Some(write) = self.unwritten.take().or_else(|| self.station.poll_write()) else {
                return Ok(());
            };
            if let Err(error) = self.store.write(&write).await {
                *self.unwritten = Some(write);
                return Err(RunError::Store(error));
            }
            self.station.write_done(now());
        }
    }

    fn events(&mut self) {
        while let Some(event) = self.station.poll_event() {
            self.events.event(self.station, Event::Station(event));
        }
    }

    /// Writes, then events, without a connection (`poll_transmit` still runs: it is where a
    /// due Reset reaches the hardware).
    async fn settle_offline(&mut self) -> Result<(), RunError<S::Error>> {
        self.write().await?;
        while self.station.poll_transmit().is_some() {}
        self.events();
        Ok(())
    }

    /// Writes, then frames, then events: the station's contract.
    async fn settle<Wr: Write, R: FnMut() -> u32>(
        &mut self,
        link: &mut Sender<'_, '_, Wr, R>,
    ) -> Result<Result<(), Disconnect>, RunError<S::Error>> {
        self.write().await?;
        while let Some(frame) = self.station.poll_transmit() {
            if let Ok(text) = core::str::from_utf8(&frame) {
                self.events.message(Direction::Sent, text);
            }
            if let Err(reason) = link.send(Outgoing::Text, &frame).await {
                return Ok(Err(reason));
            }
        }
        self.events();
        if self.station.wants_close() {
            return Ok(Err(Disconnect::BadMessages));
        }
        Ok(Ok(()))
    }

    /// Runs `fut` to its end while applying inputs and timeouts (no connection).
    async fn serve<I: Inputs, F: Future>(
        &mut self,
        inputs: &mut I,
        fut: F,
    ) -> Result<F::Output, RunError<S::Error>> {
        let mut fut = pin!(fut);
        loop {
            let deadline = self.station.poll_timeout().map(instant);
            match select3(fut.as_mut(), inputs.next(), sleep_until(deadline)).await {
                Either3::First(output) => return Ok(output),
                Either3::Second(input) => self.apply(input),
                Either3::Third(()) => self.station.handle_timeout(now()),
            }
            self.settle_offline().await?;
        }
    }

    /// Waits before the next connection attempt, as the back-off says.
    async fn back_off<I: Inputs, R: FnMut() -> u32>(
        &mut self,
        inputs: &mut I,
        backoff: Option<&RetryBackOff>,
        attempt: &mut u32,
        random: &mut R,
    ) -> Result<(), RunError<S::Error>> {
        let backoff = backoff
            .copied()
            .unwrap_or_else(|| self.station.config().variables.retry_back_off());
        let wait = backoff.delay(*attempt, random());
        *attempt = attempt.saturating_add(1);
        self.serve(inputs, Timer::after(ticks(wait))).await
    }

    /// One connection, from the handshake to its end: why it ended (the caller sends the
    /// close frame it calls for).
    async fn session<I: Inputs, Rd: Read, Wr: Write, R: FnMut() -> u32>(
        &mut self,
        inputs: &mut I,
        reader: &mut Rd,
        frames: &mut FrameReader<'_>,
        sender: &mut Sender<'_, '_, Wr, R>,
    ) -> Result<Disconnect, RunError<S::Error>> {
        let pong_timeout = ticks(sender.config.pong_timeout);
        let mut last_heard = Instant::now();
        let mut ping_sent: Option<Instant> = None;
        loop {
            if let Err(reason) = self.settle(sender).await? {
                return Ok(reason);
            }
            // The read stays pending while inputs, timeouts and pings are served: it is
            // never cancelled (a TLS read cancelled half-way loses its record).
            let mut read = pin!(frames.next(&mut *reader));
            let incoming = loop {
                let ping_interval = sender
                    .config
                    .ping_interval
                    .or_else(|| self.station.config().variables.ping_interval())
                    .map(ticks);
                let mut deadline = self.station.poll_timeout().map(instant);
                if let Some(interval) = ping_interval {
                    let ping_at = match ping_sent {
                        Some(sent) => sent.saturating_add(pong_timeout),
                        None => last_heard.saturating_add(interval),
                    };
                    deadline = Some(deadline.map_or(ping_at, |at| at.min(ping_at)));
                }
                match select3(read.as_mut(), inputs.next(), sleep_until(deadline)).await {
                    Either3::First(incoming) => break incoming,
                    Either3::Second(Input::Close) => return Ok(Disconnect::Asked),
                    Either3::Second(input) => self.apply(input),
                    Either3::Third(()) => {
                        let now = Instant::now();
                        if let Some(interval) = ping_interval {
                            match ping_sent {
                                Some(sent) if now >= sent.saturating_add(pong_timeout) => {
                                    return Ok(Disconnect::NoPong);
                                }
                                None if now >= last_heard.saturating_add(interval) => {
                                    if let Err(reason) = sender.send(Outgoing::Ping, &[]).await {
                                        return Ok(reason);
                                    }
                                    ping_sent = Some(now);
                                }
                                _ => {}
                            }
                        }
                        self.station.handle_timeout(millis(now));
                    }
                }
                if let Err(reason) = self.settle(sender).await? {
                    return Ok(reason);
                }
            };
            last_heard = Instant::now();
            ping_sent = None;
            match incoming {
                Ok(Incoming::Text(text)) => {
                    self.events.message(Direction::Received, text);
                    self.station.receive(text.as_bytes(), now());
                }
                Ok(Incoming::Ping(payload)) => {
                    if let Err(reason) = sender.send(Outgoing::Pong, payload).await {
                        return Ok(reason);
                    }
                }
                Ok(Incoming::Pong(_)) => {}
                Ok(Incoming::Binary(_)) => return Ok(Disconnect::Binary),
                Ok(Incoming::Close(code)) => return Ok(Disconnect::Closed(code)),
                Err(error) => return Ok(Disconnect::Read(error)),
            }
        }
    }
}

/// The monotonic clock, in the station's milliseconds.
fn now() -> Millis {
    millis(Instant::now())
}

fn millis(at: Instant) -> Millis {
    Millis(at.as_millis())
}

fn instant(at: Millis) -> Instant {
    Instant::try_from_millis(at.0).unwrap_or(Instant::MAX)
}

/// A `core` duration as an `embassy-time` one, capped at 2^32 ms (49 days), which keeps every
/// tick rate's arithmetic in range.
fn ticks(duration: Duration) -> embassy_time::Duration {
    let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    embassy_time::Duration::from_millis(ms.min(u64::from(u32::MAX)))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => Timer::at(at).await,
        None => core::future::pending().await,
    }
}
