//! The CSMS's calls a station answers: remote start / stop, Reset, ChangeAvailability,
//! TriggerMessage, UnlockConnector, and the configuration of [`Variables`](crate::Variables)
//! (1.6 GetConfiguration / ChangeConfiguration; 2.x GetVariables / SetVariables /
//! GetBaseReport with NotifyReport). Every other action is answered `NotSupported` by the
//! session without decoding its payload ([`handled`](crate::decoders::handled)), and an unknown one `NotImplemented`
//! (OCPP-J 1.6 4.2.3, OCPP-J 2.0.1 part 4 4.3).

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use ocpp_rpc::{ErrorCode, IncomingCall, Millis, RpcError};
use ocpp_types::{DateTime, OcppVersion};
use serde_json::value::RawValue;

use super::{Pending, RegistrationStatus, Station};
use crate::hardware::{ConnectorId, Hardware, IdToken, ResetKind, StopReason, UnlockResult};
use crate::messages::json;
use crate::variables::{self, DataType, SPECS, Spec, Unknown};
use crate::wire;

fn status(status: &str) -> Box<RawValue> {
    json(&wire::Status { status })
}

/// Something to do once the answer is on its way (F06.FR.04: the answer to a
/// TriggerMessage goes before the message; B07: NotifyReport after GetBaseReport).
enum After {
    Nothing,
    Trigger(String, Option<ConnectorId>),
    Report(i64),
}

/// The 2.x attribute type of a GetVariables / SetVariables item (Actual when absent,
/// B05.FR.12, B06.FR.11).
fn attribute_type(item: &wire::VariableItem) -> &str {
    item.attribute_type.as_deref().unwrap_or("Actual")
}

impl<H: Hardware> Station<H> {
    pub(super) fn on_incoming_call(&mut self, call: IncomingCall<Box<wire::Request>>, now: Millis) {
        // The session checked the payload against its schema and read the fields we use.
        let request = *call.request;
        let (answer, after) = self.answer(request.action, request, now);
        let Some(session) = self.session.as_mut() else {
            return;
        };
        // Failing to respond means the connection is gone: nothing to do.
        let _ = match answer {
            Ok(answer) => session.respond_json(call.id, &answer),
            Err(error) => session.respond_error(call.id, &error),
        };
        match after {
            After::Nothing => {}
            After::Trigger(message, connector) => self.send_triggered(&message, connector, now),
            After::Report(request_id) => self.send_report(request_id, now),
        }
        self.report_statuses(now);
        self.pump(now);
    }

