//! Durable storage: an append-only log of opaque records.
//!
//! The station core is sans-I/O and never calls a store itself. What must survive a power cut
//! (the queue of transaction messages, counters, ...) it hands out as [`Write`]s, and a driver
//! performs each one on a [`Store`], synchronously here or through an asynchronous store in
//! another crate. At start-up the driver [`load`](Store::load)s the log and gives the records
//! back to the core.
//!
//! A log is a sequence of records, each an opaque byte string of at most
//! [`log::MAX_RECORD`] bytes. It only grows by [`Write::Append`], and is rewritten as a whole,
//! atomically, by [`Write::Replace`] (compaction). Byte-oriented stores keep the records framed
//! as [`log`] describes, so a write torn by a crash is detected and dropped at the next load:
//!
//! - [`MemoryStore`]: the framed bytes in a `Vec<u8>`, with deterministic crash injection for
//!   tests;
//! - `FileStore` (feature `std`): one file in a directory, `fdatasync`ed after every write.

pub mod log;
mod memory;

#[cfg(feature = "std")]
mod file;

use alloc::vec::Vec;

#[cfg(feature = "std")]
pub use file::{FileStore, SyncMode};
pub use log::RecordTooLarge;
pub use memory::{MemoryStore, MemoryStoreError};

/// The shortest record the station core writes, in bytes (what a store's capacity rule may
/// count on; ocpp-embedded's `FlashStore::store_capacity` takes it).
pub const SHORTEST_RECORD: usize = crate::record::Record::SHORTEST;

/// One durable write that the station core asks its driver to perform on a [`Store`].
///
/// The core considers a write done only once the driver reports it so; until then it must not
/// act as if the data were safe (for example it must not send a message whose queue entry is
/// not yet durable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Append this record at the end of the log ([`Store::append`]).
    Append(Vec<u8>),
    /// Replace the whole log by these records, in this order, atomically
    /// ([`Store::replace`]): used to compact the log once most of it is obsolete.
    Replace(Vec<Vec<u8>>),
}

/// A durable, append-only log of records, used synchronously.
///
/// Every record is at most [`log::MAX_RECORD`] bytes; a longer one is refused with an error and
/// nothing is written. Records are opaque to the store; an empty record is allowed.
///
/// The driver calls [`load`](Store::load) once at start-up, then performs the core's writes.
/// Even without a `load`, an `append` after a crash never lands behind a torn record (the
/// stores here drop a torn tail before their first append).
pub trait Store {
    /// What went wrong.
    type Error: core::fmt::Debug + core::fmt::Display;

    /// Every record in the log, in order, up to the first torn or corrupt one (that one and
    /// everything after it are discarded, and the store truncates them so later appends follow
    /// the last good record).
    fn load(&mut self) -> Result<Vec<Vec<u8>>, Self::Error>;

    /// Appends one record; it is durable when this returns `Ok`.
    ///
    /// After an `Err` the record may or may not be in the log (a crash may come after the data
    /// reached storage but before the answer); it is never there in part.
    fn append(&mut self, record: &[u8]) -> Result<(), Self::Error>;

    /// Replaces the whole log by `records`, atomically: after a crash at any point, `load` gives
    /// either the old log or the new one, never a mix.
    fn replace(&mut self, records: &[Vec<u8>]) -> Result<(), Self::Error>;

    /// Performs a [`Write`]: [`append`](Store::append) or [`replace`](Store::replace).
    fn write(&mut self, write: &Write) -> Result<(), Self::Error> {
        match write {
            Write::Append(record) => self.append(record),
            Write::Replace(records) => self.replace(records),
        }
    }
}
