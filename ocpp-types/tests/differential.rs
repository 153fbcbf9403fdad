//! Differential test: the typed decode against an independent JSON Schema validator.
//!
//! For every message of every version (every schema file in `schemas/`), this compiles the
//! official schema with the `jsonschema` crate (with `format` validation on) and checks, on
//! random valid payloads from [`ocpp_types::random`], on one payload with every optional
//! property present, and on systematic mutations of all of them, that
//! `Request::decode`/`Response::decode` accepts a payload exactly when the validator does.
//! Where both reject, the decode error must name the mutated location and the kind of rule
//! that was broken; where both accept, the decoded value must re-encode to a payload the
//! schema accepts and decode to the same value again. The decode's JSON reader must accept
//! exactly the payloads that `serde_json` accepts. Every finding is collected and reported at once.
//!
//! Run with `--nocapture` for the summary; the full report of a failing run is also written to
//! `differential-report.txt` in Cargo's temporary directory for integration tests.

mod support;

use std::collections::BTreeSet;
use std::fmt::{self, Debug, Write as _};
use std::path::PathBuf;
use std::sync::OnceLock;

use jsonschema::{Draft, Validator};
use ocpp_types::MessageError;
use ocpp_types::random::{Generate, from_seed};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use support::{Expect, Mutation};

/// Random payloads per message (besides the one with every optional property).
const SEEDS: u64 = 3;
/// Findings printed per category (the report file has all of them).
const PRINTED: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Request,
    Response,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Request => "request",
            Side::Response => "response",
        })
    }
}

/// What our decode made of a payload.
enum Outcome {
    /// Decoded; the value's encoding, which decodes to the same value again.
    Accepted(Value),
    Rejected(MessageError),
}

