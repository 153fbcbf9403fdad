//! [`Variables`]: the configuration this layer itself uses, typed, with the names each
//! version gives them (1.6 configuration keys, section 9; 2.x component variables,
//! part 2 appendix 3), so the CSMS can read and change them (1.6 GetConfiguration /
//! ChangeConfiguration, 2.x GetVariables / SetVariables / GetBaseReport).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::time::Duration;

use ocpp_rpc::handshake::RetryBackOff;

/// The measurands this layer samples (bit set). Both come from [`Reading`](crate::Reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Measurands(u8);

impl Measurands {
    /// None.
    pub const NONE: Measurands = Measurands(0);
    /// `Energy.Active.Import.Register` (Wh).
    pub const ENERGY: Measurands = Measurands(1);
    /// `Power.Active.Import` (W).
    pub const POWER: Measurands = Measurands(2);
    /// Both.
    pub const ALL: Measurands = Measurands(3);

    const NAMES: [(Measurands, &'static str, &'static str); 2] = [
        (Measurands::ENERGY, "Energy.Active.Import.Register", "Wh"),
        (Measurands::POWER, "Power.Active.Import", "W"),
    ];

    /// Whether every measurand of `other` is in `self`.
    pub const fn contains(self, other: Measurands) -> bool {
        self.0 & other.0 == other.0
    }

    /// The (measurand name, unit) pairs in the set, in a fixed order.
    pub fn members(self) -> impl Iterator<Item = (&'static str, &'static str)> {
        Self::NAMES
            .into_iter()
            .filter(move |(m, _, _)| self.contains(*m))
            .map(|(_, name, unit)| (name, unit))
    }

    /// Parses a comma-separated list (a `MemberList` / CSL value); `None` if a member is not
    /// one this layer measures.
    pub fn parse(list: &str) -> Option<Measurands> {
        let mut set = Measurands::NONE;
        for member in list.split(',').map(str::trim).filter(|m| !m.is_empty()) {
            let (bit, _, _) = Self::NAMES.iter().find(|(_, name, _)| *name == member)?;
            set.0 |= bit.0;
        }
        Some(set)
    }

    fn to_list(self) -> String {
        self.members()
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The configuration this layer uses. Defaults are the usual ones of the field; the CSMS
/// may change the mutable ones at run time, and changes are kept in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Variables {
    /// Seconds between Heartbeats when the CSMS gives none (the BootNotification answer's
    /// `interval` replaces it). 1.6 `HeartbeatInterval`; 2.x `OCPPCommCtrlr.HeartbeatInterval`.
    pub heartbeat_interval: u32,
    /// Seconds between meter samples during a transaction, 0 for none. 1.6
    /// `MeterValueSampleInterval`; 2.x `SampledDataCtrlr.TxUpdatedInterval`.
    pub sample_interval: u32,
    /// How many times a transaction-related message is tried when the CSMS answers it with
    /// an error. 1.6 `TransactionMessageAttempts`; 2.x `OCPPCommCtrlr.MessageAttempts`
    /// (instance `TransactionEvent`).
    pub message_attempts: u32,
    /// Seconds to wait before retrying a refused transaction-related message, multiplied by
    /// the attempts so far. 1.6 `TransactionMessageRetryInterval`; 2.x
    /// `OCPPCommCtrlr.MessageAttemptInterval` (instance `TransactionEvent`).
    pub message_retry_interval: u32,
    /// Offline, accept tokens the authorization cache holds as accepted. 1.6
    /// `LocalAuthorizeOffline`; 2.x `AuthCtrlr.LocalAuthorizeOffline`.
    pub local_authorize_offline: bool,
    /// Offline, start transactions for tokens the station does not know. 1.6
    /// `AllowOfflineTxForUnknownId`; 2.x `AuthCtrlr.OfflineTxForUnknownIdEnabled`.
    pub offline_tx_for_unknown_id: bool,
    /// Keep the CSMS's authorization answers in the cache. 1.6 `AuthorizationCacheEnabled`;
    /// 2.x `AuthCacheCtrlr.Enabled`.
    pub auth_cache_enabled: bool,
    /// Authorize a remote start's token with the CSMS first. 1.6
    /// `AuthorizeRemoteTxRequests`; 2.x `AuthCtrlr.AuthorizeRemoteStart`.
    pub authorize_remote_start: bool,
    /// End the transaction when the cable is unplugged at the EV. 1.6
    /// `StopTransactionOnEVSideDisconnect`; 2.x `TxCtrlr.StopTxOnEVSideDisconnect`.
    pub stop_tx_on_ev_side_disconnect: bool,
    /// End the transaction when the CSMS's answer to its start does not accept the token.
    /// 1.6 `StopTransactionOnInvalidId`; 2.x `TxCtrlr.StopTxOnInvalidId`.
    pub stop_tx_on_invalid_id: bool,
    /// Measurands in the start message (2.x `SampledDataCtrlr.TxStartedMeasurands`; 1.6's
    /// StartTransaction carries `meterStart` only).
    pub tx_started_measurands: Measurands,
    /// Measurands of each periodic sample. 1.6 `MeterValuesSampledData`; 2.x
    /// `SampledDataCtrlr.TxUpdatedMeasurands`.
    pub tx_updated_measurands: Measurands,
    /// Measurands in the end message. 1.6 `StopTxnSampledData` (its `transactionData`); 2.x
    /// `SampledDataCtrlr.TxEndedMeasurands`.
    pub tx_ended_measurands: Measurands,
    /// Seconds without a word from the CSMS before a WebSocket ping, 0 for none (the run
    /// loops read it at every wait, so a change applies at once). 1.6
    /// `WebSocketPingInterval`; 2.x `OCPPCommCtrlr.WebSocketPingInterval`.
    pub web_socket_ping_interval: u32,
    /// Seconds of the first wait before reconnecting (2.x
    /// `OCPPCommCtrlr.RetryBackOffWaitMinimum`; 1.6 has no such key, the schedule is the same).
    pub retry_back_off_wait_minimum: u32,
    /// Up to this many seconds more, at random, on the first wait (2.x
    /// `OCPPCommCtrlr.RetryBackOffRandomRange`).
    pub retry_back_off_random_range: u32,
    /// How many times the wait doubles (2.x `OCPPCommCtrlr.RetryBackOffRepeatTimes`).
    pub retry_back_off_repeat_times: u32,
}

impl Variables {
    /// The WebSocket ping interval (`None`: no pings).
    pub fn ping_interval(&self) -> Option<Duration> {
        (self.web_socket_ping_interval > 0)
            .then(|| Duration::from_secs(u64::from(self.web_socket_ping_interval)))
    }

