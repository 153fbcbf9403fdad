//! Random schema-valid values of every generated type: the engine behind the `proptest` and
//! `arbitrary` features and `ocpp gen`.
//!
//! Values favour the edges that break implementations: empty and maximum-length strings,
//! multi-byte characters, the bounds of ranges, the smallest and largest arrays.
//!
//! ```
//! use ocpp_types::v201::TransactionEventRequest;
//! let a: TransactionEventRequest = ocpp_types::random::from_seed(7);
//! let b: TransactionEventRequest = ocpp_types::random::from_seed(7);
//! assert_eq!(a, b); // reproducible by seed
//! let json = serde_json::to_vec(&a).unwrap(); // always schema-valid
//! assert_eq!(ocpp_types::from_slice::<TransactionEventRequest>(&json).unwrap(), a);
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use crate::rt::{Map, Value, round};
use crate::{BoundedString, DateTime};

/// A type whose random values are valid against its schema.
pub trait Generate: Sized {
    /// A random valid value.
    fn generate(g: &mut Gen<'_>) -> Self;
}

/// A source of random bits.
pub trait Source {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// SplitMix64: a small, fast generator; the same seed gives the same values on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl Source for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Builds random values from a [`Source`]; the generated `Generate` impls call its methods.
pub struct Gen<'a> {
    source: &'a mut dyn Source,
    depth: u32,
}

/// Characters for strings: ASCII, and 2-, 3- and 4-byte UTF-8 (`maxLength` counts characters).
const ALPHABET: &[char] = &[
    'a', 'Z', '0', '7', ' ', '-', '"', '\\', '/', 'é', 'ß', '€', '中', '😀',
];

impl<'a> Gen<'a> {
    /// A generator drawing from `source`.
    pub fn new(source: &'a mut dyn Source) -> Self {
        Gen { source, depth: 0 }
    }

    /// 64 random bits.
    pub fn u64(&mut self) -> u64 {
        self.source.next_u64()
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.u64() % n }
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// A random value of `T`.
    pub fn generate<T: Generate>(&mut self) -> T {
        T::generate(self)
    }

