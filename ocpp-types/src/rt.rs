//! Runtime support for the generated code. Not a public API: the names and signatures here
//! change with the generator.
//!
//! Every field of a generated struct is read through [`Field::read`] and then checked by a
//! [`Check`] type that encodes the rest of its schema (`minimum`, `maxItems`, ...), and written
//! through [`Field::write`] after the same check, so a value that breaks its schema is neither
//! accepted nor sent.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{self, SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::error::Number;
use crate::error::rule::{self, Rule};

pub use serde_json::Value;

/// The extra properties of an open object (`CustomDataType`).
pub type Map = serde_json::Map<String, Value>;

/// How a value of a JSON Schema type is read and written. The defaults defer to serde; the
/// primitives override them where JSON Schema and serde disagree.
pub trait Field: Sized + Serialize + DeserializeOwned {
    /// Reads a value (never from `null`, unless the type is "any JSON value").
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::deserialize(deserializer)
    }

    /// Writes a value.
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize(serializer)
    }
}

impl Field for bool {}
impl Field for String {}
impl Field for Value {}
impl Field for crate::DateTime {}
impl<const N: usize> Field for crate::BoundedString<N> {}

/// A boxed value (`customData`, `signedMeterValue`: rarely sent and large, boxed so the common
/// case, without them, stays small).
impl<T: Field> Field for alloc::boxed::Box<T> {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::read(deserializer).map(alloc::boxed::Box::new)
    }

    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        T::write(self, serializer)
    }
}

/// JSON Schema's `integer` is any number with a zero fractional part: `1.0` is an integer,
/// `1.5` is not. Values beyond the 64-bit range are out of range.
impl Field for i64 {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_i64(IntegerVisitor { draft4: false })
    }
}

/// Reads an `integer` (see `i64`'s [`Field`] impl); with `draft4`, an OCPP 1.6 one (see
/// [`Draft4Integer`]), which a float never is.
pub(crate) struct IntegerVisitor {
    pub(crate) draft4: bool,
}

impl Visitor<'_> for IntegerVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.draft4 {
            true => "an integer without a fraction or exponent",
            false => "an integer",
        })
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| rule::de_error(Rule::Integer64, v))
    }
    // A JSON parser hands over a float for a number with a fraction or an exponent, and for
    // an integer too large for 64 bits: out of range either way; else an integer in draft 6
    // (OCPP 2.x) when it has no fractional part, never in draft 4.
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if !is_integral(v) {
            return Err(E::invalid_type(de::Unexpected::Float(v), &self));
        }
        // -2^63 is exact in f64; 2^63 is the first value above i64::MAX.
        if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v) {
            Err(rule::de_error(Rule::Integer64, Number(v)))
        } else if self.draft4 {
            Err(E::invalid_type(de::Unexpected::Float(v), &self))
        } else {
            Ok(v as i64)
        }
    }
}

/// An `integer` of OCPP 1.6, whose schemas are JSON Schema draft 4: a number written without a
/// fraction or an exponent (`1.0` and `1e2` are integers in draft 6, OCPP 2.x, but not here).
/// `C` is the field's other rule. Reads only: on output an `i64` is always written as a plain
/// integer.
pub struct Draft4Integer<C = ()>(pub C);

impl<C: Check<i64>> Check<i64> for Draft4Integer<C> {
    fn check(v: &i64) -> Result<(), Violation> {
        C::check(v)
    }

    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        let value = deserializer.deserialize_i64(IntegerVisitor { draft4: true })?;
        C::check(&value).map_err(de::Error::custom)?;
        Ok(value)
    }
}

/// `number`: any JSON number; NaN and infinities, which JSON cannot carry, are refused on output.
impl Field for f64 {
    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_finite() {
            serializer.serialize_f64(*self)
        } else {
            Err(rule::ser_error(Rule::FiniteNumber, self))
        }
    }
}

impl<T: Field> Field for Vec<T> {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements<T>(PhantomData<T>);
        impl<'de, T: Field> Visitor<'de> for Elements<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
                read_elements::<A, T, ()>(seq)
            }
        }
        deserializer.deserialize_seq(Elements(PhantomData))
    }

    fn write<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Write))
    }
}

