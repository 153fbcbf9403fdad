//! The durable queue: transaction-related messages delivered in order, at least once, across
//! reconnects and power loss (2.x part 2 E13.FR.01-04, E04, E11, E12; 1.6 3.7 and 3.7.1), and the store records behind it.
//!
//! - A message and the transaction state it reports are one record, written before the
//!   message is sent and before the firmware hears of it ([`Station::poll_event`] waits).
//! - Only the head of the queue is ever on the wire, so the CSMS sees every transaction's
//!   messages in order. When the CSMS acknowledges it, a `Done` record removes it; a crash
//!   before that record is written sends it again (at least once).
//! - A CALLERROR or an invalid answer counts as a failed attempt: the message is retried
//!   after `message_retry_interval` times the attempts so far, and given up after
//!   `message_attempts` ([`StationEvent::Discarded`]). A closed connection or a timeout is
//!   not an attempt: the message waits for the next connection.
//! - The log grows by appends until the next one would pass
//!   [`StationConfig::store_capacity`](crate::StationConfig::store_capacity); then the live
//!   state is written as a compacted log in one atomic `Replace`.

use alloc::string::String;
use alloc::vec::Vec;

use ocpp_rpc::{AnyAction, CallFailure, Millis};
use serde_json::value::RawValue;

use super::{Pending, Station, StationEvent, secs};
use crate::hardware::{Hardware, StopReason};
use crate::messages::Message;
use crate::record::{Done, Progress, Record, StoredMessage, TxState};
use crate::store::Write;
use crate::store::log::RECORD_OVERHEAD;
use crate::wire::{Answer, Id};

/// Storage held back for each running transaction, so that its end always fits (an end
/// record of the longest tokens and both measurands stays below it; a test checks).
pub(crate) const END_RESERVE: usize = 2048;

/// A transaction the store knows: running, or ended with messages still queued.
#[derive(Debug, Clone)]
pub(crate) struct TxEntry {
    pub state: TxState,
    /// Its record's size in the store.
    pub bytes: usize,
}

/// A queued message.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub msg: StoredMessage,
    pub action: AnyAction,
    pub attempts: u32,
    pub not_before: Millis,
    pub last_failure: Option<CallFailure>,
    pub bytes: usize,
}

fn framed(record: &Record) -> (Vec<u8>, usize) {
    let bytes = record.encode();
    let size = bytes.len() + RECORD_OVERHEAD;
    (bytes, size)
}

fn tx_bytes(state: &TxState) -> usize {
    framed(&Record {
        tx: Some(state.clone()),
        ..Record::default()
    })
    .1
}

impl<H: Hardware> Station<H> {
    /// Queues `message` for `state`'s transaction, with `state` as it is after it: one record.
    pub(super) fn enqueue(&mut self, state: TxState, message: Message, now: Millis) {
        let record = self.queue_record(&state, message);
        self.apply(record.clone(), now);
        self.persist(&record);
    }

    /// The record that queues `message` for `state` (not applied yet: see
    /// [`has_room`](Self::has_room)).
    pub(super) fn queue_record(&mut self, state: &TxState, message: Message) -> Record {
        let seq = self.next_seq;
        self.next_seq += 1;
        let v16 = self.config.version == ocpp_types::OcppVersion::V16;
        let needs_csms_id = v16 && matches!(message.action, "StopTransaction" | "MeterValues");
        let payload = message.payload;
        let known = self.txs.iter().find(|t| t.state.local == state.local);
        let (tx, progress) = match known {
            Some(entry) if Progress::covers(&entry.state, state) => {
                (None, Some(Progress::of(state)))
            }
            _ => (Some(state.clone()), None),
        };
        Record {
            counters: Some((self.next_seq, self.next_tx)),
            tx,
            progress,
            message: Some(StoredMessage {
                seq,
                action: String::from(message.action),
                tx: state.local,
                needs_csms_id,
                payload,
            }),
            ..Record::default()
        }
    }

