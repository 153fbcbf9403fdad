//! The messages the station sends, built once for every version: 1.6 and 2.x differ in
//! names and shapes, 2.0.1 and 2.1 not at all for these (a payload built here is valid for
//! both, which the tests check by decoding every frame with the CSMS's decoders).
//!
//! Payloads are written straight to JSON text from small borrowed structs: no intermediate
//! `serde_json::Value` tree (whose maps cost hundreds of bytes of heap each on firmware).

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use ocpp_types::{DateTime, OcppVersion};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::config::BootInfo;
use crate::hardware::{ConnectorId, Reading, StopReason};
use crate::record::TxState;
use crate::variables::Measurands;

/// A connector's state as the version's StatusNotification names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectorStatus {
    /// Free.
    Available,
    /// Plugged in or authorized, no transaction yet (2.x: `Occupied`).
    Preparing,
    /// In a transaction, energy flowing (2.x: `Occupied`).
    Charging,
    /// In a transaction, the EV draws no power (2.x: `Occupied`).
    SuspendedEv,
    /// The transaction ended, the cable is still in (2.x: `Occupied`).
    Finishing,
    /// Set inoperative by the CSMS.
    Unavailable,
    /// Faulted.
    Faulted,
}

impl ConnectorStatus {
    /// The name the version gives it.
    pub fn name(self, version: OcppVersion) -> &'static str {
        use ConnectorStatus::*;
        match (self, version) {
            (Available, _) => "Available",
            (Unavailable, _) => "Unavailable",
            (Faulted, _) => "Faulted",
            (_, OcppVersion::V201 | OcppVersion::V21) => "Occupied",
            (Preparing, OcppVersion::V16) => "Preparing",
            (Charging, OcppVersion::V16) => "Charging",
            (SuspendedEv, OcppVersion::V16) => "SuspendedEV",
            (Finishing, OcppVersion::V16) => "Finishing",
        }
    }
}

/// What made a transaction start (2.x `triggerReason` of the Started event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartTrigger {
    Authorized,
    CablePluggedIn,
    RemoteStart,
}

/// A message to send: its action and payload.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub action: &'static str,
    pub payload: Box<RawValue>,
}

/// JSON text of a payload. The structs below hold strings, integers, finite numbers and
/// date-times only, which always serialize; the fallback is never taken.
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

