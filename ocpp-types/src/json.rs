//! The JSON reader behind every decode.
//!
//! A `serde` deserializer over text that accepts exactly the JSON that `serde_json::from_str`
//! accepts and hands every visitor the same calls that `serde_json` would (the same number
//! kinds, borrowed strings where there are no escapes, the same recursion limit), so a type's
//! `Deserialize` impl decides the same with either. Where it refuses, its error says why (a
//! visitor's message, or malformed JSON at a byte offset) and where: the path from the root to
//! the value, collected as the error travels up through the arrays and objects that hold it,
//! so valid input pays nothing for it. The fuzz target `json_reader` and the tests below hold
//! it to `serde_json`'s verdicts and values.
//!
//! One difference, on purpose: a number of more than 15 significant digits, or with a large
//! exponent, is read correctly rounded (by `core`'s parser); `serde_json` without its
//! `float_roundtrip` feature may be one unit in the last place off for those, and refuses as
//! out of range a number just above `f64::MAX` that rounds down to it
//! (`1.7976931348623158e308`), which is read here as `f64::MAX`.
//!
//! Why not `serde_json` itself: a typed decode spends its time reading short keys and strings
//! and copying decoded structs. Here a string is scanned eight bytes at a time, a key is read
//! inline into the generated `visit_map` (no copy through temporaries), a value is returned
//! from the visitor untouched (the closing bracket is checked once, at the end), and short
//! decimals take Clinger's exact fast path. And on firmware it is the only decoder linked: a
//! second one, to explain failures, would double the code of every message type.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// Decodes `T` from `input`, refusing trailing characters.
pub fn from_str<'de, T: de::Deserialize<'de>>(input: &'de str) -> Result<T, Refused> {
    seed(input, core::marker::PhantomData::<T>)
}

/// Decodes `input` through `seed`, refusing trailing characters.
pub fn seed<'de, S: DeserializeSeed<'de>>(input: &'de str, seed: S) -> Result<S::Value, Refused> {
    let mut reader = Reader::new(input, 0);
    let refused = match seed.deserialize(&mut reader) {
        Ok(value) if reader.skip_whitespace().is_none() && !reader.abandoned => return Ok(value),
        Ok(_) => Refused::syntax(),
        Err(refused) => refused,
    };
    Err(refused.at(&reader))
}

/// `serde_json`'s default: the 128th nested array or object is refused.
const RECURSION_LIMIT: u8 = 128;

/// Why the reader refused its input, and where.
///
/// Boxed, so that a `Result` of the reader is no larger than its value plus a pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(Box<Fault>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fault {
    /// A visitor refused a value (the message is serde's or the type's); otherwise the text is
    /// not JSON.
    data: bool,
    /// For a data error, the visitor's message; for malformed JSON, written by [`Refused::at`].
    message: String,
    /// The path to the fault, innermost first.
    path: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Refused {
    /// Malformed JSON; [`Refused::at`] says where.
    #[cold]
    fn syntax() -> Self {
        Refused(Box::new(Fault {
            data: false,
            message: String::new(),
            path: Vec::new(),
        }))
    }

    /// Writes the message of malformed JSON, at the reader's position.
    #[cold]
    fn at(mut self, reader: &Reader<'_>) -> Self {
        if !self.0.data && self.0.message.is_empty() {
            self.0.message = if reader.pos >= reader.input.len() {
                "malformed JSON: unexpected end of input".to_owned()
            } else {
                format!("malformed JSON at byte {}", reader.pos)
            };
        }
        self
    }

    /// The same fault, inside the value of the property whose key starts at `key_at`.
    #[cold]
    #[inline(never)]
    fn in_property(mut self, input: &str, key_at: usize) -> Self {
        let mut reader = Reader::new(input, key_at);
        // The key was read once already: it reads again.
        let key = match reader.read_str() {
            Ok(Some(borrowed)) => borrowed.to_owned(),
            _ => reader.scratch,
        };
        self.0.path.push(Segment::Key(key));
        self
    }

    /// The same fault, inside the array element at `index`.
    #[cold]
    #[inline(never)]
    fn in_element(mut self, index: usize) -> Self {
        self.0.path.push(Segment::Index(index));
        self
    }

    /// Whether a visitor refused a value (rather than the text not being JSON).
    pub fn is_data(&self) -> bool {
        self.0.data
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The JSON pointer (RFC 6901) to the fault.
    pub fn pointer(&self) -> String {
        let mut pointer = String::new();
        for segment in self.0.path.iter().rev() {
            match segment {
                Segment::Key(key) => crate::error::push_token(&mut pointer, key),
                Segment::Index(index) => crate::error::push_token(&mut pointer, &index.to_string()),
            }
        }
        pointer
    }
}

/// As the [`DecodeError`](crate::DecodeError) it becomes.
impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::DecodeError::from_reader(self).fmt(f)
    }
}

