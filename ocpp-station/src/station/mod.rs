//! [`Station`]: the charging-station state machine, sans I/O.
//!
//! - this module: the connection's life (boot, heartbeat, clock), and what goes in and out;
//! - [`queue`]: the durable queue of transaction-related messages and the records behind it;
//! - [`transactions`]: hardware events, authorization, transactions and their meter values;
//! - [`commands`]: the CSMS's calls a station answers.

mod commands;
mod queue;
mod transactions;

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use ocpp_rpc::{
    AnyAction, CallFailure, CallId, CounterIds, Event, Millis, Outcome, Session, Violation,
};

use crate::decoders::StationMessages;
use ocpp_types::{DateTime, OcppVersion};

use crate::config::StationConfig;
use crate::hardware::{ConnectorId, Hardware, IdToken, Reading, ResetKind, StopReason};
use crate::messages::{ConnectorStatus, Message, Messages};
use crate::store::{Store, Write};
use crate::wire::Answer;

pub(crate) use queue::{END_RESERVE, Queued, TxEntry};
pub use transactions::InputError;

/// Where the station stands with the CSMS (2.x part 2 B01-B03; 1.6 section 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegistrationStatus {
    /// Accepted: the station may send anything.
    Accepted,
    /// Pending: the station retries its BootNotification after the interval, and sends
    /// nothing else except what the CSMS triggers (B01.FR.08, B02.FR.02).
    Pending,
    /// Rejected: the station sends nothing until it retries after the interval (B03.FR.02).
    Rejected,
}

/// Something the firmware or application should know, from [`Station::poll_event`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StationEvent {
    /// The CSMS answered the BootNotification.
    Registration(RegistrationStatus),
    /// A token was accepted or refused for a connector.
    Authorization {
        /// The connector.
        connector: ConnectorId,
        /// The token.
        token: String,
        /// Whether a transaction may start with it.
        accepted: bool,
    },
    /// A transaction started (its start message is in the store).
    TransactionStarted {
        /// The connector.
        connector: ConnectorId,
        /// The station's number for it (the 2.x `transactionId` is the configured prefix
        /// followed by it).
        transaction: u32,
    },
    /// A transaction ended (its end message is in the store).
    TransactionEnded {
        /// The connector.
        connector: ConnectorId,
        /// The station's number for it.
        transaction: u32,
        /// Why.
        reason: StopReason,
    },
    /// The CSMS acknowledged a transaction-related message.
    Delivered {
        /// Its action.
        action: AnyAction,
        /// The station's number of its transaction.
        transaction: u32,
    },
    /// A transaction-related message was given up: the CSMS refused it
    /// [`Variables::message_attempts`](crate::Variables::message_attempts) times (E13.FR.04;
    /// 1.6 3.7.1). On 1.6, the later messages of a transaction whose StartTransaction was
    /// given up carry `transactionId` -1 (1.6 errata 3.18).
    Discarded {
        /// Its action.
        action: AnyAction,
        /// The station's number of its transaction.
        transaction: u32,
        /// The last failure.
        failure: Option<CallFailure>,
    },
    /// The store is full: a transaction was refused, or a periodic sample was not kept.
    StoreFull,
    /// The CSMS answered one of our calls with a payload that breaks its schema, or the
    /// wrong shape.
    InvalidResponse {
        /// The call's action.
        action: AnyAction,
        /// What was wrong.
        detail: String,
    },
    /// The CSMS broke the protocol (the session answered as the specification says).
    Violation(Violation),
}

/// What the station's calls on the wire are for.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Boot,
    Heartbeat,
    Authorize {
        connector: ConnectorId,
        token: IdToken,
        remote_start_id: Option<i64>,
    },
    Queued(u64),
    /// Part `seq_no` of a NotifyReport: the next part goes when this one is settled, so that
    /// one part at a time is held in memory.
    Report {
        request_id: i64,
        seq_no: u32,
        generated_at: DateTime,
    },
    Other,
}

