//! `ocpp demo`: a CSMS and a station on loopback, one charging session, the frames printed.

use std::time::Duration;

use ocpp_types::OcppVersion;

use crate::station::StationError;
use crate::transcript::Transcript;
use crate::{csms, station};

/// Runs the demo: starts [`csms`] on a free loopback port, runs [`station`] against it, shuts
/// the CSMS down. Prints the station's side of the conversation.
pub async fn run(version: OcppVersion) -> Result<usize, StationError> {
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = csms::start(loopback, vec![version], Transcript::Off)
        .await
        .map_err(|source| ocpp_rpc_tokio::ConnectError::Io {
            address: loopback.to_string(),
            source,
        })?;
    let url = format!("ws://{}/ocpp/DEMO-STATION-1", server.local_addr());
    println!("CSMS listening on {url}, OCPP {version}\n");
    let result = station::run(&url, version, Transcript::Stdout).await;
    server.shutdown(Duration::from_secs(2)).await;
    result
}
