//! `ocpp csms`: a demo CSMS that admits every station, answers every station-initiated action
//! of every version with a valid response (see [`answer`](crate::answer)), and logs frames.

use std::net::SocketAddr;

use ocpp_rpc_tokio::{RunningServer, Server, ServerConfig};
use ocpp_types::OcppVersion;

use crate::answer::Record;
use crate::transcript::{Side, Transcript};

/// Where stations may connect: the identity is always the URL's last path segment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StationPath {
    /// Any path: `ws://host/ID`, `/ocpp/ID`, `/steve/websocket/CentralSystemService/ID`, as
    /// chargers are configured with whatever CSMS URL the operator chose.
    #[default]
    Any,
    /// Only below this prefix (`/ocpp` admits `/ocpp/ID` and nothing else).
    Prefix(String),
}

impl StationPath {
    /// Parses `--path-prefix`: a path starting with `/` (a trailing `/` is ignored; `/` alone
    /// is the root, `ws://host/ID`).
    pub fn prefix(text: &str) -> Result<StationPath, String> {
        if !text.starts_with('/') {
            return Err(format!("{text:?} is not a path: it starts with /"));
        }
        if text.chars().any(|c| c.is_control() || c == '?' || c == '#') {
            return Err(format!("{text:?} is not a plain path"));
        }
        Ok(StationPath::Prefix(text.trim_end_matches('/').to_owned()))
    }

    /// The URL pattern stations use, after `ws://ADDR`.
    pub fn pattern(&self) -> String {
        match self {
            StationPath::Any => String::from("/<any path>/<identity>"),
            StationPath::Prefix(prefix) => format!("{prefix}/<identity>"),
        }
    }

    fn apply(&self, config: &mut ServerConfig) {
        config.path_prefix = match self {
            StationPath::Prefix(prefix) => Some(prefix.clone()),
            StationPath::Any => None,
        };
    }
}

/// Starts the demo CSMS on `listen`, accepting `versions` (in order of preference) at `path`.
pub async fn start(
    listen: SocketAddr,
    versions: Vec<OcppVersion>,
    path: &StationPath,
    transcript: Transcript,
) -> std::io::Result<RunningServer> {
    start_recording(listen, versions, path, transcript, Extras::default()).await
}

/// What `ocpp csms` adds to the demo CSMS.
#[derive(Default)]
pub struct Extras {
    /// Write every call answered here (`--record FILE`).
    pub record: Option<Record>,
    /// Call each station this many times once its BootNotification is answered (`--calls`).
    pub calls: u32,
    /// Accept only these id tokens (`--accept`); `None`: every one.
    pub accept: Option<Vec<String>>,
    /// Run as this node of a cluster (`--cluster`, `--node`).
    pub node: Option<ocpp_cluster::Node>,
}

/// [`start`] with [`Extras`].
pub async fn start_recording(
    listen: SocketAddr,
    versions: Vec<OcppVersion>,
    path: &StationPath,
    transcript: Transcript,
    extras: Extras,
) -> std::io::Result<RunningServer> {
    let Extras {
        record,
        calls,
        accept,
        node,
    } = extras;
    let mut answers = crate::answer::Answers::new(0xc5);
    if let Some(tokens) = accept {
        answers = answers.accepting(tokens);
    }
    let mut config = ServerConfig::default();
    config.versions = versions;
    path.apply(&mut config);
    // A CSMS to test against: testers and probes send as fast as they can, so the message
    // rate is not budgeted (the connection limits and the inflate budget stay).
    config.limits.message_burst = u32::MAX / 2;
    config.limits.messages_per_second = u32::MAX / 2;
    if let Some(files) = open_files(config.limits.max_connections) {
        // Keep some files for the listener, the transcript and handshakes in progress, so a
        // full server still answers 503 instead of failing to accept.
        let most = usize::try_from(files.saturating_sub(64))
            .unwrap_or(usize::MAX)
            .max(1);
        config.limits.max_connections = config.limits.max_connections.min(most);
    }
    config.observer = Some(transcript.observer(Side::Csms));
    let handlers = crate::answer::handlers(
        answers,
        transcript.clone(),
        None,
        record,
        (calls > 0).then(|| calling(calls, transcript)),
    );
    match node {
        None => Server::bind(listen, config, handlers).await?.start(),
        Some(node) => {
            let server = Server::bind(listen, config, node.handlers(handlers)).await?;
            node.attach(server).start()
        }
    }
}

/// What `--calls N` does after a boot: N reads of the station's meter sample interval
/// (GetConfiguration `MeterValueSampleInterval` on 1.6, GetVariables
/// `SampledDataCtrlr.TxUpdatedInterval` on 2.x), submitted at once (the session sends them
/// one at a time), each outcome a transcript line `call K to ID: answered` or
/// `call K to ID: failed: WHY`.
fn calling(calls: u32, transcript: Transcript) -> crate::answer::OnBoot {
    std::sync::Arc::new(move |connection: &ocpp_rpc_tokio::Connection| {
        let connection = connection.clone();
        let transcript = transcript.clone();
        tokio::spawn(async move {
            // Let the BootNotification's answer go first.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let version = connection.version();
            let (action, payload) = match version {
                OcppVersion::V16 => (
                    "GetConfiguration",
                    r#"{"key":["MeterValueSampleInterval"]}"#,
                ),
                _ => (
                    "GetVariables",
                    r#"{"getVariableData":[{"component":{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedInterval"}}]}"#,
                ),
            };
            let mut pending = Vec::new();
            for k in 1..=calls {
                let request = ocpp_rpc::AnyAction::from_name(version, action)
                    .and_then(|a| ocpp_rpc::AnyRequest::decode(a, payload).ok());
                let Some(request) = request else { return };
                let connection = connection.clone();
                pending.push((
                    k,
                    tokio::spawn(async move { connection.call_any(request).await }),
                ));
            }
            let identity = connection.identity().to_owned();
            for (k, call) in pending {
                let outcome = match call.await {
                    Ok(Ok(_)) => "answered".to_owned(),
                    Ok(Err(failure)) => format!("failed: {failure}"),
                    Err(error) => format!("failed: {error}"),
                };
                transcript.line(&format!("call {k} to {identity}: {outcome}"));
            }
        });
    })
}

/// The open-file limit, raised (and a warning logged when too low) for `connections`.
fn open_files(connections: usize) -> Option<u64> {
    #[cfg(unix)]
    return ocpp_rpc_tokio::raise_open_file_limit(connections).ok();
    #[cfg(not(unix))]
    None
}
