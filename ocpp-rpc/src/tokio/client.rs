//! The charging-station side: [`connect`] once, or a [`Client`] that stays connected,
//! reconnecting by the specification's back-off.

use std::borrow::ToOwned;
use std::format;
use std::string::{String, ToString};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use std::vec::Vec;

use base64::Engine;
use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use ocpp_types::OcppVersion;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use yawc::WebSocket;

use super::connection::{self, Connection, DriverConfig, FrameObserver};
use super::handlers::Handlers;
use super::{SessionSettings, websocket_options};
use crate::session::{Config, Role, Session};

/// How a station connects. Build it with [`ClientConfig::new`] and change what you need.
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// `ws://host:port/path/<identity>` or `wss://...`; the last path segment is the identity.
    pub url: String,
    /// The versions offered, in order of preference.
    pub versions: Vec<OcppVersion>,
    /// The Basic-auth password (security profiles 1 and 2); the user is the identity.
    pub password: Option<String>,
    /// Further HTTP headers for the upgrade request.
    pub headers: Vec<(String, String)>,
    /// `WebSocketPingInterval`: ping after this long without hearing from the CSMS; `None`
    /// (the variable's 0) for never.
    pub ping_interval: Option<Duration>,
    /// Close when a ping's pong (or anything else) has not come within this time.
    pub pong_timeout: Duration,
    /// The largest WebSocket message accepted, in bytes.
    pub max_message_size: usize,
    /// How long the TCP, TLS and WebSocket handshakes may take together.
    pub connect_timeout: Duration,
    /// The reconnection back-off of a [`Client`].
    pub backoff: Backoff,
    /// Session settings (call timeout, bad-message limit, ...).
    pub session: SessionSettings,
    /// Sees every frame.
    pub observer: Option<FrameObserver>,
    /// TLS settings for `wss://` (with a client certificate for security profile 3).
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
}

impl ClientConfig {
    /// Connects to `url` offering `versions`, with the defaults: no password, ping every
    /// 60 s, the specification's back-off defaults.
    pub fn new(url: impl Into<String>, versions: impl Into<Vec<OcppVersion>>) -> ClientConfig {
        ClientConfig {
            url: url.into(),
            versions: versions.into(),
            password: None,
            headers: Vec::new(),
            ping_interval: Some(Duration::from_secs(60)),
            pong_timeout: Duration::from_secs(30),
            max_message_size: 1 << 20,
            connect_timeout: Duration::from_secs(30),
            backoff: Backoff::default(),
            session: SessionSettings::default(),
            observer: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// The reconnection back-off of OCPP 2.x (configuration variables `RetryBackOffWaitMinimum`,
/// `RetryBackOffRandomRange`, `RetryBackOffRepeatTimes`): the first wait is the minimum plus a
/// random part of the range; each further wait doubles, up to `repeat_times` doublings, then
/// stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// `RetryBackOffWaitMinimum`.
    pub wait_minimum: Duration,
    /// `RetryBackOffRandomRange`.
    pub random_range: Duration,
    /// `RetryBackOffRepeatTimes`.
    pub repeat_times: u32,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff {
            wait_minimum: Duration::from_secs(10),
            random_range: Duration::from_secs(10),
            repeat_times: 5,
        }
    }
}

impl Backoff {
    /// The wait before reconnection attempt `attempt` (0 for the first after a loss), with
    /// `random` in `0.0..1.0` choosing the random part.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let first = self.wait_minimum + self.random_range.mul_f64(random.clamp(0.0, 1.0));
        first.saturating_mul(1 << attempt.min(self.repeat_times).min(31))
    }
}

/// Why a connection attempt failed, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not `ws://` or `wss://` with a host and an identity.
    #[error("invalid URL {url:?}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// TCP or TLS failed (refused, unreachable, certificate not trusted, ...).
    #[error("cannot connect to {address}: {source}")]
    Io {
        /// The host and port.
        address: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The server did not upgrade to WebSocket (wrong path, unknown station, bad credentials).
    #[error("the CSMS refused the WebSocket handshake with HTTP {0}")]
    Refused(StatusCode),
    /// The upgrade response is not a valid WebSocket handshake.
    #[error("invalid WebSocket handshake: {0}")]
    Handshake(String),
    /// The CSMS accepted none of the OCPP versions offered.
    #[error("the CSMS accepted none of the offered OCPP versions ({0})")]
    NoCommonVersion(String),
    /// The handshakes took longer than [`ClientConfig::connect_timeout`].
    #[error("no connection within {0:?}")]
    Timeout(Duration),
}

