//! The CSMS's calls a station answers: remote start / stop, Reset, ChangeAvailability,
//! TriggerMessage, UnlockConnector, and the configuration of [`Variables`](crate::Variables)
//! (1.6 GetConfiguration / ChangeConfiguration; 2.x GetVariables / SetVariables /
//! GetBaseReport with NotifyReport). Every other action is answered `NotSupported` by the
//! session without decoding its payload ([`handled`]), and an unknown one `NotImplemented`
//! (OCPP-J 1.6 4.2.3, OCPP-J 2.0.1 part 4 4.3).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ocpp_rpc::{AnyAction, ErrorCode, IncomingCall, Millis, RpcError};
use ocpp_types::{AnyResponse, OcppVersion};
use serde_json::{Map, Value, json};

use super::{Pending, RegistrationStatus, Station};
use crate::hardware::{ConnectorId, Hardware, IdToken, ResetKind, StopReason, UnlockResult};
use crate::variables::{self, DataType, SPECS, Spec, Unknown};

/// The CSMS actions a station of `version` handles (the session refuses the others
/// undecoded).
pub(super) fn handled(version: OcppVersion) -> &'static [AnyAction] {
    match version {
        #[cfg(feature = "v16")]
        OcppVersion::V16 => {
            use ocpp_types::v16::Action::*;
            static V16: [AnyAction; 8] = [
                AnyAction::V16(RemoteStartTransaction),
                AnyAction::V16(RemoteStopTransaction),
                AnyAction::V16(Reset),
                AnyAction::V16(ChangeAvailability),
                AnyAction::V16(TriggerMessage),
                AnyAction::V16(UnlockConnector),
                AnyAction::V16(GetConfiguration),
                AnyAction::V16(ChangeConfiguration),
            ];
            &V16
        }
        #[cfg(feature = "v201")]
        OcppVersion::V201 => {
            use ocpp_types::v201::Action::*;
            static V201: [AnyAction; 9] = [
                AnyAction::V201(RequestStartTransaction),
                AnyAction::V201(RequestStopTransaction),
                AnyAction::V201(Reset),
                AnyAction::V201(ChangeAvailability),
                AnyAction::V201(TriggerMessage),
                AnyAction::V201(UnlockConnector),
                AnyAction::V201(GetVariables),
                AnyAction::V201(SetVariables),
                AnyAction::V201(GetBaseReport),
            ];
            &V201
        }
        #[cfg(feature = "v21")]
        OcppVersion::V21 => {
            use ocpp_types::v21::Action::*;
            static V21: [AnyAction; 9] = [
                AnyAction::V21(RequestStartTransaction),
                AnyAction::V21(RequestStopTransaction),
                AnyAction::V21(Reset),
                AnyAction::V21(ChangeAvailability),
                AnyAction::V21(TriggerMessage),
                AnyAction::V21(UnlockConnector),
                AnyAction::V21(GetVariables),
                AnyAction::V21(SetVariables),
                AnyAction::V21(GetBaseReport),
            ];
            &V21
        }
        #[allow(unreachable_patterns)]
        _ => &[],
    }
}

fn status(status: &str) -> Value {
    json!({ "status": status })
}

fn str_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_str)
}

fn int_at(value: &Value, path: &[&str]) -> Option<i64> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .and_then(Value::as_i64)
}

/// Something to do once the answer is on its way (F06.FR.04: the answer to a
/// TriggerMessage goes before the message; B07: NotifyReport after GetBaseReport).
enum After {
    Nothing,
    Trigger(String, Option<ConnectorId>),
    Report(i64),
}

