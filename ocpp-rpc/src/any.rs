//! [`AnyAction`], [`AnyRequest`] and [`AnyResponse`]: one type over the actions and messages of
//! every version, and the conversions between them and the concrete message types.
//!
//! `ocpp_types` gives each version an `Action`, a `Request` and a `Response` enum. These wrap
//! them, so that a session (whose version is chosen at run time) can hand out typed messages,
//! and add what the version enums lack: moving a concrete message in and out of the enum
//! generically ([`AnyRequest::into_message`], [`AnyResponse::from_message`]), which typed calls
//! and the [`Router`](crate::Router) are built on.

#![allow(clippy::result_large_err, clippy::large_enum_variant)]

use alloc::boxed::Box;
use core::any::Any;

use ocpp_types::{DecodeError, ErrorKind, MessageError, OcppVersion, Sender};
use serde::{Serialize, Serializer};

#[cfg(feature = "v16")]
use ocpp_types::v16;
#[cfg(feature = "v21")]
use ocpp_types::v21;
#[cfg(feature = "v201")]
use ocpp_types::v201;

/// Moves `value` out as a `U` if it is one.
fn cast<T: 'static, U: 'static>(value: T) -> Result<U, T> {
    let mut slot = Some(value);
    if let Some(target) = (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>() {
        if let Some(value) = target.take() {
            return Ok(value);
        }
    }
    match slot {
        Some(value) => Err(value),
        // `slot` is emptied only on the successful path above, which returns.
        None => unreachable!("cast emptied its slot without returning"),
    }
}

fn message_error(error: MessageError) -> DecodeError {
    match error {
        MessageError::Invalid(error) => error,
        MessageError::UnknownAction { action } => DecodeError::new(
            ErrorKind::Syntax,
            "",
            alloc::format!("no message for action {action:?}"),
        ),
    }
}

/// Conversions between one version's enums and its concrete message types. The lists name every
/// variant; the matches over them are exhaustive, so the compiler checks them against
/// `ocpp_types`.
macro_rules! conversions {
    ($name:ident, $module:ident, $feature:literal, calls: [$($call:ident),* $(,)?], sends: [$($send:ident),* $(,)?]) => {
        #[cfg(feature = $feature)]
        mod $name {
            use super::cast;
            use core::any::{Any, TypeId};
            use ocpp_types::$module as v;

            /// The `TypeId` of a variant's message, from its constructor.
            fn inner<T: 'static, E>(_: fn(T) -> E) -> TypeId {
                TypeId::of::<T>()
            }

            /// The action whose request (or SEND message) is a `T` (resolved at compile time
            /// after inlining).
            pub(super) fn request_action<T: 'static>() -> Option<v::Action> {
                let id = TypeId::of::<T>();
                $(if id == inner(v::Request::$call) {
                    return Some(v::Action::$call);
                })*
                $(if id == inner(v::Request::$send) {
                    return Some(v::Action::$send);
                })*
                None
            }

            /// The action whose response is a `T`.
            pub(super) fn response_action<T: 'static>() -> Option<v::Action> {
                let id = TypeId::of::<T>();
                $(if id == inner(v::Response::$call) {
                    return Some(v::Action::$call);
                })*
                None
            }

            pub(super) fn take_request<T: 'static>(message: v::Request) -> Result<T, v::Request> {
                match message {
                    $(v::Request::$call(m) => cast(m).map_err(v::Request::$call),)*
                    $(v::Request::$send(m) => cast(m).map_err(v::Request::$send),)*
                }
            }

            pub(super) fn ref_request<T: 'static>(message: &v::Request) -> Option<&T> {
                match message {
                    $(v::Request::$call(m) => (m as &dyn Any).downcast_ref(),)*
                    $(v::Request::$send(m) => (m as &dyn Any).downcast_ref(),)*
                }
            }

            pub(super) fn wrap_request<T: 'static>(message: T) -> Result<v::Request, T> {
                $(let message = match cast(message) {
                    Ok(m) => return Ok(v::Request::$call(m)),
                    Err(message) => message,
                };)*
                $(let message = match cast(message) {
                    Ok(m) => return Ok(v::Request::$send(m)),
                    Err(message) => message,
                };)*
                Err(message)
            }

            pub(super) fn take_response<T: 'static>(message: v::Response) -> Result<T, v::Response> {
                match message {
                    $(v::Response::$call(m) => cast(m).map_err(v::Response::$call),)*
                }
            }

            pub(super) fn ref_response<T: 'static>(message: &v::Response) -> Option<&T> {
                match message {
                    $(v::Response::$call(m) => (m as &dyn Any).downcast_ref(),)*
                }
            }

            pub(super) fn wrap_response<T: 'static>(message: T) -> Result<v::Response, T> {
                $(let message = match cast(message) {
                    Ok(m) => return Ok(v::Response::$call(m)),
                    Err(message) => message,
                };)*
                Err(message)
            }
        }
    };
}

