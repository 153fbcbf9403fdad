//! The mutation engine: from a schema-valid payload and its schema, every systematically
//! broken variant of it, each with the CALLERROR codes the specification's definitions give
//! for that fault (OCPP-J 1.6 §4.2.3 Table 7, 2.x §4.3).
//!
//! Faults, at every property present in the payload (the first item of each array stands for
//! all): a required property missing, a property the schema does not define, `null`, the
//! wrong JSON type, a string one character over its `maxLength` (counted in characters), a
//! value outside its enumeration or range, a malformed date-time or URI, too few or too many
//! array items; and the payload not an object at all.

use ocpp_rpc::ErrorCode;
use ocpp_types::{OcppVersion, Schema};
use serde_json::{Value, json};

/// One broken variant of a payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Mutation {
    /// What was broken where: `missing:/idToken/type`, `too-long:/reason`.
    pub name: String,
    /// The broken payload.
    pub payload: Value,
    /// The codes the specification's definitions support for the fault (the first is the
    /// closest reading).
    pub codes: Vec<ErrorCode>,
    /// Whether the fault is one every JSON Schema validator must catch; a `format`
    /// (date-time, URI) is an annotation unless the validator asserts formats, so accepting
    /// one is a weaker finding.
    pub strict: bool,
}

/// A property name no OCPP schema defines.
pub const UNKNOWN_PROPERTY: &str = "ocppRsProbeUnknown";

/// Every mutation of `payload` (valid against `schema`), in a stable order.
pub fn mutations(version: OcppVersion, schema: &'static Schema, payload: &Value) -> Vec<Mutation> {
    let mut out = Vec::new();
    let codes = Codes::of(version);
    out.push(Mutation {
        name: "not-an-object:".to_owned(),
        payload: json!([]),
        codes: vec![ErrorCode::TypeConstraintViolation, codes.structure],
        strict: true,
    });
    walk(schema, payload, &mut Vec::new(), payload, &codes, &mut out);
    out
}

/// The codes that differ between 1.6's definitions and 2.x's.
struct Codes {
    /// A property the PDU does not have: 1.6 FormationViolation ("not conform the PDU
    /// structure"), 2.x ProtocolError (which took over that wording) or FormatViolation.
    unknown: Vec<ErrorCode>,
    /// A required property missing: 1.6 ProtocolError ("payload incomplete") or
    /// OccurenceConstraintViolation; 2.x OccurrenceConstraintViolation (a required property
    /// occurs once) or ProtocolError ("not conform the PDU structure").
    missing: Vec<ErrorCode>,
    /// The PDU's structure.
    structure: ErrorCode,
}

impl Codes {
    fn of(version: OcppVersion) -> Codes {
        match version {
            OcppVersion::V16 => Codes {
                unknown: vec![ErrorCode::FormatViolation],
                missing: vec![
                    ErrorCode::OccurrenceConstraintViolation,
                    ErrorCode::ProtocolError,
                ],
                structure: ErrorCode::FormatViolation,
            },
            _ => Codes {
                unknown: vec![ErrorCode::ProtocolError, ErrorCode::FormatViolation],
                missing: vec![
                    ErrorCode::OccurrenceConstraintViolation,
                    ErrorCode::ProtocolError,
                ],
                structure: ErrorCode::ProtocolError,
            },
        }
    }
}

/// A JSON pointer (RFC 6901) from its tokens.
fn pointer(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// `root` with the value at `tokens` replaced by `value` (or removed, when `None`).
fn with(root: &Value, tokens: &[String], value: Option<Value>) -> Value {
    let mut root = root.clone();
    let Some((last, parent)) = tokens.split_last() else {
        return value.unwrap_or(root);
    };
    let mut at = &mut root;
    for token in parent {
        at = match at {
            Value::Object(map) => match map.get_mut(token) {
                Some(next) => next,
                None => return root,
            },
            Value::Array(items) => match token.parse::<usize>().ok().and_then(|i| items.get_mut(i))
            {
                Some(next) => next,
                None => return root,
            },
            _ => return root,
        };
    }
    match (at, value) {
        (Value::Object(map), Some(value)) => {
            map.insert(last.clone(), value);
        }
        (Value::Object(map), None) => {
            map.remove(last);
        }
        (Value::Array(items), value) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|&i| i < items.len()) {
                match value {
                    Some(value) => items[i] = value,
                    None => {
                        items.remove(i);
                    }
                }
            }
        }
        _ => {}
    }
    root
}

