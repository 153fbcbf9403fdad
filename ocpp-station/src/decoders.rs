//! What the station decodes: the CSMS requests it handles and the answers to the calls it
//! makes, nothing else. The session refuses every other request before decoding
//! ([`Config::handled`](ocpp_rpc::Config::handled)); these decoders only ever see the
//! actions listed here.
//!
//! Payloads are checked against their schemas by the table-driven decoder
//! ([`ocpp_types::schema::decode`] over the generated `schemas` of each version), which
//! refuses exactly what the generated typed decoders refuse, with the same errors; the
//! station then moves the few fields it reads out of the checked JSON into [`wire`]'s
//! structs. A firmware thus links one decoder and a few bytes of table per message, instead
//! of a typed decoder per message type (26 KB of code for these 16 messages).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use ocpp_rpc::Decoders;
use ocpp_types::schema::{self, Schema};
use ocpp_types::{AnyAction, MessageError, OcppVersion};
use serde_json::{Map, Value};

use crate::wire::{self, Id};

/// The station's [`Decoders`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StationMessages;

/// What the station's session reports.
pub(crate) type SessionEvent = ocpp_rpc::Event<Box<wire::Request>, wire::Answer>;

/// The schemas of one version's messages that the station decodes: `$req` are the requests
/// the CSMS sends that it handles, `$res` the answers to its own calls.
macro_rules! version {
    ($feature:literal, $module:ident, $variant:ident,
     requests: [$($req:ident => $req_schema:expr),* $(,)?],
     responses: [$($res:ident => $res_type:ident),* $(,)?]) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;
            use ocpp_types::$module::{Action, schemas};

            /// The requests decoded here: the only ones the session lets through.
            pub static HANDLED: &[AnyAction] = &[$(AnyAction::$variant(Action::$req)),*];

            pub fn request(action: Action) -> Option<&'static Schema> {
                Some(match action {
                    $(Action::$req => $req_schema,)*
                    _ => return None,
                })
            }

            pub fn response(action: Action) -> Option<&'static Schema> {
                Some(match action {
                    $(Action::$res => &schemas::$res_type,)*
                    _ => return None,
                })
            }
        }
    };
}

version!("v16", v16, V16,
requests: [
    RemoteStartTransaction => &schemas::RemoteStartTransactionRequest,
    RemoteStopTransaction => &schemas::RemoteStopTransactionRequest,
    Reset => &schemas::ResetRequest,
    ChangeAvailability => &schemas::ChangeAvailabilityRequest,
    TriggerMessage => &schemas::TriggerMessageRequest,
    UnlockConnector => &schemas::UnlockConnectorRequest,
    GetConfiguration => &schemas::GetConfigurationRequest,
    ChangeConfiguration => &schemas::ChangeConfigurationRequest,
],
responses: [
    BootNotification => BootNotificationResponse,
    Heartbeat => HeartbeatResponse,
    StatusNotification => StatusNotificationResponse,
    Authorize => AuthorizeResponse,
    StartTransaction => StartTransactionResponse,
    StopTransaction => StopTransactionResponse,
    MeterValues => MeterValuesResponse,
]);

macro_rules! version_2 {
    ($feature:literal, $module:ident, $variant:ident) => {
        version!($feature, $module, $variant,
            requests: [
                RequestStartTransaction => &schemas::RequestStartTransactionRequest,
                RequestStopTransaction => &schemas::RequestStopTransactionRequest,
                Reset => &schemas::ResetRequest,
                ChangeAvailability => &schemas::ChangeAvailabilityRequest,
                TriggerMessage => &schemas::TriggerMessageRequest,
                UnlockConnector => &schemas::UnlockConnectorRequest,
                GetVariables => &schemas::GetVariablesRequest,
                SetVariables => &schemas::SetVariablesRequest,
                GetBaseReport => &schemas::GetBaseReportRequest,
            ],
            responses: [
                BootNotification => BootNotificationResponse,
                Heartbeat => HeartbeatResponse,
                StatusNotification => StatusNotificationResponse,
                Authorize => AuthorizeResponse,
                TransactionEvent => TransactionEventResponse,
                MeterValues => MeterValuesResponse,
                NotifyReport => NotifyReportResponse,
            ]);
    };
}

