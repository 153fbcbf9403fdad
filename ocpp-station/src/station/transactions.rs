//! Hardware events, authorization, and transactions with their meter values.
//!
//! A transaction starts when a connector has both a cable plugged in and an accepted token
//! (1.6 4.8; 2.x E01.FR.05, TxStartPoint `PowerPathClosed`), whichever comes last
//! (its 2.x `triggerReason`: `CablePluggedIn` or `Authorized`, or `RemoteStart`); it ends
//! when the driver presents the token again, the cable is unplugged
//! (StopTxOnEVSideDisconnect), the CSMS stops it, a reset, a fault, or the CSMS's answer to
//! its start refuses the token (StopTxOnInvalidId) (E06.FR.02/03, E07.FR.02, E05.FR.10, E06.FR.16; 1.6 5.12, errata 3.17). While it
//! runs, a sample is stored and queued every `sample_interval` seconds (J02.FR.11; 1.6
//! MeterValueSampleInterval, 9.1.19).
//!
//! Authorization: online, the station asks the CSMS (Authorize, C01.FR.02; 1.6 4.1) and keeps the
//! answer in its cache (AuthCacheCtrlr.Enabled, C10.FR.04/11; 1.6 3.5.1 AuthorizationCacheEnabled).
//! Offline (or when the CSMS does not answer), a token the cache accepts is accepted if
//! `local_authorize_offline`, and any other token if `offline_tx_for_unknown_id` (C13.FR.04, C15.FR.08; tokens let in so are not cached, C15.FR.01; 1.6
//! 3.5 LocalAuthorizeOffline, AllowOfflineTxForUnknownId).

use alloc::format;
use alloc::string::String;

use ocpp_rpc::{CallFailure, Millis};

use super::{Pending, Station, StationEvent, secs};
use crate::hardware::{ConnectorId, Hardware, IdToken, Reading, StopReason};
use crate::messages::StartTrigger;
use crate::record::{Record, TxState};
use crate::wire::Answer;

/// A hardware event named a connector the station does not have, or carried a reading that
/// is not a finite number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// No such connector.
    UnknownConnector(ConnectorId),
    /// A reading that is NaN or infinite.
    NotFinite,
}

impl core::fmt::Display for InputError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InputError::UnknownConnector(id) => write!(f, "no connector {id}"),
            InputError::NotFinite => f.write_str("a meter reading must be a finite number"),
        }
    }
}

impl core::error::Error for InputError {}

impl<H: Hardware> Station<H> {
    fn known(&self, connector: ConnectorId) -> Result<(), InputError> {
        self.connector(connector)
            .map(|_| ())
            .ok_or(InputError::UnknownConnector(connector))
    }

    /// A cable was plugged in.
    pub fn plug_in(&mut self, connector: ConnectorId, now: Millis) -> Result<(), InputError> {
        self.known(connector)?;
        if let Some(c) = self.connector_mut(connector) {
            c.plugged = true;
            c.finishing = false;
        }
        self.try_start(connector, StartTrigger::CablePluggedIn, now);
        self.report_statuses(now);
        self.pump(now);
        Ok(())
    }

    /// The cable was unplugged.
    pub fn unplug(&mut self, connector: ConnectorId, now: Millis) -> Result<(), InputError> {
        self.known(connector)?;
        if let Some(c) = self.connector_mut(connector) {
            c.plugged = false;
            c.finishing = false;
        }
        if self.config.variables.stop_tx_on_ev_side_disconnect {
            self.stop(connector, StopReason::EvDisconnected, now);
        }
        self.report_statuses(now);
        self.pump(now);
        Ok(())
    }

    /// The connector's meter read `reading`. It is what the next sample and the end of the
    /// transaction report.
    pub fn meter(
        &mut self,
        connector: ConnectorId,
        reading: Reading,
        now: Millis,
    ) -> Result<(), InputError> {
        self.known(connector)?;
        if !reading.energy_wh.is_finite() || !reading.power_w.is_finite() {
            return Err(InputError::NotFinite);
        }
        if let Some(c) = self.connector_mut(connector) {
            c.reading = reading;
        }
        self.report_statuses(now);
        self.pump(now);
        Ok(())
    }

    /// The connector faulted (`true`) or recovered. A fault ends its transaction.
    pub fn fault(
        &mut self,
        connector: ConnectorId,
        faulted: bool,
        now: Millis,
    ) -> Result<(), InputError> {
        self.known(connector)?;
        if let Some(c) = self.connector_mut(connector) {
            c.faulted = faulted;
        }
        if faulted {
            self.stop(connector, StopReason::Fault, now);
        }
        self.report_statuses(now);
        self.pump(now);
        Ok(())
    }

