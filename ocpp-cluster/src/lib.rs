//! A CSMS on any number of nodes, stations connected to any of them, joined by
//! [NATS](https://nats.io): the cluster layer over [`ocpp_rpc_tokio`].
//!
//! - **Presence** ([`Node`]): which node holds which station, in a NATS key-value bucket whose
//!   entries expire unless their holder keeps refreshing them. A station that connects to a
//!   second node is closed on the first (`DuplicateIdentity::ReplaceOld`, cluster-wide), or
//!   refused on the second (`RefuseNew`).
//! - **Calls to stations from anywhere** ([`Cluster::call`]): from a node or from an application
//!   process holding no connections, routed by NATS request-reply to the holder, where the
//!   station's session applies its rules (one call in flight, its call timeout). A station no
//!   node holds fails at once ([`CallError::NotConnected`]), one whose node is gone as soon as
//!   NATS knows it ([`CallError::Unreachable`]). A handle remembers where it last found each
//!   station and reads the bucket again only when that node no longer holds it.
//! - **Station calls handed to workers** ([`NodeConfig::handoff`], [`Worker`]): a call of a
//!   handed-off action is stored in a JetStream stream, consumed by worker processes, and
//!   answered to the station with the worker's answer. It is answered only after JetStream has
//!   stored it, and a worker acknowledges it only after answering, so a node or worker that
//!   dies loses nothing the station was told was accepted (a worker that dies before it
//!   acknowledges has the call delivered again to another: at least once).
//! - **Node failure**: the node's presence entries expire ([`ClusterConfig::presence_ttl`]), its
//!   stations reconnect to other nodes, and calls routed to it fail within their timeout.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ocpp_cluster::{Cluster, ClusterConfig, Node, NodeConfig};
//! use ocpp_rpc_tokio::{Handlers, Server, ServerConfig};
//! use ocpp_types::v201;
//!
//! let cluster = Cluster::connect("nats://127.0.0.1:4222", ClusterConfig::default()).await?;
//! let node = Node::join(&cluster, NodeConfig::new("node-1")?).await?;
//! let server = Server::bind("0.0.0.0:9000", ServerConfig::default(), node.handlers(Handlers::new())).await?;
//! let server = node.attach(server).start()?;
//!
//! // From this or any other process on the same NATS:
//! let status = cluster.call("CP-17", v201::ClearCacheRequest::default()).await?.status;
//! # let _ = (server, status); Ok(()) }
//! ```

mod key;
mod node;
#[cfg(feature = "testing")]
pub mod testing;
mod wire;
mod worker;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use async_nats::{Client, RequestErrorKind};
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse, CallFailure, RpcError};
use ocpp_types::{OcppVersion, Request};

pub use node::{Node, NodeConfig};
pub use worker::{Job, Worker};

use crate::wire::{Addressed, Outcome};

/// How a cluster is laid out on NATS; every process of one cluster must use the same.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// Names the cluster's subjects (`PREFIX.node.NODE.call`, `PREFIX.calls.VERSION.ACTION`),
    /// its presence bucket (`PREFIX-presence`) and its stream (`PREFIX-calls`): letters,
    /// digits, `-` and `_`. Default `ocpp`.
    pub prefix: String,
    /// How long a presence entry lives unless its node refreshes it (it does so three times
    /// per period): how long a dead node's stations still look connected. Default 15 s.
    pub presence_ttl: Duration,
    /// How long a routed call waits for the holder's answer. Give it more than the stations'
    /// session call timeout (30 s by default), which the holder applies. Default 35 s.
    pub call_timeout: Duration,
    /// How long a node waits for a worker to answer a handed-off call, after it is stored;
    /// then the station is answered `InternalError` and will send it again, as it does for
    /// any transaction message without an answer. Default 20 s.
    pub handoff_timeout: Duration,
    /// How long the stream keeps station calls (for a replay or an audit). Default 7 days.
    pub stream_max_age: Duration,
    /// How long a worker has to answer a call before it is delivered to another. Default 30 s.
    pub worker_ack_wait: Duration,
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            prefix: String::from("ocpp"),
            presence_ttl: Duration::from_secs(15),
            call_timeout: Duration::from_secs(35),
            handoff_timeout: Duration::from_secs(20),
            stream_max_age: Duration::from_secs(7 * 24 * 3600),
            worker_ack_wait: Duration::from_secs(30),
        }
    }
}

impl ClusterConfig {
    fn presence_bucket(&self) -> String {
        format!("{}-presence", self.prefix)
    }

    fn calls_stream(&self) -> String {
        format!("{}-calls", self.prefix)
    }

    /// A node's subject for `what` (`call`, `evict`, `answer`).
    fn node_subject(&self, node: &str, what: &str) -> String {
        format!("{}.node.{node}.{what}", self.prefix)
    }

