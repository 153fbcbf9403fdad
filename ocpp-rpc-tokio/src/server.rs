//! The CSMS side: an [`Acceptor`] that checks and upgrades station connections (mount it in an
//! HTTP server of your own), and a [`Server`] that runs one on a TCP listener.
//!
//! Each connection: TLS (security profiles 2 and 3; done by [`Server`], or by your HTTP server
//! in front of an [`Acceptor`]), the HTTP upgrade request (within the handshake timeout), the
//! checks of the OCPP specification (identity, subprotocol, Basic auth; see
//! [`ocpp_rpc::handshake`]), the application's [`Server::on_handshake`] hook, then the
//! WebSocket (permessage-deflate when the station offers it) and a connection driver.

use std::boxed::Box;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper_util::rt::{TokioIo, TokioTimer};
use ocpp_rpc::handshake::{self, IdentityError};
use ocpp_rpc::{Config, Role, Session};
use ocpp_types::OcppVersion;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::watch;
use yawc::close::CloseCode;
use yawc::{Frame, WebSocket};

use crate::connection::{self, Connection, DriverConfig, EventObserver, FrameObserver};
use crate::handlers::Handlers;
use crate::limits::Census;
use crate::registry::Registry;
use crate::websocket_options;

/// The OCPP security profile the server enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
/// newest) at any path, unsecured, with limits suited to OCPP traffic.
#[derive(Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The versions accepted, in order of preference.
    pub versions: Vec<OcppVersion>,
    /// The path before the identity (`Some("/ocpp")` admits `ws://host/ocpp/CS001` only);
    /// `None` (the default) admits any path and takes its last segment as the identity, as
    /// operators configure chargers with URLs of their own choosing. A request for another
    /// path is answered 404. See [`handshake::identity_from_path`].
    pub path_prefix: Option<String>,
    /// The security profile.
    pub security: SecurityProfile,
    /// Check the Basic-auth password's format (16 to 40 characters on 2.x; 40 hexadecimal
    /// digits on 1.6) before the hook sees it.
    pub check_password_format: bool,
    /// Security profile 3: admit a client certificate only if its subject's commonName is the
    /// station's identity (compared without regard to ASCII case), as OCPP 2.0.1 part 2
    /// requirement A00.FR.405 asks of a CSMS ("verify that the certificate belongs to this
    /// Charging Station by checking that the CN ... contains the unique serial number of the
    /// Charging Station"); the 1.6 security whitepaper asks the same. Default `true`; turn it
    /// off only to bind certificates to identities in the handshake hook instead (it receives
    /// the chain). Needs the `tls` feature, which parses the certificate.
    pub bind_certificate_to_identity: bool,
    /// What to do when a connected identity connects again (default: the new connection
    /// replaces the old one).
    pub duplicate_identity: crate::DuplicateIdentity,
    /// Connection limits, rate budget and first-message deadline.
    pub limits: crate::Limits,
    /// The largest WebSocket message accepted, in bytes; a larger one closes the connection
    /// (1009) before it is read into memory.
    pub max_message_size: usize,
    /// The time a client has for its whole handshake, from TCP accept to the upgrade: TLS, the
    /// HTTP request, the credential check and the handshake hook (default 10 s).
    pub handshake_timeout: Duration,
    /// Send a WebSocket ping after this long without hearing from the station (default 60 s;
    /// `None`: never).
    pub ping_interval: Option<Duration>,
    /// After a ping, close if no pong (or anything else) comes within this time (default 30 s);
    /// without pings, close after this long without hearing from the station.
    pub idle_timeout: Option<Duration>,
    /// How long one write to a station may take; a station that stops reading is dropped
    /// after it, so neither its task nor a graceful shutdown waits on it (default 30 s).
    pub write_timeout: Duration,
    /// The template of every connection's session (call timeout, queue sizes, bad-message
    /// limit, leniency, ...); its `version` and `role` are set by the handshake.
    pub session: Config,
    /// Sees every frame of every connection.
    pub observer: Option<FrameObserver>,
    /// Receives the protocol violations and leniencies of every connection.
    pub events: Option<EventObserver>,
    /// TLS settings, required by security profiles 2 and 3 with [`Server`] (for profile 3 with
    /// a client certificate verifier). An [`Acceptor`] mounted elsewhere leaves TLS to the
    /// HTTP server in front of it.
    #[cfg(feature = "tls")]
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            versions: vec![OcppVersion::V21, OcppVersion::V201, OcppVersion::V16],
            path_prefix: None,
            security: SecurityProfile::Unsecured,
            check_password_format: true,
            bind_certificate_to_identity: true,
            duplicate_identity: crate::DuplicateIdentity::default(),
            limits: crate::Limits::default(),
            max_message_size: 1 << 20,
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(60)),
            idle_timeout: Some(Duration::from_secs(30)),
            write_timeout: Duration::from_secs(30),
            session: Config::new(OcppVersion::V201, Role::Csms),
            observer: None,
            events: None,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// What the application's handshake hook decides on: who connects, how, from where.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Handshake {
    /// The identity from the URL, percent-decoded and checked
    /// ([`handshake::identity_from_path`]).
    pub identity: String,
    /// The version the connection will speak; `None` if the station offered no version the
    /// server accepts (the hook runs anyway, so credentials are always checked; an admitted
    /// connection is then upgraded without a subprotocol and closed at once, as OCPP-J asks).
    pub version: Option<OcppVersion>,
    /// The Basic-auth password (profiles 1 and 2) sent for `identity`, of the version's format
    /// if [`ServerConfig::check_password_format`]. Whether it is the right one is for the hook
    /// to decide: compare it with [`Handshake::password_is`], which takes the same time
    /// whatever the password.
    pub password: Option<String>,
    /// The client's certificate chain, DER, end entity first (profile 3).
    pub certificates: Vec<Vec<u8>>,
    /// The request path, as sent (percent-encoded), for applications that route on it.
    pub path: String,
    /// The client's address.
    pub remote_addr: SocketAddr,
    /// The HTTP request headers, names lowercase, values that are not text left out.
    pub headers: Vec<(String, String)>,
}

