//! [`RouterConfig`]: the backends, their rules and the policies, read from one TOML file.
//!
//! ```toml
//! listen = "127.0.0.1:9100"       # where stations connect, as to a CSMS
//! ocpp = ["2.0.1"]                # the versions stations may speak (backends speak the same)
//! store = "router-store"          # the durable replay queues
//! authorization = "primary"       # primary | any | all
//! primary_down = "failover"       # failover | local
//!
//! [[backend]]
//! name = "billing"
//! url = "ws://csms.example:9000/ocpp"   # the station's identity is appended
//! primary = true
//!
//! [[backend]]
//! name = "energy"
//! url = "ws://127.0.0.1:8180/ocpp"
//! copy = ["TransactionEvent", "MeterValues"]
//! allow = ["SetChargingProfile", "ClearChargingProfile", "TriggerMessage"]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ocpp_types::OcppVersion;
use serde::Deserialize;

/// How the router runs: where stations connect, the backends, the policies.
///
/// Read one with [`RouterConfig::from_toml`]; every field but `backend` has a default.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RouterConfig {
    /// Where stations connect (default `127.0.0.1:9100`).
    #[serde(default = "defaults::listen")]
    pub listen: SocketAddr,
    /// The OCPP versions accepted from stations, in order of preference (default all three,
    /// newest first). A station's backends are spoken to in the version it chose: the router
    /// does not translate between versions.
    #[serde(default = "defaults::versions", deserialize_with = "versions")]
    pub ocpp: Vec<OcppVersion>,
    /// The Basic-auth password stations must give (security profile 1, or 2 with
    /// `certificate`); none by default.
    #[serde(default)]
    pub password: Option<String>,
    /// A PEM file of the CAs stations' client certificates chain to (security profile 3,
    /// with `certificate`; feature `tls`): a station is admitted only with a certificate
    /// whose commonName is its identity.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// The directory of the durable replay queues, one per station and backend (default
    /// `router-store`).
    #[serde(default = "defaults::store")]
    pub store: PathBuf,
    /// Who decides an authorization (default [`Authorization::Primary`]).
    #[serde(default)]
    pub authorization: Authorization,
    /// What answers the station while the primary is unreachable (default
    /// [`PrimaryDown::Failover`]).
    #[serde(default)]
    pub primary_down: PrimaryDown,
    /// How long a station's call waits for a backend's answer before the router counts the
    /// backend as unreachable for it, in milliseconds (default 10,000: well within the 30 s
    /// a station commonly waits).
    #[serde(default = "defaults::answer_timeout_ms")]
    pub answer_timeout_ms: u64,
    /// How long a station's call waits for a backend that is not connected yet (its first
    /// connection, or a reconnection under way), in milliseconds (default 2,000). Once it
    /// waited in vain, calls do not wait again until the backend is back.
    #[serde(default = "defaults::connect_wait_ms")]
    pub connect_wait_ms: u64,
    /// How long the router waits before connecting again to a backend it lost, in
    /// milliseconds: `RetryBackOffWaitMinimum` and the random range, doubled three times at
    /// most (default 10,000, the specification's usual minimum).
    #[serde(default = "defaults::retry_wait_ms")]
    pub retry_wait_ms: u64,
    /// Messages per second a station may send in the long run (default 50, the tokio
    /// adapter's): above it the router reads no faster, and the station feels TCP
    /// back-pressure.
    #[serde(default = "defaults::messages_per_second")]
    pub messages_per_second: u32,
    /// Messages a station may send in a burst before that limit applies (default 200).
    #[serde(default = "defaults::message_burst")]
    pub message_burst: u32,
    /// How many calls from backends may wait for the station while one is in flight (default
    /// 16); beyond it a backend's call is refused with a CALLERROR at once.
    #[serde(default = "defaults::queue")]
    pub queue: usize,
    /// The answer to an authorization no backend could give (every one unreachable, under
    /// `primary_down = "local"`): `true` accepts, as a station's `LocalAuthorizeOffline`
    /// does, so that charging goes on (default `true`).
    #[serde(default = "defaults::yes")]
    pub local_authorize: bool,
    /// The heartbeat interval, in seconds, the router gives in a BootNotification it answers
    /// itself (default 300).
    #[serde(default = "defaults::interval")]
    pub local_interval: i64,
    /// A PEM file of the router's own certificate chain, for stations connecting with
    /// `wss://` (security profile 2 with `password`, 3 with `client_ca`; feature `tls`).
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    /// The key of `certificate`.
    #[serde(default)]
    pub key: Option<PathBuf>,
    /// The backends, in order: the first is the one failed over to first.
    #[serde(rename = "backend")]
    pub backends: Vec<BackendConfig>,
}