/// One OCPP version: its schemas and its generated types.
struct Version {
    name: &'static str,
    /// Every action, and whether it has a response (from `Action::ALL`).
    actions: Vec<(&'static str, bool)>,
    /// Decodes through the version's `Request`/`Response` enum. `Err` if a decoded value does
    /// not survive encode-decode.
    decode: fn(&str, Side, &str) -> Result<Outcome, String>,
    /// A random value of the action's message type, encoded (after checking its round trip);
    /// `None` if the table below has no such message.
    sample: fn(&str, Side, u64) -> Option<Result<Value, String>>,
    /// Whether our JSON reader, and `serde_json`, accept the payload as the action's message
    /// type (they must agree), and how the table-driven decoder differs from the typed one
    /// (`Err`); `None` if the table below has no such message.
    readers: fn(&str, Side, &str) -> Option<Readers>,
}

/// The verdicts of our reader and `serde_json`, and the table-driven decode's difference.
type Readers = ((bool, bool), Result<(), String>);

/// The verdicts of our JSON reader and of `serde_json` on a payload for `T`, and whether
/// the table-driven decode of `T`'s schema agrees with `T`'s typed decode.
fn readers_of<T: DeserializeOwned + Serialize>(
    schema: &'static ocpp_types::Schema,
    payload: &str,
) -> Readers {
    let verdicts = (
        ocpp_types::__rt::fast_from_str::<T>(payload).is_ok(),
        serde_json::from_str::<T>(payload).is_ok(),
    );
    let typed = ocpp_types::from_str::<T>(payload);
    let table = ocpp_types::schema::decode(schema, payload);
    let agreed = match (typed, table) {
        (Ok(typed), Ok(table)) => {
            let typed = serde_json::to_value(&typed).expect("a decoded value encodes");
            if typed == table {
                Ok(())
            } else {
                Err(format!("typed: {typed}\n    table: {table}"))
            }
        }
        (Err(typed), Err(table)) => {
            let typed = (typed.kind(), typed.pointer(), typed.message());
            let table = (table.kind(), table.pointer(), table.message());
            if typed == table {
                Ok(())
            } else {
                Err(format!("typed: {typed:?}\n    table: {table:?}"))
            }
        }
        (typed, table) => Err(format!(
            "typed: {:?}\n    table: {:?}",
            typed.map(|_| ()),
            table.map(|_| ())
        )),
    };
    (verdicts, agreed)
}

fn decode_with<U: Serialize + PartialEq + Debug>(
    payload: &str,
    decode: impl Fn(&str) -> Result<U, MessageError>,
) -> Result<Outcome, String> {
    let value = match decode(payload) {
        Ok(value) => value,
        Err(err) => return Ok(Outcome::Rejected(err)),
    };
    let text = serde_json::to_string(&value)
        .map_err(|e| format!("the decoded value does not encode: {e}: {value:?}"))?;
    let again =
        decode(&text).map_err(|e| format!("the re-encoding does not decode: {e}: {text}"))?;
    if again != value {
        return Err(format!(
            "decode(encode(x)) != x:\n      x = {value:?}\n  again = {again:?}"
        ));
    }
    Ok(Outcome::Accepted(
        serde_json::from_str(&text).expect("our own output is JSON"),
    ))
}

/// A random `T` from `seed`, encoded; checks `decode(encode(x)) == x` for the type, from bytes
/// and from text, and for the version's union enum `U`.
fn sample_of<T, U>(
    seed: u64,
    decode: impl Fn(&str) -> Result<U, MessageError>,
) -> Result<Value, String>
where
    T: Generate + Serialize + DeserializeOwned + Clone + PartialEq + Debug,
    U: From<T> + PartialEq + Debug,
{
    let x: T = from_seed(seed);
    let bytes =
        serde_json::to_vec(&x).map_err(|e| format!("seed {seed}: does not encode: {e}: {x:?}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let typed: T = ocpp_types::from_slice(&bytes)
        .map_err(|e| format!("seed {seed}: its encoding does not decode: {e}: {text}"))?;
    let from_text: T = ocpp_types::from_str(&text)
        .map_err(|e| format!("seed {seed}: its encoding does not decode as text: {e}: {text}"))?;
    for again in [typed, from_text] {
        if again != x {
            return Err(format!(
                "seed {seed}: decode(encode(x)) != x:\n      x = {x:?}\n  again = {again:?}"
            ));
        }
    }
    let through = decode(&text)
        .map_err(|e| format!("seed {seed}: the union enum rejects it: {e}: {text}"))?;
    if through != U::from(x.clone()) {
        return Err(format!(
            "seed {seed}: the union enum decodes it differently: {through:?}"
        ));
    }
    Ok(serde_json::from_slice(&bytes).expect("our own output is JSON"))
}

/// The table of one version's messages: `calls` are request types (their response types come
/// from `ocpp_types::Request::Response`), `sends` are 2.1 SEND messages. The test checks that
/// the table covers every action of `Action::ALL` and every schema file.
macro_rules! version {
    ($v:ident, calls: [$($call:ident),* $(,)?], sends: [$($send:ident),* $(,)?] $(,)?) => {{
        use ocpp_types::$v as m;
        Version {
            name: stringify!($v),
            actions: m::Action::ALL
                .iter()
                .map(|a| (a.as_str(), a.has_response()))
                .collect(),
            decode: |action, side, payload| match side {
                Side::Request => decode_with(payload, |p| m::Request::decode(action, p)),
                Side::Response => decode_with(payload, |p| m::Response::decode(action, p)),
            },
            sample: |action, side, seed| {
                $(
                    if action == <m::$call as ocpp_types::Message>::ACTION {
                        return Some(match side {
                            Side::Request => sample_of::<m::$call, m::Request>(seed, |p| {
                                m::Request::decode(action, p)
                            }),
                            Side::Response => sample_of::<
                                <m::$call as ocpp_types::Request>::Response,
                                m::Response,
                            >(seed, |p| m::Response::decode(action, p)),
                        });
                    }
                )*
                $(
                    if action == <m::$send as ocpp_types::Message>::ACTION
                        && side == Side::Request
                    {
                        return Some(sample_of::<m::$send, m::Request>(seed, |p| {
                            m::Request::decode(action, p)
                        }));
                    }
                )*
                None
            },
            readers: |action, side, payload| {
                $(
                    if action == <m::$call as ocpp_types::Message>::ACTION {
                        return Some(match side {
                            Side::Request => readers_of::<m::$call>(
                                <m::$call as ocpp_types::Message>::SCHEMA,
                                payload,
                            ),
                            Side::Response => readers_of::<
                                <m::$call as ocpp_types::Request>::Response,
                            >(
                                <<m::$call as ocpp_types::Request>::Response as ocpp_types::Response>::SCHEMA,
                                payload,
                            ),
                        });
                    }
                )*
                $(
                    if action == <m::$send as ocpp_types::Message>::ACTION
                        && side == Side::Request
                    {
                        return Some(readers_of::<m::$send>(
                            <m::$send as ocpp_types::Message>::SCHEMA,
                            payload,
                        ));
                    }
                )*
                None
            },
        }
    }};
}

fn versions() -> Vec<Version> {
    vec![
        version!(
            v16,
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
                ReserveNowRequest, ResetRequest, SecurityEventNotificationRequest,
                SendLocalListRequest, SetChargingProfileRequest, SignCertificateRequest,
                SignedFirmwareStatusNotificationRequest, SignedUpdateFirmwareRequest,
                StartTransactionRequest, StatusNotificationRequest, StopTransactionRequest,
                TriggerMessageRequest, UnlockConnectorRequest, UpdateFirmwareRequest,
            ],
            sends: [],
        ),
        version!(
            v201,
            calls: [
                AuthorizeRequest, BootNotificationRequest, CancelReservationRequest,
                CertificateSignedRequest, ChangeAvailabilityRequest, ClearCacheRequest,
                ClearChargingProfileRequest, ClearDisplayMessageRequest,
                ClearVariableMonitoringRequest, ClearedChargingLimitRequest, CostUpdatedRequest,
                CustomerInformationRequest, DataTransferRequest, DeleteCertificateRequest,
                FirmwareStatusNotificationRequest, Get15118EVCertificateRequest,
                GetBaseReportRequest, GetCertificateStatusRequest, GetChargingProfilesRequest,
                GetCompositeScheduleRequest, GetDisplayMessagesRequest,
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
        ),
        version!(
            v21,
            calls: [
                AFRRSignalRequest, AdjustPeriodicEventStreamRequest, AuthorizeRequest,
                BatterySwapRequest, BootNotificationRequest, CancelReservationRequest,
                CertificateSignedRequest, ChangeAvailabilityRequest, ChangeTransactionTariffRequest,
                ClearCacheRequest, ClearChargingProfileRequest, ClearDERControlRequest,
                ClearDisplayMessageRequest, ClearTariffsRequest, ClearVariableMonitoringRequest,
                ClearedChargingLimitRequest, ClosePeriodicEventStreamRequest, CostUpdatedRequest,
                CustomerInformationRequest, DataTransferRequest, DeleteCertificateRequest,
                FirmwareStatusNotificationRequest, Get15118EVCertificateRequest,
                GetBaseReportRequest, GetCertificateChainStatusRequest,
                GetCertificateStatusRequest, GetChargingProfilesRequest,
                GetCompositeScheduleRequest, GetDERControlRequest, GetDisplayMessagesRequest,
                GetInstalledCertificateIdsRequest, GetLocalListVersionRequest, GetLogRequest,
                GetMonitoringReportRequest, GetPeriodicEventStreamRequest, GetReportRequest,
                GetTariffsRequest, GetTransactionStatusRequest, GetVariablesRequest,
                HeartbeatRequest, InstallCertificateRequest, LogStatusNotificationRequest,
                MeterValuesRequest, NotifyAllowedEnergyTransferRequest, NotifyChargingLimitRequest,
                NotifyCustomerInformationRequest, NotifyDERAlarmRequest, NotifyDERStartStopRequest,
                NotifyDisplayMessagesRequest, NotifyEVChargingNeedsRequest,
                NotifyEVChargingScheduleRequest, NotifyEventRequest, NotifyMonitoringReportRequest,
                NotifyPriorityChargingRequest, NotifyReportRequest, NotifySettlementRequest,
                NotifyWebPaymentStartedRequest, OpenPeriodicEventStreamRequest,
                PublishFirmwareRequest, PublishFirmwareStatusNotificationRequest,
                PullDynamicScheduleUpdateRequest, ReportChargingProfilesRequest,
                ReportDERControlRequest, RequestBatterySwapRequest, RequestStartTransactionRequest,
                RequestStopTransactionRequest, ReservationStatusUpdateRequest, ReserveNowRequest,
                ResetRequest, SecurityEventNotificationRequest, SendLocalListRequest,
                SetChargingProfileRequest, SetDERControlRequest, SetDefaultTariffRequest,
                SetDisplayMessageRequest, SetMonitoringBaseRequest, SetMonitoringLevelRequest,
                SetNetworkProfileRequest, SetVariableMonitoringRequest, SetVariablesRequest,
                SignCertificateRequest, StatusNotificationRequest, TransactionEventRequest,
                TriggerMessageRequest, UnlockConnectorRequest, UnpublishFirmwareRequest,
                UpdateDynamicScheduleRequest, UpdateFirmwareRequest, UsePriorityChargingRequest,
                VatNumberValidationRequest,
            ],
            sends: [NotifyPeriodicEventStream],
        ),
    ]
}

/// One schema file, compiled.
struct SchemaFile {
    file: String,
    action: String,
    side: Side,
    schema: Value,
    validator: Validator,
}

fn schema_dir(version: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(version)
}

/// The validator for a schema, in the draft its `$schema` names, with `format` checked.
fn compile(schema: &Value) -> Validator {
    let draft = match schema.get("$schema").and_then(Value::as_str) {
        Some(s) if s.contains("draft-04") => Draft::Draft4,
        Some(s) if s.contains("draft-06") => Draft::Draft6,
        other => panic!("unexpected $schema {other:?}"),
    };
    jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

/// Every schema file of a version, with the action and side it belongs to: `XResponse.json` is
/// the response of `X`; `XRequest.json` (2.x) or `X.json` (1.6 requests, the 2.1 SEND message
/// `NotifyPeriodicEventStream`) its request.
fn schema_files(version: &str) -> Vec<SchemaFile> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(schema_dir(version))
        .expect("schema folder")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let stem = file.strip_suffix(".json").unwrap();
            let (action, side) = if let Some(action) = stem.strip_suffix("Response") {
                (action, Side::Response)
            } else if let Some(action) = stem.strip_suffix("Request") {
                (action, Side::Request)
            } else {
                (stem, Side::Request)
            };
            let text = std::fs::read_to_string(&path).expect("readable schema");
            let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
            let validator = compile(&schema);
            let action = action.to_owned();
            SchemaFile {
                file,
                action,
                side,
                schema,
                validator,
            }
        })
        .collect()
}

/// Everything the run found, by category.
#[derive(Default)]
struct Report {
    payloads: usize,
    schema_valid: usize,
    schema_invalid: usize,
    agreements: usize,
    mutations_by_kind: std::collections::BTreeMap<String, usize>,
    /// The validator and our decode disagree on a payload.
    disagreements: Vec<String>,
    /// Both reject, but our error has another kind or names another location.
    diagnostics: Vec<String>,
    /// The JSON reader and `serde_json` disagree on a payload.
    readers: Vec<String>,
    /// The table-driven decoder and the typed decode differ (verdict, value or error).
    tables: Vec<String>,
    /// A generated value that is invalid or does not round-trip; a decoded value whose
    /// encoding is invalid, does not decode to the same value, or lost extra properties.
    round_trips: Vec<String>,
    /// The table of messages does not match the schema files or `Action::ALL`.
    coverage: Vec<String>,
    /// Mutations that did not do what they were meant to (not failures: the validator is the
    /// judge; listed so that a vacuous mutation set shows).
    notes: BTreeSet<String>,
}

fn verdict(valid: bool) -> &'static str {
    if valid { "valid" } else { "invalid" }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let head: String = text.chars().take(max).collect();
        format!("{head}… ({} chars)", text.chars().count())
    }
}

