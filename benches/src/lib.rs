//! Benchmark inputs shared by the benches: representative OCPP payloads, valid for both
//! ocpp-rs and the libraries compared with it.
//!
//! Run with `cargo bench --manifest-path benches/Cargo.toml` (a workspace of its own, so the
//! peers' dependencies stay out of the main build).

/// A 2.0.1 TransactionEvent `Updated` with one meter value of six sampled values.
pub fn transaction_event() -> String {
    let sampled: Vec<String> = [
        ("Energy.Active.Import.Register", "Wh", 12345.6),
        ("Power.Active.Import", "W", 7400.0),
        ("Current.Import", "A", 32.1),
        ("Voltage", "V", 230.4),
        ("SoC", "Percent", 57.0),
        ("Frequency", "Hz", 50.0),
    ]
    .iter()
    .map(|(measurand, unit, value)| {
        format!(
            r#"{{"value":{value},"measurand":"{measurand}","context":"Sample.Periodic","location":"Outlet","unitOfMeasure":{{"unit":"{unit}","multiplier":0}}}}"#
        )
    })
    .collect();
    format!(
        r#"{{"eventType":"Updated","timestamp":"2024-05-01T12:00:00.000Z","triggerReason":"MeterValuePeriodic","seqNo":7,"transactionInfo":{{"transactionId":"a1b2c3d4-e5f6-7890-abcd-ef0123456789","chargingState":"Charging"}},"evse":{{"id":1,"connectorId":1}},"meterValue":[{{"timestamp":"2024-05-01T12:00:00.000Z","sampledValue":[{}]}}]}}"#,
        sampled.join(",")
    )
}

