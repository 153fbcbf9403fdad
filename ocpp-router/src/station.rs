//! [`Station`]: one connected station, its links to the backends, and the two flows between
//! them: the station's calls (to the primary, copies to the secondaries, arbitrated) and the
//! backends' calls (checked against their allow lists, then one at a time to the station).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use ocpp_rpc::{AnyRequest, AnyResponse, CallFailure, ErrorCode, RpcError};
use ocpp_rpc_tokio::{Client, ClientConfig, Connection, Handlers};
use ocpp_types::OcppVersion;
use serde_json::Value;

use crate::config::{Authorization, PrimaryDown};
use crate::link::{Asked, Link};
use crate::outbox::Outbox;
use crate::policy::{arbitrate, decision_field};
use crate::{Shared, local, lock};

/// A station and its backends.
pub(crate) struct Station {
    pub(crate) identity: String,
    pub(crate) version: OcppVersion,
    /// Its current connection (a reconnection of the same identity replaces it).
    pub(crate) connection: Mutex<Connection>,
    /// One per backend, in the configuration's order.
    pub(crate) links: Vec<Link>,
    /// The station's last BootNotification payload.
    boot: Arc<Mutex<Option<Value>>>,
    /// Where it is kept across runs of the router.
    boot_file: PathBuf,
}

impl Station {
    /// The station on `connection`, with a link to every backend.
    pub(crate) fn start(shared: &Arc<Shared>, connection: Connection) -> Arc<Station> {
        let identity = connection.identity().to_owned();
        let version = connection.version();
        let home = shared
            .config
            .store
            .join(hex(&identity))
            .join(version.to_string());
        // The station's last BootNotification, from an earlier run if it has not booted
        // since (a station that only reconnects does not boot again).
        let boot_file = home.join(BOOT_FILE);
        let last_boot = std::fs::read(&boot_file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        let boot = Arc::new(Mutex::new(last_boot));
        Arc::new_cyclic(|station: &Weak<Station>| {
            let links = shared
                .backends
                .iter()
                .filter(|backend| backend.speaks(version))
                .map(|backend| {
                    let mut config = ClientConfig::new(backend.station_url(&identity), [version]);
                    config.password.clone_from(&backend.password);
                    config.observer = Some(shared.observer(&backend.name));
                    config.session.max_queued = shared.config.queue.max(1);
                    let wait = std::time::Duration::from_millis(shared.config.retry_wait_ms);
                    config.backoff = ocpp_rpc::handshake::RetryBackOff {
                        wait_minimum: wait,
                        random_range: wait,
                        repeat_times: 3,
                    };
                    #[cfg(feature = "tls")]
                    {
                        config.tls = shared.backend_tls.get(&backend.name).cloned();
                    }
                    let client = Client::start(config, backend_calls(station.clone(), backend));
                    // A queue per version too: what a station sent in 1.6 goes out in 1.6,
                    // whenever it comes back speaking it.
                    let dir = home.join(&backend.name);
                    let outbox = Arc::new(Outbox::open(&dir));
                    let boot = boot.clone();
                    Link::start(backend.clone(), version, client, outbox, move || {
                        lock(&boot).clone()
                    })
                })
                .collect();
            Station {
                identity,
                version,
                boot_file,
                connection: Mutex::new(connection),
                links,
                boot,
            }
        })
    }

    /// Stops every link (their durable queues stay in the store).
    pub(crate) async fn stop(&self) {
        for link in &self.links {
            link.stop().await;
        }
    }
}

/// The name of the file, in a station's store directory, of its last BootNotification.
const BOOT_FILE: &str = "boot.json";

/// Writes the station's BootNotification `payload` to `file`, whole or not at all (a
/// temporary file renamed over it). A failure is logged: the backends then learn of the
/// station only from its next boot after a restart of the router.
fn keep_boot(file: &Path, payload: &Value) {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temporary = file.with_extension("tmp");
        std::fs::write(&temporary, payload.to_string())?;
        std::fs::rename(&temporary, file)
    };
    if let Err(error) = write() {
        tracing::warn!(?file, %error, "the station's BootNotification was not kept");
    }
}

