//! The CSMS side: a WebSocket server that accepts charging stations at `<path>/<identity>`.
//!
//! Each TCP connection gets a task: TLS (security profiles 2 and 3), the HTTP upgrade request
//! (read by hyper, within the handshake timeout), the checks of the OCPP specification
//! (identity, subprotocol, Basic auth), the application's [`Server::on_handshake`] hook, then
//! the WebSocket (permessage-deflate when the station offers it) and a connection driver.

use std::borrow::ToOwned;
use std::boxed::Box;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::string::String;
use std::sync::Arc;
use std::time::Duration;
use std::vec;
use std::vec::Vec;

use base64::Engine;
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use ocpp_types::OcppVersion;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, watch};
use yawc::close::CloseCode;
use yawc::{Frame, WebSocket};

use super::connection::{self, Connection, DriverConfig, FrameObserver};
use super::handlers::Handlers;
use super::{SessionSettings, websocket_options};
use crate::session::{Config, Role, Session};

/// The longest charging station identity (OCPP 2.x `identifierString` of the security
/// whitepaper and part 4: 48 characters).
pub const MAX_IDENTITY_CHARS: usize = 48;

/// The OCPP security profile the server enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityProfile {
    /// No authentication (profile 0; only for tests and closed networks).
    Unsecured,
    /// Profile 1: HTTP Basic authentication, no TLS.
    BasicAuth,
    /// Profile 2: TLS, and HTTP Basic authentication.
    TlsBasicAuth,
    /// Profile 3: TLS with a client certificate.
    MutualTls,
}

/// How the server behaves. [`ServerConfig::default`] accepts every version (preferring the
/// newest), unsecured, with limits suited to OCPP traffic.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The versions accepted, in order of preference.
    pub versions: Vec<OcppVersion>,
    /// The path before the identity (`/ocpp` for `ws://host/ocpp/CS001`); empty for none. A
    /// request for another path is answered 404.
    pub path: String,
    /// The security profile.
    pub security: SecurityProfile,
    /// Check the Basic-auth password's format (16 to 40 characters on 2.x; 40 hexadecimal
    /// digits on 1.6) before the hook sees it.
    pub check_password_format: bool,
    /// The largest WebSocket message accepted, in bytes; a larger one closes the connection
    /// (1009) before it is read into memory.
    pub max_message_size: usize,
    /// The time a client has to complete TLS and the HTTP upgrade.
    pub handshake_timeout: Duration,
    /// Send a WebSocket ping after this long without hearing from the station (`None`: never).
    pub ping_interval: Option<Duration>,
    /// Close after this long without hearing from the station (after a ping, its pong).
    pub idle_timeout: Option<Duration>,
    /// Session settings (call timeout, bad-message limit, ...).
    pub session: SessionSettings,
    /// Sees every frame of every connection.
    pub observer: Option<FrameObserver>,
    /// TLS settings, required by security profiles 2 and 3 (for profile 3 with a client
    /// certificate verifier).
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            versions: vec![OcppVersion::V21, OcppVersion::V201, OcppVersion::V16],
            path: String::new(),
            security: SecurityProfile::Unsecured,
            check_password_format: true,
            max_message_size: 1 << 20,
            handshake_timeout: Duration::from_secs(10),
            ping_interval: None,
            idle_timeout: Some(Duration::from_secs(600)),
            session: SessionSettings::default(),
            observer: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// What the application's handshake hook decides on: who connects, how, from where.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The identity from the URL, percent-decoded.
    pub identity: String,
    /// The version the connection will speak.
    pub version: OcppVersion,
    /// The Basic-auth password (profiles 1 and 2), already checked to belong to `identity`.
    pub password: Option<String>,
    /// The client's certificate chain, DER, end entity first (profile 3).
    pub certificates: Vec<Vec<u8>>,
    /// The client's address.
    pub remote_addr: SocketAddr,
    /// The HTTP request headers.
    pub headers: HeaderMap,
}

/// The HTTP status that refuses a handshake (404 for an unknown station, 401 for bad
/// credentials, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal(pub StatusCode);

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type HandshakeHook = Arc<dyn Fn(Handshake) -> BoxFuture<Result<(), Refusal>> + Send + Sync>;
type ConnectHook = Arc<dyn Fn(Connection) + Send + Sync>;