/// A 2.0.1 MeterValues with one meter value of the six sampled values of [`transaction_event`].
pub fn meter_values_201() -> String {
    let event = transaction_event();
    let meter_value = event
        .split_once(r#""meterValue":"#)
        .map_or("[]", |(_, rest)| rest.trim_end_matches('}'));
    format!(r#"{{"evseId":1,"meterValue":{meter_value}}}"#)
}

/// A 2.0.1 BootNotification with the optional station details.
pub fn boot_notification() -> String {
    r#"{"chargingStation":{"serialNumber":"SN-0001-2024","model":"AC-Wallbox-22","vendorName":"ExampleVendor","firmwareVersion":"1.4.2","modem":{"iccid":"8931440400012345678","imsi":"262011234567890"}},"reason":"PowerUp"}"#.to_owned()
}

/// A 1.6 MeterValues with two meter values of five sampled values each.
pub fn meter_values_16() -> String {
    let sampled = r#"{"value":"12345.6","context":"Sample.Periodic","format":"Raw","measurand":"Energy.Active.Import.Register","location":"Outlet","unit":"Wh"},{"value":"7400","measurand":"Power.Active.Import","unit":"W"},{"value":"32.1","measurand":"Current.Import","phase":"L1","unit":"A"},{"value":"230.4","measurand":"Voltage","phase":"L1-N","unit":"V"},{"value":"57","measurand":"SoC","unit":"Percent"}"#;
    format!(
        r#"{{"connectorId":1,"transactionId":42,"meterValue":[{{"timestamp":"2024-05-01T12:00:00Z","sampledValue":[{sampled}]}},{{"timestamp":"2024-05-01T12:01:00Z","sampledValue":[{sampled}]}}]}}"#
    )
}

/// A 2.0.1 NotifyReport with `entries` report data entries (a GetBaseReport answer).
pub fn notify_report(entries: usize) -> String {
    let data: Vec<String> = (0..entries)
        .map(|i| {
            format!(
                r#"{{"component":{{"name":"Connector","evse":{{"id":1,"connectorId":{}}}}},"variable":{{"name":"Variable{i}","instance":"Main"}},"variableAttribute":[{{"type":"Actual","value":"value-{i}","mutability":"ReadWrite","persistent":true,"constant":false}}],"variableCharacteristics":{{"dataType":"string","supportsMonitoring":false}}}}"#,
                i % 4 + 1
            )
        })
        .collect();
    format!(
        r#"{{"requestId":1,"generatedAt":"2024-05-01T12:00:00Z","tbc":false,"seqNo":0,"reportData":[{}]}}"#,
        data.join(",")
    )
}

/// The resident memory of process `pid` in KiB (`VmRSS` of `/proc/PID/status`; 0 when it
/// cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The CSMS of the scale benches (`scale`, `connection_cost`): what both the ocpp-rs and the
/// Node CSMS answer, and the TLS material.
pub mod scale {
    use std::path::{Path, PathBuf};

    use ocpp_rpc_tokio::{Handlers, ServerConfig};
    use ocpp_types::{DateTime, OcppVersion, v201};

    /// The heartbeat interval the CSMSs hand out, in seconds.
    pub const HEARTBEAT: u64 = 60;

    /// BootNotification (accepted), Heartbeat, TransactionEvent and MeterValues.
    pub fn handlers() -> Handlers {
        let mut handlers = Handlers::new();
        handlers.on(|_, _: v201::BootNotificationRequest| async {
            Ok(v201::BootNotificationResponse::new(
                DateTime::now(),
                HEARTBEAT as i64,
                v201::RegistrationStatusEnumType::Accepted,
            ))
        });
        handlers.on(|_, _: v201::HeartbeatRequest| async {
            Ok(v201::HeartbeatResponse::new(DateTime::now()))
        });
        handlers.on(|_, _: v201::TransactionEventRequest| async {
            Ok(v201::TransactionEventResponse::default())
        });
        handlers.on(|_, _: v201::MeterValuesRequest| async {
            Ok(v201::MeterValuesResponse::default())
        });
        handlers
    }

    /// OCPP 2.0.1, up to 19,000 connections a process. Every station comes from a few loopback
    /// addresses, as fast as it can: the limits that protect a real server from one address
    /// and from floods are lifted. Pings off, as for Node.
    pub fn config() -> ServerConfig {
        let mut config = ServerConfig::default();
        config.versions = vec![OcppVersion::V201];
        config.limits.max_connections = 19_000;
        config.limits.max_connections_per_address = usize::MAX;
        config.limits.max_handshakes = 4096;
        config.limits.messages_per_second = u32::MAX / 2;
        config.limits.message_burst = u32::MAX / 2;
        config.ping_interval = None;
        config.idle_timeout = None;
        config
    }

    /// A listener on 127.0.0.1:`port` that other processes may share (`SO_REUSEPORT`).
    pub fn reuse_port_listener(port: u16) -> std::io::Result<tokio::net::TcpListener> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseport(true)?;
        socket.bind((std::net::Ipv4Addr::LOCALHOST, port).into())?;
        socket.listen(4096)
    }

    /// A CA, and a server certificate (for `localhost`) and key it signed, as PEM files.
    pub struct Pki {
        /// The CA's certificate.
        pub ca: PathBuf,
        /// The server's certificate.
        pub cert: PathBuf,
        /// The server's private key.
        pub key: PathBuf,
    }

    /// Writes a new [`Pki`] into `dir`.
    pub fn pki(dir: &Path) -> Result<Pki, Box<dyn std::error::Error>> {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let ca_key = KeyPair::generate()?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key)?;
        let key = KeyPair::generate()?;
        let cert =
            CertificateParams::new(vec!["localhost".to_owned()])?.signed_by(&key, &ca, &ca_key)?;
        let pki = Pki {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        };
        std::fs::write(&pki.ca, ca.pem())?;
        std::fs::write(&pki.cert, cert.pem())?;
        std::fs::write(&pki.key, key.serialize_pem())?;
        Ok(pki)
    }
}

/// The `q` quantile (0.5, 0.99, ...) of `sorted` latencies in microseconds, in milliseconds
/// (NaN for none).
pub fn quantile_ms(sorted: &[u64], q: f64) -> f64 {
    let index = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(index).map_or(f64::NAN, |&us| us as f64 / 1000.0)
}