impl core::error::Error for Refused {}

impl de::Error for Refused {
    #[cold]
    fn custom<T: fmt::Display>(message: T) -> Self {
        Refused(Box::new(Fault {
            data: true,
            message: message.to_string(),
            path: Vec::new(),
        }))
    }

    /// As `serde_json` words it: JSON's `null` is serde's unit.
    #[cold]
    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "invalid type: {}, expected {expected}",
            Unexpected(unexpected)
        ))
    }

    #[cold]
    fn invalid_value(unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::custom(format_args!(
            "invalid value: {}, expected {expected}",
            Unexpected(unexpected)
        ))
    }
}

/// serde's `Unexpected` worded as serde and `serde_json` word it (`null` for the unit), but
/// with floats written as JSON writes them: serde's own `Display` would link `f64`'s
/// formatting code into every firmware (see [`crate::error::Number`]).
struct Unexpected<'a>(de::Unexpected<'a>);

impl fmt::Display for Unexpected<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use de::Unexpected::*;
        match self.0 {
            Bool(b) => write!(f, "boolean `{b}`"),
            Unsigned(i) => write!(f, "integer `{i}`"),
            Signed(i) => write!(f, "integer `{i}`"),
            Float(v) => write!(f, "floating point `{}`", crate::error::Number(v)),
            Char(c) => write!(f, "character `{c}`"),
            Str(s) => write!(f, "string {s:?}"),
            Bytes(_) => f.write_str("byte array"),
            Unit => f.write_str("null"),
            Option => f.write_str("Option value"),
            NewtypeStruct => f.write_str("newtype struct"),
            Seq => f.write_str("sequence"),
            Map => f.write_str("map"),
            Enum => f.write_str("enum"),
            UnitVariant => f.write_str("unit variant"),
            NewtypeVariant => f.write_str("newtype variant"),
            TupleVariant => f.write_str("tuple variant"),
            StructVariant => f.write_str("struct variant"),
            Other(other) => f.write_str(other),
        }
    }
}

struct Reader<'de> {
    input: &'de str,
    pos: usize,
    remaining_depth: u8,
    /// Whether the array or object just visited was read up to its closing bracket.
    closed: bool,
    /// Whether a visitor stopped before the end of an array or object.
    abandoned: bool,
    /// A string with escapes, unescaped.
    scratch: String,
}

/// A number as `serde_json` classifies it.
enum Number {
    U64(u64),
    I64(i64),
    F64(f64),
}

impl<'de> Reader<'de> {
    /// A reader of `input` from byte `pos`.
    fn new(input: &'de str, pos: usize) -> Self {
        Reader {
            input,
            pos,
            remaining_depth: RECURSION_LIMIT,
            closed: false,
            abandoned: false,
            scratch: String::new(),
        }
    }