    /// `Some` half of the time (less deep inside nested optional structures, so values stay small).
    pub fn option<T>(&mut self, f: impl FnOnce(&mut Gen<'a>) -> T) -> Option<T> {
        if self.depth > 4 || self.one_in(2) {
            return None;
        }
        self.depth += 1;
        let value = f(self);
        self.depth -= 1;
        Some(value)
    }

    /// One of `items`, which must not be empty.
    pub fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An integer within the schema's `minimum`/`maximum`, often at a bound.
    pub fn int(&mut self, minimum: Option<i64>, maximum: Option<i64>) -> i64 {
        self.integer(minimum.unwrap_or(i64::MIN), maximum.unwrap_or(i64::MAX))
    }

    /// An integer in `min..=max`, often at a bound.
    pub fn integer(&mut self, min: i64, max: i64) -> i64 {
        match self.below(8) {
            0 if min != i64::MIN => min,
            1 if max != i64::MAX => max,
            _ => {
                // Unbounded sides are kept to values a charger would send.
                let lo = if min == i64::MIN {
                    (-1000i64).min(max.saturating_sub(1000))
                } else {
                    min
                };
                let hi = if max == i64::MAX {
                    lo.saturating_add(100_000)
                } else {
                    max
                };
                let span = (hi as i128 - lo as i128 + 1) as u128;
                (lo as i128 + (self.u64() as u128 % span) as i128) as i64
            }
        }
    }

    /// A number within the schema's `minimum`/`maximum`, a multiple of `step = (num, den)`
    /// (`multipleOf: num/den`) if given.
    pub fn num(
        &mut self,
        minimum: Option<i64>,
        maximum: Option<i64>,
        step: Option<(u64, u64)>,
    ) -> f64 {
        self.number(minimum.map(|m| m as f64), maximum.map(|m| m as f64), step)
    }

    /// A finite number within the bounds, a multiple of `step = (num, den)` if given.
    pub fn number(&mut self, min: Option<f64>, max: Option<f64>, step: Option<(u64, u64)>) -> f64 {
        let lo = min.unwrap_or(max.map_or(-1.0e6, |m| m - 1.0e6));
        let hi = max.unwrap_or(lo + 1.0e6);
        let unit = (self.u64() >> 11) as f64 / (1u64 << 53) as f64;
        let mut v = match self.below(8) {
            0 => lo,
            1 => hi,
            2 => round(lo + (hi - lo) * unit),
            _ => lo + (hi - lo) * unit,
        };
        if let Some((num, den)) = step {
            let (num, den) = (num as f64, den as f64);
            v = round(v * den / num) * num / den;
            if v > hi {
                v -= num / den;
                v = round(v * den / num) * num / den;
            }
            if v < lo {
                v += num / den;
                v = round(v * den / num) * num / den;
            }
        }
        v
    }

    /// An array of `min..=max` elements (at most three more than `min`).
    pub fn array<T>(
        &mut self,
        min: usize,
        max: Option<usize>,
        mut f: impl FnMut(&mut Gen<'a>) -> T,
    ) -> Vec<T> {
        let limit = max
            .unwrap_or(usize::MAX)
            .min(min.saturating_add(if self.depth > 3 { 1 } else { 3 }));
        let len = min + self.below((limit - min) as u64 + 1) as usize;
        self.depth += 1;
        let items = (0..len).map(|_| f(self)).collect();
        self.depth -= 1;
        items
    }

    /// A string of at most `max` characters (`None`: unbounded), often empty or exactly `max`.
    pub fn string(&mut self, max: Option<usize>) -> String {
        let cap = max.unwrap_or(40);
        let len = match self.below(8) {
            0 => 0,
            1 => cap,
            _ => self.below(cap.min(24) as u64 + 1) as usize,
        };
        let ascii_only = self.one_in(3);
        (0..len)
            .map(|_| {
                if ascii_only {
                    *self.pick(&ALPHABET[..9])
                } else {
                    *self.pick(ALPHABET)
                }
            })
            .collect()
    }

    /// An absolute URI.
    pub fn uri(&mut self) -> String {
        let scheme = *self.pick(&["https", "ftp", "ftps", "sftp", "http"]);
        alloc::format!(
            "{scheme}://host{}.example/path/{}?x={}",
            self.below(100),
            self.below(1000),
            self.below(10)
        )
    }

    /// Extra properties for an open object: usually none, sometimes vendor data.
    pub fn extra(&mut self) -> Map {
        let mut map = Map::new();
        if self.one_in(4) {
            map.insert(String::from("vendorField"), self.generate());
        }
        map
    }
}

impl<T: Generate> Generate for alloc::boxed::Box<T> {
    fn generate(g: &mut Gen<'_>) -> Self {
        alloc::boxed::Box::new(T::generate(g))
    }
}

impl Generate for bool {
    fn generate(g: &mut Gen<'_>) -> Self {
        g.one_in(2)
    }
}

impl Generate for String {
    fn generate(g: &mut Gen<'_>) -> Self {
        g.string(None)
    }
}

impl<const N: usize> Generate for BoundedString<N> {
    fn generate(g: &mut Gen<'_>) -> Self {
        // Keep generated certificates and the like to a sensible size now and then.
        let max = if N > 64 && !g.one_in(8) { 64 } else { N };
        BoundedString::truncating(&g.string(Some(max)))
    }
}

/// 1970-01-01T00:00:00Z, checked at compile time.
const EPOCH: DateTime = match DateTime::from_unix(0, 0) {
    Some(t) => t,
    None => panic!("the epoch is a valid date-time"),
};

impl Generate for DateTime {
    fn generate(g: &mut Gen<'_>) -> Self {
        // 2000-01-01 .. 2100-01-01, at second, millisecond or nanosecond precision.
        let seconds = 946_684_800 + g.below(3_155_760_000) as i64;
        let nanos = match g.below(3) {
            0 => 0,
            1 => g.below(1000) as u32 * 1_000_000,
            _ => g.below(1_000_000_000) as u32,
        };
        let offset = if g.one_in(2) {
            0
        } else {
            g.integer(-23 * 60 - 59, 23 * 60 + 59) as i16
        };
        DateTime::from_unix(seconds, nanos)
            .and_then(|t| t.with_offset(offset))
            .unwrap_or(EPOCH)
    }
}

impl Generate for Value {
    fn generate(g: &mut Gen<'_>) -> Self {
        match g.below(if g.depth > 2 { 4 } else { 6 }) {
            0 => Value::Null,
            1 => Value::Bool(g.generate()),
            2 => Value::from(g.integer(-1000, 1000)),
            3 => Value::String(g.string(Some(16))),
            4 => Value::Array(g.array(0, Some(3), |g| g.generate())),
            _ => {
                g.depth += 1;
                let mut map = Map::new();
                for i in 0..g.below(3) {
                    let v = g.generate();
                    map.insert(alloc::format!("k{i}"), v);
                }
                g.depth -= 1;
                Value::Object(map)
            }
        }
    }
}

/// A random value of `T` from a seed; the same seed gives the same value.
pub fn from_seed<T: Generate>(seed: u64) -> T {
    let mut source = SplitMix64(seed);
    T::generate(&mut Gen::new(&mut source))
}

/// A random value of `T` driven by fuzzer input (bits past the end of the input are zero).
#[cfg(feature = "arbitrary")]
pub fn from_unstructured<T: Generate>(u: &mut arbitrary::Unstructured<'_>) -> T {
    struct Bytes<'u, 'd>(&'u mut arbitrary::Unstructured<'d>);
    impl Source for Bytes<'_, '_> {
        fn next_u64(&mut self) -> u64 {
            let mut bytes = [0u8; 8];
            let _ = self.0.fill_buffer(&mut bytes);
            u64::from_le_bytes(bytes)
        }
    }
    T::generate(&mut Gen::new(&mut Bytes(u)))
}

/// A proptest strategy for schema-valid values of `T`.
///
/// ```
/// use proptest::prelude::*;
/// use ocpp_types::v16::MeterValuesRequest;
/// proptest!(|(m in ocpp_types::random::strategy::<MeterValuesRequest>())| {
///     let json = serde_json::to_vec(&m).unwrap();
///     prop_assert_eq!(ocpp_types::from_slice::<MeterValuesRequest>(&json).unwrap(), m);
/// });
/// ```
#[cfg(feature = "proptest")]
pub fn strategy<T: Generate + core::fmt::Debug>() -> impl proptest::strategy::Strategy<Value = T> {
    use proptest::strategy::Strategy;
    proptest::num::u64::ANY.prop_map(from_seed::<T>)
}
