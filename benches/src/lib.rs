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
