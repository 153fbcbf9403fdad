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
    start_recording(listen, versions, path, transcript, None).await
}

/// [`start`], writing every call answered to `record` (`ocpp csms --record FILE`).
pub async fn start_recording(
    listen: SocketAddr,
    versions: Vec<OcppVersion>,
    path: &StationPath,
    transcript: Transcript,
    record: Option<Record>,
) -> std::io::Result<RunningServer> {
    let mut config = ServerConfig::default();
    config.versions = versions;
    path.apply(&mut config);
    // A CSMS to test against: testers and probes send as fast as they can, so the message
    // rate is not budgeted (the connection limits and the inflate budget stay).
    config.limits.message_burst = u32::MAX / 2;
    config.limits.messages_per_second = u32::MAX / 2;
    if let Some(files) = open_files() {
        // Keep some files for the listener, the transcript and handshakes in progress, so a
        // full server still answers 503 instead of failing to accept.
        let most = usize::try_from(files.saturating_sub(64))
            .unwrap_or(usize::MAX)
            .max(1);
        config.limits.max_connections = config.limits.max_connections.min(most);
    }
    config.observer = Some(transcript.observer(Side::Csms));
    Server::bind(
        listen,
        config,
        crate::answer::handlers(0xc5, transcript, None, record),
    )
    .await?
    .start()
}

/// Raises this process's open-file limit to its hard limit where the system allows it, and
/// returns the limit in force (`None` where it cannot be read).
fn open_files() -> Option<u64> {
    #[cfg(unix)]
    {
        let (_, hard) = rlimit::Resource::NOFILE.get().ok()?;
        match rlimit::increase_nofile_limit(hard) {
            Ok(files) => Some(files),
            Err(_) => rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft),
        }
    }
    #[cfg(not(unix))]
    None
}
