//! `ocpp router`: the router of `ocpp-rs-router` run from a TOML file, every routed frame
//! printed as `sender → receiver  frame` (a backend named `NAME[IDENTITY]`) and, with
//! `--transcript FILE`, written there as one JSON object a line.

use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

use ocpp_router::{Hop, Router, RouterConfig, RunningRouter};
use ocpp_rpc_tokio::Direction;

use crate::transcript::Transcript;

/// Reads `config`, starts the router and shows its frames on `transcript` and in `file`.
pub async fn start(
    config: &Path,
    transcript: Transcript,
    file: Option<&Path>,
) -> Result<RunningRouter, String> {
    let text = std::fs::read_to_string(config)
        .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
    let config = RouterConfig::from_toml(&text).map_err(|e| e.to_string())?;
    let file = match file {
        Some(path) => Some(Arc::new(Mutex::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?,
        )))),
        None => None,
    };
    Router::new(config)
        .tap(move |hop: &Hop<'_>| {
            let remote = if hop.peer == "station" {
                hop.station.to_owned()
            } else {
                format!("{}[{}]", hop.peer, hop.station)
            };
            transcript.frame("router", &remote, hop.direction, hop.frame);
            if let Some(file) = &file {
                let line = serde_json::json!({
                    "station": hop.station,
                    "peer": hop.peer,
                    "direction": match hop.direction {
                        Direction::Incoming => "in",
                        Direction::Outgoing => "out",
                    },
                    "frame": hop.frame,
                });
                let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
                // One line a frame, flushed, so that a reader (or a kill) never sees half.
                let _ = writeln!(file, "{line}").and_then(|()| file.flush());
            }
        })
        .start()
        .await
        .map_err(|e| e.to_string())
}
