//! One OCPP-J connection over a WebSocket: a driver task that owns the socket and the
//! sans-I/O [`Session`], and the [`Connection`] handle that talks to it over a channel.
//!
//! The driver waits on four things at once: a WebSocket message, a command from a handle, the
//! session's next deadline and the keep-alive timer. After each it moves the session's frames
//! to the socket and its events to their owners: a completed call to the caller waiting on it,
//! an incoming call to its handler, which runs in a task of its own (so a handler that calls
//! the peer back never blocks the connection, and an incoming call is never held up by one of
//! ours).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ocpp_rpc::{
    AnyRequest, AnyResponse, CallFailure, CallId, Event, IncomingId, LeniencyEvent, Millis,
    RpcError, Session, Violation,
};
use ocpp_types::{OcppVersion, Request, SendMessage};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant as Clock;
use tracing::Instrument;
use yawc::close::CloseCode;
use yawc::{Frame, OpCode, WebSocket};

use crate::handlers::Handlers;

/// How many commands may wait for the driver before callers wait for room.
const COMMAND_QUEUE: usize = 64;

/// Which way a frame went, for [`FrameObserver`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the peer.
    Incoming,
    /// Sent to the peer.
    Outgoing,
}

/// Sees every OCPP-J frame of a connection as text, with its direction (for transcripts and
/// logs; `tracing` gets them at `TRACE` level anyway).
pub type FrameObserver = Arc<dyn Fn(&Connection, Direction, &str) + Send + Sync>;

/// What the peer did wrong, or what was forgiven it, on one connection: the session's reports
/// that are not calls. Each is also logged with `tracing` at `WARN` (violations) or `INFO`
/// (leniencies), and counted ([`Connection::violations`], [`Connection::leniencies`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConnectionEvent {
    /// An incoming message broke the protocol; the session answered it as the specification
    /// asks (see the table in `ocpp-rs-rpc`'s documentation).
    ProtocolViolation(Violation),
    /// A leniency was taken on an incoming message.
    Leniency(LeniencyEvent),
    /// The peer refused one of our CALLRESULTs with a CALLRESULTERROR (2.1).
    ResponseRejected {
        /// The message id of our CALLRESULT.
        message_id: String,
        /// The peer's error.
        error: RpcError,
    },
    /// Too many bad messages in a row: the connection is being closed (1008).
    TooManyBadMessages,
    /// A newer connection of the same identity replaced this one, which is being closed (1008;
    /// see [`DuplicateIdentity`](crate::DuplicateIdentity)).
    Replaced,
}

/// Receives every [`ConnectionEvent`] of every connection it is set on.
pub type EventObserver = Arc<dyn Fn(&Connection, &ConnectionEvent) + Send + Sync>;

/// What a handle asks of the driver.
pub(crate) enum Command {
    Call(
        AnyRequest,
        oneshot::Sender<Result<AnyResponse, CallFailure>>,
    ),
    Send(AnyRequest, oneshot::Sender<Result<(), CallFailure>>),
    Respond(IncomingId, Result<AnyResponse, RpcError>),
    Close(CloseCode, &'static str),
    /// A newer connection of the same identity took this one's place.
    Replaced,
}

/// A handle to one OCPP connection: who the peer is, and calls to it. Cheap to clone; the
/// connection lives until it closes, whether or not handles remain.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    identity: String,
    version: OcppVersion,
    remote_addr: Option<SocketAddr>,
    /// Boxed, so the channel's first block of slots (allocated with the channel, 32 of them)
    /// costs 32 pointers per connection rather than 32 commands.
    commands: mpsc::Sender<Box<Command>>,
    closed: watch::Receiver<bool>,
    violations: AtomicU64,
    leniencies: AtomicU64,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("identity", &self.inner.identity)
            .field("version", &self.inner.version)
            .field("remote_addr", &self.inner.remote_addr)
            .finish()
    }
}