/// A bound CSMS server, not yet accepting. Configure its hooks, then [`Server::start`].
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

struct Shared {
    config: ServerConfig,
    handlers: Arc<Handlers>,
    handshake: Option<HandshakeHook>,
    on_connection: Option<ConnectHook>,
    shutdown: watch::Receiver<Option<tokio::time::Instant>>,
    alive: mpsc::Sender<()>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish()
    }
}

/// A running server: shut it down with [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    shutdown: watch::Sender<Option<tokio::time::Instant>>,
    alive: mpsc::Receiver<()>,
    accept: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds the listening socket. Fails at once if a profile needs TLS settings that are
    /// missing.
    pub async fn bind(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        handlers: Handlers,
    ) -> std::io::Result<Server> {
        let needs_tls = matches!(
            config.security,
            SecurityProfile::TlsBasicAuth | SecurityProfile::MutualTls
        );
        #[cfg(feature = "tls")]
        let has_tls = config.tls.is_some();
        #[cfg(not(feature = "tls"))]
        let has_tls = false;
        if needs_tls && !has_tls {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "security profiles 2 and 3 need TLS settings (ServerConfig::tls)",
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let (_, shutdown) = watch::channel(None);
        let (alive, _) = mpsc::channel(1);
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                config,
                handlers: Arc::new(handlers),
                handshake: None,
                on_connection: None,
                shutdown,
                alive,
            }),
        })
    }

    /// The address the server listens on (with the port the system chose for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Sets the hook that admits or refuses each station after the specification's checks
    /// (the default admits every identity).
    pub fn on_handshake<F, Fut>(mut self, hook: F) -> Server
    where
        F: Fn(Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Refusal>> + Send + 'static,
    {
        self.shared_mut().handshake = Some(Arc::new(move |h| Box::pin(hook(h))));
        self
    }

    /// Sets the hook that receives each new connection (to call the station at any time).
    pub fn on_connection(mut self, hook: impl Fn(Connection) + Send + Sync + 'static) -> Server {
        self.shared_mut().on_connection = Some(Arc::new(hook));
        self
    }

    fn shared_mut(&mut self) -> &mut Shared {
        // `bind` creates the only reference, and `start` consumes the server.
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => shared,
            None => unreachable!("the server's state is shared only after start"),
        }
    }

    /// Starts accepting connections.
    pub fn start(mut self) -> std::io::Result<RunningServer> {
        let local_addr = self.listener.local_addr()?;
        let (shutdown_tx, shutdown) = watch::channel(None);
        let (alive, alive_rx) = mpsc::channel(1);
        {
            let shared = self.shared_mut();
            shared.shutdown = shutdown;
            shared.alive = alive;
        }
        let Server { listener, shared } = self;
        let accept = tokio::spawn(accept_loop(listener, shared));
        Ok(RunningServer {
            local_addr,
            shutdown: shutdown_tx,
            alive: alive_rx,
            accept,
        })
    }
}

impl RunningServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets calls in flight finish for at most `grace`, then closes every
    /// connection with 1001 (going away) and waits until they are closed.
    pub async fn shutdown(mut self, grace: Duration) {
        self.accept.abort();
        let _ = self
            .shutdown
            .send(Some(tokio::time::Instant::now() + grace));
        // Each connection task holds a sender; `None` means all have ended.
        while self.alive.recv().await.is_some() {}
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, remote_addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let alive = shared.alive.clone();
            let timeout = shared.config.handshake_timeout;
            match tokio::time::timeout(timeout, secure(stream, &shared)).await {
                Ok(Ok(stream)) => serve_http(stream, remote_addr, shared).await,
                Ok(Err(error)) => tracing::info!(%remote_addr, %error, "TLS handshake failed"),
                Err(_) => tracing::info!(%remote_addr, "TLS handshake timed out"),
            }
            drop(alive);
        });
    }
}