/// Largest power of two below which an f64 can have a fractional part.
const EXACT_INTEGERS: f64 = 4_503_599_627_370_496.0; // 2^52

/// Whether `v` is finite with a zero fractional part (`f64::fract` needs std).
pub(crate) fn is_integral(v: f64) -> bool {
    if !v.is_finite() {
        return false;
    }
    let magnitude = if v < 0.0 { -v } else { v };
    magnitude >= EXACT_INTEGERS || (v as i64) as f64 == v
}

/// Rounds half away from zero, as `f64::round` does (which needs std).
pub(crate) fn round(v: f64) -> f64 {
    let magnitude = if v < 0.0 { -v } else { v };
    if !v.is_finite() || magnitude >= EXACT_INTEGERS {
        return v;
    }
    let truncated = (v as i64) as f64;
    let fraction = v - truncated; // exact below 2^52
    if fraction >= 0.5 {
        truncated + 1.0
    } else if fraction <= -0.5 {
        truncated - 1.0
    } else {
        truncated
    }
}

/// Reads the elements of an array, each checked by `C`, into a `Vec`.
fn read_elements<'de, A: de::SeqAccess<'de>, T: Field, C: Check<T>>(
    mut seq: A,
) -> Result<Vec<T>, A::Error> {
    // Bounded preallocation: the size hint comes from the input.
    let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
    while let Some(()) = seq.next_element_seed(Push::<T, C>(&mut out, PhantomData))? {}
    Ok(out)
}

/// A seed that reads a `T`, checked by `C`, and pushes it: a decoded element goes straight into
/// its `Vec` rather than through the `Result<Option<T>>` of `next_element_seed` (decoded
/// structs can be large, and each move copies them).
struct Push<'a, T, C>(&'a mut Vec<T>, PhantomData<C>);

impl<'de, T: Field, C: Check<T>> DeserializeSeed<'de> for Push<'_, T, C> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.push(C::read(deserializer)?);
        Ok(())
    }
}

/// Serializes a `T` through [`Field::write`].
struct Write<'a, T>(&'a T);

impl<T: Field> Serialize for Write<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.write(serializer)
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// A schema rule that a value's Rust type does not enforce by itself.
pub trait Check<T> {
    /// `Err` with a message that tells the [`crate::ErrorKind`] and the [`crate::Limit`].
    fn check(value: &T) -> Result<(), Violation>;

    /// Reads a value and checks it. The check fails inside the value's own deserialization, so
    /// the error's JSON pointer names the value (`/limit`), not the object that holds it.
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error>
    where
        T: Field,
    {
        let value = T::read(deserializer)?;
        Self::check(&value).map_err(de::Error::custom)?;
        Ok(value)
    }
}