impl Connection {
    /// The charging station's identity (the last segment of the connection URL).
    pub fn identity(&self) -> &str {
        &self.inner.identity
    }

    /// The OCPP version negotiated for this connection.
    pub fn version(&self) -> OcppVersion {
        self.inner.version
    }

    /// The peer's address, when the connection came over TCP.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr
    }

    /// How many protocol violations the peer has committed on this connection.
    pub fn violations(&self) -> u64 {
        self.inner.violations.load(Ordering::Relaxed)
    }

    /// How many leniencies were taken on the peer's messages on this connection.
    pub fn leniencies(&self) -> u64 {
        self.inner.leniencies.load(Ordering::Relaxed)
    }

    /// Calls the peer and waits for the typed response. Calls queue behind each other so at
    /// most the configured number are in flight (one, as OCPP 2.x requires, by default).
    pub async fn call<R: Request + 'static>(&self, request: R) -> Result<R::Response, CallFailure> {
        let response = self.call_any(AnyRequest::from_message(request)).await?;
        response
            .into_message::<R::Response>()
            .map_err(|other| CallFailure::WrongType(other.action().as_str()))
    }

    /// Calls the peer with a request of any action of the connection's version.
    pub async fn call_any(&self, request: AnyRequest) -> Result<AnyResponse, CallFailure> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Call(request, reply)).await?;
        answer.await.unwrap_or(Err(CallFailure::Closed))
    }

    /// Sends a 2.1 SEND message (no answer; not queued behind calls).
    pub async fn send<S: SendMessage + 'static>(&self, message: S) -> Result<(), CallFailure> {
        self.send_any(AnyRequest::from_message(message)).await
    }

    /// Sends a 2.1 SEND message held as an [`AnyRequest`].
    pub async fn send_any(&self, message: AnyRequest) -> Result<(), CallFailure> {
        let (reply, answer) = oneshot::channel();
        self.command(Command::Send(message, reply)).await?;
        answer.await.unwrap_or(Err(CallFailure::Closed))
    }

    /// Closes the connection (WebSocket close code 1000). Pending calls end with
    /// [`CallFailure::Closed`].
    pub async fn close(&self) {
        let _ = self.command(Command::Close(CloseCode::Normal, "")).await;
        self.closed().await;
    }

    /// Waits until the connection has closed.
    pub async fn closed(&self) {
        let mut closed = self.inner.closed.clone();
        let _ = closed.wait_for(|closed| *closed).await;
    }

    /// Whether the connection has closed.
    pub fn is_closed(&self) -> bool {
        *self.inner.closed.borrow()
    }

    /// Asks a connection whose driver has not started yet to close with `code` and `reason`
    /// as soon as it starts (its command queue is empty, so this cannot wait).
    pub(crate) fn close_first(&self, code: CloseCode, reason: &'static str) {
        let _ = self
            .inner
            .commands
            .try_send(Box::new(Command::Close(code, reason)));
    }

    /// Closes as replaced by a newer connection of the same identity (1008, "replaced by a
    /// newer connection"), reporting [`ConnectionEvent::Replaced`] first: what the server
    /// does under [`DuplicateIdentity::ReplaceOld`](crate::DuplicateIdentity::ReplaceOld), and
    /// what a cluster does when the station has connected to another node.
    pub async fn close_replaced(&self) {
        let _ = self.command(Command::Replaced).await;
    }

    /// Whether `other` is a handle to this very connection.
    pub fn same(&self, other: &Connection) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) async fn command(&self, command: Command) -> Result<(), CallFailure> {
        self.inner
            .commands
            .send(Box::new(command))
            .await
            .map_err(|_| CallFailure::Closed)
    }
}

