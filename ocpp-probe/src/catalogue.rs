//! The catalogue: every case of a campaign, built from the version, the side under test and
//! a seed. The same [`Plan`] always gives the same cases, byte for byte; a case id names one
//! case within its plan.

use ocpp_rpc::{AnyAction, AnyRequest, ErrorCode};
use ocpp_types::OcppVersion;
use ocpp_types::random::{Gen, SplitMix64};
use serde_json::{Value, json};

use crate::case::{
    Case, Credentials, Expect, Family, HandshakeStep, Step, Target, UpgradeExpect, ocpp_j,
};
use crate::mutate;

/// What a campaign covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The OCPP version spoken.
    pub version: OcppVersion,
    /// The side under test.
    pub target: Target,
    /// The seed of every random payload.
    pub seed: u64,
    /// Schema-valid random requests per action.
    pub valid_per_action: usize,
    /// Random payloads per action whose mutations are tried (their union, each fault once).
    pub mutated_per_action: usize,
    /// Actions never called (a real charger's `Reset` or `UpdateFirmware`, say).
    pub skip: Vec<String>,
    /// Whether the probe has credentials, so the Basic-auth cases run.
    pub credentials: bool,
}

impl Plan {
    /// A plan with the defaults: two valid requests per action, the mutations of three.
    pub fn new(version: OcppVersion, target: Target, seed: u64) -> Plan {
        Plan {
            version,
            target,
            seed,
            valid_per_action: 2,
            mutated_per_action: 3,
            skip: Vec::new(),
            credentials: false,
        }
    }

    /// The actions the target takes, less the skipped ones, sorted by name.
    pub fn actions(&self) -> Vec<AnyAction> {
        AnyAction::all(self.version)
            .into_iter()
            .filter(|a| a.sent_by(self.target.probe_role()))
            .filter(|a| !self.skip.iter().any(|s| s == a.as_str()))
            .collect()
    }
}

/// Every case of `plan`, in the order a campaign runs them: handshake, framing, payloads,
/// behaviour.
pub fn catalogue(plan: &Plan) -> Vec<Case> {
    let mut cases = Vec::new();
    if plan.target == Target::Csms {
        handshake(plan, &mut cases);
    }
    framing(plan, &mut cases);
    payloads(plan, &mut cases);
    cases.push(Case {
        id: "ws.ping".to_owned(),
        family: Family::Behaviour,
        title: "a WebSocket ping is answered with a pong carrying its payload".to_owned(),
        step: Step::Ping("ocpp-rs-probe".to_owned()),
        expect: Expect::Pong,
        clause: "RFC 6455 §5.5.2, §5.5.3".to_owned(),
    });
    cases
}