/// A stream after TLS (or the plain TCP stream), with the client's certificates.
struct Secured {
    io: Box<dyn Io>,
    certificates: Vec<Vec<u8>>,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn secure(stream: TcpStream, shared: &Shared) -> std::io::Result<Secured> {
    #[cfg(feature = "tls")]
    if let Some(tls) = &shared.config.tls {
        let stream = tokio_rustls::TlsAcceptor::from(tls.clone())
            .accept(stream)
            .await?;
        let certificates = stream
            .get_ref()
            .1
            .peer_certificates()
            .map(|chain| chain.iter().map(|c| c.as_ref().to_vec()).collect())
            .unwrap_or_default();
        return Ok(Secured {
            io: Box::new(stream),
            certificates,
        });
    }
    let _ = shared;
    Ok(Secured {
        io: Box::new(stream),
        certificates: Vec::new(),
    })
}

async fn serve_http(stream: Secured, remote_addr: SocketAddr, shared: Arc<Shared>) {
    let certificates = Arc::new(stream.certificates);
    let handshake_timeout = shared.config.handshake_timeout;
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        let certificates = certificates.clone();
        async move {
            Ok::<_, std::convert::Infallible>(
                upgrade(request, remote_addr, &certificates, shared).await,
            )
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(handshake_timeout)
        .serve_connection(TokioIo::new(stream.io), service)
        .with_upgrades();
    if let Err(error) = connection.await {
        tracing::debug!(%remote_addr, %error, "HTTP connection ended");
    }
}

fn refuse(status: StatusCode) -> Response<Empty<Bytes>> {
    let mut response = Response::new(Empty::new());
    *response.status_mut() = status;
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"OCPP\""),
        );
    }
    response
}

/// Checks an upgrade request and, if it passes, upgrades it and starts the connection.
async fn upgrade(
    mut request: Request<Incoming>,
    remote_addr: SocketAddr,
    certificates: &[Vec<u8>],
    shared: Arc<Shared>,
) -> Response<Empty<Bytes>> {
    let config = &shared.config;
    let identity = match identity(request.uri().path(), &config.path) {
        Ok(identity) => identity,
        Err(status) => {
            tracing::info!(%remote_addr, path = request.uri().path(), %status, "refused");
            return refuse(status);
        }
    };
    let version = negotiate(request.headers(), &config.versions);
    let password = match config.security {
        SecurityProfile::BasicAuth | SecurityProfile::TlsBasicAuth => {
            match basic_password(request.headers(), &identity) {
                Some(password)
                    if !config.check_password_format
                        || version.is_none_or(|v| password_format_ok(v, &password)) =>
                {
                    Some(password)
                }
                _ => {
                    tracing::info!(%remote_addr, %identity, "refused: Basic auth");
                    return refuse(StatusCode::UNAUTHORIZED);
                }
            }
        }
        SecurityProfile::MutualTls if certificates.is_empty() => {
            return refuse(StatusCode::UNAUTHORIZED);
        }
        _ => None,
    };
    if let (Some(version), Some(hook)) = (version, &shared.handshake) {
        let handshake = Handshake {
            identity: identity.clone(),
            version,
            password,
            certificates: certificates.to_vec(),
            remote_addr,
            headers: request.headers().clone(),
        };
        if let Err(Refusal(status)) = hook(handshake).await {
            tracing::info!(%remote_addr, %identity, %status, "refused by the handshake hook");
            return refuse(status);
        }
    }
    let options = websocket_options(config.max_message_size);
    let (mut response, upgrading) = match WebSocket::upgrade_with_options(&mut request, options) {
        Ok(upgrade) => upgrade,
        Err(error) => {
            tracing::info!(%remote_addr, %error, "not a WebSocket upgrade");
            return refuse(StatusCode::BAD_REQUEST);
        }
    };
    if let Some(version) = version {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(version.subprotocol()),
        );
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        let alive = shared.alive.clone();
        let mut socket = match upgrading.await {
            Ok(socket) => socket,
            Err(error) => {
                tracing::info!(%remote_addr, %error, "upgrade failed");
                return;
            }
        };
        let Some(version) = version else {
            // No subprotocol in common: the handshake completes without one, then the
            // connection closes at once (OCPP-J 2.x part 4, 3.1.2).
            tracing::info!(%remote_addr, %identity, "no OCPP version in common; closing");
            let _ =
                futures_util::SinkExt::send(&mut socket, Frame::close(CloseCode::Protocol, b""))
                    .await;
            return;
        };
        let mut config = Config::new(version, Role::Csms);
        shared.config.session.apply(&mut config);
        let driver = DriverConfig {
            ping_interval: shared.config.ping_interval,
            idle_timeout: shared.config.idle_timeout,
            observer: shared.config.observer.clone(),
            shutdown: Some(shared.shutdown.clone()),
        };
        tracing::info!(%remote_addr, %identity, %version, "station connected");
        let connection = connection::start(
            socket,
            Session::new(config),
            identity,
            Some(remote_addr),
            shared.handlers.clone(),
            driver,
        );
        if let Some(hook) = &shared.on_connection {
            hook(connection.clone());
        }
        connection.closed().await;
        drop(alive);
    });
    response
}