/// A connector's state.
#[derive(Debug, Clone, Default)]
struct Connector {
    plugged: bool,
    faulted: bool,
    inoperative: bool,
    /// ChangeAvailability(Inoperative) waits for the transaction to end.
    inoperative_scheduled: bool,
    /// A token accepted for the next transaction, with the remote start id if the CSMS
    /// asked for it.
    authorized: Option<(IdToken, Option<i64>)>,
    authorizing: bool,
    /// The transaction in progress ([`TxState::local`](crate::record::TxState)).
    tx: Option<u32>,
    /// The latest reading from the firmware.
    reading: Reading,
    next_sample: Option<Millis>,
    /// The status last sent (`None`: must be sent).
    reported: Option<ConnectorStatus>,
    /// The transaction ended with the cable still in (1.6 `Finishing`).
    finishing: bool,
}

/// The charging-station core: events in (connection, frames, clock, hardware), frames,
/// store writes, hardware commands and [`StationEvent`]s out.
///
/// Drive it like this, in this order, after every input:
/// 1. perform every [`poll_write`](Station::poll_write) on the store and report it with
///    [`write_done`](Station::write_done) (or call [`flush`](Station::flush) with a sync
///    [`Store`]): nothing that depends on a write leaves before it is durable;
/// 2. send every [`poll_transmit`](Station::poll_transmit) frame;
/// 3. act on [`poll_event`](Station::poll_event);
/// 4. call [`handle_timeout`](Station::handle_timeout) at [`poll_timeout`](Station::poll_timeout).
pub struct Station<H: Hardware> {
    config: StationConfig,
    messages: Messages,
    hardware: H,
    session: Option<Session<CounterIds, StationMessages>>,
    registration: Option<RegistrationStatus>,
    boot_in_flight: bool,
    boot_retry_at: Option<Millis>,
    next_heartbeat: Option<Millis>,
    heartbeat_interval: u32,
    /// (monotonic time, Unix milliseconds) of the last clock setting.
    clock: Option<(Millis, i64)>,
    connectors: Vec<Connector>,
    /// Whether the station (1.6 connector 0) was set inoperative.
    station_inoperative: bool,
    station_reported: Option<ConnectorStatus>,
    calls: Vec<(CallId, Pending)>,
    txs: Vec<TxEntry>,
    queue: VecDeque<Queued>,
    /// The seq of the queued message on the wire.
    in_flight: Option<u64>,
    next_seq: u64,
    next_tx: u32,
    cache: Vec<(String, bool)>,
    /// Keys of the variables and availability the CSMS changed, with their values.
    settings: Vec<(String, String)>,
    writes: VecDeque<Write>,
    writing: bool,
    log_bytes: usize,
    events: VecDeque<StationEvent>,
    reset: Option<(ResetKind, bool)>,
    store_full_reported: bool,
    /// Status changes wait for the writes in progress.
    statuses_due: bool,
}

impl<H: Hardware> core::fmt::Debug for Station<H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Station")
            .field("version", &self.config.version)
            .field("registration", &self.registration)
            .field("online", &self.session.is_some())
            .field("queued", &self.queue.len())
            .field("transactions", &self.txs.len())
            .finish_non_exhaustive()
    }
}

/// Why [`Station::new`] could not restore the state the store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreError {
    /// The index of the first record that is not one this crate writes.
    pub record: usize,
}

impl core::fmt::Display for RestoreError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "store record {} is not a station record", self.record)
    }
}

impl core::error::Error for RestoreError {}

impl<H: Hardware> Station<H> {
    /// A station resuming from the records its store holds (`store.load()`; none for a new
    /// one). Transactions the store shows as still running were cut by a power loss: each
    /// is ended at once with its last stored meter reading and the version's power-loss
    /// reason (1.6 StopTransaction `PowerLoss`; 2.x TransactionEvent Ended, trigger
    /// `AbnormalCondition`, stoppedReason `PowerLoss`), queued behind what the store holds.
    pub fn new(
        config: StationConfig,
        hardware: H,
        records: &[Vec<u8>],
        now: Millis,
    ) -> Result<Station<H>, RestoreError> {
        let connectors = (0..config.connectors)
            .map(|_| Connector::default())
            .collect();
        let mut station = Station {
            messages: Messages(config.version),
            heartbeat_interval: config.variables.heartbeat_interval,
            config,
            hardware,
            session: None,
            registration: None,
            boot_in_flight: false,
            boot_retry_at: None,
            next_heartbeat: None,
            clock: None,
            connectors,
            station_inoperative: false,
            station_reported: None,
            calls: Vec::new(),
            txs: Vec::new(),
            queue: VecDeque::new(),
            in_flight: None,
            next_seq: 0,
            next_tx: 1,
            cache: Vec::new(),
            settings: Vec::new(),
            writes: VecDeque::new(),
            writing: false,
            log_bytes: 0,
            events: VecDeque::new(),
            reset: None,
            store_full_reported: false,
            statuses_due: false,
        };
        station.restore(records, now)?;
        Ok(station)
    }