fn handshake(plan: &Plan, cases: &mut Vec<Case>) {
    let version = plan.version;
    let negotiation = ocpp_j(version, "§3.1.2, §3.2", "§3.1.2, §3.2 (2.1: §3.3)");
    let mut add =
        |id: &str, title: &str, step: HandshakeStep, expect: UpgradeExpect, clause: &str| {
            cases.push(Case {
                id: format!("handshake.{id}"),
                family: Family::Handshake,
                title: title.to_owned(),
                step: Step::Handshake(step),
                expect: Expect::Upgrade(expect),
                clause: clause.to_owned(),
            });
        };
    let offer = |subprotocols: Option<String>| HandshakeStep {
        subprotocols,
        identity: None,
        credentials: Credentials::AsGiven,
    };
    let own = version.subprotocol();
    add(
        "offer-version",
        "offering only the version, the server answers with it",
        offer(Some(own.to_owned())),
        UpgradeExpect::Version(version),
        &negotiation,
    );
    add(
        "offer-list",
        "offering an unknown version first, the server picks the one it serves",
        offer(Some(format!("ocpp0.9, {own}"))),
        UpgradeExpect::Version(version),
        &negotiation,
    );
    add(
        "no-common-version",
        "offering no version the server serves: 101 without a subprotocol, then a close",
        offer(Some("ocpp0.9".to_owned())),
        UpgradeExpect::NoVersion,
        &negotiation,
    );
    add(
        "no-subprotocol",
        "offering no subprotocol at all: never answered with one",
        offer(None),
        UpgradeExpect::NoVersion,
        &negotiation,
    );
    if version != OcppVersion::V16 {
        add(
            "identity-too-long",
            "an identity of 49 characters (identifierString[48]) is refused",
            HandshakeStep {
                identity: Some("A".repeat(49)),
                ..offer(Some(own.to_owned()))
            },
            UpgradeExpect::IdentityRefused,
            &ocpp_j(version, "§3.1.1", "§3.1.1"),
        );
        add(
            "identity-bad-character",
            "an identity with a space, which identifierString does not allow, is refused",
            HandshakeStep {
                identity: Some("PROBE%20ID".to_owned()),
                ..offer(Some(own.to_owned()))
            },
            UpgradeExpect::IdentityRefused,
            &ocpp_j(
                version,
                "§3.1.1",
                "§3.1.1 (identifierString, Part 2 §2.1.4)",
            ),
        );
    }
    if plan.credentials {
        let profile = match version {
            OcppVersion::V16 => "OCPP 1.6 Security Whitepaper, security profile 1".to_owned(),
            _ => format!("OCPP {version} Part 2, A00 security profiles 1 and 2"),
        };
        add(
            "no-credentials",
            "no Authorization header: refused",
            HandshakeStep {
                credentials: Credentials::Omitted,
                ..offer(Some(own.to_owned()))
            },
            UpgradeExpect::Refused,
            &profile,
        );
        add(
            "wrong-password",
            "the identity with a wrong password: refused",
            HandshakeStep {
                credentials: Credentials::WrongPassword,
                ..offer(Some(own.to_owned()))
            },
            UpgradeExpect::Refused,
            &profile,
        );
    }
}