conversions!(conv_v16, v16, "v16", calls: [
    Authorize, BootNotification, CancelReservation, CertificateSigned, ChangeAvailability,
    ChangeConfiguration, ClearCache, ClearChargingProfile, DataTransfer, DeleteCertificate,
    DiagnosticsStatusNotification, ExtendedTriggerMessage, FirmwareStatusNotification,
    GetCompositeSchedule, GetConfiguration, GetDiagnostics, GetInstalledCertificateIds,
    GetLocalListVersion, GetLog, Heartbeat, InstallCertificate, LogStatusNotification,
    MeterValues, RemoteStartTransaction, RemoteStopTransaction, ReserveNow, Reset,
    SecurityEventNotification, SendLocalList, SetChargingProfile, SignCertificate,
    SignedFirmwareStatusNotification, SignedUpdateFirmware, StartTransaction,
    StatusNotification, StopTransaction, TriggerMessage, UnlockConnector, UpdateFirmware,
], sends: []);

conversions!(conv_v201, v201, "v201", calls: [
    Authorize, BootNotification, CancelReservation, CertificateSigned, ChangeAvailability,
    ClearCache, ClearChargingProfile, ClearDisplayMessage, ClearVariableMonitoring,
    ClearedChargingLimit, CostUpdated, CustomerInformation, DataTransfer, DeleteCertificate,
    FirmwareStatusNotification, Get15118EVCertificate, GetBaseReport, GetCertificateStatus,
    GetChargingProfiles, GetCompositeSchedule, GetDisplayMessages,
    GetInstalledCertificateIds, GetLocalListVersion, GetLog, GetMonitoringReport, GetReport,
    GetTransactionStatus, GetVariables, Heartbeat, InstallCertificate, LogStatusNotification,
    MeterValues, NotifyChargingLimit, NotifyCustomerInformation, NotifyDisplayMessages,
    NotifyEVChargingNeeds, NotifyEVChargingSchedule, NotifyEvent, NotifyMonitoringReport,
    NotifyReport, PublishFirmware, PublishFirmwareStatusNotification, ReportChargingProfiles,
    RequestStartTransaction, RequestStopTransaction, ReservationStatusUpdate, ReserveNow,
    Reset, SecurityEventNotification, SendLocalList, SetChargingProfile, SetDisplayMessage,
    SetMonitoringBase, SetMonitoringLevel, SetNetworkProfile, SetVariableMonitoring,
    SetVariables, SignCertificate, StatusNotification, TransactionEvent, TriggerMessage,
    UnlockConnector, UnpublishFirmware, UpdateFirmware,
], sends: []);

