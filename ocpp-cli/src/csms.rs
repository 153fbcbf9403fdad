//! `ocpp csms`: a demo CSMS that admits every station, answers every station-initiated action
//! of every version with a valid response (see [`answer`](crate::answer)), and logs frames.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use ocpp_rpc::tokio::{Handlers, RunningServer, Server, ServerConfig};
use ocpp_types::OcppVersion;

use crate::answer::Answers;
use crate::transcript::Transcript;

/// Handlers that answer every call validly.
pub fn handlers() -> Handlers {
    let answers = Arc::new(Mutex::new(Answers::new(0xc5)));
    let mut handlers = Handlers::new();
    handlers.fallback(move |_, request| {
        let answer = match answers.lock() {
            Ok(mut answers) => answers.answer(&request),
            Err(poisoned) => poisoned.into_inner().answer(&request),
        };
        async move { answer }
    });
    handlers
}

/// Starts the demo CSMS on `listen`, accepting `versions` (in order of preference) at
/// `/<path>/<identity>` for any path.
pub async fn start(
    listen: SocketAddr,
    versions: Vec<OcppVersion>,
    transcript: Transcript,
) -> std::io::Result<RunningServer> {
    let mut config = ServerConfig::default();
    config.versions = versions;
    config.path = String::from("/ocpp");
    config.observer = Some(transcript.observer("", "CSMS"));
    Server::bind(listen, config, handlers()).await?.start()
}
