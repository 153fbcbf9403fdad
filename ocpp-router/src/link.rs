//! [`Link`]: one backend for one station: its connection (reconnecting by the back-off) and
//! the task that delivers its [`Outbox`] in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ocpp_rpc::{AnyAction, AnyRequest, CallFailure, ErrorCode, RpcError};
use ocpp_rpc_tokio::{Client, Connection};
use ocpp_types::OcppVersion;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::config::BackendConfig;
use crate::outbox::{Answer, Outbox};

/// How long the delivery task waits before it sends a transaction message again after the
/// backend failed to answer it on a live connection.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// One backend of one station.
pub(crate) struct Link {
    pub(crate) backend: Arc<BackendConfig>,
    pub(crate) client: Arc<Client>,
    pub(crate) outbox: Arc<Outbox>,
    /// A station's call waited for this backend to connect, in vain: later calls do not
    /// wait until it is connected again.
    pub(crate) gave_up: Arc<AtomicBool>,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

/// What asking a backend came to.
pub(crate) enum Asked {
    /// It answered: its response, or its CALLERROR.
    Answered(Answer),
    /// It did not answer in time, or is not connected. `Some(seq)`: the message is still in
    /// its queue under `seq`.
    Unreachable(Option<u64>),
}

impl Link {
    /// Starts delivering `outbox` over `client`. `boot` gives the station's last
    /// BootNotification, sent on every new connection of the backend before the first
    /// message that is not one, so that a backend that comes (back) knows the station.
    pub(crate) fn start(
        backend: Arc<BackendConfig>,
        version: OcppVersion,
        client: Client,
        outbox: Arc<Outbox>,
        boot: impl Fn() -> Option<Value> + Send + 'static,
    ) -> Link {
        let gave_up = Arc::new(AtomicBool::new(false));
        let client = Arc::new(client);
        let task = tokio::spawn(deliver(
            client.clone(),
            outbox.clone(),
            version,
            gave_up.clone(),
            boot,
        ));
        Link {
            backend,
            client,
            outbox,
            gave_up,
            task,
        }
    }

    /// Whether the backend is connected now.
    pub(crate) fn connected(&self) -> bool {
        self.client.current().is_some()
    }

    /// Sends the station's `action` to the backend and waits for its answer: at most
    /// `connect_wait` for a connection (unless an earlier call waited in vain), then at most
    /// `answer_timeout` for the answer. A message that does not reach it in time stays queued
    /// (until the backend drops, unless it is a transaction message).
    pub(crate) async fn ask(
        &self,
        action: &str,
        payload: Value,
        durable: bool,
        connect_wait: Duration,
        answer_timeout: Duration,
    ) -> Asked {
        if !self.connected() {
            let wait = if self.gave_up.load(Ordering::Relaxed) {
                Duration::ZERO
            } else {
                connect_wait
            };
            if tokio::time::timeout(wait, self.client.connection())
                .await
                .is_err()
            {
                self.gave_up.store(true, Ordering::Relaxed);
                return Asked::Unreachable(None);
            }
        }
        let (reply, answer) = oneshot::channel();
        let Some(seq) = self
            .outbox
            .push(action, payload, durable, None, Some(reply))
        else {
            return Asked::Unreachable(None);
        };
        match tokio::time::timeout(answer_timeout, answer).await {
            Ok(Ok(answer)) => Asked::Answered(answer),
            Ok(Err(_)) | Err(_) => Asked::Unreachable(Some(seq)),
        }
    }

    /// Queues a copy of the station's `action`; `Some` receiver: its answer.
    pub(crate) fn copy(
        &self,
        action: &str,
        payload: Value,
        durable: bool,
        visible: Option<i64>,
        want_answer: bool,
    ) -> Option<oneshot::Receiver<Answer>> {
        if !durable && !self.connected() {
            return None;
        }
        let (reply, answer) = oneshot::channel();
        let reply = want_answer.then_some(reply);
        self.outbox.push(action, payload, durable, visible, reply);
        want_answer.then_some(answer)
    }