impl Handshake {
    /// Whether the Basic-auth password is `expected`, compared in constant time (for a given
    /// length), so the time taken tells an attacker nothing about how much of a guess was
    /// right.
    pub fn password_is(&self, expected: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.password
            .as_deref()
            .is_some_and(|password| bool::from(password.as_bytes().ct_eq(expected.as_bytes())))
    }

    /// The first value of the request header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Refuses a handshake with an HTTP status (404 for an unknown station, 401 for bad
/// credentials, ...) and a reason for the response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    status: u16,
    reason: String,
}

impl Refusal {
    /// A refusal with `status` (a 4xx or 5xx code; anything else becomes 403).
    pub fn new(status: u16, reason: impl Into<String>) -> Refusal {
        Refusal {
            status: if (400..600).contains(&status) {
                status
            } else {
                403
            },
            reason: reason.into(),
        }
    }

    /// 404: no such station.
    pub fn unknown_station() -> Refusal {
        Refusal::new(404, "unknown charging station")
    }

    /// 401: the credentials are wrong (the response asks for Basic auth).
    pub fn unauthorized() -> Refusal {
        Refusal::new(401, "unauthorized")
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason, sent as the response body.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    fn into_response(self) -> http::Response<String> {
        let mut response = http::Response::new(self.reason);
        *response.status_mut() =
            http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::FORBIDDEN);
        if self.status == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"OCPP\""),
            );
        }
        response
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type HandshakeHook = Arc<dyn Fn(Handshake) -> BoxFuture<Result<(), Refusal>> + Send + Sync>;
type ConnectHook = Arc<dyn Fn(Connection) + Send + Sync>;

/// Checks and upgrades station connections, and runs them: the server without the listener.
///
/// Mount it in an HTTP server of your own (axum, hyper, ...) to serve OCPP next to other
/// routes: hand it the upgrade request with [`Acceptor::upgrade`] and return the response it
/// gives. `examples/axum.rs` shows it in axum. Cloning is cheap; every clone serves the same
/// connections.
#[derive(Clone)]
pub struct Acceptor {
    shared: Arc<Shared>,
}

#[derive(Clone)]
struct Shared {
    config: ServerConfig,
    handlers: Handlers,
    handshake: Option<HandshakeHook>,
    on_connection: Option<ConnectHook>,
    shutdown: Arc<watch::Sender<Option<tokio::time::Instant>>>,
    census: Arc<Census>,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor")
            .field("versions", &self.shared.config.versions)
            .field("security", &self.shared.config.security)
            .field("connections", &self.shared.census.connections())
            .finish_non_exhaustive()
    }
}

