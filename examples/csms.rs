//! A minimal CSMS: accepts OCPP 2.0.1 stations at ws://127.0.0.1:9000/ocpp/<identity>,
//! registers them, and asks each one for its heartbeat interval.
//!
//! `cargo run -p ocpp-rs-examples --example csms`, then `--example station` in another shell.

use ocpp_rpc_tokio::{Handlers, Server, ServerConfig};
use ocpp_types::v201::{self, RegistrationStatusEnumType as Status};
use ocpp_types::{DateTime, OcppVersion};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut handlers = Handlers::new();
    handlers.on(|station, boot: v201::BootNotificationRequest| async move {
        println!(
            "{} booted: {}",
            station.identity(),
            boot.charging_station.model
        );
        Ok(v201::BootNotificationResponse::new(
            DateTime::now(),
            300,
            Status::Accepted,
        ))
    });
    handlers.on(|_, _: v201::HeartbeatRequest| async {
        Ok(v201::HeartbeatResponse::new(DateTime::now()))
    });
    let mut config = ServerConfig::default();
    config.versions = vec![OcppVersion::V201];
    let server = Server::bind("127.0.0.1:9000", config, handlers).await?;
    let server = server
        .on_connection(|station| {
            tokio::spawn(async move {
                let key = v201::ComponentType::new("HeartbeatCtrlr".parse().unwrap());
                let data = v201::GetVariableDataType::new(
                    key,
                    v201::VariableType::new("Interval".parse().unwrap()),
                );
                let answer = station
                    .call(v201::GetVariablesRequest::new(vec![data]))
                    .await;
                println!("{}: {answer:?}", station.identity());
            });
        })
        .start()?;
    tokio::signal::ctrl_c().await?;
    server.shutdown(std::time::Duration::from_secs(5)).await;
    Ok(())
}
