//! [`Outbox`]: what waits to reach one backend for one station, in order, the transaction
//! messages durably.
//!
//! Every message for a backend goes through its outbox, so the backend sees the station's
//! calls in the order the station made them, however long it was away. Transaction messages
//! are appended to a [`FileStore`] before they count as queued and marked done once the
//! backend answered; at start-up the log gives back every one not yet done. Other messages
//! live in memory and are dropped while the backend is unreachable (a Heartbeat is worth
//! nothing an hour late).
//!
//! On 1.6 the backend hands out its own transaction ids: the outbox keeps, durably, which id
//! of the backend stands for the id the station was given, and puts the backend's id into
//! the StopTransaction and MeterValues it sends there.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ocpp_rpc::RpcError;
use ocpp_station::store::{FileStore, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Notify, oneshot};

/// How many transaction ids a 1.6 outbox maps at the most (the oldest go first).
const MAX_MAPPED: usize = 10_000;
/// Messages other than transaction messages that may wait for a backend that is connected
/// but slow; a copy beyond them is dropped.
const MAX_VOLATILE: usize = 1_000;
/// Transaction messages that may wait for one backend. Beyond them a new one is dropped and
/// logged as an error: memory stays bounded however long a backend is away (the station
/// sends a few hundred a day; this is weeks of them).
const MAX_DURABLE: usize = 20_000;
/// Records appended before the log is compacted (once no transaction message is pending).
const COMPACT_AFTER: usize = 1_000;

/// The answer a message got: the backend's response payload, or its CALLERROR (or why the
/// router could not deliver it).
pub(crate) type Answer = Result<Value, RpcError>;

/// One message waiting for the backend.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) seq: u64,
    pub(crate) action: String,
    pub(crate) payload: Value,
    /// A transaction message: in the store until the backend answered.
    pub(crate) durable: bool,
    /// For a 1.6 StartTransaction: the transaction id the station was given.
    pub(crate) visible: Option<i64>,
    pub(crate) reply: Option<oneshot::Sender<Answer>>,
}

/// A record of the store.
#[derive(Debug, Serialize, Deserialize)]
enum Record {
    /// A transaction message queued.
    Queued {
        seq: u64,
        action: String,
        payload: Value,
        visible: Option<i64>,
    },
    /// The station-visible id of a queued StartTransaction, learnt after it was queued.
    Visible { seq: u64, id: i64 },
    /// The backend answered message `seq`.
    Done { seq: u64 },
    /// The backend's transaction id `backend` stands for the station's `visible`.
    Mapped { visible: i64, backend: i64 },
}

/// The messages waiting for one backend, and the task's wake-up.
#[derive(Debug)]
pub(crate) struct Outbox {
    state: Mutex<State>,
    /// Signalled when a message is queued.
    pub(crate) wake: Notify,
}

#[derive(Debug)]
struct State {
    next_seq: u64,
    entries: VecDeque<Entry>,
    /// How many of `entries` are transaction messages.
    durable: usize,
    /// Where the store is, made at the first write if it is not there yet.
    dir: PathBuf,
    log: Log,
    appended: usize,
    mapped: HashMap<i64, i64>,
    mapped_order: VecDeque<i64>,
    /// StartTransactions answered before the station-visible id was known: seq -> the
    /// backend's id.
    answered_starts: HashMap<u64, i64>,
}

/// The outbox's store.
#[derive(Debug)]
enum Log {
    /// Not opened yet (nothing was ever written for this station and backend).
    Closed,
    Open(FileStore),
    /// It could not be opened: transaction messages are kept in memory only (logged once).
    Failed,
}