    /// Whether `extra` more bytes of transaction data fit, with the end of every running
    /// transaction still guaranteed room.
    pub(super) fn has_room(&self, extra: usize) -> bool {
        let running = self.txs.iter().filter(|t| !t.state.ended).count();
        self.live_bytes(false) + extra + running * END_RESERVE <= self.config.store_capacity
    }

    /// The size of the live state (what a compaction writes), with or without the
    /// authorization cache (which gives way when storage runs short).
    fn live_bytes(&self, with_cache: bool) -> usize {
        let txs: usize = self.txs.iter().map(|t| t.bytes).sum();
        let queue: usize = self.queue.iter().map(|q| q.bytes).sum();
        let settings: usize = self
            .settings
            .iter()
            .map(|(k, v)| k.len() + v.len() + 16 + RECORD_OVERHEAD)
            .sum();
        let cache: usize = if with_cache {
            self.cache
                .iter()
                .map(|(t, _)| t.len() + 16 + RECORD_OVERHEAD)
                .sum()
        } else {
            0
        };
        txs + queue + settings + cache + 48
    }

    /// Writes a record: appended, or, when the log would pass its capacity, the whole live
    /// state as a compacted log.
    pub(super) fn persist(&mut self, record: &Record) {
        let (bytes, size) = framed(record);
        if self.log_bytes + size > self.config.store_capacity {
            self.compact();
        } else {
            self.log_bytes += size;
            self.writes.push_back(Write::Append(bytes));
        }
    }

    /// Replaces the log with the live state (which already includes every pending append).
    /// Cache entries go first, oldest first, if the state would not fit.
    pub(super) fn compact(&mut self) {
        while self.live_bytes(true) > self.config.store_capacity && !self.cache.is_empty() {
            self.cache.remove(0);
        }
        let mut records = Vec::new();
        records.push(Record {
            counters: Some((self.next_seq, self.next_tx)),
            ..Record::default()
        });
        for (key, value) in &self.settings {
            records.push(Record {
                setting: Some((key.clone(), value.clone())),
                ..Record::default()
            });
        }
        for (token, accepted) in &self.cache {
            records.push(Record {
                cache: Some((token.clone(), Some(*accepted))),
                ..Record::default()
            });
        }
        for tx in &self.txs {
            records.push(Record {
                tx: Some(tx.state.clone()),
                ..Record::default()
            });
        }
        for queued in &self.queue {
            records.push(Record {
                message: Some(queued.msg.clone()),
                ..Record::default()
            });
        }
        let encoded: Vec<Vec<u8>> = records.iter().map(Record::encode).collect();
        self.log_bytes = encoded.iter().map(|r| r.len() + RECORD_OVERHEAD).sum();
        if self.log_bytes > self.config.store_capacity && !self.store_full_reported {
            self.store_full_reported = true;
            self.events.push_back(StationEvent::StoreFull);
        }
        // Pending appends are in the live state: the replace supersedes them.
        self.writes.clear();
        self.writes.push_back(Write::Replace(encoded));
    }

    /// Applies a record to the in-memory state (when it is made, and when the log replays).
    pub(super) fn apply(&mut self, record: Record, now: Millis) {
        if let Some((next_seq, next_tx)) = record.counters {
            self.next_seq = self.next_seq.max(next_seq);
            self.next_tx = self.next_tx.max(next_tx);
        }
        if let Some(state) = record.tx {
            self.next_tx = self.next_tx.max(state.local.saturating_add(1));
            let bytes = tx_bytes(&state);
            match self.txs.iter_mut().find(|t| t.state.local == state.local) {
                Some(entry) => *entry = TxEntry { state, bytes },
                None => self.txs.push(TxEntry { state, bytes }),
            }
        }
        if let Some(progress) = record.progress {
            let entry = self
                .txs
                .iter_mut()
                .find(|t| t.state.local == progress.local);
            if let Some(entry) = entry {
                progress.apply(&mut entry.state);
                entry.bytes = tx_bytes(&entry.state);
            }
        }
        if let Some(msg) = record.message {
            self.next_seq = self.next_seq.max(msg.seq + 1);
            let known = AnyAction::from_name(self.config.version, &msg.action)
                .filter(|_| !self.queue.iter().any(|q| q.msg.seq == msg.seq));
            if let Some(action) = known {
                let bytes = framed(&Record {
                    message: Some(msg.clone()),
                    ..Record::default()
                })
                .1;
                self.queue.push_back(Queued {
                    msg,
                    action,
                    attempts: 0,
                    not_before: now,
                    last_failure: None,
                    bytes,
                });
            }
        }
        if let Some(done) = record.done {
            self.remove_message(done);
        }
        if let Some((key, value)) = record.setting {
            self.restore_setting(&key, &value);
        }
        if let Some((token, accepted)) = record.cache {
            self.cache.retain(|(t, _)| *t != token);
            if let Some(accepted) = accepted {
                self.cache.push((token, accepted));
            }
        }
    }