    /// A driver presented a token at a connector: it stops the connector's transaction if it
    /// started it, else it is authorized for the next one.
    pub fn present_token(
        &mut self,
        connector: ConnectorId,
        token: IdToken,
        now: Millis,
    ) -> Result<(), InputError> {
        self.known(connector)?;
        let running = self
            .connector(connector)
            .and_then(|c| c.tx)
            .and_then(|local| self.txs.iter().find(|t| t.state.local == local));
        if let Some(tx) = running {
            if tx.state.token == token.id {
                self.stop(connector, StopReason::Local, now);
                self.report_statuses(now);
                self.pump(now);
            } else {
                self.refuse(connector, token.id);
            }
            return Ok(());
        }
        self.authorize(connector, token, None, now);
        self.report_statuses(now);
        self.pump(now);
        Ok(())
    }

    /// Authorizes `token` for a connector: online with the CSMS, else from the cache and
    /// configuration.
    pub(super) fn authorize(
        &mut self,
        connector: ConnectorId,
        token: IdToken,
        remote_start_id: Option<i64>,
        now: Millis,
    ) {
        if !self.has_room(2 * super::END_RESERVE) {
            self.store_full();
            self.refuse(connector, token.id);
            return;
        }
        if self.accepted_online() {
            let message = self.messages.authorize(&token.id, &token.kind);
            let purpose = Pending::Authorize {
                connector,
                token: token.clone(),
                remote_start_id,
            };
            if self.call(message, purpose, now) {
                if let Some(c) = self.connector_mut(connector) {
                    c.authorizing = true;
                }
                return;
            }
        }
        self.authorize_offline(connector, token, remote_start_id, now);
    }

    fn authorize_offline(
        &mut self,
        connector: ConnectorId,
        token: IdToken,
        remote_start_id: Option<i64>,
        now: Millis,
    ) {
        let cached = self
            .cache
            .iter()
            .find(|(t, _)| *t == token.id)
            .map(|(_, accepted)| *accepted);
        let variables = &self.config.variables;
        let accepted = match cached {
            Some(true) => variables.local_authorize_offline,
            Some(false) => false,
            None => variables.offline_tx_for_unknown_id,
        };
        if accepted {
            self.accept(connector, token, remote_start_id, now);
        } else {
            self.refuse(connector, token.id);
        }
    }

    /// The CSMS's answer to an Authorize.
    pub(super) fn on_authorize(
        &mut self,
        connector: ConnectorId,
        token: IdToken,
        remote_start_id: Option<i64>,
        response: Result<Answer, CallFailure>,
        now: Millis,
    ) {
        if let Some(c) = self.connector_mut(connector) {
            c.authorizing = false;
        }
        let answer = match response {
            Ok(answer) => answer,
            // No answer from the CSMS: decide as offline.
            Err(_) => {
                self.authorize_offline(connector, token, remote_start_id, now);
                self.report_statuses(now);
                return;
            }
        };
        let accepted = answer.token_status.as_deref() == Some("Accepted");
        if self.config.variables.auth_cache_enabled {
            self.cache.retain(|(t, _)| *t != token.id);
            self.cache.push((token.id.clone(), accepted));
            self.persist(&Record {
                cache: Some((token.id.clone(), Some(accepted))),
                ..Record::default()
            });
        }
        if accepted {
            self.accept(connector, token, remote_start_id, now);
        } else {
            self.refuse(connector, token.id);
        }
        self.report_statuses(now);
    }

    pub(super) fn accept(
        &mut self,
        connector: ConnectorId,
        token: IdToken,
        remote_start_id: Option<i64>,
        now: Millis,
    ) {
        self.events.push_back(StationEvent::Authorization {
            connector,
            token: token.id.clone(),
            accepted: true,
        });
        if let Some(c) = self.connector_mut(connector) {
            c.authorized = Some((token, remote_start_id));
        }
        let trigger = if remote_start_id.is_some() {
            StartTrigger::RemoteStart
        } else {
            StartTrigger::Authorized
        };
        self.try_start(connector, trigger, now);
    }

    fn refuse(&mut self, connector: ConnectorId, token: String) {
        self.events.push_back(StationEvent::Authorization {
            connector,
            token,
            accepted: false,
        });
    }

    fn store_full(&mut self) {
        if !self.store_full_reported {
            self.store_full_reported = true;
            self.events.push_back(StationEvent::StoreFull);
        }
    }