impl Outbox {
    /// Opens the outbox whose store is `dir`, with every transaction message a previous run
    /// left undelivered at its head.
    pub(crate) fn open(dir: &Path) -> Outbox {
        let mut state = State {
            next_seq: 0,
            entries: VecDeque::new(),
            durable: 0,
            dir: dir.to_path_buf(),
            log: Log::Closed,
            appended: 0,
            mapped: HashMap::new(),
            mapped_order: VecDeque::new(),
            answered_starts: HashMap::new(),
        };
        // A backend that never missed a transaction message of this station has no store:
        // it is made at the first write, not for every station that connects.
        if dir.exists() {
            state.open_store();
        }
        Outbox {
            state: Mutex::new(state),
            wake: Notify::new(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the queue half-changed in a way that
        // matters more than stopping: go on with what is there.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a message (a transaction message durably, before this returns) and returns
    /// its sequence number; `None` if [`MAX_DURABLE`] transaction messages, or for another
    /// message [`MAX_VOLATILE`] others, wait already.
    pub(crate) fn push(
        &self,
        action: &str,
        payload: Value,
        durable: bool,
        visible: Option<i64>,
        reply: Option<oneshot::Sender<Answer>>,
    ) -> Option<u64> {
        let seq = {
            let mut state = self.state();
            if durable && state.durable >= MAX_DURABLE {
                tracing::error!(
                    action,
                    "{MAX_DURABLE} transaction messages wait for a backend: this one is dropped"
                );
                return None;
            }
            if !durable && state.entries.len() - state.durable >= MAX_VOLATILE {
                tracing::warn!(action, "a backend is too slow: copy dropped");
                return None;
            }
            let seq = state.next_seq;
            state.next_seq += 1;
            if durable {
                state.durable += 1;
                state.write(&Record::Queued {
                    seq,
                    action: action.to_owned(),
                    payload: payload.clone(),
                    visible,
                });
            }
            state.entries.push_back(Entry {
                seq,
                action: action.to_owned(),
                payload,
                durable,
                visible,
                reply,
            });
            seq
        };
        self.wake.notify_one();
        Some(seq)
    }

    /// The station-visible transaction id of the queued StartTransaction `seq`, learnt once
    /// the station was answered; if the backend already answered it, the mapping is kept.
    pub(crate) fn set_visible(&self, seq: u64, id: i64) {
        let mut state = self.state();
        if let Some(entry) = state.entries.iter_mut().find(|e| e.seq == seq) {
            entry.visible = Some(id);
            if entry.durable {
                state.write(&Record::Visible { seq, id });
            }
        } else if let Some(backend) = state.answered_starts.remove(&seq) {
            state.map(id, backend);
        }
    }

    /// The message at the head, ready to send: its sequence number, action and payload (on
    /// 1.6 with the backend's transaction id in place of the station's).
    pub(crate) fn head(&self) -> Option<(u64, String, Value)> {
        let state = self.state();
        let entry = state.entries.front()?;
        let mut payload = entry.payload.clone();
        if matches!(entry.action.as_str(), "StopTransaction" | "MeterValues") {
            if let Some(id) = payload.get("transactionId").and_then(Value::as_i64) {
                if let Some(backend) = state.mapped.get(&id) {
                    payload["transactionId"] = Value::from(*backend);
                }
            }
        }
        Some((entry.seq, entry.action.clone(), payload))
    }

    /// Whether anything waits.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.state().entries.is_empty()
    }

    /// The backend answered the head `seq`: it leaves the queue (durably), its StartTransaction
    /// id is mapped, and whoever waits for the answer gets it.
    pub(crate) fn finish(&self, seq: u64, answer: Answer) {
        let mut state = self.state();
        let Some(at) = state.entries.iter().position(|e| e.seq == seq) else {
            return;
        };
        let Some(entry) = state.entries.remove(at) else {
            return;
        };
        if entry.durable {
            state.durable -= 1;
            state.write(&Record::Done { seq });
        }
        if entry.action == "StartTransaction" {
            if let Some(backend) = answer
                .as_ref()
                .ok()
                .and_then(|a| a.get("transactionId"))
                .and_then(Value::as_i64)
            {
                match entry.visible {
                    Some(visible) => state.map(visible, backend),
                    None => {
                        if state.answered_starts.len() >= 64 {
                            state.answered_starts.clear();
                        }
                        state.answered_starts.insert(seq, backend);
                    }
                }
            }
        }
        state.compact();
        drop(state);
        if let Some(reply) = entry.reply {
            let _ = reply.send(answer);
        }
    }

    /// The backend did not answer message `seq` on a live connection: unless it is a
    /// transaction message, it leaves the queue unanswered. Whether it left.
    pub(crate) fn give_up(&self, seq: u64) -> bool {
        let mut state = self.state();
        let before = state.entries.len();
        state.entries.retain(|e| e.seq != seq || e.durable);
        state.entries.len() < before
    }

    /// The backend is unreachable: the messages that are not transaction messages leave the
    /// queue unanswered (whoever waits for them sees the sender dropped).
    pub(crate) fn drop_volatile(&self) {
        self.state().entries.retain(|e| e.durable);
    }
}

impl State {
    /// Opens the store and takes back what it holds.
    fn open_store(&mut self) {
        let dir = &self.dir;
        let opened = FileStore::open(dir).and_then(|mut store| {
            let records = store
                .load()
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok((store, records))
        });
        match opened {
            Ok((store, records)) => {
                self.appended = records.len();
                let records: Vec<Record> = records
                    .iter()
                    .filter_map(|record| match serde_json::from_slice(record) {
                        Ok(record) => Some(record),
                        Err(error) => {
                            tracing::warn!(?dir, %error, "unreadable record skipped");
                            None
                        }
                    })
                    .collect();
                for record in records {
                    self.replay(record);
                }
                self.log = Log::Open(store);
            }
            Err(error) => {
                tracing::error!(
                    ?dir,
                    %error,
                    "replay store unavailable: transaction messages for this backend are kept in memory only"
                );
                self.log = Log::Failed;
            }
        }
    }

    fn replay(&mut self, record: Record) {
        match record {
            Record::Queued {
                seq,
                action,
                payload,
                visible,
            } => {
                self.next_seq = self.next_seq.max(seq + 1);
                self.durable += 1;
                self.entries.push_back(Entry {
                    seq,
                    action,
                    payload,
                    durable: true,
                    visible,
                    reply: None,
                });
            }
            Record::Visible { seq, id } => {
                if let Some(entry) = self.entries.iter_mut().find(|e| e.seq == seq) {
                    entry.visible = Some(id);
                }
            }
            // Mostly the head: found at once, not by a scan of the whole queue.
            Record::Done { seq } => {
                if let Some(at) = self.entries.iter().position(|e| e.seq == seq) {
                    self.entries.remove(at);
                    self.durable -= 1;
                }
            }
            Record::Mapped { visible, backend } => self.remember(visible, backend),
        }
    }

    fn map(&mut self, visible: i64, backend: i64) {
        if visible != backend {
            self.remember(visible, backend);
            self.write(&Record::Mapped { visible, backend });
        }
    }

    fn remember(&mut self, visible: i64, backend: i64) {
        if self.mapped.insert(visible, backend).is_none() {
            self.mapped_order.push_back(visible);
            if self.mapped_order.len() > MAX_MAPPED {
                if let Some(oldest) = self.mapped_order.pop_front() {
                    self.mapped.remove(&oldest);
                }
            }
        }
    }

    fn write(&mut self, record: &Record) {
        if matches!(self.log, Log::Closed) {
            self.open_store();
        }
        let Log::Open(store) = &mut self.log else {
            return;
        };
        let bytes = match serde_json::to_vec(record) {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::error!(%error, "record not encoded");
                return;
            }
        };
        match store.append(&bytes) {
            Ok(()) => self.appended += 1,
            Err(error) => tracing::error!(%error, "replay store write failed; kept in memory"),
        }
    }

    /// Rewrites the log as the mappings alone once it has grown and nothing durable waits.
    fn compact(&mut self) {
        if self.appended < COMPACT_AFTER || self.durable > 0 {
            return;
        }
        let Log::Open(store) = &mut self.log else {
            return;
        };
        let records: Vec<Vec<u8>> = self
            .mapped_order
            .iter()
            .filter_map(|visible| {
                let backend = *self.mapped.get(visible)?;
                serde_json::to_vec(&Record::Mapped {
                    visible: *visible,
                    backend,
                })
                .ok()
            })
            .collect();
        match store.replace(&records) {
            Ok(()) => self.appended = records.len(),
            Err(error) => tracing::warn!(%error, "replay store not compacted"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ocpp-router-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn transaction_messages_survive_a_restart_in_order_and_others_do_not() {
        let dir = dir("restart");
        let outbox = Outbox::open(&dir);
        outbox.push("StartTransaction", json!({"n": 1}), true, Some(-5), None);
        outbox.push("Heartbeat", json!({}), false, None, None);
        outbox.push(
            "MeterValues",
            json!({"transactionId": -5}),
            true,
            None,
            None,
        );
        outbox.push(
            "StopTransaction",
            json!({"transactionId": -5}),
            true,
            None,
            None,
        );
        let Some((seq, action, _)) = outbox.head() else {
            panic!("empty")
        };
        assert_eq!(action, "StartTransaction");
        outbox.finish(seq, Ok(json!({"transactionId": 42})));
        drop(outbox);
        let outbox = Outbox::open(&dir);
        let mut seen = Vec::new();
        while let Some((seq, action, payload)) = outbox.head() {
            seen.push((action, payload));
            outbox.finish(seq, Ok(json!({})));
        }
        assert_eq!(
            seen,
            [
                ("MeterValues".to_owned(), json!({"transactionId": 42})),
                ("StopTransaction".to_owned(), json!({"transactionId": 42})),
            ]
        );
        drop(outbox);
        assert!(Outbox::open(&dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_store_is_made_until_a_transaction_message_waits() {
        let dir = dir("lazy");
        let outbox = Outbox::open(&dir);
        let heartbeat = outbox.push("Heartbeat", json!({}), false, None, None);
        outbox.finish(heartbeat.unwrap_or(u64::MAX), Ok(json!({})));
        assert!(!dir.exists());
        outbox.push("TransactionEvent", json!({}), true, None, None);
        assert!(dir.join(FileStore::LOG_FILE).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_id_learnt_after_the_answer_is_still_mapped_and_volatile_messages_drop() {
        let dir = dir("late");
        let outbox = Outbox::open(&dir);
        let start = outbox
            .push("StartTransaction", json!({}), true, None, None)
            .unwrap_or_else(|| panic!("an empty queue takes a transaction message"));
        outbox.push("Heartbeat", json!({}), false, None, None);
        outbox.finish(start, Ok(json!({"transactionId": 9})));
        outbox.set_visible(start, 3);
        outbox.drop_volatile();
        assert!(outbox.is_empty());
        outbox.push(
            "StopTransaction",
            json!({"transactionId": 3}),
            true,
            None,
            None,
        );
        assert_eq!(
            outbox.head().map(|(_, _, p)| p),
            Some(json!({"transactionId": 9}))
        );
        // Copies pile up no further than MAX_VOLATILE behind a slow backend.
        let queued = (0..MAX_VOLATILE + 5)
            .filter(|_| {
                outbox
                    .push("Heartbeat", json!({}), false, None, None)
                    .is_some()
            })
            .count();
        assert_eq!(queued, MAX_VOLATILE);
        // Transaction messages up to MAX_DURABLE (one is queued already), and they survive.
        let kept = (0..MAX_DURABLE + 5)
            .filter(|_| {
                outbox
                    .push("MeterValues", json!({}), true, None, None)
                    .is_some()
            })
            .count();
        assert_eq!(kept, MAX_DURABLE - 1);
        drop(outbox);
        let outbox = Outbox::open(&dir);
        let mut replayed = 0;
        while let Some((seq, _, _)) = outbox.head() {
            outbox.finish(seq, Ok(json!({})));
            replayed += 1;
        }
        assert_eq!(replayed, MAX_DURABLE);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