    /// The reconnection back-off (B04.FR.01).
    pub fn retry_back_off(&self) -> RetryBackOff {
        RetryBackOff {
            wait_minimum: Duration::from_secs(u64::from(self.retry_back_off_wait_minimum)),
            random_range: Duration::from_secs(u64::from(self.retry_back_off_random_range)),
            repeat_times: self.retry_back_off_repeat_times,
        }
    }
}

impl Default for Variables {
    /// The specification's defaults where it gives one (the back-off's are
    /// [`RetryBackOff::default`]).
    fn default() -> Variables {
        let back_off = RetryBackOff::default();
        Variables {
            heartbeat_interval: 300,
            sample_interval: 60,
            message_attempts: 3,
            message_retry_interval: 60,
            local_authorize_offline: true,
            offline_tx_for_unknown_id: false,
            auth_cache_enabled: true,
            authorize_remote_start: false,
            stop_tx_on_ev_side_disconnect: true,
            stop_tx_on_invalid_id: true,
            tx_started_measurands: Measurands::ENERGY,
            tx_updated_measurands: Measurands::ALL,
            tx_ended_measurands: Measurands::ENERGY,
            web_socket_ping_interval: 60,
            retry_back_off_wait_minimum: whole_seconds(back_off.wait_minimum),
            retry_back_off_random_range: whole_seconds(back_off.random_range),
            retry_back_off_repeat_times: back_off.repeat_times,
        }
    }
}

/// A variable's 2.x data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataType {
    Integer(Option<&'static str>),
    Boolean,
    MemberList,
}

/// One variable: its names, type, mutability, and how to read and write it.
pub(crate) struct Spec {
    /// The 1.6 configuration key (`None`: 2.x only).
    pub v16: Option<&'static str>,
    /// The 2.x component, variable and instance (`None`: 1.6 only).
    pub v2: Option<(&'static str, &'static str, Option<&'static str>)>,
    pub data_type: DataType,
    pub read_only: bool,
    get: fn(&Variables) -> String,
    set: fn(&mut Variables, &str) -> Option<()>,
}

impl Spec {
    pub fn get(&self, variables: &Variables) -> String {
        (self.get)(variables)
    }

    /// Sets the value, `None` if it is not one the variable takes.
    pub fn set(&self, variables: &mut Variables, value: &str) -> Option<()> {
        (self.set)(variables, value)
    }

