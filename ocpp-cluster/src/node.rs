//! [`Node`]: one CSMS process of the cluster. It keeps the presence of the stations connected
//! to it, answers calls routed to them, closes a station that connected again elsewhere, and
//! hands the calls of some actions to workers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use async_nats::jetstream::kv::{CreateErrorKind, UpdateErrorKind};
use async_nats::{HeaderMap, Message};
use bytes::Bytes;
use futures_util::StreamExt;
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse, ErrorCode, RpcError};
use ocpp_rpc_tokio::{Connection, DuplicateIdentity, Handlers, Refusal, Server};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::wire::{self, Addressed, Outcome};
use crate::{CallError, Cluster, ClusterError, key, nats};

/// What a node is called and how it behaves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NodeConfig {
    /// The node's name, unique in the cluster (letters, digits, `-`, `_`).
    pub name: String,
    /// Station calls of these actions are handed to workers ([`Worker`](crate::Worker))
    /// through the cluster's stream instead of the node's handlers.
    pub handoff: Vec<AnyAction>,
    /// What happens when a station connected to one node connects to another: the same
    /// choice as the server's [`ServerConfig::duplicate_identity`](ocpp_rpc_tokio::ServerConfig),
    /// made cluster-wide. Give both the same.
    pub duplicate_identity: DuplicateIdentity,
}

impl NodeConfig {
    /// A node called `name`, handing nothing off, replacing older connections.
    pub fn new(name: impl Into<String>) -> Result<NodeConfig, ClusterError> {
        let name = name.into();
        if !key::is_token(&name) {
            return Err(ClusterError::InvalidName { what: "node", name });
        }
        Ok(NodeConfig {
            name,
            handoff: Vec::new(),
            duplicate_identity: DuplicateIdentity::default(),
        })
    }

    /// Hands the calls of `actions` to workers.
    pub fn handoff(mut self, actions: impl IntoIterator<Item = AnyAction>) -> NodeConfig {
        self.handoff.extend(actions);
        self
    }
}

/// A presence entry's value: the holder and the connection's session, `NODE SESSION`.
pub(crate) fn parse_presence(value: &[u8]) -> Option<(&str, &str)> {
    std::str::from_utf8(value).ok()?.split_once(' ')
}

/// A connection this node holds.
struct Held {
    connection: Connection,
    /// Names this connection in the presence bucket (another connection of the same station,
    /// here or elsewhere, has another).
    session: String,
    /// The presence entry's revision as this node last wrote it; `None` while the first write
    /// is under way (the refresh leaves the entry alone until then).
    revision: Option<u64>,
}

/// One CSMS node of a cluster. Dropping the last handle stops its NATS services; the
/// presence entries of its stations then expire (close the server first to remove them at
/// once). Cloning is cheap.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    cluster: Cluster,
    config: NodeConfig,
    /// Makes session names unique across restarts of a node of the same name.
    epoch: u64,
    sessions: AtomicU64,
    held: Mutex<HashMap<String, Held>>,
    /// Handed-off calls waiting for a worker's answer, by call number.
    pending: Mutex<HashMap<u64, oneshot::Sender<Outcome>>>,
    calls: AtomicU64,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.inner.config.name)
            .field("stations", &lock(&self.inner.held).len())
            .finish_non_exhaustive()
    }
}