version_2!("v201", v201, V201);
version_2!("v21", v21, V21);

/// The CSMS actions a station of `version` handles, which its session decodes; it answers
/// every other one `NotSupported` undecoded ([`Config::handled`](ocpp_rpc::Config::handled)).
pub(crate) fn handled(version: OcppVersion) -> &'static [AnyAction] {
    match version {
        #[cfg(feature = "v16")]
        OcppVersion::V16 => v16::HANDLED,
        #[cfg(feature = "v201")]
        OcppVersion::V201 => v201::HANDLED,
        #[cfg(feature = "v21")]
        OcppVersion::V21 => v21::HANDLED,
        #[allow(unreachable_patterns)]
        _ => &[],
    }
}

/// The schema of `action`'s request (`request`) or answer of the enabled version.
fn schema_of(action: AnyAction, request: bool) -> Result<&'static Schema, MessageError> {
    let schema = match action {
        #[cfg(feature = "v16")]
        AnyAction::V16(a) if request => v16::request(a),
        #[cfg(feature = "v16")]
        AnyAction::V16(a) => v16::response(a),
        #[cfg(feature = "v201")]
        AnyAction::V201(a) if request => v201::request(a),
        #[cfg(feature = "v201")]
        AnyAction::V201(a) => v201::response(a),
        #[cfg(feature = "v21")]
        AnyAction::V21(a) if request => v21::request(a),
        #[cfg(feature = "v21")]
        AnyAction::V21(a) => v21::response(a),
    };
    schema.ok_or_else(|| MessageError::UnknownAction {
        action: String::from(action.as_str()),
    })
}

/// The checked payload's properties (every schema above is an object's).
fn checked(
    action: AnyAction,
    request: bool,
    payload: &str,
) -> Result<Map<String, Value>, MessageError> {
    match schema::decode(schema_of(action, request)?, payload)? {
        Value::Object(properties) => Ok(properties),
        _ => Ok(Map::new()),
    }
}

impl Decoders for StationMessages {
    // Boxed: the session queues its events, and an unboxed request (300 bytes) would make
    // every slot of that queue as large, for as long as the station runs.
    type Request = Box<wire::Request>;
    type Response = wire::Answer;

    fn request(action: AnyAction, payload: &str) -> Result<Box<wire::Request>, MessageError> {
        checked(action, true, payload).map(|properties| Box::new(request(action, properties)))
    }

    fn response(action: AnyAction, payload: &str) -> Result<wire::Answer, MessageError> {
        checked(action, false, payload).map(answer)
    }
}

// ---------------------------------------------------------------------------------------------
// The fields the station reads

/// Takes `name`'s value out of `properties`, leaving `null` (the map's removal, rebalancing
/// included, is code the firmware need not carry).
fn take(properties: &mut Map<String, Value>, name: &str) -> Option<Value> {
    properties.get_mut(name).map(Value::take)
}

fn text(properties: &mut Map<String, Value>, name: &str) -> Option<String> {
    match take(properties, name)? {
        Value::String(text) => Some(text),
        _ => None,
    }
}

fn int(properties: &Map<String, Value>, name: &str) -> Option<i64> {
    properties.get(name).and_then(Value::as_i64)
}

