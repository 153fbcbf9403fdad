//! `ocpp station`: a scripted charging station that runs the charging session of
//! [`scenario`](crate::scenario) against any CSMS, answering the CSMS's own calls meanwhile.
use ocpp_rpc_tokio::{CallFailure, ClientConfig, ConnectError, Connection, connect};
use ocpp_types::OcppVersion;

use crate::answer::Broken;
use crate::scenario::{Charge, ScenarioError};
use crate::transcript::{Side, Transcript};

/// Why the station's run failed.
#[derive(Debug, thiserror::Error)]
pub enum StationError {
    /// No connection (refused, handshake failed, no common version).
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A call got no valid answer.
    #[error("{action}: {error}")]
    Call {
        /// The action called.
        action: &'static str,
        /// What happened instead of a valid answer.
        error: CallFailure,
    },
    /// An answer refused what the station asked for, or broke a rule of the specification.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Requests of the CSMS broke rules of [`ocpp_types::conditions`] (they were answered).
    #[error("the CSMS's requests broke rules of the specification: {}", .0.join("; "))]
    Requests(Vec<String>),
}

/// Connects to `url` offering `version` and runs one charging session; returns how many calls
/// were answered.
pub async fn run(
    url: &str,
    version: OcppVersion,
    transcript: Transcript,
) -> Result<usize, StationError> {
    let mut config = ClientConfig::new(url, vec![version]);
    config.observer = Some(transcript.observer(Side::Station));
    let broken = Broken::default();
    let handlers = crate::answer::handlers(0x5eed, transcript, Some(broken.clone()));
    let connection = connect(&config, handlers).await?;
    let result = charge(&connection, version).await;
    connection.close().await;
    let calls = result?;
    let broken = match broken.lock() {
        Ok(broken) => broken.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    match broken.is_empty() {
        true => Ok(calls),
        false => Err(StationError::Requests(broken)),
    }
}

/// Runs the charging session on an open connection.
pub async fn charge(connection: &Connection, version: OcppVersion) -> Result<usize, StationError> {
    let mut charge = Charge::new(version);
    let mut calls = 0;
    while let Some(request) = charge.next_request() {
        let request = request?;
        let action = request.action().as_str();
        let response = connection
            .call_any(request)
            .await
            .map_err(|error| StationError::Call { action, error })?;
        charge.check(&response)?;
        calls += 1;
    }
    Ok(calls)
}