impl Acceptor {
    /// An acceptor with `config`, answering calls with `handlers`.
    pub fn new(config: ServerConfig, handlers: Handlers) -> Acceptor {
        let (shutdown, _) = watch::channel(None);
        Acceptor {
            shared: Arc::new(Shared {
                config,
                handlers,
                handshake: None,
                on_connection: None,
                shutdown: Arc::new(shutdown),
                census: Arc::default(),
                registry: Arc::default(),
            }),
        }
    }

    /// Sets the hook that admits or refuses each station after the specification's checks
    /// (the default admits every identity).
    pub fn on_handshake<F, Fut>(mut self, hook: F) -> Acceptor
    where
        F: Fn(Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Refusal>> + Send + 'static,
    {
        Arc::make_mut(&mut self.shared).handshake = Some(Arc::new(move |h| Box::pin(hook(h))));
        self
    }

    /// Sets the hook that receives each new connection (to call the station at any time).
    pub fn on_connection(mut self, hook: impl Fn(Connection) + Send + Sync + 'static) -> Acceptor {
        Arc::make_mut(&mut self.shared).on_connection = Some(Arc::new(hook));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    /// How many stations are connected (or being upgraded) through this acceptor.
    pub fn connections(&self) -> usize {
        self.shared.census.connections()
    }

    /// The open connection of the station `identity` (compared without regard to ASCII case),
    /// to call it.
    pub fn station(&self, identity: &str) -> Option<Connection> {
        self.shared.registry.get(identity)
    }

    /// Every open station connection.
    pub fn stations(&self) -> Vec<Connection> {
        self.shared.registry.all()
    }

    /// Whether the configuration checks credentials as its security profile requires: profiles
    /// 1 and 2 need a handshake hook (the password check); profile 3 is checked by TLS and the
    /// certificate binding.
    fn credentials_checked(&self) -> bool {
        match self.shared.config.security {
            SecurityProfile::BasicAuth | SecurityProfile::TlsBasicAuth => {
                self.shared.handshake.is_some()
            }
            SecurityProfile::MutualTls => {
                cfg!(feature = "tls") || !self.shared.config.bind_certificate_to_identity
            }
            SecurityProfile::Unsecured => true,
        }
    }

    /// Checks a WebSocket upgrade request against the specification's rules and the handshake
    /// hook, and answers it: `101 Switching Protocols`, after which the connection runs in a
    /// task of its own (and is handed to the connection hook), or the refusal (400 with the
    /// reason for a malformed identity, 404 for a path outside the prefix, 401 for missing
    /// credentials, or the hook's status).
    ///
    /// The request must come from a hyper-based server (hyper, axum, ...), which puts the
    /// upgrade handle into its extensions. `remote_addr` is the client's address;
    /// `certificates` its TLS client certificate chain (DER, end entity first), if a TLS
    /// layer in front asked for one.
    pub async fn upgrade<B>(
        &self,
        request: http::Request<B>,
        remote_addr: SocketAddr,
        certificates: Vec<Vec<u8>>,
    ) -> http::Response<String> {
        let deadline = tokio::time::Instant::now() + self.shared.config.handshake_timeout;
        self.upgrade_until(request, remote_addr, certificates, deadline)
            .await
    }

    async fn upgrade_until<B>(
        &self,
        request: http::Request<B>,
        remote_addr: SocketAddr,
        certificates: Vec<Vec<u8>>,
        deadline: tokio::time::Instant,
    ) -> http::Response<String> {
        match self
            .try_upgrade(request, remote_addr, certificates, deadline)
            .await
        {
            Ok(response) => response,
            Err(refusal) => {
                tracing::info!(%remote_addr, status = refusal.status, reason = %refusal.reason, "handshake refused");
                refusal.into_response()
            }
        }
    }

    async fn try_upgrade<B>(
        &self,
        mut request: http::Request<B>,
        remote_addr: SocketAddr,
        certificates: Vec<Vec<u8>>,
        deadline: tokio::time::Instant,
    ) -> Result<http::Response<String>, Refusal> {
        let shared = &self.shared;
        let config = &shared.config;
        if !self.credentials_checked() {
            tracing::error!(security = ?config.security, "no credential check configured: refusing every station");
            return Err(Refusal::new(
                503,
                "the server has no credential check for its security profile",
            ));
        }
        let admitted = shared
            .census
            .admit(remote_addr.ip(), &config.limits)
            .map_err(|over| Refusal::new(over.status(), over.reason()))?;
        let identity =
            handshake::identity_from_path(request.uri().path(), config.path_prefix.as_deref())
                .map_err(|error| match error {
                    IdentityError::WrongPrefix { .. } => Refusal::new(404, error.to_string()),
                    other => Refusal::new(400, other.to_string()),
                })?;
        let offered = header_values(request.headers(), header::SEC_WEBSOCKET_PROTOCOL);
        let version = handshake::choose_subprotocol(&offered, &config.versions);
        let password = match config.security {
            SecurityProfile::BasicAuth | SecurityProfile::TlsBasicAuth => {
                let credentials = request
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(handshake::parse_basic_authorization)
                    .filter(|credentials| credentials.user == identity)
                    .ok_or_else(Refusal::unauthorized)?;
                let format_ok = !config.check_password_format
                    || version
                        .is_none_or(|v| handshake::password_format_ok(v, &credentials.password));
                if !format_ok {
                    return Err(Refusal::unauthorized());
                }
                Some(credentials.password)
            }
            SecurityProfile::MutualTls => {
                let bound = !config.bind_certificate_to_identity
                    || certificates
                        .first()
                        .is_some_and(|end_entity| certificate_names(end_entity, &identity));
                if certificates.is_empty() || !bound {
                    return Err(Refusal::new(401, "no client certificate for this identity"));
                }
                None
            }
            SecurityProfile::Unsecured => None,
        };
        if config.duplicate_identity == crate::DuplicateIdentity::RefuseNew
            && shared.registry.get(&identity).is_some()
        {
            return Err(Refusal::new(409, "this identity is connected already"));
        }
        if let Some(hook) = &shared.handshake {
            let handshake = Handshake {
                identity: identity.clone(),
                version,
                password,
                certificates,
                path: request.uri().path().to_owned(),
                remote_addr,
                headers: request
                    .headers()
                    .iter()
                    .filter_map(|(name, value)| {
                        Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
                    })
                    .collect(),
            };
            match tokio::time::timeout_at(deadline, hook(handshake)).await {
                Ok(decision) => decision?,
                Err(_) => return Err(Refusal::new(503, "the handshake check took too long")),
            }
        }
        let options = websocket_options(config.max_message_size);
        let (mut response, upgrading) = WebSocket::upgrade_with_options(&mut request, options)
            .map_err(|error| Refusal::new(400, format!("not a WebSocket upgrade: {error}")))?;
        if let Some(version) = version {
            response.headers_mut().insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(version.subprotocol()),
            );
        }
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
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
                let close = futures_util::SinkExt::send(
                    &mut socket,
                    Frame::close(CloseCode::Protocol, b""),
                );
                let _ = tokio::time::timeout(shared.config.write_timeout, close).await;
                return;
            };
            let mut session = shared.config.session.clone();
            session.version = version;
            session.role = Role::Csms;
            let driver = DriverConfig {
                ping_interval: shared.config.ping_interval,
                idle_timeout: shared.config.idle_timeout,
                observer: shared.config.observer.clone(),
                events: shared.config.events.clone(),
                write_timeout: shared.config.write_timeout,
                first_message_timeout: shared.config.limits.first_message_timeout,
                budget: Some(crate::limits::Budget::new(&shared.config.limits)),
                shutdown: Some(shared.shutdown.subscribe()),
            };
            tracing::info!(%remote_addr, %identity, %version, "station connected");
            // This task serves the connection itself (a second task would cost a task's
            // memory per connection, for nothing).
            let (connection, serving) = connection::prepare(
                socket,
                Session::new(session),
                identity,
                Some(remote_addr),
                shared.handlers.clone(),
                driver,
            );
            let mut refused = false;
            if let Some(old) = shared.registry.insert(&connection) {
                match shared.config.duplicate_identity {
                    crate::DuplicateIdentity::RefuseNew => {
                        // Two handshakes of one identity raced past the check: keep the first.
                        shared.registry.insert(&old);
                        connection
                            .close_first(CloseCode::Policy, "this identity is connected already");
                        refused = true;
                    }
                    _ => old.close_replaced().await,
                }
            }
            if let (false, Some(hook)) = (refused, &shared.on_connection) {
                hook(connection.clone());
            }
            serving.await;
            shared.registry.remove(&connection);
        });
        Ok(response.map(|_| String::new()))
    }

    /// Serves one connection that the caller accepted itself (from a Unix socket, a proxy
    /// handing connections over, a listener of its own, or an in-memory pipe in a test) as
    /// [`Server`] serves each TCP connection: the handshake limit, the HTTP request and every
    /// check of [`Acceptor::upgrade`] within [`ServerConfig::handshake_timeout`], then the OCPP
    /// connection. There is no TLS here: wrap the stream first (the client's certificates are
    /// then not seen, so profile 3's binding cannot be checked this way).
    ///
    /// Returns when the HTTP exchange ends; an upgraded connection runs on in a task of its own.
    pub async fn serve<S>(&self, stream: S, remote_addr: SocketAddr)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let config = &self.shared.config;
        let Some(_handshaking) = self
            .shared
            .census
            .begin_handshake(config.limits.max_handshakes)
        else {
            tracing::warn!(%remote_addr, "too many handshakes in progress; refused");
            refuse_plain(stream, 503).await;
            return;
        };
        let deadline = tokio::time::Instant::now() + config.handshake_timeout;
        let stream = Secured {
            io: Box::new(stream),
            certificates: Vec::new(),
        };
        serve_http(stream, remote_addr, self.clone(), deadline).await;
    }

    /// Lets calls in flight on every connection finish for at most `grace`, then closes each
    /// with 1001 (going away), and waits until all are closed. Connections upgraded after this
    /// close at once.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self
            .shared
            .shutdown
            .send(Some(tokio::time::Instant::now() + grace));
        self.shared.census.all_ended().await;
    }
}

