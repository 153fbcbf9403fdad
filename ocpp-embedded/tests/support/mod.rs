//! The workspace's tokio CSMS (`ocpp-rpc-tokio`'s `Server`) answering a station's calls and
//! keeping what it received, and a station `Runner` on a memory store reaching it over a tokio
//! `TcpStream` adapted to `embedded-io-async`; the script talks to the runner through its
//! input channel and reads its events from a tokio channel.
#![allow(dead_code)]

// One time driver per binary: the crate's when it links it, else the same code here.
#[cfg(not(feature = "host-time-driver"))]
mod clock;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use embassy_sync::blocking_mutex::raw::NoopRawMutex;
use embassy_sync::channel::Channel;
use embedded_io_adapters::tokio_1::FromTokio;
use ocpp_embedded::run::ConnectFailure;
use ocpp_embedded::websocket::Endpoint;
use ocpp_embedded::{Connect, Event, Input, RunConfig, Shared};
use ocpp_rpc::handshake::RetryBackOff;
use ocpp_rpc_tokio::{Handlers, RunningServer, Server, ServerConfig};
use ocpp_station::{
    BootInfo, ConnectorId, Hardware, ResetKind, StationConfig, StationEvent, UnlockResult,
};
use ocpp_types::{AnyResponse, DateTime, OcppVersion};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How long any test may take.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Hardware that does nothing.
#[derive(Debug, Default)]
pub struct Charger {
    pub energy: Vec<(ConnectorId, bool)>,
}

impl Hardware for Charger {
    fn set_energy(&mut self, connector: ConnectorId, on: bool) {
        self.energy.push((connector, on));
    }
    fn unlock(&mut self, _connector: ConnectorId) -> UnlockResult {
        UnlockResult::Unlocked
    }
    fn reset(&mut self, _kind: ResetKind) {}
}

/// One call the CSMS received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub identity: String,
    pub action: String,
    pub payload: Value,
}

pub type Log = Arc<Mutex<Vec<Received>>>;

pub fn is_transaction_message(action: &str) -> bool {
    matches!(
        action,
        "StartTransaction" | "StopTransaction" | "MeterValues" | "TransactionEvent"
    )
}

/// A CSMS answer that the schema accepts for every call a station makes, assigning 1.6
/// transaction ids.
fn answer(version: OcppVersion, action: &str, transaction_id: i64) -> Value {
    let v16 = version == OcppVersion::V16;
    let info = if v16 { "idTagInfo" } else { "idTokenInfo" };
    let now = DateTime::now().to_string();
    match action {
        "BootNotification" => json!({"currentTime": now, "interval": 300, "status": "Accepted"}),
        "Heartbeat" => json!({"currentTime": now}),
        "Authorize" => json!({ info: {"status": "Accepted"} }),
        "StartTransaction" => {
            json!({"idTagInfo": {"status": "Accepted"}, "transactionId": transaction_id})
        }
        _ => json!({}),
    }
}

/// Handlers answering every call, recording it in `log`.
pub fn handlers(log: Log) -> Handlers {
    let mut handlers = Handlers::new();
    handlers.fallback(move |connection, request| {
        let action = request.action();
        let payload = serde_json::to_value(&request).unwrap_or_default();
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        log.push(Received {
            identity: connection.identity().to_string(),
            action: action.as_str().to_string(),
            payload,
        });
        let started = log
            .iter()
            .filter(|r| r.action == "StartTransaction")
            .count() as i64;
        let answer = answer(action.version(), action.as_str(), 100 + started);
        let response = AnyResponse::decode(action, &answer.to_string()).map_err(|e| {
            ocpp_rpc::RpcError::new(ocpp_rpc::ErrorCode::InternalError, e.to_string())
        });
        async move { response }
    });
    handlers
}

/// The CSMS: a server on `addr` (port 0 for any) accepting every version, unsecured.
pub async fn csms(addr: SocketAddr, log: Log) -> RunningServer {
    let mut config = ServerConfig::default();
    config.path_prefix = Some("/ocpp".into());
    Server::bind(addr, config, handlers(log))
        .await
        .expect("bind")
        .start()
        .expect("start")
}

pub fn station_config(version: OcppVersion) -> StationConfig {
    let boot = BootInfo {
        vendor: "ocpp-rs".into(),
        model: "embedded".into(),
        serial_number: Some("SN-1".into()),
        firmware_version: Some("1.0".into()),
    };
    let mut config = StationConfig::new(version, boot, 1);
    config.variables.sample_interval = 1;
    config.variables.message_retry_interval = 1;
    config.session.call_timeout_ms = 5_000;
    config
}

/// The run loop's configuration for `url`, with a quick back-off.
pub fn run_config(url: &str) -> RunConfig {
    let mut config = RunConfig::new(url).expect("url");
    config.backoff = Some(RetryBackOff {
        wait_minimum: Duration::from_millis(200),
        random_range: Duration::from_millis(200),
        repeat_times: 2,
    });
    config.connect_timeout = Duration::from_secs(5);
    config
}

/// A plain TCP connection, shared between the reading and the writing half.
#[derive(Debug, Default)]
pub struct Tcp;

impl Connect for Tcp {
    type Stream<'s> = Shared<FromTokio<TcpStream>>;
    type Error = std::io::Error;