/// An identity as a directory name: its bytes in hexadecimal (any identity, any file system).
fn hex(identity: &str) -> String {
    identity.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Whether `action` is a transaction message: what must reach every backend it is meant
/// for, however long the backend is away (1.6 section 4.10; 2.x E04, "transaction-related
/// messages").
fn transaction_message(version: OcppVersion, action: &str, payload: &Value) -> bool {
    match version {
        OcppVersion::V16 => match action {
            "StartTransaction" | "StopTransaction" => true,
            "MeterValues" => payload.get("transactionId").is_some(),
            _ => false,
        },
        OcppVersion::V201 | OcppVersion::V21 => action == "TransactionEvent",
    }
}

/// A call of the station: answered by the primary (or, while it is unreachable, as
/// [`PrimaryDown`] says), copied to the secondaries that take it, its authorization
/// arbitrated.
pub(crate) async fn station_call(
    shared: Arc<Shared>,
    connection: Connection,
    request: AnyRequest,
) -> Result<AnyResponse, RpcError> {
    let Some(station) = shared.for_call(&connection) else {
        return Err(RpcError::new(
            ErrorCode::GenericError,
            "this connection was replaced by a newer one of the station",
        ));
    };
    let config = &shared.config;
    let version = station.version;
    let any_action = request.action();
    let action = any_action.as_str();
    let payload = serde_json::to_value(&request)
        .map_err(|e| RpcError::new(ErrorCode::InternalError, e.to_string()))?;
    if action == "BootNotification" {
        *lock(&station.boot) = Some(payload.clone());
        keep_boot(&station.boot_file, &payload);
    }
    let durable = transaction_message(version, action, &payload);
    let links = &station.links;
    let primary = links.iter().position(|l| l.backend.primary).unwrap_or(0);
    // The primary, then as `primary_down` says.
    let mut answered_by = None;
    let mut answer: Option<Result<Value, RpcError>> = None;
    // Backends asked in vain, whose queue still holds the message: (link, seq).
    let mut queued: Vec<(usize, u64)> = Vec::new();
    let order: Vec<usize> = std::iter::once(primary)
        .chain((0..links.len()).filter(|&i| i != primary))
        .collect();
    for &i in &order {
        if i != primary && config.primary_down == PrimaryDown::Local {
            break;
        }
        let Some(link) = links.get(i) else { break };
        if i != primary && !link.connected() {
            continue;
        }
        let asked = link.ask(
            action,
            payload.clone(),
            durable,
            config.connect_wait(),
            config.answer_timeout(),
        );
        match asked.await {
            Asked::Answered(result) => {
                answered_by = Some(i);
                answer = Some(result);
                break;
            }
            Asked::Unreachable(Some(seq)) => queued.push((i, seq)),
            Asked::Unreachable(None) => {}
        }
    }
    let answer = match answer {
        Some(answer) => answer,
        None => {
            tracing::info!(station = %station.identity, action, "no backend answered; answering locally");
            local::answer(version, action, &payload, config)
        }
    };
    // The transaction id the station is given, which the backends' own ids map to.
    let visible = match (&answer, version, action) {
        (Ok(answer), OcppVersion::V16, "StartTransaction") => {
            answer.get("transactionId").and_then(Value::as_i64)
        }
        _ => None,
    };
    let want_votes = config.authorization != Authorization::Primary
        && decision_field(version, action).is_some()
        && answer.is_ok();
    let mut votes = Vec::new();
    for (i, link) in links.iter().enumerate() {
        if Some(i) == answered_by {
            continue;
        }
        // Asked in vain: the message is in its queue already.
        if let Some(&(_, seq)) = queued.iter().find(|(at, _)| *at == i) {
            if let Some(id) = visible {
                link.outbox.set_visible(seq, id);
            }
            continue;
        }
        if i == primary {
            // The primary could not be asked: a transaction message waits for it.
            if durable {
                link.copy(action, payload.clone(), true, visible, false);
            }
            continue;
        }
        if link.backend.copies(action) {
            if let Some(reply) = link.copy(action, payload.clone(), durable, visible, want_votes) {
                votes.push((link.backend.name.clone(), reply));
            }
        }
    }
    let mut answer = answer?;
    if want_votes {
        let field = decision_field(version, action).unwrap_or_default();
        let base_name = answered_by
            .and_then(|i| links.get(i))
            .map_or("router", |l| l.backend.name.as_str());
        let mut counted = vec![(base_name.to_owned(), answer.clone())];
        let deadline = tokio::time::Instant::now() + config.answer_timeout();
        for (name, reply) in votes {
            if let Ok(Ok(Ok(vote))) = tokio::time::timeout_at(deadline, reply).await {
                counted.push((name, vote));
            }
        }
        let (decided, by) = arbitrate(
            version,
            field,
            config.authorization,
            (base_name, answer),
            &counted,
        );
        tracing::info!(station = %station.identity, action, decided_by = %by, "authorization arbitrated");
        answer = decided;
    }
    AnyResponse::decode(any_action, &answer.to_string()).map_err(|e| {
        RpcError::new(
            ErrorCode::InternalError,
            format!("the backend's answer to {action} does not fit its schema: {e}"),
        )
    })
}

/// The handlers of a backend's connection: its calls to the station, if its allow list
/// lets them through, one at a time with every other backend's (the station's session has
/// one call in flight and a bounded queue).
fn backend_calls(station: Weak<Station>, backend: &Arc<crate::config::BackendConfig>) -> Handlers {
    let backend = backend.clone();
    let mut handlers = Handlers::new();
    handlers.fallback(move |_, request: AnyRequest| {
        let station = station.upgrade();
        let backend = backend.clone();
        async move {
            let action = request.action().as_str();
            if !backend.allows(action) {
                return Err(RpcError::new(
                    ErrorCode::SecurityError,
                    format!("the router does not let {} call {action}", backend.name),
                ));
            }
            let Some(station) = station else {
                return Err(unreachable_station());
            };
            let connection = lock(&station.connection).clone();
            connection
                .call_any(request)
                .await
                .map_err(|failure| station_failure(&backend.name, failure))
        }
    });
    handlers
}

fn unreachable_station() -> RpcError {
    RpcError::new(ErrorCode::GenericError, "the station is not connected")
}

/// A call to the station that failed, as the CALLERROR its backend gets.
fn station_failure(backend: &str, failure: CallFailure) -> RpcError {
    match failure {
        CallFailure::CallError(error) => error,
        CallFailure::Refused(reason) => RpcError::new(
            ErrorCode::GenericError,
            format!("the call from {backend} cannot be delivered to the station now: {reason}"),
        ),
        CallFailure::Closed => unreachable_station(),
        CallFailure::Timeout => RpcError::new(
            ErrorCode::GenericError,
            "the station did not answer in time",
        ),
        other => RpcError::new(
            ErrorCode::GenericError,
            format!("the station's answer cannot be passed on: {other}"),
        ),
    }
}
