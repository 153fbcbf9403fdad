//! `ocpp demo`: a CSMS and a station on loopback, one charging session, the frames printed.

use std::time::Duration;

use ocpp_types::OcppVersion;

use crate::station::StationError;
use crate::transcript::Transcript;
use crate::{csms, station};

/// Runs the demo: starts [`csms`] on a free loopback port, runs [`station`] against it, shuts
/// the CSMS down. Writes the station's side of the conversation to `transcript`.
pub async fn run(version: OcppVersion, transcript: Transcript) -> Result<usize, StationError> {
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let path = csms::StationPath::Prefix(String::from("/ocpp"));
    let server = csms::start(loopback, vec![version], &path, Transcript::off())
        .await
        .map_err(|source| ocpp_rpc_tokio::ConnectError::Io {
            address: loopback.to_string(),
            source,
        })?;
    let url = format!("ws://{}/ocpp/DEMO-STATION-1", server.local_addr());
    transcript.line(&format!("CSMS listening on {url}, OCPP {version}"));
    transcript.line("");
    let result = station::run(&url, version, transcript).await;
    server.shutdown(Duration::from_secs(2)).await;
    result
}