/// The identity from a request path `<prefix>/<identity>`, percent-decoded.
fn identity(path: &str, prefix: &str) -> Result<String, StatusCode> {
    let (head, last) = path.rsplit_once('/').ok_or(StatusCode::NOT_FOUND)?;
    if head.trim_end_matches('/') != prefix.trim_end_matches('/') {
        return Err(StatusCode::NOT_FOUND);
    }
    let identity = percent_encoding::percent_decode_str(last)
        .decode_utf8()
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let length = identity.chars().count();
    if length == 0 || length > MAX_IDENTITY_CHARS || identity.contains(':') {
        return Err(StatusCode::BAD_REQUEST);
    }
    Ok(identity.into_owned())
}

/// The first of `preference` that the client offers in `Sec-WebSocket-Protocol`.
fn negotiate(headers: &HeaderMap, preference: &[OcppVersion]) -> Option<OcppVersion> {
    let offered: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    preference
        .iter()
        .copied()
        .find(|version| offered.contains(&version.subprotocol()))
}

/// The password of `Authorization: Basic`, if its user is `identity`.
fn basic_password(headers: &HeaderMap, identity: &str) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    (user == identity).then(|| password.to_owned())
}

/// 2.x: 16 to 40 characters; 1.6 (security whitepaper): 40 hexadecimal digits.
fn password_format_ok(version: OcppVersion, password: &str) -> bool {
    match version {
        OcppVersion::V16 => password.len() == 40 && password.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => (16..=40).contains(&password.chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn identities() {
        assert_eq!(identity("/ocpp/CS001", "/ocpp"), Ok("CS001".into()));
        assert_eq!(identity("/ocpp/CS%20001", "/ocpp/"), Ok("CS 001".into()));
        assert_eq!(identity("/CS001", ""), Ok("CS001".into()));
        assert_eq!(
            identity("/other/CS001", "/ocpp"),
            Err(StatusCode::NOT_FOUND)
        );
        assert_eq!(
            identity("/ocpp/a%3Ab", "/ocpp"),
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(identity("/ocpp/", "/ocpp"), Err(StatusCode::BAD_REQUEST));
        let long = "x".repeat(49);
        assert_eq!(
            identity(&format!("/{long}"), ""),
            Err(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            identity(&format!("/{}", &long[1..]), ""),
            Ok(long[1..].into())
        );
        assert_eq!(identity("/ocpp/%FF", "/ocpp"), Err(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn negotiation_follows_the_server_preference() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("ocpp1.6, ocpp2.0.1"),
        );
        let prefs = [OcppVersion::V201, OcppVersion::V16];
        assert_eq!(negotiate(&headers, &prefs), Some(OcppVersion::V201));
        assert_eq!(
            negotiate(&headers, &[OcppVersion::V16]),
            Some(OcppVersion::V16)
        );
        assert_eq!(negotiate(&headers, &[OcppVersion::V21]), None);
        assert_eq!(negotiate(&HeaderMap::new(), &prefs), None);
    }

    #[test]
    fn basic_auth() {
        let mut headers = HeaderMap::new();
        let token = base64::engine::general_purpose::STANDARD.encode("CS001:0123456789abcdef");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {token}")).unwrap(),
        );
        assert_eq!(
            basic_password(&headers, "CS001").as_deref(),
            Some("0123456789abcdef")
        );
        assert_eq!(basic_password(&headers, "CS002"), None);
        assert!(password_format_ok(OcppVersion::V201, "0123456789abcdef"));
        assert!(!password_format_ok(OcppVersion::V201, "short"));
        assert!(!password_format_ok(OcppVersion::V16, "0123456789abcdef"));
        assert!(password_format_ok(OcppVersion::V16, &"a1".repeat(20)));
    }
}
