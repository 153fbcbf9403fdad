//! The schemas as data: every message and definition of a version as a [`Schema`] value
//! (`v201::schemas::ResetRequest`, and `SCHEMA` on each message), and [`decode`], one
//! interpreter that checks a payload against any of them and gives it back as a
//! [`serde_json::Value`].
//!
//! [`decode`] enforces exactly what the generated decoders enforce, with the same
//! [`DecodeError`] (kind, JSON pointer and message) for every refusal: it reads through the
//! same JSON reader and the same checks, only with the limits taken from the table instead of
//! from the Rust types. `tests/differential.rs` holds it to the generated decoder of every
//! message of every version.
//!
//! It is for code that needs a payload checked but not typed, and for firmware: a typed
//! decoder is one function per message type (and one more per field type), while the tables
//! are a few bytes per property read by one function, so a station that decodes 16 messages
//! through them links a few kilobytes of code instead of tens.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::DecodeError;
use crate::rt::{self, Check};

/// A JSON Schema as OCPP writes them: one of the types below, with the constraints each can
/// carry (the subset `ocpp-codegen` accepts; it refuses a schema that needs more).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schema {
    /// `"type": "string"`.
    String {
        /// `maxLength`, in characters.
        max_length: Option<usize>,
        /// `"format": "uri"`: an absolute URI (RFC 3986).
        uri: bool,
    },
    /// `"type": "string", "format": "date-time"` (RFC 3339).
    DateTime,
    /// `"type": "integer"`.
    Integer {
        /// `minimum`.
        minimum: Option<i64>,
        /// `maximum`.
        maximum: Option<i64>,
        /// JSON Schema draft 4 (OCPP 1.6): written without a fraction or exponent.
        draft4: bool,
    },
    /// `"type": "number"`.
    Number {
        /// `minimum`.
        minimum: Option<i64>,
        /// `maximum`.
        maximum: Option<i64>,
        /// `multipleOf`, as the fraction `(numerator, denominator)`.
        multiple_of: Option<(u64, u64)>,
    },
    /// `"type": "boolean"`.
    Bool,
    /// No `type`: any JSON value.
    Any,
    /// `"type": "array"`.
    Array {
        /// `items`.
        items: &'static Schema,
        /// `minItems` (0 without one).
        min_items: usize,
        /// `maxItems`.
        max_items: Option<usize>,
    },
    /// A string `enum` (a named definition, `ResetEnumType`).
    Enum {
        /// The definition's name.
        name: &'static str,
        /// The values, in schema order.
        values: &'static [&'static str],
    },
    /// `"type": "object"` (a named definition or message).
    Object(Object),
}

/// An object's properties. Built with [`Object::new`], which checks that the table is
/// consistent (at compile time, for the generated `static`s), so that [`decode`] can trust it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Object {
    name: &'static str,
    names: &'static [&'static str],
    schemas: &'static [&'static Schema],
    required: u64,
    open: bool,
}

impl Object {
    /// The object `name` (`ResetRequest`) whose properties are `names`, with `schemas` in the
    /// same order; bit `i` of `required` set for each `required` property `names[i]`; `open`
    /// if `additionalProperties` is not `false` (`CustomDataType`: other properties are kept).
    ///
    /// # Panics
    /// If `names` and `schemas` differ in length, or there are more than 64 properties, or
    /// `required` has a bit beyond them (in a `static`, a compile error).
    pub const fn new(
        name: &'static str,
        names: &'static [&'static str],
        schemas: &'static [&'static Schema],
        required: u64,
        open: bool,
    ) -> Object {
        assert!(names.len() == schemas.len(), "one schema per property name");
        assert!(names.len() <= 64, "at most 64 properties");
        assert!(
            names.len() == 64 || required >> names.len() == 0,
            "required names a property that is not there"
        );
        Object {
            name,
            names,
            schemas,
            required,
            open,
        }
    }

    /// The definition's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The property names, in schema order.
    pub const fn names(&self) -> &'static [&'static str] {
        self.names
    }

    /// Their schemas, in the same order.
    pub const fn schemas(&self) -> &'static [&'static Schema] {
        self.schemas
    }

    /// Which properties are `required`: bit `i` for `names()[i]`.
    pub const fn required(&self) -> u64 {
        self.required
    }

    /// Whether properties other than `names()` are allowed (and kept).
    pub const fn is_open(&self) -> bool {
        self.open
    }
}

