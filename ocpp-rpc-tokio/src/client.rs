//! The charging-station side: [`connect`] once, or a [`Client`] that stays connected,
//! reconnecting by the specification's back-off.

#[cfg(feature = "tls")]
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use ocpp_rpc::handshake::{self, RetryBackOff};
use ocpp_rpc::{Config, Role, Session};
use ocpp_types::OcppVersion;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use yawc::WebSocket;

use crate::connection::{self, Connection, DriverConfig, EventObserver, FrameObserver};
use crate::handlers::Handlers;
use crate::raw::Offer;
use crate::websocket_options;

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
    /// Offer permessage-deflate (default `true`): smaller frames on a metered link, for CPU
    /// on both sides. The CSMS decides; `false` offers nothing.
    pub permessage_deflate: bool,
    /// The local address to connect from (`None`: the system chooses): the interface of a
    /// station with several (its modem's, not the service LAN's), or one of several source
    /// addresses of a load generator opening more connections than one address has ports.
    pub local_address: Option<std::net::IpAddr>,
    /// How long one write to the CSMS may take before the connection is dropped (default
    /// 30 s).
    pub write_timeout: Duration,
    /// The reconnection back-off of a [`Client`].
    pub backoff: RetryBackOff,
    /// The template of the connection's session (call timeout, queue sizes, bad-message
    /// limit, leniency, ...); its `version` and `role` are set by the handshake.
    pub session: Config,
    /// Sees every frame.
    pub observer: Option<FrameObserver>,
    /// Receives the CSMS's protocol violations and the leniencies taken.
    pub events: Option<EventObserver>,
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
            local_address: None,
            permessage_deflate: true,
            write_timeout: Duration::from_secs(30),
            backoff: RetryBackOff::default(),
            session: Config::new(OcppVersion::V201, Role::ChargingStation),
            observer: None,
            events: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
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
    /// The server did not upgrade to WebSocket (wrong path, unknown station, bad credentials):
    /// the HTTP status it answered with.
    #[error("the CSMS refused the WebSocket handshake with HTTP {0}")]
    Refused(u16),
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
    handlers: Handlers,
) -> Result<Connection, ConnectError> {
    let upgraded = handshake(config).await?;
    let mut session = config.session.clone();
    session.version = upgraded.version;
    session.role = Role::ChargingStation;
    let driver = DriverConfig {
        ping_interval: config.ping_interval,
        idle_timeout: Some(config.pong_timeout),
        observer: config.observer.clone(),
        events: config.events.clone(),
        write_timeout: config.write_timeout,
        first_message_timeout: None,
        budget: None,
        shutdown: None,
    };
    let (connection, serving) = connection::prepare(
        upgraded.socket,
        Session::new(session),
        upgraded.identity,
        upgraded.remote_addr,
        handlers,
        driver,
    );
    tokio::spawn(serving);
    Ok(connection)
}

/// The WebSocket of a finished handshake, before any OCPP session runs on it.
pub(crate) struct Upgraded {
    /// The WebSocket, over TCP or TLS.
    pub(crate) socket: WebSocket<TokioIo<hyper::upgrade::Upgraded>>,
    /// The version the CSMS chose (one of [`ClientConfig::versions`]).
    pub(crate) version: OcppVersion,
    /// The station's identity, from the URL.
    pub(crate) identity: String,
    /// The CSMS's address.
    pub(crate) remote_addr: Option<std::net::SocketAddr>,
}