fn message<T: Serialize>(action: &'static str, payload: &T) -> Message {
    Message {
        action,
        payload: json(payload),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BootV16<'a> {
    charge_point_vendor: &'a str,
    charge_point_model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    charge_point_serial_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    firmware_version: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChargingStation<'a> {
    vendor_name: &'a str,
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    firmware_version: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BootV2<'a> {
    charging_station: ChargingStation<'a>,
    reason: &'static str,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusV16 {
    connector_id: ConnectorId,
    error_code: &'static str,
    status: &'static str,
    timestamp: DateTime,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusV2 {
    timestamp: DateTime,
    connector_status: &'static str,
    evse_id: ConnectorId,
    connector_id: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeV16<'a> {
    id_tag: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Token<'a> {
    id_token: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeV2<'a> {
    id_token: Token<'a>,
}

/// A sampled value: 1.6 writes the value as a string, 2.x as a number with a unit object.
#[derive(Serialize)]
#[serde(untagged)]
enum Sampled {
    #[serde(rename_all = "camelCase")]
    V16 {
        value: String,
        context: &'static str,
        measurand: &'static str,
        unit: &'static str,
    },
    #[serde(rename_all = "camelCase")]
    V2 {
        value: f64,
        context: &'static str,
        measurand: &'static str,
        unit_of_measure: Unit,
    },
}

#[derive(Serialize)]
struct Unit {
    unit: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeterValue {
    timestamp: DateTime,
    sampled_value: Vec<Sampled>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StartTransaction<'a> {
    connector_id: ConnectorId,
    id_tag: &'a str,
    meter_start: i64,
    timestamp: DateTime,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StopTransaction<'a> {
    id_tag: &'a str,
    meter_stop: i64,
    timestamp: DateTime,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_data: Option<[MeterValue; 1]>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeterValuesV16 {
    connector_id: ConnectorId,
    meter_value: [MeterValue; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MeterValuesV2 {
    evse_id: ConnectorId,
    meter_value: [MeterValue; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TransactionInfo<'a> {
    transaction_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    charging_state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_start_id: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Evse {
    id: ConnectorId,
    connector_id: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TransactionEvent<'a> {
    event_type: &'static str,
    timestamp: DateTime,
    trigger_reason: &'static str,
    seq_no: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    offline: Option<bool>,
    transaction_info: TransactionInfo<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evse: Option<Evse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<Token<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meter_value: Option<[MeterValue; 1]>,
}

/// Builds the station's messages for one version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Messages(pub OcppVersion);

impl Messages {
    fn v16(self) -> bool {
        self.0 == OcppVersion::V16
    }

    pub fn boot(self, info: &BootInfo) -> Message {
        let (serial, firmware) = (
            info.serial_number.as_deref(),
            info.firmware_version.as_deref(),
        );
        if self.v16() {
            message(
                "BootNotification",
                &BootV16 {
                    charge_point_vendor: &info.vendor,
                    charge_point_model: &info.model,
                    charge_point_serial_number: serial,
                    firmware_version: firmware,
                },
            )
        } else {
            message(
                "BootNotification",
                &BootV2 {
                    charging_station: ChargingStation {
                        vendor_name: &info.vendor,
                        model: &info.model,
                        serial_number: serial,
                        firmware_version: firmware,
                    },
                    reason: "PowerUp",
                },
            )
        }
    }

    pub fn heartbeat(self) -> Message {
        message("Heartbeat", &Empty {})
    }

    pub fn status(self, connector: ConnectorId, status: ConnectorStatus, now: DateTime) -> Message {
        let name = status.name(self.0);
        if self.v16() {
            let error_code = if status == ConnectorStatus::Faulted {
                "OtherError"
            } else {
                "NoError"
            };
            message(
                "StatusNotification",
                &StatusV16 {
                    connector_id: connector,
                    error_code,
                    status: name,
                    timestamp: now,
                },
            )
        } else {
            message(
                "StatusNotification",
                &StatusV2 {
                    timestamp: now,
                    connector_status: name,
                    evse_id: connector,
                    connector_id: 1,
                },
            )
        }
    }

    pub fn authorize(self, token: &str, kind: &str) -> Message {
        if self.v16() {
            message("Authorize", &AuthorizeV16 { id_tag: token })
        } else {
            message(
                "Authorize",
                &AuthorizeV2 {
                    id_token: Token {
                        id_token: token,
                        kind,
                    },
                },
            )
        }
    }

    fn meter_value(
        self,
        reading: Reading,
        measurands: Measurands,
        context: &'static str,
        at: DateTime,
    ) -> Option<[MeterValue; 1]> {
        let sampled: Vec<Sampled> = measurands
            .members()
            .map(|(measurand, unit)| {
                let value = if measurand == "Power.Active.Import" {
                    reading.power_w
                } else {
                    reading.energy_wh
                };
                if self.v16() {
                    Sampled::V16 {
                        // As JSON writes the number (`f64`'s own formatting would add 7 KB
                        // of code to a firmware).
                        value: serde_json::to_string(&value).unwrap_or_default(),
                        context,
                        measurand,
                        unit,
                    }
                } else {
                    Sampled::V2 {
                        value,
                        context,
                        measurand,
                        unit_of_measure: Unit { unit },
                    }
                }
            })
            .collect();
        (!sampled.is_empty()).then_some([MeterValue {
            timestamp: at,
            sampled_value: sampled,
        }])
    }

    fn transaction_event<'a>(
        tx: &'a TxState,
        event_type: &'static str,
        trigger_reason: &'static str,
        offline: bool,
        meter_value: Option<[MeterValue; 1]>,
    ) -> TransactionEvent<'a> {
        TransactionEvent {
            event_type,
            timestamp: tx.meter_at,
            trigger_reason,
            seq_no: tx.seq_no,
            offline: offline.then_some(true),
            transaction_info: TransactionInfo {
                transaction_id: &tx.transaction_id,
                charging_state: None,
                stopped_reason: None,
                remote_start_id: None,
            },
            evse: None,
            id_token: None,
            meter_value,
        }
    }

    pub fn tx_started(
        self,
        tx: &TxState,
        reading: Reading,
        measurands: Measurands,
        trigger: StartTrigger,
        offline: bool,
    ) -> Message {
        if self.v16() {
            return message(
                "StartTransaction",
                &StartTransaction {
                    connector_id: tx.connector,
                    id_tag: &tx.token,
                    meter_start: wh(tx.meter_start_wh),
                    timestamp: tx.meter_at,
                },
            );
        }
        let trigger = match trigger {
            StartTrigger::Authorized => "Authorized",
            StartTrigger::CablePluggedIn => "CablePluggedIn",
            StartTrigger::RemoteStart => "RemoteStart",
        };
        let meter = self.meter_value(reading, measurands, "Transaction.Begin", tx.meter_at);
        let mut event = Self::transaction_event(tx, "Started", trigger, offline, meter);
        event.transaction_info.charging_state = Some("Charging");
        event.transaction_info.remote_start_id = tx.remote_start_id;
        event.evse = Some(Evse {
            id: tx.connector,
            connector_id: 1,
        });
        event.id_token = Some(Token {
            id_token: &tx.token,
            kind: &tx.token_type,
        });
        message("TransactionEvent", &event)
    }

    /// A sample during a transaction, periodic or triggered (1.6 MeterValues, whose
    /// `transactionId` is added when sent; 2.x TransactionEvent Updated).
    pub fn tx_sample(
        self,
        tx: &TxState,
        reading: Reading,
        measurands: Measurands,
        triggered: bool,
        offline: bool,
    ) -> Option<Message> {
        let (context, trigger) = if triggered {
            ("Trigger", "Trigger")
        } else {
            ("Sample.Periodic", "MeterValuePeriodic")
        };
        let meter_value = self.meter_value(reading, measurands, context, tx.meter_at)?;
        Some(if self.v16() {
            message(
                "MeterValues",
                &MeterValuesV16 {
                    connector_id: tx.connector,
                    meter_value,
                },
            )
        } else {
            let event = Self::transaction_event(tx, "Updated", trigger, offline, Some(meter_value));
            message("TransactionEvent", &event)
        })
    }

    /// The end (1.6 StopTransaction, whose `transactionId` is added when sent; 2.x
    /// TransactionEvent Ended).
    pub fn tx_ended(
        self,
        tx: &TxState,
        reading: Reading,
        measurands: Measurands,
        reason: StopReason,
        offline: bool,
    ) -> Message {
        let meter = self.meter_value(reading, measurands, "Transaction.End", tx.meter_at);
        if self.v16() {
            return message(
                "StopTransaction",
                &StopTransaction {
                    id_tag: &tx.token,
                    meter_stop: wh(tx.meter_wh),
                    timestamp: tx.meter_at,
                    reason: reason_v16(reason),
                    transaction_data: meter,
                },
            );
        }
        let (trigger, stopped) = reason_v2(reason);
        let mut event = Self::transaction_event(tx, "Ended", trigger, offline, meter);
        event.transaction_info.stopped_reason = Some(stopped);
        message("TransactionEvent", &event)
    }

    /// A triggered MeterValues (TriggerMessage), outside the queue: no `transactionId`.
    pub fn meter_values(
        self,
        connector: ConnectorId,
        reading: Reading,
        measurands: Measurands,
        at: DateTime,
    ) -> Option<Message> {
        let meter_value = self.meter_value(reading, measurands, "Trigger", at)?;
        Some(if self.v16() {
            message(
                "MeterValues",
                &MeterValuesV16 {
                    connector_id: connector,
                    meter_value,
                },
            )
        } else {
            message(
                "MeterValues",
                &MeterValuesV2 {
                    evse_id: connector,
                    meter_value,
                },
            )
        })
    }
}

/// Wh as the integer 1.6's `meterStart` / `meterStop` take.
fn wh(value: f64) -> i64 {
    // Readings are finite (the station refuses others); `as` saturates at the bounds.
    libm_round(value) as i64
}

fn libm_round(value: f64) -> f64 {
    // `f64::round` needs std; adding a half and truncating is exact enough for Wh.
    if value >= 0.0 {
        (value + 0.5) as i64 as f64
    } else {
        (value - 0.5) as i64 as f64
    }
}

fn reason_v16(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Local => "Local",
        StopReason::Remote => "Remote",
        StopReason::EvDisconnected => "EVDisconnected",
        StopReason::PowerLoss => "PowerLoss",
        StopReason::HardReset => "HardReset",
        StopReason::SoftReset => "SoftReset",
        StopReason::DeAuthorized => "DeAuthorized",
        StopReason::UnlockCommand => "UnlockCommand",
        StopReason::Fault => "Other",
    }
}

/// (triggerReason, stoppedReason) of a 2.x Ended event.
fn reason_v2(reason: StopReason) -> (&'static str, &'static str) {
    match reason {
        StopReason::Local => ("StopAuthorized", "Local"),
        StopReason::Remote => ("RemoteStop", "Remote"),
        StopReason::EvDisconnected => ("EVCommunicationLost", "EVDisconnected"),
        StopReason::PowerLoss => ("AbnormalCondition", "PowerLoss"),
        StopReason::HardReset | StopReason::SoftReset => ("ResetCommand", "ImmediateReset"),
        StopReason::DeAuthorized => ("Deauthorized", "DeAuthorized"),
        StopReason::UnlockCommand => ("UnlockCommand", "Other"),
        StopReason::Fault => ("AbnormalCondition", "Other"),
    }
}
