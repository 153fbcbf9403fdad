//! What the station decodes: the CSMS requests it handles and the answers to the calls it
//! makes, nothing else, so a firmware links no decoder (nor serializer) of any other
//! message. The session refuses every other request before decoding
//! ([`Config::handled`](ocpp_rpc::Config::handled)); these decoders only ever see the
//! actions listed here.

use alloc::string::String;

use ocpp_rpc::Decoders;
use ocpp_types::{AnyAction, AnyRequest, AnyResponse, MessageError};

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

            /// The JSON text of a request this module decodes.
            pub fn request_text(request: &AnyRequest) -> Option<String> {
                $(if let Some(m) = request.message::<v::$req_type>() {
                    return serde_json::to_string(m).ok();
                })*
                None
            }

            /// The JSON text of an answer this module decodes.
            pub fn response_text(response: &AnyResponse) -> Option<String> {
                $(if let Some(m) = response.message::<v::$res_type>() {
                    return serde_json::to_string(m).ok();
                })*
                None
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

/// The JSON text of a request the station decoded (empty for any other).
pub(crate) fn request_text(request: &AnyRequest) -> String {
    let text = match request.action() {
        #[cfg(feature = "v16")]
        AnyAction::V16(_) => v16::request_text(request),
        #[cfg(feature = "v201")]
        AnyAction::V201(_) => v201::request_text(request),
        #[cfg(feature = "v21")]
        AnyAction::V21(_) => v21::request_text(request),
    };
    text.unwrap_or_default()
}

/// The JSON text of an answer the station decoded (empty for any other).
pub(crate) fn response_text(response: &AnyResponse) -> String {
    let text = match response.action() {
        #[cfg(feature = "v16")]
        AnyAction::V16(_) => v16::response_text(response),
        #[cfg(feature = "v201")]
        AnyAction::V201(_) => v201::response_text(response),
        #[cfg(feature = "v21")]
        AnyAction::V21(_) => v21::response_text(response),
    };
    text.unwrap_or_default()
}
