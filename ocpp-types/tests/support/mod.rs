//! Schema-driven payload building and mutation for the differential test.
//!
//! Everything here reads the official JSON schema files themselves, not the generated Rust
//! types, so it is independent of the code under test: [`full`] builds a payload with every
//! optional property present, and [`mutations`] walks a payload together with its schema and
//! produces, for each location, the systematic mutations the schema's rules call for.

use ocpp_types::ErrorKind;
use serde_json::{Map, Value, json};

/// What the mutator expects of a mutated payload. The independent validator, not this, is the
/// judge of validity; the expectation only tells which [`ErrorKind`] (and pointer) our decoder
/// should report when it rejects the payload, and flags mutations that did not do what they
/// were meant to (a weak mutation set would make the comparison vacuous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Meant to stay valid.
    Valid,
    /// Meant to break the schema, with this kind of fault.
    Invalid(ErrorKind),
    /// An edge case with no expectation about validity; if rejected, with this kind of fault.
    Either(ErrorKind),
}

impl Expect {
    /// The kind our decoder should report if the payload is rejected.
    pub fn kind(self) -> Option<ErrorKind> {
        match self {
            Expect::Valid => None,
            Expect::Invalid(kind) | Expect::Either(kind) => Some(kind),
        }
    }

    /// Whether the mutation is meant to keep the payload valid (`None`: no expectation).
    pub fn meant_valid(self) -> Option<bool> {
        match self {
            Expect::Valid => Some(true),
            Expect::Invalid(_) => Some(false),
            Expect::Either(_) => None,
        }
    }
}

/// One mutated payload.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// JSON pointer to the location the rejection should name: the mutated value, the missing
    /// property, or the added property.
    pub pointer: String,
    /// What was done, for people.
    pub what: String,
    /// The mutated payload.
    pub payload: Value,
    /// What the mutator expects.
    pub expect: Expect,
    /// For a property added to an open object: its pointer and value, which must survive a
    /// decode-encode round trip.
    pub kept: Option<(String, Value)>,
}

/// Follows `$ref`s (`#/definitions/...`, within the same file) to the schema they name.
pub fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("non-local $ref {reference}"));
                schema = root
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("unresolvable $ref {reference}"));
            }
            None => return schema,
        }
    }
    panic!("$ref chain too long")
}

fn type_of(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

fn uint(schema: &Value, key: &str) -> Option<usize> {
    schema.get(key).and_then(Value::as_f64).map(|n| n as usize)
}

fn num(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

/// Appends one reference token to a JSON pointer (RFC 6901).
pub fn child(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// A valid payload for `schema` with every optional property present (nested up to a depth),
/// each array with its minimum number of elements (at least one), and strings that use
/// multi-byte characters.
pub fn full(root: &Value) -> Value {
    build(root, root, 0, true)
}

/// Builds a valid value for `schema`: with every optional property (`all`, up to a depth) or
/// with the required ones only.
fn build(root: &Value, schema: &Value, depth: usize, all: bool) -> Value {
    let schema = resolve(root, schema);
    match type_of(schema) {
        Some("object") => {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut map = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    if (all && depth < 10) || required.contains(&name.as_str()) {
                        map.insert(name.clone(), build(root, property, depth + 1, all));
                    }
                }
            }
            Value::Object(map)
        }
        Some("array") => {
            let min = uint(schema, "minItems").unwrap_or(0).max(1);
            let len = uint(schema, "maxItems").map_or(min, |max| min.min(max));
            let item = schema.get("items").unwrap_or(&Value::Null);
            Value::Array(
                (0..len)
                    .map(|_| build(root, item, depth + 1, all))
                    .collect(),
            )
        }
        Some("string") => {
            if let Some(first) = schema
                .get("enum")
                .and_then(Value::as_array)
                .and_then(|e| e.first())
            {
                return first.clone();
            }
            match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => return json!("2024-02-29T12:34:56.789+05:30"),
                Some("uri") => return json!("https://example.com/firmware/v1.bin?x=%20"),
                _ => {}
            }
            let text: String = "Aé€😀 vendor text".chars().collect();
            let max = uint(schema, "maxLength").unwrap_or(usize::MAX);
            Value::String(text.chars().take(max).collect())
        }
        Some("integer") => {
            let v = clamp(7.0, num(schema, "minimum"), num(schema, "maximum"));
            json!(v as i64)
        }
        Some("number") => {
            let step = num(schema, "multipleOf");
            let v = clamp(
                if step.is_some() { 8.1 } else { 7.25 },
                num(schema, "minimum"),
                num(schema, "maximum"),
            );
            json!(v)
        }
        Some("boolean") => json!(true),
        // Untyped (2.x DataTransfer `data`): any JSON value.
        None => json!({"any": [1, "two", null, {"three": 3.5}]}),
        Some(other) => panic!("unhandled schema type {other}"),
    }
}