/// Why a value breaks its schema (a message for [`crate::DecodeError`], written by
/// `error::rule`).
#[derive(Debug)]
pub struct Violation(String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn violation(rule: Rule, detail: fmt::Arguments<'_>) -> Violation {
    Violation(rule::message(rule, detail))
}

/// No rule beyond the type.
impl<T> Check<T> for () {
    fn check(_: &T) -> Result<(), Violation> {
        Ok(())
    }
}

/// Both rules.
impl<T, A: Check<T>, B: Check<T>> Check<T> for (A, B) {
    fn check(value: &T) -> Result<(), Violation> {
        A::check(value)?;
        B::check(value)
    }

    /// Reads through `B` (which may check elements as they are read, see [`Each`]), then
    /// checks `A`.
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error>
    where
        T: Field,
    {
        let value = B::read(deserializer)?;
        A::check(&value).map_err(de::Error::custom)?;
        Ok(value)
    }
}

/// `minimum`.
pub struct Min<const MIN: i64>;
/// `maximum`.
pub struct Max<const MAX: i64>;
/// `minimum` and `maximum`.
pub struct Range<const MIN: i64, const MAX: i64>;

fn in_range<T: PartialOrd>(
    v: &T,
    shown: &dyn fmt::Display,
    as_t: impl Fn(i64) -> T,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<(), Violation> {
    if let Some(min) = min.filter(|&min| *v < as_t(min)) {
        return Err(violation(Rule::Minimum(min), format_args!("{shown}")));
    }
    if let Some(max) = max.filter(|&max| *v > as_t(max)) {
        return Err(violation(Rule::Maximum(max), format_args!("{shown}")));
    }
    Ok(())
}

/// `minimum` and `maximum` of an `integer`, as run-time values.
pub fn integer_range(v: i64, min: Option<i64>, max: Option<i64>) -> Result<(), Violation> {
    in_range(&v, &v, |b| b, min, max)
}

/// `minimum` and `maximum` of a `number`, as run-time values.
pub fn number_range(v: f64, min: Option<i64>, max: Option<i64>) -> Result<(), Violation> {
    in_range(&v, &Number(v), |b| b as f64, min, max)
}

impl<const MIN: i64> Check<i64> for Min<MIN> {
    fn check(v: &i64) -> Result<(), Violation> {
        integer_range(*v, Some(MIN), None)
    }
}
impl<const MAX: i64> Check<i64> for Max<MAX> {
    fn check(v: &i64) -> Result<(), Violation> {
        integer_range(*v, None, Some(MAX))
    }
}
impl<const MIN: i64, const MAX: i64> Check<i64> for Range<MIN, MAX> {
    fn check(v: &i64) -> Result<(), Violation> {
        integer_range(*v, Some(MIN), Some(MAX))
    }
}
impl<const MIN: i64> Check<f64> for Min<MIN> {
    fn check(v: &f64) -> Result<(), Violation> {
        number_range(*v, Some(MIN), None)
    }
}
impl<const MAX: i64> Check<f64> for Max<MAX> {
    fn check(v: &f64) -> Result<(), Violation> {
        number_range(*v, None, Some(MAX))
    }
}
impl<const MIN: i64, const MAX: i64> Check<f64> for Range<MIN, MAX> {
    fn check(v: &f64) -> Result<(), Violation> {
        number_range(*v, Some(MIN), Some(MAX))
    }
}

/// `multipleOf: NUM/DEN` (1.6 uses `0.1` = 1/10 for charging limits).
///
/// Exact for decimal input: `v` is read as the shortest decimal that converts back to it (what
/// the payload said, as far as an f64 can tell: `8.1`, not the 8.0999… it is stored as), and
/// that decimal is divided by `NUM/DEN` in integer arithmetic. So `8.1` and
/// `1000000000000000.1` pass while `8.15` and `8.1000000001` fail, which is what a decimal
/// validator (and the `jsonschema` crate) decides. Beyond 38 significant digits (magnitudes
/// past 10^38, or far below 1) it falls back to f64 arithmetic: the nearest f64 to
/// `round(v·DEN/NUM)·NUM/DEN` must be `v` itself.
pub struct MultipleOf<const NUM: u64, const DEN: u64>;

/// Whether the shortest decimal form of a finite `v` is a multiple of `num/den`; `None` if
/// that decimal has too many digits for 128-bit arithmetic.
///
/// The decimal is the one `serde_json` writes (the shortest that reads back as `v`, with an
/// exponent for large and small magnitudes: `1e20`, `1.5e-9`): core's own float formatting
/// would add 8 KB to a firmware.
fn decimal_multiple(v: f64, num: u64, den: u64) -> Option<bool> {
    if num == 0 {
        return None;
    }
    let text = serde_json::to_string(&v).ok()?;
    let (digits, exponent) = match text.split_once(['e', 'E']) {
        Some((digits, exponent)) => (digits, exponent.parse::<i32>().ok()?),
        None => (text.as_str(), 0),
    };
    // digits = mantissa · 10^-decimals
    let (mut mantissa, mut decimals) = (0u128, 0i32);
    let mut after_point = false;
    for b in digits.bytes() {
        match b {
            b'-' => {}
            b'.' => after_point = true,
            b'0'..=b'9' => {
                mantissa = mantissa
                    .checked_mul(10)?
                    .checked_add(u128::from(b - b'0'))?;
                decimals += i32::from(after_point);
            }
            _ => return None,
        }
    }
    // v / (num/den) = mantissa·10^scale·den / num
    let scale = exponent.checked_sub(decimals)?;
    let power = 10u128.checked_pow(scale.unsigned_abs())?;
    let (dividend, divisor) = if scale >= 0 {
        (
            mantissa.checked_mul(power)?.checked_mul(u128::from(den))?,
            u128::from(num),
        )
    } else {
        (
            mantissa.checked_mul(u128::from(den))?,
            u128::from(num).checked_mul(power)?,
        )
    };
    Some(dividend % divisor == 0)
}

impl<const NUM: u64, const DEN: u64> Check<f64> for MultipleOf<NUM, DEN> {
    fn check(v: &f64) -> Result<(), Violation> {
        multiple_of(*v, NUM, DEN)
    }
}

/// `multipleOf: num/den` as run-time values (see [`MultipleOf`]).
pub fn multiple_of(v: f64, num: u64, den: u64) -> Result<(), Violation> {
    let multiple = v.is_finite()
        && decimal_multiple(v, num, den).unwrap_or_else(|| {
            let (num, den) = (num as f64, den as f64);
            round(v * den / num) * num / den == v
        });
    if multiple {
        Ok(())
    } else {
        Err(violation(
            Rule::MultipleOf(num as f64 / den as f64),
            format_args!("{}", Number(v)),
        ))
    }
}

/// `minItems` and `maxItems`.
pub struct Items<const MIN: usize, const MAX: usize>;

impl<T, const MIN: usize, const MAX: usize> Check<Vec<T>> for Items<MIN, MAX> {
    fn check(v: &Vec<T>) -> Result<(), Violation> {
        item_count(v.len(), MIN, MAX)
    }
}

/// `minItems` and `maxItems` as run-time values, for an array of `len` items.
pub fn item_count(len: usize, min: usize, max: usize) -> Result<(), Violation> {
    if len < min {
        Err(violation(Rule::MinItems(min), format_args!("{len} items")))
    } else if len > max {
        Err(violation(Rule::MaxItems(max), format_args!("{len} items")))
    } else {
        Ok(())
    }
}

/// `minItems` alone.
pub struct MinItems<const MIN: usize>;

impl<T, const MIN: usize> Check<Vec<T>> for MinItems<MIN> {
    fn check(v: &Vec<T>) -> Result<(), Violation> {
        Items::<MIN, { usize::MAX }>::check(v)
    }
}

/// A rule for every element of an array.
pub struct Each<C>(pub C);

impl<T: Field, C: Check<T>> Check<Vec<T>> for Each<C> {
    fn check(v: &Vec<T>) -> Result<(), Violation> {
        v.iter().try_for_each(C::check)
    }

    /// Checks each element as it is read, so that an error names the element (`/values/3`).
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        struct Elements<T, C>(PhantomData<(T, C)>);
        impl<'de, T: Field, C: Check<T>> Visitor<'de> for Elements<T, C> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
                read_elements::<A, T, C>(seq)
            }
        }
        deserializer.deserialize_seq(Elements::<T, C>(PhantomData))
    }
}