/// Connects once and returns the connection, or why it failed.
pub async fn connect(
    config: &ClientConfig,
    handlers: Arc<Handlers>,
) -> Result<Connection, ConnectError> {
    match tokio::time::timeout(config.connect_timeout, try_connect(config, handlers)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout(config.connect_timeout)),
    }
}

struct Target {
    tls: bool,
    host: String,
    port: u16,
    path: String,
    identity: String,
}

fn target(url: &str) -> Result<Target, ConnectError> {
    let fail = |reason| ConnectError::Url {
        url: url.to_owned(),
        reason,
    };
    let uri: Uri = url.parse().map_err(|_| fail("not a URL"))?;
    let tls = match uri.scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => return Err(fail("the scheme must be ws or wss")),
    };
    let host = uri.host().ok_or_else(|| fail("no host"))?;
    let path = uri.path().to_owned();
    let identity = path.rsplit('/').next().unwrap_or_default();
    let identity = percent_encoding::percent_decode_str(identity)
        .decode_utf8()
        .map_err(|_| fail("the identity is not UTF-8"))?
        .into_owned();
    if identity.is_empty() {
        return Err(fail("no station identity at the end of the path"));
    }
    Ok(Target {
        tls,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
        path,
        identity,
    })
}

async fn try_connect(
    config: &ClientConfig,
    handlers: Arc<Handlers>,
) -> Result<Connection, ConnectError> {
    let target = target(&config.url)?;
    let address = format!("{}:{}", target.host, target.port);
    let io_error = |source| ConnectError::Io {
        address: address.clone(),
        source,
    };
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(io_error)?;
    let _ = tcp.set_nodelay(true);
    let remote_addr = tcp.peer_addr().ok();
    if target.tls {
        #[cfg(feature = "tls")]
        {
            let tls = config.tls.clone().ok_or_else(|| ConnectError::Url {
                url: config.url.clone(),
                reason: "wss:// needs TLS settings (ClientConfig::tls)",
            })?;
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|_| ConnectError::Url {
                url: config.url.clone(),
                reason: "the host is not a valid TLS server name",
            })?;
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, tcp)
                .await
                .map_err(io_error)?;
            return upgrade(stream, &target, config, handlers, remote_addr).await;
        }
        #[cfg(not(feature = "tls"))]
        return Err(ConnectError::Url {
            url: config.url.clone(),
            reason: "wss:// needs the `tls` feature of ocpp-rs-rpc",
        });
    }
    upgrade(tcp, &target, config, handlers, remote_addr).await
}

/// A `Sec-WebSocket-Key`: 16 bytes that differ per request (RFC 6455 asks for a nonce, not a
/// secret), base64.
fn websocket_key() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut hash = Sha1::new();
    hash.update(nanos.to_le_bytes());
    hash.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hash.update(std::process::id().to_le_bytes());
    base64::engine::general_purpose::STANDARD.encode(&hash.finalize()[..16])
}

fn accept_key(key: &str) -> String {
    let mut hash = Sha1::new();
    hash.update(key.as_bytes());
    hash.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(hash.finalize())
}

async fn upgrade<S>(
    stream: S,
    target: &Target,
    config: &ClientConfig,
    handlers: Arc<Handlers>,
    remote_addr: Option<std::net::SocketAddr>,
) -> Result<Connection, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handshake = |reason: String| ConnectError::Handshake(reason);
    let key = websocket_key();
    let protocols: Vec<&str> = config.versions.iter().map(|v| v.subprotocol()).collect();
    let mut request = Request::builder()
        .method("GET")
        .uri(target.path.as_str())
        .header(header::HOST, format!("{}:{}", target.host, target.port))
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(header::SEC_WEBSOCKET_KEY, key.as_str())
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_PROTOCOL, protocols.join(", "))
        .header(
            header::SEC_WEBSOCKET_EXTENSIONS,
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
        );
    if let Some(password) = &config.password {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{password}", target.identity));
        request = request.header(header::AUTHORIZATION, format!("Basic {token}"));
    }
    for (name, value) in &config.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(|e| handshake(format!("invalid request header: {e}")))?;
    let (mut sender, http) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| handshake(e.to_string()))?;
    tokio::spawn(async move {
        let _ = http.with_upgrades().await;
    });
    let mut response = sender
        .send_request(request)
        .await
        .map_err(|e| handshake(e.to_string()))?;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(ConnectError::Refused(response.status()));
    }
    let headers = response.headers();
    let accept = headers.get(header::SEC_WEBSOCKET_ACCEPT);
    if accept.and_then(|v| v.to_str().ok()) != Some(accept_key(&key).as_str()) {
        return Err(handshake("wrong Sec-WebSocket-Accept".into()));
    }
    let chosen = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(OcppVersion::from_subprotocol)
        .filter(|v| config.versions.contains(v))
        .ok_or_else(|| ConnectError::NoCommonVersion(protocols.join(", ")))?;
    let extensions = headers
        .get(header::SEC_WEBSOCKET_EXTENSIONS)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .map(str::to_owned);
    let upgraded = hyper::upgrade::on(&mut response)
        .await
        .map_err(|e| handshake(e.to_string()))?;
    let options = websocket_options(config.max_message_size);
    let socket = WebSocket::from_stream_with_extensions(
        TokioIo::new(upgraded),
        yawc::Role::Client,
        extensions.as_deref(),
        options,
    )
    .map_err(|e| handshake(e.to_string()))?;
    let mut session = Config::new(chosen, Role::ChargingStation);
    config.session.apply(&mut session);
    let driver = DriverConfig {
        ping_interval: config.ping_interval,
        idle_timeout: Some(config.pong_timeout),
        observer: config.observer.clone(),
        shutdown: None,
    };
    tracing::info!(url = %config.url, version = %chosen, "connected");
    Ok(connection::start(
        socket,
        Session::new(session),
        target.identity.clone(),
        remote_addr,
        handlers,
        driver,
    ))
}