conversions!(conv_v21, v21, "v21", calls: [
    AFRRSignal, AdjustPeriodicEventStream, Authorize, BatterySwap, BootNotification,
    CancelReservation, CertificateSigned, ChangeAvailability, ChangeTransactionTariff,
    ClearCache, ClearChargingProfile, ClearDERControl, ClearDisplayMessage, ClearTariffs,
    ClearVariableMonitoring, ClearedChargingLimit, ClosePeriodicEventStream, CostUpdated,
    CustomerInformation, DataTransfer, DeleteCertificate, FirmwareStatusNotification,
    Get15118EVCertificate, GetBaseReport, GetCertificateChainStatus, GetCertificateStatus,
    GetChargingProfiles, GetCompositeSchedule, GetDERControl, GetDisplayMessages,
    GetInstalledCertificateIds, GetLocalListVersion, GetLog, GetMonitoringReport,
    GetPeriodicEventStream, GetReport, GetTariffs, GetTransactionStatus, GetVariables,
    Heartbeat, InstallCertificate, LogStatusNotification, MeterValues,
    NotifyAllowedEnergyTransfer, NotifyChargingLimit, NotifyCustomerInformation,
    NotifyDERAlarm, NotifyDERStartStop, NotifyDisplayMessages, NotifyEVChargingNeeds,
    NotifyEVChargingSchedule, NotifyEvent, NotifyMonitoringReport, NotifyPriorityCharging,
    NotifyReport, NotifySettlement, NotifyWebPaymentStarted, OpenPeriodicEventStream,
    PublishFirmware, PublishFirmwareStatusNotification, PullDynamicScheduleUpdate,
    ReportChargingProfiles, ReportDERControl, RequestBatterySwap, RequestStartTransaction,
    RequestStopTransaction, ReservationStatusUpdate, ReserveNow, Reset,
    SecurityEventNotification, SendLocalList, SetChargingProfile, SetDERControl,
    SetDefaultTariff, SetDisplayMessage, SetMonitoringBase, SetMonitoringLevel,
    SetNetworkProfile, SetVariableMonitoring, SetVariables, SignCertificate,
    StatusNotification, TransactionEvent, TriggerMessage, UnlockConnector, UnpublishFirmware,
    UpdateDynamicSchedule, UpdateFirmware, UsePriorityCharging, VatNumberValidation,
], sends: [NotifyPeriodicEventStream]);

/// Applies `$body` to the version enum inside `$value` (bound as `$inner`) whatever its version.
macro_rules! each_version {
    ($value:expr, $ty:ident, $inner:ident => $body:expr) => {
        match $value {
            #[cfg(feature = "v16")]
            $ty::V16($inner) => $body,
            #[cfg(feature = "v201")]
            $ty::V201($inner) => $body,
            #[cfg(feature = "v21")]
            $ty::V21($inner) => $body,
        }
    };
}

/// An action of any version: the version's `Action` enum, tagged with the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyAction {
    /// An OCPP 1.6 action.
    #[cfg(feature = "v16")]
    V16(v16::Action),
    /// An OCPP 2.0.1 action.
    #[cfg(feature = "v201")]
    V201(v201::Action),
    /// An OCPP 2.1 action.
    #[cfg(feature = "v21")]
    V21(v21::Action),
}

impl AnyAction {
    /// The action of `version` with this exact name (`None` also when the version's feature is
    /// off).
    pub fn from_name(version: OcppVersion, name: &str) -> Option<AnyAction> {
        match version {
            #[cfg(feature = "v16")]
            OcppVersion::V16 => v16::Action::from_name(name).map(AnyAction::V16),
            #[cfg(feature = "v201")]
            OcppVersion::V201 => v201::Action::from_name(name).map(AnyAction::V201),
            #[cfg(feature = "v21")]
            OcppVersion::V21 => v21::Action::from_name(name).map(AnyAction::V21),
            #[allow(unreachable_patterns)]
            _ => {
                let _ = name;
                None
            }
        }
    }

