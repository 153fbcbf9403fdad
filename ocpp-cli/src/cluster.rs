//! `ocpp csms --cluster`: the demo CSMS as a node of a cluster on NATS; `ocpp worker`: answer
//! the station calls the nodes hand off; `ocpp call`: call any station of the cluster from
//! anywhere (all on [`ocpp_cluster`]).

use std::time::Duration;

use ocpp_cluster::{CallError, Cluster, ClusterConfig, Node, NodeConfig, Worker};
use ocpp_rpc::{AnyAction, AnyRequest};
use ocpp_types::OcppVersion;

/// `ocpp csms`'s cluster options.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeOptions {
    /// Join the cluster on this NATS server (JetStream on): nats://HOST:4222.
    #[arg(long, requires = "node")]
    pub cluster: Option<String>,
    /// This node's name in the cluster (letters, digits, - and _), unique.
    #[arg(long, requires = "cluster")]
    pub node: Option<String>,
    /// Hand the station calls of these actions (comma-separated, of any version accepted) to
    /// workers through the cluster's JetStream stream, instead of answering them here.
    #[arg(long, value_delimiter = ',', requires = "cluster")]
    pub handoff: Vec<String>,
    /// Seconds a station's presence lives unless this node refreshes it (how long the
    /// stations of a node that died still look connected).
    #[arg(long = "presence-ttl", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub presence_ttl: u64,
}

impl NodeOptions {
    /// Joins the cluster as a node, if `--cluster` was given.
    pub async fn join(&self, versions: &[OcppVersion]) -> Result<Option<Node>, String> {
        let (Some(url), Some(name)) = (&self.cluster, &self.node) else {
            return Ok(None);
        };
        let mut handoff = Vec::new();
        for name in &self.handoff {
            let actions: Vec<AnyAction> = versions
                .iter()
                .filter_map(|&version| AnyAction::from_name(version, name))
                .collect();
            if actions.is_empty() {
                return Err(format!(
                    "--handoff {name}: no such action in the versions accepted"
                ));
            }
            handoff.extend(actions);
        }
        let mut config = ClusterConfig::default();
        config.presence_ttl = Duration::from_secs(self.presence_ttl);
        let cluster = Cluster::connect(url, config)
            .await
            .map_err(|e| e.to_string())?;
        let node = NodeConfig::new(name.clone()).map_err(|e| e.to_string())?;
        Node::join(&cluster, node.handoff(handoff))
            .await
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// Why `ocpp call` did not print an answer, with its exit code.
#[derive(Debug)]
pub enum CallOutcome {
    /// 1: the station answered with a CALLERROR, or the call failed on its way.
    Failed(String),
    /// 2: the request is not valid for the action.
    Invalid(String),
    /// 3: no node holds the station, its node is unreachable, or NATS is.
    Unreachable(String),
}

impl CallOutcome {
    /// The process's exit code.
    pub fn code(&self) -> u8 {
        match self {
            CallOutcome::Failed(_) => 1,
            CallOutcome::Invalid(_) => 2,
            CallOutcome::Unreachable(_) => 3,
        }
    }

    /// What to print.
    pub fn message(&self) -> &str {
        match self {
            CallOutcome::Failed(m) | CallOutcome::Invalid(m) | CallOutcome::Unreachable(m) => m,
        }
    }
}

/// `ocpp call`: calls `station` through the cluster at `url` and returns the response's JSON.
pub async fn call(
    url: &str,
    station: &str,
    version: OcppVersion,
    action: &str,
    payload: &str,
    timeout: Duration,
) -> Result<String, CallOutcome> {
    let action = AnyAction::from_name(version, action)
        .ok_or_else(|| CallOutcome::Invalid(format!("OCPP {version} has no action {action:?}")))?;
    if !action.sent_by(ocpp_types::Role::Csms) {
        return Err(CallOutcome::Invalid(format!(
            "{action} is sent by the charging station, not to it"
        )));
    }
    let request = AnyRequest::decode(action, payload)
        .map_err(|e| CallOutcome::Invalid(format!("invalid {action} request: {e}")))?;
    let mut config = ClusterConfig::default();
    config.call_timeout = timeout;
    let cluster = Cluster::connect(url, config)
        .await
        .map_err(|e| CallOutcome::Unreachable(e.to_string()))?;
    match cluster.call_any(station, request).await {
        Ok(response) => {
            serde_json::to_string(&response).map_err(|e| CallOutcome::Failed(e.to_string()))
        }
        Err(
            error @ (CallError::NotConnected(_)
            | CallError::Unreachable { .. }
            | CallError::Nats(_)),
        ) => Err(CallOutcome::Unreachable(error.to_string())),
        Err(error) => Err(CallOutcome::Failed(error.to_string())),
    }
}

/// `ocpp worker`: takes the station calls handed off to consumer `consumer` and answers each
/// with the demo CSMS's [`Answers`](crate::answer::Answers), writing it to `record` first;
/// prints `STATION ACTION: answered` (or `failed: CODE`) per call. Runs until NATS closes.
pub async fn work(
    url: &str,
    consumer: &str,
    record: Option<crate::answer::Record>,
    transcript: &crate::transcript::Transcript,
) -> Result<(), String> {
    let cluster = Cluster::connect(url, ClusterConfig::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut worker = Worker::join(&cluster, consumer)
        .await
        .map_err(|e| e.to_string())?;
    let mut answers = crate::answer::Answers::new(0xc5);
    while let Some(job) = worker.next().await {
        let job = match job {
            Ok(job) => job,
            Err(error) => {
                transcript.line(&format!("! {error}"));
                continue;
            }
        };
        let answer = answers.answer_for(job.identity(), job.request());
        if let Some(record) = &record {
            record.write(job.identity(), job.request(), &answer);
        }
        let line = format!("{} {}", job.identity(), job.request().action());
        let sent = match answer {
            Ok(response) => job.answer(response).await.map(|()| "answered".to_owned()),
            Err(error) => {
                let code = error.code;
                job.fail(error).await.map(|()| format!("failed: {code}"))
            }
        };
        match sent {
            Ok(outcome) => transcript.line(&format!("{line}: {outcome}")),
            Err(error) => transcript.line(&format!("! {line}: not answered: {error}")),
        }
    }
    Ok(())
}
