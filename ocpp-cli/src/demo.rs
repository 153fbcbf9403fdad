//! `ocpp demo`: a CSMS and a station on loopback, one charging session, the frames printed.

use std::time::Duration;

use ocpp_types::OcppVersion;

use crate::station::{Options, StationError, Summary};
use crate::transcript::Transcript;
use crate::{csms, station};

/// Runs the demo: starts [`csms`] on a free loopback port, runs [`station`] against it (one
/// session, one meter sample, a temporary store), shuts the CSMS down. Writes the station's
/// side of the conversation to `transcript`.
pub async fn run(version: OcppVersion, transcript: Transcript) -> Result<Summary, StationError> {
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let path = csms::StationPath::Prefix(String::from("/ocpp"));
    let server = csms::start(loopback, vec![version], &path, Transcript::off())
        .await
        .map_err(|error| StationError::Connect(format!("cannot listen on {loopback}: {error}")))?;
    let url = format!("ws://{}/ocpp/DEMO-STATION-1", server.local_addr());
    transcript.line(&format!("CSMS listening on {url}, OCPP {version}"));
    transcript.line("");
    let mut options = Options::new(url, version);
    options.samples = 1;
    let result = station::run(&options, transcript).await;
    server.shutdown(Duration::from_secs(2)).await;
    result
}
