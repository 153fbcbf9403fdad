//! Which side initiates each action, per the OCPP specifications (1.6 edition 2 section 4/5 + the 1.6 security whitepaper edition 3; 2.0.1 and 2.1 Part 2 message lists).
//!
//! The schemas do not say who sends a request, so this is a hand-kept table. 1.6: section 4
//! ("Operations Initiated by Charge Point") and section 5 ("Operations Initiated by Central
//! System"), plus the security whitepaper's messages. 2.0.1/2.1: the use cases and message
//! definitions of Part 2 ("... sent by the Charging Station to the CSMS"); the 2.1-only actions
//! were also checked against independent implementations (ocpp-go, EVerest libocpp, WWCP OCPP).
//! Every action of a version that is in neither of its two lists is sent by the CSMS.

/// Actions whose requests the charging station sends, OCPP 1.6 (incl. security extension).
pub const V16_CHARGING_STATION: &[&str] = &[
    "Authorize",
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
];

/// Actions either side may send, OCPP 1.6.
pub const V16_BOTH: &[&str] = &["DataTransfer"];

/// Actions whose requests the charging station sends, OCPP 2.0.1.
pub const V201_CHARGING_STATION: &[&str] = &[
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
];

/// Actions either side may send, OCPP 2.0.1.
pub const V201_BOTH: &[&str] = &["DataTransfer"];

/// Actions whose requests the charging station sends, OCPP 2.1 (`NotifyPeriodicEventStream` is a
/// SEND without response, also from the charging station).
pub const V21_CHARGING_STATION: &[&str] = &[
    "Authorize",
    "BatterySwap",
    "BootNotification",
    "ClearedChargingLimit",
    "ClosePeriodicEventStream",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateChainStatus",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDERAlarm",
    "NotifyDERStartStop",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyPeriodicEventStream",
    "NotifyPriorityCharging",
    "NotifyReport",
    "NotifySettlement",
    "OpenPeriodicEventStream",
    "PublishFirmwareStatusNotification",
    "PullDynamicScheduleUpdate",
    "ReportChargingProfiles",
    "ReportDERControl",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
    "VatNumberValidation",
];

/// Actions either side may send, OCPP 2.1.
pub const V21_BOTH: &[&str] = &["DataTransfer"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The action names of one schema folder: file names without `.json` and without a
    /// `Request`/`Response` suffix (1.6 request files have no suffix).
    fn actions(dir: &str) -> BTreeSet<String> {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {dir}: {e}"));
        let mut names = BTreeSet::new();
        for entry in entries {
            let file_name = entry.expect("directory entry").file_name();
            let file_name = file_name.to_str().expect("UTF-8 file name");
            let Some(stem) = file_name.strip_suffix(".json") else {
                continue;
            };
            let action = stem
                .strip_suffix("Request")
                .or_else(|| stem.strip_suffix("Response"))
                .unwrap_or(stem);
            names.insert(action.to_string());
        }
        assert!(!names.is_empty(), "no schemas found in {dir}");
        names
    }

    fn check(dir: &str, charging_station: &[&str], both: &[&str]) {
        let known = actions(dir);
        for (list_name, list) in [("charging station", charging_station), ("both", both)] {
            for name in list {
                assert!(
                    known.contains(*name),
                    "{name} ({list_name} list) is not an action in {dir}"
                );
            }
            assert!(
                list.windows(2).all(|pair| pair[0] < pair[1]),
                "{list_name} list for {dir} is not sorted and free of duplicates"
            );
        }
        for name in both {
            assert!(
                !charging_station.contains(name),
                "{name} is in both lists for {dir}"
            );
        }
    }

    #[test]
    fn v16_lists_name_real_actions() {
        check(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/v16"),
            V16_CHARGING_STATION,
            V16_BOTH,
        );
    }

    #[test]
    fn v201_lists_name_real_actions() {
        check(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/v201"),
            V201_CHARGING_STATION,
            V201_BOTH,
        );
    }

    #[test]
    fn v21_lists_name_real_actions() {
        check(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/v21"),
            V21_CHARGING_STATION,
            V21_BOTH,
        );
    }
}