/// Settings of the connection driver, shared by server and client.
#[derive(Clone)]
pub(crate) struct DriverConfig {
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) observer: Option<FrameObserver>,
    pub(crate) events: Option<EventObserver>,
    /// How long one write (a batch of frames and its flush) may take before the peer is taken
    /// to have stopped reading and the connection is dropped.
    pub(crate) write_timeout: Duration,
    /// The first OCPP message must come within this time.
    pub(crate) first_message_timeout: Option<Duration>,
    /// The read budget (a server's [`Limits`](crate::Limits)); `None` reads as fast as it can.
    pub(crate) budget: Option<crate::limits::Budget>,
    /// The server's shutdown signal: the deadline by which to close with 1001.
    pub(crate) shutdown: Option<watch::Receiver<Option<Clock>>>,
}

/// The connection's handle, and the future that serves it until it closes: the caller runs it
/// (the server in the task it already has for the connection, so one task per connection, not
/// two; the client in a task of its own).
pub(crate) fn prepare<S>(
    socket: WebSocket<S>,
    session: Session,
    identity: String,
    remote_addr: Option<SocketAddr>,
    handlers: Handlers,
    config: DriverConfig,
) -> (Connection, impl Future<Output = ()> + Send + 'static)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (commands, receiver) = mpsc::channel(COMMAND_QUEUE);
    let (closed_tx, closed) = watch::channel(false);
    let connection = Connection {
        inner: Arc::new(Inner {
            identity,
            version: session.version(),
            remote_addr,
            commands,
            closed,
            violations: AtomicU64::new(0),
            leniencies: AtomicU64::new(0),
        }),
    };
    let span = tracing::info_span!(
        "ocpp_connection",
        identity = %connection.identity(),
        version = %connection.version(),
    );
    // Boxed: an async fn keeps its arguments twice in its future, and the future lives in
    // every connection's task (a driver by value cost 2.5 KB more per connection).
    let driver = Box::new(Driver {
        socket,
        session,
        origin: Clock::now(),
        handlers,
        config,
        connection: connection.clone(),
        calls: HashMap::new(),
        last_heard: Clock::now(),
        awaiting_pong: false,
        draining: None,
        first_message_by: None,
        resume_reading: None,
    });
    let serving = driver.run(receiver, closed_tx).instrument(span);
    (connection, serving)
}

