#![no_main]
//! OCPP 2.1: the same payload text through our decode (`ocpp_types::from_str`: the fast JSON
//! reader with its serde_json fallback), through plain `serde_json::from_str` and through the
//! fast reader alone, as the request and the response of the action the first byte picks: the
//! same verdict and equal values, and the fast reader never accepts what serde_json refuses
//! (the checks are in `differential.rs`).
include!("differential.rs");
differential_target!(
    v21,
    V21,
    calls: [
        AFRRSignalRequest, AdjustPeriodicEventStreamRequest, AuthorizeRequest,
        BatterySwapRequest, BootNotificationRequest, CancelReservationRequest,
        CertificateSignedRequest, ChangeAvailabilityRequest, ChangeTransactionTariffRequest,
        ClearCacheRequest, ClearChargingProfileRequest, ClearDERControlRequest,
        ClearDisplayMessageRequest, ClearTariffsRequest, ClearVariableMonitoringRequest,
        ClearedChargingLimitRequest, ClosePeriodicEventStreamRequest, CostUpdatedRequest,
        CustomerInformationRequest, DataTransferRequest, DeleteCertificateRequest,
        FirmwareStatusNotificationRequest, Get15118EVCertificateRequest, GetBaseReportRequest,
        GetCertificateChainStatusRequest, GetCertificateStatusRequest,
        GetChargingProfilesRequest, GetCompositeScheduleRequest, GetDERControlRequest,
        GetDisplayMessagesRequest, GetInstalledCertificateIdsRequest,
        GetLocalListVersionRequest, GetLogRequest, GetMonitoringReportRequest,
        GetPeriodicEventStreamRequest, GetReportRequest, GetTariffsRequest,
        GetTransactionStatusRequest, GetVariablesRequest, HeartbeatRequest,
        InstallCertificateRequest, LogStatusNotificationRequest, MeterValuesRequest,
        NotifyAllowedEnergyTransferRequest, NotifyChargingLimitRequest,
        NotifyCustomerInformationRequest, NotifyDERAlarmRequest, NotifyDERStartStopRequest,
        NotifyDisplayMessagesRequest, NotifyEVChargingNeedsRequest,
        NotifyEVChargingScheduleRequest, NotifyEventRequest, NotifyMonitoringReportRequest,
        NotifyPriorityChargingRequest, NotifyReportRequest, NotifySettlementRequest,
        NotifyWebPaymentStartedRequest, OpenPeriodicEventStreamRequest, PublishFirmwareRequest,
        PublishFirmwareStatusNotificationRequest, PullDynamicScheduleUpdateRequest,
        ReportChargingProfilesRequest, ReportDERControlRequest, RequestBatterySwapRequest,
        RequestStartTransactionRequest, RequestStopTransactionRequest,
        ReservationStatusUpdateRequest, ReserveNowRequest, ResetRequest,
        SecurityEventNotificationRequest, SendLocalListRequest, SetChargingProfileRequest,
        SetDERControlRequest, SetDefaultTariffRequest, SetDisplayMessageRequest,
        SetMonitoringBaseRequest, SetMonitoringLevelRequest, SetNetworkProfileRequest,
        SetVariableMonitoringRequest, SetVariablesRequest, SignCertificateRequest,
        StatusNotificationRequest, TransactionEventRequest, TriggerMessageRequest,
        UnlockConnectorRequest, UnpublishFirmwareRequest, UpdateDynamicScheduleRequest,
        UpdateFirmwareRequest, UsePriorityChargingRequest, VatNumberValidationRequest,
    ],
    sends: [NotifyPeriodicEventStream],
);
