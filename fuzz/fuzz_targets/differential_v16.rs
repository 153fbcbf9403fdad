#![no_main]
//! OCPP 1.6: the same payload text through our decode (`ocpp_types::from_str`: the fast JSON
//! reader with its serde_json fallback), through plain `serde_json::from_str` and through the
//! fast reader alone, as the request and the response of the action the first byte picks: the
//! same verdict and equal values, and the fast reader never accepts what serde_json refuses
//! (the checks are in `differential.rs`).
include!("differential.rs");
differential_target!(
    v16,
    V16,
    calls: [
        AuthorizeRequest, BootNotificationRequest, CancelReservationRequest,
        CertificateSignedRequest, ChangeAvailabilityRequest, ChangeConfigurationRequest,
        ClearCacheRequest, ClearChargingProfileRequest, DataTransferRequest,
        DeleteCertificateRequest, DiagnosticsStatusNotificationRequest,
        ExtendedTriggerMessageRequest, FirmwareStatusNotificationRequest,
        GetCompositeScheduleRequest, GetConfigurationRequest, GetDiagnosticsRequest,
        GetInstalledCertificateIdsRequest, GetLocalListVersionRequest, GetLogRequest,
        HeartbeatRequest, InstallCertificateRequest, LogStatusNotificationRequest,
        MeterValuesRequest, RemoteStartTransactionRequest, RemoteStopTransactionRequest,
        ReserveNowRequest, ResetRequest, SecurityEventNotificationRequest, SendLocalListRequest,
        SetChargingProfileRequest, SignCertificateRequest,
        SignedFirmwareStatusNotificationRequest, SignedUpdateFirmwareRequest,
        StartTransactionRequest, StatusNotificationRequest, StopTransactionRequest,
        TriggerMessageRequest, UnlockConnectorRequest, UpdateFirmwareRequest,
    ],
    sends: [],
);