    fn answer(
        &mut self,
        action: &str,
        request: wire::Request,
        now: Millis,
    ) -> (Result<Box<RawValue>, RpcError>, After) {
        let v16 = self.config.version == OcppVersion::V16;
        // B03.FR.08: while Rejected, every CSMS request gets SecurityError.
        if self.registration == Some(RegistrationStatus::Rejected) {
            let error = RpcError::new(ErrorCode::SecurityError, "the CSMS rejected this station");
            return (Err(error), After::Nothing);
        }
        let pending = self.registration != Some(RegistrationStatus::Accepted);
        let answer = match action {
            // B02.FR.05; 1.6 4.2: no remote start or stop before acceptance.
            "RemoteStartTransaction"
            | "RequestStartTransaction"
            | "RemoteStopTransaction"
            | "RequestStopTransaction"
                if pending =>
            {
                status("Rejected")
            }
            "RemoteStartTransaction" => {
                let token = IdToken::new(request.id_tag.unwrap_or_default(), "");
                status(self.remote_start(request.connector_id, token, None, now))
            }
            "RequestStartTransaction" => {
                let token = request.id_token.unwrap_or_default();
                let token = IdToken::new(token.id_token, token.kind);
                let remote_id = request.remote_start_id.unwrap_or_default();
                status(self.remote_start(request.evse_id, token, Some(remote_id), now))
            }
            "RemoteStopTransaction" | "RequestStopTransaction" => {
                let wanted = request.transaction_id;
                let found = self.connectors.iter().enumerate().find_map(|(i, c)| {
                    let tx = self.txs.iter().find(|t| Some(t.state.local) == c.tx)?;
                    let id = match &wanted {
                        Some(wire::Id::Number(n)) => tx.state.csms_id == Some(*n),
                        Some(wire::Id::Text(t)) => !v16 && tx.state.transaction_id == *t,
                        None => false,
                    };
                    id.then_some(i)
                });
                match found.and_then(|i| u32::try_from(i + 1).ok()) {
                    Some(connector) => {
                        self.stop(connector, StopReason::Remote, now);
                        status("Accepted")
                    }
                    None => status("Rejected"),
                }
            }
            "Reset" => status(self.reset(&request, v16, now)),
            "ChangeAvailability" => status(self.change_availability(&request, v16)),
            "TriggerMessage" => {
                let message = request.requested_message.unwrap_or_default();
                let connector = request
                    .connector_id
                    .or(request.evse.as_ref().map(|e| e.id))
                    .and_then(|c| u32::try_from(c).ok());
                let verdict = self.trigger_verdict(&message, connector);
                let after = if verdict == "Accepted" {
                    After::Trigger(message, connector)
                } else {
                    After::Nothing
                };
                return (Ok(status(verdict)), after);
            }
            "UnlockConnector" => {
                let connector = request.connector_id.unwrap_or_default();
                let connector = if v16 {
                    connector
                } else {
                    // One connector per EVSE: EVSE n, connector 1.
                    match (request.evse_id, connector) {
                        (Some(evse), 1) => evse,
                        _ => -1,
                    }
                };
                status(self.unlock(connector, v16, now))
            }
            "GetConfiguration" => self.get_configuration(&request),
            "ChangeConfiguration" => {
                let key = match &request.key {
                    Some(wire::Keys::One(key)) => key.as_str(),
                    _ => "",
                };
                let value = request.value.as_deref().unwrap_or_default();
                status(match variables::by_v16_key(key) {
                    None => "NotSupported",
                    Some(spec) if spec.read_only => "Rejected",
                    Some(spec) => self.change(spec, value),
                })
            }
            "GetVariables" => self.get_variables(&request),
            "SetVariables" => self.set_variables(&request),
            "GetBaseReport" => {
                let request_id = request.request_id.unwrap_or_default();
                return match request.report_base.as_deref() {
                    Some("ConfigurationInventory" | "FullInventory") => {
                        (Ok(status("Accepted")), After::Report(request_id))
                    }
                    _ => (Ok(status("NotSupported")), After::Nothing),
                };
            }
            other => {
                let error =
                    RpcError::new(ErrorCode::NotSupported, format!("{other} is not supported"));
                return (Err(error), After::Nothing);
            }
        };
        (Ok(answer), After::Nothing)
    }

