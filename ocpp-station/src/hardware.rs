//! What only the charger's hardware can do ([`Hardware`]), and the words the station core and
//! the firmware share about it: connectors, id tokens, meter readings, stop reasons.

use alloc::string::String;

/// A connector, numbered from 1. On 2.0.1 and 2.1 connector `n` is EVSE `n`'s connector 1
/// (one connector per EVSE, the common case); on 1.6 it is `connectorId` `n` (0 is the
/// station itself).
pub type ConnectorId = u32;

/// The token a driver presents (RFID card, app, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    /// The token: 1.6 `idTag` (at most 20 characters), 2.x `idToken.idToken` (36).
    pub id: String,
    /// The 2.x `idToken.type` (`ISO14443`, `Central`, ...); 1.6 has none and ignores it.
    pub kind: String,
}

impl IdToken {
    /// An RFID card (`ISO14443` on 2.x).
    pub fn rfid(id: impl Into<String>) -> IdToken {
        IdToken {
            id: id.into(),
            kind: String::from("ISO14443"),
        }
    }

    /// A token of the given 2.x type.
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> IdToken {
        IdToken {
            id: id.into(),
            kind: kind.into(),
        }
    }
}

/// A reading of a connector's meter.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Reading {
    /// `Energy.Active.Import.Register`, in Wh (monotonic).
    pub energy_wh: f64,
    /// `Power.Active.Import`, in W.
    pub power_w: f64,
}

/// Why a transaction ended, named as 1.6's `Reason` and 2.x's `ReasonEnumType` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The driver presented their token again (`Local`).
    Local,
    /// The CSMS asked (`Remote`).
    Remote,
    /// The cable was unplugged at the EV side (`EVDisconnected`).
    EvDisconnected,
    /// Power was lost while the transaction ran (`PowerLoss`): found open in the store at
    /// start-up.
    PowerLoss,
    /// A hard reset (1.6 `HardReset`; 2.x `ImmediateReset`).
    HardReset,
    /// A soft reset (1.6 `SoftReset`; 2.x `ImmediateReset` too: 2.x has no soft kind).
    SoftReset,
    /// The CSMS did not accept the token in its answer to the start (`DeAuthorized`).
    DeAuthorized,
    /// The CSMS unlocked the connector (1.6 `UnlockCommand`; 2.x `Other`).
    UnlockCommand,
    /// The connector faulted (`Other`).
    Fault,
}

/// How the CSMS asked the station to reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResetKind {
    /// Restart the hardware now (1.6 `Hard`, 2.x `Immediate`).
    Hard,
    /// Restart the software now, gracefully (1.6 `Soft`).
    Soft,
}

/// The outcome of [`Hardware::unlock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnlockResult {
    /// The connector is unlocked.
    Unlocked,
    /// The lock did not open.
    Failed,
    /// The connector has no lock (a fixed cable).
    NotSupported,
}

/// What only the charger's hardware can do. The station core calls it, and carries on with
/// the answer; every method must return promptly (set a pin, queue a command).
pub trait Hardware {
    /// Closes (`true`) or opens the power path of a connector: energy may flow once a
    /// transaction has started, and must stop when it ends.
    fn set_energy(&mut self, connector: ConnectorId, on: bool);

    /// Unlocks the cable of a connector (the CSMS's UnlockConnector).
    fn unlock(&mut self, connector: ConnectorId) -> UnlockResult;

    /// Restarts the station. Called once every transaction has ended, what the store must
    /// hold is written, and the answer to the CSMS's Reset has been handed to the transport.
    fn reset(&mut self, kind: ResetKind);
}
