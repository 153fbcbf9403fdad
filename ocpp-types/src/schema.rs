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

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::DecodeError;
use crate::rt::{self, Check, Field};

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

/// Reads one value checked against its schema.
#[derive(Clone, Copy)]
struct Checked(&'static Schema);

impl<'de> DeserializeSeed<'de> for Checked {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        let violated = |v: rt::Violation| de::Error::custom(v);
        Ok(match *self.0 {
            Schema::String { max_length, uri } => {
                let text = match max_length {
                    Some(max) => deserializer.deserialize_str(Bounded(max))?,
                    None => String::deserialize(deserializer)?,
                };
                if uri {
                    rt::Uri::check(&text).map_err(violated)?;
                }
                Value::String(text)
            }
            Schema::DateTime => {
                let time = crate::DateTime::deserialize(deserializer)?;
                Value::String(time.write_text(&mut [0; crate::datetime::MAX_TEXT]).into())
            }
            Schema::Integer {
                minimum,
                maximum,
                draft4,
            } => {
                let v = if draft4 {
                    rt::Draft4Integer::<()>::read(deserializer)?
                } else {
                    <i64 as Field>::read(deserializer)?
                };
                rt::integer_range(v, minimum, maximum).map_err(violated)?;
                Value::from(v)
            }
            Schema::Number {
                minimum,
                maximum,
                multiple_of,
            } => {
                let v = f64::deserialize(deserializer)?;
                if let Some((num, den)) = multiple_of {
                    rt::multiple_of(v, num, den).map_err(violated)?;
                }
                rt::number_range(v, minimum, maximum).map_err(violated)?;
                // The reader gives finite numbers only (JSON has no others).
                let number = serde_json::Number::from_f64(v);
                Value::Number(number.ok_or_else(|| de::Error::custom("not a finite number"))?)
            }
            Schema::Bool => Value::Bool(bool::deserialize(deserializer)?),
            Schema::Any => Value::deserialize(deserializer)?,
            Schema::Array {
                items,
                min_items,
                max_items,
            } => {
                let elements = deserializer.deserialize_seq(Elements(items))?;
                rt::item_count(elements.len(), min_items, max_items.unwrap_or(usize::MAX))
                    .map_err(violated)?;
                Value::Array(elements)
            }
            Schema::Enum { name, values } => Value::String(
                deserializer
                    .deserialize_str(Variant { name, values })?
                    .into(),
            ),
            Schema::Object(object) => {
                Value::Object(deserializer.deserialize_map(Properties(object))?)
            }
        })
    }
}

/// A string of at most `.0` characters (as `BoundedString` reads one).
struct Bounded(usize);

impl Visitor<'_> for Bounded {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a string of at most {} characters", self.0)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<String, E> {
        crate::bounded::check_len(s, self.0).map_err(E::custom)?;
        Ok(String::from(s))
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

/// An array's elements, each checked against `.0` (as `Vec<T>` reads them).
struct Elements(&'static Schema);

impl<'de> Visitor<'de> for Elements {
    type Value = Vec<Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
        while let Some(value) = seq.next_element_seed(Checked(self.0))? {
            out.push(value);
        }
        Ok(out)
    }
}

/// An object's properties (as a generated struct's `visit_map` reads them: a property twice,
/// one the schema does not define, or a required one missing is refused).
struct Properties(Object);

impl<'de> Visitor<'de> for Properties {
    type Value = Map<String, Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} object", self.0.name)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let object = self.0;
        let mut out = Map::new();
        let mut seen = 0u64;
        let mut extra = rt::Map::new();
        while let Some(key) = rt::next_key(&mut map)? {
            let Some(index) = object.names.iter().position(|n| *n == key.as_str()) else {
                if object.open {
                    rt::read_extra(&mut map, &mut extra, key)?;
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
        Ok(out)
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