    /// The action whose request (or 2.1 SEND message) type is `T`, of whichever version.
    ///
    /// ```
    /// use ocpp_rpc::AnyAction;
    /// use ocpp_types::{OcppVersion, v16};
    /// let action = AnyAction::of_request::<v16::BootNotificationRequest>().unwrap();
    /// assert_eq!((action.version(), action.as_str()), (OcppVersion::V16, "BootNotification"));
    /// assert_eq!(AnyAction::of_request::<u8>(), None);
    /// ```
    #[inline]
    pub fn of_request<T: 'static>() -> Option<AnyAction> {
        #[cfg(feature = "v16")]
        if let Some(action) = conv_v16::request_action::<T>() {
            return Some(AnyAction::V16(action));
        }
        #[cfg(feature = "v201")]
        if let Some(action) = conv_v201::request_action::<T>() {
            return Some(AnyAction::V201(action));
        }
        #[cfg(feature = "v21")]
        if let Some(action) = conv_v21::request_action::<T>() {
            return Some(AnyAction::V21(action));
        }
        None
    }

    /// The action whose response type is `T`, of whichever version.
    #[inline]
    pub fn of_response<T: 'static>() -> Option<AnyAction> {
        #[cfg(feature = "v16")]
        if let Some(action) = conv_v16::response_action::<T>() {
            return Some(AnyAction::V16(action));
        }
        #[cfg(feature = "v201")]
        if let Some(action) = conv_v201::response_action::<T>() {
            return Some(AnyAction::V201(action));
        }
        #[cfg(feature = "v21")]
        if let Some(action) = conv_v21::response_action::<T>() {
            return Some(AnyAction::V21(action));
        }
        None
    }

    /// The version the action belongs to.
    pub const fn version(self) -> OcppVersion {
        match self {
            #[cfg(feature = "v16")]
            AnyAction::V16(_) => OcppVersion::V16,
            #[cfg(feature = "v201")]
            AnyAction::V201(_) => OcppVersion::V201,
            #[cfg(feature = "v21")]
            AnyAction::V21(_) => OcppVersion::V21,
        }
    }

    /// The action's name on the wire.
    pub const fn as_str(self) -> &'static str {
        each_version!(self, AnyAction, a => a.as_str())
    }

    /// Which side sends the action's request.
    pub const fn sender(self) -> Sender {
        each_version!(self, AnyAction, a => a.sender())
    }

    /// Whether it is a CALL answered by a CALLRESULT (`false` for 2.1's SEND messages).
    pub const fn has_response(self) -> bool {
        each_version!(self, AnyAction, a => a.has_response())
    }
}

impl core::fmt::Display for AnyAction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request (or 2.1 SEND message) of any version: the version's `Request` enum.
///
/// ```
/// use ocpp_rpc::AnyRequest;
/// use ocpp_types::v201::HeartbeatRequest;
/// let any = AnyRequest::from_message(HeartbeatRequest::default()).unwrap();
/// assert_eq!(any.action().as_str(), "Heartbeat");
/// let back: HeartbeatRequest = any.into_message().unwrap();
/// # let _ = back;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum AnyRequest {
    /// An OCPP 1.6 request.
    #[cfg(feature = "v16")]
    V16(Box<v16::Request>),
    /// An OCPP 2.0.1 request.
    #[cfg(feature = "v201")]
    V201(Box<v201::Request>),
    /// An OCPP 2.1 request or SEND message.
    #[cfg(feature = "v21")]
    V21(Box<v21::Request>),
}

impl AnyRequest {
    /// The action.
    pub fn action(&self) -> AnyAction {
        match self {
            #[cfg(feature = "v16")]
            AnyRequest::V16(m) => AnyAction::V16(m.action()),
            #[cfg(feature = "v201")]
            AnyRequest::V201(m) => AnyAction::V201(m.action()),
            #[cfg(feature = "v21")]
            AnyRequest::V21(m) => AnyAction::V21(m.action()),
        }
    }

    /// The version.
    pub fn version(&self) -> OcppVersion {
        self.action().version()
    }

