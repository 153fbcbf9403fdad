//! [`MemoryStore`]: a log in memory, framed as on storage, with crash injection for tests.

use alloc::vec::Vec;
use core::fmt;

use super::Store;
use super::log::{self, RecordTooLarge};

/// Why a [`MemoryStore`] refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryStoreError {
    /// The store crashed (as set up by [`MemoryStore::fail_after`]) and stays down until
    /// [`MemoryStore::restart`].
    Crashed,
    /// A record was longer than [`log::MAX_RECORD`]; nothing was written.
    TooLarge(RecordTooLarge),
}

impl fmt::Display for MemoryStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Crashed => f.write_str("the memory store crashed (injected) and must restart"),
            Self::TooLarge(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl core::error::Error for MemoryStoreError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Crashed => None,
            Self::TooLarge(error) => Some(error),
        }
    }
}

impl From<RecordTooLarge> for MemoryStoreError {
    fn from(error: RecordTooLarge) -> Self {
        Self::TooLarge(error)
    }
}

/// A crash to come: after `writes` more successful writes, the next one is torn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PlannedCrash {
    writes: usize,
    torn_bytes: usize,
}

/// A [`Store`] in memory that keeps its log framed exactly as a file would ([`log`]), so that
/// loading it goes through the same decoding as a real store, torn tails included.
///
/// For tests it crashes on demand, deterministically: [`fail_after`](Self::fail_after) chooses
/// which write is interrupted and how much of it reaches "storage"; the store then refuses
/// every call until [`restart`](Self::restart), like a station that lost power, and keeps its
/// bytes across the restart.
///
/// ```
/// use ocpp_station::store::{MemoryStore, MemoryStoreError, Store};
///
/// let mut store = MemoryStore::new();
/// store.append(b"one")?;
/// store.fail_after(1, 5); // "two" is written; "three" is torn after 5 of its 13 bytes
/// store.append(b"two")?;
/// assert_eq!(store.append(b"three"), Err(MemoryStoreError::Crashed));
/// assert_eq!(store.load(), Err(MemoryStoreError::Crashed));
/// store.restart();
/// assert_eq!(store.load()?, [b"one".to_vec(), b"two".to_vec()]);
/// # Ok::<(), MemoryStoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryStore {
    /// The framed log, possibly with a torn tail.
    bytes: Vec<u8>,
    /// Whether `bytes` is known to end after the last good record (no torn tail).
    clean: bool,
    /// Successful writes so far.
    writes: usize,
    planned: Option<PlannedCrash>,
    crashed: bool,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            bytes: Vec::new(),
            clean: true,
            writes: 0,
            planned: None,
            crashed: false,
        }
    }

    /// A store holding these bytes, as a file read back from storage: they may end in a torn or
    /// damaged tail, or be anything at all.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            clean: false,
            ..Self::new()
        }
    }

    /// The bytes held, framed, including any torn tail not yet truncated by a load or an append.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The number of bytes held ([`bytes`](Self::bytes)`.len()`).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The number of writes ([`append`](Store::append) and [`replace`](Store::replace)) that
    /// succeeded since the store was made; a crashed or refused one does not count.
    pub fn writes(&self) -> usize {
        self.writes
    }

    /// Whether the store has crashed and refuses calls until [`restart`](Self::restart).
    pub fn crashed(&self) -> bool {
        self.crashed
    }

    /// Plans a crash: after `writes` more successful writes, the next write is interrupted and
    /// returns [`MemoryStoreError::Crashed`], and so does every call after it until
    /// [`restart`](Self::restart).
    ///
    /// An interrupted [`append`](Store::append) leaves the first `torn_bytes` bytes of its
    /// framed record (clamped to the frame's length, [`log::RECORD_OVERHEAD`] + the record's)
    /// at the end of the log: with the whole frame the record survives although the append
    /// failed, as when power goes after the data reached storage but before the answer. An
    /// interrupted [`replace`](Store::replace) leaves the old log, whole: replacing is atomic.
    ///
    /// A later call replaces the plan.
    pub fn fail_after(&mut self, writes: usize, torn_bytes: usize) {
        self.planned = Some(PlannedCrash { writes, torn_bytes });
    }

    /// Powers the store back up after a crash: it accepts calls again, any planned crash is
    /// dropped, and the bytes are kept as they are, torn tail included (the next
    /// [`load`](Store::load) or [`append`](Store::append) truncates it).
    pub fn restart(&mut self) {
        self.crashed = false;
        self.planned = None;
        self.clean = false;
    }

    /// Fails if crashed.
    fn up(&self) -> Result<(), MemoryStoreError> {
        if self.crashed {
            Err(MemoryStoreError::Crashed)
        } else {
            Ok(())
        }
    }

    /// Counts down the planned crash for a write about to happen: `Some(torn_bytes)` if this
    /// write is the one to interrupt (the store is then crashed).
    fn crash_now(&mut self) -> Option<usize> {
        let planned = self.planned.as_mut()?;
        if let Some(left) = planned.writes.checked_sub(1) {
            planned.writes = left;
            return None;
        }
        let torn_bytes = planned.torn_bytes;
        self.planned = None;
        self.crashed = true;
        Some(torn_bytes)
    }

    /// Drops a torn tail, if any, so the next record follows the last good one.
    fn truncate_torn_tail(&mut self) -> Vec<Vec<u8>> {
        let (records, valid) = log::decode_log(&self.bytes);
        self.bytes.truncate(valid);
        self.clean = true;
        records
    }
}