fn describe(err: &MessageError) -> String {
    match err {
        MessageError::Invalid(e) => format!("{:?} at {:?}: {}", e.kind(), e.pointer(), e.message()),
        other => other.to_string(),
    }
}

impl Report {
    fn check(&mut self, version: &Version, file: &SchemaFile, base: &str, m: &Mutation) {
        // Where and what, for the report (built only when there is something to report).
        let place = || {
            format!(
                "[{} {} {} ({base})] {:?}: {}",
                version.name,
                file.file,
                file.side,
                m.pointer,
                shorten(&m.what, 120)
            )
        };
        *self
            .mutations_by_kind
            .entry(match m.expect {
                Expect::Valid => "meant valid".to_owned(),
                Expect::Invalid(kind) => format!("meant invalid: {kind:?}"),
                Expect::Either(kind) => format!("edge case: {kind:?}"),
            })
            .or_default() += 1;
        self.payloads += 1;
        let schema_ok = file.validator.is_valid(&m.payload);
        if schema_ok {
            self.schema_valid += 1;
        } else {
            self.schema_invalid += 1;
        }
        if let Some(meant) = m.expect.meant_valid() {
            if meant != schema_ok {
                self.notes.insert(format!(
                    "[{} {}] {}: meant {}, the validator says {}",
                    version.name,
                    file.file,
                    shorten(&m.what, 120),
                    verdict(meant),
                    verdict(schema_ok)
                ));
            }
        }
        let text = serde_json::to_string(&m.payload).expect("a JSON value encodes");
        let ours = match (version.decode)(&file.action, file.side, &text) {
            Ok(outcome) => outcome,
            Err(problem) => {
                self.round_trips.push(format!(
                    "{}\n    {problem}\n    payload: {}",
                    place(),
                    shorten(&text, 400)
                ));
                // It decoded, so our verdict is "valid".
                Outcome::Accepted(Value::Null)
            }
        };
        let ours_ok = matches!(ours, Outcome::Accepted(_));
        if let Some(((fast, serde_json), tables)) =
            (version.readers)(&file.action, file.side, &text)
        {
            if let Err(difference) = tables {
                self.tables.push(format!(
                    "{}\n    {difference}\n    payload: {}",
                    place(),
                    shorten(&text, 400)
                ));
            }
            // The reader decides alone: it must accept exactly what serde_json accepts.
            if fast != serde_json {
                self.readers.push(format!(
                    "{}\n    our reader: {}, serde_json: {}\n    payload: {}",
                    place(),
                    verdict(fast),
                    verdict(serde_json),
                    shorten(&text, 400)
                ));
            }
        }
        if schema_ok == ours_ok {
            self.agreements += 1;
        } else {
            let value = m
                .payload
                .pointer(&m.pointer)
                .map(|v| shorten(&v.to_string(), 200))
                .unwrap_or_else(|| "(absent)".into());
            let ours_text = match &ours {
                Outcome::Accepted(_) => "valid".to_owned(),
                Outcome::Rejected(err) => format!("invalid ({})", describe(err)),
            };
            self.disagreements.push(format!(
                "{}\n    jsonschema: {}, ocpp-types: {ours_text}\n    value at pointer: {value}\n    payload: {}",
                place(),
                verdict(schema_ok),
                shorten(&m.payload.to_string(), 400)
            ));
        }
        match ours {
            Outcome::Accepted(reencoded) if schema_ok && !reencoded.is_null() => {
                if !file.validator.is_valid(&reencoded) {
                    self.round_trips.push(format!(
                        "{}\n    the re-encoding is invalid: {}",
                        place(),
                        shorten(&reencoded.to_string(), 400)
                    ));
                }
                if let Some((pointer, value)) = &m.kept {
                    if reencoded.pointer(pointer) != Some(value) {
                        self.round_trips.push(format!(
                            "{}\n    extra property {pointer} lost or changed: {}",
                            place(),
                            shorten(&reencoded.to_string(), 400)
                        ));
                    }
                }
            }
            Outcome::Rejected(err) if !schema_ok => {
                let Some(kind) = m.expect.kind() else { return };
                match &err {
                    MessageError::Invalid(e) if e.kind() == kind && e.pointer() == m.pointer => {}
                    MessageError::Invalid(e) => self.diagnostics.push(format!(
                        "{}\n    expected {kind:?} at {:?}, got {:?} at {:?}: {}",
                        place(),
                        m.pointer,
                        e.kind(),
                        e.pointer(),
                        e.message()
                    )),
                    other => self.diagnostics.push(format!("{}\n    {other}", place())),
                }
            }
            _ => {}
        }
    }