/// One backend: a CSMS, an energy manager, a diagnostics service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BackendConfig {
    /// Its name, in logs, transcripts and the store.
    pub name: String,
    /// Its URL without the identity: `ws://host:port/path` or `wss://...`; the router
    /// connects to `URL/<identity>` for each station.
    pub url: String,
    /// Whether it is the primary: its answers go back to the station. Exactly one backend is.
    #[serde(default)]
    pub primary: bool,
    /// The OCPP versions it speaks (default: every one the router accepts). It is connected
    /// only for stations that speak one of them; the primary must speak every version the
    /// router accepts.
    #[serde(default, deserialize_with = "some_versions")]
    pub ocpp: Option<Vec<OcppVersion>>,
    /// The Basic-auth password the router gives it (security profiles 1 and 2), the user
    /// being the station's identity.
    #[serde(default)]
    pub password: Option<String>,
    /// The station's calls it receives a copy of (a secondary; the primary receives them
    /// all): action names, or `"*"` for every one (the default).
    #[serde(default = "defaults::every")]
    pub copy: Vec<String>,
    /// The actions it may call on the station, or `"*"` for every one (the default for the
    /// primary); a secondary may call none unless listed.
    #[serde(default)]
    pub allow: Option<Vec<String>>,
    /// A PEM file of the CAs its `wss://` certificate chains to (feature `tls`).
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// A PEM client certificate chain for security profile 3 (feature `tls`).
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    /// The key of `certificate`.
    #[serde(default)]
    pub key: Option<PathBuf>,
}

/// Who decides whether an id token is accepted: the station's Authorize, and the `idTag` or
/// `idToken` of its transaction messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Authorization {
    /// The primary alone; secondaries get copies whose answers are recorded.
    #[default]
    Primary,
    /// Accepted if any backend that answers accepts it (the primary and the secondaries
    /// whose `copy` list takes the action).
    Any,
    /// Accepted only if every backend that answers accepts it.
    All,
}

/// What answers the station while its primary is unreachable. Either way, the transaction
/// messages meant for the primary wait in its durable queue and reach it, in order, when it
/// is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrimaryDown {
    /// The next reachable backend, in the configuration's order, answers.
    #[default]
    Failover,
    /// The router answers itself, as a station offline would decide (see
    /// [`RouterConfig::local_authorize`]).
    Local,
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
#[error("router configuration: {0}")]
pub struct ConfigError(pub String);

impl RouterConfig {
    /// Reads a configuration from TOML text and checks it.
    pub fn from_toml(text: &str) -> Result<RouterConfig, ConfigError> {
        let config: RouterConfig = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Checks what the types cannot: one primary, unique names, URLs that can be dialled.
    pub fn check(&self) -> Result<(), ConfigError> {
        let primaries = self.backends.iter().filter(|b| b.primary).count();
        if primaries != 1 {
            return Err(ConfigError(format!(
                "exactly one backend is the primary (primary = true); {primaries} are"
            )));
        }
        if self.ocpp.is_empty() {
            return Err(ConfigError("ocpp names no version".to_owned()));
        }
        for (i, backend) in self.backends.iter().enumerate() {
            if self.backends[..i].iter().any(|b| b.name == backend.name) {
                return Err(ConfigError(format!(
                    "two backends are named {:?}",
                    backend.name
                )));
            }
            if backend.name.is_empty()
                || !backend
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(ConfigError(format!(
                    "backend name {:?}: letters, digits, - and _ only (it names a directory)",
                    backend.name
                )));
            }
            if !(backend.url.starts_with("ws://") || backend.url.starts_with("wss://")) {
                return Err(ConfigError(format!(
                    "backend {}: {:?} is not a ws:// or wss:// URL",
                    backend.name, backend.url
                )));
            }
            if backend.primary {
                if let Some(missing) = self.ocpp.iter().find(|v| !backend.speaks(**v)) {
                    return Err(ConfigError(format!(
                        "the primary {} does not speak OCPP {missing}, which stations may",
                        backend.name
                    )));
                }
            }
            if backend.certificate.is_some() != backend.key.is_some() {
                return Err(ConfigError(format!(
                    "backend {}: a client certificate needs its key, and a key its certificate",
                    backend.name
                )));
            }
        }
        if self.certificate.is_some() != self.key.is_some() {
            return Err(ConfigError(
                "the router's certificate needs its key, and the key its certificate".to_owned(),
            ));
        }
        if self.certificate.is_some() && self.password.is_none() && self.client_ca.is_none() {
            return Err(ConfigError(
                "stations on wss:// give a password (profile 2: password) or a client certificate (profile 3: client_ca)".to_owned(),
            ));
        }
        if self.client_ca.is_some() && self.certificate.is_none() {
            return Err(ConfigError(
                "client_ca (security profile 3) needs the router's certificate and key".to_owned(),
            ));
        }
        Ok(())
    }

    /// [`answer_timeout_ms`](Self::answer_timeout_ms) as a duration.
    pub fn answer_timeout(&self) -> Duration {
        Duration::from_millis(self.answer_timeout_ms)
    }