impl Node {
    /// Joins the cluster as `config.name`: answers calls routed to it and keeps its
    /// stations' presence fresh from now on. Attach it to a server with [`Node::attach`] (or
    /// call [`Node::connected`] from a connection hook of your own) and give the server
    /// [`Node::handlers`].
    pub async fn join(cluster: &Cluster, config: NodeConfig) -> Result<Node, ClusterError> {
        if !key::is_token(&config.name) {
            return Err(ClusterError::InvalidName {
                what: "node",
                name: config.name,
            });
        }
        let subject = |what| cluster.config.node_subject(&config.name, what);
        let calls = cluster
            .client
            .subscribe(subject("call"))
            .await
            .map_err(nats)?;
        let evictions = cluster
            .client
            .subscribe(subject("evict"))
            .await
            .map_err(nats)?;
        let answers = cluster
            .client
            .subscribe(subject("answer"))
            .await
            .map_err(nats)?;
        let epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let inner = Arc::new(Inner {
            cluster: cluster.clone(),
            config,
            epoch,
            sessions: AtomicU64::new(0),
            held: Mutex::default(),
            pending: Mutex::default(),
            calls: AtomicU64::new(0),
            tasks: Mutex::default(),
        });
        // The services hold the node weakly: dropping the last `Node` ends them.
        let weak = Arc::downgrade(&inner);
        let tasks = vec![
            tokio::spawn(serve(calls, weak.clone(), |node, message| {
                tokio::spawn(async move { node.answer_routed_call(message).await });
            })),
            tokio::spawn(serve(evictions, weak.clone(), |node, message| {
                tokio::spawn(async move { node.evict(message).await });
            })),
            tokio::spawn(serve(answers, weak.clone(), |node, message| {
                node.worker_answered(&message);
            })),
            tokio::spawn(refresh(weak)),
        ];
        *lock(&inner.tasks) = tasks;
        Ok(Node { inner })
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.inner.config.name
    }

    /// The cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.inner.cluster
    }

    /// How many stations this node holds.
    pub fn stations(&self) -> usize {
        lock(&self.inner.held).len()
    }

    /// `handlers` with the node's handlers of the handed-off actions
    /// ([`NodeConfig::handoff`]) put in.
    pub fn handlers(&self, mut handlers: Handlers) -> Handlers {
        for &action in &self.inner.config.handoff {
            let inner = Arc::downgrade(&self.inner);
            handlers.on_action(action, move |connection, request| {
                let inner = inner.upgrade();
                async move {
                    match inner {
                        Some(inner) => inner.hand_off(&connection, request).await,
                        None => Err(internal("the node has stopped")),
                    }
                }
            });
        }
        handlers
    }

    /// `server` with the node's hooks: every new connection is registered
    /// ([`Node::connected`]); under [`DuplicateIdentity::RefuseNew`] a station another node
    /// holds is refused (409) in the handshake ([`Node::admit`]). A server that needs hooks of
    /// its own calls those two from them instead.
    pub fn attach(&self, server: Server) -> Server {
        let node = self.clone();
        let server = server.on_connection(move |connection| node.connected(connection));
        if self.inner.config.duplicate_identity == DuplicateIdentity::RefuseNew {
            let node = self.clone();
            server.on_handshake(move |handshake| {
                let node = node.clone();
                async move { node.admit(&handshake.identity).await }
            })
        } else {
            server
        }
    }

    /// Under [`DuplicateIdentity::RefuseNew`], refuses (409) a station that another node
    /// holds; admits every station otherwise (and when NATS cannot tell).
    pub async fn admit(&self, identity: &str) -> Result<(), Refusal> {
        if self.inner.config.duplicate_identity != DuplicateIdentity::RefuseNew {
            return Ok(());
        }
        match self.inner.cluster.presence_entry(identity).await {
            Ok(Some((node, _, _))) if node != self.name() => Err(Refusal::new(
                409,
                format!("{identity} is connected to node {node}"),
            )),
            _ => Ok(()),
        }
    }

    /// Registers a new connection: writes its presence, closes an older connection of the
    /// same station on another node (or, under `RefuseNew`, this one if another node holds
    /// the station), and removes the presence when it closes.
    pub fn connected(&self, connection: Connection) {
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.hold(connection).await });
    }

    /// Calls station `identity`: directly if this node holds it, else through the cluster
    /// ([`Cluster::call_any`]).
    pub async fn call_any(
        &self,
        identity: &str,
        request: AnyRequest,
    ) -> Result<AnyResponse, CallError> {
        match self.inner.connection(identity) {
            Some(connection) => connection
                .call_any(request)
                .await
                .map_err(|failure| CallError::from_outcome(Outcome::of_failure(failure), identity)),
            None => self.inner.cluster.call_any(identity, request).await,
        }
    }
}