/// `format: uri`: an absolute URI as RFC 3986 defines it.
pub struct Uri;

impl Check<String> for Uri {
    fn check(v: &String) -> Result<(), Violation> {
        if crate::uri::is_uri(v) {
            Ok(())
        } else {
            Err(violation(
                Rule::Uri,
                format_args!("{v:?} is not an absolute URI (RFC 3986)"),
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Messages

/// Receives the type of every request and SEND message of a version, from its generated
/// `__visit_messages` (tests go over every message with it, without a list of their own).
#[cfg(feature = "random")]
pub trait VisitMessages {
    /// A CALL's request, whose response type is `R::Response`.
    fn request<R>(&mut self)
    where
        R: crate::Request + crate::random::Generate,
        R::Response: crate::random::Generate;

    /// A 2.1 SEND message.
    fn send<S: crate::SendMessage + crate::random::Generate>(&mut self);
}

// ---------------------------------------------------------------------------------------------
// Struct and enum plumbing

/// An object key, borrowed from the input where it has no escapes.
pub struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key, owned.
    pub(crate) fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    // Inlined into the deserializer's key reading, so the key is not copied through a
    // temporary (a store-forwarding stall on every key).
    #[inline(always)]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a property name")
            }
            #[inline(always)]
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(String::from(v))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The next property name of an object, or `None` at its end.
#[inline(always)]
pub fn next_key<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<Key<'de>>, A::Error> {
    struct KeySeed;
    impl<'de> DeserializeSeed<'de> for KeySeed {
        type Value = Key<'de>;
        #[inline(always)]
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<'de>, D::Error> {
            Key::deserialize(deserializer)
        }
    }
    map.next_key_seed(KeySeed)
}

/// Reads the value of property `name` into its slot.
#[inline]
pub fn read<'de, A: MapAccess<'de>, T: Field>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    read_checked(map, slot, name, ())
}

/// Reads the value of property `name` into its slot, checked by `check` (a zero-sized value
/// standing for its type, `Range::<0, 100>`).
#[inline]
pub fn read_checked<'de, A: MapAccess<'de>, T: Field, C: Check<T>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
    check: C,
) -> Result<(), A::Error> {
    let _ = check;
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    map.next_value_seed(Fill::<T, C>(slot, PhantomData))
}