fn framing(plan: &Plan, cases: &mut Vec<Case>) {
    let version = plan.version;
    let v2 = version != OcppVersion::V16;
    let live = plan.target.liveness_action();
    // What 2.x's definitions give for input that is no RPC request (§4.3 RpcFrameworkError,
    // id "-1" by §4.2.3); 1.6 names no code and no id.
    let unreadable = if v2 {
        vec![ErrorCode::RpcFrameworkError]
    } else {
        Vec::new()
    };
    let mut add = |id: &str, title: &str, text: String, expect: Expect, clause: String| {
        cases.push(Case {
            id: format!("rpc.{id}"),
            family: Family::Framing,
            title: title.to_owned(),
            step: Step::Text(text),
            expect,
            clause,
        });
    };
    let error_or_silence = |codes: &[ErrorCode]| Expect::ErrorOrSilence {
        id: "-1".to_owned(),
        codes: codes.to_vec(),
    };
    let frame = ocpp_j(version, "§4.1.3, §4.2", "§4.1.3, §4.2.3, §4.3");
    add(
        "empty",
        "an empty text message",
        String::new(),
        error_or_silence(&[]),
        frame.clone(),
    );
    for (id, title, text) in [
        (
            "not-json",
            "text that is not JSON",
            format!("[2, \"rpc.not-json\", \"{live}\", {{"),
        ),
        (
            "not-an-array",
            "a JSON object instead of an array",
            "{\"messageTypeId\": 2}".to_owned(),
        ),
        ("empty-array", "an empty array", "[]".to_owned()),
        (
            "type-is-a-string",
            "the message type as a string",
            format!("[\"2\", \"rpc.type\", \"{live}\", {{}}]"),
        ),
        ("id-missing", "a CALL with no message id", "[2]".to_owned()),
        (
            "id-is-a-number",
            "the message id as a number",
            format!("[2, 4711, \"{live}\", {{}}]"),
        ),
        (
            "id-too-long",
            "a message id of 37 characters",
            format!("[2, \"{}\", \"{live}\", {{}}]", "x".repeat(37)),
        ),
    ] {
        add(
            id,
            title,
            text,
            error_or_silence(&unreadable),
            frame.clone(),
        );
    }
    let unknown_type = format!("[9, \"rpc.unknown-type\", \"{live}\", {{}}]");
    let ignore = ocpp_j(version, "§4.1.3", "§4.1.3, §4.4");
    match version {
        OcppVersion::V201 => add(
            "unknown-message-type",
            "message type 9",
            unknown_type,
            Expect::ErrorOrSilence {
                id: "rpc.unknown-type".to_owned(),
                codes: vec![ErrorCode::MessageTypeNotSupported],
            },
            ignore,
        ),
        _ => add(
            "unknown-message-type",
            "message type 9 (ignored)",
            unknown_type,
            Expect::Silence {
                strict: version == OcppVersion::V21 || plan.target == Target::Csms,
            },
            ignore,
        ),
    }
    let shape = if v2 {
        vec![
            ErrorCode::RpcFrameworkError,
            ErrorCode::ProtocolError,
            ErrorCode::FormatViolation,
        ]
    } else {
        vec![ErrorCode::ProtocolError, ErrorCode::FormatViolation]
    };
    for (id, title, text) in [
        (
            "call-without-payload",
            "a CALL of three elements",
            format!("[2, \"rpc.call-without-payload\", \"{live}\"]"),
        ),
        (
            "action-is-a-number",
            "a CALL whose action is a number",
            "[2, \"rpc.action-is-a-number\", 42, {}]".to_owned(),
        ),
    ] {
        add(
            id,
            title,
            text,
            Expect::CallError {
                id: format!("rpc.{id}"),
                codes: shape.clone(),
                strict: false,
            },
            ocpp_j(version, "§4.2.1, §4.2.3 Table 7", "§4.2.1, §4.3"),
        );
    }
    let unknown = ocpp_j(
        version,
        "§4.2.3 Table 7 (NotImplemented)",
        "§4.3 (NotImplemented)",
    );
    for (id, title, action) in [
        (
            "unknown-action",
            "a CALL of an action no version has",
            "OcppRsProbeUnknown".to_owned(),
        ),
        (
            "action-in-lower-case",
            "a CALL whose action differs in case only (actions are case-sensitive)",
            live.to_lowercase(),
        ),
    ] {
        add(
            id,
            title,
            format!("[2, \"rpc.{id}\", \"{action}\", {{}}]"),
            Expect::CallError {
                id: format!("rpc.{id}"),
                codes: vec![ErrorCode::NotImplemented],
                strict: true,
            },
            unknown.clone(),
        );
    }
    let mut source = SplitMix64(plan.seed ^ 0x5EED_F4A3);
    let mut g = Gen::new(&mut source);
    let wrong_side = AnyAction::all(version).into_iter().find(|a| {
        a.sent_by(plan.target.role()) && !a.sent_by(plan.target.probe_role()) && a.has_response()
    });
    if let Some(action) = wrong_side.filter(|a| !plan.skip.iter().any(|s| s == a.as_str())) {
        if let Some(request) = payload(action, &mut g) {
            add(
                "wrong-side",
                &format!("a valid {action} CALL, which only the side under test sends"),
                format!("[2, \"rpc.wrong-side\", \"{action}\", {request}]"),
                Expect::CallError {
                    id: "rpc.wrong-side".to_owned(),
                    codes: vec![ErrorCode::NotSupported, ErrorCode::NotImplemented],
                    strict: false,
                },
                ocpp_j(
                    version,
                    "§4.2.3 Table 7 (NotSupported)",
                    "§4.3 (NotSupported)",
                ),
            );
        }
    }
    if version == OcppVersion::V21 {
        let send_only = AnyAction::all(version)
            .into_iter()
            .find(|a| !a.has_response() && a.sent_by(plan.target.probe_role()));
        if let Some(action) = send_only {
            if let Some(request) = payload(action, &mut g) {
                add(
                    "send",
                    &format!("a valid SEND of {action}: never answered"),
                    format!("[6, \"rpc.send\", \"{action}\", {request}]"),
                    Expect::Silence { strict: true },
                    "OCPP-J 2.1 §4.2.4".to_owned(),
                );
                add(
                    "send-only-action-as-call",
                    &format!("{action}, a SEND-only action, as a CALL"),
                    format!("[2, \"rpc.send-only-action-as-call\", \"{action}\", {request}]"),
                    Expect::CallError {
                        id: "rpc.send-only-action-as-call".to_owned(),
                        codes: vec![ErrorCode::NotSupported, ErrorCode::RpcFrameworkError],
                        strict: false,
                    },
                    "OCPP-J 2.1 §4.2.4, §4.3".to_owned(),
                );
            }
        }
        add(
            "send-unknown-action",
            "a SEND of an unknown action: never answered",
            "[6, \"rpc.send-unknown-action\", \"OcppRsProbeUnknown\", {}]".to_owned(),
            Expect::Silence { strict: true },
            "OCPP-J 2.1 §4.2.4".to_owned(),
        );
    }
    let nothing = ocpp_j(
        version,
        "§4.1.4 (not stated; answering a response is never asked)",
        "§4.1.4 (not stated; answering a response is never asked)",
    );
    add(
        "result-for-unknown-id",
        "a CALLRESULT for a message id never sent",
        "[3, \"rpc.never-sent\", {}]".to_owned(),
        Expect::Silence { strict: false },
        nothing.clone(),
    );
    add(
        "error-for-unknown-id",
        "a CALLERROR for a message id never sent",
        "[4, \"rpc.never-sent\", \"GenericError\", \"\", {}]".to_owned(),
        Expect::Silence { strict: false },
        nothing,
    );
}