/// Hands each message of `subscriber` to `handle` while the node lives.
async fn serve(
    mut subscriber: async_nats::Subscriber,
    node: std::sync::Weak<Inner>,
    handle: impl Fn(Arc<Inner>, Message),
) {
    while let Some(message) = subscriber.next().await {
        let Some(node) = node.upgrade() else { return };
        handle(node, message);
    }
}

/// Refreshes the node's presence entries three times per TTL while the node lives.
async fn refresh(node: std::sync::Weak<Inner>) {
    let Some(period) = node.upgrade().map(|n| n.cluster.config.presence_ttl / 3) else {
        return;
    };
    let mut ticks = tokio::time::interval(period.max(Duration::from_millis(100)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(node) = node.upgrade() else { return };
        node.refresh_all().await;
    }
}

fn internal(why: impl Into<String>) -> RpcError {
    RpcError::new(ErrorCode::InternalError, why)
}

impl Inner {
    fn name(&self) -> &str {
        &self.config.name
    }

    /// The open connection of `identity` held here.
    fn connection(&self, identity: &str) -> Option<Connection> {
        lock(&self.held)
            .get(&key::presence_key(identity))
            .map(|held| held.connection.clone())
            .filter(|connection| !connection.is_closed())
    }

    fn presence_value(&self, session: &str) -> Bytes {
        Bytes::from(format!("{} {session}", self.name()))
    }

    async fn hold(self: Arc<Self>, connection: Connection) {
        let identity = connection.identity().to_owned();
        let key = key::presence_key(&identity);
        let session = format!(
            "{}-{:x}-{}",
            self.name(),
            self.epoch,
            self.sessions.fetch_add(1, Ordering::Relaxed)
        );
        let value = self.presence_value(&session);
        let presence = &self.cluster.presence;
        let previous = presence.entry(&key).await.ok().flatten();
        // Held before the presence is written: a call routed here as soon as another process
        // sees the entry finds the connection.
        lock(&self.held).insert(
            key.clone(),
            Held {
                connection: connection.clone(),
                session: session.clone(),
                revision: None,
            },
        );
        let revision = match self.config.duplicate_identity {
            DuplicateIdentity::RefuseNew => match presence.create(&key, value.clone()).await {
                Ok(revision) => revision,
                // The entry of this station's previous connection here, not removed yet: the
                // server has admitted this one, so the old one is closed.
                Err(error)
                    if error.kind() == CreateErrorKind::AlreadyExists
                        && previous
                            .as_ref()
                            .and_then(|e| parse_presence(&e.value))
                            .is_some_and(|(node, _)| node == self.name()) =>
                {
                    presence.put(&key, value).await.unwrap_or(0)
                }
                Err(error) if error.kind() == CreateErrorKind::AlreadyExists => {
                    // Another node admitted the station at the same time, or holds it.
                    tracing::info!(station = %identity, "connected to another node: closing this connection");
                    self.forget(&key, &session);
                    connection.close_replaced().await;
                    return;
                }
                Err(error) => {
                    tracing::warn!(station = %identity, %error, "presence not written");
                    0
                }
            },
            _ => match presence.put(&key, value).await {
                Ok(revision) => revision,
                Err(error) => {
                    tracing::warn!(station = %identity, %error, "presence not written");
                    0
                }
            },
        };
        self.written(&key, &session, revision);
        if let Some((node, old)) = previous.as_ref().and_then(|e| parse_presence(&e.value)) {
            if node != self.name() {
                // Tell the older holder; if it misses this, its next refresh finds the entry
                // changed and closes the connection then.
                let mut headers = HeaderMap::new();
                headers.insert(wire::STATION, key::escape(&identity).as_str());
                headers.insert(wire::SESSION, old);
                let subject = self.cluster.config.node_subject(node, "evict");
                let _ = self
                    .cluster
                    .client
                    .publish_with_headers(subject, headers, Bytes::new())
                    .await;
            }
        }
        connection.closed().await;
        self.release(&key, &session).await;
    }

    /// Notes the presence entry's `revision` this node wrote for connection `session` of `key`,
    /// if that connection is still held.
    fn written(&self, key: &str, session: &str, revision: u64) {
        if let Some(held) = lock(&self.held).get_mut(key) {
            if held.session == session {
                held.revision = Some(revision);
            }
        }
    }

    /// Removes the connection of `key` from those held, if it is still connection `session`
    /// (a newer connection of the station here has another).
    fn forget(&self, key: &str, session: &str) -> Option<Held> {
        let mut held = lock(&self.held);
        match held.get(key) {
            Some(h) if h.session == session => held.remove(key),
            _ => None,
        }
    }

    /// Forgets a closed connection and removes its presence entry, unless a newer connection
    /// of the station has written it since.
    async fn release(&self, key: &str, session: &str) {
        if let Some(revision) = self.forget(key, session).and_then(|h| h.revision) {
            let _ = self
                .cluster
                .presence
                .delete_expect_revision(key, Some(revision))
                .await;
        }
    }

    /// Rewrites every presence entry of this node, each only if it is still this node's:
    /// one that another node has written since means the station connected there, and its
    /// connection here is closed.
    async fn refresh_all(&self) {
        let held: Vec<(String, String, u64)> = lock(&self.held)
            .iter()
            .filter_map(|(key, h)| Some((key.clone(), h.session.clone(), h.revision?)))
            .collect();
        futures_util::stream::iter(held)
            .for_each_concurrent(64, |(key, session, revision)| async move {
                let presence = &self.cluster.presence;
                let value = self.presence_value(&session);
                let written = match presence.update(&key, value.clone(), revision).await {
                    Ok(revision) => Some(revision),
                    Err(error) if error.kind() == UpdateErrorKind::WrongLastRevision => {
                        match presence.entry(&key).await {
                            // Expired (this node was cut off for a TTL): claim it again.
                            Ok(None) => presence.put(&key, value).await.ok(),
                            Ok(Some(entry)) => match parse_presence(&entry.value) {
                                Some((_, s)) if s == session => Some(entry.revision),
                                _ => {
                                    self.replaced(&key, &session).await;
                                    None
                                }
                            },
                            Err(_) => None,
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%key, %error, "presence not refreshed");
                        None
                    }
                };
                if let Some(revision) = written {
                    self.written(&key, &session, revision);
                }
            })
            .await;
    }

    /// The station of `key` connected elsewhere: closes its connection `session` here.
    async fn replaced(&self, key: &str, session: &str) {
        if let Some(connection) = self.forget(key, session).map(|h| h.connection) {
            tracing::info!(station = %connection.identity(), "connected to another node: closing this connection");
            connection.close_replaced().await;
        }
    }

    /// Another node took a station over (`PREFIX.node.NAME.evict`).
    async fn evict(&self, message: Message) {
        let headers = message.headers.as_ref();
        let (Ok(station), Ok(session)) = (
            wire::header(headers, wire::STATION),
            wire::header(headers, wire::SESSION),
        ) else {
            return;
        };
        if let Some(identity) = key::unescape(station) {
            self.replaced(&key::presence_key(&identity), session).await;
        }
    }

    /// Answers a call routed here (`PREFIX.node.NAME.call`) with its outcome.
    async fn answer_routed_call(&self, message: Message) {
        let Some(reply) = message.reply.clone() else {
            return;
        };
        let outcome = match Addressed::from_headers(message.headers.as_ref()) {
            Ok(addressed) => self.call_here(&addressed, &message.payload).await,
            Err(why) => Outcome::Failed(format!("unreadable routed call: {why}")),
        };
        let (headers, payload) = outcome.encode(HeaderMap::new());
        if let Err(error) = self
            .cluster
            .client
            .publish_with_headers(reply, headers, payload)
            .await
        {
            tracing::warn!(%error, "routed call's answer not sent");
        }
    }

    async fn call_here(&self, addressed: &Addressed, payload: &[u8]) -> Outcome {
        let Some(connection) = self.connection(&addressed.identity) else {
            return Outcome::NotConnected;
        };
        let request = std::str::from_utf8(payload)
            .map_err(|e| e.to_string())
            .and_then(|text| AnyRequest::decode(addressed.action, text).map_err(|e| e.to_string()));
        let request = match request {
            Ok(request) => request,
            Err(why) => return Outcome::Failed(format!("invalid request: {why}")),
        };
        match connection.call_any(request).await {
            Ok(response) => match serde_json::to_vec(&response) {
                Ok(json) => Outcome::Result(json.into()),
                Err(error) => Outcome::Failed(error.to_string()),
            },
            Err(failure) => Outcome::of_failure(failure),
        }
    }

    /// Stores a station call in the stream, waits for a worker's answer and returns it.
    async fn hand_off(
        &self,
        connection: &Connection,
        request: AnyRequest,
    ) -> Result<AnyResponse, RpcError> {
        let action = request.action();
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        let (answered, answer) = oneshot::channel();
        lock(&self.pending).insert(call, answered);
        // Whatever happens below, the call stops waiting here.
        struct Forget<'a>(&'a Inner, u64);
        impl Drop for Forget<'_> {
            fn drop(&mut self) {
                lock(&self.0.pending).remove(&self.1);
            }
        }
        let _forget = Forget(self, call);
        let mut headers = Addressed {
            identity: connection.identity().to_owned(),
            action,
        }
        .headers();
        headers.insert(wire::NODE, self.name());
        // The epoch keeps a late answer to an earlier life of this node from being taken for
        // the answer to a call of this one.
        headers.insert(wire::CALL, format!("{:x}-{call}", self.epoch).as_str());
        let payload = serde_json::to_vec(&request).map_err(|e| internal(e.to_string()))?;
        let subject = self.cluster.config.calls_subject(action);
        let stored = async {
            self.cluster
                .jetstream
                .publish_with_headers(subject, headers, payload.into())
                .await
                .map_err(|e| e.to_string())?
                .await
                .map_err(|e| e.to_string())
        };
        if let Err(why) = stored.await {
            tracing::warn!(station = %connection.identity(), %action, %why, "station call not stored");
            return Err(internal("not stored; send it again"));
        }
        match tokio::time::timeout(self.cluster.config.handoff_timeout, answer).await {
            Ok(Ok(Outcome::Result(json))) => std::str::from_utf8(&json)
                .map_err(|e| e.to_string())
                .and_then(|text| AnyResponse::decode(action, text).map_err(|e| e.to_string()))
                .map_err(|why| {
                    tracing::warn!(%action, %why, "a worker's response is invalid");
                    internal("invalid response from the worker")
                }),
            Ok(Ok(Outcome::CallError(error))) => Err(error),
            Ok(Ok(other)) => Err(internal(format!("worker: {other:?}"))),
            Ok(Err(_)) | Err(_) => Err(internal("stored, but no worker answered in time")),
        }
    }

    /// A worker's answer to a handed-off call (`PREFIX.node.NAME.answer`).
    fn worker_answered(&self, message: &Message) {
        let headers = message.headers.as_ref();
        let Some(call) = wire::header(headers, wire::CALL)
            .ok()
            .and_then(|c| c.split_once('-'))
            .filter(|(epoch, _)| u64::from_str_radix(epoch, 16) == Ok(self.epoch))
            .and_then(|(_, n)| n.parse::<u64>().ok())
        else {
            return;
        };
        let Ok(outcome) = Outcome::decode(headers, &message.payload) else {
            return;
        };
        if let Some(waiting) = lock(&self.pending).remove(&call) {
            let _ = waiting.send(outcome);
        }
    }
}