/// A seed that reads a `T`, checked by `C`, into a property's slot (rather than through the
/// `Result<T>` of `next_value_seed`, which would copy it once more).
struct Fill<'a, T, C>(&'a mut Option<T>, PhantomData<C>);

impl<'de, T: Field, C: Check<T>> DeserializeSeed<'de> for Fill<'_, T, C> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        *self.0 = Some(C::read(deserializer)?);
        Ok(())
    }
}

/// Keeps an unknown property of an open object.
pub fn read_extra<'de, A: MapAccess<'de>>(
    map: &mut A,
    extra: &mut Map,
    key: Key<'de>,
) -> Result<(), A::Error> {
    let value: Value = map.next_value()?;
    insert_extra(extra, key.into_string(), value)
}

/// Keeps an additional property's value, refusing a second one of the same name.
pub(crate) fn insert_extra<E: de::Error>(
    extra: &mut Map,
    key: String,
    value: Value,
) -> Result<(), E> {
    if extra.contains_key(&key) {
        return Err(E::custom(format_args!("duplicate field `{key}`")));
    }
    extra.insert(key, value);
    Ok(())
}

/// A required property's value, or serde's "missing field" error.
#[inline]
pub fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

/// The error for a property the schema does not define.
#[cold]
pub fn unknown_field<E: de::Error>(name: &str, expected: &'static [&'static str]) -> E {
    E::unknown_field(name, expected)
}

/// Reads a string enum through its generated lookup.
pub fn read_enum<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    name: &'static str,
    variants: &'static [&'static str],
    lookup: fn(&str) -> Option<T>,
) -> Result<T, D::Error> {
    struct EnumVisitor<T> {
        name: &'static str,
        variants: &'static [&'static str],
        lookup: fn(&str) -> Option<T>,
    }
    impl<T> Visitor<'_> for EnumVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} string", self.name)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.lookup)(v).ok_or_else(|| E::unknown_variant(v, self.variants))
        }
    }
    deserializer.deserialize_str(EnumVisitor {
        name,
        variants,
        lookup,
    })
}

/// Writes a required property.
#[inline]
pub fn write<M: SerializeMap, T: Field>(
    map: &mut M,
    name: &'static str,
    value: &T,
) -> Result<(), M::Error> {
    map.serialize_entry(name, &Write(value))
}

/// Writes a required property, checked by `check` (see [`read_checked`]).
#[inline]
pub fn write_checked<M: SerializeMap, T: Field, C: Check<T>>(
    map: &mut M,
    name: &'static str,
    value: &T,
    check: C,
) -> Result<(), M::Error> {
    let _ = check;
    C::check(value).map_err(|v| ser::Error::custom(format_args!("{name}: {v}")))?;
    map.serialize_entry(name, &Write(value))
}

/// Writes an optional property if present.
#[inline]
pub fn write_opt<M: SerializeMap, T: Field>(
    map: &mut M,
    name: &'static str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(value) => write(map, name, value),
        None => Ok(()),
    }
}

