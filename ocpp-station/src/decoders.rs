//! What the station decodes: the CSMS requests it handles and the answers to the calls it
//! makes, nothing else, so a firmware links no decoder (nor serializer) of any other
//! message. The session refuses every other request before decoding
//! ([`Config::handled`](ocpp_rpc::Config::handled)); these decoders only ever see the
//! actions listed here. [`request`] and [`answer`] then copy the fields the station uses out
//! of the decoded messages.

use alloc::borrow::ToOwned;
use alloc::string::String;

use ocpp_rpc::Decoders;
use ocpp_types::{AnyAction, AnyRequest, AnyResponse, MessageError};

use crate::wire::{self, Id};

/// The station's [`Decoders`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StationMessages;

/// Decodes and reads the listed messages of one version; `$req` are the requests the CSMS
/// sends that the station handles, `$res` the answers to the station's own calls.
macro_rules! version {
    ($feature:literal, $module:ident, $variant:ident,
     requests: [$($req:ident => $req_type:ident),* $(,)?],
     responses: [$($res:ident => $res_type:ident),* $(,)?]) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;
            use ocpp_types::$module as v;

            pub fn request(action: v::Action, payload: &str) -> Result<AnyRequest, MessageError> {
                match action {
                    $(v::Action::$req => Ok(AnyRequest::from_message(
                        ocpp_types::from_str::<v::$req_type>(payload)?,
                    )),)*
                    other => Err(MessageError::UnknownAction { action: String::from(other.as_str()) }),
                }
            }

            pub fn response(action: v::Action, payload: &str) -> Result<AnyResponse, MessageError> {
                match action {
                    $(v::Action::$res => Ok(AnyResponse::from_message(
                        ocpp_types::from_str::<v::$res_type>(payload)?,
                    )),)*
                    other => Err(MessageError::UnknownAction { action: String::from(other.as_str()) }),
                }
            }

        }
    };
}

version!("v16", v16, V16,
requests: [
    RemoteStartTransaction => RemoteStartTransactionRequest,
    RemoteStopTransaction => RemoteStopTransactionRequest,
    Reset => ResetRequest,
    ChangeAvailability => ChangeAvailabilityRequest,
    TriggerMessage => TriggerMessageRequest,
    UnlockConnector => UnlockConnectorRequest,
    GetConfiguration => GetConfigurationRequest,
    ChangeConfiguration => ChangeConfigurationRequest,
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
                RequestStartTransaction => RequestStartTransactionRequest,
                RequestStopTransaction => RequestStopTransactionRequest,
                Reset => ResetRequest,
                ChangeAvailability => ChangeAvailabilityRequest,
                TriggerMessage => TriggerMessageRequest,
                UnlockConnector => UnlockConnectorRequest,
                GetVariables => GetVariablesRequest,
                SetVariables => SetVariablesRequest,
                GetBaseReport => GetBaseReportRequest,
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

impl Decoders for StationMessages {
    fn request(action: AnyAction, payload: &str) -> Result<AnyRequest, MessageError> {
        match action {
            #[cfg(feature = "v16")]
            AnyAction::V16(a) => v16::request(a, payload),
            #[cfg(feature = "v201")]
            AnyAction::V201(a) => v201::request(a, payload),
            #[cfg(feature = "v21")]
            AnyAction::V21(a) => v21::request(a, payload),
        }
    }

    fn response(action: AnyAction, payload: &str) -> Result<AnyResponse, MessageError> {
        match action {
            #[cfg(feature = "v16")]
            AnyAction::V16(a) => v16::response(a, payload),
            #[cfg(feature = "v201")]
            AnyAction::V201(a) => v201::response(a, payload),
            #[cfg(feature = "v21")]
            AnyAction::V21(a) => v21::response(a, payload),
        }
    }
}

/// The fields the station reads from a request it decoded (all absent for any other).
pub(crate) fn request(request: &AnyRequest) -> wire::Request {
    let mut out = wire::Request::default();
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
pub(crate) fn answer(response: &AnyResponse) -> wire::Answer {
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
        out.kind = Some(m.r#type.as_str());
    } else if let Some(m) = request.message::<v::ChangeAvailabilityRequest>() {
        out.connector_id = Some(m.connector_id);
        out.kind = Some(m.r#type.as_str());
    } else if let Some(m) = request.message::<v::TriggerMessageRequest>() {
        out.requested_message = Some(m.requested_message.as_str());
        out.connector_id = m.connector_id;
    } else if let Some(m) = request.message::<v::UnlockConnectorRequest>() {
        out.connector_id = Some(m.connector_id);
    } else if let Some(m) = request.message::<v::GetConfigurationRequest>() {
        out.key = m
            .key
            .as_ref()
            .map(|keys| wire::Keys::Many(keys.iter().map(|k| k.as_str().to_owned()).collect()));
    } else if let Some(m) = request.message::<v::ChangeConfigurationRequest>() {
        out.key = Some(wire::Keys::One(m.key.as_str().to_owned()));
        out.value = Some(m.value.as_str().to_owned());
    }
}

#[cfg(feature = "v16")]
fn v16_answer(response: &AnyResponse, out: &mut wire::Answer) {
    use ocpp_types::v16 as v;
    if let Some(m) = response.message::<v::BootNotificationResponse>() {
        out.status = Some(m.status.as_str());
        out.interval = Some(m.interval);
        out.current_time = Some(m.current_time);
    } else if let Some(m) = response.message::<v::HeartbeatResponse>() {
        out.current_time = Some(m.current_time);
    } else if let Some(m) = response.message::<v::AuthorizeResponse>() {
        out.token_status = Some(m.id_tag_info.status.as_str());
    } else if let Some(m) = response.message::<v::StartTransactionResponse>() {
        out.token_status = Some(m.id_tag_info.status.as_str());
        out.transaction_id = Some(Id::Number(m.transaction_id));
    } else if let Some(m) = response.message::<v::StopTransactionResponse>() {
        out.token_status = m.id_tag_info.as_ref().map(|info| info.status.as_str());
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
                attribute_type: attribute_type.map(|t| t.as_str()),
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
                out.kind = Some(m.r#type.as_str());
                out.evse_id = m.evse_id;
            } else if let Some(m) = request.message::<v::ChangeAvailabilityRequest>() {
                out.operational_status = Some(m.operational_status.as_str());
                out.evse = m.evse.as_ref().map(evse);
            } else if let Some(m) = request.message::<v::TriggerMessageRequest>() {
                out.requested_message = Some(m.requested_message.as_str());
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
                out.report_base = Some(m.report_base.as_str());
            }
        }

        #[cfg(feature = $feature)]
        fn $answer(response: &AnyResponse, out: &mut wire::Answer) {
            use ocpp_types::$module as v;
            if let Some(m) = response.message::<v::BootNotificationResponse>() {
                out.status = Some(m.status.as_str());
                out.interval = Some(m.interval);
                out.current_time = Some(m.current_time);
            } else if let Some(m) = response.message::<v::HeartbeatResponse>() {
                out.current_time = Some(m.current_time);
            } else if let Some(m) = response.message::<v::AuthorizeResponse>() {
                out.token_status = Some(m.id_token_info.status.as_str());
            } else if let Some(m) = response.message::<v::TransactionEventResponse>() {
                out.token_status = m.id_token_info.as_ref().map(|info| info.status.as_str());
            }
        }
    };
}

version_2_readers!("v201", v201, v201_request, v201_answer);
version_2_readers!("v21", v21, v21_request, v21_answer);