/// Checks `payload` against `schema` and gives it back as a JSON value; a refusal is the
/// [`DecodeError`] the generated decoder of the same schema gives.
///
/// Numbers come back as the generated types hold them (an `integer` as an `i64`, so `1.0` is
/// `1`; a `number` as an `f64`), a date-time in its canonical form
/// ([`DateTime`](crate::DateTime)'s `Display`), everything else as written.
///
/// ```
/// use ocpp_types::{Message, ErrorKind, v201::ResetRequest, schema};
///
/// let value = schema::decode(ResetRequest::SCHEMA, r#"{"type":"OnIdle","evseId":2.0}"#)?;
/// assert_eq!(value, serde_json::json!({"type": "OnIdle", "evseId": 2}));
///
/// let err = schema::decode(ResetRequest::SCHEMA, r#"{"type":"Later"}"#).unwrap_err();
/// assert_eq!((err.kind(), err.pointer()), (ErrorKind::Enum, "/type"));
/// # Ok::<(), ocpp_types::DecodeError>(())
/// ```
pub fn decode(schema: &'static Schema, payload: &str) -> Result<Value, DecodeError> {
    crate::json::seed(payload, Checked(schema))
        .map_err(|refused| DecodeError::from_reader(&refused))
}

/// Reads one value checked against its schema: one visitor for every schema, so the reader's
/// dispatch on the JSON value's kind is compiled once (a decoder per kind would each carry a
/// copy of it). Each `visit_*` does what the typed decoder's reader of that kind does, through
/// the same visitors and checks, and refuses a value of another kind as that reader would
/// (serde's `invalid type`, with the same `expecting`).
#[derive(Clone, Copy)]
struct Checked(&'static Schema);

/// Any JSON value (as `serde_json::Value` reads one).
static ANY: Schema = Schema::Any;

impl<'de> DeserializeSeed<'de> for Checked {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A refusal by one of the table's checks.
fn violated<E: de::Error>(violation: rt::Violation) -> E {
    E::custom(violation)
}

impl Checked {
    /// serde's refusal of a value of the wrong kind.
    fn refuse<E: de::Error>(self, unexpected: de::Unexpected<'_>) -> E {
        E::invalid_type(unexpected, &self)
    }

    /// An integer as the typed decoder's visitor reads it (`read` calls the visitor), then
    /// checked against the range.
    fn integer<E: de::Error>(
        self,
        unexpected: de::Unexpected<'_>,
        read: impl FnOnce(bool) -> Result<i64, E>,
    ) -> Result<Value, E> {
        let Schema::Integer {
            minimum,
            maximum,
            draft4,
        } = *self.0
        else {
            return Err(self.refuse(unexpected));
        };
        let v = read(draft4)?;
        rt::integer_range(v, minimum, maximum).map_err(violated)?;
        Ok(Value::from(v))
    }

    /// A number (serde's `f64` takes every JSON number), checked.
    fn number<E: de::Error>(self, unexpected: de::Unexpected<'_>, v: f64) -> Result<Value, E> {
        let Schema::Number {
            minimum,
            maximum,
            multiple_of,
        } = *self.0
        else {
            return Err(self.refuse(unexpected));
        };
        if let Some((num, den)) = multiple_of {
            rt::multiple_of(v, num, den).map_err(violated)?;
        }
        rt::number_range(v, minimum, maximum).map_err(violated)?;
        // The reader gives finite numbers only (JSON has no others).
        let number = serde_json::Number::from_f64(v);
        Ok(Value::Number(
            number.ok_or_else(|| E::custom("not a finite number"))?,
        ))
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.0 {
            Schema::String {
                max_length: Some(max),
                ..
            } => Bounded(max).expecting(f),
            Schema::String { .. } => f.write_str("a string"),
            Schema::DateTime => crate::datetime::DateTimeVisitor.expecting(f),
            Schema::Integer { draft4, .. } => rt::IntegerVisitor { draft4 }.expecting(f),
            Schema::Number { .. } => f.write_str("f64"),
            Schema::Bool => f.write_str("a boolean"),
            Schema::Any => f.write_str("any valid JSON value"),
            Schema::Array { .. } => f.write_str("an array"),
            Schema::Enum { name, .. } => write!(f, "a {name} string"),
            Schema::Object(object) => write!(f, "a {} object", object.name),
        }
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        match self.0 {
            Schema::Bool | Schema::Any => Ok(Value::Bool(v)),
            _ => Err(self.refuse(de::Unexpected::Bool(v))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        match self.0 {
            Schema::Any => Ok(Value::from(v)),
            Schema::Number { .. } => self.number(de::Unexpected::Signed(v), v as f64),
            _ => self.integer(de::Unexpected::Signed(v), |draft4| {
                rt::IntegerVisitor { draft4 }.visit_i64(v)
            }),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        match self.0 {
            Schema::Any => Ok(Value::from(v)),
            Schema::Number { .. } => self.number(de::Unexpected::Unsigned(v), v as f64),
            _ => self.integer(de::Unexpected::Unsigned(v), |draft4| {
                rt::IntegerVisitor { draft4 }.visit_u64(v)
            }),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        match self.0 {
            Schema::Any => Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)),
            Schema::Number { .. } => self.number(de::Unexpected::Float(v), v),
            _ => self.integer(de::Unexpected::Float(v), |draft4| {
                rt::IntegerVisitor { draft4 }.visit_f64(v)
            }),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        match *self.0 {
            Schema::String { max_length, uri } => {
                if let Some(max) = max_length {
                    crate::bounded::check_len(v, max).map_err(E::custom)?;
                }
                let text = String::from(v);
                if uri {
                    rt::Uri::check(&text).map_err(violated)?;
                }
                Ok(Value::String(text))
            }
            Schema::DateTime => {
                let time = crate::datetime::DateTimeVisitor.visit_str::<E>(v)?;
                let mut text = [0; crate::datetime::MAX_TEXT];
                Ok(Value::String(String::from(time.write_text(&mut text))))
            }
            Schema::Enum { name, values } => {
                let value = Variant { name, values }.visit_str::<E>(v)?;
                Ok(Value::String(String::from(value)))
            }
            Schema::Any => Ok(Value::String(String::from(v))),
            _ => Err(self.refuse(de::Unexpected::Str(v))),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        match self.0 {
            Schema::Any => Ok(Value::Null),
            _ => Err(self.refuse(de::Unexpected::Unit)),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let (items, min_items, max_items) = match *self.0 {
            Schema::Array {
                items,
                min_items,
                max_items,
            } => (items, min_items, max_items.unwrap_or(usize::MAX)),
            Schema::Any => (&ANY, 0, usize::MAX),
            _ => return Err(self.refuse(de::Unexpected::Seq)),
        };
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
        while let Some(value) = seq.next_element_seed(Checked(items))? {
            elements.push(value);
        }
        rt::item_count(elements.len(), min_items, max_items).map_err(violated)?;
        Ok(Value::Array(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let object = match *self.0 {
            Schema::Object(object) => object,
            Schema::Any => {
                // As `serde_json::Value` reads an object: a repeated key keeps its last value.
                let mut out = Map::new();
                while let Some(key) = rt::next_key(&mut map)? {
                    let value = map.next_value_seed(Checked(&ANY))?;
                    out.insert(key.into_string(), value);
                }
                return Ok(Value::Object(out));
            }
            _ => return Err(self.refuse(de::Unexpected::Map)),
        };
        // As a generated struct's `visit_map` reads it: a property twice, one the schema does
        // not define, or a required one missing is refused.
        let mut out = Map::new();
        let mut seen = 0u64;
        let mut extra = rt::Map::new();
        while let Some(key) = rt::next_key(&mut map)? {
            let Some(index) = object.names.iter().position(|n| *n == key.as_str()) else {
                if object.open {
                    let value = map.next_value_seed(Checked(&ANY))?;
                    rt::insert_extra(&mut extra, key.into_string(), value)?;
                    continue;
                }
                return Err(rt::unknown_field(key.as_str(), object.names));
            };
            let (name, schema) = (object.names[index], object.schemas[index]);
            if seen & (1 << index) != 0 {
                return Err(de::Error::duplicate_field(name));
            }
            seen |= 1 << index;
            out.insert(String::from(name), map.next_value_seed(Checked(schema))?);
        }
        let missing = object.required & !seen;
        if missing != 0 {
            let name = object.names[missing.trailing_zeros() as usize];
            return Err(de::Error::missing_field(name));
        }
        out.extend(extra);
        Ok(Value::Object(out))
    }
}

/// A string of at most `.0` characters (as `BoundedString` reads one).
struct Bounded(usize);

impl Bounded {
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string of at most {} characters", self.0)
    }
}

/// One of an enum's values (as the generated enums read one).
struct Variant {
    name: &'static str,
    values: &'static [&'static str],
}

impl Visitor<'_> for Variant {
    type Value = &'static str;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} string", self.name)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<&'static str, E> {
        let found = self.values.iter().find(|value| **value == v);
        found
            .copied()
            .ok_or_else(|| E::unknown_variant(v, self.values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEXT: Schema = Schema::String {
        max_length: None,
        uri: false,
    };
    static ONE: [&Schema; 1] = [&TEXT];

    #[test]
    #[should_panic(expected = "one schema per property name")]
    fn an_object_needs_a_schema_per_name() {
        let _ = Object::new("X", &["a", "b"], &ONE, 0, false);
    }

    #[test]
    #[should_panic(expected = "required names a property that is not there")]
    fn required_bits_stay_within_the_properties() {
        let _ = Object::new("X", &["a"], &ONE, 0b10, false);
    }

    #[test]
    fn a_consistent_table_decodes() {
        static X: Schema = Schema::Object(Object::new("X", &["a"], &[&TEXT], 0b1, false));
        assert_eq!(
            decode(&X, r#"{"a":"b"}"#).ok(),
            Some(serde_json::json!({"a": "b"}))
        );
        let missing = decode(&X, "{}").unwrap_err();
        assert_eq!(
            (missing.kind(), missing.pointer()),
            (crate::ErrorKind::Missing, "/a")
        );
    }
}
