//! The messages the station sends, built once for every version: 1.6 and 2.x differ in
//! names and shapes, 2.0.1 and 2.1 not at all for these (a payload built here is valid for
//! both, which the tests check by decoding every frame with the CSMS's decoders).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use ocpp_types::{DateTime, OcppVersion};
use serde_json::{Map, Value, json};

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
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub action: &'static str,
    pub payload: Value,
}

fn message(action: &'static str, payload: Value) -> Message {
    Message { action, payload }
}

/// Builds the station's messages for one version.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Messages(pub OcppVersion);

impl Messages {
    fn v16(self) -> bool {
        self.0 == OcppVersion::V16
    }

    pub fn boot(self, info: &BootInfo) -> Message {
        let mut payload = Map::new();
        if self.v16() {
            payload.insert("chargePointVendor".into(), json!(info.vendor));
            payload.insert("chargePointModel".into(), json!(info.model));
            if let Some(serial) = &info.serial_number {
                payload.insert("chargePointSerialNumber".into(), json!(serial));
            }
            if let Some(firmware) = &info.firmware_version {
                payload.insert("firmwareVersion".into(), json!(firmware));
            }
        } else {
            let mut station = Map::new();
            station.insert("vendorName".into(), json!(info.vendor));
            station.insert("model".into(), json!(info.model));
            if let Some(serial) = &info.serial_number {
                station.insert("serialNumber".into(), json!(serial));
            }
            if let Some(firmware) = &info.firmware_version {
                station.insert("firmwareVersion".into(), json!(firmware));
            }
            payload.insert("chargingStation".into(), Value::Object(station));
            payload.insert("reason".into(), json!("PowerUp"));
        }
        message("BootNotification", Value::Object(payload))
    }

    pub fn heartbeat(self) -> Message {
        message("Heartbeat", json!({}))
    }

    pub fn status(self, connector: ConnectorId, status: ConnectorStatus, now: DateTime) -> Message {
        let name = status.name(self.0);
        let payload = if self.v16() {
            let error = if status == ConnectorStatus::Faulted {
                "OtherError"
            } else {
                "NoError"
            };
            json!({"connectorId": connector, "errorCode": error, "status": name, "timestamp": now})
        } else {
            json!({"timestamp": now, "connectorStatus": name, "evseId": connector, "connectorId": 1})
        };
        message("StatusNotification", payload)
    }

    pub fn authorize(self, token: &str, kind: &str) -> Message {
        let payload = if self.v16() {
            json!({"idTag": token})
        } else {
            json!({"idToken": {"idToken": token, "type": kind}})
        };
        message("Authorize", payload)
    }

    fn sampled(self, reading: Reading, measurands: Measurands, context: &str) -> Vec<Value> {
        measurands
            .members()
            .map(|(measurand, unit)| {
                let value = if measurand == "Power.Active.Import" {
                    reading.power_w
                } else {
                    reading.energy_wh
                };
                if self.v16() {
                    json!({"value": format!("{value}"), "context": context,
                           "measurand": measurand, "unit": unit})
                } else {
                    json!({"value": value, "context": context, "measurand": measurand,
                           "unitOfMeasure": {"unit": unit}})
                }
            })
            .collect()
    }

    fn meter_value(
        self,
        reading: Reading,
        measurands: Measurands,
        context: &str,
        at: DateTime,
    ) -> Option<Value> {
        let sampled = self.sampled(reading, measurands, context);
        (!sampled.is_empty()).then(|| json!({"timestamp": at, "sampledValue": sampled}))
    }

    fn transaction_event(
        self,
        tx: &TxState,
        event_type: &str,
        trigger: &str,
        at: DateTime,
        offline: bool,
        meter_value: Option<Value>,
    ) -> Message {
        let mut payload = Map::new();
        payload.insert("eventType".into(), json!(event_type));
        payload.insert("timestamp".into(), json!(at));
        payload.insert("triggerReason".into(), json!(trigger));
        payload.insert("seqNo".into(), json!(tx.seq_no));
        if offline {
            payload.insert("offline".into(), json!(true));
        }
        let mut info = Map::new();
        info.insert("transactionId".into(), json!(tx.transaction_id));
        payload.insert("transactionInfo".into(), Value::Object(info));
        if let Some(meter_value) = meter_value {
            payload.insert("meterValue".into(), json!([meter_value]));
        }
        message("TransactionEvent", Value::Object(payload))
    }

    fn info(message: &mut Message) -> Option<&mut Map<String, Value>> {
        message
            .payload
            .get_mut("transactionInfo")
            .and_then(Value::as_object_mut)
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
                json!({"connectorId": tx.connector, "idTag": tx.token,
                       "meterStart": wh(tx.meter_start_wh), "timestamp": tx.meter_at}),
            );
        }
        let trigger = match trigger {
            StartTrigger::Authorized => "Authorized",
            StartTrigger::CablePluggedIn => "CablePluggedIn",
            StartTrigger::RemoteStart => "RemoteStart",
        };
        let meter = self.meter_value(reading, measurands, "Transaction.Begin", tx.meter_at);
        let mut event = self.transaction_event(tx, "Started", trigger, tx.meter_at, offline, meter);
        if let Some(info) = Self::info(&mut event) {
            info.insert("chargingState".into(), json!("Charging"));
            if let Some(id) = tx.remote_start_id {
                info.insert("remoteStartId".into(), json!(id));
            }
        }
        if let Value::Object(payload) = &mut event.payload {
            payload.insert("evse".into(), json!({"id": tx.connector, "connectorId": 1}));
            payload.insert(
                "idToken".into(),
                json!({"idToken": tx.token, "type": tx.token_type}),
            );
        }
        event
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
        let meter = self.meter_value(reading, measurands, context, tx.meter_at)?;
        Some(if self.v16() {
            message(
                "MeterValues",
                json!({"connectorId": tx.connector, "meterValue": [meter]}),
            )
        } else {
            self.transaction_event(tx, "Updated", trigger, tx.meter_at, offline, Some(meter))
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
            let mut payload = Map::new();
            payload.insert("idTag".into(), json!(tx.token));
            payload.insert("meterStop".into(), json!(wh(tx.meter_wh)));
            payload.insert("timestamp".into(), json!(tx.meter_at));
            payload.insert("reason".into(), json!(reason_v16(reason)));
            if let Some(meter) = meter {
                payload.insert("transactionData".into(), json!([meter]));
            }
            return message("StopTransaction", Value::Object(payload));
        }
        let (trigger, stopped) = reason_v2(reason);
        let mut event = self.transaction_event(tx, "Ended", trigger, tx.meter_at, offline, meter);
        if let Some(info) = Self::info(&mut event) {
            info.insert("stoppedReason".into(), json!(stopped));
        }
        event
    }

    /// A triggered MeterValues (TriggerMessage), outside the queue: no `transactionId`.
    pub fn meter_values(
        self,
        connector: ConnectorId,
        reading: Reading,
        measurands: Measurands,
        at: DateTime,
    ) -> Option<Message> {
        let meter = self.meter_value(reading, measurands, "Trigger", at)?;
        Some(if self.v16() {
            message(
                "MeterValues",
                json!({"connectorId": connector, "meterValue": [meter]}),
            )
        } else {
            message(
                "MeterValues",
                json!({"evseId": connector, "meterValue": [meter]}),
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