    fn merge(&mut self, other: Report) {
        self.payloads += other.payloads;
        self.schema_valid += other.schema_valid;
        self.schema_invalid += other.schema_invalid;
        self.agreements += other.agreements;
        for (kind, n) in other.mutations_by_kind {
            *self.mutations_by_kind.entry(kind).or_default() += n;
        }
        self.disagreements.extend(other.disagreements);
        self.diagnostics.extend(other.diagnostics);
        self.readers.extend(other.readers);
        self.tables.extend(other.tables);
        self.round_trips.extend(other.round_trips);
        self.coverage.extend(other.coverage);
        self.notes.extend(other.notes);
    }

    fn failed(&self) -> bool {
        !(self.disagreements.is_empty()
            && self.diagnostics.is_empty()
            && self.readers.is_empty()
            && self.tables.is_empty()
            && self.round_trips.is_empty()
            && self.coverage.is_empty())
    }

    fn render(&self, limit: usize) -> String {
        let mut out = String::new();
        let mut section = |title: &str, items: Vec<&String>| {
            if items.is_empty() {
                return;
            }
            let _ = writeln!(out, "\n== {title}: {}", items.len());
            for item in items.iter().take(limit) {
                let _ = writeln!(out, "{item}");
            }
            if items.len() > limit {
                let _ = writeln!(out, "... and {} more", items.len() - limit);
            }
        };
        section("coverage problems", self.coverage.iter().collect());
        section(
            "disagreements between jsonschema and the typed decode",
            self.disagreements.iter().collect(),
        );
        section(
            "rejections with the wrong kind or pointer",
            self.diagnostics.iter().collect(),
        );
        section(
            "payloads our reader and serde_json judge differently",
            self.readers.iter().collect(),
        );
        section(
            "payloads the table-driven and the typed decode judge differently",
            self.tables.iter().collect(),
        );
        section("round-trip problems", self.round_trips.iter().collect());
        section(
            "notes: mutations the validator judged otherwise than meant (not failures)",
            self.notes.iter().collect(),
        );
        out
    }