fn push(
    out: &mut Vec<Mutation>,
    kind: &str,
    tokens: &[String],
    payload: Value,
    codes: Vec<ErrorCode>,
    strict: bool,
) {
    out.push(Mutation {
        name: format!("{kind}:{}", pointer(tokens)),
        payload,
        codes,
        strict,
    });
}

/// A JSON value of another type than `schema` allows.
fn wrong_type(schema: &Schema) -> Value {
    match schema {
        Schema::String { .. } | Schema::DateTime | Schema::Enum { .. } => json!(12),
        Schema::Integer { .. } | Schema::Number { .. } => json!("12"),
        Schema::Bool => json!("true"),
        Schema::Array { .. } => json!({}),
        Schema::Object(_) => json!([]),
        Schema::Any => Value::Null,
    }
}

fn walk(
    schema: &'static Schema,
    value: &Value,
    tokens: &mut Vec<String>,
    root: &Value,
    codes: &Codes,
    out: &mut Vec<Mutation>,
) {
    let property = ErrorCode::PropertyConstraintViolation;
    match (schema, value) {
        (Schema::Object(object), Value::Object(map)) => {
            for (i, (name, child_schema)) in object.names().iter().zip(object.schemas()).enumerate()
            {
                let required = object.required() >> i & 1 == 1;
                tokens.push((*name).to_owned());
                if let Some(child) = map.get(*name) {
                    if required {
                        push(
                            out,
                            "missing",
                            tokens,
                            with(root, tokens, None),
                            codes.missing.clone(),
                            true,
                        );
                    }
                    // A property without a type (`data` of DataTransfer) takes any value.
                    if !matches!(child_schema, Schema::Any) {
                        push(
                            out,
                            "null",
                            tokens,
                            with(root, tokens, Some(Value::Null)),
                            vec![ErrorCode::TypeConstraintViolation],
                            true,
                        );
                        push(
                            out,
                            "wrong-type",
                            tokens,
                            with(root, tokens, Some(wrong_type(child_schema))),
                            vec![ErrorCode::TypeConstraintViolation],
                            true,
                        );
                    }
                    walk(child_schema, child, tokens, root, codes, out);
                }
                tokens.pop();
            }
            if !object.is_open() {
                let mut extended = map.clone();
                extended.insert(UNKNOWN_PROPERTY.to_owned(), json!(1));
                tokens.push(UNKNOWN_PROPERTY.to_owned());
                push(
                    out,
                    "unknown-property",
                    tokens,
                    with(
                        root,
                        &tokens[..tokens.len() - 1],
                        Some(Value::Object(extended)),
                    ),
                    codes.unknown.clone(),
                    true,
                );
                tokens.pop();
            }
        }
        (
            Schema::Array {
                items,
                min_items,
                max_items,
            },
            Value::Array(list),
        ) => {
            if *min_items > 0 {
                push(
                    out,
                    "too-few-items",
                    tokens,
                    with(root, tokens, Some(json!([]))),
                    vec![ErrorCode::OccurrenceConstraintViolation],
                    true,
                );
            }
            if let (Some(max), Some(first)) = (max_items, list.first()) {
                let many = vec![first.clone(); max + 1];
                push(
                    out,
                    "too-many-items",
                    tokens,
                    with(root, tokens, Some(Value::Array(many))),
                    vec![ErrorCode::OccurrenceConstraintViolation],
                    true,
                );
            }
            if let Some(first) = list.first() {
                tokens.push("0".to_owned());
                walk(items, first, tokens, root, codes, out);
                tokens.pop();
            }
        }
        (Schema::String { max_length, uri }, Value::String(_)) => {
            if let Some(max) = max_length {
                let long = "x".repeat(max + 1);
                push(
                    out,
                    "too-long",
                    tokens,
                    with(root, tokens, Some(Value::String(long))),
                    vec![property, ErrorCode::TypeConstraintViolation],
                    true,
                );
            }
            if *uri {
                push(
                    out,
                    "not-a-uri",
                    tokens,
                    with(root, tokens, Some(json!("not a uri"))),
                    vec![property],
                    false,
                );
            }
        }
        (Schema::DateTime, Value::String(_)) => {
            for (kind, text) in [
                ("bad-date-time", "2024-13-45T25:61:00Z"),
                ("not-a-date-time", "yesterday"),
            ] {
                push(
                    out,
                    kind,
                    tokens,
                    with(root, tokens, Some(json!(text))),
                    vec![property, ErrorCode::TypeConstraintViolation],
                    false,
                );
            }
        }
        (Schema::Enum { .. }, Value::String(_)) => push(
            out,
            "not-in-enum",
            tokens,
            with(root, tokens, Some(json!("OcppRsProbeNotAValue"))),
            vec![property],
            true,
        ),
        (
            Schema::Integer {
                minimum, maximum, ..
            }
            | Schema::Number {
                minimum, maximum, ..
            },
            Value::Number(_),
        ) => {
            if let Some(min) = minimum {
                push(
                    out,
                    "below-minimum",
                    tokens,
                    with(root, tokens, Some(json!(min - 1))),
                    vec![property],
                    true,
                );
            }
            if let Some(max) = maximum {
                push(
                    out,
                    "above-maximum",
                    tokens,
                    with(root, tokens, Some(json!(max + 1))),
                    vec![property],
                    true,
                );
            }
        }
        _ => {}
    }
}