impl Store for MemoryStore {
    type Error = MemoryStoreError;

    fn load(&mut self) -> Result<Vec<Vec<u8>>, MemoryStoreError> {
        self.up()?;
        Ok(self.truncate_torn_tail())
    }

    fn append(&mut self, record: &[u8]) -> Result<(), MemoryStoreError> {
        self.up()?;
        let mut frame = Vec::new();
        log::encode_record(record, &mut frame)?;
        if !self.clean {
            self.truncate_torn_tail();
        }
        if let Some(torn_bytes) = self.crash_now() {
            frame.truncate(torn_bytes);
            self.bytes.extend_from_slice(&frame);
            self.clean = false;
            return Err(MemoryStoreError::Crashed);
        }
        self.bytes.extend_from_slice(&frame);
        self.writes += 1;
        Ok(())
    }

    fn replace(&mut self, records: &[Vec<u8>]) -> Result<(), MemoryStoreError> {
        self.up()?;
        log::check_records(records)?;
        if self.crash_now().is_some() {
            return Err(MemoryStoreError::Crashed);
        }
        let mut bytes = Vec::new();
        for record in records {
            log::encode_record(record, &mut bytes)?;
        }
        self.bytes = bytes;
        self.clean = true;
        self.writes += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Write;
    use alloc::vec;
    use proptest::prelude::*;

    fn records(names: &[&str]) -> Vec<Vec<u8>> {
        names.iter().map(|name| name.as_bytes().to_vec()).collect()
    }

    #[test]
    fn appends_and_replaces_load_back_and_are_counted() {
        let mut store = MemoryStore::new();
        assert!(store.is_empty());
        assert_eq!(store.load(), Ok(vec![]));
        store.write(&Write::Append(b"a".to_vec())).unwrap();
        store.write(&Write::Append(vec![])).unwrap();
        assert_eq!(store.load(), Ok(records(&["a", ""])));
        assert_eq!(store.len(), 2 * log::RECORD_OVERHEAD + 1);
        store.write(&Write::Replace(records(&["x", "yz"]))).unwrap();
        store.append(b"w").unwrap();
        assert_eq!(store.load(), Ok(records(&["x", "yz", "w"])));
        assert_eq!(store.writes(), 4);
        store.replace(&[]).unwrap();
        assert_eq!(store.load(), Ok(vec![]));
        assert!(store.is_empty());
    }

    #[test]
    fn the_bytes_are_the_framed_log() {
        let mut store = MemoryStore::new();
        store.append(b"one").unwrap();
        store.append(b"two").unwrap();
        let mut expected = Vec::new();
        log::encode_record(b"one", &mut expected).unwrap();
        log::encode_record(b"two", &mut expected).unwrap();
        assert_eq!(store.bytes(), expected);
        let mut copy = MemoryStore::from_bytes(expected);
        assert_eq!(copy.load(), Ok(records(&["one", "two"])));
    }

    #[test]
    fn an_oversized_record_is_refused_without_writing() {
        let mut store = MemoryStore::new();
        store.append(b"kept").unwrap();
        let long = vec![0; log::MAX_RECORD + 1];
        let too_large = MemoryStoreError::TooLarge(RecordTooLarge {
            len: log::MAX_RECORD + 1,
        });
        assert_eq!(store.append(&long), Err(too_large));
        assert_eq!(store.replace(&[vec![1], long]), Err(too_large));
        assert_eq!(store.writes(), 1);
        assert_eq!(store.load(), Ok(records(&["kept"])));
    }

    #[test]
    fn a_torn_append_is_dropped_after_restart_and_later_appends_follow_the_last_good_record() {
        for torn_bytes in 0..log::RECORD_OVERHEAD + 5 {
            let mut store = MemoryStore::new();
            store.append(b"one").unwrap();
            store.fail_after(1, torn_bytes);
            store.append(b"two").unwrap();
            let before = store.len();
            assert_eq!(store.append(b"three"), Err(MemoryStoreError::Crashed));
            assert_eq!(store.len(), before + torn_bytes);
            assert!(store.crashed());
            assert_eq!(store.append(b"four"), Err(MemoryStoreError::Crashed));
            assert_eq!(store.replace(&[]), Err(MemoryStoreError::Crashed));
            assert_eq!(store.load(), Err(MemoryStoreError::Crashed));
            assert_eq!(store.writes(), 2);

            store.restart();
            assert_eq!(store.load(), Ok(records(&["one", "two"])), "{torn_bytes}");
            assert_eq!(store.len(), before);
            store.append(b"five").unwrap();
            assert_eq!(store.load(), Ok(records(&["one", "two", "five"])));
        }
    }

    #[test]
    fn an_append_torn_after_its_whole_frame_survives() {
        let mut store = MemoryStore::new();
        store.fail_after(0, usize::MAX);
        assert_eq!(store.append(b"one"), Err(MemoryStoreError::Crashed));
        store.restart();
        assert_eq!(store.load(), Ok(records(&["one"])));
    }

    #[test]
    fn an_append_after_restart_without_load_still_follows_the_last_good_record() {
        let mut store = MemoryStore::new();
        store.append(b"one").unwrap();
        store.fail_after(0, 6);
        assert_eq!(store.append(b"two"), Err(MemoryStoreError::Crashed));
        store.restart();
        store.append(b"three").unwrap();
        assert_eq!(store.load(), Ok(records(&["one", "three"])));

        let mut bytes = store.bytes().to_vec();
        bytes.extend_from_slice(&[0xAB; 11]);
        let mut reread = MemoryStore::from_bytes(bytes);
        reread.append(b"four").unwrap();
        assert_eq!(reread.load(), Ok(records(&["one", "three", "four"])));
    }

    #[test]
    fn a_crashed_replace_leaves_the_old_log() {
        let mut store = MemoryStore::new();
        store.append(b"old").unwrap();
        store.fail_after(0, 3);
        assert_eq!(
            store.replace(&records(&["new", "log"])),
            Err(MemoryStoreError::Crashed)
        );
        store.restart();
        assert_eq!(store.load(), Ok(records(&["old"])));
    }

    #[test]
    fn restart_drops_a_planned_crash() {
        let mut store = MemoryStore::new();
        store.fail_after(0, 0);
        store.restart();
        store.append(b"one").unwrap();
        assert_eq!(store.load(), Ok(records(&["one"])));
    }

    proptest! {
        /// Any sequence of writes interrupted at any write, torn at any byte: after a restart
        /// the store holds exactly the writes that succeeded (plus the interrupted append if
        /// its whole frame got through), and goes on from there.
        #[test]
        fn a_crash_anywhere_keeps_exactly_the_completed_writes(
            writes in proptest::collection::vec(
                prop_oneof![
                    3 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Write::Append),
                    1 => proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4)
                        .prop_map(Write::Replace),
                ],
                1..12,
            ),
            crash_at in any::<prop::sample::Index>(),
            torn_bytes in 0usize..60,
        ) {
            let crash_at = crash_at.index(writes.len());
            let mut store = MemoryStore::new();
            let mut model: Vec<Vec<u8>> = Vec::new();
            store.fail_after(crash_at, torn_bytes);
            for (i, write) in writes.iter().enumerate() {
                let result = store.write(write);
                if i < crash_at {
                    prop_assert_eq!(result, Ok(()));
                    match write {
                        Write::Append(record) => model.push(record.clone()),
                        Write::Replace(records) => model = records.clone(),
                    }
                } else {
                    prop_assert_eq!(result, Err(MemoryStoreError::Crashed));
                    if i == crash_at {
                        if let Write::Append(record) = write {
                            if torn_bytes >= log::RECORD_OVERHEAD + record.len() {
                                model.push(record.clone());
                            }
                        }
                    }
                }
            }
            prop_assert_eq!(store.writes(), crash_at);
            store.restart();
            prop_assert_eq!(store.load(), Ok(model.clone()));
            store.append(b"after").unwrap();
            model.push(b"after".to_vec());
            prop_assert_eq!(store.load(), Ok(model));
        }
    }
}