    /// Decodes the payload of `action`, enforcing its schema.
    pub fn decode(action: AnyAction, payload: &str) -> Result<AnyRequest, DecodeError> {
        match action {
            #[cfg(feature = "v16")]
            AnyAction::V16(a) => {
                v16::Request::decode_action(a, payload).map(|m| AnyRequest::V16(Box::new(m)))
            }
            #[cfg(feature = "v201")]
            AnyAction::V201(a) => {
                v201::Request::decode_action(a, payload).map(|m| AnyRequest::V201(Box::new(m)))
            }
            #[cfg(feature = "v21")]
            AnyAction::V21(a) => {
                v21::Request::decode_action(a, payload).map(|m| AnyRequest::V21(Box::new(m)))
            }
        }
        .map_err(message_error)
    }

    /// Wraps a concrete request or SEND message of any version (`Err` gives back a value that
    /// is not one of them).
    pub fn from_message<T: 'static>(message: T) -> Result<AnyRequest, T> {
        #[cfg(feature = "v16")]
        let message = match conv_v16::wrap_request(message) {
            Ok(m) => return Ok(AnyRequest::V16(Box::new(m))),
            Err(message) => message,
        };
        #[cfg(feature = "v201")]
        let message = match conv_v201::wrap_request(message) {
            Ok(m) => return Ok(AnyRequest::V201(Box::new(m))),
            Err(message) => message,
        };
        #[cfg(feature = "v21")]
        let message = match conv_v21::wrap_request(message) {
            Ok(m) => return Ok(AnyRequest::V21(Box::new(m))),
            Err(message) => message,
        };
        Err(message)
    }

    /// The concrete message, if it is a `T` (`Err` gives `self` back).
    pub fn into_message<T: 'static>(self) -> Result<T, AnyRequest> {
        match self {
            #[cfg(feature = "v16")]
            AnyRequest::V16(m) => {
                conv_v16::take_request(*m).map_err(|m| AnyRequest::V16(Box::new(m)))
            }
            #[cfg(feature = "v201")]
            AnyRequest::V201(m) => {
                conv_v201::take_request(*m).map_err(|m| AnyRequest::V201(Box::new(m)))
            }
            #[cfg(feature = "v21")]
            AnyRequest::V21(m) => {
                conv_v21::take_request(*m).map_err(|m| AnyRequest::V21(Box::new(m)))
            }
        }
    }

    /// The concrete message, if it is a `T`.
    pub fn message<T: 'static>(&self) -> Option<&T> {
        match self {
            #[cfg(feature = "v16")]
            AnyRequest::V16(m) => conv_v16::ref_request(m),
            #[cfg(feature = "v201")]
            AnyRequest::V201(m) => conv_v201::ref_request(m),
            #[cfg(feature = "v21")]
            AnyRequest::V21(m) => conv_v21::ref_request(m),
        }
    }
}

impl Serialize for AnyRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        each_version!(self, AnyRequest, m => m.serialize(serializer))
    }
}

/// A response of any version: the version's `Response` enum.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyResponse {
    /// An OCPP 1.6 response.
    #[cfg(feature = "v16")]
    V16(Box<v16::Response>),
    /// An OCPP 2.0.1 response.
    #[cfg(feature = "v201")]
    V201(Box<v201::Response>),
    /// An OCPP 2.1 response.
    #[cfg(feature = "v21")]
    V21(Box<v21::Response>),
}

impl AnyResponse {
    /// The action it answers.
    pub fn action(&self) -> AnyAction {
        match self {
            #[cfg(feature = "v16")]
            AnyResponse::V16(m) => AnyAction::V16(m.action()),
            #[cfg(feature = "v201")]
            AnyResponse::V201(m) => AnyAction::V201(m.action()),
            #[cfg(feature = "v21")]
            AnyResponse::V21(m) => AnyAction::V21(m.action()),
        }
    }

    /// The version.
    pub fn version(&self) -> OcppVersion {
        self.action().version()
    }