    fn summary(&self) -> String {
        format!(
            "differential: {} payloads checked, {} valid and {} invalid per jsonschema, {} agreements \
             ({} disagreements, {} wrong diagnostics, {} judged otherwise by serde_json, {} judged \
             otherwise by the table-driven decode, {} round-trip problems, {} coverage problems); \
             mutations: {:?}",
            self.payloads,
            self.schema_valid,
            self.schema_invalid,
            self.agreements,
            self.disagreements.len(),
            self.diagnostics.len(),
            self.readers.len(),
            self.tables.len(),
            self.round_trips.len(),
            self.coverage.len(),
            self.mutations_by_kind
        )
    }
}

/// Checks one message: its base payloads (one with every optional property, and `SEEDS`
/// random ones) and all their mutations.
fn check_message(version: &Version, file: &SchemaFile, report: &mut Report) {
    let mut bases = vec![(FULL.to_owned(), support::full(&file.schema))];
    for seed in 0..SEEDS {
        match (version.sample)(&file.action, file.side, seed) {
            None => {
                report.coverage.push(format!(
                    "[{}] {}: no type for {} {} in the table",
                    version.name, file.file, file.action, file.side
                ));
                break;
            }
            Some(Err(problem)) => report.round_trips.push(format!(
                "[{} {}] random value: {problem}",
                version.name, file.file
            )),
            Some(Ok(value)) => bases.push((format!("seed {seed}"), value)),
        }
    }
    for (label, base) in &bases {
        // The base itself, generated by the crate or built from the schema, must be valid.
        if !file.validator.is_valid(base) {
            let errors: Vec<String> = file
                .validator
                .iter_errors(base)
                .map(|e| format!("{} at {:?}", e, e.instance_path().as_str()))
                .collect();
            report.round_trips.push(format!(
                "[{} {} ({label})] the schema rejects the base payload: {errors:?}\n    payload: {}",
                version.name,
                file.file,
                shorten(&base.to_string(), 600)
            ));
        }
        let unchanged = Mutation {
            pointer: String::new(),
            what: "unchanged".into(),
            payload: base.clone(),
            expect: Expect::Valid,
            kept: None,
        };
        report.check(version, file, label, &unchanged);
        for m in support::mutations(&file.schema, base, label == FULL) {
            report.check(version, file, label, &m);
        }
    }
}

