//! A station on a memory store, wired to a scripted CSMS session (whose decoders check every
//! frame the station sends against the schemas), with a simulated clock.
#![allow(dead_code)]

use std::collections::HashMap;

use ocpp_rpc::{AnyAction, Config, ErrorCode, Event, Millis, Role, RpcError, Session};
use ocpp_station::store::{MemoryStore, Store};
use ocpp_station::{
    BootInfo, ConnectorId, Hardware, ResetKind, Station, StationConfig, StationEvent, UnlockResult,
};
use ocpp_types::{AnyResponse, OcppVersion};
use serde_json::{Value, json};

/// Hardware that records what the station asked of it.
#[derive(Debug, Default)]
pub struct Rigged {
    pub energy: HashMap<ConnectorId, bool>,
    pub unlocked: Vec<ConnectorId>,
    pub resets: Vec<ResetKind>,
}

impl Hardware for Rigged {
    fn set_energy(&mut self, connector: ConnectorId, on: bool) {
        self.energy.insert(connector, on);
    }
    fn unlock(&mut self, connector: ConnectorId) -> UnlockResult {
        self.unlocked.push(connector);
        UnlockResult::Unlocked
    }
    fn reset(&mut self, kind: ResetKind) {
        self.resets.push(kind);
    }
}

/// One CALL the CSMS received.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub action: String,
    pub payload: Value,
    /// Whether the CSMS answered it with a CALLERROR (or not at all).
    pub refused: bool,
}

/// A CSMS that answers every station call validly, assigns 1.6 transaction ids
/// (the same id for a StartTransaction sent again), and can refuse or ignore calls on demand.
pub struct Csms {
    pub version: OcppVersion,
    pub session: Session,
    pub received: Vec<Received>,
    pub boot_status: &'static str,
    /// CALLERRORs to give to the next transaction-related calls.
    pub refuse_next: u32,
    /// Transaction-related calls to leave unanswered (the station times out).
    pub ignore_next: u32,
    /// At most this many refusals in a row for transaction-related calls (below the
    /// station's attempts, so the queue never gives a message up).
    pub max_refusals_in_a_row: u32,
    refusals_in_a_row: u32,
    start_ids: HashMap<String, i64>,
    /// CALLs the CSMS makes are answered here: (action, payload).
    pub answers: Vec<(String, Value)>,
    pub token_status: &'static str,
    /// The CSMS's clock (the rig's, from a fixed date), for `currentTime`.
    pub now: Millis,
}

pub fn is_transaction_message(action: &str) -> bool {
    matches!(
        action,
        "StartTransaction" | "StopTransaction" | "MeterValues" | "TransactionEvent"
    )
}

impl Csms {
    pub fn new(version: OcppVersion) -> Csms {
        Csms {
            version,
            session: Session::new(Config::new(version, Role::Csms)),
            received: Vec::new(),
            boot_status: "Accepted",
            refuse_next: 0,
            ignore_next: 0,
            max_refusals_in_a_row: 2,
            refusals_in_a_row: 0,
            start_ids: HashMap::new(),
            answers: Vec::new(),
            token_status: "Accepted",
            now: Millis(0),
        }
    }

    /// A new connection (the CSMS keeps what it received).
    pub fn reconnect(&mut self) {
        self.session = Session::new(Config::new(self.version, Role::Csms));
    }

    fn time(&self) -> String {
        let base = 1_748_779_200_000u64; // 2025-06-01T12:00:00Z
        let ms = base + self.now.0;
        ocpp_types::DateTime::from_unix((ms / 1000) as i64, (ms % 1000) as u32 * 1_000_000)
            .unwrap()
            .to_string()
    }

    fn answer_for(&mut self, action: &str, payload: &Value) -> Value {
        let v16 = self.version == OcppVersion::V16;
        let info_key = if v16 { "idTagInfo" } else { "idTokenInfo" };
        match action {
            "BootNotification" => {
                json!({"currentTime": self.time(), "interval": 300, "status": self.boot_status})
            }
            "Heartbeat" => json!({"currentTime": self.time()}),
            "Authorize" => json!({ info_key: {"status": self.token_status} }),
            "StartTransaction" => {
                let key = payload.to_string();
                let next = 100 + self.start_ids.len() as i64;
                let id = *self.start_ids.entry(key).or_insert(next);
                json!({"idTagInfo": {"status": self.token_status}, "transactionId": id})
            }
            "StopTransaction" | "MeterValues" | "StatusNotification" | "NotifyReport"
            | "TransactionEvent" => json!({}),
            other => panic!("the station called {other}"),
        }
    }