/// Whether the end-entity certificate `der` names `identity` as its subject's commonName.
#[cfg(feature = "tls")]
fn certificate_names(der: &[u8], identity: &str) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let Ok((_, certificate)) = X509Certificate::from_der(der) else {
        return false;
    };
    certificate
        .subject()
        .iter_common_name()
        .filter_map(|name| name.as_str().ok())
        .any(|name| name.eq_ignore_ascii_case(identity))
}

/// Without the `tls` feature no certificate is parsed, so none is bound.
#[cfg(not(feature = "tls"))]
fn certificate_names(_der: &[u8], _identity: &str) -> bool {
    false
}

/// Every value of header `name`, joined with `,` (how HTTP lets a list header be split).
fn header_values(headers: &http::HeaderMap, name: header::HeaderName) -> String {
    let mut joined = String::new();
    for value in headers.get_all(name).iter().filter_map(|v| v.to_str().ok()) {
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(value);
    }
    joined
}

/// A bound CSMS server, not yet accepting: an [`Acceptor`] on a TCP listener, with TLS
/// (feature `tls`) for security profiles 2 and 3. Configure its hooks, then [`Server::start`].
pub struct Server {
    listener: TcpListener,
    acceptor: Acceptor,
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
    acceptor: Acceptor,
    accept: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Binds the listening socket. Fails if a profile needs TLS settings that are missing (see
    /// [`Server::from_listener`]).
    pub async fn bind(
        addr: impl ToSocketAddrs,
        config: ServerConfig,
        handlers: Handlers,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Server::from_listener(listener, config, handlers)
    }

    /// A server on a listener the application bound itself: with `SO_REUSEPORT`, several
    /// processes share one port and the kernel spreads the stations over them (how one box
    /// holds more connections than one process's open-file limit allows):
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// use ocpp_rpc_tokio::{Handlers, Server, ServerConfig};
    /// let socket = tokio::net::TcpSocket::new_v4()?;
    /// socket.set_reuseport(true)?;
    /// socket.bind("0.0.0.0:9000".parse().unwrap())?;
    /// let server = Server::from_listener(socket.listen(4096)?, ServerConfig::default(), Handlers::new())?;
    /// # let _ = server; Ok(()) }
    /// ```
    ///
    /// Fails at once if a profile needs TLS settings that are missing.
    pub fn from_listener(
        listener: TcpListener,
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
        Ok(Server {
            listener,
            acceptor: Acceptor::new(config, handlers),
        })
    }

    /// The address the server listens on (with the port the system chose for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Sets the hook that admits or refuses each station after the specification's checks
    /// (the default admits every identity). See [`Acceptor::on_handshake`].
    pub fn on_handshake<F, Fut>(mut self, hook: F) -> Server
    where
        F: Fn(Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Refusal>> + Send + 'static,
    {
        self.acceptor = self.acceptor.on_handshake(hook);
        self
    }

    /// Sets the hook that receives each new connection (to call the station at any time).
    pub fn on_connection(mut self, hook: impl Fn(Connection) + Send + Sync + 'static) -> Server {
        self.acceptor = self.acceptor.on_connection(hook);
        self
    }

    /// Starts accepting connections. Fails if the security profile needs a credential check
    /// that is not configured (profiles 1 and 2: a handshake hook that checks the password).
    ///
    /// On Unix it first raises the process's open-file limit (the soft limit, up to the hard
    /// one) so that [`Limits::max_connections`](crate::Limits::max_connections) connections
    /// fit, and logs a warning when the hard limit is lower.
    pub fn start(self) -> std::io::Result<RunningServer> {
        if !self.acceptor.credentials_checked() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "security profiles 1 and 2 need a credential check: set Server::on_handshake",
            ));
        }
        let local_addr = self.listener.local_addr()?;
        #[cfg(unix)]
        let _ = crate::raise_open_file_limit(self.acceptor.config().limits.max_connections);
        let acceptor = self.acceptor.clone();
        let accept = tokio::spawn(accept_loop(self.listener, self.acceptor));
        Ok(RunningServer {
            local_addr,
            acceptor,
            accept,
        })
    }
}