struct Driver<S> {
    socket: WebSocket<S>,
    session: Session,
    origin: Clock,
    handlers: Handlers,
    config: DriverConfig,
    connection: Connection,
    calls: HashMap<CallId, oneshot::Sender<Result<AnyResponse, CallFailure>>>,
    last_heard: Clock,
    awaiting_pong: bool,
    /// Shutting down: close with 1001 once no call is in flight, or at this deadline.
    draining: Option<Clock>,
    /// Until the first OCPP message: when to give up on it.
    first_message_by: Option<Clock>,
    /// Reading is paused until then (the read budget is spent).
    resume_reading: Option<Clock>,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Driver<S> {
    fn now(&self) -> Millis {
        Millis(u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Serves the connection until it closes, then tells every handle (`closed`).
    async fn run(
        mut self: Box<Self>,
        mut commands: mpsc::Receiver<Box<Command>>,
        closed: watch::Sender<bool>,
    ) {
        let mut shutdown = self.config.shutdown.take();
        // A server already shutting down when this connection started: drain at once.
        self.draining = shutdown.as_ref().and_then(|signal| *signal.borrow());
        self.first_message_by = self.config.first_message_timeout.map(|t| Clock::now() + t);
        let close = loop {
            let deadline = self
                .session
                .poll_timeout()
                .map(|at| self.origin + Duration::from_millis(at.0));
            let keep_alive = self.keep_alive_deadline();
            let reading = self.resume_reading.is_none();
            // The signal may have come while another branch won the last round, after
            // `shutdown_signal` had started waiting: its next call then waits forever (it
            // takes a signal already there as handled), so take it here.
            if self.draining.is_none() {
                self.draining = shutdown.as_ref().and_then(|signal| *signal.borrow());
            }
            let timers = [
                self.resume_reading,
                self.first_message_by,
                deadline,
                self.draining,
                keep_alive,
            ];
            tokio::select! {
                frame = self.socket.next(), if reading => match frame {
                    Some(frame) => {
                        if let Some(close) = self.on_frame(frame) {
                            break Some(close);
                        }
                    }
                    None => {
                        // The WebSocket layer may have queued a close frame for what it refused
                        // (1009 for a message over the size limit, 1002 for a protocol error):
                        // let it reach the peer.
                        // (`poll_ready` writes what the WebSocket layer owes the peer.)
                        let socket = &mut self.socket;
                        let owed = async move {
                            std::future::poll_fn(|cx| socket.poll_ready_unpin(cx)).await?;
                            socket.flush().await
                        };
                        let _ = Box::pin(tokio::time::timeout(self.config.write_timeout, owed)).await;
                        break None;
                    }
                },
                command = commands.recv() => match command {
                    Some(command) => {
                        if let Some(close) = self.on_command(*command) {
                            break Some(close);
                        }
                    }
                    // Every handle is gone and no handler task holds one: nothing can call or
                    // answer any more, but the peer still can; keep serving it.
                    None => std::future::pending::<()>().await,
                },
                _ = shutdown_signal(&mut shutdown) => {
                    let deadline = shutdown.as_ref().and_then(|s| *s.borrow());
                    self.draining = self.draining.or(deadline);
                }
                // One timer for every deadline (each timer costs memory in every connection's
                // future): the earliest wakes the connection, which then sees what is due.
                _ = sleep_until(timers.iter().flatten().min().copied()) => {
                    let now = Clock::now();
                    let due = |at: Option<Clock>| at.is_some_and(|at| at <= now);
                    let [resume_reading, first_message_by, session, draining, keep_alive] = timers;
                    if due(resume_reading) {
                        self.resume_reading = None;
                    }
                    if due(first_message_by) {
                        tracing::info!("no OCPP message in time after the upgrade; closing");
                        break Some((CloseCode::Policy, "no OCPP message in time"));
                    }
                    if due(session) {
                        let now = self.now();
                        self.session.handle_timeout(now);
                    }
                    if due(draining) {
                        break Some((CloseCode::Away, ""));
                    }
                    if due(keep_alive) {
                        if self.awaiting_pong || self.config.ping_interval.is_none() {
                            tracing::info!("peer silent for too long; closing");
                            break Some((CloseCode::Away, "no pong"));
                        }
                        self.awaiting_pong = true;
                        self.last_heard = Clock::now();
                        // Boxed, like the rest of what happens rarely (see `close`).
                        let ping = self.socket.send(Frame::ping(Vec::new()));
                        let ping = Box::pin(tokio::time::timeout(self.config.write_timeout, ping));
                        if !matches!(ping.await, Ok(Ok(()))) {
                            break None;
                        }
                    }
                }
            }
            // Events first: a handler that answers at once adds its answer to the flush.
            self.dispatch_events();
            if !self.flush_within_deadline().await {
                break None;
            }
            if self.session.wants_close() {
                tracing::warn!("too many bad messages; closing");
                break Some((CloseCode::Policy, "too many bad messages"));
            }
            if self.draining.is_some()
                && self.session.in_flight()
                    + self.session.queued()
                    + self.session.awaiting_response()
                    == 0
            {
                break Some((CloseCode::Away, ""));
            }
        };
        // Boxed: the closing steps run once, and inline they would grow every connection's
        // future by their size for its whole life.
        Box::pin(self.close(close)).await;
        let _ = closed.send(true);
    }

    /// Ends the connection: the closing handshake (with `close`), then every call in flight
    /// fails.
    async fn close(&mut self, close: Option<(CloseCode, &'static str)>) {
        if let Some((code, reason)) = close {
            let _ = self.flush_within_deadline().await;
            let close = self.socket.send(Frame::close(code, reason.as_bytes()));
            let _ = tokio::time::timeout(self.config.write_timeout, close).await;
            // Wait briefly for the peer's close frame, as the closing handshake asks.
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(frame) = self.socket.next().await {
                    if frame.opcode() == OpCode::Close {
                        break;
                    }
                }
            })
            .await;
        }
        self.session.close();
        self.dispatch_events();
        for (_, waiter) in self.calls.drain() {
            let _ = waiter.send(Err(CallFailure::Closed));
        }
        tracing::info!("connection closed");
    }

    fn keep_alive_deadline(&self) -> Option<Clock> {
        let wait = match (self.awaiting_pong, self.config.ping_interval) {
            (false, Some(interval)) => interval,
            (true, Some(interval)) => self.config.idle_timeout.unwrap_or(interval),
            (_, None) => self.config.idle_timeout?,
        };
        Some(self.last_heard + wait)
    }

    /// Handles a WebSocket message; `Some(code)` closes the connection.
    /// Handles a WebSocket message; `Some` closes the connection with that code and reason.
    fn on_frame(&mut self, frame: Frame) -> Option<(CloseCode, &'static str)> {
        self.last_heard = Clock::now();
        self.awaiting_pong = false;
        match frame.opcode() {
            OpCode::Text => {
                self.first_message_by = None;
                let Ok(text) = std::str::from_utf8(frame.payload()) else {
                    // RFC 6455, 8.1: a text message that is not UTF-8 fails the connection, 1007.
                    tracing::warn!("text message that is not UTF-8; closing");
                    return Some((CloseCode::Invalid, "not UTF-8"));
                };
                if let Some(budget) = &mut self.config.budget {
                    budget.spend(text.len());
                    self.resume_reading = budget.resume_at();
                }
                if let Some(observer) = &self.config.observer {
                    observer(&self.connection, Direction::Incoming, text);
                }
                tracing::trace!(frame = %text, "received");
                let now = self.now();
                self.session.receive(text.as_bytes(), now);
                None
            }
            OpCode::Binary => {
                tracing::warn!("binary WebSocket message; OCPP-J is text only");
                Some((CloseCode::Unsupported, "OCPP-J is text only"))
            }
            OpCode::Close => Some((CloseCode::Normal, "")),
            _ => None,
        }
    }

    fn on_command(&mut self, command: Command) -> Option<(CloseCode, &'static str)> {
        let now = self.now();
        match command {
            Command::Call(request, reply) => match self.session.call_any(&request, now) {
                Ok(id) => {
                    self.calls.insert(id, reply);
                }
                Err(error) => {
                    let _ = reply.send(Err(CallFailure::Refused(error)));
                }
            },
            Command::Send(message, reply) => {
                let result = self.session.send_any(&message).map(|_| ());
                let _ = reply.send(result.map_err(CallFailure::Refused));
            }
            Command::Respond(id, result) => self.respond(id, result),
            Command::Close(code, reason) => return Some((code, reason)),
            Command::Replaced => {
                tracing::info!("replaced by a newer connection of the same identity");
                self.report(ConnectionEvent::Replaced);
                return Some((CloseCode::Policy, "replaced by a newer connection"));
            }
        }
        None
    }

    /// Answers the peer's call `id`.
    fn respond(&mut self, id: IncomingId, result: Result<AnyResponse, RpcError>) {
        let sent = match result {
            Ok(response) => self.session.respond_any(id, &response),
            Err(error) => self.session.respond_error(id, &error),
        };
        if let Err(error) = sent {
            tracing::warn!(%error, "answer not sent");
        }
    }

    /// [`flush`](Driver::flush) within the write deadline: `false` if the socket failed or
    /// the peer did not take the bytes in time (it stopped reading).
    async fn flush_within_deadline(&mut self) -> bool {
        let deadline = self.config.write_timeout;
        match tokio::time::timeout(deadline, self.flush()).await {
            Ok(written) => written,
            Err(_) => {
                tracing::warn!(
                    ?deadline,
                    "the peer did not read within the write deadline; dropping it"
                );
                false
            }
        }
    }

    /// Writes the session's frames to the socket; `false` if the socket failed.
    async fn flush(&mut self) -> bool {
        while let Some(frame) = self.session.poll_transmit() {
            let text = match String::from_utf8(frame) {
                Ok(text) => text,
                // The session writes JSON, which is UTF-8; skip anything else rather than send it.
                Err(_) => continue,
            };
            if let Some(observer) = &self.config.observer {
                observer(&self.connection, Direction::Outgoing, &text);
            }
            tracing::trace!(frame = %text, "sent");
            if self.socket.feed(Frame::text(text)).await.is_err() {
                return false;
            }
        }
        self.socket.flush().await.is_ok()
    }

    fn dispatch_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::CallCompleted { call, outcome } => {
                    if let Some(waiter) = self.calls.remove(&call) {
                        let _ = waiter.send(outcome.into_result());
                    }
                }
                Event::IncomingCall(call) => {
                    let handlers = self.handlers.clone();
                    let connection = self.connection.clone();
                    let action = call.request.action().as_str();
                    let span = tracing::info_span!("ocpp_call", action, id = %call.message_id);
                    let id = call.id;
                    let mut handling = Box::pin(
                        async move { handlers.handle(connection, call.request).await }
                            .instrument(span),
                    );
                    // A handler that answers without waiting on anything is answered here,
                    // without a task and the way back through the command channel (one
                    // wake-up per call instead of three); the others go on in a task. A
                    // panicking handler is answered InternalError rather than never.
                    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        futures_util::FutureExt::now_or_never(handling.as_mut())
                    }));
                    match polled {
                        Ok(Some(result)) => self.respond(id, result),
                        Ok(None) => {
                            let connection = self.connection.clone();
                            tokio::spawn(async move {
                                let result = handling.await;
                                let _ = connection.command(Command::Respond(id, result)).await;
                            });
                        }
                        Err(_) => self.respond(
                            id,
                            Err(RpcError::new(
                                ocpp_rpc::ErrorCode::InternalError,
                                "the handler failed",
                            )),
                        ),
                    }
                }
                Event::IncomingSend(send) => {
                    let handlers = self.handlers.clone();
                    let connection = self.connection.clone();
                    tokio::spawn(async move {
                        let _ = handlers.handle(connection, send.message).await;
                    });
                }
                Event::ProtocolViolation(violation) => {
                    self.connection
                        .inner
                        .violations
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        kind = ?violation.kind,
                        message_id = violation.message_id.as_deref().unwrap_or(""),
                        answered = ?violation.answered,
                        detail = %violation.detail,
                        "protocol violation"
                    );
                    self.report(ConnectionEvent::ProtocolViolation(violation));
                }
                Event::Leniency(leniency) => {
                    self.connection
                        .inner
                        .leniencies
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        action = leniency.action,
                        pointer = %leniency.pointer,
                        kind = ?leniency.kind,
                        "leniency taken"
                    );
                    self.report(ConnectionEvent::Leniency(leniency));
                }
                Event::ResponseRejected { message_id, error } => {
                    tracing::warn!(%message_id, %error, "the peer rejected our CALLRESULT");
                    self.report(ConnectionEvent::ResponseRejected { message_id, error });
                }
                Event::TooManyBadMessages => self.report(ConnectionEvent::TooManyBadMessages),
                other => tracing::debug!(event = ?other, "session event"),
            }
        }
    }
}

impl<S> Driver<S> {
    fn report(&self, event: ConnectionEvent) {
        if let Some(observer) = &self.config.events {
            observer(&self.connection, &event);
        }
    }
}

/// Resolves when the server's shutdown signal changes (never without a server, or once it has
/// fired: the loop then takes the deadline into `draining` before each round).
async fn shutdown_signal(signal: &mut Option<watch::Receiver<Option<Clock>>>) {
    match signal {
        Some(receiver) if receiver.borrow().is_none() => {
            if receiver.changed().await.is_err() {
                *signal = None;
            }
        }
        _ => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Clock>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
