//! Rules the OCPP specification states in words but the JSON schemas cannot express: a field
//! "required when ..." another field is present, one that "SHALL only be included if ...", a
//! value that "SHALL be > 0" where the schema has no minimum. The generated types enforce the
//! schemas; this table holds the rest, as data, so that a CSMS, a charging station and a
//! conformance tester apply the same rules.
//!
//! Each [`Condition`] names the version(s) and action it belongs to, which payload it constrains
//! ([`Subject`]), where the specification says it ([`Condition::reference`]), and checks a
//! request payload (and, for response rules, the response to it) as JSON, giving a [`Finding`]
//! with a JSON pointer for each breach:
//!
//! ```
//! use ocpp_types::OcppVersion;
//! use ocpp_types::conditions::{self, Subject};
//! use serde_json::json;
//!
//! let request = json!({"eventType": "Started", "idToken": {"idToken": "TAG1", "type": "ISO14443"}});
//! let findings = conditions::check(OcppVersion::V201, "TransactionEvent", &request, Some(&json!({})));
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].condition.id, "TransactionEventResponse.idTokenInfo");
//! assert_eq!((findings[0].subject, findings[0].pointer.as_str()), (Subject::Response, "/idTokenInfo"));
//! ```
//!
//! # What is covered
//! The messages of a charging session and the CSMS calls most often made to a station:
//! BootNotification, Heartbeat, StatusNotification, Authorize, MeterValues, StartTransaction,
//! StopTransaction, TransactionEvent, GetVariables, GetConfiguration, ChangeAvailability,
//! RequestStartTransaction / RemoteStartTransaction and SetChargingProfile (and 2.1's prices
//! in Authorize tariffs and TransactionEvent cost details). Their schema descriptions were read
//! for every conditional phrase; BootNotification, Heartbeat,
//! StatusNotification, MeterValues, StartTransaction, GetConfiguration and ChangeAvailability
//! state none that one request and its response can show broken (`interval` and `timestamp`
//! only explain meaning and defaults). Rules over a sequence of messages (the first
//! TransactionEvent is `Started`; `chargingState` "is required when state has changed") need the
//! transaction's history and are not in this table.
//!
//! The 1.6 JSON schemas carry no descriptions: 1.6 rules cite the specification's own tables.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use crate::OcppVersion;

/// Which payload a [`Condition`] constrains, and so who breaks it: the sender of that payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// The CALL's payload.
    Request,
    /// The CALLRESULT's payload, judged against the request it answers.
    Response,
}

/// How the specification states a [`Condition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Basis {
    /// In so many words ("required when", "SHALL only be included if", "SHALL be > 0").
    Stated,
    /// Read from the reason the specification gives for a field being optional; the rule's
    /// [`Condition::text`] says why.
    Inferred,
}

/// One rule of the specification that the schemas do not express.
#[derive(Debug, Clone, Copy)]
pub struct Condition {
    /// Stable identifier: the message and field path as the specification names them
    /// (`TransactionEventResponse.idTokenInfo`; 1.6 as `StopTransaction.conf.idTagInfo`).
    pub id: &'static str,
    /// The versions the rule belongs to.
    pub versions: &'static [OcppVersion],
    /// The action (`TransactionEvent`).
    pub action: &'static str,
    /// Which payload the rule constrains.
    pub subject: Subject,
    /// Where the specification states it: a requirement id, or the field description quoted.
    pub reference: &'static str,
    /// The rule, for people.
    pub text: &'static str,
    /// Stated in so many words, or inferred.
    pub basis: Basis,
    check: fn(&Value, Option<&Value>, &mut Vec<Breach>),
}

/// A place where a payload breaks a rule, before it is tied to its [`Condition`].
struct Breach {
    pointer: String,
    detail: String,
}

/// A payload breaking a [`Condition`].
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule broken.
    pub condition: &'static Condition,
    /// The payload it is in.
    pub subject: Subject,
    /// JSON pointer (RFC 6901) into that payload: the field that is wrong, missing or must not be
    /// there.
    pub pointer: String,
    /// What is wrong, for people.
    pub detail: String,
}

impl PartialEq for Condition {
    fn eq(&self, other: &Condition) -> bool {
        self.id == other.id
    }
}

