//! [`StationConfig`]: what a station is (version, identity for the BootNotification,
//! connectors) and how it behaves (its [`Variables`], the store's size, the session's).

use alloc::string::String;

use ocpp_rpc::Config;
use ocpp_types::{OcppVersion, Role};

use crate::variables::Variables;

/// What the BootNotification says about the station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootInfo {
    /// 1.6 `chargePointVendor` (at most 20 characters); 2.x `chargingStation.vendorName` (50).
    pub vendor: String,
    /// 1.6 `chargePointModel`; 2.x `chargingStation.model` (at most 20 characters).
    pub model: String,
    /// 1.6 `chargePointSerialNumber`; 2.x `chargingStation.serialNumber`.
    pub serial_number: Option<String>,
    /// `firmwareVersion`.
    pub firmware_version: Option<String>,
}

/// A station's configuration. Build it with [`StationConfig::new`] and change the fields you
/// need.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StationConfig {
    /// The OCPP version of every connection.
    pub version: OcppVersion,
    /// What the BootNotification says.
    pub boot: BootInfo,
    /// How many connectors (each its own EVSE on 2.x), numbered from 1.
    pub connectors: u32,
    /// The variables the CSMS may read and change.
    pub variables: Variables,
    /// The most bytes the store's log may hold (records and their framing). When the log
    /// reaches it, the station compacts it; when live data alone would pass it, the oldest
    /// authorization cache entries go first, then periodic meter samples are no longer kept
    /// and new transactions are refused, so that every running transaction can still end
    /// (see the crate documentation). Default 64 KiB.
    pub store_capacity: usize,
    /// Seconds before a BootNotification that failed (an error, no answer) is sent again,
    /// when the CSMS gave no interval (default 30).
    pub boot_retry_interval: u32,
    /// Text put before the station's number for a transaction to make its 2.x
    /// `transactionId` (default empty; at most 36 characters in all).
    pub transaction_id_prefix: String,
    /// Samples every this many milliseconds instead of every
    /// [`Variables::sample_interval`] seconds (0: none), for simulators and tests that need
    /// finer steps than the variable's whole seconds; the CSMS still reads and sets the
    /// variable, which then no longer drives sampling. Default `None`.
    pub sample_interval_ms: Option<u64>,
    /// The session settings of every connection (its version and role are set from this
    /// configuration).
    pub session: Config,
}

impl StationConfig {
    /// A station of `connectors` connectors speaking `version`.
    pub fn new(version: OcppVersion, boot: BootInfo, connectors: u32) -> StationConfig {
        StationConfig {
            version,
            boot,
            connectors,
            variables: Variables::default(),
            store_capacity: 64 * 1024,
            boot_retry_interval: 30,
            transaction_id_prefix: String::new(),
            sample_interval_ms: None,
            session: Config::new(version, Role::ChargingStation),
        }
    }
}