    /// The key a change is stored under: the 1.6 name, else `Component.Variable`.
    pub fn key(&self) -> &'static str {
        self.v16.or(self.v2.map(|(_, v, _)| v)).unwrap_or_default()
    }
}

fn integer(value: &str) -> Option<u32> {
    value.trim().parse().ok()
}

fn boolean(value: &str) -> Option<bool> {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") => Some(true),
        v if v.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

macro_rules! spec {
    ($v16:expr, $v2:expr, Integer($unit:expr), $field:ident) => {
        Spec {
            v16: $v16,
            v2: $v2,
            data_type: DataType::Integer($unit),
            read_only: false,
            get: |v| v.$field.to_string(),
            set: |v, s| {
                v.$field = integer(s)?;
                Some(())
            },
        }
    };
    ($v16:expr, $v2:expr, Boolean, $field:ident) => {
        Spec {
            v16: $v16,
            v2: $v2,
            data_type: DataType::Boolean,
            read_only: false,
            get: |v| String::from(if v.$field { "true" } else { "false" }),
            set: |v, s| {
                v.$field = boolean(s)?;
                Some(())
            },
        }
    };
    ($v16:expr, $v2:expr, MemberList, $field:ident) => {
        Spec {
            v16: $v16,
            v2: $v2,
            data_type: DataType::MemberList,
            read_only: false,
            get: |v| v.$field.to_list(),
            set: |v, s| {
                v.$field = Measurands::parse(s)?;
                Some(())
            },
        }
    };
}

/// `duration` in whole seconds, as the variables hold it.
fn whole_seconds(duration: Duration) -> u32 {
    u32::try_from(duration.as_secs()).unwrap_or(u32::MAX)
}

/// Every variable, in report order.
pub(crate) static SPECS: [Spec; 17] = [
    spec!(
        Some("HeartbeatInterval"),
        Some(("OCPPCommCtrlr", "HeartbeatInterval", None)),
        Integer(Some("s")),
        heartbeat_interval
    ),
    spec!(
        Some("MeterValueSampleInterval"),
        Some(("SampledDataCtrlr", "TxUpdatedInterval", None)),
        Integer(Some("s")),
        sample_interval
    ),
    spec!(
        Some("TransactionMessageAttempts"),
        Some(("OCPPCommCtrlr", "MessageAttempts", Some("TransactionEvent"))),
        Integer(None),
        message_attempts
    ),
    spec!(
        Some("TransactionMessageRetryInterval"),
        Some((
            "OCPPCommCtrlr",
            "MessageAttemptInterval",
            Some("TransactionEvent")
        )),
        Integer(Some("s")),
        message_retry_interval
    ),
    spec!(
        Some("LocalAuthorizeOffline"),
        Some(("AuthCtrlr", "LocalAuthorizeOffline", None)),
        Boolean,
        local_authorize_offline
    ),
    spec!(
        Some("AllowOfflineTxForUnknownId"),
        Some(("AuthCtrlr", "OfflineTxForUnknownIdEnabled", None)),
        Boolean,
        offline_tx_for_unknown_id
    ),
    spec!(
        Some("AuthorizationCacheEnabled"),
        Some(("AuthCacheCtrlr", "Enabled", None)),
        Boolean,
        auth_cache_enabled
    ),
    spec!(
        Some("AuthorizeRemoteTxRequests"),
        Some(("AuthCtrlr", "AuthorizeRemoteStart", None)),
        Boolean,
        authorize_remote_start
    ),
    spec!(
        Some("StopTransactionOnEVSideDisconnect"),
        Some(("TxCtrlr", "StopTxOnEVSideDisconnect", None)),
        Boolean,
        stop_tx_on_ev_side_disconnect
    ),
    spec!(
        Some("StopTransactionOnInvalidId"),
        Some(("TxCtrlr", "StopTxOnInvalidId", None)),
        Boolean,
        stop_tx_on_invalid_id
    ),
    spec!(
        None,
        Some(("SampledDataCtrlr", "TxStartedMeasurands", None)),
        MemberList,
        tx_started_measurands
    ),
    spec!(
        Some("MeterValuesSampledData"),
        Some(("SampledDataCtrlr", "TxUpdatedMeasurands", None)),
        MemberList,
        tx_updated_measurands
    ),
    spec!(
        Some("StopTxnSampledData"),
        Some(("SampledDataCtrlr", "TxEndedMeasurands", None)),
        MemberList,
        tx_ended_measurands
    ),
    spec!(
        Some("WebSocketPingInterval"),
        Some(("OCPPCommCtrlr", "WebSocketPingInterval", None)),
        Integer(Some("s")),
        web_socket_ping_interval
    ),
    spec!(
        None,
        Some(("OCPPCommCtrlr", "RetryBackOffWaitMinimum", None)),
        Integer(Some("s")),
        retry_back_off_wait_minimum
    ),
    spec!(
        None,
        Some(("OCPPCommCtrlr", "RetryBackOffRandomRange", None)),
        Integer(Some("s")),
        retry_back_off_random_range
    ),
    spec!(
        None,
        Some(("OCPPCommCtrlr", "RetryBackOffRepeatTimes", None)),
        Integer(None),
        retry_back_off_repeat_times
    ),
];

/// The variable a 1.6 key names (case-insensitive, as 1.6 keys are matched in the field).
pub(crate) fn by_v16_key(key: &str) -> Option<&'static Spec> {
    SPECS
        .iter()
        .find(|s| s.v16.is_some_and(|k| k.eq_ignore_ascii_case(key)))
}

/// The variable a 2.x component / variable / instance names, or why none.
pub(crate) fn by_v2_name(
    component: &str,
    variable: &str,
    instance: Option<&str>,
) -> Result<&'static Spec, Unknown> {
    let mut component_known = false;
    for spec in &SPECS {
        let Some((c, v, i)) = spec.v2.filter(|(c, _, _)| *c == component) else {
            continue;
        };
        component_known = true;
        if (c, v, i) == (component, variable, instance) {
            return Ok(spec);
        }
    }
    Err(if component_known {
        Unknown::Variable
    } else {
        Unknown::Component
    })
}

