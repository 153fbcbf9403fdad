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
     remote_start: $start:ident => $start_type:ident,
     requests: [$($req:ident => $req_type:ident),* $(,)?],
     responses: [$($res:ident => $res_type:ident),* $(,)?]) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;
            use ocpp_types::$module as v;

            pub fn request(action: v::Action, payload: &str) -> Result<AnyRequest, MessageError> {
                match action {
                    v::Action::$start => Ok(AnyRequest::from_message(
                        ocpp_types::from_str::<WithoutProfile<v::$start_type>>(payload)?.0,
                    )),
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
remote_start: RemoteStartTransaction => RemoteStartTransactionRequest,
requests: [
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
            remote_start: RequestStartTransaction => RequestStartTransactionRequest,
            requests: [
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

/// A remote start decoded without its `chargingProfile`, which a station without smart
/// charging ignores (1.6 5.11: "this parameter SHOULD be ignored"; 2.0.1 and 2.1 F01.FR.12,
/// K05.FR.04: "SHALL ignore"): the profile must be well-formed JSON, and is then dropped
/// unread. Every other property is read and checked as the generated decoder does (through
/// the same `ocpp_types::__rt` functions), so only the profile's schema goes unchecked; and
/// the code of `ChargingProfileType` and everything under it (20 KB of a firmware) is not
/// linked.
#[derive(Debug)]
pub(crate) struct WithoutProfile<M>(pub M);

/// The `Deserialize` of a [`WithoutProfile`]: `$message` is built by `$build` from the
/// required properties' values, and the optional ones are set after.
macro_rules! without_profile {
    ($feature:literal, $message:ty,
     required: [$($req:ident: $req_ty:ty = $req_name:literal $(, $req_check:expr)?);* $(;)?],
     optional: [$($opt:ident: $opt_ty:ty = $opt_name:literal $(, $opt_check:expr)?);* $(;)?],
     build: $build:expr) => {
        #[cfg(feature = $feature)]
        impl<'de> serde::Deserialize<'de> for WithoutProfile<$message> {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use ocpp_types::__rt as rt;
                struct Visitor;
                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = WithoutProfile<$message>;
                    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        f.write_str("a remote start request object")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Self::Value, A::Error> {
                        const FIELDS: &[&str] = &[$($req_name,)* $($opt_name,)* "chargingProfile"];
                        $(let mut $req: Option<$req_ty> = None;)*
                        $(let mut $opt: Option<$opt_ty> = None;)*
                        let mut profile = false;
                        while let Some(key) = rt::next_key(&mut map)? {
                            match key.as_str() {
                                $($req_name => without_profile!(@read map, $req, $req_name $(, $req_check)?),)*
                                $($opt_name => without_profile!(@read map, $opt, $opt_name $(, $opt_check)?),)*
                                "chargingProfile" => {
                                    if profile {
                                        return Err(serde::de::Error::duplicate_field(
                                            "chargingProfile",
                                        ));
                                    }
                                    map.next_value::<serde::de::IgnoredAny>()?;
                                    profile = true;
                                }
                                other => return Err(rt::unknown_field(other, FIELDS)),
                            }
                        }
                        $(let $req = rt::required($req, $req_name)?;)*
                        let mut message: $message = ($build)($($req),*);
                        $(message.$opt = $opt;)*
                        Ok(WithoutProfile(message))
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }
    };
    (@read $map:ident, $slot:ident, $name:literal) => {
        rt::read(&mut $map, &mut $slot, $name)?
    };
    (@read $map:ident, $slot:ident, $name:literal, $check:expr) => {
        rt::read_checked(&mut $map, &mut $slot, $name, $check)?
    };
}

without_profile!("v16", ocpp_types::v16::RemoteStartTransactionRequest,
    required: [id_tag: ocpp_types::BoundedString<20> = "idTag"],
    optional: [connector_id: i64 = "connectorId", rt::Draft4Integer(())],
    build: ocpp_types::v16::RemoteStartTransactionRequest::new);

/// The same for both 2.x versions, whose RequestStartTransactionRequest is alike.
macro_rules! without_profile_2 {
    ($feature:literal, $module:ident) => {
        without_profile!($feature, ocpp_types::$module::RequestStartTransactionRequest,
            required: [
                id_token: ocpp_types::$module::IdTokenType = "idToken";
                remote_start_id: i64 = "remoteStartId";
            ],
            optional: [
                custom_data: alloc::boxed::Box<ocpp_types::$module::CustomDataType> = "customData";
                evse_id: i64 = "evseId";
                group_id_token: ocpp_types::$module::IdTokenType = "groupIdToken";
            ],
            build: ocpp_types::$module::RequestStartTransactionRequest::new);
    };
}

without_profile_2!("v201", v201);
without_profile_2!("v21", v21);

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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use core::fmt::Debug;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    /// Valid payloads, and each with one property removed, replaced by a value of each JSON
    /// type, or joined by an unknown one (at the top and one level down).
    fn variants(payload: &Value) -> Vec<String> {
        let mut out = alloc::vec![payload.to_string()];
        let wrong = [
            json!(null),
            json!(7),
            json!(1.5),
            json!("x"),
            json!([]),
            json!({}),
        ];
        let mut mutate = |path: &[&str]| {
            let mut base = payload.clone();
            let Some(Value::Object(object)) = path.iter().try_fold(&mut base, |v, k| v.get_mut(*k))
            else {
                return;
            };
            let keys: Vec<String> = object.keys().cloned().collect();
            for key in keys {
                for value in wrong.iter().cloned().map(Some).chain([None]) {
                    let mut changed = object.clone();
                    match value {
                        Some(value) => changed.insert(key.clone(), value),
                        None => changed.remove(&key),
                    };
                    let mut whole = payload.clone();
                    if let Some(slot) = path.iter().try_fold(&mut whole, |v, k| v.get_mut(*k)) {
                        *slot = Value::Object(changed);
                    }
                    out.push(whole.to_string());
                }
            }
            let mut added = payload.clone();
            if let Some(Value::Object(o)) = path.iter().try_fold(&mut added, |v, k| v.get_mut(*k)) {
                o.insert("unknownProperty".into(), json!(1));
            }
            out.push(added.to_string());
        };
        mutate(&[]);
        mutate(&["idToken"]);
        out
    }

    /// The station's decode of a remote start agrees with the generated decoder on every
    /// variant: the same value but for the profile (dropped), the same error kind and pointer;
    /// only a fault inside `chargingProfile` may be taken by ours.
    fn agree<M>(seeds: core::ops::Range<u64>, drop_profile: fn(&mut M))
    where
        M: ocpp_types::random::Generate + Serialize + DeserializeOwned + PartialEq + Debug,
        WithoutProfile<M>: DeserializeOwned,
    {
        let mut checked = 0;
        for seed in seeds {
            let message: M = ocpp_types::random::from_seed(seed);
            let payload = serde_json::to_value(&message).unwrap();
            for text in variants(&payload) {
                let full = ocpp_types::from_str::<M>(&text);
                let ours = ocpp_types::from_str::<WithoutProfile<M>>(&text).map(|w| w.0);
                match (full, ours) {
                    (Ok(mut full), Ok(ours)) => {
                        drop_profile(&mut full);
                        assert_eq!(full, ours, "{text}");
                    }
                    (Err(full), ours) if full.pointer().starts_with("/chargingProfile") => {
                        if let Err(ours) = ours {
                            assert!(!ours.pointer().starts_with("/chargingProfile"), "{text}");
                        }
                    }
                    (Err(full), Err(ours)) => assert_eq!(
                        (full.kind(), full.pointer()),
                        (ours.kind(), ours.pointer()),
                        "{text}"
                    ),
                    (full, ours) => panic!("{text}: generated {full:?}, ours {ours:?}"),
                }
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[cfg(feature = "v16")]
    #[test]
    fn a_1_6_remote_start_decodes_as_generated_but_for_the_profile() {
        agree::<ocpp_types::v16::RemoteStartTransactionRequest>(0..100, |m| {
            m.charging_profile = None
        });
    }

    #[cfg(feature = "v201")]
    #[test]
    fn a_2_0_1_request_start_decodes_as_generated_but_for_the_profile() {
        agree::<ocpp_types::v201::RequestStartTransactionRequest>(0..100, |m| {
            m.charging_profile = None
        });
    }

    #[cfg(feature = "v21")]
    #[test]
    fn a_2_1_request_start_decodes_as_generated_but_for_the_profile() {
        agree::<ocpp_types::v21::RequestStartTransactionRequest>(0..100, |m| {
            m.charging_profile = None
        });
    }

    #[cfg(feature = "v201")]
    #[test]
    fn a_profile_is_ignored_even_when_the_schema_would_refuse_it() {
        let text = format!(
            r#"{{"idToken":{{"idToken":"T","type":"ISO14443"}},"remoteStartId":1,"chargingProfile":{}}}"#,
            r#"{"id":"not a number","nested":[1,{"a":null}]}"#
        );
        let m = ocpp_types::from_str::<
            WithoutProfile<ocpp_types::v201::RequestStartTransactionRequest>,
        >(&text)
        .unwrap()
        .0;
        assert_eq!((m.remote_start_id, m.charging_profile), (1, None));
        // But it must be JSON, and only once.
        let broken = text.replace("[1,", "[1,,");
        let err = ocpp_types::from_str::<
            WithoutProfile<ocpp_types::v201::RequestStartTransactionRequest>,
        >(&broken)
        .unwrap_err();
        assert_eq!(err.kind(), ocpp_types::ErrorKind::Syntax);
        let twice = text.replace(
            r#""remoteStartId":1,"#,
            r#""chargingProfile":{},"remoteStartId":1,"#,
        );
        assert!(
            ocpp_types::from_str::<WithoutProfile<ocpp_types::v201::RequestStartTransactionRequest>>(
                &twice
            )
            .is_err()
        );
    }
}
