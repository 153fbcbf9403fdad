//! Authorization arbitration: which backend's word on an id token the station gets.
//!
//! Pure functions over response payloads, so the rules are tested without a network. The
//! messages that carry a decision are Authorize, 1.6's StartTransaction and StopTransaction
//! (`idTagInfo`) and 2.x's TransactionEvent (`idTokenInfo`).

use ocpp_types::OcppVersion;
use serde_json::{Map, Value, json};

use crate::config::Authorization;

/// The `vendorId` of the `customData` the router adds to a 2.x answer it arbitrated.
pub const VENDOR_ID: &str = "org.ocpp-rs.router";

/// The member of `action`'s response that carries an authorization decision, if it has one.
pub fn decision_field(version: OcppVersion, action: &str) -> Option<&'static str> {
    match (version, action) {
        (OcppVersion::V16, "Authorize" | "StartTransaction" | "StopTransaction") => {
            Some("idTagInfo")
        }
        (OcppVersion::V201 | OcppVersion::V21, "Authorize" | "TransactionEvent") => {
            Some("idTokenInfo")
        }
        _ => None,
    }
}

/// Whether `response` (of an action with a [`decision_field`] `field`) accepts the token:
/// `None` if it carries no decision (a TransactionEvent without `idTokenInfo`).
pub fn accepts(field: &str, response: &Value) -> Option<bool> {
    let status = response.get(field)?.get("status")?.as_str()?;
    Some(status == "Accepted")
}

/// The answer for the station under `policy`: `base` (the answer of the backend that
/// answers the station: the primary, or the one failed over to), its decision replaced by
/// the deciding one among `votes` (every backend that answered, by name, `base`'s included,
/// the primary first).
///
/// - [`Authorization::Primary`]: `base` as it is.
/// - [`Authorization::Any`]: the first vote that accepts decides; if none does, `base`'s
///   own decision (or the first vote's) stands.
/// - [`Authorization::All`]: the first vote that does not accept decides; if all accept,
///   `base` stands.
///
/// Votes without a decision do not count. On 2.x an arbitrated answer (`Any`, `All`) names
/// the deciding backend in a top-level `customData` (`vendorId` [`VENDOR_ID`], `decidedBy`)
/// unless the answer already has one; 1.6 has no place for it (the router logs it). Under
/// `Primary` the router does not call this: the primary's answer passes unchanged.
pub fn arbitrate(
    version: OcppVersion,
    field: &str,
    policy: Authorization,
    base: (&str, Value),
    votes: &[(String, Value)],
) -> (Value, String) {
    let (base_name, mut answer) = base;
    let decided = |accepting: Option<bool>| {
        votes.iter().find(|(_, vote)| match accepting {
            Some(accepting) => accepts(field, vote) == Some(accepting),
            None => accepts(field, vote).is_some(),
        })
    };
    let decider = match policy {
        Authorization::Primary => None,
        // None accepting: the base's own decision stands, or if it has none, the first vote's.
        Authorization::Any => decided(Some(true)).or_else(|| {
            accepts(field, &answer)
                .is_none()
                .then(|| decided(None))
                .flatten()
        }),
        Authorization::All => decided(Some(false)),
    };
    let mut by = base_name.to_owned();
    if let Some((name, vote)) = decider {
        if let (Some(info), Some(object)) = (vote.get(field), answer.as_object_mut()) {
            object.insert(field.to_owned(), info.clone());
            by.clone_from(name);
        }
    }
    if version != OcppVersion::V16 && accepts(field, &answer).is_some() {
        if let Some(object) = answer.as_object_mut() {
            object
                .entry("customData")
                .or_insert_with(|| json!({"vendorId": VENDOR_ID, "decidedBy": by}));
        }
    }
    (answer, by)
}