    async fn connect(&mut self, endpoint: &Endpoint) -> Result<Self::Stream<'_>, Self::Error> {
        let tcp = TcpStream::connect((endpoint.host(), endpoint.port())).await?;
        tcp.set_nodelay(true)?;
        Ok(Shared::new(FromTokio::new(tcp)))
    }
}

/// Random numbers for keys, masks and jitter (xorshift: tests need no more).
pub fn random() -> impl FnMut() -> u32 {
    let mut state = 0x9e37_79b9u32;
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    }
}

/// The inputs channel of a test.
pub type Inputs = Channel<NoopRawMutex, Input, 8>;

/// The events of a runner, as the script sees them.
pub struct Events {
    pub rx: mpsc::UnboundedReceiver<Event>,
    pub seen: Vec<Event>,
}

impl Events {
    /// The channel and the closure to give `Runner::run`.
    pub fn new() -> (Events, impl FnMut(Event)) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Events {
                rx,
                seen: Vec::new(),
            },
            move |event| {
                let _ = tx.send(event);
            },
        )
    }

    /// Waits for an event `matches` accepts, keeping every event seen.
    pub async fn wait(&mut self, what: &str, mut matches: impl FnMut(&Event) -> bool) -> Event {
        loop {
            match tokio::time::timeout(LIMIT, self.rx.recv()).await {
                Ok(Some(event)) => {
                    self.seen.push(event.clone());
                    if matches(&event) {
                        return event;
                    }
                }
                _ => panic!("no {what}; seen {:#?}", self.seen),
            }
        }
    }

    /// Waits until `done` holds, checked after every event.
    pub async fn until(&mut self, what: &str, mut done: impl FnMut(&[Event]) -> bool) {
        while !done(&self.seen) {
            match tokio::time::timeout(LIMIT, self.rx.recv()).await {
                Ok(Some(event)) => self.seen.push(event),
                _ => panic!("never {what}; seen {:#?}", self.seen),
            }
        }
    }

    pub fn count(&self, matches: impl Fn(&Event) -> bool) -> usize {
        self.seen.iter().filter(|e| matches(e)).count()
    }
}

pub fn registered(event: &Event) -> bool {
    matches!(
        event,
        Event::Station(StationEvent::Registration(
            ocpp_station::RegistrationStatus::Accepted
        ))
    )
}

pub fn delivered(event: &Event) -> bool {
    matches!(event, Event::Station(StationEvent::Delivered { .. }))
}

pub fn connect_failed(event: &Event) -> bool {
    matches!(event, Event::ConnectFailed(ConnectFailure::Transport(_)))
}

/// The transaction-related messages of `log`, without the copies a message sent again
/// leaves (same action and payload).
pub fn transaction_messages(log: &Log) -> Vec<Received> {
    let log = log.lock().unwrap_or_else(|e| e.into_inner());
    let mut distinct: Vec<Received> = Vec::new();
    for r in log.iter().filter(|r| is_transaction_message(&r.action)) {
        if !distinct.contains(r) {
            distinct.push(r.clone());
        }
    }
    distinct
}

/// Whether the transaction's end reached the CSMS.
pub fn ended(messages: &[Received]) -> bool {
    messages.iter().any(|r| {
        r.action == "StopTransaction"
            || (r.action == "TransactionEvent" && r.payload["eventType"] == "Ended")
    })
}

/// A CSMS by hand, for what the tokio server would not do: accepts one connection on
/// `listener`, answers its upgrade request choosing `protocol`, and returns the socket.
pub async fn raw_accept(listener: &tokio::net::TcpListener, protocol: &str) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut tcp, _) = tokio::time::timeout(LIMIT, listener.accept())
        .await
        .expect("a connection")
        .expect("accept");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).await.expect("the request");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).expect("UTF-8");
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("a key");
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n",
        ocpp_embedded::websocket::accept_key(key)
    );
    tcp.write_all(response.as_bytes()).await.expect("respond");
    tcp
}

/// An unmasked server frame: 1 text, 2 binary, 8 close, 9 ping, 10 pong.
pub fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => frame.push(n as u8),
        n if n < 65536 => {
            frame.push(126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

/// The next client frame (checked masked): opcode and unmasked payload; `None` at EOF.
pub async fn client_frame(tcp: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let read = async {
        let mut head = [0u8; 2];
        tcp.read_exact(&mut head).await.ok()?;
        assert!(head[1] & 0x80 != 0, "client frames are masked");
        let len = match head[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                tcp.read_exact(&mut ext).await.ok()?;
                u64::from(u16::from_be_bytes(ext))
            }
            127 => {
                let mut ext = [0u8; 8];
                tcp.read_exact(&mut ext).await.ok()?;
                u64::from_be_bytes(ext)
            }
            n => u64::from(n),
        };
        let mut mask = [0u8; 4];
        tcp.read_exact(&mut mask).await.ok()?;
        let mut payload = vec![0u8; len as usize];
        tcp.read_exact(&mut payload).await.ok()?;
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= mask[i % 4];
        }
        Some((head[0] & 0x0f, payload))
    };
    tokio::time::timeout(LIMIT, read)
        .await
        .expect("a frame in time")
}

/// The next client frame that is not a text message (OCPP calls are skipped).
pub async fn client_control_frame(tcp: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    loop {
        match client_frame(tcp).await? {
            (1, _) => continue,
            other => return Some(other),
        }
    }
}