impl core::fmt::Display for Finding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let payload = match self.subject {
            Subject::Request => "request",
            Subject::Response => "response",
        };
        write!(
            f,
            "{} #{}: {} ({}; {})",
            payload, self.pointer, self.detail, self.condition.id, self.condition.reference
        )
    }
}

impl Condition {
    /// Whether the rule belongs to `version`'s `action`.
    pub fn applies_to(&self, version: OcppVersion, action: &str) -> bool {
        self.action == action && self.versions.contains(&version)
    }

    /// Checks `request` and, for a [`Subject::Response`] rule, `response` (a response rule
    /// without a response finds nothing).
    pub fn check(&'static self, request: &Value, response: Option<&Value>) -> Vec<Finding> {
        let mut breaches = Vec::new();
        if self.subject == Subject::Request || response.is_some() {
            (self.check)(request, response, &mut breaches);
        }
        breaches
            .into_iter()
            .map(|b| Finding {
                condition: self,
                subject: self.subject,
                pointer: b.pointer,
                detail: b.detail,
            })
            .collect()
    }
}

/// The rules of `version`'s `action`.
pub fn for_action(
    version: OcppVersion,
    action: &str,
) -> impl Iterator<Item = &'static Condition> + '_ {
    CONDITIONS
        .iter()
        .filter(move |c| c.applies_to(version, action))
}

/// Checks a call of `version`'s `action` against every rule of the table: the request rules,
/// and with `response` the response rules too.
pub fn check(
    version: OcppVersion,
    action: &str,
    request: &Value,
    response: Option<&Value>,
) -> Vec<Finding> {
    for_action(version, action)
        .flat_map(|c| c.check(request, response))
        .collect()
}

/// Checks only the request rules of `version`'s `action` (what a receiver of the CALL can judge).
pub fn check_request(version: OcppVersion, action: &str, request: &Value) -> Vec<Finding> {
    for_action(version, action)
        .filter(|c| c.subject == Subject::Request)
        .flat_map(|c| c.check(request, None))
        .collect()
}

/// Checks only the response rules of `version`'s `action` (what the receiver of the CALLRESULT,
/// or its sender before sending, can judge).
pub fn check_response(
    version: OcppVersion,
    action: &str,
    request: &Value,
    response: &Value,
) -> Vec<Finding> {
    for_action(version, action)
        .filter(|c| c.subject == Subject::Response)
        .flat_map(|c| c.check(request, Some(response)))
        .collect()
}

const V16: &[OcppVersion] = &[OcppVersion::V16];
const V201: &[OcppVersion] = &[OcppVersion::V201];
const V2X: &[OcppVersion] = &[OcppVersion::V201, OcppVersion::V21];
const V21: &[OcppVersion] = &[OcppVersion::V21];