    /// Skips JSON whitespace; the next byte, if any.
    fn skip_whitespace(&mut self) -> Option<u8> {
        let bytes = self.input.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\n' | b'\t' | b'\r' => self.pos += 1,
                _ => return Some(b),
            }
        }
        None
    }

    /// Consumes `literal` (`true`, `false`, `null`).
    fn eat_literal(&mut self, literal: &[u8]) -> Result<(), Refused> {
        let end = self.pos + literal.len();
        if self.input.as_bytes().get(self.pos..end) == Some(literal) {
            self.pos = end;
            Ok(())
        } else {
            Err(Refused::syntax())
        }
    }

    /// Reads the string whose opening quote is at `pos`: `Some` borrowed from the input when
    /// it has no escapes, else `None` with the string unescaped into `scratch`.
    #[inline]
    fn read_str(&mut self) -> Result<Option<&'de str>, Refused> {
        let input = self.input;
        let start = self.pos + 1;
        let end = find_special(input.as_bytes(), start);
        if input.as_bytes().get(end) == Some(&b'"') {
            self.pos = end + 1;
            // Both ends are ASCII quotes, so both are character boundaries.
            input.get(start..end).map(Some).ok_or_else(Refused::syntax)
        } else {
            self.read_escaped_str(start, end)
        }
    }

    /// The rest of [`Self::read_str`] when a string has escapes (rare in OCPP), or is broken.
    #[cold]
    #[inline(never)]
    fn read_escaped_str(&mut self, start: usize, end: usize) -> Result<Option<&'de str>, Refused> {
        if self.input.as_bytes().get(end) != Some(&b'\\') {
            // A control character, or the end of the input.
            return Err(Refused::syntax());
        }
        self.scratch.clear();
        self.scratch
            .push_str(self.input.get(start..end).ok_or_else(Refused::syntax)?);
        self.pos = end;
        self.read_escaped()?;
        Ok(None)
    }

    /// Continues a string at the backslash at `pos`, appending to `scratch`.
    fn read_escaped(&mut self) -> Result<(), Refused> {
        let input = self.input;
        let bytes = input.as_bytes();
        loop {
            // `pos` is at a backslash.
            let escape = *bytes.get(self.pos + 1).ok_or_else(Refused::syntax)?;
            self.pos += 2;
            let c = match escape {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.read_unicode_escape()?,
                _ => return Err(Refused::syntax()),
            };
            self.scratch.push(c);
            let start = self.pos;
            let end = find_special(bytes, start);
            self.scratch
                .push_str(input.get(start..end).ok_or_else(Refused::syntax)?);
            self.pos = end;
            match bytes.get(end) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {}
                _ => return Err(Refused::syntax()),
            }
        }
    }

    /// The character of a `\uXXXX` escape (whose `\u` is consumed), with its low surrogate
    /// escape if it is a high surrogate. Lone surrogates are refused, as `serde_json` does.
    fn read_unicode_escape(&mut self) -> Result<char, Refused> {
        let first = self.read_hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.input.as_bytes().get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(Refused::syntax());
                }
                self.pos += 2;
                let second = self.read_hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(Refused::syntax());
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(Refused::syntax()),
            _ => first,
        };
        char::from_u32(code).ok_or_else(Refused::syntax)
    }

    fn read_hex4(&mut self) -> Result<u32, Refused> {
        let digits = self
            .input
            .as_bytes()
            .get(self.pos..self.pos + 4)
            .ok_or_else(Refused::syntax)?;
        let mut value = 0;
        for &d in digits {
            let nibble = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(Refused::syntax()),
            };
            value = value << 4 | u32::from(nibble);
        }
        self.pos += 4;
        Ok(value)
    }

    /// Reads a number (`pos` at its first byte) with JSON's grammar, classified as
    /// `serde_json` does: an integer is `U64` if not negative, `I64` if negative, and `F64`
    /// when it does not fit (or is `-0`); a fraction or an exponent makes `F64`. Only numbers
    /// whose value `serde_json` computes exactly are read (see [`exact_float`]).
    fn read_number(&mut self) -> Result<Number, Refused> {
        let bytes = self.input.as_bytes();
        let mut i = self.pos;
        let negative = bytes.get(i) == Some(&b'-');
        i += usize::from(negative);
        let digits_start = i;
        match bytes.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = skip_digits(bytes, i + 1),
            _ => return Err(Refused::syntax()),
        }
        let int_digits = bytes.get(digits_start..i).unwrap_or_default();
        let mut fraction = i..i;
        if bytes.get(i) == Some(&b'.') {
            let start = i + 1;
            i = skip_digits(bytes, start);
            if i == start {
                return Err(Refused::syntax());
            }
            fraction = start..i;
        }
        let mut exponent = i..i;
        if let Some(b'e' | b'E') = bytes.get(i) {
            let sign = i + 1;
            i = sign + usize::from(matches!(bytes.get(sign), Some(b'+' | b'-')));
            let digits = i;
            i = skip_digits(bytes, digits);
            if i == digits {
                return Err(Refused::syntax());
            }
            exponent = sign..i;
        }
        let text = self.input.get(self.pos..i).unwrap_or_default();
        self.pos = i;
        if fraction.is_empty() && exponent.is_empty() {
            if let Some(significand) = parse_u64(int_digits) {
                return Ok(if !negative {
                    Number::U64(significand)
                } else {
                    let value = (significand as i64).wrapping_neg();
                    if value >= 0 {
                        // -0, or below i64::MIN.
                        Number::F64(-(significand as f64))
                    } else {
                        Number::I64(value)
                    }
                });
            }
        }
        let fraction_digits = bytes.get(fraction).unwrap_or_default();
        match exact_float(int_digits, fraction_digits, bytes.get(exponent)) {
            Some(value) => Ok(Number::F64(if negative { -value } else { value })),
            None => long_number(text),
        }
    }

    /// Enters an array or object (`pos` at its bracket).
    fn enter(&mut self) -> Result<(), Refused> {
        // Checked: a counter that could wrap would lift the recursion limit.
        self.remaining_depth = match self.remaining_depth.checked_sub(1) {
            Some(0) | None => return Err(Refused::syntax()),
            Some(left) => left,
        };
        self.pos += 1;
        Ok(())
    }

    /// Leaves an array or object with what its visitor made of it. If the visitor stopped
    /// before the closing bracket, the whole input is refused, but only at the end (see
    /// [`from_str`]): a check here would copy the value out of its `Result` and back, and
    /// decoded structs can be large. Until then, the rest is read as it comes; a mismatched
    /// bracket fails soon enough, and nothing read after this point can be accepted.
    #[inline(always)]
    fn leave<T>(&mut self, value: Result<T, Refused>) -> Result<T, Refused> {
        self.remaining_depth = self.remaining_depth.saturating_add(1);
        self.abandoned |= !core::mem::take(&mut self.closed);
        value
    }

    /// Consumes the closing bracket at `pos`: the end of an array or object.
    fn close<T>(&mut self) -> Option<T> {
        self.pos += 1;
        self.closed = true;
        None
    }

    #[inline(always)]
    fn visit_string<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Refused> {
        match self.read_str()? {
            Some(borrowed) => visitor.visit_borrowed_str(borrowed),
            None => visitor.visit_str(&self.scratch),
        }
    }
}

