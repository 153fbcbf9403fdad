//! [`Worker`]: takes station calls that nodes handed off from the cluster's stream, and
//! answers them back to the node the station is connected to.

use async_nats::HeaderMap;
use async_nats::jetstream::consumer::{AckPolicy, pull};
use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;
use ocpp_rpc::{AnyRequest, AnyResponse, RpcError};

use crate::wire::{self, Addressed, Outcome};
use crate::{Cluster, ClusterError, nats};

/// A consumer of the station calls handed off by the nodes. Every worker joined with the same
/// consumer name shares one durable JetStream consumer: each call goes to one of them, and to
/// another if it is not acknowledged within [`ClusterConfig::worker_ack_wait`](crate::ClusterConfig).
///
/// ```no_run
/// # async fn run(cluster: ocpp_cluster::Cluster) -> Result<(), ocpp_cluster::ClusterError> {
/// use ocpp_cluster::Worker;
/// use ocpp_types::{AnyResponse, v201};
///
/// let mut worker = Worker::join(&cluster, "transactions").await?;
/// while let Some(job) = worker.next().await {
///     let Ok(job) = job else { continue }; // an unreadable message, already set aside
///     if let Some(event) = job.request().message::<v201::TransactionEventRequest>() {
///         // ... store the event, then:
///         let _ = event;
///         job.answer(AnyResponse::from_message(v201::TransactionEventResponse::default())).await?;
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Worker {
    cluster: Cluster,
    messages: pull::Stream,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").finish_non_exhaustive()
    }
}

impl Worker {
    /// Joins the workers of durable consumer `consumer` (created on first use).
    pub async fn join(cluster: &Cluster, consumer: &str) -> Result<Worker, ClusterError> {
        if !crate::key::is_token(consumer) {
            return Err(ClusterError::InvalidName {
                what: "consumer",
                name: consumer.to_owned(),
            });
        }
        let stream = cluster
            .jetstream
            .get_stream(cluster.config.calls_stream())
            .await
            .map_err(nats)?;
        let consumer = stream
            .get_or_create_consumer(
                consumer,
                pull::Config {
                    durable_name: Some(consumer.to_owned()),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: cluster.config.worker_ack_wait,
                    ..Default::default()
                },
            )
            .await
            .map_err(nats)?;
        let messages = consumer.messages().await.map_err(nats)?;
        Ok(Worker {
            cluster: cluster.clone(),
            messages,
        })
    }

    /// The next station call; `None` when the stream ends. An `Err` is a message that could
    /// not be read (it is terminated, never delivered again) or a NATS failure; the worker
    /// goes on after either.
    pub async fn next(&mut self) -> Option<Result<Job, ClusterError>> {
        let message = match self.messages.next().await? {
            Ok(message) => message,
            Err(error) => return Some(Err(nats(error))),
        };
        Some(match Job::read(&message) {
            Ok((addressed, node, call, request)) => Ok(Job {
                cluster: self.cluster.clone(),
                message,
                identity: addressed.identity,
                node,
                call,
                request,
            }),
            Err(why) => {
                let _ = message.ack_with(AckKind::Term).await;
                Err(ClusterError::BadJob(why))
            }
        })
    }
}

/// One station call to answer: [`Job::answer`] or [`Job::fail`] it once it is handled (stored,
/// say); a job dropped unanswered is delivered again after the ack wait.
pub struct Job {
    cluster: Cluster,
    message: jetstream::Message,
    identity: String,
    node: String,
    call: String,
    request: AnyRequest,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("identity", &self.identity)
            .field("node", &self.node)
            .field("action", &self.request.action())
            .finish_non_exhaustive()
    }
}

impl Job {
    fn read(
        message: &jetstream::Message,
    ) -> Result<(Addressed, String, String, AnyRequest), String> {
        let headers = message.headers.as_ref();
        let addressed = Addressed::from_headers(headers)?;
        let node = wire::header(headers, wire::NODE)?.to_owned();
        let call = wire::header(headers, wire::CALL)?.to_owned();
        let text = std::str::from_utf8(&message.payload).map_err(|e| e.to_string())?;
        let request = AnyRequest::decode(addressed.action, text).map_err(|e| e.to_string())?;
        Ok((addressed, node, call, request))
    }

    /// The station's identity, as it sent it.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The node the station sent the call to.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// The call.
    pub fn request(&self) -> &AnyRequest {
        &self.request
    }

    /// How many times the call has been delivered to a worker (more than 1: a worker took it
    /// before and did not acknowledge it; it may have handled it).
    pub fn deliveries(&self) -> u64 {
        self.message
            .info()
            .map_or(1, |info| u64::try_from(info.delivered).unwrap_or(1))
    }

    /// Answers the station with `response` (through its node) and acknowledges the call.
    pub async fn answer(self, response: AnyResponse) -> Result<(), ClusterError> {
        if response.action() != self.request.action() {
            return Err(ClusterError::BadJob(format!(
                "a {} response to a {} call",
                response.action(),
                self.request.action()
            )));
        }
        let json =
            serde_json::to_vec(&response).map_err(|e| ClusterError::BadJob(e.to_string()))?;
        self.finish(Outcome::Result(json.into())).await
    }

    /// Answers the station with a CALLERROR and acknowledges the call.
    pub async fn fail(self, error: RpcError) -> Result<(), ClusterError> {
        self.finish(Outcome::CallError(error)).await
    }

    async fn finish(self, outcome: Outcome) -> Result<(), ClusterError> {
        let mut headers = HeaderMap::new();
        headers.insert(wire::CALL, self.call.as_str());
        let (headers, payload) = outcome.encode(headers);
        let subject = self.cluster.config.node_subject(&self.node, "answer");
        self.cluster
            .client
            .publish_with_headers(subject, headers, payload)
            .await
            .map_err(nats)?;
        // The answer leaves before the acknowledgement (one connection keeps the order), and
        // the acknowledgement is confirmed by the server: once this returns, the call will
        // not be delivered again.
        self.message.double_ack().await.map_err(nats)
    }
}