impl RunningServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The acceptor behind the server (to count its connections, or to share it with another
    /// listener).
    pub fn acceptor(&self) -> &Acceptor {
        &self.acceptor
    }

    /// Stops accepting, lets calls in flight finish for at most `grace`, then closes every
    /// connection with 1001 (going away) and waits until they are closed.
    pub async fn shutdown(self, grace: Duration) {
        self.accept.abort();
        self.acceptor.shutdown(grace).await;
    }
}

async fn accept_loop(listener: TcpListener, acceptor: Acceptor) {
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
        let config = &acceptor.shared.config;
        let handshaking = acceptor
            .shared
            .census
            .begin_handshake(config.limits.max_handshakes);
        let Some(handshaking) = handshaking else {
            tracing::warn!(%remote_addr, "too many handshakes in progress; refused");
            refuse_at_once(stream, config, 503).await;
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _handshaking = handshaking;
            let deadline = tokio::time::Instant::now() + acceptor.shared.config.handshake_timeout;
            match tokio::time::timeout_at(deadline, secure(stream, &acceptor.shared.config)).await {
                Ok(Ok(stream)) => serve_http(stream, remote_addr, acceptor.clone(), deadline).await,
                Ok(Err(error)) => tracing::info!(%remote_addr, %error, "TLS handshake failed"),
                Err(_) => tracing::info!(%remote_addr, "TLS handshake timed out"),
            }
        });
    }
}