/// The index of the first `"`, `\` or control character at or after `i`, or `bytes.len()`.
/// Eight bytes at a time: for each test, `(x - 0x01…) & !x & 0x80…` flags the bytes that are
/// zero (the lowest flag is always right; a borrow can only set flags above a real one).
#[inline]
fn find_special(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let Ok(chunk) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(chunk);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | x.wrapping_sub(ONES * 0x20) & !x)
            & HIGHS;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

fn skip_digits(bytes: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = bytes.get(i) {
        i += 1;
    }
    i
}

/// The powers of ten that an f64 holds exactly.
const EXACT_POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The value of a decimal `int.fraction e exponent` (`exponent` with its sign, if any) when one
/// IEEE operation computes it correctly rounded (Clinger's fast path): at most 15 digits, so
/// they are an exact f64, scaled by an exact power of ten. `serde_json` does the same single
/// operation for these, so both give the same, correctly rounded value. `None` otherwise.
fn exact_float(int: &[u8], fraction: &[u8], exponent: Option<&[u8]>) -> Option<f64> {
    if int.len() + fraction.len() > 15 {
        return None;
    }
    let digits = int.iter().chain(fraction);
    let mantissa = digits.fold(0u64, |m, &d| m * 10 + u64::from(d - b'0')) as f64;
    let mut scale = -(fraction.len() as i32);
    if let Some(exponent) = exponent {
        let (negative, digits) = match exponent.split_first() {
            Some((b'-', rest)) => (true, rest),
            Some((b'+', rest)) => (false, rest),
            _ => (false, exponent),
        };
        if digits.len() > 3 {
            return None;
        }
        let e = digits
            .iter()
            .fold(0i32, |e, &d| e * 10 + i32::from(d - b'0'));
        scale += if negative { -e } else { e };
    }
    let power = *EXACT_POWERS_OF_TEN.get(scale.unsigned_abs() as usize)?;
    Some(if scale < 0 {
        mantissa / power
    } else {
        mantissa * power
    })
}