fn clamp(v: f64, min: Option<f64>, max: Option<f64>) -> f64 {
    let v = min.map_or(v, |min| v.max(min));
    max.map_or(v, |max| v.min(max))
}

/// How a value is reached from its parent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Root,
    Required,
    Optional,
    Item,
}

/// Date-times that are not RFC 3339 `date-time`s.
const BAD_DATE_TIMES: &[&str] = &[
    "2024-02-30T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00.123",
    "2024-01-01 10:00:00Z",
    "2024-01-01_10:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-00-10T00:00:00Z",
    "2024-01-00T00:00:00Z",
    "2024-01-32T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T23:60:00Z",
    "2024-01-01T23:59:61Z",
    "2024-01-01T12:00:60Z",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00-24:00",
    "2024-01-01T00:00:00+01:60",
    "2024-01-01T00:00:00+0100",
    "2024-01-01T00:00:00+01",
    "2024-01-01T00:00:00+01:00:00",
    "2024-01-01T00:00:00.Z",
    "2024-01-01T00:00:00,5Z",
    "2024-01-01T00:00Z",
    "2024-01-01T0:00:00Z",
    "2024-01-01",
    "00:00:00Z",
    "24-01-01T00:00:00Z",
    "2024-1-01T00:00:00Z",
    "+2024-01-01T00:00:00Z",
    "12024-01-01T00:00:00Z",
    "",
    "2024-01-01T00:00:00Z ",
    " 2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00ZZ",
    "2024-01-01T00:00:00UTC",
    "2024-01-01T00:00:00 Z",
    "２０２４-01-01T00:00:00Z",
    "2024-01-01T00:00:00Ｚ",
    "2024/01/01T00:00:00Z",
    "20240101T000000Z",
    "not a date",
];

/// Valid `date-time`s at the edges of RFC 3339.
const GOOD_DATE_TIMES: &[&str] = &[
    "2024-02-29T00:00:00Z",
    "2000-02-29T23:59:59.999999999Z",
    "2024-01-01t10:00:00z",
    "2024-01-01T10:00:00z",
    "2024-01-01T00:00:00-00:00",
    "2024-01-01T00:00:00+00:00",
    "2024-01-01T00:00:00+23:59",
    "2024-01-01T00:00:00-23:59",
    "2024-01-01T00:00:00.1234567891234Z",
    "2024-01-01T00:00:00.0Z",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.5-01:30",
];

/// Edge cases whose validity this file takes no stance on (the validator decides).
const EDGE_DATE_TIMES: &[&str] = &[
    "2016-12-31T23:59:60Z",
    "2024-06-30T23:59:60Z",
    "2017-01-01T00:59:60+01:00",
    "2016-12-31T22:59:60-01:00",
    "0000-01-01T00:00:00Z",
    "0000-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00",
    "0000-02-29T00:00:00Z",
];

/// Strings that are not absolute URIs (RFC 3986 `URI`).
const BAD_URIS: &[&str] = &[
    "",
    "example.com/firmware.bin",
    "/relative/path",
    "//host/path",
    "http://exa mple.com/",
    "http://x/%zz",
    "http://x/%4",
    "1http://x",
    ":no-scheme",
    "http://[::1/",
    "http://[::g]/",
    "ftp://host/päth",
    "http://host/a b",
    "http://host/<x>",
    "http://host:80a/",
];

/// Absolute URIs at the edges of RFC 3986.
const GOOD_URIS: &[&str] = &[
    "ftp://user:pass@example.com/firmware/v1.bin",
    "https://example.com:8443/a/b?c=d#e",
    "http://[::1]:80/",
    "http://[v1.fe]/",
    "urn:isbn:0451450523",
    "mailto:a@b.c",
    "file:///tmp/x%20y",
    "s3://bucket/key",
    "http://host:/x",
    "a:",
    "http://host/?q=a/b?c#f/g?",
    "sftp://10.0.0.1/diag",
];