/// The decision the router gives itself when no backend answers (every one unreachable,
/// `primary_down = "local"`): `Accepted` or `Invalid`, as the member `field`.
pub fn local_decision(field: &str, accept: bool) -> Map<String, Value> {
    let status = if accept { "Accepted" } else { "Invalid" };
    let mut map = Map::new();
    map.insert(field.to_owned(), json!({ "status": status }));
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(name: &str, status: &str) -> (String, Value) {
        (name.to_owned(), json!({"idTokenInfo": {"status": status}}))
    }

    #[test]
    fn each_policy_picks_its_decider() {
        let votes = [vote("billing", "Invalid"), vote("energy", "Accepted")];
        let base = || ("billing", votes[0].1.clone());
        let field = "idTokenInfo";
        let v = OcppVersion::V201;
        let (answer, by) = arbitrate(v, field, Authorization::Primary, base(), &votes);
        assert_eq!(
            (accepts(field, &answer), by.as_str()),
            (Some(false), "billing")
        );
        let (answer, by) = arbitrate(v, field, Authorization::Any, base(), &votes);
        assert_eq!(
            (accepts(field, &answer), by.as_str()),
            (Some(true), "energy")
        );
        assert_eq!(answer["customData"]["decidedBy"], "energy");
        assert_eq!(answer["customData"]["vendorId"], VENDOR_ID);
        let (answer, by) = arbitrate(v, field, Authorization::All, base(), &votes);
        assert_eq!(
            (accepts(field, &answer), by.as_str()),
            (Some(false), "billing")
        );
        let all_yes = [vote("billing", "Accepted"), vote("energy", "Accepted")];
        let (answer, _) = arbitrate(
            v,
            field,
            Authorization::All,
            ("billing", all_yes[0].1.clone()),
            &all_yes,
        );
        assert_eq!(accepts(field, &answer), Some(true));
        let one_no = [vote("billing", "Accepted"), vote("energy", "Blocked")];
        let (answer, by) = arbitrate(
            v,
            field,
            Authorization::All,
            ("billing", one_no[0].1.clone()),
            &one_no,
        );
        assert_eq!(answer["idTokenInfo"]["status"], "Blocked");
        assert_eq!(by, "energy");
    }

    #[test]
    fn the_rest_of_the_answer_is_the_base_s_and_1_6_gets_no_custom_data() {
        let base = json!({"transactionId": 7, "idTagInfo": {"status": "Invalid"}});
        let votes = [
            ("billing".to_owned(), base.clone()),
            (
                "energy".to_owned(),
                json!({"transactionId": 900, "idTagInfo": {"status": "Accepted"}}),
            ),
        ];
        let (answer, by) = arbitrate(
            OcppVersion::V16,
            "idTagInfo",
            Authorization::Any,
            ("billing", base),
            &votes,
        );
        assert_eq!(
            answer,
            json!({"transactionId": 7, "idTagInfo": {"status": "Accepted"}})
        );
        assert_eq!(by, "energy");
    }

    #[test]
    fn under_any_a_base_without_a_decision_takes_the_first_vote_s() {
        let votes = [vote("energy", "Blocked")];
        let field = "idTokenInfo";
        let (answer, by) = arbitrate(
            OcppVersion::V201,
            field,
            Authorization::Any,
            ("billing", json!({})),
            &votes,
        );
        assert_eq!(
            (accepts(field, &answer), by.as_str()),
            (Some(false), "energy")
        );
    }

    #[test]
    fn decisions_are_found_where_each_version_keeps_them() {
        assert_eq!(
            decision_field(OcppVersion::V16, "StartTransaction"),
            Some("idTagInfo")
        );
        assert_eq!(
            decision_field(OcppVersion::V21, "TransactionEvent"),
            Some("idTokenInfo")
        );
        assert_eq!(decision_field(OcppVersion::V201, "Heartbeat"), None);
        assert_eq!(accepts("idTokenInfo", &json!({})), None);
        assert_eq!(
            local_decision("idTagInfo", false)["idTagInfo"]["status"],
            "Invalid"
        );
    }
}