/// Refuses a TCP connection without reading it: a bare HTTP status on a plain listener (the
/// client learns why), a close under TLS (answering would cost a TLS handshake).
async fn refuse_at_once(stream: TcpStream, config: &ServerConfig, status: u16) {
    #[cfg(feature = "tls")]
    if config.tls.is_some() {
        return;
    }
    let _ = config;
    refuse_plain(stream, status).await;
}

/// Writes a bare HTTP status (at most a second for it) and drops the stream.
async fn refuse_plain(mut stream: impl AsyncWrite + Unpin, status: u16) {
    let response = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    );
    use tokio::io::AsyncWriteExt;
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        stream.write_all(response.as_bytes()),
    )
    .await;
}

/// A stream after TLS (or the plain TCP stream), with the client's certificates.
struct Secured {
    io: Box<dyn Io>,
    certificates: Vec<Vec<u8>>,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn secure(stream: TcpStream, config: &ServerConfig) -> std::io::Result<Secured> {
    #[cfg(feature = "tls")]
    if let Some(tls) = &config.tls {
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
    let _ = config;
    Ok(Secured {
        io: Box::new(stream),
        certificates: Vec::new(),
    })
}

async fn serve_http(
    stream: Secured,
    remote_addr: SocketAddr,
    acceptor: Acceptor,
    deadline: tokio::time::Instant,
) {
    let certificates = stream.certificates;
    let header_timeout = deadline.saturating_duration_since(tokio::time::Instant::now());
    let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
        let acceptor = acceptor.clone();
        let certificates = certificates.clone();
        async move {
            let response = acceptor
                .upgrade_until(request, remote_addr, certificates, deadline)
                .await;
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream.io), service)
        .with_upgrades();
    if let Err(error) = connection.await {
        tracing::debug!(%remote_addr, %error, "HTTP connection ended");
    }
}
