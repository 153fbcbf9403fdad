#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;

#[cfg(not(any(feature = "v16", feature = "v201", feature = "v21")))]
compile_error!("enable at least one OCPP version feature: v16, v201 or v21");
#[cfg(any(feature = "std", test))]
extern crate std;

mod config;
mod decoders;
mod hardware;
mod messages;
mod record;
mod station;
pub mod store;
mod variables;
mod wire;

pub use config::{BootInfo, StationConfig};
pub use hardware::{ConnectorId, Hardware, IdToken, Reading, ResetKind, StopReason, UnlockResult};
pub use messages::ConnectorStatus;
pub use station::{InputError, RegistrationStatus, RestoreError, Station, StationEvent};
pub use variables::{Measurands, Variables};