/// A station that stays connected: it connects, and after every loss reconnects by the
/// [`Backoff`]. Calls made while disconnected fail with [`CallError::Closed`](super::CallError).
#[derive(Debug)]
pub struct Client {
    current: watch::Receiver<Option<Connection>>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Starts connecting in the background.
    pub fn start(config: ClientConfig, handlers: Handlers) -> Client {
        let (publish, current) = watch::channel(None);
        let handlers = Arc::new(handlers);
        let task = tokio::spawn(async move {
            let mut attempt = 0u32;
            loop {
                match connect(&config, handlers.clone()).await {
                    Ok(connection) => {
                        attempt = 0;
                        let _ = publish.send(Some(connection.clone()));
                        connection.closed().await;
                        let _ = publish.send(None);
                        tracing::info!("connection lost; reconnecting");
                    }
                    Err(error) => tracing::warn!(%error, "connection attempt failed"),
                }
                let wait = config.backoff.delay(attempt, random_fraction());
                attempt = attempt.saturating_add(1);
                tokio::time::sleep(wait).await;
            }
        });
        Client { current, task }
    }

    /// The current connection, waiting for one if there is none.
    pub async fn connection(&self) -> Connection {
        let mut current = self.current.clone();
        loop {
            if let Some(connection) = current.borrow_and_update().clone() {
                return connection;
            }
            if current.changed().await.is_err() {
                // The task ended (it never does while the client exists).
                std::future::pending::<()>().await;
            }
        }
    }

    /// Stops reconnecting and closes the current connection.
    pub async fn stop(self) {
        self.task.abort();
        let current = self.current.borrow().clone();
        if let Some(connection) = current {
            connection.close().await;
        }
    }
}

/// A number in `0.0..1.0` for the random part of the back-off (jitter, not cryptography).
fn random_fraction() -> f64 {
    let key = websocket_key();
    let digest = Sha1::digest(key.as_bytes());
    f64::from(u32::from_le_bytes([
        digest[0], digest[1], digest[2], digest[3],
    ])) / 4_294_967_296.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_stays() {
        let backoff = Backoff {
            wait_minimum: Duration::from_secs(10),
            random_range: Duration::from_secs(4),
            repeat_times: 3,
        };
        assert_eq!(backoff.delay(0, 0.0), Duration::from_secs(10));
        assert_eq!(backoff.delay(0, 0.5), Duration::from_secs(12));
        assert_eq!(backoff.delay(1, 0.5), Duration::from_secs(24));
        assert_eq!(backoff.delay(3, 0.0), Duration::from_secs(80));
        assert_eq!(backoff.delay(4, 0.0), Duration::from_secs(80));
        assert_eq!(backoff.delay(u32::MAX, 1.0), Duration::from_secs(112));
    }

    #[test]
    fn accept_key_matches_rfc_6455() {
        // The example of RFC 6455, section 1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn urls() {
        let t = target("ws://127.0.0.1:9000/ocpp/CS%20001").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.identity.as_str()),
            ("127.0.0.1", 9000, "CS 001")
        );
        assert!(!t.tls);
        assert!(target("wss://csms.example/ocpp/CS1").unwrap().tls);
        assert!(target("http://x/ocpp/CS1").is_err());
        assert!(target("ws://x/ocpp/").is_err());
    }
}