/// Numbers to try against `multipleOf: 0.1`, the only `multipleOf` in the schemas, and whether
/// the decimal number they are written as is a multiple of 0.1.
const TENTHS: &[(f64, bool)] = &[
    (8.1, true),
    (0.3, true),
    (0.7, true),
    (1.1, true),
    (123456.7, true),
    (100.0, true),
    (0.0, true),
    (-0.1, true),
    (-8.1, true),
    (1000000000000000.1, true),
    (1e20, true),
    (8.15, false),
    (0.30000000000000004, false),
    (0.05, false),
    (1e-9, false),
    (2.675, false),
    (4.35, false),
    (8.100000000000001, false),
    (33.333333333333336, false),
];

/// Every mutation of `payload` (valid against `root`) that the schema's rules call for.
///
/// `thorough` applies every case of every list (date-times, URIs, numbers against
/// `multipleOf`, arrays resized to a large `maxItems`); otherwise a few of each, which still
/// checks the verdict and the pointer at every location (the rules themselves do not depend on
/// where a value sits, so one thorough payload per message covers them).
pub fn mutations(root: &Value, payload: &Value, thorough: bool) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut m = Mutator {
        root,
        base: payload,
        thorough,
        out: &mut out,
    };
    m.walk(root, payload, "", Place::Root);
    out
}

struct Mutator<'a, 'o> {
    root: &'a Value,
    base: &'a Value,
    thorough: bool,
    out: &'o mut Vec<Mutation>,
}