/// Which part of a 2.x name is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unknown {
    Component,
    Variable,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_reads_back_what_is_set() {
        let mut v = Variables::default();
        for spec in &SPECS {
            let value = match spec.data_type {
                DataType::Integer(_) => "17",
                DataType::Boolean => "false",
                DataType::MemberList => "Power.Active.Import",
            };
            assert_eq!(spec.set(&mut v, value), Some(()), "{}", spec.key());
            assert_eq!(spec.get(&v), value, "{}", spec.key());
            assert_eq!(spec.set(&mut v, "nonsense"), None, "{}", spec.key());
        }
    }

    #[test]
    fn names_resolve_per_version() {
        assert!(by_v16_key("heartbeatinterval").is_some());
        assert!(by_v2_name("OCPPCommCtrlr", "HeartbeatInterval", None).is_ok());
        assert_eq!(
            by_v2_name("OCPPCommCtrlr", "MessageAttempts", None).err(),
            Some(Unknown::Variable),
            "the instance is part of the name"
        );
        assert_eq!(
            by_v2_name("NoSuchCtrlr", "X", None).err(),
            Some(Unknown::Component)
        );
        assert_eq!(
            Measurands::parse("Energy.Active.Import.Register, Power.Active.Import"),
            Some(Measurands::ALL)
        );
        assert_eq!(Measurands::parse("Voltage"), None);
    }

    #[test]
    fn connection_variables_make_the_ping_interval_and_back_off() {
        let mut v = Variables::default();
        let set = |v: &mut Variables, component, variable, value| {
            let spec = by_v2_name(component, variable, None).unwrap();
            spec.set(v, value).unwrap();
        };
        set(&mut v, "OCPPCommCtrlr", "WebSocketPingInterval", "0");
        assert_eq!(v.ping_interval(), None);
        assert_eq!(
            by_v16_key("WebSocketPingInterval").unwrap().get(&v),
            "0",
            "the same variable under its 1.6 key"
        );
        set(&mut v, "OCPPCommCtrlr", "WebSocketPingInterval", "25");
        assert_eq!(v.ping_interval(), Some(Duration::from_secs(25)));
        set(&mut v, "OCPPCommCtrlr", "RetryBackOffWaitMinimum", "3");
        set(&mut v, "OCPPCommCtrlr", "RetryBackOffRandomRange", "0");
        set(&mut v, "OCPPCommCtrlr", "RetryBackOffRepeatTimes", "2");
        let backoff = v.retry_back_off();
        let waits: Vec<u64> = (0..4).map(|a| backoff.delay(a, 0).as_secs()).collect();
        assert_eq!(waits, [3, 6, 12, 12]);
        assert!(by_v16_key("RetryBackOffWaitMinimum").is_none(), "2.x only");
    }
}