/// Every rule, in a stable order (by version, then action).
pub static CONDITIONS: &[Condition] = &[
    // ---- OCPP 1.6 ---------------------------------------------------------------------------
    Condition {
        id: "StopTransaction.conf.idTagInfo",
        versions: V16,
        action: "StopTransaction",
        subject: Subject::Response,
        reference: "OCPP 1.6 StopTransaction.conf, field idTagInfo: optional \"because a \
                    transaction may have been stopped without an identifier\"; the Charge Point \
                    updates its Authorization Cache from it",
        text: "idTagInfo is required when StopTransaction.req contained an idTag: the \
               specification makes it optional only for transactions stopped without an \
               identifier, and a Charge Point with an Authorization Cache needs the status of \
               the idTag it sent",
        basis: Basis::Inferred,
        check: |request, response, out| {
            if request.get("idTag").is_some() {
                require(
                    response,
                    "idTagInfo",
                    "StopTransaction.req contained an idTag",
                    out,
                );
            }
        },
    },
    Condition {
        id: "RemoteStartTransaction.req.chargingProfile.chargingProfilePurpose",
        versions: V16,
        action: "RemoteStartTransaction",
        subject: Subject::Request,
        reference: "OCPP 1.6 RemoteStartTransaction.req, field chargingProfile: \
                    \"ChargingProfilePurpose MUST be set to TxProfile\"",
        text: "a charging profile in RemoteStartTransaction.req has the purpose TxProfile",
        basis: Basis::Stated,
        check: |request, _, out| {
            purpose_is_tx_profile(request, "chargingProfile", out);
        },
    },
    Condition {
        id: "RemoteStartTransaction.req.chargingProfile.transactionId",
        versions: V16,
        action: "RemoteStartTransaction",
        subject: Subject::Request,
        reference: "OCPP 1.6 Smart Charging, \"Setting a charging profile in a \
                    RemoteStartTransaction request\": the transactionId SHALL NOT be set",
        text: "a charging profile in RemoteStartTransaction.req has no transactionId: the \
               transaction does not exist yet",
        basis: Basis::Stated,
        check: |request, _, out| {
            forbid(request, "chargingProfile", "transactionId", out);
        },
    },
    Condition {
        id: "SetChargingProfile.req.csChargingProfiles.transactionId",
        versions: V16,
        action: "SetChargingProfile",
        subject: Subject::Request,
        reference: "OCPP 1.6 ChargingProfile, field transactionId: \"Only valid if \
                    ChargingProfilePurpose is set to TxProfile\"",
        text: "a charging profile has a transactionId only when its purpose is TxProfile",
        basis: Basis::Stated,
        check: |request, _, out| {
            transaction_id_only_for_tx_profile(request, "csChargingProfiles", out);
        },
    },
    // ---- OCPP 2.0.1 and 2.1 -----------------------------------------------------------------
    Condition {
        id: "AuthorizeResponse.idTokenInfo.language2",
        versions: V2X,
        action: "Authorize",
        subject: Subject::Response,
        reference: "IdTokenInfoType, field language2: \"Don't use when language1 is omitted, \
                    has to be different from language1\"",
        text: "idTokenInfo.language2 is present only with language1, and differs from it",
        basis: Basis::Stated,
        check: |_, response, out| {
            second_language(response, "/idTokenInfo", out);
        },
    },
    Condition {
        id: "AuthorizeResponse.tariff.PriceType",
        versions: V21,
        action: "Authorize",
        subject: Subject::Response,
        reference: "OCPP 2.1 PriceType: \"At least one of exclTax, inclTax must be present\"",
        text: "the tariff's minCost and maxCost each give exclTax or inclTax",
        basis: Basis::Stated,
        check: |_, response, out| {
            for price in ["/tariff/minCost", "/tariff/maxCost"] {
                with_or_without_tax(response, price, out);
            }
        },
    },
    Condition {
        id: "GetVariablesResponse.getVariableResult.attributeValue",
        versions: V2X,
        action: "GetVariables",
        subject: Subject::Response,
        reference: "GetVariableResultType, field attributeValue: \"This field can only be empty \
                    when the given status is NOT accepted\"",
        text: "a GetVariableResult with attributeStatus Accepted carries attributeValue",
        basis: Basis::Stated,
        check: |_, response, out| {
            let results = response
                .and_then(|r| r.get("getVariableResult"))
                .and_then(Value::as_array);
            for (n, result) in results.into_iter().flatten().enumerate() {
                let accepted =
                    result.get("attributeStatus").and_then(Value::as_str) == Some("Accepted");
                if accepted && result.get("attributeValue").is_none() {
                    out.push(Breach {
                        pointer: format!("/getVariableResult/{n}/attributeValue"),
                        detail: String::from("missing, though attributeStatus is Accepted"),
                    });
                }
            }
        },
    },
    Condition {
        id: "RequestStartTransactionRequest.evseId",
        versions: V201,
        action: "RequestStartTransaction",
        subject: Subject::Request,
        reference: "OCPP 2.0.1 RequestStartTransactionRequest, field evseId: \"EvseId SHALL be \
                    > 0\" (2.1's schema has minimum 1)",
        text: "evseId, when present, is greater than 0",
        basis: Basis::Stated,
        check: |request, _, out| {
            if let Some(id) = request.get("evseId").and_then(Value::as_i64) {
                if id <= 0 {
                    out.push(Breach {
                        pointer: String::from("/evseId"),
                        detail: format!("{id}, not greater than 0"),
                    });
                }
            }
        },
    },
    Condition {
        id: "RequestStartTransactionRequest.chargingProfile.chargingProfilePurpose",
        versions: V2X,
        action: "RequestStartTransaction",
        subject: Subject::Request,
        reference: "F01.FR.09: the purpose of a ChargingProfile in RequestStartTransactionRequest \
                    SHALL be TxProfile",
        text: "a charging profile in RequestStartTransactionRequest has the purpose TxProfile",
        basis: Basis::Stated,
        check: |request, _, out| {
            purpose_is_tx_profile(request, "chargingProfile", out);
        },
    },
    Condition {
        id: "RequestStartTransactionRequest.chargingProfile.transactionId",
        versions: V2X,
        action: "RequestStartTransaction",
        subject: Subject::Request,
        reference: "F01.FR.11: the transactionId in the ChargingProfile SHALL NOT be set",
        text: "a charging profile in RequestStartTransactionRequest has no transactionId: the \
               transaction does not exist yet",
        basis: Basis::Stated,
        check: |request, _, out| {
            forbid(request, "chargingProfile", "transactionId", out);
        },
    },
    Condition {
        id: "SetChargingProfileRequest.chargingProfile.transactionId",
        versions: V2X,
        action: "SetChargingProfile",
        subject: Subject::Request,
        reference: "ChargingProfileType, field transactionId: \"SHALL only be included if \
                    ChargingProfilePurpose is set to TxProfile\"",
        text: "a charging profile has a transactionId only when its purpose is TxProfile",
        basis: Basis::Stated,
        check: |request, _, out| {
            transaction_id_only_for_tx_profile(request, "chargingProfile", out);
        },
    },
    Condition {
        id: "TransactionEventRequest.costDetails.totalCost.PriceType",
        versions: V21,
        action: "TransactionEvent",
        subject: Subject::Request,
        reference: "OCPP 2.1 PriceType: \"At least one of exclTax, inclTax must be present\"; \
                    TotalPriceType, fields exclTax and inclTax: \"Can be absent if inclTax \
                    (exclTax) is present\"",
        text: "every price of costDetails.totalCost gives exclTax or inclTax",
        basis: Basis::Stated,
        check: |request, _, out| {
            for part in [
                "fixed",
                "energy",
                "chargingTime",
                "idleTime",
                "reservationTime",
                "reservationFixed",
                "total",
            ] {
                let price = format!("/costDetails/totalCost/{part}");
                with_or_without_tax(Some(request), &price, out);
            }
        },
    },
    Condition {
        id: "TransactionEventRequest.idToken",
        versions: V2X,
        action: "TransactionEvent",
        subject: Subject::Request,
        reference: "TransactionEventRequest, field idToken (Part 2 field table): \"Is required \
                    when the EV Driver becomes authorized for this transaction and when the EV \
                    Driver ends authorization\"",
        text: "a TransactionEvent triggered by Authorized or StopAuthorized carries the idToken",
        basis: Basis::Stated,
        check: |request, _, out| {
            let trigger = request.get("triggerReason").and_then(Value::as_str);
            if let Some(trigger @ ("Authorized" | "StopAuthorized")) = trigger {
                if request.get("idToken").is_none() {
                    out.push(Breach {
                        pointer: String::from("/idToken"),
                        detail: format!("missing, though triggerReason is {trigger}"),
                    });
                }
            }
        },
    },
    Condition {
        id: "TransactionEventResponse.idTokenInfo",
        versions: V2X,
        action: "TransactionEvent",
        subject: Subject::Response,
        reference: "TransactionEventResponse, field idTokenInfo (Part 2 field table): \"Is \
                    required when the transactionEventRequest contained an idToken\"",
        text: "idTokenInfo is present when the TransactionEventRequest contained an idToken",
        basis: Basis::Stated,
        check: |request, response, out| {
            if request.get("idToken").is_some() {
                require(
                    response,
                    "idTokenInfo",
                    "the TransactionEventRequest contained an idToken",
                    out,
                );
            }
        },
    },
    Condition {
        id: "TransactionEventResponse.idTokenInfo.language2",
        versions: V2X,
        action: "TransactionEvent",
        subject: Subject::Response,
        reference: "IdTokenInfoType, field language2: \"Don't use when language1 is omitted, \
                    has to be different from language1\"",
        text: "idTokenInfo.language2 is present only with language1, and differs from it",
        basis: Basis::Stated,
        check: |_, response, out| {
            second_language(response, "/idTokenInfo", out);
        },
    },
    Condition {
        id: "TransactionEventResponse.totalCost",
        versions: V201,
        action: "TransactionEvent",
        subject: Subject::Response,
        reference: "OCPP 2.0.1 TransactionEventResponse, field totalCost: \"SHALL only be sent \
                    when charging has ended\" (2.1 also allows the running cost on Updated)",
        text: "totalCost answers only a TransactionEventRequest whose eventType is Ended",
        basis: Basis::Stated,
        check: |request, response, out| {
            let event = request.get("eventType").and_then(Value::as_str);
            let cost = response.and_then(|r| r.get("totalCost"));
            if cost.is_some() && event != Some("Ended") {
                out.push(Breach {
                    pointer: String::from("/totalCost"),
                    detail: format!(
                        "present, though the request's eventType is {}",
                        event.unwrap_or("missing")
                    ),
                });
            }
        },
    },
];