/// A variant of `payload` that stays valid but puts a string of exactly its `maxLength` in
/// two-byte characters into the first property that has one: an implementation that counts
/// bytes refuses it. `None` when no string with a `maxLength` is present.
pub fn longest_in_characters(schema: &'static Schema, payload: &Value) -> Option<(String, Value)> {
    fn find(schema: &'static Schema, value: &Value, tokens: &mut Vec<String>) -> Option<usize> {
        match (schema, value) {
            (
                Schema::String {
                    max_length: Some(max),
                    uri: false,
                },
                Value::String(_),
            ) => Some(*max),
            (Schema::Object(object), Value::Object(map)) => {
                for (name, child_schema) in object.names().iter().zip(object.schemas()) {
                    if let Some(child) = map.get(*name) {
                        tokens.push((*name).to_owned());
                        if let Some(max) = find(child_schema, child, tokens) {
                            return Some(max);
                        }
                        tokens.pop();
                    }
                }
                None
            }
            (Schema::Array { items, .. }, Value::Array(list)) => {
                tokens.push("0".to_owned());
                let found = list.first().and_then(|first| find(items, first, tokens));
                if found.is_none() {
                    tokens.pop();
                }
                found
            }
            _ => None,
        }
    }
    let mut tokens = Vec::new();
    let max = find(schema, payload, &mut tokens)?;
    let text: String = "é".repeat(max);
    Some((
        pointer(&tokens),
        with(payload, &tokens, Some(Value::String(text))),
    ))
}

/// An object's keys, for tests.
#[cfg(test)]
fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .map(serde_json::Map::keys)
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocpp_types::v201;

    fn reset() -> Value {
        json!({"type": "OnIdle", "evseId": 1})
    }

    #[test]
    fn every_fault_of_a_small_payload_is_made_once_with_its_codes() {
        let schema = ocpp_types::AnyAction::V201(v201::Action::Reset).request_schema();
        let all = mutations(OcppVersion::V201, schema, &reset());
        let names: Vec<&str> = all.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "not-an-object:",
                "missing:/type",
                "null:/type",
                "wrong-type:/type",
                "not-in-enum:/type",
                "null:/evseId",
                "wrong-type:/evseId",
                "unknown-property:/ocppRsProbeUnknown",
            ]
        );
        let missing = &all[1];
        assert_eq!(keys(&missing.payload), ["evseId"]);
        assert_eq!(
            missing.codes,
            [
                ErrorCode::OccurrenceConstraintViolation,
                ErrorCode::ProtocolError
            ]
        );
        assert_eq!(
            all[4].payload,
            json!({"type": "OcppRsProbeNotAValue", "evseId": 1})
        );
        // Each mutation really breaks the schema: our own decoder refuses every one.
        for mutation in &all {
            let text = mutation.payload.to_string();
            assert!(
                ocpp_types::schema::decode(schema, &text).is_err(),
                "{}",
                mutation.name
            );
        }
    }

    #[test]
    fn strings_go_one_character_over_and_the_longest_valid_one_is_multibyte() {
        let schema = ocpp_types::AnyAction::V201(v201::Action::Authorize).request_schema();
        let payload = json!({"idToken": {"idToken": "AB12", "type": "ISO14443"}});
        let all = mutations(OcppVersion::V201, schema, &payload);
        let long = all.iter().find(|m| m.name == "too-long:/idToken/idToken");
        let long = long.map(|m| m.payload["idToken"]["idToken"].as_str().map(str::len));
        assert_eq!(long, Some(Some(37)));
        let (at, valid) = longest_in_characters(schema, &payload).unwrap_or_default();
        assert_eq!(at, "/idToken/idToken");
        assert_eq!(
            valid["idToken"]["idToken"]
                .as_str()
                .map(|s| s.chars().count()),
            Some(36)
        );
        assert!(ocpp_types::schema::decode(schema, &valid.to_string()).is_ok());
    }
}
