#![no_main]
//! OCPP 2.0.1: the same payload text through our decode (`ocpp_types::from_str`: the fast JSON
//! reader with its serde_json fallback), through plain `serde_json::from_str` and through the
//! fast reader alone, as the request and the response of the action the first byte picks: the
//! same verdict and equal values, and the fast reader never accepts what serde_json refuses
//! (the checks are in `differential.rs`).
include!("differential.rs");
differential_target!(
    v201,
    V201,
    calls: [
        AuthorizeRequest, BootNotificationRequest, CancelReservationRequest,
        CertificateSignedRequest, ChangeAvailabilityRequest, ClearCacheRequest,
        ClearChargingProfileRequest, ClearDisplayMessageRequest, ClearVariableMonitoringRequest,
        ClearedChargingLimitRequest, CostUpdatedRequest, CustomerInformationRequest,
        DataTransferRequest, DeleteCertificateRequest, FirmwareStatusNotificationRequest,
        Get15118EVCertificateRequest, GetBaseReportRequest, GetCertificateStatusRequest,
        GetChargingProfilesRequest, GetCompositeScheduleRequest, GetDisplayMessagesRequest,
        GetInstalledCertificateIdsRequest, GetLocalListVersionRequest, GetLogRequest,
        GetMonitoringReportRequest, GetReportRequest, GetTransactionStatusRequest,
        GetVariablesRequest, HeartbeatRequest, InstallCertificateRequest,
        LogStatusNotificationRequest, MeterValuesRequest, NotifyChargingLimitRequest,
        NotifyCustomerInformationRequest, NotifyDisplayMessagesRequest,
        NotifyEVChargingNeedsRequest, NotifyEVChargingScheduleRequest, NotifyEventRequest,
        NotifyMonitoringReportRequest, NotifyReportRequest, PublishFirmwareRequest,
        PublishFirmwareStatusNotificationRequest, ReportChargingProfilesRequest,
        RequestStartTransactionRequest, RequestStopTransactionRequest,
        ReservationStatusUpdateRequest, ReserveNowRequest, ResetRequest,
        SecurityEventNotificationRequest, SendLocalListRequest, SetChargingProfileRequest,
        SetDisplayMessageRequest, SetMonitoringBaseRequest, SetMonitoringLevelRequest,
        SetNetworkProfileRequest, SetVariableMonitoringRequest, SetVariablesRequest,
        SignCertificateRequest, StatusNotificationRequest, TransactionEventRequest,
        TriggerMessageRequest, UnlockConnectorRequest, UnpublishFirmwareRequest,
        UpdateFirmwareRequest,
    ],
    sends: [],
);