/// The label of the base payload with every optional property, which gets every mutation.
const FULL: &str = "every optional property";

#[test]
fn typed_decode_agrees_with_json_schema() {
    let versions = versions();
    let mut report = Report::default();
    let mut work = Vec::new();
    for version in &versions {
        let files = schema_files(version.name);
        // The table, the schema files and `Action::ALL` must name the same messages.
        let from_files: BTreeSet<(String, Side)> =
            files.iter().map(|f| (f.action.clone(), f.side)).collect();
        let mut from_actions = BTreeSet::new();
        for &(action, has_response) in &version.actions {
            from_actions.insert((action.to_owned(), Side::Request));
            if has_response {
                from_actions.insert((action.to_owned(), Side::Response));
            }
        }
        for missing in from_files.symmetric_difference(&from_actions) {
            report.coverage.push(format!(
                "[{}] {} {}: in only one of the schema files and Action::ALL",
                version.name, missing.0, missing.1
            ));
        }
        work.extend(files.into_iter().map(|file| (version, file)));
    }
    let messages = work.len();

    // Two workers (the machine this must run on in CI has two cores), largest messages first.
    work.sort_by_cached_key(|(_, file)| std::cmp::Reverse(file.schema.to_string().len()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(2));
    let partial: Vec<Report> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut report = Report::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((version, file)) = work.get(i) else {
                            return report;
                        };
                        check_message(version, file, &mut report);
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for part in partial {
        report.merge(part);
    }

    let summary = format!("{messages} messages; {}", report.summary());
    println!("{summary}");
    if report.failed() {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("differential-report.txt");
        let _ = std::fs::write(&path, format!("{summary}\n{}", report.render(usize::MAX)));
        panic!(
            "{summary}\n{}\n(full report: {})",
            report.render(PRINTED),
            path.display()
        );
    } else if !report.notes.is_empty() {
        println!("{}", report.render(PRINTED));
    }
}

/// The rules the issue names, one payload each: the validator and the typed decode must both
/// give the stated verdict (the differential test covers them at every location; this names
/// them).
#[test]
fn the_issue_examples() {
    let boot = |serial: &str| {
        format!(
            r#"{{"reason":"PowerUp","chargingStation":{{"model":"M","vendorName":"V","serialNumber":"{serial}"}}}}"#
        )
    };
    let boot_response = |interval: &str, status: &str| {
        format!(
            r#"{{"currentTime":"2024-01-01T00:00:00Z","interval":{interval},"status":"{status}"}}"#
        )
    };
    let heartbeat = |time: &str| format!(r#"{{"currentTime":"{time}"}}"#);
    let charging_limit = |limit: &str| {
        format!(
            r#"{{"connectorId":1,"csChargingProfiles":{{"chargingProfileId":1,"stackLevel":0,
            "chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",
            "chargingSchedule":{{"chargingRateUnit":"A",
            "chargingSchedulePeriod":[{{"startPeriod":0,"limit":{limit}}}]}}}}}}"#
        )
    };
    let stream = |id: &str, data: &str| {
        format!(r#"{{"data":{data},"id":{id},"pending":0,"basetime":"2024-01-01T00:00:00Z"}}"#)
    };
    let cases: Vec<(&str, &str, &str, String, bool)> = vec![
        // `maxLength` counts code points: 25 × 'é' is 50 bytes.
        (
            "v201",
            "BootNotificationRequest.json",
            "25 × é",
            boot(&"é".repeat(25)),
            true,
        ),
        (
            "v201",
            "BootNotificationRequest.json",
            "26 × a",
            boot(&"a".repeat(26)),
            false,
        ),
        (
            "v201",
            "BootNotificationRequest.json",
            "26 × 😀",
            boot(&"😀".repeat(26)),
            false,
        ),
        // `date-time` is RFC 3339 with an offset.
        (
            "v201",
            "HeartbeatResponse.json",
            "Feb 30",
            heartbeat("2024-02-30T00:00:00Z"),
            false,
        ),
        (
            "v201",
            "HeartbeatResponse.json",
            "no offset",
            heartbeat("2024-01-01T00:00:00"),
            false,
        ),
        (
            "v201",
            "HeartbeatResponse.json",
            "space",
            heartbeat("2024-01-01 00:00:00Z"),
            false,
        ),
        (
            "v201",
            "HeartbeatResponse.json",
            "leap day",
            heartbeat("2024-02-29T00:00:00+01:00"),
            true,
        ),
        // `integer`: 1.5 is not one; 300.0 is in draft 6 (2.x), not in draft 4 (1.6).
        (
            "v201",
            "BootNotificationResponse.json",
            "1.5",
            boot_response("1.5", "Accepted"),
            false,
        ),
        (
            "v201",
            "BootNotificationResponse.json",
            "300.0",
            boot_response("300.0", "Accepted"),
            true,
        ),
        (
            "v16",
            "BootNotificationResponse.json",
            "300.0",
            boot_response("300.0", "Accepted"),
            false,
        ),
        (
            "v16",
            "BootNotificationResponse.json",
            "300",
            boot_response("300", "Accepted"),
            true,
        ),
        // `enum`, case included.
        (
            "v201",
            "BootNotificationResponse.json",
            "enum case",
            boot_response("300", "accepted"),
            false,
        ),
        // `additionalProperties: false`, and the open `CustomDataType`.
        (
            "v201",
            "HeartbeatRequest.json",
            "extra property",
            r#"{"extra":1}"#.into(),
            false,
        ),
        (
            "v201",
            "HeartbeatRequest.json",
            "vendor data in customData",
            r#"{"customData":{"vendorId":"V","x":{"a":[1,null]}}}"#.into(),
            true,
        ),
        // `null` is not an absent property.
        (
            "v201",
            "HeartbeatRequest.json",
            "null",
            r#"{"customData":null}"#.into(),
            false,
        ),
        ("v201", "HeartbeatRequest.json", "absent", "{}".into(), true),
        // `minimum` and `minItems`.
        (
            "v21",
            "NotifyPeriodicEventStream.json",
            "id -1",
            stream("-1", r#"[{"t":1.5,"v":"x"}]"#),
            false,
        ),
        (
            "v21",
            "NotifyPeriodicEventStream.json",
            "no data",
            stream("0", "[]"),
            false,
        ),
        (
            "v21",
            "NotifyPeriodicEventStream.json",
            "valid",
            stream("0", r#"[{"t":1.5,"v":"x"}]"#),
            true,
        ),
        // `multipleOf: 0.1`, exact for decimals.
        (
            "v16",
            "SetChargingProfile.json",
            "8.1",
            charging_limit("8.1"),
            true,
        ),
        (
            "v16",
            "SetChargingProfile.json",
            "8.15",
            charging_limit("8.15"),
            false,
        ),
        (
            "v16",
            "SetChargingProfile.json",
            "0.30000000000000004",
            charging_limit("0.30000000000000004"),
            false,
        ),
        // DataTransfer's untyped `data`: any JSON value, `null` included.
        (
            "v201",
            "DataTransferRequest.json",
            "data null",
            r#"{"vendorId":"V","data":null}"#.into(),
            true,
        ),
        (
            "v201",
            "DataTransferRequest.json",
            "data object",
            r#"{"vendorId":"V","data":{"a":[1,"x",null,2.5]}}"#.into(),
            true,
        ),
    ];
    let versions = versions();
    let mut wrong = Vec::new();
    for (version, file, what, payload, valid) in cases {
        let version = versions.iter().find(|v| v.name == version).unwrap();
        let schema = schema_files(version.name)
            .into_iter()
            .find(|f| f.file == file)
            .unwrap_or_else(|| panic!("no {file}"));
        let value: Value = serde_json::from_str(&payload).expect("test payloads are JSON");
        let validator = schema.validator.is_valid(&value);
        let ours = match (version.decode)(&schema.action, schema.side, &payload) {
            Ok(Outcome::Accepted(_)) => true,
            Ok(Outcome::Rejected(_)) => false,
            Err(problem) => panic!("{file} {what}: {problem}"),
        };
        if (validator, ours) != (valid, valid) {
            wrong.push(format!(
                "{} {file} {what}: expected {}, jsonschema says {}, ocpp-types says {}",
                version.name,
                verdict(valid),
                verdict(validator),
                verdict(ours)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The validator really checks `format` in both drafts the schemas use (it would be a silent
/// hole in the comparison otherwise), and the drafts read `1.0` as an integer.
#[test]
fn the_reference_validator_checks_formats() {
    for draft in [
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-06/schema#",
    ] {
        let schema = serde_json::json!({
            "$schema": draft,
            "type": "object",
            "properties": {
                "t": {"type": "string", "format": "date-time"},
                "u": {"type": "string", "format": "uri"},
                "i": {"type": "integer"}
            }
        });
        let v = compile(&schema);
        assert!(v.is_valid(
            &serde_json::json!({"t": "2024-02-29T00:00:00Z", "u": "https://x/y", "i": 1})
        ));
        assert!(
            !v.is_valid(&serde_json::json!({"t": "2024-02-30T00:00:00Z"})),
            "{draft}"
        );
        assert!(
            !v.is_valid(&serde_json::json!({"t": "2024-01-01T00:00:00"})),
            "{draft}"
        );
        assert!(
            !v.is_valid(&serde_json::json!({"u": "no scheme"})),
            "{draft}"
        );
        assert!(!v.is_valid(&serde_json::json!({"i": 1.5})), "{draft}");
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests: decode(encode(x)) == x and the schema accepts encode(x), for some of the
// messages that matter most, over values from `ocpp_types::random::strategy`.

fn validator_for(version: &str, file: &str) -> &'static Validator {
    static CACHE: OnceLock<std::sync::Mutex<Vec<(String, &'static Validator)>>> = OnceLock::new();
    let key = format!("{version}/{file}");
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    if let Some((_, v)) = cache.iter().find(|(k, _)| *k == key) {
        return v;
    }
    let text = std::fs::read_to_string(schema_dir(version).join(file)).expect("schema file");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator: &'static Validator = Box::leak(Box::new(compile(&schema)));
    cache.push((key, validator));
    validator
}

fn round_trip<T>(
    value: &T,
    version: &str,
    file: &str,
) -> Result<(), proptest::test_runner::TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    use proptest::prop_assert;
    let json = serde_json::to_vec(value).expect("a generated value encodes");
    let as_value: Value = serde_json::from_slice(&json).unwrap();
    prop_assert!(
        validator_for(version, file).is_valid(&as_value),
        "the schema rejects {}",
        String::from_utf8_lossy(&json)
    );
    let again: T = ocpp_types::from_slice(&json).map_err(|e| {
        proptest::test_runner::TestCaseError::fail(format!(
            "{e}: {}",
            String::from_utf8_lossy(&json)
        ))
    })?;
    proptest::prop_assert_eq!(&again, value);
    Ok(())
}

mod properties {
    use super::round_trip;
    use ocpp_types::random::strategy;
    use ocpp_types::{v16, v21, v201};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn v16_meter_values(x in strategy::<v16::MeterValuesRequest>()) {
            round_trip(&x, "v16", "MeterValues.json")?;
        }

        #[test]
        fn v16_set_charging_profile(x in strategy::<v16::SetChargingProfileRequest>()) {
            round_trip(&x, "v16", "SetChargingProfile.json")?;
        }

        #[test]
        fn v16_boot_notification_response(x in strategy::<v16::BootNotificationResponse>()) {
            round_trip(&x, "v16", "BootNotificationResponse.json")?;
        }

        #[test]
        fn v201_transaction_event(x in strategy::<v201::TransactionEventRequest>()) {
            round_trip(&x, "v201", "TransactionEventRequest.json")?;
        }

        #[test]
        fn v201_data_transfer(x in strategy::<v201::DataTransferRequest>()) {
            round_trip(&x, "v201", "DataTransferRequest.json")?;
        }

        #[test]
        fn v201_authorize_response(x in strategy::<v201::AuthorizeResponse>()) {
            round_trip(&x, "v201", "AuthorizeResponse.json")?;
        }

        #[test]
        fn v21_notify_periodic_event_stream(x in strategy::<v21::NotifyPeriodicEventStream>()) {
            round_trip(&x, "v21", "NotifyPeriodicEventStream.json")?;
        }

        #[test]
        fn v21_set_charging_profile(x in strategy::<v21::SetChargingProfileRequest>()) {
            round_trip(&x, "v21", "SetChargingProfileRequest.json")?;
        }
    }
}