impl Mutator<'_, '_> {
    /// All of `cases`, or (not thorough) the first `few`.
    fn pick<'c, T>(&self, cases: &'c [T], few: usize) -> &'c [T] {
        if self.thorough {
            cases
        } else {
            &cases[..few.min(cases.len())]
        }
    }

    /// Records the payload with the value at `at` replaced.
    fn replace(&mut self, at: &str, value: Value, what: String, expect: Expect) {
        let mut payload = self.base.clone();
        *payload.pointer_mut(at).expect("mutated location exists") = value;
        self.out.push(Mutation {
            pointer: at.to_owned(),
            what,
            payload,
            expect,
            kept: None,
        });
    }

    /// Records the payload after `edit` of the value at `at`; the rejection should name `pointer`.
    fn edit(
        &mut self,
        at: &str,
        pointer: String,
        what: String,
        expect: Expect,
        edit: impl FnOnce(&mut Value),
    ) {
        let mut payload = self.base.clone();
        edit(payload.pointer_mut(at).expect("mutated location exists"));
        self.out.push(Mutation {
            pointer,
            what,
            payload,
            expect,
            kept: None,
        });
    }

    fn walk(&mut self, schema: &Value, value: &Value, at: &str, place: Place) {
        let root = self.root;
        let schema = resolve(root, schema);
        let ty = type_of(schema);

        // `null` is a value of the wrong type, not an absent property.
        let null_what = match place {
            Place::Root => "null payload",
            Place::Required => "null for a required property",
            Place::Optional => "null for an optional property",
            Place::Item => "null array element",
        };
        let expect = if ty.is_none() {
            Expect::Valid
        } else {
            Expect::Invalid(ErrorKind::Type)
        };
        self.replace(at, Value::Null, null_what.into(), expect);

        let Some(ty) = ty else {
            // No `type`: any JSON value is valid.
            for any in [
                json!(true),
                json!(-3),
                json!(1.5),
                json!(""),
                json!("text é 😀"),
                json!([]),
                json!([null, 1, "x", {"y": []}]),
                json!({}),
                json!({"nested": {"deep": [1.0e300, false]}}),
            ] {
                self.replace(
                    at,
                    any.clone(),
                    format!("untyped value {any}"),
                    Expect::Valid,
                );
            }
            return;
        };

        self.wrong_types(ty, value, at);
        match ty {
            "object" => self.object(schema, value, at),
            "array" => self.array(schema, value, at),
            "string" => self.string(schema, value, at),
            "integer" | "number" => self.number(schema, ty, at),
            _ => {}
        }
    }

    fn wrong_types(&mut self, ty: &str, value: &Value, at: &str) {
        let candidates = [
            ("string", json!("7")),
            ("integer", json!(7)),
            ("number", json!(1.5)),
            ("boolean", json!(false)),
            ("object", json!({"a": 1})),
            ("array", json!([value.clone()])),
        ];
        let wrong: Vec<_> = candidates
            .into_iter()
            .filter(|(kind, _)| !(*kind == ty || (ty == "number" && *kind == "integer")))
            .collect();
        // Not thorough: two of them, a different two at different locations.
        let (skip, take) = if self.thorough {
            (0, wrong.len())
        } else {
            (at.len() % wrong.len(), 2)
        };
        for (kind, candidate) in wrong.into_iter().cycle().skip(skip).take(take) {
            self.replace(
                at,
                candidate.clone(),
                format!("wrong type: {kind} {candidate} for {ty}"),
                Expect::Invalid(ErrorKind::Type),
            );
        }
        if ty == "integer" {
            if let Some(v) = value.as_i64() {
                // Draft 6 counts a number with a zero fractional part as an integer (`1.0`);
                // draft 4 (OCPP 1.6) does not. The validator knows which draft it runs.
                self.replace(
                    at,
                    json!(v as f64),
                    format!("integer {v} written as {:?}", v as f64),
                    Expect::Either(ErrorKind::Type),
                );
                // Beyond 2^52 every f64 is whole.
                if v.unsigned_abs() < 1 << 52 {
                    self.replace(
                        at,
                        json!(v as f64 + 0.5),
                        format!("fraction {} for integer", v as f64 + 0.5),
                        Expect::Invalid(ErrorKind::Type),
                    );
                }
            }
        }
    }

    fn object(&mut self, schema: &Value, value: &Value, at: &str) {
        let Some(object) = value.as_object() else {
            return;
        };
        let properties = schema.get("properties").and_then(Value::as_object);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();

        for name in &required {
            if object.contains_key(*name) {
                let name = (*name).to_owned();
                self.edit(
                    at,
                    child(at, &name),
                    format!("missing required property {name:?}"),
                    Expect::Invalid(ErrorKind::Missing),
                    |v| {
                        v.as_object_mut().unwrap().remove(&name);
                    },
                );
            }
        }

        let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
        let mut extras = vec![("unexpectedProperty".to_owned(), json!(1))];
        // The same name in another case is another property.
        if let Some(name) = object.keys().next() {
            let mut chars = name.chars();
            let first = chars.next().unwrap_or('x');
            let flipped = if first.is_uppercase() {
                first.to_lowercase().collect::<String>()
            } else {
                first.to_uppercase().collect::<String>()
            };
            let variant = format!("{flipped}{}", chars.as_str());
            if !properties.is_some_and(|p| p.contains_key(&variant)) {
                extras.push((variant, json!("x")));
            }
        }
        if !self.thorough {
            extras.truncate(1);
        }
        if !closed {
            extras.push((
                "vendorExtension".into(),
                json!({"nested": [1, "x", null, 2.5]}),
            ));
        }
        for (name, extra) in extras {
            let pointer = child(at, &name);
            let expect = if closed {
                Expect::Invalid(ErrorKind::UnexpectedField)
            } else {
                Expect::Valid
            };
            let kept = (!closed).then(|| (pointer.clone(), extra.clone()));
            let what = if closed {
                format!("unknown property {name:?}")
            } else {
                format!("extra property {name:?} in an open object")
            };
            let n = name.clone();
            self.edit(at, pointer, what, expect, |v| {
                v.as_object_mut().unwrap().insert(n, extra);
            });
            self.out.last_mut().unwrap().kept = kept;
        }

        if let Some(properties) = properties {
            for (name, sub) in object {
                let Some(property) = properties.get(name) else {
                    continue;
                };
                let place = if required.contains(&name.as_str()) {
                    Place::Required
                } else {
                    Place::Optional
                };
                self.walk(property, sub, &child(at, name), place);
            }
        }
    }

    fn array(&mut self, schema: &Value, value: &Value, at: &str) {
        let Some(items) = value.as_array() else {
            return;
        };
        let min = uint(schema, "minItems").unwrap_or(0);
        let max = uint(schema, "maxItems");
        let len = items.len();

        let item = schema.get("items").unwrap_or(&Value::Null);
        // Large arrays are filled up with the smallest valid element, to keep the payload small.
        let small = build(self.root, item, 0, false);
        let resize = |m: &mut Self, n: usize, expect: Expect, what: String| {
            m.edit(at, at.to_owned(), what, expect, |v| {
                let items = v.as_array_mut().unwrap();
                items.truncate(n);
                while items.len() < n {
                    let next = if n > 64 {
                        small.clone()
                    } else {
                        items[items.len() % len].clone()
                    };
                    items.push(next);
                }
            });
        };
        if len > 0 {
            if min > 0 {
                resize(
                    self,
                    min - 1,
                    Expect::Invalid(ErrorKind::Items),
                    format!("{} items, minItems {min}", min - 1),
                );
            }
            if len != min {
                resize(
                    self,
                    min,
                    Expect::Valid,
                    format!("{min} items, exactly minItems"),
                );
            }
            match max {
                Some(max) if max > 64 && !self.thorough => {}
                Some(max) => {
                    if len != max {
                        resize(
                            self,
                            max,
                            Expect::Valid,
                            format!("{max} items, exactly maxItems"),
                        );
                    }
                    resize(
                        self,
                        max + 1,
                        Expect::Invalid(ErrorKind::Items),
                        format!("{} items, maxItems {max}", max + 1),
                    );
                }
                None => resize(
                    self,
                    len + 3,
                    Expect::Valid,
                    format!("{} items, no maxItems", len + 3),
                ),
            }
        } else if min > 0 {
            // Only reachable for a payload that is already invalid; kept for completeness.
            self.replace(
                at,
                json!([]),
                format!("0 items, minItems {min}"),
                Expect::Invalid(ErrorKind::Items),
            );
        }

        // Every element has the same schema: the first and the last stand for all of them
        // (the last checks that pointers carry the right index).
        for (i, element) in items.iter().enumerate() {
            if i == 0 || i + 1 == len {
                self.walk(item, element, &child(at, &i.to_string()), Place::Item);
            }
        }
    }

    fn string(&mut self, schema: &Value, value: &Value, at: &str) {
        let current = value.as_str().unwrap_or_default();
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let listed = |s: &str| values.iter().any(|v| v.as_str() == Some(s));
            let mut wrong = vec![
                "NotAnEnumValue".to_owned(),
                String::new(),
                format!("{current} "),
                format!("{current}\u{0}"),
            ];
            for changed in [current.to_lowercase(), current.to_uppercase()] {
                if !listed(&changed) {
                    wrong.push(changed);
                }
            }
            let few = if self.thorough { wrong.len() } else { 2 };
            for w in wrong.into_iter().take(few) {
                if !listed(&w) {
                    self.replace(
                        at,
                        json!(w),
                        format!("value {w:?} not in the enum"),
                        Expect::Invalid(ErrorKind::Enum),
                    );
                }
            }
            return;
        }
        match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => {
                for s in self.pick(BAD_DATE_TIMES, 4) {
                    self.replace(
                        at,
                        json!(s),
                        format!("bad date-time {s:?}"),
                        Expect::Invalid(ErrorKind::Format),
                    );
                }
                for s in self.pick(GOOD_DATE_TIMES, 2) {
                    self.replace(at, json!(s), format!("date-time {s:?}"), Expect::Valid);
                }
                for s in self.pick(EDGE_DATE_TIMES, 1) {
                    self.replace(
                        at,
                        json!(s),
                        format!("edge date-time {s:?}"),
                        Expect::Either(ErrorKind::Format),
                    );
                }
                return;
            }
            Some("uri") => {
                for s in self.pick(BAD_URIS, 3) {
                    self.replace(
                        at,
                        json!(s),
                        format!("bad uri {s:?}"),
                        Expect::Invalid(ErrorKind::Format),
                    );
                }
                for s in self.pick(GOOD_URIS, 2) {
                    self.replace(at, json!(s), format!("uri {s:?}"), Expect::Valid);
                }
                return;
            }
            Some(other) => panic!("unhandled format {other}"),
            None => {}
        }
        match uint(schema, "maxLength") {
            Some(max) => {
                let repeat = |c: &str, n: usize| json!(c.repeat(n));
                let cases = [
                    ("😀", max + 1, Expect::Invalid(ErrorKind::Length)),
                    ("é", max, Expect::Valid),
                    ("😀", max, Expect::Valid),
                    ("a", max + 1, Expect::Invalid(ErrorKind::Length)),
                    ("é", max + 1, Expect::Invalid(ErrorKind::Length)),
                    ("a", max, Expect::Valid),
                    ("€", max, Expect::Valid),
                ];
                let few = if self.thorough { cases.len() } else { 4 };
                for (c, n, expect) in cases.into_iter().take(few) {
                    self.replace(
                        at,
                        repeat(c, n),
                        format!("{n} × {c:?} (maxLength {max})"),
                        expect,
                    );
                }
                // A combining sequence: two code points, one glyph.
                if max >= 1 {
                    let s = "e\u{301}".repeat(max / 2) + &"x".repeat(max % 2 + 1);
                    self.replace(
                        at,
                        json!(s),
                        format!(
                            "{} code points with combining marks (maxLength {max})",
                            max + 1
                        ),
                        Expect::Invalid(ErrorKind::Length),
                    );
                }
            }
            None => {
                self.replace(
                    at,
                    json!(""),
                    "empty unbounded string".into(),
                    Expect::Valid,
                );
                self.replace(
                    at,
                    json!("😀".repeat(3000)),
                    "3000 × 😀, unbounded string".into(),
                    Expect::Valid,
                );
            }
        }
    }

    fn number(&mut self, schema: &Value, ty: &str, at: &str) {
        let integer = ty == "integer";
        let min = num(schema, "minimum");
        let max = num(schema, "maximum");
        let as_json = |v: f64| if integer { json!(v as i64) } else { json!(v) };
        let step = if integer { 1.0 } else { 0.5 };
        if let Some(min) = min {
            self.replace(at, as_json(min), format!("minimum {min}"), Expect::Valid);
            self.replace(
                at,
                as_json(min - step),
                format!("{} below minimum {min}", min - step),
                Expect::Invalid(ErrorKind::Range),
            );
            if !integer {
                self.replace(
                    at,
                    json!(min - 1e-9),
                    format!("{} just below minimum {min}", min - 1e-9),
                    Expect::Invalid(ErrorKind::Range),
                );
            }
        }
        if let Some(max) = max {
            self.replace(at, as_json(max), format!("maximum {max}"), Expect::Valid);
            self.replace(
                at,
                as_json(max + step),
                format!("{} above maximum {max}", max + step),
                Expect::Invalid(ErrorKind::Range),
            );
            if !integer {
                self.replace(
                    at,
                    json!(max + 1e-9),
                    format!("{} just above maximum {max}", max + 1e-9),
                    Expect::Invalid(ErrorKind::Range),
                );
            }
        }
        if integer {
            // The documented limit is ±2^63, so the extremes of i64 must be accepted.
            for &v in self.pick(&[i64::MAX, i64::MIN, 0, -1], 2) {
                let expect =
                    if min.is_some_and(|m| (v as f64) < m) || max.is_some_and(|m| (v as f64) > m) {
                        Expect::Invalid(ErrorKind::Range)
                    } else {
                        Expect::Valid
                    };
                self.replace(at, json!(v), format!("integer {v}"), expect);
            }
        } else if let Some(multiple) = num(schema, "multipleOf") {
            assert_eq!(multiple, 0.1, "the schemas only use multipleOf 0.1");
            for &(v, multiple) in self.pick(TENTHS, TENTHS.len()) {
                if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                    continue;
                }
                let expect = if multiple {
                    Expect::Valid
                } else {
                    Expect::Invalid(ErrorKind::Range)
                };
                self.replace(
                    at,
                    json!(v),
                    format!("{v:?} against multipleOf 0.1"),
                    expect,
                );
            }
        } else {
            for &v in self.pick(&[0.25, -1.0e-300, 1.0e300, -0.0, 123_456_789.123_456_79], 3) {
                let expect = if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                    Expect::Invalid(ErrorKind::Range)
                } else {
                    Expect::Valid
                };
                self.replace(at, json!(v), format!("number {v:?}"), expect);
            }
        }
    }
}