    /// RemoteStartTransaction / RequestStartTransaction (F01, F02; 1.6 5.11).
    fn remote_start(
        &mut self,
        connector: Option<i64>,
        token: IdToken,
        remote_start_id: Option<i64>,
        now: Millis,
    ) -> &'static str {
        let station_inoperative = self.station_inoperative;
        let free = |c: &super::Connector| {
            c.tx.is_none()
                && !c.faulted
                && !c.inoperative
                && !station_inoperative
                && c.authorized.is_none()
        };
        let chosen = match connector {
            Some(id) => u32::try_from(id)
                .ok()
                .filter(|id| self.connector(*id).is_some_and(free)),
            None => self
                .connectors
                .iter()
                .position(free)
                .and_then(|i| u32::try_from(i + 1).ok()),
        };
        let Some(connector) = chosen else {
            return "Rejected";
        };
        if self.config.variables.authorize_remote_start {
            self.authorize(connector, token, remote_start_id, now);
        } else {
            self.accept(connector, token, remote_start_id, now);
        }
        "Accepted"
    }

    /// Reset (B11, B12; 1.6 5.14): transactions end first (reason HardReset / SoftReset,
    /// 2.x ImmediateReset), then [`Hardware::reset`]; 2.x OnIdle waits for them.
    fn reset(&mut self, request: &wire::Request, v16: bool, now: Millis) -> &'static str {
        if !v16 && request.evse_id.is_some() {
            // B11.FR.09: no per-EVSE reset.
            return "Rejected";
        }
        let (reset, reason, on_idle) = match request.kind.as_deref() {
            Some("Soft") => (ResetKind::Soft, StopReason::SoftReset, false),
            Some("OnIdle") => (ResetKind::Hard, StopReason::HardReset, true),
            _ => (ResetKind::Hard, StopReason::HardReset, false),
        };
        self.reset = Some((reset, on_idle));
        if on_idle {
            return if self.transactions() > 0 {
                "Scheduled"
            } else {
                "Accepted"
            };
        }
        for id in 1..=self.config.connectors {
            self.stop(id, reason, now);
        }
        "Accepted"
    }

    /// ChangeAvailability (G03, G04; 1.6 5.2): kept in the store, Scheduled while a
    /// transaction runs.
    fn change_availability(&mut self, request: &wire::Request, v16: bool) -> &'static str {
        let wanted = if v16 {
            request.kind.as_deref()
        } else {
            request.operational_status.as_deref()
        };
        let operative = wanted == Some("Operative");
        let target = if v16 {
            request.connector_id.filter(|c| *c != 0)
        } else {
            request.evse.as_ref().map(|e| e.id).filter(|c| *c != 0)
        };
        let targets: Vec<u32> = match target {
            None => {
                self.station_inoperative = !operative;
                self.set_setting(String::from("Available.0"), bool_text(operative));
                (1..=self.config.connectors).collect()
            }
            Some(id) => match u32::try_from(id)
                .ok()
                .filter(|id| self.connector(*id).is_some())
            {
                Some(id) => alloc::vec![id],
                None => return "Rejected",
            },
        };
        let mut scheduled = false;
        for id in targets {
            let Some(c) = self.connector_mut(id) else {
                continue;
            };
            if !operative && c.tx.is_some() {
                c.inoperative_scheduled = true;
                scheduled = true;
                continue;
            }
            c.inoperative_scheduled = false;
            c.inoperative = !operative;
            if target.is_some() {
                self.set_setting(format!("Available.{id}"), bool_text(operative));
            }
        }
        if scheduled { "Scheduled" } else { "Accepted" }
    }

    /// Whether a TriggerMessage can be served (F06; 1.6 5.17).
    fn trigger_verdict(&self, message: &str, connector: Option<ConnectorId>) -> &'static str {
        if connector.is_some_and(|c| self.connector(c).is_none()) {
            return "Rejected";
        }
        match message {
            // F06.FR.17; 1.6 errata 3.35: not once accepted.
            "BootNotification" if self.registration == Some(RegistrationStatus::Accepted) => {
                "Rejected"
            }
            "BootNotification" | "Heartbeat" | "StatusNotification" | "MeterValues" => "Accepted",
            "TransactionEvent" => {
                let any = match connector {
                    Some(c) => self.connector(c).is_some_and(|c| c.tx.is_some()),
                    None => self.transactions() > 0,
                };
                if any { "Accepted" } else { "Rejected" }
            }
            // F06.FR.08: a status, not an RPC error.
            _ => "NotImplemented",
        }
    }

    fn send_triggered(&mut self, message: &str, connector: Option<ConnectorId>, now: Millis) {
        let all: Vec<ConnectorId> = match connector {
            Some(c) => alloc::vec![c],
            None => (1..=self.config.connectors).collect(),
        };
        match message {
            "BootNotification" => {
                let boot = self.messages.boot(&self.config.boot);
                if self.call(boot, Pending::Boot, now) {
                    self.boot_in_flight = true;
                }
            }
            "Heartbeat" => {
                let heartbeat = self.messages.heartbeat();
                self.call(heartbeat, Pending::Heartbeat, now);
            }
            "StatusNotification" => {
                let time = self.time(now);
                for id in all {
                    let index = usize::try_from(id).unwrap_or(0).saturating_sub(1);
                    if index < self.connectors.len() {
                        let status = self.status_of(index);
                        let message = self.messages.status(id, status, time);
                        self.call(message, Pending::Other, now);
                    }
                }
            }
            "MeterValues" => {
                let time = self.time(now);
                let measurands = self.config.variables.tx_updated_measurands;
                for id in all {
                    let reading = self.connector(id).map(|c| c.reading);
                    let message =
                        reading.and_then(|r| self.messages.meter_values(id, r, measurands, time));
                    if let Some(message) = message {
                        self.call(message, Pending::Other, now);
                    }
                }
            }
            "TransactionEvent" => {
                for id in all {
                    self.sample(id, true, now);
                }
            }
            _ => {}
        }
    }

    /// UnlockConnector (F05; 1.6 5.18: a transaction ends first on 1.6, refuses on 2.x).
    fn unlock(&mut self, connector: i64, v16: bool, now: Millis) -> &'static str {
        let Some(id) = u32::try_from(connector)
            .ok()
            .filter(|id| self.connector(*id).is_some())
        else {
            return if v16 {
                "NotSupported"
            } else {
                "UnknownConnector"
            };
        };
        if self.connector(id).is_some_and(|c| c.tx.is_some()) {
            if !v16 {
                return "OngoingAuthorizedTransaction";
            }
            self.stop(id, StopReason::UnlockCommand, now);
        }
        match self.hardware.unlock(id) {
            UnlockResult::Unlocked => "Unlocked",
            UnlockResult::Failed => "UnlockFailed",
            UnlockResult::NotSupported if v16 => "NotSupported",
            UnlockResult::NotSupported => "UnlockFailed",
        }
    }

    fn get_configuration(&self, request: &wire::Request) -> Box<RawValue> {
        let keys: Vec<&str> = match &request.key {
            Some(wire::Keys::Many(keys)) => keys.iter().map(String::as_str).collect(),
            Some(wire::Keys::One(key)) => alloc::vec![key.as_str()],
            None => Vec::new(),
        };
        let entry = |spec: &'static Spec| wire::ConfigurationKey {
            key: spec.v16.unwrap_or_default(),
            readonly: spec.read_only,
            value: spec.get(&self.config.variables),
        };
        let mut answer = wire::GetConfiguration {
            configuration_key: Vec::new(),
            unknown_key: Vec::new(),
        };
        if keys.is_empty() {
            let all = SPECS.iter().filter(|s| s.v16.is_some()).map(entry);
            answer.configuration_key.extend(all);
        }
        for key in keys {
            match variables::by_v16_key(key) {
                Some(spec) => answer.configuration_key.push(entry(spec)),
                None => answer.unknown_key.push(key),
            }
        }
        json(&answer)
    }

    /// Sets a variable and keeps it in the store: Accepted, or Rejected for a value it does
    /// not take (B05.FR.07/08; 1.6 5.3, 3.16.4).
    fn change(&mut self, spec: &'static Spec, value: &str) -> &'static str {
        if spec.set(&mut self.config.variables, value).is_none() {
            return "Rejected";
        }
        self.set_setting(String::from(spec.key()), spec.get(&self.config.variables));
        "Accepted"
    }

    fn lookup(item: &wire::VariableItem) -> Result<&'static Spec, &'static str> {
        if attribute_type(item) != "Actual" {
            return Err("NotSupportedAttributeType");
        }
        let (component, variable) = (&item.component.name, &item.variable.name);
        let instance = item.variable.instance.as_deref();
        variables::by_v2_name(component, variable, instance).map_err(|unknown| match unknown {
            Unknown::Component => "UnknownComponent",
            Unknown::Variable => "UnknownVariable",
        })
    }

    /// GetVariables (B06): one result per item, in order.
    fn get_variables(&self, request: &wire::Request) -> Box<RawValue> {
        let results = request
            .get_variable_data
            .iter()
            .map(|item| {
                let (attribute_status, attribute_value) = match Self::lookup(item) {
                    Ok(spec) => ("Accepted", Some(spec.get(&self.config.variables))),
                    Err(status) => (status, None),
                };
                wire::VariableResult {
                    attribute_status,
                    attribute_type: attribute_type(item),
                    attribute_value,
                    component: &item.component,
                    variable: &item.variable,
                }
            })
            .collect();
        json(&wire::GetVariables {
            get_variable_result: results,
        })
    }

    /// SetVariables (B05): one result per item, in order; changes kept in the store.
    fn set_variables(&mut self, request: &wire::Request) -> Box<RawValue> {
        let mut results = Vec::with_capacity(request.set_variable_data.len());
        for item in &request.set_variable_data {
            let attribute_status = match Self::lookup(item) {
                Ok(spec) if spec.read_only => "Rejected",
                Ok(spec) => {
                    let value = item.attribute_value.as_deref().unwrap_or_default();
                    self.change(spec, value)
                }
                Err(status) => status,
            };
            results.push(wire::VariableResult {
                attribute_status,
                attribute_type: attribute_type(item),
                attribute_value: None,
                component: &item.component,
                variable: &item.variable,
            });
        }
        json(&wire::SetVariables {
            set_variable_result: results,
        })
    }

    /// NotifyReport after GetBaseReport (B07.FR.03/08/10): every variable with its
    /// characteristics, [`REPORT_ITEMS`] per message (`seqNo` from 0, `tbc` on all but the
    /// last), so no message (nor its buffers) grows with the number of variables.
    fn send_report(&mut self, request_id: i64, now: Millis) {
        let generated_at = self.time(now);
        self.send_report_part(request_id, 0, generated_at, now);
    }

    /// Sends part `seq_no` of a NotifyReport, if there is one (B07.FR.08/10: parts in order,
    /// `tbc` on all but the last); the next goes when this one is settled.
    pub(super) fn send_report_part(
        &mut self,
        request_id: i64,
        seq_no: u32,
        generated_at: DateTime,
        now: Millis,
    ) {
        let reported = || SPECS.iter().filter(|s| s.v2.is_some());
        let parts = reported().count().div_ceil(REPORT_ITEMS);
        let index = usize::try_from(seq_no).unwrap_or(usize::MAX);
        if index >= parts {
            return;
        }
        let variables = &self.config.variables;
        let data = reported()
            .skip(index * REPORT_ITEMS)
            .take(REPORT_ITEMS)
            .filter_map(|spec| report_datum(spec, variables))
            .collect();
        let report = wire::NotifyReport {
            request_id,
            generated_at,
            seq_no,
            tbc: index + 1 < parts,
            report_data: data,
        };
        let message = crate::messages::Message {
            action: "NotifyReport",
            payload: json(&report),
        };
        let pending = Pending::Report {
            request_id,
            seq_no,
            generated_at,
        };
        self.call(message, pending, now);
    }

    /// Keeps a changed setting (a variable, or availability) in the store.
    pub(super) fn set_setting(&mut self, key: String, value: String) {
        self.settings.retain(|(k, _)| *k != key);
        self.settings.push((key.clone(), value.clone()));
        self.persist(&crate::record::Record {
            setting: Some((key, value)),
            ..crate::record::Record::default()
        });
    }

    /// Applies a stored setting when the store replays.
    pub(super) fn restore_setting(&mut self, key: &str, value: &str) {
        self.settings.retain(|(k, _)| k != key);
        self.settings.push((String::from(key), String::from(value)));
        if let Some(id) = key.strip_prefix("Available.") {
            let operative = value == "true";
            match id.parse::<u32>() {
                Ok(0) => self.station_inoperative = !operative,
                Ok(id) => {
                    if let Some(c) = self.connector_mut(id) {
                        c.inoperative = !operative;
                    }
                }
                Err(_) => {}
            }
            return;
        }
        let spec = SPECS.iter().find(|s| s.key() == key);
        if let Some(spec) = spec {
            let _ = spec.set(&mut self.config.variables, value);
        }
    }
}

/// How many variables one NotifyReport carries.
const REPORT_ITEMS: usize = 4;

/// One variable as NotifyReport describes it.
fn report_datum<'a>(spec: &'a Spec, variables: &crate::Variables) -> Option<wire::ReportDatum<'a>> {
    let (component, variable, instance) = spec.v2?;
    let (data_type, unit, values_list) = match spec.data_type {
        DataType::Integer(unit) => ("integer", unit, None),
        DataType::Boolean => ("boolean", None, None),
        DataType::MemberList => (
            "MemberList",
            None,
            Some("Energy.Active.Import.Register,Power.Active.Import"),
        ),
    };
    Some(wire::ReportDatum {
        component: wire::Named { name: component },
        variable: wire::ReportVariable {
            name: variable,
            instance,
        },
        variable_attribute: [wire::Attribute {
            kind: "Actual",
            value: spec.get(variables),
            mutability: if spec.read_only {
                "ReadOnly"
            } else {
                "ReadWrite"
            },
        }],
        variable_characteristics: wire::Characteristics {
            unit,
            data_type,
            values_list,
            supports_monitoring: false,
        },
    })
}

fn bool_text(value: bool) -> String {
    String::from(if value { "true" } else { "false" })
}