    /// The configuration, with the variables as the CSMS left them.
    pub fn config(&self) -> &StationConfig {
        &self.config
    }

    /// The firmware's hardware.
    pub fn hardware(&self) -> &H {
        &self.hardware
    }

    /// The firmware's hardware, mutably.
    pub fn hardware_mut(&mut self) -> &mut H {
        &mut self.hardware
    }

    /// The registration status the CSMS last gave (`None` before any answer).
    pub fn registration(&self) -> Option<RegistrationStatus> {
        self.registration
    }

    /// Whether a connection is up.
    pub fn is_connected(&self) -> bool {
        self.session.is_some()
    }

    /// Whether the session asks to close the connection (the CSMS sent too many bad
    /// messages in a row).
    pub fn wants_close(&self) -> bool {
        self.session.as_ref().is_some_and(Session::wants_close)
    }

    /// Sets the wall clock (from an RTC or NTP): `time` is the date-time at `now`. The
    /// CSMS's answers to BootNotification and Heartbeat set it too. Until it is set,
    /// timestamps count from 1970.
    pub fn set_clock(&mut self, now: Millis, time: DateTime) {
        let unix_ms = time.unix_timestamp() * 1000 + i64::from(time.nanosecond() / 1_000_000);
        self.clock = Some((now, unix_ms));
    }