    /// Answers every call that arrived; keeps the answers to the CSMS's own calls.
    pub fn serve(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::IncomingCall(call) => {
                    let action = call.request.action().as_str().to_string();
                    let payload = serde_json::to_value(&call.request).unwrap();
                    let tx = is_transaction_message(&action);
                    let refuse = tx
                        && self.refuse_next > 0
                        && self.refusals_in_a_row < self.max_refusals_in_a_row;
                    let ignore = tx && !refuse && self.ignore_next > 0;
                    self.received.push(Received {
                        action: action.clone(),
                        payload: payload.clone(),
                        refused: refuse || ignore,
                    });
                    if refuse {
                        self.refuse_next -= 1;
                        self.refusals_in_a_row += 1;
                        let error = RpcError::new(ErrorCode::InternalError, "try again");
                        self.session.respond_error(call.id, &error).unwrap();
                    } else if ignore {
                        self.ignore_next -= 1;
                    } else {
                        if tx {
                            self.refusals_in_a_row = 0;
                        }
                        let answer = self.answer_for(&action, &payload);
                        let response =
                            AnyResponse::decode(call.request.action(), &answer.to_string())
                                .unwrap_or_else(|e| panic!("our {action} answer: {e}"));
                        self.session.respond_any(call.id, &response).unwrap();
                    }
                }
                Event::CallCompleted { outcome, .. } => {
                    let response = outcome.into_result().expect("the station answers");
                    self.answers.push((
                        response.action().as_str().to_string(),
                        serde_json::to_value(&response).unwrap(),
                    ));
                }
                Event::ProtocolViolation(v) => panic!("the station sent a bad frame: {v:?}"),
                _ => {}
            }
        }
    }

    /// Calls the station.
    pub fn call(&mut self, action: &str, payload: Value, now: Millis) {
        let action = AnyAction::from_name(self.version, action).unwrap();
        let request = ocpp_types::AnyRequest::decode(action, &payload.to_string()).unwrap();
        self.session.call_any(&request, now).unwrap();
    }

    /// The transaction-related messages the CSMS accepted, in arrival order.
    pub fn accepted_transaction_messages(&self) -> Vec<&Received> {
        self.received
            .iter()
            .filter(|r| is_transaction_message(&r.action) && !r.refused)
            .collect()
    }

    pub fn actions(&self) -> Vec<&str> {
        self.received.iter().map(|r| r.action.as_str()).collect()
    }
}

pub fn boot_info() -> BootInfo {
    BootInfo {
        vendor: "ocpp-rs".into(),
        model: "test".into(),
        serial_number: Some("SN-1".into()),
        firmware_version: Some("1.0".into()),
    }
}

pub fn config(version: OcppVersion, connectors: u32) -> StationConfig {
    let mut config = StationConfig::new(version, boot_info(), connectors);
    config.session.call_timeout_ms = 5_000;
    config.variables.sample_interval = 10;
    config.variables.message_retry_interval = 2;
    config
}

/// A station, its store and a CSMS, on a simulated clock.
pub struct Rig {
    pub config: StationConfig,
    pub station: Station<Rigged>,
    pub store: MemoryStore,
    pub csms: Csms,
    pub now: Millis,
    pub online: bool,
    /// Every station event, as it came out (so only once durable).
    pub events: Vec<StationEvent>,
    /// How many times the station lost power.
    pub crashes: usize,
}

impl Rig {
    pub fn new(version: OcppVersion, connectors: u32) -> Rig {
        Rig::with_config(config(version, connectors))
    }

    pub fn with_config(config: StationConfig) -> Rig {
        let store = MemoryStore::new();
        let station = Station::new(config.clone(), Rigged::default(), &[], Millis(0)).unwrap();
        Rig {
            csms: Csms::new(config.version),
            config,
            station,
            store,
            now: Millis(0),
            online: false,
            events: Vec::new(),
            crashes: 0,
        }
    }

    /// Power loss: the station is gone; a new one starts from what the store holds.
    pub fn power_cycle(&mut self) {
        self.crashes += 1;
        if self.online {
            self.online = false;
            self.csms.session.close();
            self.csms.serve();
        }
        self.store.restart();
        let records = self.store.load().unwrap();
        self.station =
            Station::new(self.config.clone(), Rigged::default(), &records, self.now).unwrap();
        self.settle();
    }

    pub fn connect(&mut self) {
        if !self.online {
            self.online = true;
            self.csms.reconnect();
            self.station.connected(self.now);
            self.settle();
        }
    }

    pub fn disconnect(&mut self) {
        if self.online {
            self.online = false;
            self.station.disconnected(self.now);
            self.csms.session.close();
            self.csms.serve();
            self.settle();
        }
    }

    /// Moves writes, frames and events until nothing moves. Returns false if the store
    /// failed (a crash was injected): the caller power-cycles.
    pub fn settle(&mut self) -> bool {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(write) = self.station.poll_write() {
                if self.store.write(&write).is_err() {
                    self.power_cycle_now();
                    return false;
                }
                self.station.write_done(self.now);
                moved = true;
            }
            while let Some(frame) = self.station.poll_transmit() {
                moved = true;
                if self.online {
                    self.csms.session.receive(&frame, self.now);
                }
            }
            while let Some(event) = self.station.poll_event() {
                moved = true;
                self.events.push(event);
            }
            if self.online {
                self.csms.now = self.now;
                self.csms.serve();
                while let Some(frame) = self.csms.session.poll_transmit() {
                    moved = true;
                    self.station.receive(&frame, self.now);
                }
            }
            if !moved {
                return true;
            }
        }
        panic!("the station and the CSMS never settle");
    }

    fn power_cycle_now(&mut self) {
        self.power_cycle();
    }

    /// Advances the clock by `ms`, firing every timeout on the way.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now.plus_millis(ms);
        loop {
            let next = [
                self.station.poll_timeout(),
                self.csms.session.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.station.handle_timeout(self.now);
                    self.csms.session.handle_timeout(self.now);
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = end;
        self.station.handle_timeout(self.now);
        self.settle();
    }

    pub fn payloads(&self, action: &str) -> Vec<&Value> {
        self.csms
            .received
            .iter()
            .filter(|r| r.action == action && !r.refused)
            .map(|r| &r.payload)
            .collect()
    }
}