/// `field` must be in `payload` because of `why`.
fn require(payload: Option<&Value>, field: &str, why: &str, out: &mut Vec<Breach>) {
    if payload.and_then(|p| p.get(field)).is_none() {
        out.push(Breach {
            pointer: format!("/{field}"),
            detail: format!("missing, though {why}"),
        });
    }
}

/// `payload.profile.field` must not be there.
fn forbid(payload: &Value, profile: &str, field: &str, out: &mut Vec<Breach>) {
    if payload.get(profile).and_then(|p| p.get(field)).is_some() {
        out.push(Breach {
            pointer: format!("/{profile}/{field}"),
            detail: String::from("must not be present"),
        });
    }
}

/// `payload.profile.chargingProfilePurpose`, when the profile is there, is `TxProfile`.
fn purpose_is_tx_profile(payload: &Value, profile: &str, out: &mut Vec<Breach>) {
    let Some(profile_value) = payload.get(profile) else {
        return;
    };
    let purpose = profile_value
        .get("chargingProfilePurpose")
        .and_then(Value::as_str);
    if purpose != Some("TxProfile") {
        out.push(Breach {
            pointer: format!("/{profile}/chargingProfilePurpose"),
            detail: format!("{}, not TxProfile", purpose.unwrap_or("missing")),
        });
    }
}

