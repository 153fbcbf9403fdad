//! An OCPP router: one charging station, several backends.
//!
//! A station connects to the router as to a CSMS. For each station the router keeps one
//! connection per configured backend, as that station's identity, in the version the station
//! chose (the router does not translate between OCPP versions).
//!
//! - **Station calls** go to the **primary** backend, whose answer the station gets;
//!   **secondaries** receive copies of the actions their `copy` list names, and their
//!   answers are recorded, not returned.
//! - **Calls from backends** reach the station if the backend's `allow` list names the
//!   action (else a CALLERROR `SecurityError`), one at a time: the station's session has one
//!   call in flight and a bounded queue ([`RouterConfig::queue`]), so the station never sees
//!   two, and a call that finds the queue full is refused at once with a CALLERROR. Each
//!   call gets a message id of the router's, unique on the station's connection, and its
//!   answer goes back to the backend that made it.
//! - **Authorization** (Authorize, and the id token of transaction messages) is decided by
//!   [`Authorization`]: the primary alone, any backend, or all of them. A 2.x answer names
//!   the backend that decided in its `customData`.
//! - **A backend that is down** does not stop charging. Transaction messages for it (1.6
//!   StartTransaction, StopTransaction and MeterValues of a transaction; 2.x
//!   TransactionEvent) wait in a durable queue per station and backend (the station core's
//!   [`FileStore`](ocpp_station::store::FileStore)) and reach it in order when it is back,
//!   after the station's BootNotification. While the primary is away, [`PrimaryDown`] says
//!   who answers: the next backend, or the router itself as an offline station would.
//!   On 1.6 each backend's transaction ids are mapped to the one the station was given.
//! - Every routed frame goes to a [`Tap`] (the `ocpp router` command writes a transcript)
//!   and to `tracing` at debug level.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ocpp_router::RouterConfig::from_toml(&std::fs::read_to_string("router.toml")?)?;
//! let router = ocpp_router::Router::new(config).start().await?;
//! println!("stations connect to ws://{}/<identity>", router.local_addr());
//! # Ok(()) }
//! ```

mod config;
mod link;
mod local;
mod outbox;
pub mod policy;
mod station;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ocpp_rpc_tokio::{
    Acceptor, Connection, Direction, FrameObserver, Handlers, RunningServer, SecurityProfile,
    Server, ServerConfig,
};

pub use config::{Authorization, BackendConfig, ConfigError, PrimaryDown, RouterConfig};

use station::Station;

/// One frame through the router, as a [`Tap`] sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Hop<'a> {
    /// The station's identity.
    pub station: &'a str,
    /// `"station"`, or the backend's name.
    pub peer: &'a str,
    /// Whether the router received the frame from `peer` or sent it there.
    pub direction: Direction,
    /// The frame's text.
    pub frame: &'a str,
}