    /// Decodes the CALLRESULT payload of `action`, enforcing its schema.
    pub fn decode(action: AnyAction, payload: &str) -> Result<AnyResponse, DecodeError> {
        match action {
            #[cfg(feature = "v16")]
            AnyAction::V16(a) => {
                v16::Response::decode_action(a, payload).map(|m| AnyResponse::V16(Box::new(m)))
            }
            #[cfg(feature = "v201")]
            AnyAction::V201(a) => {
                v201::Response::decode_action(a, payload).map(|m| AnyResponse::V201(Box::new(m)))
            }
            #[cfg(feature = "v21")]
            AnyAction::V21(a) => {
                v21::Response::decode_action(a, payload).map(|m| AnyResponse::V21(Box::new(m)))
            }
        }
        .map_err(message_error)
    }

    /// Wraps a concrete response of any version (`Err` gives back a value that is not one).
    pub fn from_message<T: 'static>(message: T) -> Result<AnyResponse, T> {
        #[cfg(feature = "v16")]
        let message = match conv_v16::wrap_response(message) {
            Ok(m) => return Ok(AnyResponse::V16(Box::new(m))),
            Err(message) => message,
        };
        #[cfg(feature = "v201")]
        let message = match conv_v201::wrap_response(message) {
            Ok(m) => return Ok(AnyResponse::V201(Box::new(m))),
            Err(message) => message,
        };
        #[cfg(feature = "v21")]
        let message = match conv_v21::wrap_response(message) {
            Ok(m) => return Ok(AnyResponse::V21(Box::new(m))),
            Err(message) => message,
        };
        Err(message)
    }

    /// The concrete message, if it is a `T` (`Err` gives `self` back).
    pub fn into_message<T: 'static>(self) -> Result<T, AnyResponse> {
        match self {
            #[cfg(feature = "v16")]
            AnyResponse::V16(m) => {
                conv_v16::take_response(*m).map_err(|m| AnyResponse::V16(Box::new(m)))
            }
            #[cfg(feature = "v201")]
            AnyResponse::V201(m) => {
                conv_v201::take_response(*m).map_err(|m| AnyResponse::V201(Box::new(m)))
            }
            #[cfg(feature = "v21")]
            AnyResponse::V21(m) => {
                conv_v21::take_response(*m).map_err(|m| AnyResponse::V21(Box::new(m)))
            }
        }
    }

    /// The concrete message, if it is a `T`.
    pub fn message<T: 'static>(&self) -> Option<&T> {
        match self {
            #[cfg(feature = "v16")]
            AnyResponse::V16(m) => conv_v16::ref_response(m),
            #[cfg(feature = "v201")]
            AnyResponse::V201(m) => conv_v201::ref_response(m),
            #[cfg(feature = "v21")]
            AnyResponse::V21(m) => conv_v21::ref_response(m),
        }
    }
}

impl Serialize for AnyResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        each_version!(self, AnyResponse, m => m.serialize(serializer))
    }
}

macro_rules! from_version {
    ($feature:literal, $module:ident, $variant:ident) => {
        #[cfg(feature = $feature)]
        impl From<ocpp_types::$module::Request> for AnyRequest {
            fn from(message: ocpp_types::$module::Request) -> Self {
                AnyRequest::$variant(Box::new(message))
            }
        }
        #[cfg(feature = $feature)]
        impl From<ocpp_types::$module::Response> for AnyResponse {
            fn from(message: ocpp_types::$module::Response) -> Self {
                AnyResponse::$variant(Box::new(message))
            }
        }
        #[cfg(feature = $feature)]
        impl From<ocpp_types::$module::Action> for AnyAction {
            fn from(action: ocpp_types::$module::Action) -> Self {
                AnyAction::$variant(action)
            }
        }
    };
}

from_version!("v16", v16, V16);
from_version!("v201", v201, V201);
from_version!("v21", v21, V21);