fn payloads(plan: &Plan, cases: &mut Vec<Case>) {
    let version = plan.version;
    for action in plan.actions().into_iter().filter(|a| a.has_response()) {
        let mut source = SplitMix64(plan.seed ^ hash(action.as_str()));
        let mut g = Gen::new(&mut source);
        let schema = action.request_schema();
        for k in 0..plan.valid_per_action {
            let Some(request) = payload(action, &mut g) else {
                continue;
            };
            cases.push(valid(
                cases.len(),
                format!("payload.{action}.valid.{k}"),
                format!("a schema-valid {action} request"),
                action,
                request,
                format!("OCPP {version} {action}Request/{action}Response JSON schemas"),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut longest = None;
        for _ in 0..plan.mutated_per_action {
            let Some(request) = payload(action, &mut g) else {
                continue;
            };
            if longest.is_none() {
                longest = mutate::longest_in_characters(schema, &request);
            }
            for mutation in mutate::mutations(version, schema, &request) {
                if !seen.insert(mutation.name.clone()) {
                    continue;
                }
                let message_id = message_id(cases.len());
                cases.push(Case {
                    id: format!("payload.{action}.{}", mutation.name),
                    title: format!("{action} with one fault: {}", mutation.name),
                    family: Family::Payload,
                    step: Step::Text(call(&message_id, action, &mutation.payload)),
                    expect: Expect::CallError {
                        id: message_id,
                        codes: mutation.codes,
                        strict: mutation.strict && version != OcppVersion::V16,
                    },
                    clause: ocpp_j(version, "§4.2.3 Table 7", "§4.1.7, §4.3"),
                });
            }
        }
        if let Some((at, request)) = longest {
            cases.push(valid(
                cases.len(),
                format!("payload.{action}.longest-in-characters:{at}"),
                format!("{action} with {at} at its maxLength in two-byte characters (lengths count characters)"),
                action,
                request,
                format!("OCPP {version} {action}Request JSON schema (maxLength, RFC 8259 characters)"),
            ));
        }
    }
}

/// A case sending the schema-valid `request` of `action` as the catalogue's `index`th case.
fn valid(
    index: usize,
    id: String,
    title: String,
    action: AnyAction,
    request: Value,
    clause: String,
) -> Case {
    let message_id = message_id(index);
    Case {
        id,
        title,
        family: Family::Payload,
        step: Step::Text(call(&message_id, action, &request)),
        expect: Expect::Answer {
            id: message_id,
            action,
            request,
        },
        clause,
    }
}

/// The CALL frame of `payload`.
fn call(id: &str, action: AnyAction, payload: &Value) -> String {
    format!("[2, \"{id}\", \"{action}\", {payload}]")
}

/// The message id of the case at `index` of the catalogue (ids are at most 36 characters,
/// so a case's own id, which can be longer, is not one).
fn message_id(index: usize) -> String {
    format!("probe-case-{index}")
}

/// A random request of `action` as JSON.
fn payload(action: AnyAction, g: &mut Gen<'_>) -> Option<Value> {
    let request = AnyRequest::generate(action, g)?;
    serde_json::to_value(&request).ok()
}

/// FNV-1a of `text`: a stable per-action seed offset.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `{}`: the payload of the liveness CALL.
pub(crate) fn empty() -> Value {
    json!({})
}
