//! [`BoundedString`]: a string with a maximum length, the type of every `maxLength` in the schemas.

use alloc::string::String;
use core::fmt;
use core::ops::Deref;
use core::str::FromStr;

use compact_str::CompactString;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// A string of at most `N` characters (Unicode code points, as JSON Schema's `maxLength` counts).
///
/// OCPP 1.6 calls these `CiString20Type`, `CiString25Type`, ... ; 2.0.1 and 2.1 call them
/// `string[20]`, ... . Every length-limited field of every version uses this one type, so a value
/// can move between messages without conversions. It can only hold a valid value: build it
/// with [`TryFrom`] or [`FromStr`], which report the limit that was exceeded. Strings of up to
/// 24 bytes (most identifiers, names and units) are stored inline, without a heap allocation.
///
/// ```
/// use ocpp_types::BoundedString;
/// let model: BoundedString<20> = "SingleSocketCharger".parse()?;
/// assert_eq!(&*model, "SingleSocketCharger");
/// assert!(BoundedString::<5>::try_from("Ünïcödé").is_err()); // 7 characters
/// assert!(BoundedString::<5>::try_from("Ünïcö").is_ok()); // 5 characters, 10 bytes
/// # Ok::<(), ocpp_types::LengthError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BoundedString<const N: usize>(CompactString);

/// A string was longer than its `maxLength`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthError {
    /// The limit, in characters.
    pub max: usize,
    /// The length of the rejected string, in characters.
    pub actual: usize,
}

impl fmt::Display for LengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::error::rule::{Rule, write};
        write(
            f,
            Rule::MaxLength(self.max),
            format_args!("{} characters", self.actual),
        )
    }
}

impl core::error::Error for LengthError {}

/// Checks that `s` has at most `max` characters.
#[inline]
pub(crate) fn check_len(s: &str, max: usize) -> Result<(), LengthError> {
    // A string of at most `max` bytes has at most `max` characters: skip counting.
    if s.len() <= max {
        return Ok(());
    }
    let actual = s.chars().count();
    if actual <= max {
        Ok(())
    } else {
        Err(LengthError { max, actual })
    }
}

impl<const N: usize> BoundedString<N> {
    /// The maximum length in characters.
    pub const MAX_LEN: usize = N;

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned string.
    pub fn into_string(self) -> String {
        self.0.into_string()
    }

    /// Keeps the first `N` characters of `s`: for values from a source that may exceed the limit
    /// (a long serial number) where truncation is acceptable.
    pub fn truncating(s: &str) -> Self {
        match s.char_indices().nth(N) {
            Some((end, _)) => Self(CompactString::from(&s[..end])),
            None => Self(CompactString::from(s)),
        }
    }
}

impl<const N: usize> Deref for BoundedString<N> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const N: usize> AsRef<str> for BoundedString<N> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<const N: usize> core::borrow::Borrow<str> for BoundedString<N> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<const N: usize> PartialEq<str> for BoundedString<N> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl<const N: usize> PartialEq<&str> for BoundedString<N> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<const N: usize> fmt::Debug for BoundedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const N: usize> fmt::Display for BoundedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const N: usize> TryFrom<String> for BoundedString<N> {
    type Error = LengthError;
    fn try_from(s: String) -> Result<Self, LengthError> {
        check_len(&s, N)?;
        Ok(Self(CompactString::from(s)))
    }
}

impl<const N: usize> TryFrom<&str> for BoundedString<N> {
    type Error = LengthError;
    fn try_from(s: &str) -> Result<Self, LengthError> {
        check_len(s, N)?;
        Ok(Self(CompactString::from(s)))
    }
}

impl<const N: usize> FromStr for BoundedString<N> {
    type Err = LengthError;
    fn from_str(s: &str) -> Result<Self, LengthError> {
        Self::try_from(s)
    }
}

impl<const N: usize> From<BoundedString<N>> for String {
    fn from(s: BoundedString<N>) -> String {
        s.0.into_string()
    }
}

impl<const N: usize> Serialize for BoundedString<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de, const N: usize> Deserialize<'de> for BoundedString<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BoundedVisitor<const N: usize>;

        impl<const N: usize> Visitor<'_> for BoundedVisitor<N> {
            type Value = BoundedString<N>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a string of at most {N} characters")
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                check_len(s, N).map_err(E::custom)?;
                Ok(BoundedString(CompactString::from(s)))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                check_len(&s, N).map_err(E::custom)?;
                Ok(BoundedString(CompactString::from(s)))
            }
        }

        deserializer.deserialize_str(BoundedVisitor::<N>)
    }
}

#[cfg(feature = "schemars")]
impl<const N: usize> schemars::JsonSchema for BoundedString<N> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> alloc::borrow::Cow<'static, str> {
        alloc::format!("String{N}").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "maxLength": N })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn counts_code_points_not_bytes() {
        assert!(BoundedString::<3>::try_from("äöü").is_ok());
        let err = BoundedString::<3>::try_from("äöüß").unwrap_err();
        assert_eq!(err, LengthError { max: 3, actual: 4 });
        assert!(BoundedString::<1>::try_from("😀").is_ok());
    }

    #[test]
    fn deserialize_checks_the_limit() {
        let ok: BoundedString<4> = serde_json::from_str("\"abcd\"").unwrap();
        assert_eq!(ok, "abcd");
        let err = serde_json::from_str::<BoundedString<4>>("\"abcde\"").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("string too long (maxLength 4): 5 characters"),
            "{err}"
        );
        let err = serde_json::from_str::<BoundedString<4>>("4").unwrap_err();
        assert!(err.to_string().starts_with("invalid type"));
        // Escapes count as the characters they stand for.
        let ok: BoundedString<1> = serde_json::from_str(r#""\u00e9""#).unwrap();
        assert_eq!(ok, "é");
    }

    #[test]
    fn truncating_cuts_at_characters() {
        assert_eq!(BoundedString::<2>::truncating("äöü"), "äö");
        assert_eq!(BoundedString::<5>::truncating("ab"), "ab");
    }
}
