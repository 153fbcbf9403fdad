//! A minimal charging station: connects to ws://127.0.0.1:9000/ocpp/CS001 (the `csms` example),
//! boots, answers the CSMS's GetVariables, and sends heartbeats.

use std::time::Duration;

use ocpp_rpc_tokio::{ClientConfig, Handlers, connect};
use ocpp_types::OcppVersion;
use ocpp_types::v201::{self, BootReasonEnumType, ChargingStationType};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut handlers = Handlers::new();
    handlers.on(|_, request: v201::GetVariablesRequest| async move {
        let results = request.get_variable_data.into_iter().map(|data| {
            let status = v201::GetVariableStatusEnumType::UnknownVariable;
            v201::GetVariableResultType::new(status, data.component, data.variable)
        });
        Ok(v201::GetVariablesResponse::new(results.collect()))
    });
    let config = ClientConfig::new("ws://127.0.0.1:9000/ocpp/CS001", vec![OcppVersion::V201]);
    let csms = connect(&config, handlers).await?;
    let station = ChargingStationType::new("Example".parse()?, "ocpp-rs".parse()?);
    let boot = csms
        .call(v201::BootNotificationRequest::new(
            station,
            BootReasonEnumType::PowerUp,
        ))
        .await?;
    println!("registration: {:?}", boot.status);
    let interval = Duration::from_secs(u64::try_from(boot.interval.max(1))?);
    for _ in 0..3 {
        let heartbeat = csms.call(v201::HeartbeatRequest::default()).await?;
        println!("CSMS time: {}", heartbeat.current_time);
        tokio::time::sleep(interval.min(Duration::from_secs(1))).await;
    }
    csms.close().await;
    Ok(())
}