    /// Stops the backend's connection and the delivery (what is durable stays in the store).
    pub(crate) async fn stop(&self) {
        self.task.abort();
        self.client.stop().await;
    }
}

/// The delivery task: the head of the outbox goes to the backend whenever it is connected;
/// what is not durable is dropped while it is not.
async fn deliver(
    client: Arc<Client>,
    outbox: Arc<Outbox>,
    version: OcppVersion,
    gave_up: Arc<AtomicBool>,
    boot: impl Fn() -> Option<Value> + Send + 'static,
) {
    let mut last: Option<Connection> = None;
    // Whether the backend has had a BootNotification on its current connection.
    let mut booted = false;
    loop {
        let current = client.current();
        match &current {
            Some(connection) if !last.as_ref().is_some_and(|l| l.same(connection)) => {
                last = Some(connection.clone());
                booted = false;
                gave_up.store(false, Ordering::Relaxed);
            }
            None => outbox.drop_volatile(),
            Some(_) => {}
        }
        if let (Some(connection), Some((seq, action, payload))) = (&current, outbox.head()) {
            if action == "BootNotification" {
                booted = true;
            } else if !booted {
                // A backend that (re)connects learns of the station first, as a CSMS that
                // has not seen a BootNotification may refuse everything else.
                if let Some(boot) = boot() {
                    if send(connection, version, "BootNotification", &boot)
                        .await
                        .is_err()
                    {
                        pause(connection).await;
                        continue;
                    }
                }
                booted = true;
            }
            match send(connection, version, &action, &payload).await {
                Ok(answer) => outbox.finish(seq, answer),
                Err(Retry) => {
                    if connection.is_closed() {
                        outbox.drop_volatile();
                        pause(connection).await;
                    } else if !outbox.give_up(seq) {
                        // Alive but silent: a transaction message is sent again after a
                        // pause (anything else was given up).
                        pause(connection).await;
                    }
                }
            }
            continue;
        }
        match current {
            Some(connection) => {
                tokio::select! {
                    () = outbox.wake.notified() => {}
                    () = connection.closed() => {}
                }
            }
            None => {
                tokio::select! {
                    () = outbox.wake.notified() => {}
                    _ = client.connection() => {}
                }
            }
        }
    }
}

/// Waits before trying again: briefly on a closed connection (until the client notices and
/// reconnects, which the loop then waits for), [`RETRY_PAUSE`] on a live one that was silent.
async fn pause(connection: &Connection) {
    let wait = if connection.is_closed() {
        CLOSED_PAUSE
    } else {
        RETRY_PAUSE
    };
    tokio::time::sleep(wait).await;
}

/// How long the delivery task waits after a send failed on a closed connection, so that it
/// does not spin until the client publishes the loss.
const CLOSED_PAUSE: Duration = Duration::from_millis(50);

/// The backend did not answer (the connection closed, or it stayed silent): try again.
struct Retry;

/// Sends one message and returns the backend's answer, `Err(Retry)` if none came.
async fn send(
    connection: &Connection,
    version: OcppVersion,
    action: &str,
    payload: &Value,
) -> Result<Answer, Retry> {
    let request = AnyAction::from_name(version, action)
        .ok_or_else(|| format!("{action} is not an action of OCPP {version}"))
        .and_then(|action| {
            AnyRequest::decode(action, &payload.to_string()).map_err(|e| e.to_string())
        });
    let request = match request {
        Ok(request) => request,
        Err(description) => return Ok(Err(RpcError::new(ErrorCode::InternalError, description))),
    };
    match connection.call_any(request).await {
        Ok(response) => Ok(serde_json::to_value(&response)
            .map_err(|e| RpcError::new(ErrorCode::InternalError, e.to_string()))),
        Err(CallFailure::CallError(error)) => Ok(Err(error)),
        Err(CallFailure::Closed | CallFailure::Timeout) => Err(Retry),
        Err(other) => Ok(Err(RpcError::new(
            ErrorCode::GenericError,
            format!("the backend's answer was not delivered: {other}"),
        ))),
    }
}
