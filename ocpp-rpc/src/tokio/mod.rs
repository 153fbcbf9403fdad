//! The tokio adapter: OCPP-J over WebSocket for a CSMS ([`Server`]) and a charging station
//! ([`connect`], [`Client`]), with a typed async API on both sides.
//!
//! A thin layer over the sans-I/O [`Session`](crate::Session): each connection is one task
//! that owns the socket and the session; a [`Connection`] handle calls the peer, and
//! [`Handlers`] answer it, each call in a task of its own. WebSockets are [`yawc`]'s, over
//! hyper's HTTP/1.1, with permessage-deflate (RFC 7692), which OCPP 2.0.1 and 2.1 require of a
//! CSMS; TLS (feature `tls`) is rustls.
//!
//! ```no_run
//! use ocpp_rpc::tokio::{Handlers, Server, ServerConfig};
//! use ocpp_types::{DateTime, v201};
//!
//! # async fn run() -> std::io::Result<()> {
//! let mut handlers = Handlers::new();
//! handlers.on(|_, _: v201::HeartbeatRequest| async move {
//!     Ok(v201::HeartbeatResponse::new(DateTime::now()))
//! });
//! let server = Server::bind("0.0.0.0:9000", ServerConfig::default(), handlers)
//!     .await?
//!     .on_connection(|station| {
//!         tokio::spawn(async move {
//!             let reset = v201::ResetRequest::new(v201::ResetEnumType::OnIdle);
//!             let _ = station.call(reset).await;
//!         });
//!     })
//!     .start()?;
//! # let _ = server; Ok(()) }
//! ```

mod client;
mod connection;
mod handlers;
mod server;

pub use client::{Backoff, Client, ClientConfig, ConnectError, connect};
pub use connection::{CallError, Connection, Direction, FrameObserver};
pub use handlers::Handlers;
pub use server::{
    Handshake, MAX_IDENTITY_CHARS, Refusal, RunningServer, SecurityProfile, Server, ServerConfig,
};

/// rustls, as the adapter uses it (to build [`ServerConfig::tls`] and [`ClientConfig::tls`]).
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;

/// The HTTP status codes for [`Refusal`].
pub use hyper::StatusCode;

use crate::session::Config;

/// The settings of each connection's [`Session`](crate::Session) that an application chooses
/// (the version and role come from the handshake).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionSettings {
    /// How long to wait for the answer to a call, in milliseconds (default 30 s).
    pub call_timeout_ms: u64,
    /// How many calls may await their answer at once (default 1, as 2.x requires).
    pub max_in_flight: usize,
    /// How many bad messages in a row close the connection (default 10; 0 never).
    pub max_bad_messages: u32,
    /// Tolerance for peers that bend the specification (default strict).
    pub leniency: crate::Leniency,
}

impl Default for SessionSettings {
    fn default() -> SessionSettings {
        let defaults = Config::new(ocpp_types::OcppVersion::V201, crate::Role::Csms);
        SessionSettings {
            call_timeout_ms: defaults.call_timeout_ms,
            max_in_flight: defaults.max_in_flight,
            max_bad_messages: defaults.max_bad_messages,
            leniency: defaults.leniency,
        }
    }
}

impl SessionSettings {
    pub(crate) fn apply(&self, config: &mut Config) {
        config.call_timeout_ms = self.call_timeout_ms;
        config.max_in_flight = self.max_in_flight;
        config.max_bad_messages = self.max_bad_messages;
        config.leniency = self.leniency.clone();
    }
}

/// The WebSocket settings of every connection: messages up to `max_message_size` bytes (also
/// after inflating), small buffers (OCPP frames are small; buffers grow for the rare big one),
/// and permessage-deflate without context takeover on either side, its compressors shared
/// through one process-wide pool, so an idle connection holds no compression state (what
/// matters with tens of thousands of stations on one server). Frames under 256 bytes go
/// uncompressed: deflating them costs more than it saves.
fn websocket_options(max_message_size: usize) -> yawc::Options {
    static POOL: std::sync::OnceLock<yawc::DeflatePool> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| yawc::DeflatePool::new(64)).clone();
    yawc::Options::default()
        .with_max_payload_read(max_message_size)
        .with_max_read_buffer(max_message_size)
        .with_read_buffer_capacity(1024)
        .with_write_buffer_capacity(1024)
        .with_low_latency_compression()
        .server_no_context_takeover()
        .client_no_context_takeover()
        .with_deflate_pool(pool)
        .with_compression_threshold(256)
}