/// A number beyond [`exact_float`] (more than 15 digits, an exponent beyond ±22, an integer
/// beyond u64), correctly rounded; one too large for an f64 is refused, as `serde_json` does.
#[cold]
#[inline(never)]
fn long_number(text: &str) -> Result<Number, Refused> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Number::F64(value)),
        _ => Err(Refused::syntax()),
    }
}

/// ASCII digits as a u64, `None` on overflow.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// `deserialize_*` methods that refuse, each with the arguments it takes before the visitor.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*))*) => {$(
        fn $method<V: Visitor<'de>>(self, $(_: $arg,)* _: V) -> Result<V::Value, Refused> {
            Err(unsupported(stringify!($method)))
        }
    )*};
}

/// The error of a `deserialize_*` method this reader does not serve.
#[cold]
fn unsupported(method: &str) -> Refused {
    de::Error::custom(format_args!("the JSON reader does not serve `{method}`"))
}

impl<'de> Deserializer<'de> for &mut Reader<'de> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        match self.skip_whitespace().ok_or_else(Refused::syntax)? {
            b'"' => self.visit_string(visitor),
            b'{' => {
                self.enter()?;
                let value = visitor.visit_map(Entries {
                    reader: self,
                    position: Position::Start,
                    key_at: 0,
                });
                self.leave(value)
            }
            b'[' => {
                self.enter()?;
                let value = visitor.visit_seq(Elements {
                    reader: self,
                    position: Position::Start,
                    index: 0,
                });
                self.leave(value)
            }
            b'-' | b'0'..=b'9' => match self.read_number()? {
                Number::U64(v) => visitor.visit_u64(v),
                Number::I64(v) => visitor.visit_i64(v),
                Number::F64(v) => visitor.visit_f64(v),
            },
            b't' => {
                self.eat_literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.eat_literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'n' => {
                self.eat_literal(b"null")?;
                visitor.visit_unit()
            }
            _ => Err(Refused::syntax()),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        if self.skip_whitespace() == Some(b'n') {
            self.eat_literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Refused> {
        // serde_json gives its `RawValue` (a private name) the raw text; not done here.
        if name.starts_with("$serde_json") {
            return Err(unsupported(name));
        }
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }

    // serde_json reads these its own way (raw string bytes, 128-bit integers, externally
    // tagged enums); the generated types need none of them (their enums are strings).
    refuse! {
        deserialize_i128() deserialize_u128() deserialize_bytes() deserialize_byte_buf()
        deserialize_enum(&'static str, &'static [&'static str])
    }
}

/// Where an [`Entries`] or [`Elements`] is in its array or object.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    /// Just after the opening bracket.
    Start,
    /// After an entry or element.
    After,
    /// The closing bracket is consumed; any further read is refused.
    End,
}

/// The entries of an object, after its `{`.
struct Entries<'a, 'de> {
    reader: &'a mut Reader<'de>,
    position: Position,
    /// Where the last key read starts (its opening quote), to name it in an error.
    key_at: usize,
}

impl<'de> MapAccess<'de> for Entries<'_, 'de> {
    type Error = Refused;

    // Inlined into each generated struct's `visit_map`, so that a key is not copied through
    // temporaries on its way to the `match` on its name.
    #[inline(always)]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Refused> {
        let reader = &mut *self.reader;
        let next = reader.skip_whitespace();
        match (self.position, next) {
            (Position::Start | Position::After, Some(b'}')) => {
                self.position = Position::End;
                return Ok(reader.close());
            }
            (Position::Start, Some(b'"')) => {}
            // A key must follow a comma: `}` there is a trailing comma.
            (Position::After, Some(b',')) => {
                reader.pos += 1;
                if reader.skip_whitespace() != Some(b'"') {
                    return Err(Refused::syntax());
                }
            }
            _ => return Err(Refused::syntax()),
        }
        self.position = Position::After;
        self.key_at = reader.pos;
        seed.deserialize(KeyReader(reader)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Refused> {
        let reader = &mut *self.reader;
        if self.position != Position::After || reader.skip_whitespace() != Some(b':') {
            return Err(Refused::syntax());
        }
        reader.pos += 1;
        let input = reader.input;
        seed.deserialize(reader)
            .map_err(|err| err.in_property(input, self.key_at))
    }
}

/// An object key: always a string.
struct KeyReader<'a, 'de>(&'a mut Reader<'de>);

impl<'de> Deserializer<'de> for KeyReader<'_, 'de> {
    type Error = Refused;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Refused> {
        self.0.visit_string(visitor)
    }

    forward_to_deserialize_any! {
        str string identifier ignored_any
    }

    // serde_json reads numbers and booleans out of keys for typed keys; refused here.
    refuse! {
        deserialize_bool() deserialize_i8() deserialize_i16() deserialize_i32() deserialize_i64()
        deserialize_i128() deserialize_u8() deserialize_u16() deserialize_u32() deserialize_u64()
        deserialize_u128() deserialize_f32() deserialize_f64() deserialize_char()
        deserialize_bytes() deserialize_byte_buf() deserialize_unit() deserialize_seq()
        deserialize_map() deserialize_option() deserialize_unit_struct(&'static str)
        deserialize_newtype_struct(&'static str) deserialize_tuple(usize)
        deserialize_tuple_struct(&'static str, usize)
        deserialize_struct(&'static str, &'static [&'static str])
        deserialize_enum(&'static str, &'static [&'static str])
    }
}

/// The elements of an array, after its `[`.
struct Elements<'a, 'de> {
    reader: &'a mut Reader<'de>,
    position: Position,
    /// The index of the next element.
    index: usize,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Refused> {
        let reader = &mut *self.reader;
        match (self.position, reader.skip_whitespace()) {
            (Position::Start | Position::After, Some(b']')) => {
                self.position = Position::End;
                return Ok(reader.close());
            }
            (Position::Start, Some(_)) => {}
            // A value must follow a comma: `]` there is a trailing comma.
            (Position::After, Some(b',')) => {
                reader.pos += 1;
                if reader.skip_whitespace() == Some(b']') {
                    return Err(Refused::syntax());
                }
            }
            _ => return Err(Refused::syntax()),
        }
        self.position = Position::After;
        let index = self.index;
        self.index += 1;
        seed.deserialize(reader)
            .map(Some)
            .map_err(|err| err.in_element(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;
    use serde_json::Value;

    /// Ours and serde_json accept the same inputs, with the same value; with a long number
    /// (which serde_json may round differently, or overflow on, see the module's docs), ours
    /// refuses only what serde_json refuses.
    fn agree(input: &str) {
        let ours = from_str::<Value>(input).ok();
        let theirs = serde_json::from_str::<Value>(input).ok();
        if !has_long_number(input) {
            assert_eq!(ours, theirs, "{input:?}");
        } else if ours.is_none() {
            assert_eq!(theirs, None, "{input:?}");
        }
    }

    /// Whether `input` has a number of 16 or more digits, or an exponent: numbers that
    /// serde_json may read one unit in the last place off.
    fn has_long_number(input: &str) -> bool {
        let mut run = 0;
        input.bytes().any(|b| {
            run = match b {
                b'0'..=b'9' => run + 1,
                b'.' => run,
                _ => 0,
            };
            run >= 16 || b == b'e' || b == b'E'
        })
    }

    #[rustfmt::skip]
    const CORPUS: &[&str] = &[
        r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\" : [ ] } \n",
        r#""plain ascii string that is longer than sixteen bytes""#,
        r#""esc \" \\ \/ \b \f \n \r \t \u0041 \u00e9 \ud83d\ude00 end""#,
        r#""\ud83d""#,
        r#""\ude00""#,
        r#""\ud83d\u0041""#,
        r#""\uZZZZ""#,
        r#""\x""#,
        "\"tab\tinside\"",
        "\"ctrl\u{1f}x\"",
        "\"é ü 漢字 🚗 and more text\"",
        "0", "-0", "-0.0", "1", "-1", "01", "-", "1.", ".5", "+1", "1e5", "1E+5", "1e-5",
        "2.5e", "1.5e+", "18446744073709551615", "18446744073709551616", "-9223372036854775808",
        "-9223372036854775809", "123456789012345678901234567890", "1e308", "1e309", "-1e400",
        "1e-400", "0e999999", "3.14159", "[1,2,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\" 1}",
        "{1:2}", "[1 2]", "tru", "true", "false", "null", "nul", "[]", "{}", "", "   ", "[",
        "{\"a\":1}x", "[1]]", "{\"a\":1,\"a\":2}", "\"unterminated",
    ];

    #[test]
    fn agrees_with_serde_json_on_a_corpus() {
        for input in CORPUS {
            agree(input);
        }
    }

    /// Every prefix of every corpus input, and each byte replaced by each structural byte.
    #[test]
    fn agrees_with_serde_json_on_mutations() {
        const REPLACEMENTS: &[u8] = b"\"\\{}[],:0-.e \x01atnu";
        for input in CORPUS {
            for end in (0..input.len()).filter(|&i| input.is_char_boundary(i)) {
                agree(&input[..end]);
            }
            let bytes = input.as_bytes();
            for i in 0..bytes.len() {
                for &r in REPLACEMENTS {
                    let mut mutated: Vec<u8> = bytes.to_vec();
                    mutated[i] = r;
                    if let Ok(text) = core::str::from_utf8(&mutated) {
                        agree(text);
                    }
                }
            }
        }
    }

    #[test]
    fn nesting_is_limited_as_in_serde_json() {
        for depth in [1, 126, 127, 128, 129, 200] {
            let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            agree(&arrays);
            let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            agree(&objects);
        }
    }

    #[test]
    fn strings_are_borrowed_without_escapes() {
        use alloc::borrow::Cow;
        #[derive(serde::Deserialize)]
        struct S<'a> {
            #[serde(borrow)]
            s: Cow<'a, str>,
        }
        let plain: S<'_> = from_str(r#"{"s":"abc"}"#).unwrap();
        assert!(matches!(plain.s, Cow::Borrowed("abc")));
        let escaped: S<'_> = from_str(r#"{"s":"a\nc"}"#).unwrap();
        assert_eq!(escaped.s, "a\nc");
    }

    #[test]
    fn numbers_reach_visitors_as_serde_json_classifies_them() {
        // -0 is a float in serde_json (and so a float for `Draft4Integer`).
        assert_eq!(from_str::<Value>("-0"), Ok(Value::from(-0.0)));
        assert_eq!(from_str::<i64>("-5"), Ok(-5));
        assert_eq!(from_str::<u64>("18446744073709551615"), Ok(u64::MAX));
        // Beyond u64, and long decimals: correctly rounded floats.
        assert_eq!(
            from_str::<f64>("18446744073709551616"),
            Ok(18_446_744_073_709_551_616.0)
        );
        assert!(from_str::<u64>("18446744073709551616").is_err());
        assert_eq!(
            from_str::<f64>("0.30000000000000004"),
            Ok(0.300_000_000_000_000_04)
        );
        assert_eq!(from_str::<f64>("1e23"), Ok(1e23));
        assert_eq!(from_str::<f64>("-1e-400"), Ok(-0.0));
        // Too large for an f64: refused, as serde_json does; but what rounds to f64::MAX is
        // f64::MAX (serde_json's inexact parse overflows there).
        assert!(from_str::<f64>("1e309").is_err());
        assert_eq!(from_str::<f64>("1.7976931348623158e308"), Ok(f64::MAX));
        assert_eq!(from_str::<f64>("7"), Ok(7.0));
        assert_eq!(from_str::<f64>("0.1"), Ok(0.1));
    }

    #[test]
    fn short_decimals_are_correctly_rounded() {
        let cases = [
            "0.1",
            "12345.6",
            "7400.0",
            "-32.1",
            "230.4",
            "1e22",
            "123456789012345",
            "0.00000000000001",
            "5e-1",
            "25E-2",
            "1.5e+3",
            "99999999999999.9",
            "8.15",
            "-0.0",
            "0.3",
            "1e-22",
            "123.456e-7",
        ];
        for text in cases {
            let expected: f64 = text.parse().unwrap();
            let ours: f64 = from_str(text).unwrap_or_else(|_| panic!("{text} refused"));
            assert_eq!(ours.to_bits(), expected.to_bits(), "{text}");
        }
    }

    /// Found by the `json_reader` fuzz target (2026-12-02): at the top of the f64 range the
    /// reader rounds correctly, so a number above the midpoint between f64::MAX and 2^1024 is
    /// too large for an f64 and refused, where serde_json's faster parse reads f64::MAX. Just
    /// below the midpoint is f64::MAX in both.
    #[test]
    fn numbers_at_the_top_of_the_f64_range_are_rounded_correctly() {
        assert_eq!(from_str::<f64>("1.7976931348623157e308"), Ok(f64::MAX));
        assert_eq!(from_str::<f64>("1.7976931348623158e308"), Ok(f64::MAX));
        assert_eq!(from_str::<f64>("-1.7976931348623158e308"), Ok(f64::MIN));
        for text in ["1.79769313486231588e308", "1.7976931348623159e308", "1e309"] {
            assert!(text.parse::<f64>().is_ok_and(f64::is_infinite), "{text}");
            assert!(from_str::<f64>(text).is_err(), "{text} accepted");
            assert!(
                from_str::<Value>(&format!("[{text}]")).is_err(),
                "{text} accepted"
            );
        }
    }

    #[test]
    fn errors_say_where() {
        let err = from_str::<Value>(r#"{"a":[1,{"b~/":tru}]}"#).unwrap_err();
        assert!(!err.is_data());
        assert_eq!(err.pointer(), "/a/1/b~0~1");
        assert_eq!(err.message(), "malformed JSON at byte 15");
        let err = from_str::<Value>(r#"{"a":[1,"#).unwrap_err();
        assert_eq!(err.message(), "malformed JSON: unexpected end of input");
        // A key with escapes is named unescaped.
        let err =
            from_str::<alloc::collections::BTreeMap<String, u8>>(r#"{"\u0041":300}"#).unwrap_err();
        assert!(err.is_data());
        assert_eq!(err.pointer(), "/A");
        assert_eq!(err.message(), "invalid value: integer `300`, expected u8");
        let err = from_str::<Vec<u8>>("[1,null]").unwrap_err();
        assert_eq!(
            (err.pointer().as_str(), err.message()),
            ("/1", "invalid type: null, expected u8")
        );
        // Floats are written as JSON writes them.
        let err = from_str::<u8>("7.5").unwrap_err();
        assert_eq!(
            err.message(),
            "invalid type: floating point `7.5`, expected u8"
        );
        // Trailing text after a valid value.
        let err = from_str::<Value>("{} {").unwrap_err();
        assert_eq!(
            (err.is_data(), err.message()),
            (false, "malformed JSON at byte 3")
        );
    }

    #[test]
    fn finds_special_bytes_at_every_offset() {
        for len in 0..40 {
            for special in [b'"', b'\\', 0x00, 0x1f] {
                let mut bytes = alloc::vec![b'x'; len];
                bytes.push(special);
                bytes.extend_from_slice(b"\"tail");
                assert_eq!(find_special(&bytes, 0), len, "{len} {special}");
            }
            assert_eq!(find_special(&alloc::vec![0xc3; len], 0), len);
        }
    }
}