    /// Starts a transaction if the connector has a cable and a token, and may charge.
    fn try_start(&mut self, connector: ConnectorId, trigger: StartTrigger, now: Millis) {
        let station_inoperative = self.station_inoperative;
        let Some(c) = self.connector(connector) else {
            return;
        };
        if !c.plugged || c.tx.is_some() || c.faulted || c.inoperative || station_inoperative {
            return;
        }
        let Some((token, remote_start_id)) = c.authorized.clone() else {
            return;
        };
        let reading = c.reading;
        let trigger = match (trigger, remote_start_id) {
            (_, Some(_)) => StartTrigger::RemoteStart,
            (trigger, None) => trigger,
        };
        let local = self.next_tx;
        self.next_tx = self.next_tx.saturating_add(1);
        let transaction_id = if self.config.version == ocpp_types::OcppVersion::V16 {
            String::new()
        } else {
            format!("{}{local}", self.config.transaction_id_prefix)
        };
        let mut state = TxState {
            local,
            connector,
            transaction_id,
            csms_id: None,
            token: token.id,
            token_type: token.kind,
            remote_start_id,
            meter_start_wh: reading.energy_wh,
            meter_wh: reading.energy_wh,
            meter_at: self.time(now),
            seq_no: 0,
            ended: false,
        };
        let offline = !self.accepted_online();
        let measurands = self.config.variables.tx_started_measurands;
        let message = self
            .messages
            .tx_started(&state, reading, measurands, trigger, offline);
        state.seq_no += 1;
        let record = self.queue_record(&state, message);
        if !self.has_room(record.encode().len() + super::END_RESERVE) {
            self.store_full();
            return;
        }
        self.apply(record.clone(), now);
        self.persist(&record);
        let interval = self.sample_interval_ms();
        if let Some(c) = self.connector_mut(connector) {
            c.authorized = None;
            c.tx = Some(local);
            c.next_sample = (interval > 0).then(|| now.plus_millis(interval));
        }
        self.hardware.set_energy(connector, true);
        self.events.push_back(StationEvent::TransactionStarted {
            connector,
            transaction: local,
        });
    }

    /// Ends the connector's transaction, if one runs.
    pub(super) fn stop(&mut self, connector: ConnectorId, reason: StopReason, now: Millis) {
        let Some(c) = self.connector_mut(connector) else {
            return;
        };
        let Some(local) = c.tx.take() else {
            return;
        };
        c.next_sample = None;
        c.finishing = c.plugged;
        let reading = c.reading;
        if c.inoperative_scheduled {
            c.inoperative_scheduled = false;
            c.inoperative = true;
            self.set_setting(format!("Available.{connector}"), String::from("false"));
        }
        self.hardware.set_energy(connector, false);
        let Some(mut state) = self
            .txs
            .iter()
            .find(|t| t.state.local == local)
            .map(|t| t.state.clone())
        else {
            return;
        };
        state.meter_wh = reading.energy_wh;
        state.meter_at = self.time(now);
        let offline = !self.accepted_online();
        let measurands = self.config.variables.tx_ended_measurands;
        let message = self
            .messages
            .tx_ended(&state, reading, measurands, reason, offline);
        state.seq_no += 1;
        state.ended = true;
        self.enqueue(state, message, now);
        self.events.push_back(StationEvent::TransactionEnded {
            connector,
            transaction: local,
            reason,
        });
    }

    /// The CSMS's answer to a transaction's start refused its token (StopTxOnInvalidId).
    pub(super) fn deauthorize(&mut self, local: u32, now: Millis) {
        if !self.config.variables.stop_tx_on_invalid_id {
            return;
        }
        let connector = self
            .connectors
            .iter()
            .position(|c| c.tx == Some(local))
            .and_then(|i| u32::try_from(i + 1).ok());
        if let Some(connector) = connector {
            self.stop(connector, StopReason::DeAuthorized, now);
            self.report_statuses(now);
        }
    }

    /// Stores and queues a sample for every transaction whose sample is due.
    pub(super) fn sample_due(&mut self, now: Millis) {
        for index in 0..self.connectors.len() {
            let due = self.connectors[index]
                .next_sample
                .is_some_and(|at| at <= now);
            if !due {
                continue;
            }
            // The CSMS may have set the interval to 0 (no samples) meanwhile.
            let interval = self.sample_interval_ms();
            self.connectors[index].next_sample = (interval > 0).then(|| now.plus_millis(interval));
            if interval == 0 {
                continue;
            }
            let connector = u32::try_from(index + 1).unwrap_or(u32::MAX);
            self.sample(connector, false, now);
        }
    }

    /// The sample interval in milliseconds (0: no samples).
    fn sample_interval_ms(&self) -> u64 {
        self.config
            .sample_interval_ms
            .unwrap_or(secs(self.config.variables.sample_interval))
    }

    /// Stores and queues a sample of the connector's transaction (periodic, or triggered by
    /// the CSMS). Skipped when storage is short: the end must still fit.
    pub(super) fn sample(&mut self, connector: ConnectorId, triggered: bool, now: Millis) -> bool {
        let Some(c) = self.connector(connector) else {
            return false;
        };
        let (Some(local), reading) = (c.tx, c.reading) else {
            return false;
        };
        let Some(mut state) = self
            .txs
            .iter()
            .find(|t| t.state.local == local)
            .map(|t| t.state.clone())
        else {
            return false;
        };
        state.meter_wh = reading.energy_wh;
        state.meter_at = self.time(now);
        let offline = !self.accepted_online();
        let measurands = self.config.variables.tx_updated_measurands;
        let Some(message) = self
            .messages
            .tx_sample(&state, reading, measurands, triggered, offline)
        else {
            return false;
        };
        state.seq_no += 1;
        let record = self.queue_record(&state, message);
        if !self.has_room(record.encode().len()) {
            self.next_seq -= 1;
            self.store_full();
            return false;
        }
        self.apply(record.clone(), now);
        self.persist(&record);
        true
    }
}
