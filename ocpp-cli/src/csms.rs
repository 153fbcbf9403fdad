//! `ocpp csms`: a demo CSMS that admits every station, answers every station-initiated action
//! of every version with a valid response (see [`answer`](crate::answer)), and logs frames.

use std::net::SocketAddr;

use ocpp_rpc_tokio::{RunningServer, Server, ServerConfig};
use ocpp_types::OcppVersion;

use crate::transcript::Transcript;

/// Starts the demo CSMS on `listen`, accepting `versions` (in order of preference) at
/// `/ocpp/<identity>`.
pub async fn start(
    listen: SocketAddr,
    versions: Vec<OcppVersion>,
    transcript: Transcript,
) -> std::io::Result<RunningServer> {
    let mut config = ServerConfig::default();
    config.versions = versions;
    config.observer = Some(transcript.observer("", "CSMS"));
    Server::bind(listen, config, crate::answer::handlers(0xc5))
        .await?
        .start()
}
