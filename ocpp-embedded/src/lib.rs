#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(feature = "host-time-driver")]
#[cfg_attr(docsrs, doc(cfg(feature = "host-time-driver")))]
pub mod host;
pub mod run;
pub mod stream;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
pub mod websocket;

pub use run::{Connect, Direction, Event, Input, Inputs, Observer, RunConfig, RunError, Runner};
pub use stream::{Shared, Split};

use alloc::vec::Vec;

use ocpp_station::store::Write;

pub mod flash;
pub use flash::{FlashStore, FlashStoreError};

/// A durable store driven asynchronously (NOR flash, an SD card): the async form of
/// [`ocpp_station::store::Store`], with the same contract.
#[allow(async_fn_in_trait)]
pub trait AsyncStore {
    /// Why an operation failed.
    type Error: core::fmt::Debug;

    /// Every record, in order, up to the first torn or corrupt one (cut off, so later writes
    /// follow the last good record).
    async fn load(&mut self) -> Result<Vec<Vec<u8>>, Self::Error>;

    /// Performs one write: an append durable on return, or an atomic replace of the whole log
    /// (after power loss at any point, `load` gives the old log or the new one).
    async fn write(&mut self, write: &Write) -> Result<(), Self::Error>;
}

/// Any sync [`Store`](ocpp_station::store::Store) is an [`AsyncStore`] that never waits.
#[derive(Debug)]
pub struct Blocking<S>(pub S);

impl<S: ocpp_station::store::Store> AsyncStore for Blocking<S> {
    type Error = S::Error;

    async fn load(&mut self) -> Result<Vec<Vec<u8>>, Self::Error> {
        self.0.load()
    }

    async fn write(&mut self, write: &Write) -> Result<(), Self::Error> {
        self.0.write(write)
    }
}