/// TCP (and TLS), the HTTP upgrade with Basic auth, and the subprotocol check, within
/// [`ClientConfig::connect_timeout`]: the WebSocket and the version chosen, with no driver
/// started (for [`connect`], and for runners that own the socket themselves).
pub(crate) async fn handshake(config: &ClientConfig) -> Result<Upgraded, ConnectError> {
    let target = target(&config.url, true)?;
    let offer = Offer {
        subprotocols: Some(handshake::offered_subprotocols(&config.versions)),
        authorization: config
            .password
            .as_ref()
            .map(|password| handshake::basic_authorization(&target.identity, password)),
    };
    let answer = exchange(config, &target, &offer).await?;
    if answer.status != StatusCode::SWITCHING_PROTOCOLS.as_u16() {
        return Err(ConnectError::Refused(answer.status));
    }
    let offered = offer.subprotocols.unwrap_or_default();
    let chosen = handshake::accepted_subprotocol(answer.subprotocol.as_deref(), &config.versions)
        .ok_or(ConnectError::NoCommonVersion(offered))?;
    let socket = answer
        .socket
        .ok_or_else(|| ConnectError::Handshake("no WebSocket after 101".into()))?;
    tracing::info!(url = %config.url, version = %chosen, "connected");
    Ok(Upgraded {
        socket,
        version: chosen,
        identity: target.identity,
        remote_addr: answer.remote_addr,
    })
}

/// The server's answer to an upgrade request, unchecked but for the WebSocket accept key.
pub(crate) struct Answer {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The `Sec-WebSocket-Protocol` answered, if any.
    pub(crate) subprotocol: Option<String>,
    /// The WebSocket, after a `101`.
    pub(crate) socket: Option<WebSocket<TokioIo<hyper::upgrade::Upgraded>>>,
    /// The server's address.
    pub(crate) remote_addr: Option<std::net::SocketAddr>,
}

/// TCP (and TLS) and the HTTP upgrade request `offer` describes, within
/// [`ClientConfig::connect_timeout`].
pub(crate) async fn exchange(
    config: &ClientConfig,
    target: &Target,
    offer: &Offer,
) -> Result<Answer, ConnectError> {
    match tokio::time::timeout(config.connect_timeout, try_connect(config, target, offer)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout(config.connect_timeout)),
    }
}

pub(crate) struct Target {
    tls: bool,
    host: String,
    port: u16,
    path: String,
    pub(crate) identity: String,
}

/// The connection target of `url`; with `check_identity`, its last path segment must be an
/// identity the OCPP rules allow (a raw connection for a conformance test sends any).
pub(crate) fn target(url: &str, check_identity: bool) -> Result<Target, ConnectError> {
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
    let identity = match handshake::identity_from_path(&path, None) {
        Ok(identity) => identity,
        Err(error) if check_identity => {
            return Err(ConnectError::Url {
                url: url.to_owned(),
                reason: identity_reason(&error),
            });
        }
        Err(_) => path.rsplit('/').next().unwrap_or_default().to_owned(),
    };
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

/// Why a URL's identity is refused, as a static text for [`ConnectError::Url`].
fn identity_reason(error: &handshake::IdentityError) -> &'static str {
    match error {
        handshake::IdentityError::EmptySegment => {
            "no station identity at the end of the path, or an empty path segment"
        }
        handshake::IdentityError::Encoding => "the identity is not valid percent-encoded UTF-8",
        handshake::IdentityError::TooLong(_) => "the identity is longer than 48 characters",
        handshake::IdentityError::DotSegment => "the identity is a dot-segment",
        _ => {
            "the identity holds a character an identifierString does not allow (a-z A-Z 0-9 * - _ = + | @ .)"
        }
    }
}

async fn try_connect(
    config: &ClientConfig,
    target: &Target,
    offer: &Offer,
) -> Result<Answer, ConnectError> {
    let address = format!("{}:{}", target.host, target.port);
    let io_error = |source| ConnectError::Io {
        address: address.clone(),
        source,
    };
    let tcp = match config.local_address {
        None => TcpStream::connect((target.host.as_str(), target.port)).await,
        Some(local) => connect_from(local, &target.host, target.port).await,
    }
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
            return upgrade(stream, target, config, offer, remote_addr).await;
        }
        #[cfg(not(feature = "tls"))]
        return Err(ConnectError::Url {
            url: config.url.clone(),
            reason: "wss:// needs the `tls` feature of ocpp-rs-rpc",
        });
    }
    upgrade(tcp, target, config, offer, remote_addr).await
}