    /// Where a station call of `action` is stored.
    fn calls_subject(&self, action: AnyAction) -> String {
        let version = match action.version() {
            OcppVersion::V16 => "v16",
            OcppVersion::V201 => "v201",
            OcppVersion::V21 => "v21",
        };
        format!("{}.calls.{version}.{}", self.prefix, action.as_str())
    }
}

/// The cluster could not be joined or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A prefix or node name that is not one NATS token of letters, digits, `-` and `_`.
    #[error("{what} {name:?} is not a name of letters, digits, - and _")]
    InvalidName {
        /// What was named (`prefix`, `node`).
        what: &'static str,
        /// The name given.
        name: String,
    },
    /// NATS could not be reached.
    #[error("cannot connect to NATS: {0}")]
    Connect(String),
    /// A NATS or JetStream operation failed.
    #[error("NATS: {0}")]
    Nats(String),
    /// A message in the stream is not a station call this library wrote; it was terminated
    /// (never delivered again).
    #[error("unreadable station call in the stream: {0}")]
    BadJob(String),
}

fn nats(error: impl std::fmt::Display) -> ClusterError {
    ClusterError::Nats(error.to_string())
}

/// A call to a station through the cluster failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No node holds the station.
    #[error("station {0:?} is not connected to any node")]
    NotConnected(String),
    /// The node holding the station does not answer: it has died (its presence entry has not
    /// expired yet) or left NATS.
    #[error("node {node} (holding the station) is unreachable: {reason}")]
    Unreachable {
        /// The holder.
        node: String,
        /// What NATS said.
        reason: String,
    },
    /// No answer in time: the station's session timed the call out, or the routed call did
    /// ([`ClusterConfig::call_timeout`]).
    #[error("no answer in time")]
    Timeout,
    /// The station answered with a CALLERROR.
    #[error("CALLERROR {0}")]
    CallError(RpcError),
    /// The call failed otherwise: the connection closed before the answer, the session
    /// refused the request, the station's response broke its schema.
    #[error("the call failed: {0}")]
    Failed(String),
    /// NATS failed (the presence lookup, the request).
    #[error("NATS: {0}")]
    Nats(String),
}

impl CallError {
    fn from_outcome(outcome: Outcome, identity: &str) -> CallError {
        match outcome {
            Outcome::NotConnected => CallError::NotConnected(identity.to_owned()),
            Outcome::Timeout => CallError::Timeout,
            Outcome::CallError(error) => CallError::CallError(error),
            Outcome::Failed(why) => CallError::Failed(why),
            Outcome::Result(_) => CallError::Failed(String::from("a result taken for an error")),
        }
    }
}

impl Outcome {
    /// How a call of the station's session failed, told to another process.
    pub(crate) fn of_failure(failure: CallFailure) -> Outcome {
        match failure {
            CallFailure::CallError(error) => Outcome::CallError(error),
            CallFailure::Timeout => Outcome::Timeout,
            other => Outcome::Failed(other.to_string()),
        }
    }
}

/// A handle on the cluster: its NATS connection, presence bucket and stream. Enough to call
/// any station from a process that holds none; nodes ([`Node`]) and workers ([`Worker`]) are
/// made from it. Cloning is cheap.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    jetstream: jetstream::Context,
    presence: kv::Store,
    config: Arc<ClusterConfig>,
    /// The holder each station had at this handle's last call to it (by presence key): a
    /// call goes there without reading the bucket, and reads it only when that node no longer
    /// holds the station or does not answer.
    routes: Arc<Mutex<HashMap<String, String>>>,
}