fn object(properties: &mut Map<String, Value>, name: &str) -> Option<Map<String, Value>> {
    match take(properties, name)? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

fn evse(e: Map<String, Value>) -> wire::EvseRef {
    wire::EvseRef {
        id: int(&e, "id").unwrap_or_default(),
        connector_id: int(&e, "connectorId"),
    }
}

/// A GetVariables / SetVariables item.
fn item(value: Value) -> wire::VariableItem {
    let Value::Object(mut item) = value else {
        return wire::VariableItem::default();
    };
    let mut component = object(&mut item, "component").unwrap_or_default();
    let mut variable = object(&mut item, "variable").unwrap_or_default();
    wire::VariableItem {
        attribute_type: text(&mut item, "attributeType"),
        attribute_value: text(&mut item, "attributeValue"),
        component: wire::Component {
            name: text(&mut component, "name").unwrap_or_default(),
            instance: text(&mut component, "instance"),
            evse: object(&mut component, "evse").map(evse),
        },
        variable: wire::Variable {
            name: text(&mut variable, "name").unwrap_or_default(),
            instance: text(&mut variable, "instance"),
        },
    }
}

fn items(properties: &mut Map<String, Value>, name: &str) -> Vec<wire::VariableItem> {
    match take(properties, name) {
        Some(Value::Array(items)) => items.into_iter().map(item).collect(),
        _ => Vec::new(),
    }
}

/// The fields the station reads from a checked request of `action`. The handled requests
/// of every version name their fields alike, so one reading serves them all: a field another
/// action lacks stays absent.
fn request(action: AnyAction, mut p: Map<String, Value>) -> wire::Request {
    let id_token = object(&mut p, "idToken").map(|mut token| wire::TokenIn {
        id_token: text(&mut token, "idToken").unwrap_or_default(),
        kind: text(&mut token, "type").unwrap_or_default(),
    });
    let transaction_id = match take(&mut p, "transactionId") {
        Some(Value::String(id)) => Some(Id::Text(id)),
        Some(number) => number.as_i64().map(Id::Number),
        None => None,
    };
    let key = match take(&mut p, "key") {
        Some(Value::String(key)) => Some(wire::Keys::One(key)),
        Some(Value::Array(keys)) => Some(wire::Keys::Many(
            keys.into_iter()
                .filter_map(|k| match k {
                    Value::String(k) => Some(k),
                    _ => None,
                })
                .collect(),
        )),
        _ => None,
    };
    wire::Request {
        action: action.as_str(),
        id_tag: text(&mut p, "idTag"),
        id_token,
        connector_id: int(&p, "connectorId"),
        evse_id: int(&p, "evseId"),
        evse: object(&mut p, "evse").map(evse),
        remote_start_id: int(&p, "remoteStartId"),
        transaction_id,
        kind: text(&mut p, "type"),
        operational_status: text(&mut p, "operationalStatus"),
        requested_message: text(&mut p, "requestedMessage"),
        key,
        value: text(&mut p, "value"),
        get_variable_data: items(&mut p, "getVariableData"),
        set_variable_data: items(&mut p, "setVariableData"),
        request_id: int(&p, "requestId"),
        report_base: text(&mut p, "reportBase"),
    }
}

/// The fields the station reads from a checked answer (as [`request`], one reading for all).
fn answer(mut p: Map<String, Value>) -> wire::Answer {
    let mut info = object(&mut p, "idTagInfo")
        .or_else(|| object(&mut p, "idTokenInfo"))
        .unwrap_or_default();
    wire::Answer {
        status: text(&mut p, "status"),
        interval: int(&p, "interval"),
        current_time: text(&mut p, "currentTime").and_then(|t| t.parse().ok()),
        token_status: text(&mut info, "status"),
        transaction_id: int(&p, "transactionId").map(Id::Number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::format;
    use ocpp_types::{AnyRequest, AnyResponse};

    /// The typed reading the table-driven one replaced: the oracle of
    /// `the_table_driven_reading_agrees_with_the_typed_one`.
    mod typed {
        use super::*;

        /// The fields the station read from a request decoded into its generated type (all absent
        /// for any other), as it did before the table-driven decode.
        pub(super) fn request(request: &AnyRequest) -> wire::Request {
            let mut out = wire::Request {
                action: request.action().as_str(),
                ..wire::Request::default()
            };
            match request.action() {
                #[cfg(feature = "v16")]
                AnyAction::V16(_) => v16_request(request, &mut out),
                #[cfg(feature = "v201")]
                AnyAction::V201(_) => v201_request(request, &mut out),
                #[cfg(feature = "v21")]
                AnyAction::V21(_) => v21_request(request, &mut out),
            }
            out
        }

        /// The fields the station reads from an answer it decoded (all absent for any other).
        pub(super) fn answer(response: &AnyResponse) -> wire::Answer {
            let mut out = wire::Answer::default();
            match response.action() {
                #[cfg(feature = "v16")]
                AnyAction::V16(_) => v16_answer(response, &mut out),
                #[cfg(feature = "v201")]
                AnyAction::V201(_) => v201_answer(response, &mut out),
                #[cfg(feature = "v21")]
                AnyAction::V21(_) => v21_answer(response, &mut out),
            }
            out
        }

        #[cfg(feature = "v16")]
        fn v16_request(request: &AnyRequest, out: &mut wire::Request) {
            use ocpp_types::v16 as v;
            if let Some(m) = request.message::<v::RemoteStartTransactionRequest>() {
                out.connector_id = m.connector_id;
                out.id_tag = Some(m.id_tag.as_str().to_owned());
            } else if let Some(m) = request.message::<v::RemoteStopTransactionRequest>() {
                out.transaction_id = Some(Id::Number(m.transaction_id));
            } else if let Some(m) = request.message::<v::ResetRequest>() {
                out.kind = Some(m.r#type.as_str().to_owned());
            } else if let Some(m) = request.message::<v::ChangeAvailabilityRequest>() {
                out.connector_id = Some(m.connector_id);
                out.kind = Some(m.r#type.as_str().to_owned());
            } else if let Some(m) = request.message::<v::TriggerMessageRequest>() {
                out.requested_message = Some(m.requested_message.as_str().to_owned());
                out.connector_id = m.connector_id;
            } else if let Some(m) = request.message::<v::UnlockConnectorRequest>() {
                out.connector_id = Some(m.connector_id);
            } else if let Some(m) = request.message::<v::GetConfigurationRequest>() {
                out.key = m.key.as_ref().map(|keys| {
                    wire::Keys::Many(keys.iter().map(|k| k.as_str().to_owned()).collect())
                });
            } else if let Some(m) = request.message::<v::ChangeConfigurationRequest>() {
                out.key = Some(wire::Keys::One(m.key.as_str().to_owned()));
                out.value = Some(m.value.as_str().to_owned());
            }
        }

        #[cfg(feature = "v16")]
        fn v16_answer(response: &AnyResponse, out: &mut wire::Answer) {
            use ocpp_types::v16 as v;
            if let Some(m) = response.message::<v::BootNotificationResponse>() {
                out.status = Some(m.status.as_str().to_owned());
                out.interval = Some(m.interval);
                out.current_time = Some(m.current_time);
            } else if let Some(m) = response.message::<v::HeartbeatResponse>() {
                out.current_time = Some(m.current_time);
            } else if let Some(m) = response.message::<v::AuthorizeResponse>() {
                out.token_status = Some(m.id_tag_info.status.as_str().to_owned());
            } else if let Some(m) = response.message::<v::StartTransactionResponse>() {
                out.token_status = Some(m.id_tag_info.status.as_str().to_owned());
                out.transaction_id = Some(Id::Number(m.transaction_id));
            } else if let Some(m) = response.message::<v::StopTransactionResponse>() {
                out.token_status = m
                    .id_tag_info
                    .as_ref()
                    .map(|info| info.status.as_str().to_owned());
            }
        }

        /// The readers of a 2.x version (2.0.1 and 2.1 name these fields alike).
        macro_rules! version_2_readers {
            ($feature:literal, $module:ident, $request:ident, $answer:ident) => {
                #[cfg(feature = $feature)]
                fn $request(request: &AnyRequest, out: &mut wire::Request) {
                    use ocpp_types::$module as v;
                    let evse = |e: &v::EVSEType| wire::EvseRef {
                        id: e.id,
                        connector_id: e.connector_id,
                    };
                    let item = |attribute_type: Option<v::AttributeEnumType>,
                                component: &v::ComponentType,
                                variable: &v::VariableType| wire::VariableItem {
                        attribute_type: attribute_type.map(|t| t.as_str().to_owned()),
                        attribute_value: None,
                        component: wire::Component {
                            name: component.name.as_str().to_owned(),
                            instance: component.instance.as_ref().map(|i| i.as_str().to_owned()),
                            evse: component.evse.as_ref().map(evse),
                        },
                        variable: wire::Variable {
                            name: variable.name.as_str().to_owned(),
                            instance: variable.instance.as_ref().map(|i| i.as_str().to_owned()),
                        },
                    };
                    if let Some(m) = request.message::<v::RequestStartTransactionRequest>() {
                        out.evse_id = m.evse_id;
                        out.remote_start_id = Some(m.remote_start_id);
                        out.id_token = Some(wire::TokenIn {
                            id_token: m.id_token.id_token.as_str().to_owned(),
                            kind: m.id_token.r#type.as_str().to_owned(),
                        });
                    } else if let Some(m) = request.message::<v::RequestStopTransactionRequest>() {
                        out.transaction_id = Some(Id::Text(m.transaction_id.as_str().to_owned()));
                    } else if let Some(m) = request.message::<v::ResetRequest>() {
                        out.kind = Some(m.r#type.as_str().to_owned());
                        out.evse_id = m.evse_id;
                    } else if let Some(m) = request.message::<v::ChangeAvailabilityRequest>() {
                        out.operational_status = Some(m.operational_status.as_str().to_owned());
                        out.evse = m.evse.as_ref().map(evse);
                    } else if let Some(m) = request.message::<v::TriggerMessageRequest>() {
                        out.requested_message = Some(m.requested_message.as_str().to_owned());
                        out.evse = m.evse.as_ref().map(evse);
                    } else if let Some(m) = request.message::<v::UnlockConnectorRequest>() {
                        out.evse_id = Some(m.evse_id);
                        out.connector_id = Some(m.connector_id);
                    } else if let Some(m) = request.message::<v::GetVariablesRequest>() {
                        out.get_variable_data = m
                            .get_variable_data
                            .iter()
                            .map(|d| item(d.attribute_type, &d.component, &d.variable))
                            .collect();
                    } else if let Some(m) = request.message::<v::SetVariablesRequest>() {
                        out.set_variable_data = m
                            .set_variable_data
                            .iter()
                            .map(|d| wire::VariableItem {
                                attribute_value: Some(d.attribute_value.as_str().to_owned()),
                                ..item(d.attribute_type, &d.component, &d.variable)
                            })
                            .collect();
                    } else if let Some(m) = request.message::<v::GetBaseReportRequest>() {
                        out.request_id = Some(m.request_id);
                        out.report_base = Some(m.report_base.as_str().to_owned());
                    }
                }

                #[cfg(feature = $feature)]
                fn $answer(response: &AnyResponse, out: &mut wire::Answer) {
                    use ocpp_types::$module as v;
                    if let Some(m) = response.message::<v::BootNotificationResponse>() {
                        out.status = Some(m.status.as_str().to_owned());
                        out.interval = Some(m.interval);
                        out.current_time = Some(m.current_time);
                    } else if let Some(m) = response.message::<v::HeartbeatResponse>() {
                        out.current_time = Some(m.current_time);
                    } else if let Some(m) = response.message::<v::AuthorizeResponse>() {
                        out.token_status = Some(m.id_token_info.status.as_str().to_owned());
                    } else if let Some(m) = response.message::<v::TransactionEventResponse>() {
                        out.token_status = m
                            .id_token_info
                            .as_ref()
                            .map(|info| info.status.as_str().to_owned());
                    }
                }
            };
        }

        version_2_readers!("v201", v201, v201_request, v201_answer);
        version_2_readers!("v21", v21, v21_request, v21_answer);
    }

    /// A remote start's charging profile is checked like every other property, then dropped
    /// unread by a station without smart charging (2.x F01.FR.12, K05.FR.04; 1.6 5.11): a
    /// profile that breaks its schema is refused (OCPP-J 2.x 4.1.7), as `ocpp probe station`
    /// found when the profile was taken as any JSON.
    #[cfg(feature = "v201")]
    #[test]
    fn a_remote_start_profile_is_checked_then_ignored() {
        let action = AnyAction::V201(ocpp_types::v201::Action::RequestStartTransaction);
        let with = |profile: &str| {
            format!(
                r#"{{"idToken":{{"idToken":"T","type":"ISO14443"}},"remoteStartId":1,"chargingProfile":{profile}}}"#
            )
        };
        let valid = r#"{"id":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":[{"id":1,"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7400.0}]}]}"#;
        let request = StationMessages::request(action, &with(valid)).unwrap();
        assert_eq!(request.remote_start_id, Some(1));
        for (profile, kind, pointer) in [
            ("null", ocpp_types::ErrorKind::Type, "/chargingProfile"),
            (
                r#"{"id":"not a number"}"#,
                ocpp_types::ErrorKind::Type,
                "/chargingProfile/id",
            ),
            (
                &valid.replace(r#""stackLevel":0,"#, ""),
                ocpp_types::ErrorKind::Missing,
                "/chargingProfile/stackLevel",
            ),
        ] {
            let Err(MessageError::Invalid(err)) = StationMessages::request(action, &with(profile))
            else {
                panic!("accepted {profile}");
            };
            assert_eq!((err.kind(), err.pointer()), (kind, pointer), "{profile}");
        }
    }

    #[test]
    fn an_action_the_station_does_not_handle_is_unknown_to_its_decoders() {
        let versions = ocpp_types::OcppVersion::ALL.into_iter();
        let actions: Vec<AnyAction> = versions
            .filter_map(|v| AnyAction::from_name(v, "DataTransfer"))
            .collect();
        assert!(!actions.is_empty());
        for action in actions {
            assert!(matches!(
                StationMessages::request(action, "{}"),
                Err(MessageError::UnknownAction { .. })
            ));
        }
    }

    /// Random messages of `M` (and their answers `M::Response`) read alike through the table
    /// and through the generated type, where the station decodes them; how many were read.
    fn reads_alike<M>(seeds: core::ops::Range<u64>) -> usize
    where
        M: ocpp_types::Request + ocpp_types::random::Generate,
        M::Response: ocpp_types::random::Generate,
    {
        let mut read = 0;
        for seed in seeds {
            let request: M = ocpp_types::random::from_seed(seed);
            let text = serde_json::to_string(&request).unwrap();
            if let Ok(table) = StationMessages::request(M::ANY_ACTION, &text) {
                let typed = typed::request(&AnyRequest::from_message(request));
                assert_eq!(*table, typed, "{text}");
                read += 1;
            }
            let response: M::Response = ocpp_types::random::from_seed(seed);
            let text = serde_json::to_string(&response).unwrap();
            if let Ok(table) = StationMessages::response(M::ANY_ACTION, &text) {
                let typed = typed::answer(&AnyResponse::from_message(response));
                assert_eq!(table, typed, "{text}");
                read += 1;
            }
        }
        read
    }

    /// Both sides of every action the station decodes, so that no reading is missed: a
    /// request the table decodes must have been decodable before, and read alike.
    #[test]
    fn the_table_driven_reading_agrees_with_the_typed_one() {
        macro_rules! each {
            ($module:ident: $($message:ident),*) => {{
                use ocpp_types::$module as v;
                // Every valid message of a decoded side is read (one side per action).
                $(assert_eq!(reads_alike::<v::$message>(0..40), 40, stringify!($message));)*
            }};
        }
        #[cfg(feature = "v16")]
        each!(v16: RemoteStartTransactionRequest, RemoteStopTransactionRequest, ResetRequest,
            ChangeAvailabilityRequest, TriggerMessageRequest, UnlockConnectorRequest,
            GetConfigurationRequest, ChangeConfigurationRequest, BootNotificationRequest,
            HeartbeatRequest, StatusNotificationRequest, AuthorizeRequest,
            StartTransactionRequest, StopTransactionRequest, MeterValuesRequest);
        #[cfg(feature = "v201")]
        each!(v201: RequestStartTransactionRequest, RequestStopTransactionRequest, ResetRequest,
            ChangeAvailabilityRequest, TriggerMessageRequest, UnlockConnectorRequest,
            GetVariablesRequest, SetVariablesRequest, GetBaseReportRequest,
            BootNotificationRequest, HeartbeatRequest, StatusNotificationRequest,
            AuthorizeRequest, TransactionEventRequest, MeterValuesRequest, NotifyReportRequest);
        #[cfg(feature = "v21")]
        each!(v21: RequestStartTransactionRequest, RequestStopTransactionRequest, ResetRequest,
            ChangeAvailabilityRequest, TriggerMessageRequest, UnlockConnectorRequest,
            GetVariablesRequest, SetVariablesRequest, GetBaseReportRequest,
            BootNotificationRequest, HeartbeatRequest, StatusNotificationRequest,
            AuthorizeRequest, TransactionEventRequest, MeterValuesRequest, NotifyReportRequest);
    }
}
