//! The records the station core writes to its [`Store`](crate::store::Store), and how they
//! replay.
//!
//! Every record is an upsert of whole facts, so replaying the log (or a compacted snapshot of
//! it) rebuilds the same state, and one record is all-or-nothing: a transaction's state and
//! the message that reports it are written in the same record, never one without the other.
//! Records are [postcard](https://docs.rs/postcard) (serde's compact binary format: fields in
//! order, no names; an `Option` is one byte and its value): a decoder a fraction of the size
//! of a JSON one on a microcontroller, and shorter records. Every record starts with one
//! presence byte per fact, so it is at least [`Record::SHORTEST`] bytes long. A queued
//! message's payload is kept as its JSON text, so what is delivered after a restart is byte
//! for byte what was queued.

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
    pub local: u32,
    pub connector: ConnectorId,
    /// The 2.x `transactionId` (the station chooses it); empty on 1.6.
    pub transaction_id: String,
    /// 1.6: the CSMS's `transactionId`, once the StartTransaction answer gave it.
    pub csms_id: Option<i64>,
    pub token: String,
    pub token_type: String,
    pub remote_start_id: Option<i64>,
    pub meter_start_wh: f64,
    /// The last meter reading stored, and when.
    pub meter_wh: f64,
    pub meter_at: DateTime,
    /// 2.x: the `seqNo` of the next TransactionEvent.
    pub seq_no: u32,
    /// Whether it has ended (its end message is queued).
    pub ended: bool,
}

/// What changes in a transaction from one message to the next: written instead of the
/// whole [`TxState`] (a sample's record is a third smaller for it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct Progress {
    pub local: u32,
    pub seq_no: u32,
    pub meter_wh: f64,
    pub meter_at: DateTime,
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
    pub seq: u64,
    pub action: String,
    /// The transaction it belongs to ([`TxState::local`]).
    pub tx: u32,
    /// 1.6: the payload lacks `transactionId`, which the StartTransaction answer gives.
    pub needs_csms_id: bool,
    #[serde(with = "json_text")]
    pub payload: Box<RawValue>,
}

/// A message left the queue: delivered (with the 1.6 `transactionId` a StartTransaction
/// answer gave) or given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Done {
    pub seq: u64,
    pub csms_id: Option<i64>,
}

/// One record: any of the facts, applied in field order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Record {
    /// Counters that must never go back (next queue seq, next local transaction number).
    pub counters: Option<(u64, u32)>,
    pub tx: Option<TxState>,
    pub progress: Option<Progress>,
    pub message: Option<StoredMessage>,
    pub done: Option<Done>,
    /// A variable the CSMS changed: (key, value).
    pub setting: Option<(String, String)>,
    /// An authorization cache entry: (token, accepted); `None` removes it.
    pub cache: Option<(String, Option<bool>)>,
}

impl Record {
    /// The length of a record without any fact: one presence byte for each.
    pub const SHORTEST: usize = 7;

    pub fn encode(&self) -> Vec<u8> {
        // Serializing into a `Vec` only fails for what a record does not hold (sequences of
        // unknown length, `collect_str` of a failing `Display`).
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// The record in `bytes`, all of them; `None` if they are not one.
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        match postcard::take_from_bytes(bytes) {
            Ok((record, [])) => Some(record),
            _ => None,
        }
    }
}

/// A JSON payload kept as its text (postcard cannot carry serde_json's `RawValue` token); read
/// back, the text must be JSON again.
mod json_text {
    use alloc::boxed::Box;
    use alloc::string::String;

    use serde::{Deserialize, Deserializer, Serializer, de};
    use serde_json::value::RawValue;

    pub fn serialize<S: Serializer>(payload: &RawValue, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(payload.get())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Box<RawValue>, D::Error> {
        RawValue::from_string(String::deserialize(deserializer)?).map_err(de::Error::custom)
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
        // A byte short, a byte more, or JSON (the format before 0.1): not a record.
        assert!(Record::decode(&bytes[..bytes.len() - 1]).is_none());
        assert!(Record::decode(&[&bytes[..], &[0]].concat()).is_none());
        assert!(Record::decode(b"{\"T\":1}").is_none());
    }

    #[test]
    fn a_record_without_facts_is_the_shortest() {
        assert_eq!(Record::default().encode().len(), Record::SHORTEST);
        let counters = Record {
            counters: Some((0, 0)),
            ..Record::default()
        };
        assert_eq!(counters.encode().len(), Record::SHORTEST + 2);
    }

    #[test]
    fn a_payload_that_is_not_json_is_not_a_record() {
        let record = Record {
            message: Some(StoredMessage {
                seq: 1,
                action: "MeterValues".into(),
                tx: 1,
                needs_csms_id: false,
                payload: RawValue::from_string("{}".into()).unwrap(),
            }),
            ..Record::default()
        };
        let mut bytes = record.encode();
        let at = bytes.windows(2).position(|w| w == b"{}").unwrap();
        bytes[at] = b'[';
        assert!(Record::decode(&bytes).is_none());
    }
}