/// Routes remembered at most; past it the memory starts over.
const ROUTES: usize = 200_000;

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("prefix", &self.config.prefix)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// Connects to NATS at `url` (`nats://host:4222`, several comma-separated) and opens the
    /// cluster's bucket and stream, creating them if they do not exist (JetStream must be on).
    /// Fails if NATS cannot be reached now; once connected, the client reconnects by itself.
    pub async fn connect(url: &str, config: ClusterConfig) -> Result<Cluster, ClusterError> {
        let client = async_nats::ConnectOptions::new()
            .name("ocpp-rs cluster")
            .connect(url)
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        Cluster::with_client(client, config).await
    }

    /// [`Cluster::connect`] on a NATS connection the application made (credentials, TLS, ...).
    ///
    /// A bucket made earlier with another TTL keeps it, and this handle takes it over (with a
    /// warning): the entries' lifetime is the bucket's, and a node refreshing at a period
    /// meant for another would let its entries lapse.
    pub async fn with_client(
        client: Client,
        mut config: ClusterConfig,
    ) -> Result<Cluster, ClusterError> {
        if !key::is_token(&config.prefix) {
            return Err(ClusterError::InvalidName {
                what: "prefix",
                name: config.prefix,
            });
        }
        let jetstream = jetstream::new(client.clone());
        let bucket = kv::Config {
            bucket: config.presence_bucket(),
            description: String::from("OCPP station presence: identity -> node and session"),
            history: 1,
            max_age: config.presence_ttl,
            ..Default::default()
        };
        let presence = match jetstream.get_key_value(&bucket.bucket).await {
            Ok(store) => store,
            Err(_) => jetstream.create_key_value(bucket).await.map_err(nats)?,
        };
        let ttl = presence.status().await.map_err(nats)?.max_age();
        if ttl != config.presence_ttl {
            tracing::warn!(
                bucket = %config.presence_bucket(),
                ?ttl,
                configured = ?config.presence_ttl,
                "the presence bucket exists with another TTL; using its TTL"
            );
            config.presence_ttl = ttl;
        }
        jetstream
            .get_or_create_stream(stream::Config {
                name: config.calls_stream(),
                description: Some(String::from("OCPP station calls handed to workers")),
                subjects: vec![format!("{}.calls.>", config.prefix)],
                max_age: config.stream_max_age,
                ..Default::default()
            })
            .await
            .map_err(nats)?;
        Ok(Cluster {
            client,
            jetstream,
            presence,
            config: Arc::new(config),
            routes: Arc::default(),
        })
    }

    /// The NATS connection.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The configuration.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// The node holding `identity` (compared without regard to ASCII case), if any.
    pub async fn locate(&self, identity: &str) -> Result<Option<String>, ClusterError> {
        Ok(self
            .presence_entry(identity)
            .await?
            .map(|(node, _session, _revision)| node))
    }

    /// The holder and session of `identity`, and the entry's revision.
    async fn presence_entry(
        &self,
        identity: &str,
    ) -> Result<Option<(String, String, u64)>, ClusterError> {
        let entry = self
            .presence
            .entry(key::presence_key(identity))
            .await
            .map_err(nats)?;
        Ok(entry.and_then(|entry| {
            let (node, session) = node::parse_presence(&entry.value)?;
            Some((node.to_owned(), session.to_owned(), entry.revision))
        }))
    }

    /// Calls station `identity` wherever it is connected and returns its typed response.
    pub async fn call<R: Request + 'static>(
        &self,
        identity: &str,
        request: R,
    ) -> Result<R::Response, CallError> {
        let response = self
            .call_any(identity, AnyRequest::from_message(request))
            .await?;
        response
            .into_message::<R::Response>()
            .map_err(|other| CallError::Failed(format!("the response answers {}", other.action())))
    }

    /// [`Cluster::call`] with a request of any version and action.
    pub async fn call_any(
        &self,
        identity: &str,
        request: AnyRequest,
    ) -> Result<AnyResponse, CallError> {
        let key = key::presence_key(identity);
        let remembered = self.routes().get(&key).cloned();
        if let Some(node) = remembered {
            match self.call_on(&node, identity, request.clone()).await {
                // The station moved or its node is gone: ask the bucket.
                Err(CallError::NotConnected(_) | CallError::Unreachable { .. }) => {
                    self.routes().remove(&key);
                }
                outcome => return outcome,
            }
        }
        let Some((node, _, _)) = self
            .presence_entry(identity)
            .await
            .map_err(|e| CallError::Nats(e.to_string()))?
        else {
            return Err(CallError::NotConnected(identity.to_owned()));
        };
        let outcome = self.call_on(&node, identity, request).await;
        if !matches!(
            outcome,
            Err(CallError::NotConnected(_) | CallError::Unreachable { .. })
        ) {
            let mut routes = self.routes();
            if routes.len() >= ROUTES {
                routes.clear();
            }
            routes.insert(key, node);
        }
        outcome
    }

    fn routes(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Calls `identity` through `node` by NATS request-reply.
    async fn call_on(
        &self,
        node: &str,
        identity: &str,
        request: AnyRequest,
    ) -> Result<AnyResponse, CallError> {
        let action = request.action();
        let headers = Addressed {
            identity: identity.to_owned(),
            action,
        }
        .headers();
        let payload = serde_json::to_vec(&request).map_err(|e| CallError::Failed(e.to_string()))?;
        let request = async_nats::Request::new()
            .headers(headers)
            .payload(payload.into())
            .timeout(Some(self.config.call_timeout));
        let reply = self
            .client
            .send_request(self.config.node_subject(node, "call"), request)
            .await
            .map_err(|error| match error.kind() {
                RequestErrorKind::TimedOut => CallError::Timeout,
                RequestErrorKind::NoResponders => CallError::Unreachable {
                    node: node.to_owned(),
                    reason: error.to_string(),
                },
                _ => CallError::Nats(error.to_string()),
            })?;
        match Outcome::decode(reply.headers.as_ref(), &reply.payload) {
            Ok(Outcome::Result(json)) => {
                let text = std::str::from_utf8(&json)
                    .map_err(|_| CallError::Failed(String::from("the response is not UTF-8")))?;
                AnyResponse::decode(action, text)
                    .map_err(|e| CallError::Failed(format!("invalid response: {e}")))
            }
            Ok(outcome) => Err(CallError::from_outcome(outcome, identity)),
            Err(why) => Err(CallError::Failed(format!(
                "unreadable reply from {node}: {why}"
            ))),
        }
    }
}