/// Sees every frame the router receives or sends.
pub type Tap = Arc<dyn Fn(&Hop<'_>) + Send + Sync>;

/// A router to start.
pub struct Router {
    config: RouterConfig,
    tap: Option<Tap>,
}

impl Router {
    /// A router as `config` says.
    pub fn new(config: RouterConfig) -> Router {
        Router { config, tap: None }
    }

    /// Shows every routed frame to `tap`.
    pub fn tap(mut self, tap: impl Fn(&Hop<'_>) + Send + Sync + 'static) -> Router {
        self.tap = Some(Arc::new(tap));
        self
    }

    /// Checks the configuration, binds the stations' listener and starts serving.
    pub async fn start(self) -> Result<RunningRouter, StartError> {
        let config = self.config;
        config.check()?;
        let mut server = ServerConfig::default();
        server.versions.clone_from(&config.ocpp);
        server.session.max_queued = config.queue.max(1);
        server.limits.messages_per_second = config.messages_per_second;
        server.limits.message_burst = config.message_burst;
        if config.password.is_some() {
            server.security = SecurityProfile::BasicAuth;
        }
        #[cfg(feature = "tls")]
        let backend_tls = tls::backends(&config)?;
        #[cfg(feature = "tls")]
        if let Some(tls) = tls::server(&config)? {
            server.tls = Some(tls);
            server.security = if config.client_ca.is_some() {
                SecurityProfile::MutualTls
            } else {
                SecurityProfile::TlsBasicAuth
            };
        }
        #[cfg(not(feature = "tls"))]
        if config.certificate.is_some()
            || config.backends.iter().any(|b| b.url.starts_with("wss://"))
        {
            return Err(StartError::Config(ConfigError(
                "TLS needs the router built with its `tls` feature".to_owned(),
            )));
        }
        let shared = Arc::new(Shared {
            backends: config.backends.iter().cloned().map(Arc::new).collect(),
            tap: self.tap,
            stations: Mutex::new(HashMap::new()),
            acceptor: OnceLock::new(),
            #[cfg(feature = "tls")]
            backend_tls,
            config,
        });
        server.observer = Some(shared.observer("station"));
        let mut handlers = Handlers::new();
        let calls = shared.clone();
        handlers.fallback(move |connection, request| {
            station::station_call(calls.clone(), connection, request)
        });
        let password = shared.config.password.clone();
        let connected = shared.clone();
        let running = Server::bind(shared.config.listen, server, handlers)
            .await?
            .on_handshake(move |handshake| {
                let known = password
                    .as_deref()
                    .is_none_or(|password| handshake.password_is(password));
                async move {
                    if known {
                        Ok(())
                    } else {
                        Err(ocpp_rpc_tokio::Refusal::unauthorized())
                    }
                }
            })
            .on_connection(move |connection| {
                connected.register(&connection);
            })
            .start()?;
        let _ = shared.acceptor.set(running.acceptor().clone());
        Ok(RunningRouter { running, shared })
    }
}

/// Why a router did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listener could not be bound.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// A router serving stations.
pub struct RunningRouter {
    running: RunningServer,
    shared: Arc<Shared>,
}

impl RunningRouter {
    /// Where stations connect.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.running.local_addr()
    }

    /// How many stations are connected.
    pub fn stations(&self) -> usize {
        lock(&self.shared.stations).len()
    }

    /// Closes the stations' connections (waiting at most `grace` for answers under way) and
    /// every backend connection. Undelivered transaction messages stay in the store.
    pub async fn shutdown(self, grace: Duration) {
        self.running.shutdown(grace).await;
        let stations: Vec<Arc<Station>> = lock(&self.shared.stations)
            .drain()
            .map(|(_, s)| s)
            .collect();
        for station in stations {
            station.stop().await;
        }
    }
}

/// What the router's tasks share.
pub(crate) struct Shared {
    pub(crate) config: RouterConfig,
    pub(crate) backends: Vec<Arc<BackendConfig>>,
    tap: Option<Tap>,
    stations: Mutex<HashMap<String, Arc<Station>>>,
    /// The stations' server, which knows each identity's current connection (set once it
    /// runs).
    acceptor: OnceLock<Acceptor>,
    #[cfg(feature = "tls")]
    pub(crate) backend_tls: HashMap<String, Arc<ocpp_rpc_tokio::rustls::ClientConfig>>,
}

impl Shared {
    /// The station whose call came on `connection`.
    ///
    /// A call may come before the server's connection hook has
    /// [`register`](Self::register)ed its connection, and a late one on a connection that a
    /// newer one of the same identity replaced. Only the connection the server holds for the
    /// identity takes its station's place, so an older one never takes it back; a call on
    /// another is served by the station as it is. `None`: the call came on a replaced
    /// connection of a station that speaks another version now, or is gone.
    pub(crate) fn for_call(self: &Arc<Self>, connection: &Connection) -> Option<Arc<Station>> {
        let current = !connection.is_closed()
            && self.acceptor.get().is_none_or(|acceptor| {
                acceptor
                    .station(connection.identity())
                    .is_none_or(|held| held.same(connection))
            });
        if current {
            return Some(self.register(connection));
        }
        let stations = lock(&self.stations);
        match stations.get(connection.identity()) {
            Some(known) if known.version == connection.version() => Some(known.clone()),
            Some(_) => None,
            None if connection.is_closed() => None,
            // Open, and not yet the server's (its first call raced the server's registry):
            // nothing to take the place of.
            None => {
                drop(stations);
                Some(self.register(connection))
            }
        }
    }

    /// The station on `connection`: the one known for its identity (a reconnection keeps
    /// the backends' connections and queues), or a new one. When the connection closes and
    /// no newer one replaced it, the station's backend connections close too.
    pub(crate) fn register(self: &Arc<Self>, connection: &Connection) -> Arc<Station> {
        let identity = connection.identity();
        let mut stations = lock(&self.stations);
        if let Some(station) = stations.get(identity) {
            if station.version == connection.version() {
                let mut current = lock(&station.connection);
                if !current.same(connection) {
                    *current = connection.clone();
                    drop(current);
                    self.watch(station.clone(), connection.clone());
                }
                return station.clone();
            }
        }
        let station = Station::start(self, connection.clone());
        if let Some(old) = stations.insert(identity.to_owned(), station.clone()) {
            tokio::spawn(async move { old.stop().await });
        }
        self.watch(station.clone(), connection.clone());
        station
    }

    /// Forgets `station` when `connection` closes, unless another connection replaced it.
    fn watch(self: &Arc<Self>, station: Arc<Station>, connection: Connection) {
        let shared = Arc::downgrade(self);
        tokio::spawn(async move {
            connection.closed().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let still_current = lock(&station.connection).same(&connection);
            if !still_current {
                return;
            }
            let removed = {
                let mut stations = lock(&shared.stations);
                match stations.get(&station.identity) {
                    Some(known) if Arc::ptr_eq(known, &station) => {
                        stations.remove(&station.identity)
                    }
                    _ => None,
                }
            };
            if let Some(station) = removed {
                station.stop().await;
            }
        });
    }

    /// The observer of the connections to `peer` (`"station"` or a backend's name): every
    /// frame to `tracing` at debug level and to the tap.
    pub(crate) fn observer(&self, peer: &str) -> FrameObserver {
        let tap = self.tap.clone();
        let peer = peer.to_owned();
        Arc::new(move |connection: &Connection, direction, frame: &str| {
            let station = connection.identity();
            tracing::debug!(station, peer = %peer, ?direction, frame);
            if let Some(tap) = &tap {
                tap(&Hop {
                    station,
                    peer: &peer,
                    direction,
                    frame,
                });
            }
        })
    }
}

/// Locks `mutex`; a panic elsewhere while it was held leaves data that is still whole here
/// (every change under these locks is one assignment or one collection operation).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(feature = "tls")]
mod tls;