    fn remove_message(&mut self, done: Done) {
        let Some(index) = self.queue.iter().position(|q| q.msg.seq == done.seq) else {
            return;
        };
        let Some(removed) = self.queue.remove(index) else {
            return;
        };
        let local = removed.msg.tx;
        if let Some(entry) = self.txs.iter_mut().find(|t| t.state.local == local) {
            if let Some(id) = done.csms_id {
                entry.state.csms_id = Some(id);
                entry.bytes = tx_bytes(&entry.state);
            }
        }
        let still_queued = self.queue.iter().any(|q| q.msg.tx == local);
        self.txs
            .retain(|t| t.state.local != local || !t.state.ended || still_queued);
    }

    /// Replays the store's records, then ends what a power loss left running.
    pub(super) fn restore(
        &mut self,
        records: &[Vec<u8>],
        now: Millis,
    ) -> Result<(), super::RestoreError> {
        for (index, bytes) in records.iter().enumerate() {
            let record = Record::decode(bytes).ok_or(super::RestoreError { record: index })?;
            self.apply(record, now);
            self.log_bytes += bytes.len() + RECORD_OVERHEAD;
        }
        let cut: Vec<TxState> = self
            .txs
            .iter()
            .filter(|t| !t.state.ended)
            .map(|t| t.state.clone())
            .collect();
        for mut state in cut {
            let reading = crate::hardware::Reading {
                energy_wh: state.meter_wh,
                power_w: 0.0,
            };
            let measurands = self.config.variables.tx_ended_measurands;
            let message =
                self.messages
                    .tx_ended(&state, reading, measurands, StopReason::PowerLoss, false);
            state.seq_no += 1;
            state.ended = true;
            self.events.push_back(StationEvent::TransactionEnded {
                connector: state.connector,
                transaction: state.local,
                reason: StopReason::PowerLoss,
            });
            self.enqueue(state, message, now);
        }
        Ok(())
    }

    /// Puts the head of the queue on the wire when the CSMS has accepted the station,
    /// nothing else of the queue is on the wire, and every write is durable.
    pub(super) fn pump(&mut self, now: Millis) {
        while self.accepted_online() && self.in_flight.is_none() && self.writes_idle() {
            let Some(head) = self.queue.front() else {
                return;
            };
            if head.not_before > now {
                return;
            }
            let payload = if head.msg.needs_csms_id {
                let csms_id = self
                    .txs
                    .iter()
                    .find(|t| t.state.local == head.msg.tx)
                    .and_then(|t| t.state.csms_id);
                match csms_id {
                    Some(id) => with_transaction_id(&head.msg.payload, id),
                    // Its StartTransaction was given up, so no transactionId will come:
                    // 1.6 errata 3.18 says to send -1.
                    None => with_transaction_id(&head.msg.payload, -1),
                }
            } else {
                Some(head.msg.payload.clone())
            };
            let (Some(payload), Some(session)) = (payload, self.session.as_mut()) else {
                return;
            };
            let seq = head.msg.seq;
            match session.call_json(head.action, &payload, now) {
                Ok(call) => {
                    self.calls.push((call, Pending::Queued(seq)));
                    self.in_flight = Some(seq);
                }
                Err(_) => return,
            }
        }
    }

