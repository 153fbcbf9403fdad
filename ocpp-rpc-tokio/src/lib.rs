#![doc = include_str!("../README.md")]
//!
//! # How it is built
//! A thin layer over the sans-I/O [`Session`](ocpp_rpc::Session) of `ocpp-rs-rpc`: each
//! connection is one task that owns the socket and the session; a [`Connection`] handle calls
//! the peer, and [`Handlers`] answer it, each call in a task of its own. The OCPP rules of the
//! handshake (identity, subprotocol, Basic auth, back-off) are the core's
//! [`handshake`](ocpp_rpc::handshake) module, shared with the embedded adapter. The HTTP types of
//! [`Acceptor::upgrade`] are the `http` crate's, which hyper, axum and tower share.
//!
//! # What the server checks, and where
//! In this order, each before the WebSocket upgrade completes, so a refused station never
//! reaches an OCPP session:
//!
//! | check | where | refusal |
//! |---|---|---|
//! | handshakes in progress ([`Limits::max_handshakes`]) | at TCP accept | `503` (plain) or closed (TLS) |
//! | TLS, and for profile 3 a client certificate chain the rustls verifier accepts | [`ServerConfig::tls`] | TLS alert |
//! | the whole handshake within [`ServerConfig::handshake_timeout`] (TLS, request, hook) | accept loop | closed, or `503` when the hook overruns |
//! | a credential check configured for the profile (a hook for profiles 1 and 2) | [`Server::start`]; [`Acceptor::upgrade`] | start fails; `503` |
//! | total connections, connections per address ([`Limits`]) | [`Acceptor::upgrade`] | `503`, `429` |
//! | the identity: last path segment, percent-decoded once, `identifierString` without `:`, at most 48 characters, no empty segment, under [`ServerConfig::path_prefix`] if set | [`ocpp_rpc::handshake::identity_from_path`] | `400` with the reason, `404` outside the prefix |
//! | profiles 1 and 2: `Authorization: Basic` whose user is the identity, a password of the version's format | [`ocpp_rpc::handshake`] | `401` |
//! | profile 3: the certificate's subject commonName is the identity (A00.FR.405) | [`ServerConfig::bind_certificate_to_identity`] | `401` |
//! | a connected identity connecting again, if refused | [`ServerConfig::duplicate_identity`] | `409` |
//! | the application's decision: is the password right (compare with [`Handshake::password_is`]), is the station known; it runs whatever the subprotocol outcome | [`Server::on_handshake`] | the hook's [`Refusal`] |
//! | a subprotocol in common | [`ocpp_rpc::handshake::choose_subprotocol`] | upgraded without one, then closed (OCPP-J 3.1.2) |
//!
//! After the upgrade: the first OCPP message within [`Limits::first_message_timeout`], messages
//! within [`ServerConfig::max_message_size`] (else close 1009) and UTF-8 (else 1007), reading
//! paced by the read budget ([`Limits::messages_per_second`], [`Limits::bytes_per_second`]),
//! pings and [`ServerConfig::idle_timeout`], every write within
//! [`ServerConfig::write_timeout`], and everything the session checks (see `ocpp-rs-rpc`).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod client;
mod connection;
mod handlers;
mod limits;
#[cfg(unix)]
mod open_files;
#[cfg(feature = "tls")]
pub mod pem;
pub mod raw;
mod registry;
mod server;
#[cfg(feature = "station")]
mod station;

pub use client::{Client, ClientConfig, ConnectError, connect};
pub use connection::{Connection, ConnectionEvent, Direction, EventObserver, FrameObserver};
pub use handlers::Handlers;
pub use limits::Limits;
#[cfg(unix)]
pub use open_files::raise_open_file_limit;
pub use registry::DuplicateIdentity;
pub use server::{
    Acceptor, Handshake, Refusal, RunningServer, SecurityProfile, Server, ServerConfig,
};
#[cfg(feature = "station")]
#[cfg_attr(docsrs, doc(cfg(feature = "station")))]
pub use station::{RunnerError, RunnerEvent, StationHandle, StationInput, StationRunner, Stopped};

/// The core's types that this crate's API uses, so one dependency suffices.
pub use ocpp_rpc::{
    CallFailure, Config, ErrorCode, Leniency, RpcError, SubmitError, handshake::IdentityError,
    handshake::MAX_IDENTITY_CHARS, handshake::RetryBackOff,
};

/// rustls, as the adapter uses it (to build [`ServerConfig::tls`] and [`ClientConfig::tls`]).
#[cfg(feature = "tls")]
pub use tokio_rustls::rustls;

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