impl<H: Hardware> Station<H> {
    pub(super) fn on_incoming_call(&mut self, call: IncomingCall, now: Millis) {
        let action = call.request.action();
        let request = serde_json::to_value(&call.request).unwrap_or(Value::Null);
        let (answer, after) = self.answer(action.as_str(), &request, now);
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let response = match answer {
            Ok(answer) => AnyResponse::decode(action, &answer.to_string())
                .map_err(|e| RpcError::new(ErrorCode::InternalError, format!("our answer: {e}"))),
            Err(error) => Err(error),
        };
        // The answer is ours and valid; failing to respond means the connection is gone.
        let _ = match response {
            Ok(response) => session.respond_any(call.id, &response),
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
        request: &Value,
        now: Millis,
    ) -> (Result<Value, RpcError>, After) {
        let v16 = self.config.version == OcppVersion::V16;
        // B03.FR.08: while Rejected, every CSMS request gets SecurityError.
        if self.registration == Some(RegistrationStatus::Rejected) {
            let error = RpcError::new(ErrorCode::SecurityError, "the CSMS rejected this station");
            return (Err(error), After::Nothing);
        }
        let pending = self.registration != Some(RegistrationStatus::Accepted);
        let answer = match action {
            "RemoteStartTransaction" | "RequestStartTransaction" if pending => {
                // B02.FR.05; 1.6 4.2: no remote start or stop before acceptance.
                status("Rejected")
            }
            "RemoteStopTransaction" | "RequestStopTransaction" if pending => status("Rejected"),
            "RemoteStartTransaction" => {
                let token = IdToken::new(str_at(request, &["idTag"]).unwrap_or_default(), "");
                let connector = int_at(request, &["connectorId"]);
                status(self.remote_start(connector, token, None, now))
            }
            "RequestStartTransaction" => {
                let token = IdToken::new(
                    str_at(request, &["idToken", "idToken"]).unwrap_or_default(),
                    str_at(request, &["idToken", "type"]).unwrap_or_default(),
                );
                let evse = int_at(request, &["evseId"]);
                let remote_id = int_at(request, &["remoteStartId"]).unwrap_or_default();
                status(self.remote_start(evse, token, Some(remote_id), now))
            }
            "RemoteStopTransaction" | "RequestStopTransaction" => {
                let found = self.connectors.iter().enumerate().find_map(|(i, c)| {
                    let tx = self.txs.iter().find(|t| Some(t.state.local) == c.tx)?;
                    let matches = if v16 {
                        tx.state.csms_id == int_at(request, &["transactionId"])
                    } else {
                        Some(tx.state.transaction_id.as_str())
                            == str_at(request, &["transactionId"])
                    };
                    matches.then_some(i)
                });
                match found.and_then(|i| u32::try_from(i + 1).ok()) {
                    Some(connector) => {
                        self.stop(connector, StopReason::Remote, now);
                        status("Accepted")
                    }
                    None => status("Rejected"),
                }
            }
            "Reset" => status(self.reset(request, v16, now)),
            "ChangeAvailability" => status(self.change_availability(request, v16)),
            "TriggerMessage" => {
                let message = str_at(request, &["requestedMessage"])
                    .unwrap_or_default()
                    .to_string();
                let connector = int_at(request, &["connectorId"])
                    .or_else(|| int_at(request, &["evse", "id"]))
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
                let connector = int_at(request, &["connectorId"]).unwrap_or_default();
                let connector = if v16 {
                    connector
                } else {
                    // One connector per EVSE: EVSE n, connector 1.
                    match (int_at(request, &["evseId"]), connector) {
                        (Some(evse), 1) => evse,
                        _ => -1,
                    }
                };
                status(self.unlock(connector, v16, now))
            }
            "GetConfiguration" => self.get_configuration(request),
            "ChangeConfiguration" => {
                let key = str_at(request, &["key"]).unwrap_or_default();
                let value = str_at(request, &["value"]).unwrap_or_default();
                status(match variables::by_v16_key(key) {
                    None => "NotSupported",
                    Some(spec) if spec.read_only => "Rejected",
                    Some(spec) => self.change(spec, value),
                })
            }
            "GetVariables" => self.get_variables(request),
            "SetVariables" => self.set_variables(request),
            "GetBaseReport" => {
                let request_id = int_at(request, &["requestId"]).unwrap_or_default();
                return match str_at(request, &["reportBase"]) {
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
    fn reset(&mut self, request: &Value, v16: bool, now: Millis) -> &'static str {
        let kind = str_at(request, &["type"]).unwrap_or_default();
        if !v16 && request.get("evseId").is_some() {
            // B11.FR.09: no per-EVSE reset.
            return "Rejected";
        }
        let (reset, reason, on_idle) = match kind {
            "Soft" => (ResetKind::Soft, StopReason::SoftReset, false),
            "OnIdle" => (ResetKind::Hard, StopReason::HardReset, true),
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
    fn change_availability(&mut self, request: &Value, v16: bool) -> &'static str {
        let operative = matches!(
            str_at(request, &["type"]).or_else(|| str_at(request, &["operationalStatus"])),
            Some("Operative")
        );
        let target = if v16 {
            int_at(request, &["connectorId"]).filter(|c| *c != 0)
        } else {
            int_at(request, &["evse", "id"]).filter(|c| *c != 0)
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

    fn get_configuration(&self, request: &Value) -> Value {
        let keys: Vec<&str> = request
            .get("key")
            .and_then(Value::as_array)
            .map(|keys| keys.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let entry = |spec: &Spec| {
            json!({"key": spec.v16.unwrap_or_default(), "readonly": spec.read_only,
                   "value": spec.get(&self.config.variables)})
        };
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        if keys.is_empty() {
            known.extend(SPECS.iter().filter(|s| s.v16.is_some()).map(entry));
        }
        for key in keys {
            match variables::by_v16_key(key) {
                Some(spec) => known.push(entry(spec)),
                None => unknown.push(json!(key)),
            }
        }
        let mut answer = Map::new();
        if !known.is_empty() {
            answer.insert("configurationKey".into(), Value::Array(known));
        }
        if !unknown.is_empty() {
            answer.insert("unknownKey".into(), Value::Array(unknown));
        }
        Value::Object(answer)
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

    fn lookup(item: &Value) -> Result<&'static Spec, &'static str> {
        let component = str_at(item, &["component", "name"]).unwrap_or_default();
        let variable = str_at(item, &["variable", "name"]).unwrap_or_default();
        let instance = str_at(item, &["variable", "instance"]);
        if !matches!(str_at(item, &["attributeType"]), None | Some("Actual")) {
            return Err("NotSupportedAttributeType");
        }
        variables::by_v2_name(component, variable, instance).map_err(|unknown| match unknown {
            Unknown::Component => "UnknownComponent",
            Unknown::Variable => "UnknownVariable",
        })
    }

    /// GetVariables (B06): one result per item, in order.
    fn get_variables(&self, request: &Value) -> Value {
        let items = request.get("getVariableData").and_then(Value::as_array);
        let results: Vec<Value> = items
            .into_iter()
            .flatten()
            .map(|item| {
                let mut result = Map::new();
                match Self::lookup(item) {
                    Ok(spec) => {
                        result.insert("attributeStatus".into(), json!("Accepted"));
                        result.insert(
                            "attributeValue".into(),
                            json!(spec.get(&self.config.variables)),
                        );
                    }
                    Err(status) => {
                        result.insert("attributeStatus".into(), json!(status));
                    }
                }
                result.insert(
                    "attributeType".into(),
                    item.get("attributeType")
                        .cloned()
                        .unwrap_or(json!("Actual")),
                );
                result.insert(
                    "component".into(),
                    item.get("component").cloned().unwrap_or(json!({})),
                );
                result.insert(
                    "variable".into(),
                    item.get("variable").cloned().unwrap_or(json!({})),
                );
                Value::Object(result)
            })
            .collect();
        json!({ "getVariableResult": results })
    }

    /// SetVariables (B05): one result per item, in order; changes kept in the store.
    fn set_variables(&mut self, request: &Value) -> Value {
        let items: Vec<Value> = request
            .get("setVariableData")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let results: Vec<Value> = items
            .iter()
            .map(|item| {
                let status = match Self::lookup(item) {
                    Ok(spec) if spec.read_only => "Rejected",
                    Ok(spec) => {
                        let value = str_at(item, &["attributeValue"]).unwrap_or_default();
                        self.change(spec, value)
                    }
                    Err(status) => status,
                };
                json!({
                    "attributeStatus": status,
                    "attributeType": item.get("attributeType").cloned().unwrap_or(json!("Actual")),
                    "component": item.get("component").cloned().unwrap_or(json!({})),
                    "variable": item.get("variable").cloned().unwrap_or(json!({})),
                })
            })
            .collect();
        json!({ "setVariableResult": results })
    }

    /// NotifyReport after GetBaseReport (B07.FR.03/08/10): every variable, with its
    /// characteristics, in one message (seqNo 0, tbc false).
    fn send_report(&mut self, request_id: i64, now: Millis) {
        let data: Vec<Value> = SPECS
            .iter()
            .filter_map(|spec| {
                let (component, variable, instance) = spec.v2?;
                let mut var = Map::new();
                var.insert("name".into(), json!(variable));
                if let Some(instance) = instance {
                    var.insert("instance".into(), json!(instance));
                }
                let mut characteristics = Map::new();
                let data_type = match spec.data_type {
                    DataType::Integer(unit) => {
                        if let Some(unit) = unit {
                            characteristics.insert("unit".into(), json!(unit));
                        }
                        "integer"
                    }
                    DataType::Boolean => "boolean",
                    DataType::MemberList => {
                        characteristics.insert(
                            "valuesList".into(),
                            json!("Energy.Active.Import.Register,Power.Active.Import"),
                        );
                        "MemberList"
                    }
                };
                characteristics.insert("dataType".into(), json!(data_type));
                characteristics.insert("supportsMonitoring".into(), json!(false));
                let mutability = if spec.read_only {
                    "ReadOnly"
                } else {
                    "ReadWrite"
                };
                Some(json!({
                    "component": {"name": component},
                    "variable": var,
                    "variableAttribute": [{"type": "Actual",
                        "value": spec.get(&self.config.variables), "mutability": mutability}],
                    "variableCharacteristics": characteristics,
                }))
            })
            .collect();
        let payload = json!({"requestId": request_id, "generatedAt": self.time(now),
                             "seqNo": 0, "tbc": false, "reportData": data});
        let message = crate::messages::Message {
            action: "NotifyReport",
            payload,
        };
        self.call(message, Pending::Other, now);
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

fn bool_text(value: bool) -> String {
    String::from(if value { "true" } else { "false" })
}