/// `payload.profile.transactionId` only with the purpose `TxProfile`.
fn transaction_id_only_for_tx_profile(payload: &Value, profile: &str, out: &mut Vec<Breach>) {
    let Some(profile_value) = payload.get(profile) else {
        return;
    };
    let purpose = profile_value
        .get("chargingProfilePurpose")
        .and_then(Value::as_str);
    if profile_value.get("transactionId").is_some() && purpose != Some("TxProfile") {
        out.push(Breach {
            pointer: format!("/{profile}/transactionId"),
            detail: format!(
                "present, though chargingProfilePurpose is {}",
                purpose.unwrap_or("missing")
            ),
        });
    }
}

/// The `PriceType` or `TotalPriceType` at `price`, when there, has `exclTax` or `inclTax`.
fn with_or_without_tax(payload: Option<&Value>, price: &str, out: &mut Vec<Breach>) {
    let Some(price_value) = payload.and_then(|p| p.pointer(price)) else {
        return;
    };
    if price_value.get("exclTax").is_none() && price_value.get("inclTax").is_none() {
        out.push(Breach {
            pointer: String::from(price),
            detail: String::from("neither exclTax nor inclTax"),
        });
    }
}

/// In the `IdTokenInfoType` at `info`: `language2` only with a different `language1`.
fn second_language(payload: Option<&Value>, info: &str, out: &mut Vec<Breach>) {
    let Some(info_value) = payload.and_then(|p| p.pointer(info)) else {
        return;
    };
    let Some(second) = info_value.get("language2") else {
        return;
    };
    let detail = match info_value.get("language1") {
        None => String::from("present, though language1 is omitted"),
        Some(first) if first == second => String::from("the same as language1"),
        Some(_) => return,
    };
    out.push(Breach {
        pointer: format!("{info}/language2"),
        detail,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The one rule named `id`.
    fn rule(id: &str) -> &'static Condition {
        let mut found = CONDITIONS.iter().filter(|c| c.id == id);
        let rule = found.next().unwrap_or_else(|| panic!("no rule {id}"));
        assert!(found.next().is_none(), "two rules {id}");
        rule
    }

    /// The pointers of what `id` finds in the pair.
    fn found(id: &str, request: Value, response: Option<Value>) -> Vec<String> {
        rule(id)
            .check(&request, response.as_ref())
            .into_iter()
            .map(|f| {
                assert_eq!(f.condition.id, id);
                assert_eq!(f.subject, rule(id).subject);
                assert!(!f.detail.is_empty());
                f.pointer
            })
            .collect()
    }

    fn none() -> Vec<String> {
        Vec::new()
    }

    #[test]
    fn the_table_is_well_formed() {
        for (n, c) in CONDITIONS.iter().enumerate() {
            assert!(!c.versions.is_empty() && !c.reference.is_empty() && !c.text.is_empty());
            assert!(
                CONDITIONS[n + 1..].iter().all(|other| other.id != c.id),
                "ids are unique: {}",
                c.id
            );
            let message = c.id.split('.').next().unwrap_or_default();
            assert!(message.starts_with(c.action), "{} names its action", c.id);
        }
    }

    #[test]
    fn stop_transaction_id_tag_info() {
        let id = "StopTransaction.conf.idTagInfo";
        let with_tag = json!({"transactionId": 1, "idTag": "T", "meterStop": 0, "timestamp": "2024-01-01T00:00:00Z"});
        let accepted = json!({"idTagInfo": {"status": "Accepted"}});
        assert_eq!(found(id, with_tag.clone(), Some(accepted)), none());
        assert_eq!(found(id, with_tag.clone(), Some(json!({}))), ["/idTagInfo"]);
        assert_eq!(
            found(id, json!({"transactionId": 1}), Some(json!({}))),
            none()
        );
        // A response rule has nothing to judge without a response.
        assert_eq!(found(id, with_tag, None), none());
    }

    #[test]
    fn remote_start_profile_purpose_and_transaction() {
        let purpose = "RemoteStartTransaction.req.chargingProfile.chargingProfilePurpose";
        let transaction = "RemoteStartTransaction.req.chargingProfile.transactionId";
        let tx = json!({"idTag": "T", "chargingProfile": {"chargingProfilePurpose": "TxProfile"}});
        let default = json!({"idTag": "T", "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}});
        let with_id = json!({"idTag": "T", "chargingProfile": {"chargingProfilePurpose": "TxProfile", "transactionId": 3}});
        assert_eq!(found(purpose, tx.clone(), None), none());
        assert_eq!(found(purpose, json!({"idTag": "T"}), None), none());
        assert_eq!(
            found(purpose, default, None),
            ["/chargingProfile/chargingProfilePurpose"]
        );
        assert_eq!(found(transaction, tx, None), none());
        assert_eq!(
            found(transaction, with_id, None),
            ["/chargingProfile/transactionId"]
        );
    }

    #[test]
    fn set_charging_profile_transaction_id() {
        for (id, profile) in [
            (
                "SetChargingProfile.req.csChargingProfiles.transactionId",
                "csChargingProfiles",
            ),
            (
                "SetChargingProfileRequest.chargingProfile.transactionId",
                "chargingProfile",
            ),
        ] {
            let tx = json!({profile: {"chargingProfilePurpose": "TxProfile", "transactionId": 1}});
            let max = json!({profile: {"chargingProfilePurpose": "ChargingStationMaxProfile", "transactionId": 1}});
            let max_alone =
                json!({profile: {"chargingProfilePurpose": "ChargingStationMaxProfile"}});
            assert_eq!(found(id, tx, None), none());
            assert_eq!(found(id, max_alone, None), none());
            assert_eq!(found(id, max, None), [format!("/{profile}/transactionId")]);
        }
    }

    #[test]
    fn second_language_of_id_token_info() {
        for id in [
            "AuthorizeResponse.idTokenInfo.language2",
            "TransactionEventResponse.idTokenInfo.language2",
        ] {
            let info = |i: Value| Some(json!({"idTokenInfo": i}));
            let request = json!({});
            let good = info(json!({"status": "Accepted", "language1": "en", "language2": "nl"}));
            assert_eq!(found(id, request.clone(), good), none());
            assert_eq!(
                found(id, request.clone(), info(json!({"status": "Accepted"}))),
                none()
            );
            let alone = info(json!({"status": "Accepted", "language2": "nl"}));
            assert_eq!(
                found(id, request.clone(), alone),
                ["/idTokenInfo/language2"]
            );
            let same = info(json!({"status": "Accepted", "language1": "nl", "language2": "nl"}));
            assert_eq!(found(id, request, same), ["/idTokenInfo/language2"]);
        }
    }

    #[test]
    fn prices_with_or_without_tax() {
        let id = "AuthorizeResponse.tariff.PriceType";
        let tariff = |min: Value| {
            Some(json!({"idTokenInfo": {"status": "Accepted"},
                        "tariff": {"tariffId": "t", "currency": "EUR", "minCost": min,
                                   "maxCost": {"inclTax": 9.0}}}))
        };
        assert_eq!(
            found(id, json!({}), tariff(json!({"exclTax": 1.0}))),
            none()
        );
        assert_eq!(
            found(
                id,
                json!({}),
                Some(json!({"idTokenInfo": {"status": "Accepted"}}))
            ),
            none()
        );
        assert_eq!(found(id, json!({}), tariff(json!({}))), ["/tariff/minCost"]);
        assert!(!rule(id).applies_to(OcppVersion::V201, "Authorize"));

        let id = "TransactionEventRequest.costDetails.totalCost.PriceType";
        let event = |total: Value| {
            json!({"eventType": "Ended",
                   "costDetails": {"totalCost": {"currency": "EUR", "typeOfCost": "NormalCost",
                                                 "energy": {"inclTax": 2.0}, "total": total}}})
        };
        assert_eq!(
            found(id, event(json!({"inclTax": 2.0, "exclTax": 1.6})), None),
            none()
        );
        assert_eq!(found(id, json!({"eventType": "Updated"}), None), none());
        assert_eq!(
            found(id, event(json!({"customData": {"vendorId": "v"}})), None),
            ["/costDetails/totalCost/total"]
        );
    }

    #[test]
    fn get_variables_attribute_value() {
        let id = "GetVariablesResponse.getVariableResult.attributeValue";
        let result = |status: &str, value: Option<&str>| {
            let mut r = json!({"attributeStatus": status, "component": {"name": "C"}, "variable": {"name": "V"}});
            if let Some(value) = value {
                r["attributeValue"] = json!(value);
            }
            r
        };
        let good = json!({"getVariableResult": [result("Accepted", Some("300")), result("UnknownComponent", None)]});
        assert_eq!(found(id, json!({}), Some(good)), none());
        let bad =
            json!({"getVariableResult": [result("Accepted", Some("1")), result("Accepted", None)]});
        assert_eq!(
            found(id, json!({}), Some(bad)),
            ["/getVariableResult/1/attributeValue"]
        );
    }

    #[test]
    fn request_start_transaction() {
        let evse = "RequestStartTransactionRequest.evseId";
        let start = |evse: i64| json!({"evseId": evse, "remoteStartId": 1, "idToken": {"idToken": "T", "type": "Central"}});
        assert_eq!(found(evse, start(1), None), none());
        assert_eq!(found(evse, json!({"remoteStartId": 1}), None), none());
        assert_eq!(found(evse, start(0), None), ["/evseId"]);
        assert!(rule(evse).applies_to(OcppVersion::V201, "RequestStartTransaction"));
        assert!(!rule(evse).applies_to(OcppVersion::V21, "RequestStartTransaction"));

        let purpose = "RequestStartTransactionRequest.chargingProfile.chargingProfilePurpose";
        let transaction = "RequestStartTransactionRequest.chargingProfile.transactionId";
        let mut tx = start(1);
        tx["chargingProfile"] = json!({"chargingProfilePurpose": "TxProfile"});
        let mut default = start(1);
        default["chargingProfile"] = json!({"chargingProfilePurpose": "TxDefaultProfile"});
        let mut with_id = start(1);
        with_id["chargingProfile"] =
            json!({"chargingProfilePurpose": "TxProfile", "transactionId": "abc"});
        assert_eq!(found(purpose, tx.clone(), None), none());
        assert_eq!(
            found(purpose, default, None),
            ["/chargingProfile/chargingProfilePurpose"]
        );
        assert_eq!(found(transaction, tx, None), none());
        assert_eq!(
            found(transaction, with_id, None),
            ["/chargingProfile/transactionId"]
        );
    }

    #[test]
    fn transaction_event_id_token() {
        let id = "TransactionEventRequest.idToken";
        let token = json!({"idToken": "T", "type": "ISO14443"});
        for trigger in ["Authorized", "StopAuthorized"] {
            let mut event = json!({"eventType": "Started", "triggerReason": trigger});
            assert_eq!(found(id, event.clone(), None), ["/idToken"]);
            event["idToken"] = token.clone();
            assert_eq!(found(id, event, None), none());
        }
        let periodic = json!({"eventType": "Updated", "triggerReason": "MeterValuePeriodic"});
        assert_eq!(found(id, periodic, None), none());
    }

    #[test]
    fn transaction_event_id_token_info() {
        let id = "TransactionEventResponse.idTokenInfo";
        let token = json!({"idToken": "T", "type": "ISO14443"});
        let started = json!({"eventType": "Started", "idToken": token});
        let accepted = json!({"idTokenInfo": {"status": "Accepted"}});
        assert_eq!(found(id, started.clone(), Some(accepted)), none());
        assert_eq!(found(id, started, Some(json!({}))), ["/idTokenInfo"]);
        assert_eq!(
            found(id, json!({"eventType": "Updated"}), Some(json!({}))),
            none()
        );
    }

    #[test]
    fn transaction_event_total_cost() {
        let id = "TransactionEventResponse.totalCost";
        let cost = Some(json!({"totalCost": 12.5}));
        assert_eq!(
            found(id, json!({"eventType": "Ended"}), cost.clone()),
            none()
        );
        assert_eq!(
            found(id, json!({"eventType": "Updated"}), Some(json!({}))),
            none()
        );
        assert_eq!(
            found(id, json!({"eventType": "Updated"}), cost),
            ["/totalCost"]
        );
        assert!(!rule(id).applies_to(OcppVersion::V21, "TransactionEvent"));
    }

    #[test]
    fn check_applies_the_rules_of_the_version_and_action() {
        let request = json!({"eventType": "Started", "triggerReason": "Authorized"});
        let response = json!({"totalCost": 1.0});
        let ids = |findings: Vec<Finding>| -> Vec<&str> {
            findings.iter().map(|f| f.condition.id).collect()
        };
        assert_eq!(
            ids(check(
                OcppVersion::V201,
                "TransactionEvent",
                &request,
                Some(&response)
            )),
            [
                "TransactionEventRequest.idToken",
                "TransactionEventResponse.totalCost"
            ]
        );
        assert_eq!(
            ids(check(
                OcppVersion::V21,
                "TransactionEvent",
                &request,
                Some(&response)
            )),
            ["TransactionEventRequest.idToken"]
        );
        assert_eq!(
            ids(check_request(
                OcppVersion::V201,
                "TransactionEvent",
                &request
            )),
            ["TransactionEventRequest.idToken"]
        );
        assert_eq!(
            ids(check_response(
                OcppVersion::V201,
                "TransactionEvent",
                &request,
                &response
            )),
            ["TransactionEventResponse.totalCost"]
        );
        assert!(
            check(
                OcppVersion::V16,
                "TransactionEvent",
                &request,
                Some(&response)
            )
            .is_empty()
        );
        assert!(for_action(OcppVersion::V16, "Heartbeat").next().is_none());
        let finding =
            &check_response(OcppVersion::V201, "TransactionEvent", &request, &response)[0];
        let text = alloc::string::ToString::to_string(finding);
        assert!(
            text.starts_with("response #/totalCost: present, though"),
            "{text}"
        );
    }
}
