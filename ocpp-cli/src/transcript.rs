//! The transcript of frames that `ocpp demo`, `ocpp station` and `ocpp csms` print: one line
//! per frame, with who sent it to whom.

use std::io::Write;
use std::sync::Arc;

use ocpp_rpc_tokio::{Direction, FrameObserver};

/// Where transcript lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transcript {
    /// Standard output.
    Stdout,
    /// Nowhere.
    Off,
}

impl Transcript {
    /// An observer printing frames as `local → remote  frame` (or `←`). An empty `local` uses
    /// the connection's identity.
    pub fn observer(self, local: &'static str, remote: &'static str) -> FrameObserver {
        Arc::new(move |connection, direction, frame| {
            if self == Transcript::Off {
                return;
            }
            let local = if local.is_empty() {
                connection.identity()
            } else {
                local
            };
            let arrow = match direction {
                Direction::Outgoing => "→",
                Direction::Incoming => "←",
            };
            // A closed stdout (`ocpp demo | head`) must not stop the connection.
            let _ = writeln!(
                std::io::stdout().lock(),
                "{local} {arrow} {remote}  {frame}"
            );
        })
    }
}
