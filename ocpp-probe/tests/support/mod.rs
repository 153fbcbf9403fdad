//! What the probe's tests share: the tokio adapter's server as a 2.0.1 CSMS that answers
//! boots and heartbeats and admits one password.

use ocpp_rpc_tokio::{Handlers, Refusal, RunningServer, Server, ServerConfig};
use ocpp_types::{DateTime, OcppVersion, v201};

/// The password the CSMS admits.
pub const PASSWORD: &str = "0123456789abcdef";

/// Starts `config` (its security profile, its TLS) as a 2.0.1 CSMS admitting [`PASSWORD`].
pub async fn password_csms(mut config: ServerConfig) -> RunningServer {
    config.versions = vec![OcppVersion::V201];
    let mut handlers = Handlers::new();
    handlers
        .on(|_, _: v201::HeartbeatRequest| async {
            Ok(v201::HeartbeatResponse::new(DateTime::now()))
        })
        .on(|_, _: v201::BootNotificationRequest| async {
            let accepted = v201::RegistrationStatusEnumType::Accepted;
            Ok(v201::BootNotificationResponse::new(
                DateTime::now(),
                300,
                accepted,
            ))
        });
    Server::bind("127.0.0.1:0", config, handlers)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .on_handshake(|handshake| {
            let known = handshake.password_is(PASSWORD);
            async move {
                if known {
                    Ok(())
                } else {
                    Err(Refusal::unauthorized())
                }
            }
        })
        .start()
        .unwrap_or_else(|e| panic!("{e}"))
}
