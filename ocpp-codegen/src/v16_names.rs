//! Names for OCPP 1.6's inline types.
//!
//! The 1.6 schemas define enums and objects inline, without names. Each gets the name that the
//! OCPP 1.6 specification (edition 2, section 7 "Types") gives it, from this one table keyed by
//! message type and JSON path (`[]` is an array element). Where a type appears in several
//! messages, every place maps to the same name, and the generator checks that the inline schemas
//! really are identical. A place missing from the table fails generation.

use crate::Version;

/// `(message type, path, name)`.
const V16: &[(&str, &str, &str)] = &[
    ("AuthorizeResponse", "/idTagInfo", "IdTagInfo"),
    (
        "AuthorizeResponse",
        "/idTagInfo/status",
        "AuthorizationStatus",
    ),
    ("BootNotificationResponse", "/status", "RegistrationStatus"),
    (
        "CancelReservationResponse",
        "/status",
        "CancelReservationStatus",
    ),
    ("ChangeAvailabilityRequest", "/type", "AvailabilityType"),
    (
        "ChangeAvailabilityResponse",
        "/status",
        "AvailabilityStatus",
    ),
    (
        "ChangeConfigurationResponse",
        "/status",
        "ConfigurationStatus",
    ),
    ("ClearCacheResponse", "/status", "ClearCacheStatus"),
    (
        "ClearChargingProfileRequest",
        "/chargingProfilePurpose",
        "ChargingProfilePurposeType",
    ),
    (
        "ClearChargingProfileResponse",
        "/status",
        "ClearChargingProfileStatus",
    ),
    ("DataTransferResponse", "/status", "DataTransferStatus"),
    (
        "DiagnosticsStatusNotificationRequest",
        "/status",
        "DiagnosticsStatus",
    ),
    (
        "FirmwareStatusNotificationRequest",
        "/status",
        "FirmwareStatus",
    ),
    (
        "GetCompositeScheduleRequest",
        "/chargingRateUnit",
        "ChargingRateUnitType",
    ),
    (
        "GetCompositeScheduleResponse",
        "/status",
        "GetCompositeScheduleStatus",
    ),
    (
        "GetCompositeScheduleResponse",
        "/chargingSchedule",
        "ChargingSchedule",
    ),
    (
        "GetCompositeScheduleResponse",
        "/chargingSchedule/chargingRateUnit",
        "ChargingRateUnitType",
    ),
    (
        "GetCompositeScheduleResponse",
        "/chargingSchedule/chargingSchedulePeriod/[]",
        "ChargingSchedulePeriod",
    ),
    (
        "GetConfigurationResponse",
        "/configurationKey/[]",
        "KeyValue",
    ),
    ("MeterValuesRequest", "/meterValue/[]", "MeterValue"),
    (
        "MeterValuesRequest",
        "/meterValue/[]/sampledValue/[]",
        "SampledValue",
    ),
    (
        "MeterValuesRequest",
        "/meterValue/[]/sampledValue/[]/context",
        "ReadingContext",
    ),
    (
        "MeterValuesRequest",
        "/meterValue/[]/sampledValue/[]/format",
        "ValueFormat",
    ),
    (
        "MeterValuesRequest",
        "/meterValue/[]/sampledValue/[]/measurand",
        "Measurand",
    ),
    (
        "MeterValuesRequest",
        "/meterValue/[]/sampledValue/[]/phase",
        "Phase",
    ),
    (
        "MeterValuesRequest",
        "/meterValue/[]/sampledValue/[]/location",
        "Location",
    ),
    (
        "MeterValuesRequest",
        "/meterValue/[]/sampledValue/[]/unit",
        "UnitOfMeasure",
    ),
    (
        "RemoteStartTransactionRequest",
        "/chargingProfile",
        "ChargingProfile",
    ),
    (
        "RemoteStartTransactionRequest",
        "/chargingProfile/chargingProfilePurpose",
        "ChargingProfilePurposeType",
    ),
    (
        "RemoteStartTransactionRequest",
        "/chargingProfile/chargingProfileKind",
        "ChargingProfileKindType",
    ),
    (
        "RemoteStartTransactionRequest",
        "/chargingProfile/recurrencyKind",
        "RecurrencyKindType",
    ),
    (
        "RemoteStartTransactionRequest",
        "/chargingProfile/chargingSchedule",
        "ChargingSchedule",
    ),
    (
        "RemoteStartTransactionRequest",
        "/chargingProfile/chargingSchedule/chargingRateUnit",
        "ChargingRateUnitType",
    ),
    (
        "RemoteStartTransactionRequest",
        "/chargingProfile/chargingSchedule/chargingSchedulePeriod/[]",
        "ChargingSchedulePeriod",
    ),
    (
        "RemoteStartTransactionResponse",
        "/status",
        "RemoteStartStopStatus",
    ),
    (
        "RemoteStopTransactionResponse",
        "/status",
        "RemoteStartStopStatus",
    ),
    ("ReserveNowResponse", "/status", "ReservationStatus"),
    ("ResetRequest", "/type", "ResetType"),
    ("ResetResponse", "/status", "ResetStatus"),
    (
        "SendLocalListRequest",
        "/localAuthorizationList/[]",
        "AuthorizationData",
    ),
    (
        "SendLocalListRequest",
        "/localAuthorizationList/[]/idTagInfo",
        "IdTagInfo",
    ),
    (
        "SendLocalListRequest",
        "/localAuthorizationList/[]/idTagInfo/status",
        "AuthorizationStatus",
    ),
    ("SendLocalListRequest", "/updateType", "UpdateType"),
    ("SendLocalListResponse", "/status", "UpdateStatus"),
    (
        "SetChargingProfileRequest",
        "/csChargingProfiles",
        "ChargingProfile",
    ),
    (
        "SetChargingProfileRequest",
        "/csChargingProfiles/chargingProfilePurpose",
        "ChargingProfilePurposeType",
    ),
    (
        "SetChargingProfileRequest",
        "/csChargingProfiles/chargingProfileKind",
        "ChargingProfileKindType",
    ),
    (
        "SetChargingProfileRequest",
        "/csChargingProfiles/recurrencyKind",
        "RecurrencyKindType",
    ),
    (
        "SetChargingProfileRequest",
        "/csChargingProfiles/chargingSchedule",
        "ChargingSchedule",
    ),
    (
        "SetChargingProfileRequest",
        "/csChargingProfiles/chargingSchedule/chargingRateUnit",
        "ChargingRateUnitType",
    ),
    (
        "SetChargingProfileRequest",
        "/csChargingProfiles/chargingSchedule/chargingSchedulePeriod/[]",
        "ChargingSchedulePeriod",
    ),
    (
        "SetChargingProfileResponse",
        "/status",
        "ChargingProfileStatus",
    ),
    ("StartTransactionResponse", "/idTagInfo", "IdTagInfo"),
    (
        "StartTransactionResponse",
        "/idTagInfo/status",
        "AuthorizationStatus",
    ),
    (
        "StatusNotificationRequest",
        "/errorCode",
        "ChargePointErrorCode",
    ),
    ("StatusNotificationRequest", "/status", "ChargePointStatus"),
    ("StopTransactionRequest", "/reason", "Reason"),
    // The published schemas differ here: MeterValues' `unit` has `Hertz` and its
    // `sampledValue` needs at least one element; StopTransaction's do not. Exact types differ too.
    (
        "StopTransactionRequest",
        "/transactionData/[]",
        "StopTransactionMeterValue",
    ),
    (
        "StopTransactionRequest",
        "/transactionData/[]/sampledValue/[]",
        "StopTransactionSampledValue",
    ),
    (
        "StopTransactionRequest",
        "/transactionData/[]/sampledValue/[]/context",
        "ReadingContext",
    ),
    (
        "StopTransactionRequest",
        "/transactionData/[]/sampledValue/[]/format",
        "ValueFormat",
    ),
    (
        "StopTransactionRequest",
        "/transactionData/[]/sampledValue/[]/measurand",
        "Measurand",
    ),
    (
        "StopTransactionRequest",
        "/transactionData/[]/sampledValue/[]/phase",
        "Phase",
    ),
    (
        "StopTransactionRequest",
        "/transactionData/[]/sampledValue/[]/location",
        "Location",
    ),
    (
        "StopTransactionRequest",
        "/transactionData/[]/sampledValue/[]/unit",
        "StopTransactionUnitOfMeasure",
    ),
    ("StopTransactionResponse", "/idTagInfo", "IdTagInfo"),
    (
        "StopTransactionResponse",
        "/idTagInfo/status",
        "AuthorizationStatus",
    ),
    (
        "TriggerMessageRequest",
        "/requestedMessage",
        "MessageTrigger",
    ),
    ("TriggerMessageResponse", "/status", "TriggerMessageStatus"),
    ("UnlockConnectorResponse", "/status", "UnlockStatus"),
];

/// The name of the inline type at `path` in `message`, if the table has one.
pub fn name_of(version: Version, message: &str, path: &str) -> Option<&'static str> {
    match version {
        Version::V16 => V16
            .iter()
            .find(|(m, p, _)| *m == message && *p == path)
            .map(|&(_, _, name)| name),
        Version::V201 | Version::V21 => None,
    }
}