    /// [`connect_wait_ms`](Self::connect_wait_ms) as a duration.
    pub fn connect_wait(&self) -> Duration {
        Duration::from_millis(self.connect_wait_ms)
    }
}

impl BackendConfig {
    /// Whether the station's call of `action` is copied to this backend.
    pub fn copies(&self, action: &str) -> bool {
        self.primary || listed(&self.copy, action)
    }

    /// Whether it speaks `version`.
    pub fn speaks(&self, version: OcppVersion) -> bool {
        self.ocpp.as_ref().is_none_or(|v| v.contains(&version))
    }

    /// Whether this backend may call `action` on the station.
    pub fn allows(&self, action: &str) -> bool {
        match &self.allow {
            Some(actions) => listed(actions, action),
            None => self.primary,
        }
    }

    /// The URL for the station `identity`: the backend's URL, `/`, the identity
    /// percent-encoded.
    pub fn station_url(&self, identity: &str) -> String {
        let mut url = self.url.trim_end_matches('/').to_owned();
        url.push('/');
        for byte in identity.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                url.push(char::from(byte));
            } else {
                url.push_str(&format!("%{byte:02X}"));
            }
        }
        url
    }
}

fn listed(actions: &[String], action: &str) -> bool {
    actions.iter().any(|a| a == "*" || a == action)
}

fn some_versions<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<OcppVersion>>, D::Error> {
    versions(d).map(Some)
}

fn versions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<OcppVersion>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|name| {
            OcppVersion::from_subprotocol(name)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown OCPP version {name:?}")))
        })
        .collect()
}

mod defaults {
    use super::*;

    pub fn listen() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9100))
    }
    pub fn versions() -> Vec<OcppVersion> {
        vec![OcppVersion::V21, OcppVersion::V201, OcppVersion::V16]
    }
    pub fn store() -> PathBuf {
        PathBuf::from("router-store")
    }
    pub fn answer_timeout_ms() -> u64 {
        10_000
    }
    pub fn connect_wait_ms() -> u64 {
        2_000
    }
    pub fn retry_wait_ms() -> u64 {
        10_000
    }
    pub fn messages_per_second() -> u32 {
        ocpp_rpc_tokio::Limits::default().messages_per_second
    }
    pub fn message_burst() -> u32 {
        ocpp_rpc_tokio::Limits::default().message_burst
    }
    pub fn queue() -> usize {
        16
    }
    pub fn yes() -> bool {
        true
    }
    pub fn interval() -> i64 {
        300
    }
    pub fn every() -> Vec<String> {
        vec!["*".to_owned()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_reads_with_defaults_and_rules() {
        let config = RouterConfig::from_toml(
            r#"
            ocpp = ["2.0.1", "ocpp1.6"]
            authorization = "all"
            [[backend]]
            name = "billing"
            url = "ws://127.0.0.1:9000/ocpp/"
            primary = true
            [[backend]]
            name = "energy"
            url = "ws://127.0.0.1:9001"
            copy = ["MeterValues"]
            allow = ["SetChargingProfile"]
            "#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.ocpp, [OcppVersion::V201, OcppVersion::V16]);
        assert_eq!(config.authorization, Authorization::All);
        assert_eq!(config.primary_down, PrimaryDown::Failover);
        let (billing, energy) = (&config.backends[0], &config.backends[1]);
        assert!(billing.copies("Heartbeat") && billing.allows("Reset"));
        assert!(energy.copies("MeterValues") && !energy.copies("Heartbeat"));
        assert!(energy.allows("SetChargingProfile") && !energy.allows("Reset"));
        assert_eq!(
            billing.station_url("CS 1|a"),
            "ws://127.0.0.1:9000/ocpp/CS%201%7Ca"
        );
    }

    #[test]
    fn a_configuration_that_cannot_work_is_refused() {
        let two = r#"
            [[backend]]
            name = "a"
            url = "ws://x"
            primary = true
            [[backend]]
            name = "b"
            url = "ws://y"
            primary = true
        "#;
        assert!(RouterConfig::from_toml(two).is_err());
        let none = "[[backend]]\nname = \"a\"\nurl = \"ws://x\"\n";
        assert!(RouterConfig::from_toml(none).is_err());
        let http = "[[backend]]\nname = \"a\"\nurl = \"http://x\"\nprimary = true\n";
        assert!(RouterConfig::from_toml(http).is_err());
        let typo = "[[backend]]\nname = \"a\"\nurl = \"ws://x\"\nprimray = true\n";
        assert!(RouterConfig::from_toml(typo).is_err());
        let version =
            "ocpp = [\"1.5\"]\n[[backend]]\nname = \"a\"\nurl = \"ws://x\"\nprimary = true\n";
        assert!(RouterConfig::from_toml(version).is_err());
    }
}