    /// The wall-clock time at `now`.
    pub fn time(&self, now: Millis) -> DateTime {
        let (at, unix_ms) = self.clock.unwrap_or((Millis(0), 0));
        let elapsed = i64::try_from(now.0.saturating_sub(at.0)).unwrap_or(i64::MAX / 2);
        let ms = unix_ms.saturating_add(elapsed);
        let nanos = u32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0);
        DateTime::from_unix(ms.div_euclid(1000), nanos).unwrap_or(DateTime::UNIX_EPOCH)
    }

    // ----- the connection -----

    /// A WebSocket connection to the CSMS is up: the station sends its BootNotification
    /// (B01.FR.01; 1.6 4.2) unless this power cycle's was already accepted (OCPP-J 1.6 5.4, 2.0.1 part 4 5.3: no new BootNotification on reconnection), in which case
    /// it reports every connector's status and resumes its queue.
    pub fn connected(&mut self, now: Millis) {
        let mut session_config = self.config.session.clone();
        session_config.version = self.config.version;
        session_config.role = ocpp_types::Role::ChargingStation;
        session_config.handled = Some(crate::decoders::handled(self.config.version));
        self.session = Some(Session::with_decoders(session_config, CounterIds::new()));
        if self.registration == Some(RegistrationStatus::Accepted) {
            self.after_acceptance(now);
        } else if self.boot_retry_at.is_none_or(|at| at <= now) {
            self.send_boot(now);
        }
        self.pump(now);
    }

    /// The connection closed (or failed). Calls on the wire end; the queue keeps what was
    /// not acknowledged, to send after the next connection.
    pub fn disconnected(&mut self, now: Millis) {
        if let Some(mut session) = self.session.take() {
            session.close();
            while let Some(event) = session.poll_event() {
                self.on_session_event(event, now);
            }
        }
        self.calls.clear();
        self.in_flight = None;
        self.boot_in_flight = false;
        self.next_heartbeat = None;
        for connector in &mut self.connectors {
            connector.reported = None;
            connector.authorizing = false;
        }
        self.station_reported = None;
    }

    /// One WebSocket text message from the CSMS.
    pub fn receive(&mut self, frame: &[u8], now: Millis) {
        if let Some(session) = &mut self.session {
            session.receive(frame, now);
        }
        self.drain_session(now);
        self.pump(now);
    }

    /// The clock reached [`poll_timeout`](Station::poll_timeout) (calling it earlier or
    /// more often is harmless).
    pub fn handle_timeout(&mut self, now: Millis) {
        if let Some(session) = &mut self.session {
            session.handle_timeout(now);
        }
        self.drain_session(now);
        if self.session.is_some() && !self.boot_in_flight && self.boot_due(now) {
            self.send_boot(now);
        }
        if self.accepted_online() && self.next_heartbeat.is_some_and(|at| at <= now) {
            let heartbeat = self.messages.heartbeat();
            self.call(heartbeat, Pending::Heartbeat, now);
            self.next_heartbeat = Some(now.plus_millis(secs(self.heartbeat_interval)));
        }
        self.sample_due(now);
        self.pump(now);
    }

    /// When [`handle_timeout`](Station::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Millis> {
        let mut next = self.session.as_ref().and_then(Session::poll_timeout);
        let mut consider = |at: Option<Millis>| {
            if let Some(at) = at {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        };
        if self.session.is_some() && !self.boot_in_flight {
            consider(self.boot_retry_at);
        }
        if self.accepted_online() {
            consider(self.next_heartbeat);
            if self.in_flight.is_none() {
                consider(self.queue.front().map(|q| q.not_before));
            }
        }
        for connector in &self.connectors {
            consider(connector.next_sample);
        }
        next
    }

    /// The next frame to write to the WebSocket. Nothing comes out while a store write is
    /// outstanding. When everything is written and a Reset is due, the station calls
    /// [`Hardware::reset`] here.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if !self.writes_idle() {
            return None;
        }
        let frame = self.session.as_mut().and_then(Session::poll_transmit);
        if frame.is_none() {
            self.reset_if_due();
        }
        frame
    }

    /// The next write for the store. Perform it, then call [`write_done`](Station::write_done).
    pub fn poll_write(&mut self) -> Option<Write> {
        if self.writing {
            return None;
        }
        let write = self.writes.pop_front()?;
        self.writing = true;
        Some(write)
    }

    /// The write [`poll_write`](Station::poll_write) gave is durable.
    pub fn write_done(&mut self, now: Millis) {
        self.writing = false;
        if self.writes_idle() {
            self.after_writes(now);
        }
    }

    /// Everything written: the queue moves, and statuses held for it go out.
    fn after_writes(&mut self, now: Millis) {
        self.pump(now);
        if self.statuses_due {
            self.report_statuses(now);
        }
    }

    /// Performs every pending write on a sync store. On an error the write stays pending
    /// (retried by the next call) and nothing that depends on it is sent.
    pub fn flush<S: Store>(&mut self, store: &mut S, now: Millis) -> Result<(), S::Error> {
        while let Some(write) = self.writes.front() {
            self.writing = true;
            let result = store.write(write);
            self.writing = false;
            result?;
            self.writes.pop_front();
        }
        self.after_writes(now);
        Ok(())
    }

    /// The next event. Events wait until the writes before them are durable.
    pub fn poll_event(&mut self) -> Option<StationEvent> {
        if !self.writes_idle() {
            return None;
        }
        self.events.pop_front()
    }

    /// How many transaction-related messages wait for the CSMS's acknowledgement.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// How many transactions are running.
    pub fn transactions(&self) -> usize {
        self.connectors.iter().filter(|c| c.tx.is_some()).count()
    }

    /// The transaction running on a connector (the station's number for it).
    pub fn transaction(&self, connector: ConnectorId) -> Option<u32> {
        self.connector(connector).and_then(|c| c.tx)
    }

    // ----- internals -----

    fn writes_idle(&self) -> bool {
        self.writes.is_empty() && !self.writing
    }

    fn accepted_online(&self) -> bool {
        self.session.is_some() && self.registration == Some(RegistrationStatus::Accepted)
    }

    fn boot_due(&self, now: Millis) -> bool {
        self.registration != Some(RegistrationStatus::Accepted)
            && self.boot_retry_at.is_some_and(|at| at <= now)
    }

    fn connector(&self, id: ConnectorId) -> Option<&Connector> {
        self.connectors
            .get(usize::try_from(id).ok()?.checked_sub(1)?)
    }

    fn connector_mut(&mut self, id: ConnectorId) -> Option<&mut Connector> {
        self.connectors
            .get_mut(usize::try_from(id).ok()?.checked_sub(1)?)
    }

    /// Calls the CSMS (not for queued messages).
    fn call(&mut self, message: Message, purpose: Pending, now: Millis) -> bool {
        let Some(session) = &mut self.session else {
            return false;
        };
        let Some(action) = AnyAction::from_name(self.config.version, message.action) else {
            return false;
        };
        match session.call_json(action, &message.payload, now) {
            Ok(call) => {
                self.calls.push((call, purpose));
                true
            }
            Err(_) => false,
        }
    }

    fn send_boot(&mut self, now: Millis) {
        let boot = self.messages.boot(&self.config.boot);
        if self.call(boot, Pending::Boot, now) {
            self.boot_in_flight = true;
            self.boot_retry_at = None;
        }
    }

    /// After a BootNotification is accepted, or on a new connection once it was: the status
    /// of every connector (B01.FR.05; 1.6 errata 3.22: connector 0 too), the heartbeat clock, the queue.
    fn after_acceptance(&mut self, now: Millis) {
        for connector in &mut self.connectors {
            connector.reported = None;
        }
        self.station_reported = None;
        self.report_statuses(now);
        self.next_heartbeat = Some(now.plus_millis(secs(self.heartbeat_interval)));
    }

    fn drain_session(&mut self, now: Millis) {
        while let Some(event) = self.session.as_mut().and_then(Session::poll_event) {
            self.on_session_event(event, now);
        }
    }

    fn on_session_event(&mut self, event: crate::decoders::SessionEvent, now: Millis) {
        match event {
            Event::IncomingCall(call) => self.on_incoming_call(call, now),
            Event::CallCompleted { call, outcome } => {
                let Some(index) = self.calls.iter().position(|(id, _)| *id == call) else {
                    return;
                };
                let (_, purpose) = self.calls.swap_remove(index);
                self.on_outcome(purpose, outcome, now);
            }
            Event::ProtocolViolation(violation) => {
                self.events.push_back(StationEvent::Violation(violation));
            }
            _ => {}
        }
    }

    fn on_outcome(&mut self, purpose: Pending, outcome: Outcome<crate::wire::Answer>, now: Millis) {
        if let Outcome::InvalidResponse(error) = &outcome {
            let action = match &purpose {
                Pending::Queued(seq) => self
                    .queue
                    .iter()
                    .find(|q| q.msg.seq == *seq)
                    .map(|q| q.action),
                Pending::Boot => AnyAction::from_name(self.config.version, "BootNotification"),
                Pending::Heartbeat => AnyAction::from_name(self.config.version, "Heartbeat"),
                Pending::Authorize { .. } => AnyAction::from_name(self.config.version, "Authorize"),
                Pending::Report { .. } => AnyAction::from_name(self.config.version, "NotifyReport"),
                Pending::Other => None,
            };
            if let Some(action) = action {
                self.events.push_back(StationEvent::InvalidResponse {
                    action,
                    detail: alloc::string::ToString::to_string(error),
                });
            }
        }
        let response = outcome.into_result();
        match purpose {
            Pending::Boot => self.on_boot(response, now),
            Pending::Heartbeat => {
                if let Ok(answer) = response {
                    self.take_time(&answer, now);
                }
            }
            Pending::Authorize {
                connector,
                token,
                remote_start_id,
            } => self.on_authorize(connector, token, remote_start_id, response, now),
            Pending::Queued(seq) => self.on_queued_outcome(seq, response, now),
            Pending::Report {
                request_id,
                seq_no,
                generated_at,
            } => {
                // Whatever the answer; but a lost connection ends the report (B07: it
                // is not resumed on the next one).
                if !matches!(response, Err(CallFailure::Closed)) {
                    self.send_report_part(request_id, seq_no + 1, generated_at, now);
                }
            }
            Pending::Other => {}
        }
    }

    fn take_time(&mut self, answer: &Answer, now: Millis) {
        if let Some(time) = &answer.current_time {
            self.set_clock(now, *time);
        }
    }

    /// The BootNotification's answer: Accepted, Pending or Rejected with the interval
    /// (B01.FR.04 heartbeat interval, B02.FR.07/08 and B03.FR.05/06 retry; 1.6 4.2), the clock from `currentTime` (B01.FR.06).
    fn on_boot(&mut self, response: Result<Answer, CallFailure>, now: Millis) {
        self.boot_in_flight = false;
        let answer = match response {
            Ok(answer) => answer,
            Err(CallFailure::Closed) => return,
            Err(_) => {
                let retry = secs(self.config.boot_retry_interval);
                self.boot_retry_at = Some(now.plus_millis(retry));
                return;
            }
        };
        self.take_time(&answer, now);
        let interval = answer
            .interval
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(0);
        let status = match answer.status.as_deref() {
            Some("Accepted") => RegistrationStatus::Accepted,
            Some("Pending") => RegistrationStatus::Pending,
            _ => RegistrationStatus::Rejected,
        };
        self.registration = Some(status);
        self.events.push_back(StationEvent::Registration(status));
        if status == RegistrationStatus::Accepted {
            if interval > 0 {
                self.heartbeat_interval = interval;
            }
            self.after_acceptance(now);
        } else {
            let retry = if interval > 0 {
                interval
            } else {
                self.config.boot_retry_interval
            };
            self.boot_retry_at = Some(now.plus_millis(secs(retry)));
        }
    }

    /// Sends StatusNotification for every connector whose status changed since last
    /// reported (G01.FR.03-07; 1.6 4.9 and its errata 3.19), when the CSMS accepted the station.
    fn report_statuses(&mut self, now: Millis) {
        if !self.accepted_online() {
            return;
        }
        // A status follows the transaction message it goes with (1.6: StartTransaction
        // before Charging): while that message's record is being written, wait for it.
        if !self.writes_idle() {
            self.statuses_due = true;
            return;
        }
        self.statuses_due = false;
        let time = self.time(now);
        if self.config.version == OcppVersion::V16 {
            let status = if self.station_inoperative {
                ConnectorStatus::Unavailable
            } else {
                ConnectorStatus::Available
            };
            if self.station_reported != Some(status) {
                self.station_reported = Some(status);
                let message = self.messages.status(0, status, time);
                self.call(message, Pending::Other, now);
            }
        }
        for index in 0..self.connectors.len() {
            let status = self.status_of(index);
            // Compared as the version names them: 2.x has one `Occupied` for 1.6's Preparing,
            // Charging, SuspendedEV and Finishing.
            let version = self.config.version;
            let reported = self.connectors[index].reported.map(|r| r.name(version));
            if reported != Some(status.name(version)) {
                self.connectors[index].reported = Some(status);
                let id = u32::try_from(index + 1).unwrap_or(u32::MAX);
                let message = self.messages.status(id, status, time);
                self.call(message, Pending::Other, now);
            }
        }
    }

    fn status_of(&self, index: usize) -> ConnectorStatus {
        let c = &self.connectors[index];
        if c.faulted {
            ConnectorStatus::Faulted
        } else if c.tx.is_some() {
            if c.reading.power_w > 0.0 {
                ConnectorStatus::Charging
            } else {
                ConnectorStatus::SuspendedEv
            }
        } else if c.inoperative || self.station_inoperative {
            ConnectorStatus::Unavailable
        } else if c.finishing && c.plugged {
            ConnectorStatus::Finishing
        } else if c.plugged || c.authorized.is_some() {
            ConnectorStatus::Preparing
        } else {
            ConnectorStatus::Available
        }
    }

    /// Calls [`Hardware::reset`] once a Reset is due and nothing is left to write or send.
    fn reset_if_due(&mut self) {
        let Some((kind, on_idle)) = self.reset else {
            return;
        };
        if on_idle && self.transactions() > 0 {
            return;
        }
        if self.writes_idle() {
            self.reset = None;
            self.hardware.reset(kind);
        }
    }
}

/// Seconds as milliseconds.
fn secs(seconds: u32) -> u64 {
    u64::from(seconds) * 1000
}