/// Writes an optional property if present, checked by `check`.
#[inline]
pub fn write_opt_checked<M: SerializeMap, T: Field, C: Check<T>>(
    map: &mut M,
    name: &'static str,
    value: &Option<T>,
    check: C,
) -> Result<(), M::Error> {
    match value {
        Some(value) => write_checked(map, name, value, check),
        None => Ok(()),
    }
}

/// Writes the extra properties of an open object.
pub fn write_extra<M: SerializeMap>(map: &mut M, extra: &Map) -> Result<(), M::Error> {
    extra
        .iter()
        .try_for_each(|(k, v)| map.serialize_entry(k, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_and_round_match_std() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            1e15 + 0.5,
            1e300,
            -7.25,
        ] {
            assert_eq!(is_integral(v), v.fract() == 0.0, "{v}");
            assert_eq!(round(v), v.round(), "{v}");
        }
        assert!(!is_integral(f64::NAN) && !is_integral(f64::INFINITY));
    }

    #[test]
    fn multiple_of_a_tenth_is_decimal_exact() {
        type Tenth = MultipleOf<1, 10>;
        for ok in [8.1, 0.1, 0.3, 100.0, -2.7, 0.0, 1234567.8] {
            assert!(Tenth::check(&ok).is_ok(), "{ok}");
        }
        for bad in [8.15, 0.30000000000000004, 8.1000000001, 0.01] {
            assert!(Tenth::check(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn multiple_of_reads_the_shortest_decimal() {
        type Tenth = MultipleOf<1, 10>;
        // 16 and 17 significant digits: f64 arithmetic on v·10 rounds these the wrong way.
        for ok in [1_000_000_000_000_000.1, 123_456_789_012_345.6, 1e20, 1e37] {
            assert!(Tenth::check(&ok).is_ok(), "{ok}");
        }
        for bad in [505_661.899_999_999_97, 1e-9, 0.05, 2.675] {
            assert!(Tenth::check(&bad).is_err(), "{bad}");
        }
        assert_eq!(decimal_multiple(8.1, 1, 10), Some(true));
        assert_eq!(decimal_multiple(-8.15, 1, 10), Some(false));
        assert_eq!(decimal_multiple(7.5, 5, 2), Some(true)); // 2.5 · 3
        assert_eq!(decimal_multiple(1e300, 1, 10), None); // past 128 bits: the f64 fallback
        assert!(MultipleOf::<1, 10>::check(&f64::NAN).is_err());
    }

    /// The decimal read from serde_json's text (with an exponent) decides as the one read
    /// from core's `Display` (without) did, wherever both fit 128 bits and both formatters
    /// chose the same digits. (At 17 significant digits an f64 can lie exactly halfway between
    /// two shortest decimals, and the two break the tie differently: -2001638337748404.25 is
    /// `…404.3` to core and `…404.2` to serde_json. Which one the sender wrote, no f64 tells.)
    #[test]
    fn multiple_of_decides_as_with_core_formatting() {
        fn by_display(v: f64, num: u64, den: u64) -> Option<bool> {
            let text = alloc::format!("{v}");
            let decimals = text.split_once('.').map_or(0, |(_, f)| f.len() as u32);
            let mantissa: u128 = text.replace(['-', '.'], "").parse().ok()?;
            let divisor = u128::from(num).checked_mul(10u128.checked_pow(decimals)?)?;
            Some(mantissa.checked_mul(u128::from(den))? % divisor == 0)
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let significant = |text: &str| {
            let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
            let digits = mantissa.replace(['-', '.'], "");
            alloc::string::String::from(digits.trim_matches('0'))
        };
        let (mut compared, mut multiples, mut ties) = (0, 0, 0);
        for i in 0..200_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = match i % 4 {
                // Decimals with one to three places, the values a charging limit has.
                0 => (state % 2_000_000) as f64 / 10.0,
                1 => (state % 2_000_000) as f64 / 1000.0,
                2 => f64::from_bits(state) % 1e6,
                _ => f64::from_bits(state),
            };
            if !v.is_finite() {
                continue;
            }
            for (num, den) in [(1, 10), (5, 2), (1, 1), (3, 100)] {
                if let (Some(a), Some(b)) = (decimal_multiple(v, num, den), by_display(v, num, den))
                {
                    let core = alloc::format!("{v}");
                    let serde = serde_json::to_string(&v).unwrap();
                    if significant(&core) != significant(&serde) {
                        assert_eq!(serde.parse::<f64>().ok(), Some(v), "{serde}");
                        ties += 1;
                        continue;
                    }
                    assert_eq!(a, b, "{v} multiple of {num}/{den}");
                    compared += 1;
                    multiples += usize::from(a);
                }
            }
        }
        assert!(
            compared > 400_000 && multiples > 100_000,
            "{compared} {multiples}"
        );
        assert!(ties * 1000 < compared, "{ties} ties");
    }

    #[test]
    fn checks_fail_at_the_value_they_check() {
        #[derive(Debug)]
        struct Limits {
            _limit: f64,
            _values: Vec<i64>,
        }
        impl<'de> Deserialize<'de> for Limits {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Limits;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("limits")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Limits, A::Error> {
                        let (mut limit, mut values) = (None, None);
                        while let Some(key) = next_key(&mut map)? {
                            match key.as_str() {
                                "limit" => read_checked(
                                    &mut map,
                                    &mut limit,
                                    "limit",
                                    MultipleOf::<1, 10>,
                                )?,
                                "values" => read_checked(
                                    &mut map,
                                    &mut values,
                                    "values",
                                    (Items::<1, 3>, Each(Min::<0>)),
                                )?,
                                other => return Err(unknown_field(other, &["limit", "values"])),
                            }
                        }
                        Ok(Limits {
                            _limit: required(limit, "limit")?,
                            _values: required(values, "values")?,
                        })
                    }
                }
                deserializer.deserialize_map(V)
            }
        }
        let at = |json: &str| {
            let err = crate::from_str::<Limits>(json).unwrap_err();
            (err.kind(), String::from(err.pointer()), err.limit())
        };
        use crate::ErrorKind::{Items as TooMany, Range as OutOfRange};
        use crate::Limit;
        assert_eq!(
            at(r#"{"limit":8.15,"values":[1]}"#),
            (OutOfRange, "/limit".into(), None)
        );
        assert_eq!(
            at(r#"{"limit":8.1,"values":[1,-2]}"#),
            (OutOfRange, "/values/1".into(), Some(Limit::Minimum(0)))
        );
        assert_eq!(
            at(r#"{"limit":8.1,"values":[1,2,3,4]}"#),
            (TooMany, "/values".into(), Some(Limit::MaxItems(3)))
        );
        assert_eq!(
            at(r#"{"limit":8.1,"values":[]}"#),
            (TooMany, "/values".into(), Some(Limit::MinItems(1)))
        );
        assert!(crate::from_str::<Limits>(r#"{"limit":8.1,"values":[0,1,2]}"#).is_ok());
    }

    #[test]
    fn draft4_integers_are_written_without_fraction_or_exponent() {
        /// A 1.6 integer with `minimum: 0`.
        #[derive(Debug, PartialEq)]
        struct Count(i64);
        impl<'de> Deserialize<'de> for Count {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <Draft4Integer<Min<0>> as Check<i64>>::read(deserializer).map(Count)
            }
        }
        let read = |json: &str| {
            crate::from_str::<Count>(json)
                .map(|c| c.0)
                .map_err(|e| e.kind())
        };
        use crate::ErrorKind::{Range as OutOfRange, Type};
        assert_eq!(read("7"), Ok(7));
        assert_eq!(read("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(read("7.0"), Err(Type));
        assert_eq!(read("1e2"), Err(Type));
        assert_eq!(read("7.5"), Err(Type));
        assert_eq!(read("-1"), Err(OutOfRange));
        assert_eq!(read("9223372036854775808"), Err(OutOfRange));
        assert_eq!(read("100000000000000000000"), Err(OutOfRange));
        // Draft 6 (`i64` itself) reads a whole number with a fraction part as an integer.
        assert_eq!(
            <i64 as Field>::read(&mut serde_json::Deserializer::from_str("7.0")).ok(),
            Some(7)
        );
    }
}
