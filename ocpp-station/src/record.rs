//! The records the station core writes to its [`Store`](crate::store::Store), and how they
//! replay.
//!
//! Every record is an upsert of whole facts, so replaying the log (or a compacted snapshot of
//! it) rebuilds the same state, and one record is all-or-nothing: a transaction's state and
//! the message that reports it are written in the same record, never one without the other.
//! Records are JSON (short keys): a queued message's payload is kept verbatim, so what is
//! delivered after a restart is byte for byte what was queued.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use ocpp_types::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::hardware::ConnectorId;

/// A transaction as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TxState {
    /// This station's number for it (unique for the store's life).
    #[serde(rename = "l")]
    pub local: u32,
    #[serde(rename = "c")]
    pub connector: ConnectorId,
    /// The 2.x `transactionId` (the station chooses it); empty on 1.6.
    #[serde(rename = "i")]
    pub transaction_id: String,
    /// 1.6: the CSMS's `transactionId`, once the StartTransaction answer gave it.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub csms_id: Option<i64>,
    #[serde(rename = "t")]
    pub token: String,
    #[serde(rename = "y", default)]
    pub token_type: String,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub remote_start_id: Option<i64>,
    #[serde(rename = "s")]
    pub meter_start_wh: f64,
    /// The last meter reading stored, and when.
    #[serde(rename = "m")]
    pub meter_wh: f64,
    #[serde(rename = "w")]
    pub meter_at: DateTime,
    /// 2.x: the `seqNo` of the next TransactionEvent.
    #[serde(rename = "q")]
    pub seq_no: u32,
    /// Whether it has ended (its end message is queued).
    #[serde(rename = "e", default)]
    pub ended: bool,
}

/// What changes in a transaction from one message to the next: written instead of the
/// whole [`TxState`] (a sample's record is a third smaller for it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Progress {
    #[serde(rename = "l")]
    pub local: u32,
    #[serde(rename = "q")]
    pub seq_no: u32,
    #[serde(rename = "m")]
    pub meter_wh: f64,
    #[serde(rename = "w")]
    pub meter_at: DateTime,
    #[serde(rename = "e", default)]
    pub ended: bool,
}

impl Progress {
    pub fn of(state: &TxState) -> Progress {
        Progress {
            local: state.local,
            seq_no: state.seq_no,
            meter_wh: state.meter_wh,
            meter_at: state.meter_at,
            ended: state.ended,
        }
    }

    /// Whether `after` is `before` with only this record's fields changed.
    pub fn covers(before: &TxState, after: &TxState) -> bool {
        let mut moved = before.clone();
        Progress::of(after).apply(&mut moved);
        moved == *after
    }

    pub fn apply(self, state: &mut TxState) {
        state.seq_no = self.seq_no;
        state.meter_wh = self.meter_wh;
        state.meter_at = self.meter_at;
        state.ended = self.ended;
    }
}

/// A transaction-related message waiting for delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredMessage {
    /// Its place in the queue (increasing for the store's life).
    #[serde(rename = "n")]
    pub seq: u64,
    #[serde(rename = "a")]
    pub action: String,
    /// The transaction it belongs to ([`TxState::local`]).
    #[serde(rename = "x")]
    pub tx: u32,
    /// 1.6: the payload lacks `transactionId`, which the StartTransaction answer gives.
    #[serde(rename = "f", default)]
    pub needs_csms_id: bool,
    #[serde(rename = "p")]
    pub payload: Box<RawValue>,
}

/// A message left the queue: delivered (with the 1.6 `transactionId` a StartTransaction
/// answer gave) or given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Done {
    #[serde(rename = "n")]
    pub seq: u64,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub csms_id: Option<i64>,
}

/// One record: any of the facts, applied in field order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Record {
    /// Counters that must never go back (next queue seq, next local transaction number).
    #[serde(rename = "N", default, skip_serializing_if = "Option::is_none")]
    pub counters: Option<(u64, u32)>,
    #[serde(rename = "T", default, skip_serializing_if = "Option::is_none")]
    pub tx: Option<TxState>,
    #[serde(rename = "P", default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    #[serde(rename = "M", default, skip_serializing_if = "Option::is_none")]
    pub message: Option<StoredMessage>,
    #[serde(rename = "D", default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Done>,
    /// A variable the CSMS changed: (key, value).
    #[serde(rename = "V", default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<(String, String)>,
    /// An authorization cache entry: (token, accepted); `None` removes it.
    #[serde(rename = "A", default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<(String, Option<bool>)>,
}

impl Record {
    pub fn encode(&self) -> Vec<u8> {
        // A record holds strings, numbers and JSON already validated: it always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Option<Record> {
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_with_its_payload_verbatim() {
        let payload = RawValue::from_string(r#"{"seqNo": 0,"a" :[1, 2]}"#.into()).unwrap();
        let record = Record {
            message: Some(StoredMessage {
                seq: 7,
                action: "TransactionEvent".into(),
                tx: 1,
                needs_csms_id: false,
                payload,
            }),
            done: Some(Done {
                seq: 6,
                csms_id: Some(-3),
            }),
            ..Record::default()
        };
        let bytes = record.encode();
        let back = Record::decode(&bytes).unwrap();
        assert_eq!(
            back.message.as_ref().unwrap().payload.get(),
            r#"{"seqNo": 0,"a" :[1, 2]}"#
        );
        assert_eq!(back.done, record.done);
        assert!(Record::decode(b"{\"T\":1}").is_none());
    }
}