/// TCP from `local` (any port) to the first address of `host` in `local`'s family that
/// answers.
async fn connect_from(
    local: std::net::IpAddr,
    host: &str,
    port: u16,
) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(
        std::io::ErrorKind::AddrNotAvailable,
        format!("{host} has no address of the family of {local}"),
    );
    for remote in tokio::net::lookup_host((host, port)).await? {
        if remote.is_ipv4() != local.is_ipv4() {
            continue;
        }
        let socket = if local.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.bind(std::net::SocketAddr::new(local, 0))?;
        match socket.connect(remote).await {
            Ok(stream) => return Ok(stream),
            Err(error) => last = error,
        }
    }
    Err(last)
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
    offer: &Offer,
    remote_addr: Option<std::net::SocketAddr>,
) -> Result<Answer, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handshake = |reason: String| ConnectError::Handshake(reason);
    let key = websocket_key();
    let mut request = Request::builder()
        .method("GET")
        .uri(target.path.as_str())
        .header(header::HOST, format!("{}:{}", target.host, target.port))
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(header::SEC_WEBSOCKET_KEY, key.as_str())
        .header(header::SEC_WEBSOCKET_VERSION, "13");
    if config.permessage_deflate {
        request = request.header(
            header::SEC_WEBSOCKET_EXTENSIONS,
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
        );
    }
    if let Some(protocols) = &offer.subprotocols {
        request = request.header(header::SEC_WEBSOCKET_PROTOCOL, protocols.as_str());
    }
    if let Some(authorization) = &offer.authorization {
        request = request.header(header::AUTHORIZATION, authorization.as_str());
    }
    for (name, value) in &config.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(String::new())
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
    let status = response.status().as_u16();
    let headers = response.headers();
    let subprotocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if status != StatusCode::SWITCHING_PROTOCOLS.as_u16() {
        return Ok(Answer {
            status,
            subprotocol,
            socket: None,
            remote_addr,
        });
    }
    let accept = headers.get(header::SEC_WEBSOCKET_ACCEPT);
    if accept.and_then(|v| v.to_str().ok()) != Some(accept_key(&key).as_str()) {
        return Err(handshake("wrong Sec-WebSocket-Accept".into()));
    }
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
    Ok(Answer {
        status,
        subprotocol,
        socket: Some(socket),
        remote_addr,
    })
}

/// A station that stays connected: it connects, and after every loss reconnects by the
/// [`RetryBackOff`] schedule. Calls made while disconnected fail with
/// [`CallFailure::Closed`](ocpp_rpc::CallFailure::Closed).
#[derive(Debug)]
pub struct Client {
    current: watch::Receiver<Option<Connection>>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Starts connecting in the background.
    pub fn start(config: ClientConfig, handlers: Handlers) -> Client {
        let (publish, current) = watch::channel(None);
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
                let wait = config.backoff.delay(attempt, random_u32());
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

    /// The current connection, if there is one now (without waiting).
    pub fn current(&self) -> Option<Connection> {
        self.current.borrow().clone()
    }

    /// Stops reconnecting and closes the current connection.
    pub async fn stop(&self) {
        self.task.abort();
        let current = self.current.borrow().clone();
        if let Some(connection) = current {
            connection.close().await;
        }
    }
}

/// A random number for the random part of the back-off (jitter, not cryptography).
pub(crate) fn random_u32() -> u32 {
    let key = websocket_key();
    let digest = Sha1::digest(key.as_bytes());
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let t = target("ws://127.0.0.1:9000/ocpp/CS%2D001", true).unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.identity.as_str()),
            ("127.0.0.1", 9000, "CS-001")
        );
        assert!(!t.tls);
        assert!(target("wss://csms.example/ocpp/CS1", true).unwrap().tls);
        assert!(target("http://x/ocpp/CS1", true).is_err());
        assert!(target("ws://x/ocpp/", true).is_err());
        assert!(
            target("ws://x/ocpp/a%0Ab", true).is_err(),
            "identities are checked before connecting"
        );
        // ... except on a raw connection, which sends what it is given.
        let raw = target("ws://x/ocpp/a%0Ab", false).unwrap();
        assert_eq!(
            (raw.path.as_str(), raw.identity.as_str()),
            ("/ocpp/a%0Ab", "a%0Ab")
        );
    }
}
