//! Build, encode and decode an OCPP 2.0.1 BootNotification, and see what a bad payload reports.
//!
//! `cargo run -p ocpp-rs-examples --example types`

use ocpp_types::v201::{BootNotificationRequest, BootReasonEnumType, ChargingStationType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut station = ChargingStationType::new("SingleSocketCharger".parse()?, "VendorX".parse()?);
    station.serial_number = Some("SN-0001".parse()?);
    let request = BootNotificationRequest::new(station, BootReasonEnumType::PowerUp);

    let json = serde_json::to_string(&request)?;
    println!("encoded: {json}");
    let decoded: BootNotificationRequest = ocpp_types::from_str(&json)?;
    assert_eq!(decoded, request);

    // 26 characters where the schema allows 25: refused, with the rule and the place.
    let bad = json.replace("SN-0001", "SN-0001-0002-0003-0004-056");
    let err = ocpp_types::from_str::<BootNotificationRequest>(&bad).unwrap_err();
    let code = ocpp_rpc::ErrorCode::from_decode_error(&err);
    println!(
        "rejected: {err} ({:?}, limit {:?}, answered {code})",
        err.kind(),
        err.max_length()
    );
    Ok(())
}