    /// The CSMS's answer to the queue's head.
    pub(super) fn on_queued_outcome(
        &mut self,
        seq: u64,
        response: Result<Answer, CallFailure>,
        now: Millis,
    ) {
        if self.in_flight == Some(seq) {
            self.in_flight = None;
        }
        let Some(head) = self.queue.front_mut() else {
            return;
        };
        if head.msg.seq != seq {
            return;
        }
        match response {
            Ok(answer) => {
                let csms_id = match answer.transaction_id {
                    Some(Id::Number(id)) => Some(id),
                    _ => None,
                };
                let local = head.msg.tx;
                let refused = answer
                    .token_status
                    .as_deref()
                    .is_some_and(|s| s != "Accepted");
                self.finish_head(csms_id, false, now);
                if refused {
                    self.deauthorize(local, now);
                }
            }
            Err(CallFailure::Closed) => {}
            Err(CallFailure::Timeout) => {
                head.not_before =
                    now.plus_millis(secs(self.config.variables.message_retry_interval));
            }
            Err(failure) => {
                head.attempts += 1;
                head.last_failure = Some(failure);
                let attempts = head.attempts;
                if attempts >= self.config.variables.message_attempts {
                    self.finish_head(None, true, now);
                } else {
                    let wait = secs(self.config.variables.message_retry_interval)
                        .saturating_mul(u64::from(attempts));
                    head.not_before = now.plus_millis(wait);
                }
            }
        }
    }

    /// Removes the head: delivered (with the 1.6 transactionId its answer gave) or given up.
    fn finish_head(&mut self, csms_id: Option<i64>, discarded: bool, _now: Millis) {
        let Some(head) = self.queue.front() else {
            return;
        };
        let done = Done {
            seq: head.msg.seq,
            csms_id,
        };
        let (action, transaction) = (head.action, head.msg.tx);
        let failure = head.last_failure.clone();
        self.remove_message(done);
        self.persist(&Record {
            done: Some(done),
            ..Record::default()
        });
        self.events.push_back(if discarded {
            StationEvent::Discarded {
                action,
                transaction,
                failure,
            }
        } else {
            StationEvent::Delivered {
                action,
                transaction,
            }
        });
    }
}

/// A 1.6 payload with `"transactionId"` put first.
fn with_transaction_id(payload: &RawValue, id: i64) -> Option<alloc::boxed::Box<RawValue>> {
    let rest = payload.get().trim_start().strip_prefix('{')?;
    let separator = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    RawValue::from_string(alloc::format!("{{\"transactionId\":{id}{separator}{rest}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hardware::Reading;
    use crate::messages::Messages;
    use crate::variables::Measurands;
    use ocpp_types::{DateTime, OcppVersion};

    #[test]
    fn the_end_of_a_transaction_fits_its_reserve() {
        for version in OcppVersion::ALL {
            let state = TxState {
                local: u32::MAX,
                connector: u32::MAX,
                transaction_id: "T".repeat(36),
                csms_id: Some(i64::MIN),
                token: "K".repeat(255),
                token_type: "Y".repeat(20),
                remote_start_id: Some(i64::MIN),
                meter_start_wh: -1.234_567_890_123e300,
                meter_wh: -1.234_567_890_123e300,
                meter_at: "9999-12-31T23:59:59.999999999+14:00"
                    .parse::<DateTime>()
                    .unwrap(),
                seq_no: u32::MAX,
                ended: true,
            };
            let reading = Reading {
                energy_wh: -1.234_567_890_123e300,
                power_w: -1.234_567_890_123e300,
            };
            let message = Messages(version).tx_ended(
                &state,
                reading,
                Measurands::ALL,
                StopReason::EvDisconnected,
                true,
            );
            let record = Record {
                counters: Some((u64::MAX, u32::MAX)),
                tx: Some(state),
                message: Some(StoredMessage {
                    seq: u64::MAX,
                    action: String::from(message.action),
                    tx: u32::MAX,
                    needs_csms_id: true,
                    payload: message.payload,
                }),
                ..Record::default()
            };
            let size = framed(&record).1;
            assert!(size <= END_RESERVE, "{version:?}: {size} bytes");
        }
    }
}
