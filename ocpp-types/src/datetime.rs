//! [`DateTime`]: `format: date-time`, an RFC 3339 date-time with a UTC offset.
//!
//! The accepted strings are exactly the ones the `jsonschema` crate (0.60) accepts for
//! `format: date-time` (the test suite compares the two), which is RFC 3339 section 5.6
//! `date-time` with these readings:
//! - `T` and `Z` may be lowercase (RFC 3339 section 5.6 allows it);
//! - the separator must be `T`: a space is refused (RFC 3339 permits it only as an
//!   application-specific choice);
//! - a leap second (`:60`) is accepted on any date, as long as the time in UTC is `23:59:60`;
//! - any number of fractional digits; digits past the ninth (nanoseconds) are dropped;
//! - offsets run from `-23:59` to `+23:59`, and `-00:00` is read as `Z`;
//! - years `0000` to `9999`, with the proleptic Gregorian calendar (`0000-02-29` exists).
//!
//! One deliberate difference: `jsonschema` 0.60.2 reads its two- and four-digit fields with a
//! word-at-a-time trick that also takes any of the bytes `*+,-./` for a digit (so it accepts
//! `2024-01-0/T00:00:00Z` as the 15th). This parser requires ASCII digits, like RFC 3339.

use core::fmt;
use core::ops::RangeInclusive;
use core::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use crate::error::rule::{self, Rule};

const NANOS_PER_SEC: u32 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;
/// The largest offset, in minutes: `23:59`.
const MAX_OFFSET: i16 = 23 * 60 + 59;
/// `0000-01-01T00:00:00`, in seconds from 1970-01-01T00:00:00 in the same offset.
const MIN_LOCAL: i64 = days_from_civil(0, 1, 1) * SECS_PER_DAY;
/// `9999-12-31T23:59:59`, in seconds from 1970-01-01T00:00:00 in the same offset.
const MAX_LOCAL: i64 = days_from_civil(9999, 12, 31) * SECS_PER_DAY + SECS_PER_DAY - 1;

/// An RFC 3339 date-time with a UTC offset: the type of every `format: date-time` field.
///
/// It holds an instant (Unix seconds and nanoseconds) and the offset it was written with, so
/// it prints back in the same offset. Two values are equal only if both the instant and the
/// offset are; they are ordered by instant, then by offset. Years run from 0000 to 9999.
///
/// A leap second (`23:59:60` UTC) is stored as second 59 with [`nanosecond`](Self::nanosecond)
/// at 1,000,000,000 or more, as `chrono` does.
///
/// ```
/// use ocpp_types::DateTime;
///
/// let t: DateTime = "2024-01-01T00:00:00.5+05:30".parse()?;
/// assert_eq!(t.unix_timestamp(), 1_704_047_400);
/// assert_eq!((t.hour(), t.minute(), t.nanosecond()), (0, 0, 500_000_000));
/// assert_eq!(t.to_string(), "2024-01-01T00:00:00.500+05:30");
/// assert_eq!(t.with_offset(0).unwrap().to_string(), "2023-12-31T18:30:00.500Z");
/// assert!("2024-01-01 00:00:00Z".parse::<DateTime>().is_err());
/// # Ok::<(), ocpp_types::DateTimeError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateTime {
    /// Seconds since 1970-01-01T00:00:00Z, not counting leap seconds.
    secs: i64,
    /// Nanoseconds past `secs`: 1,000,000,000 or more during a leap second.
    nanos: u32,
    /// The offset from UTC in minutes, within `±MAX_OFFSET`.
    offset: i16,
}

/// Why a string is not an RFC 3339 date-time, or why a value cannot be converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeError {
    what: &'static str,
    reason: &'static str,
}

impl DateTimeError {
    const fn invalid(reason: &'static str) -> Self {
        DateTimeError {
            what: "not an RFC 3339 date-time",
            reason,
        }
    }

    const fn unrepresentable(reason: &'static str) -> Self {
        DateTimeError {
            what: "date-time not representable",
            reason,
        }
    }

    /// What was wrong, e.g. `"month out of range (01-12)"`.
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

impl fmt::Display for DateTimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

impl core::error::Error for DateTimeError {}

impl DateTime {
    /// 1970-01-01T00:00:00Z.
    pub const UNIX_EPOCH: DateTime = DateTime {
        secs: 0,
        nanos: 0,
        offset: 0,
    };

    /// The current time from the system clock, in UTC, to the millisecond (what a charger or
    /// CSMS puts in a timestamp). A clock before 1970 or after 9999 reads as the epoch.
    #[cfg(feature = "std")]
    pub fn now() -> DateTime {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since.as_secs())
            .ok()
            .and_then(|secs| DateTime::from_unix(secs, since.subsec_millis() * 1_000_000))
            .unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// The UTC date-time `seconds` after 1970-01-01T00:00:00Z, plus `nanos` nanoseconds.
    ///
    /// `None` if the year falls outside 0000 to 9999, or if `nanos` is 2,000,000,000 or more.
    /// `nanos` of 1,000,000,000 or more marks a leap second, which is only allowed at
    /// 23:59:59 UTC (it then reads as `23:59:60`).
    pub const fn from_unix(seconds: i64, nanos: u32) -> Option<DateTime> {
        match Self::from_parts(seconds, nanos, 0) {
            Ok(value) => Some(value),
            Err(_) => None,
        }
    }

    /// The same instant written with another UTC offset, in minutes (east of UTC positive).
    ///
    /// `None` if the offset is not within ±23:59, or the date in that offset falls outside the
    /// years 0000 to 9999.
    pub const fn with_offset(self, offset_minutes: i16) -> Option<Self> {
        match Self::from_parts(self.secs, self.nanos, offset_minutes) {
            Ok(value) => Some(value),
            Err(_) => None,
        }
    }

    /// Seconds since 1970-01-01T00:00:00Z, not counting leap seconds (a leap second counts as
    /// the second before it).
    pub const fn unix_timestamp(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds past the second: below 1,000,000,000, except during a leap second.
    pub const fn nanosecond(&self) -> u32 {
        self.nanos
    }

    /// The UTC offset in minutes, east of UTC positive (`+05:30` is 330).
    pub const fn offset_minutes(&self) -> i16 {
        self.offset
    }

    /// The year in the value's own offset, 0 to 9999.
    pub const fn year(&self) -> u16 {
        self.civil().0
    }

    /// The month in the value's own offset, 1 to 12.
    pub const fn month(&self) -> u8 {
        self.civil().1
    }

    /// The day of the month in the value's own offset, 1 to 31.
    pub const fn day(&self) -> u8 {
        self.civil().2
    }

    /// The hour in the value's own offset, 0 to 23.
    pub const fn hour(&self) -> u8 {
        (self.second_of_day() / 3600) as u8
    }

    /// The minute, 0 to 59.
    pub const fn minute(&self) -> u8 {
        (self.second_of_day() / 60 % 60) as u8
    }

    /// The second, 0 to 59 (59 during a leap second, see [`nanosecond`](Self::nanosecond)).
    pub const fn second(&self) -> u8 {
        (self.second_of_day() % 60) as u8
    }

    /// Checks every invariant: nanoseconds below 2e9 and beyond 1e9 only at 23:59:59 UTC, the
    /// offset within ±23:59, and the local date within the years 0000 to 9999.
    const fn from_parts(secs: i64, nanos: u32, offset: i16) -> Result<Self, DateTimeError> {
        if nanos >= 2 * NANOS_PER_SEC {
            return Err(DateTimeError::unrepresentable("nanoseconds out of range"));
        }
        if nanos >= NANOS_PER_SEC && secs.rem_euclid(SECS_PER_DAY) != SECS_PER_DAY - 1 {
            return Err(DateTimeError::unrepresentable(
                "leap second not at 23:59:60 UTC",
            ));
        }
        if offset < -MAX_OFFSET || offset > MAX_OFFSET {
            return Err(DateTimeError::unrepresentable("UTC offset beyond ±23:59"));
        }
        match secs.checked_add(offset as i64 * 60) {
            Some(local) if MIN_LOCAL <= local && local <= MAX_LOCAL => Ok(DateTime {
                secs,
                nanos,
                offset,
            }),
            _ => Err(DateTimeError::unrepresentable("year outside 0000-9999")),
        }
    }

    /// Seconds since 1970-01-01T00:00:00 in the value's own offset.
    const fn local_secs(&self) -> i64 {
        self.secs + self.offset as i64 * 60
    }

    const fn second_of_day(&self) -> i64 {
        self.local_secs().rem_euclid(SECS_PER_DAY)
    }

    /// Year, month, day in the value's own offset.
    const fn civil(&self) -> (u16, u8, u8) {
        let (year, month, day) = civil_from_days(self.local_secs().div_euclid(SECS_PER_DAY));
        (year as u16, month, day)
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, <https://howardhinnant.github.io/date_algorithms.html>).
const fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // [0, 399]
    let month_from_march = (month as i64 + 9) % 12; // March = 0
    let day_of_year = (153 * month_from_march + 2) / 5 + day as i64 - 1; // [0, 365]
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
const fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097; // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // March = 0
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u8;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month as u8, day)
}

const fn is_leap_year(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The `len` ASCII digits at `at`, as a number; `None` if any is missing or not a digit.
fn digits(bytes: &[u8], at: usize, len: usize) -> Option<u32> {
    bytes.get(at..at + len)?.iter().try_fold(0, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// The two-digit field at `at`, which must lie in `range`.
fn field(
    bytes: &[u8],
    at: usize,
    range: RangeInclusive<u32>,
    missing: &'static str,
    out_of_range: &'static str,
) -> Result<u32, DateTimeError> {
    match digits(bytes, at, 2) {
        None => Err(DateTimeError::invalid(missing)),
        Some(n) if !range.contains(&n) => Err(DateTimeError::invalid(out_of_range)),
        Some(n) => Ok(n),
    }
}

/// Requires the byte `expected` at `at`.
fn separator(
    bytes: &[u8],
    at: usize,
    expected: u8,
    reason: &'static str,
) -> Result<(), DateTimeError> {
    if bytes.get(at) == Some(&expected) {
        Ok(())
    } else {
        Err(DateTimeError::invalid(reason))
    }
}

fn parse(s: &str) -> Result<DateTime, DateTimeError> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(DateTimeError::invalid("empty string"));
    }
    let year = digits(b, 0, 4).ok_or(DateTimeError::invalid("expected a 4-digit year"))?;
    separator(b, 4, b'-', "expected '-' after the year")?;
    let month = field(
        b,
        5,
        1..=12,
        "expected a 2-digit month",
        "month out of range (01-12)",
    )?;
    separator(b, 7, b'-', "expected '-' after the month")?;
    let days_in_month = match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let day = field(
        b,
        8,
        1..=days_in_month,
        "expected a 2-digit day",
        "day out of range for the month",
    )?;
    // RFC 3339 allows a space here "for the sake of readability"; JSON Schema (and jsonschema)
    // does not.
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return Err(DateTimeError::invalid(
            "expected 'T' between the date and the time",
        ));
    }
    let hour = field(
        b,
        11,
        0..=23,
        "expected a 2-digit hour",
        "hour out of range (00-23)",
    )?;
    separator(b, 13, b':', "expected ':' after the hour")?;
    let minute = field(
        b,
        14,
        0..=59,
        "expected a 2-digit minute",
        "minute out of range (00-59)",
    )?;
    separator(b, 16, b':', "expected ':' after the minute")?;
    let second = field(
        b,
        17,
        0..=60,
        "expected a 2-digit second",
        "second out of range (00-60)",
    )?;

    let mut at = 19;
    let mut nanos = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while let Some(&digit) = b.get(at).filter(|b| b.is_ascii_digit()) {
            if at - start < 9 {
                nanos = nanos * 10 + u32::from(digit - b'0');
            }
            at += 1;
        }
        if at == start {
            return Err(DateTimeError::invalid(
                "expected digits after the decimal point",
            ));
        }
        for _ in (at - start).min(9)..9 {
            nanos *= 10;
        }
    }

    let offset = match b.get(at) {
        None => return Err(DateTimeError::invalid("missing UTC offset ('Z' or ±HH:MM)")),
        Some(b'Z' | b'z') => {
            at += 1;
            0
        }
        Some(&sign @ (b'+' | b'-')) => {
            let hours = field(
                b,
                at + 1,
                0..=23,
                "expected ±HH:MM as UTC offset",
                "offset hour out of range (00-23)",
            )?;
            separator(b, at + 3, b':', "expected ±HH:MM as UTC offset")?;
            let minutes = field(
                b,
                at + 4,
                0..=59,
                "expected ±HH:MM as UTC offset",
                "offset minute out of range (00-59)",
            )?;
            at += 6;
            // At most 23 * 60 + 59: fits.
            let offset = (hours * 60 + minutes) as i16;
            if sign == b'-' { -offset } else { offset }
        }
        Some(_) => {
            return Err(DateTimeError::invalid(
                "expected 'Z', '+' or '-' after the time",
            ));
        }
    };
    if at != b.len() {
        return Err(DateTimeError::invalid(
            "unexpected characters after the UTC offset",
        ));
    }

    let local = days_from_civil(i64::from(year), month as u8, day as u8) * SECS_PER_DAY
        + i64::from(hour * 3600 + minute * 60 + second.min(59));
    let secs = local - i64::from(offset) * 60;
    if second == 60 {
        // As jsonschema does, a leap second is allowed on any day, but only at 23:59:60 UTC.
        if secs.rem_euclid(SECS_PER_DAY) != SECS_PER_DAY - 1 {
            return Err(DateTimeError::invalid(
                "leap second (:60) only at 23:59:60 UTC",
            ));
        }
        nanos += NANOS_PER_SEC;
    }
    Ok(DateTime {
        secs,
        nanos,
        offset,
    })
}

impl FromStr for DateTime {
    type Err = DateTimeError;

    /// Parses an RFC 3339 date-time, as JSON Schema's `format: date-time` defines it.
    fn from_str(s: &str) -> Result<Self, DateTimeError> {
        parse(s)
    }
}

impl TryFrom<&str> for DateTime {
    type Error = DateTimeError;

    /// Parses an RFC 3339 date-time, as [`FromStr`] does.
    fn try_from(s: &str) -> Result<Self, DateTimeError> {
        parse(s)
    }
}

/// The longest canonical form: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+HH:MM`.
pub(crate) const MAX_TEXT: usize = 35;

impl DateTime {
    /// Writes the canonical form into `buf` without going through `fmt` (serializing a date-time
    /// is on the hot path of every OCPP response that carries one).
    pub(crate) fn write_text<'b>(&self, buf: &'b mut [u8; MAX_TEXT]) -> &'b str {
        fn digits(out: &mut [u8], mut value: u32) {
            for slot in out.iter_mut().rev() {
                *slot = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        let (year, month, day) = self.civil();
        let (leap, nanos) = match self.nanos.checked_sub(NANOS_PER_SEC) {
            Some(nanos) => (1, nanos),
            None => (0, self.nanos),
        };
        digits(&mut buf[0..4], u32::from(year));
        buf[4] = b'-';
        digits(&mut buf[5..7], u32::from(month));
        buf[7] = b'-';
        digits(&mut buf[8..10], u32::from(day));
        buf[10] = b'T';
        digits(&mut buf[11..13], u32::from(self.hour()));
        buf[13] = b':';
        digits(&mut buf[14..16], u32::from(self.minute()));
        buf[16] = b':';
        digits(&mut buf[17..19], u32::from(self.second() + leap));
        let mut len = 19;
        let fraction = if nanos == 0 {
            None
        } else if nanos % 1_000_000 == 0 {
            Some((nanos / 1_000_000, 3))
        } else if nanos % 1_000 == 0 {
            Some((nanos / 1_000, 6))
        } else {
            Some((nanos, 9))
        };
        if let Some((value, width)) = fraction {
            buf[len] = b'.';
            digits(&mut buf[len + 1..len + 1 + width], value);
            len += 1 + width;
        }
        if self.offset == 0 {
            buf[len] = b'Z';
            len += 1;
        } else {
            let minutes = u32::from(self.offset.unsigned_abs());
            buf[len] = if self.offset < 0 { b'-' } else { b'+' };
            digits(&mut buf[len + 1..len + 3], minutes / 60);
            buf[len + 3] = b':';
            digits(&mut buf[len + 4..len + 6], minutes % 60);
            len += 6;
        }
        // Only ASCII digits and separators were written.
        core::str::from_utf8(&buf[..len]).unwrap_or_default()
    }
}

/// The canonical RFC 3339 form: `YYYY-MM-DDTHH:MM:SS`, a fraction of 3, 6 or 9 digits only if
/// the nanoseconds are not zero, then `Z` for UTC or `±HH:MM`.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write_text(&mut [0; MAX_TEXT]))
    }
}

/// Prints the RFC 3339 form, as [`Display`](fmt::Display) does.
impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Serializes as the canonical RFC 3339 string.
impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.write_text(&mut [0; MAX_TEXT]))
    }
}

/// Deserializes from an RFC 3339 string; a bad string fails with
/// `invalid format (date-time): <reason>`.
impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(DateTimeVisitor)
    }
}

/// Reads a [`DateTime`] from an RFC 3339 string.
pub(crate) struct DateTimeVisitor;

impl Visitor<'_> for DateTimeVisitor {
    type Value = DateTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date-time string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DateTime, E> {
        parse(v).map_err(|e| rule::de_error(Rule::DateTime, e.reason))
    }
}

/// Reads a UTC offset in seconds as whole minutes within ±23:59.
#[cfg(any(feature = "chrono", feature = "time"))]
fn offset_from_seconds(seconds: i32) -> Result<i16, DateTimeError> {
    if seconds % 60 != 0 {
        return Err(DateTimeError::unrepresentable(
            "UTC offset is not a whole number of minutes",
        ));
    }
    i16::try_from(seconds / 60)
        .ok()
        .filter(|minutes| minutes.unsigned_abs() <= MAX_OFFSET.unsigned_abs())
        .ok_or(DateTimeError::unrepresentable("UTC offset beyond ±23:59"))
}

/// Keeps the instant and the offset; fails for a year outside 0000-9999 (in that offset), an
/// offset with seconds, or a leap second other than 23:59:60 UTC.
#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> TryFrom<chrono::DateTime<Tz>> for DateTime {
    type Error = DateTimeError;

    fn try_from(value: chrono::DateTime<Tz>) -> Result<Self, DateTimeError> {
        use chrono::Offset;
        let offset = offset_from_seconds(value.offset().fix().local_minus_utc())?;
        DateTime::from_parts(value.timestamp(), value.timestamp_subsec_nanos(), offset)
    }
}

/// The same instant in UTC. Never fails: chrono's range covers every [`DateTime`].
#[cfg(feature = "chrono")]
impl From<DateTime> for chrono::DateTime<chrono::Utc> {
    fn from(value: DateTime) -> Self {
        // Leap seconds are always at 23:59:59 UTC, which chrono accepts.
        chrono::DateTime::from_timestamp(value.secs, value.nanos)
            .expect("every DateTime is within chrono's range")
    }
}

/// The same instant and offset. Never fails: chrono's range covers every [`DateTime`].
#[cfg(feature = "chrono")]
impl From<DateTime> for chrono::DateTime<chrono::FixedOffset> {
    fn from(value: DateTime) -> Self {
        let offset = chrono::FixedOffset::east_opt(i32::from(value.offset) * 60)
            .expect("a DateTime's offset is within ±23:59");
        chrono::DateTime::<chrono::Utc>::from(value).with_timezone(&offset)
    }
}

/// Keeps the instant and the offset; fails for a year outside 0000-9999 (in that offset), or an
/// offset with seconds or beyond ±23:59.
#[cfg(feature = "time")]
impl TryFrom<time::OffsetDateTime> for DateTime {
    type Error = DateTimeError;

    fn try_from(value: time::OffsetDateTime) -> Result<Self, DateTimeError> {
        let offset = offset_from_seconds(value.offset().whole_seconds())?;
        DateTime::from_parts(value.unix_timestamp(), value.nanosecond(), offset)
    }
}

/// The same date, time and offset; fails only for a leap second, which `time` cannot hold.
#[cfg(feature = "time")]
impl TryFrom<DateTime> for time::OffsetDateTime {
    type Error = DateTimeError;

    fn try_from(value: DateTime) -> Result<Self, DateTimeError> {
        if value.nanos >= NANOS_PER_SEC {
            return Err(DateTimeError::unrepresentable(
                "leap second (the time crate has none)",
            ));
        }
        let out_of_range = |_| DateTimeError::unrepresentable("out of the time crate's range");
        let month = time::Month::try_from(value.month()).map_err(out_of_range)?;
        let date = time::Date::from_calendar_date(i32::from(value.year()), month, value.day())
            .map_err(out_of_range)?;
        let time =
            time::Time::from_hms_nano(value.hour(), value.minute(), value.second(), value.nanos)
                .map_err(out_of_range)?;
        let offset = time::UtcOffset::from_whole_seconds(i32::from(value.offset) * 60)
            .map_err(out_of_range)?;
        // Built from the local date and time: the UTC date may be in year -1 or 10000.
        Ok(time::OffsetDateTime::new_in_offset(date, time, offset))
    }
}

/// `{"type": "string", "format": "date-time"}`, inlined where it is used.
#[cfg(feature = "schemars")]
impl schemars::JsonSchema for DateTime {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> alloc::borrow::Cow<'static, str> {
        "DateTime".into()
    }

    fn schema_id() -> alloc::borrow::Cow<'static, str> {
        concat!(module_path!(), "::DateTime").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date-time" })
    }
}

/// Any valid value: a local date-time in the years 0000 to 9999, an offset within ±23:59, and
/// nanoseconds below 1e9 (no leap seconds).
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for DateTime {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let offset = u.int_in_range(-MAX_OFFSET..=MAX_OFFSET)?;
        let local = u.int_in_range(MIN_LOCAL..=MAX_LOCAL)?;
        let nanos = u.int_in_range(0..=NANOS_PER_SEC - 1)?;
        DateTime::from_parts(local - i64::from(offset) * 60, nanos, offset)
            .map_err(|_| arbitrary::Error::IncorrectFormat)
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (0, Some(2 + 8 + 4))
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    use super::*;

    fn dt(s: &str) -> DateTime {
        match s.parse() {
            Ok(value) => value,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    /// `(year, month, day, hour, minute, second, nanos, offset)`.
    fn parts(t: DateTime) -> (u16, u8, u8, u8, u8, u8, u32, i16) {
        let (y, mo, d, h, mi, s) = (
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        );
        (y, mo, d, h, mi, s, t.nanosecond(), t.offset_minutes())
    }

    /// A small deterministic generator (SplitMix64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next() % (hi - lo + 1) as u64) as i64
        }

        /// A valid value, with nanoseconds of every precision and the odd leap second.
        fn date_time(&mut self) -> DateTime {
            let offset = match self.next() % 4 {
                0 => 0,
                1 => (self.range(-24, 24) * 30) as i16,
                _ => self.range(-1439, 1439) as i16,
            };
            let nanos = match self.next() % 5 {
                0 => 0,
                1 => self.range(0, 999) as u32 * 1_000_000,
                2 => self.range(0, 999_999) as u32 * 1_000,
                _ => self.range(0, 999_999_999) as u32,
            };
            let local = self.range(MIN_LOCAL, MAX_LOCAL);
            let secs = local - i64::from(offset) * 60;
            let leap = self.next() % 10 == 0;
            let candidate = if leap {
                DateTime::from_parts(
                    secs - secs.rem_euclid(SECS_PER_DAY) + SECS_PER_DAY - 1,
                    nanos + NANOS_PER_SEC,
                    offset,
                )
            } else {
                DateTime::from_parts(secs, nanos, offset)
            };
            candidate.unwrap_or_else(|_| DateTime::from_parts(secs, nanos, offset).unwrap())
        }
    }

    fn jsonschema_date_time() -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&serde_json::json!({"type": "string", "format": "date-time"}))
            .unwrap()
    }

    #[test]
    fn valid() {
        let cases = [
            ("2024-02-29T12:00:00Z", (2024, 2, 29, 12, 0, 0, 0, 0)),
            (
                "2024-01-01T00:00:00.123+05:30",
                (2024, 1, 1, 0, 0, 0, 123_000_000, 330),
            ),
            ("2024-01-01t00:00:00z", (2024, 1, 1, 0, 0, 0, 0, 0)),
            (
                "2024-01-01T00:00:00.5Z",
                (2024, 1, 1, 0, 0, 0, 500_000_000, 0),
            ),
            (
                "1990-12-31T23:59:60Z",
                (1990, 12, 31, 23, 59, 59, 1_000_000_000, 0),
            ),
            (
                "1990-12-31T15:59:60.25-08:00",
                (1990, 12, 31, 15, 59, 59, 1_250_000_000, -480),
            ),
            (
                "1990-12-31T23:59:60+00:00",
                (1990, 12, 31, 23, 59, 59, 1_000_000_000, 0),
            ),
            (
                "1991-01-01T00:59:60+01:00",
                (1991, 1, 1, 0, 59, 59, 1_000_000_000, 60),
            ),
            (
                "2024-06-15T23:59:60Z",
                (2024, 6, 15, 23, 59, 59, 1_000_000_000, 0),
            ),
            ("0000-01-01T00:00:00Z", (0, 1, 1, 0, 0, 0, 0, 0)),
            ("0000-02-29T00:00:00Z", (0, 2, 29, 0, 0, 0, 0, 0)),
            ("2000-02-29T00:00:00Z", (2000, 2, 29, 0, 0, 0, 0, 0)),
            (
                "9999-12-31T23:59:59.999999999Z",
                (9999, 12, 31, 23, 59, 59, 999_999_999, 0),
            ),
            ("0000-01-01T00:00:00+23:59", (0, 1, 1, 0, 0, 0, 0, 1439)),
            (
                "9999-12-31T23:59:59-23:59",
                (9999, 12, 31, 23, 59, 59, 0, -1439),
            ),
            ("2024-01-01T00:00:00-00:00", (2024, 1, 1, 0, 0, 0, 0, 0)),
            (
                "2024-01-01T00:00:00.1234567899Z",
                (2024, 1, 1, 0, 0, 0, 123_456_789, 0),
            ),
            (
                "2024-01-01T00:00:00.000000000000000001Z",
                (2024, 1, 1, 0, 0, 0, 0, 0),
            ),
            (
                "2024-04-30T10:20:30.000001-12:45",
                (2024, 4, 30, 10, 20, 30, 1_000, -765),
            ),
        ];
        for (s, expected) in cases {
            let t = dt(s);
            assert_eq!(parts(t), expected, "{s}");
            assert_eq!(DateTime::try_from(s), Ok(t));
        }
    }

    #[test]
    fn invalid() {
        let cases = [
            ("", "empty string"),
            ("2024-02-30T00:00:00Z", "day out of range for the month"),
            ("2023-02-29T00:00:00Z", "day out of range for the month"),
            ("1900-02-29T00:00:00Z", "day out of range for the month"),
            ("2024-04-31T00:00:00Z", "day out of range for the month"),
            ("2024-01-00T00:00:00Z", "day out of range for the month"),
            ("2024-01-32T00:00:00Z", "day out of range for the month"),
            ("2024-01-01T00:00:00", "missing UTC offset ('Z' or ±HH:MM)"),
            (
                "2024-01-01T00:00:00.123",
                "missing UTC offset ('Z' or ±HH:MM)",
            ),
            (
                "2024-01-01 10:00:00Z",
                "expected 'T' between the date and the time",
            ),
            (
                "2024-01-01_10:00:00Z",
                "expected 'T' between the date and the time",
            ),
            ("2024-01-01", "expected 'T' between the date and the time"),
            ("2024-13-01T00:00:00Z", "month out of range (01-12)"),
            ("2024-00-01T00:00:00Z", "month out of range (01-12)"),
            ("2024-01-01T24:00:00Z", "hour out of range (00-23)"),
            ("2024-01-01T00:60:00Z", "minute out of range (00-59)"),
            ("2024-01-01T00:00:61Z", "second out of range (00-60)"),
            (
                "2024-01-01T00:00:00+24:00",
                "offset hour out of range (00-23)",
            ),
            (
                "2024-01-01T00:00:00+01:60",
                "offset minute out of range (00-59)",
            ),
            ("2024-01-01T00:00:00+0100", "expected ±HH:MM as UTC offset"),
            ("2024-01-01T00:00:00+01", "expected ±HH:MM as UTC offset"),
            ("2024-01-01T00:00:00+1:00", "expected ±HH:MM as UTC offset"),
            (
                "2024-01-01T00:00:00+01:00:00",
                "unexpected characters after the UTC offset",
            ),
            ("2024-1-01T00:00:00Z", "expected a 2-digit month"),
            ("24-01-01T00:00:00Z", "expected a 4-digit year"),
            ("02024-01-01T00:00:00Z", "expected '-' after the year"),
            ("2024-01-01T0:00:00Z", "expected a 2-digit hour"),
            ("2024-01-01T00:00Z", "expected ':' after the minute"),
            (
                "2024-01-01T00:00:00.Z",
                "expected digits after the decimal point",
            ),
            (
                "2024-01-01T00:00:00,5Z",
                "expected 'Z', '+' or '-' after the time",
            ),
            (
                "2024-01-01T00:00:00ZZ",
                "unexpected characters after the UTC offset",
            ),
            (
                "2024-01-01T00:00:00Z ",
                "unexpected characters after the UTC offset",
            ),
            (" 2024-01-01T00:00:00Z", "expected a 4-digit year"),
            (
                "2024-01-01T00:00:00 Z",
                "expected 'Z', '+' or '-' after the time",
            ),
            (
                "2024-01-01T00:00:00UTC",
                "expected 'Z', '+' or '-' after the time",
            ),
            (
                "2024-01-01T00:00:00.5X",
                "expected 'Z', '+' or '-' after the time",
            ),
            ("２０２４-01-01T00:00:00Z", "expected a 4-digit year"),
            ("2024-01-01T00:00:0٣Z", "expected a 2-digit second"),
            ("2024-01-0１T00:00:00Z", "expected a 2-digit day"),
            (
                "1990-12-31T23:59:60+01:00",
                "leap second (:60) only at 23:59:60 UTC",
            ),
            (
                "1990-12-31T23:58:60Z",
                "leap second (:60) only at 23:59:60 UTC",
            ),
            (
                "1990-12-31T22:59:60-01:30",
                "leap second (:60) only at 23:59:60 UTC",
            ),
            // jsonschema 0.60.2 accepts this one (see the module documentation).
            ("2024-01-0/T00:00:00Z", "expected a 2-digit day"),
            ("2024-01-01T00:00:00+0-:00", "expected ±HH:MM as UTC offset"),
        ];
        for (s, reason) in cases {
            let err = s.parse::<DateTime>().unwrap_err();
            assert_eq!(err.reason(), reason, "{s:?}");
            assert_eq!(
                err.to_string(),
                format!("not an RFC 3339 date-time: {reason}")
            );
        }
    }

    #[test]
    fn display_is_canonical() {
        for (s, canonical) in [
            ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"),
            ("2024-02-29t12:00:00z", "2024-02-29T12:00:00Z"),
            ("2024-02-29T12:00:00+00:00", "2024-02-29T12:00:00Z"),
            ("2024-02-29T12:00:00-00:00", "2024-02-29T12:00:00Z"),
            ("2024-02-29T12:00:00.000Z", "2024-02-29T12:00:00Z"),
            ("2024-02-29T12:00:00.1Z", "2024-02-29T12:00:00.100Z"),
            (
                "2024-02-29T12:00:00.123+05:30",
                "2024-02-29T12:00:00.123+05:30",
            ),
            (
                "2024-02-29T12:00:00.1234-05:30",
                "2024-02-29T12:00:00.123400-05:30",
            ),
            ("2024-02-29T12:00:00.000001Z", "2024-02-29T12:00:00.000001Z"),
            (
                "2024-02-29T12:00:00.0000001Z",
                "2024-02-29T12:00:00.000000100Z",
            ),
            (
                "2024-02-29T12:00:00.1234567891Z",
                "2024-02-29T12:00:00.123456789Z",
            ),
            ("1990-12-31T23:59:60Z", "1990-12-31T23:59:60Z"),
            (
                "1990-12-31T15:59:60.5-08:00",
                "1990-12-31T15:59:60.500-08:00",
            ),
            ("0000-01-01T00:00:00+23:59", "0000-01-01T00:00:00+23:59"),
            ("9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59-23:59"),
        ] {
            let t = dt(s);
            assert_eq!(t.to_string(), canonical, "{s}");
            assert_eq!(format!("{t:?}"), canonical);
            assert_eq!(dt(canonical), t);
        }
    }

    #[test]
    fn unix_timestamps() {
        for (s, secs) in [
            ("1970-01-01T00:00:00Z", 0),
            ("1970-01-01T01:00:00+01:00", 0),
            ("1969-12-31T23:59:59Z", -1),
            ("2024-01-01T00:00:00Z", 1_704_067_200),
            ("2024-01-01T00:00:00+05:30", 1_704_047_400),
            ("2024-01-01T00:00:00-08:00", 1_704_096_000),
            ("2000-03-01T00:00:00Z", 951_868_800),
            ("2038-01-19T03:14:07Z", 2_147_483_647),
            ("0000-01-01T00:00:00Z", -62_167_219_200),
            ("0000-03-01T00:00:00Z", -62_162_035_200),
            ("0001-01-01T00:00:00Z", -62_135_596_800),
            ("9999-12-31T23:59:59Z", 253_402_300_799),
            ("1990-12-31T23:59:60Z", 662_687_999),
        ] {
            let t = dt(s);
            assert_eq!(t.unix_timestamp(), secs, "{s}");
            assert_eq!(
                DateTime::from_unix(secs, t.nanosecond()).map(|u| u.with_offset(t.offset)),
                Some(Some(t))
            );
        }
        assert_eq!(MIN_LOCAL, -62_167_219_200);
        assert_eq!(MAX_LOCAL, 253_402_300_799);
    }

    #[test]
    fn small_and_copy() {
        fn copy<T: Copy>(t: T) -> T {
            t
        }
        assert_eq!(core::mem::size_of::<DateTime>(), 16);
        let t = dt("2024-01-01T00:00:00Z");
        assert_eq!(copy(t), t);
    }

    #[test]
    fn from_unix_limits() {
        assert_eq!(
            DateTime::from_unix(0, 0).unwrap().to_string(),
            "1970-01-01T00:00:00Z"
        );
        assert!(DateTime::from_unix(MIN_LOCAL, 0).is_some());
        assert!(DateTime::from_unix(MIN_LOCAL - 1, 999_999_999).is_none());
        assert!(DateTime::from_unix(MAX_LOCAL, 999_999_999).is_some());
        assert!(DateTime::from_unix(MAX_LOCAL + 1, 0).is_none());
        assert!(DateTime::from_unix(i64::MIN, 0).is_none());
        assert!(DateTime::from_unix(i64::MAX, 0).is_none());
        assert!(DateTime::from_unix(0, 2_000_000_000).is_none());
        assert!(DateTime::from_unix(0, u32::MAX).is_none());
        // A leap second only at 23:59:59 UTC.
        assert!(DateTime::from_unix(0, 1_000_000_000).is_none());
        assert!(DateTime::from_unix(-1, 1_000_000_000).is_some());
        assert_eq!(
            DateTime::from_unix(-1, 1_999_999_999).unwrap().to_string(),
            "1969-12-31T23:59:60.999999999Z"
        );
        assert!(DateTime::from_unix(MAX_LOCAL, 1_999_999_999).is_some());
    }

    #[test]
    fn with_offset() {
        let t = dt("2024-01-01T00:00:00Z");
        let india = t.with_offset(330).unwrap();
        assert_eq!(india.to_string(), "2024-01-01T05:30:00+05:30");
        assert_eq!(india.unix_timestamp(), t.unix_timestamp());
        assert_ne!(india, t);
        assert_eq!(india.with_offset(0), Some(t));
        assert_eq!(
            t.with_offset(-1439).unwrap().to_string(),
            "2023-12-31T00:01:00-23:59"
        );
        assert_eq!(
            t.with_offset(1439).unwrap().to_string(),
            "2024-01-01T23:59:00+23:59"
        );
        for bad in [1440, -1440, i16::MIN, i16::MAX] {
            assert_eq!(t.with_offset(bad), None);
        }
        // The local year must stay within 0000-9999.
        let first = DateTime::from_unix(MIN_LOCAL, 0).unwrap();
        assert_eq!(first.with_offset(-1), None);
        assert_eq!(
            first.with_offset(1).unwrap().to_string(),
            "0000-01-01T00:01:00+00:01"
        );
        let last = DateTime::from_unix(MAX_LOCAL, 0).unwrap();
        assert_eq!(last.with_offset(1), None);
        assert_eq!(
            last.with_offset(-1).unwrap().to_string(),
            "9999-12-31T23:58:59-00:01"
        );
        // A leap second keeps its place.
        let leap = dt("2016-12-31T23:59:60.5Z");
        assert_eq!(
            leap.with_offset(-90).unwrap().to_string(),
            "2016-12-31T22:29:60.500-01:30"
        );
    }

    #[test]
    fn equality_and_order() {
        let utc = dt("2024-01-01T00:00:00Z");
        let plus = dt("2024-01-01T05:30:00+05:30");
        let minus = dt("2023-12-31T19:00:00-05:00");
        assert_eq!(utc.unix_timestamp(), plus.unix_timestamp());
        assert_ne!(utc, plus);
        // Same instant: ordered by offset.
        assert!(minus < utc && utc < plus);
        assert!(dt("2024-01-01T00:00:00.000000001-23:59") > dt("2024-01-01T00:00:00+23:59"));
        assert!(dt("2024-01-01T01:00:01+01:00") > dt("2023-12-31T23:30:00.999-00:30"));
        // A leap second sits between its neighbours.
        let before = dt("2016-12-31T23:59:59.999999999Z");
        let leap = dt("2016-12-31T23:59:60Z");
        let after = dt("2017-01-01T00:00:00Z");
        assert!(before < leap && leap < after);
        assert_eq!(
            dt("2024-02-29t12:00:00z"),
            dt("2024-02-29T12:00:00.000+00:00")
        );
    }

    #[test]
    fn civil_algorithms_agree_with_counting_days() {
        let (mut year, mut month, mut day) = (0, 1, 1);
        for days in MIN_LOCAL / SECS_PER_DAY..=MAX_LOCAL / SECS_PER_DAY {
            assert_eq!(days_from_civil(year, month, day), days);
            assert_eq!(civil_from_days(days), (year, month, day));
            let length = match month {
                2 if is_leap_year(year as u32) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > length {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
        assert_eq!((year, month, day), (10000, 1, 1));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn random_values_round_trip_and_validate() {
        let validator = jsonschema_date_time();
        let mut rng = Rng(1);
        for _ in 0..20_000 {
            let t = rng.date_time();
            let s = t.to_string();
            assert_eq!(s.parse::<DateTime>(), Ok(t), "{s}");
            assert!(
                validator.is_valid(&serde_json::Value::String(s.clone())),
                "{s}"
            );
            let (y, mo, d, h, mi, sec, nanos, offset) = parts(t);
            let leap = u8::from(nanos >= NANOS_PER_SEC);
            let prefix = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{:02}", sec + leap);
            assert!(s.starts_with(&prefix), "{s} {prefix}");
            assert_eq!(t.with_offset(offset), Some(t));
            let utc = t.with_offset(0).unwrap();
            assert_eq!(
                DateTime::from_unix(t.unix_timestamp(), t.nanosecond()),
                Some(utc)
            );
        }
    }

    /// jsonschema 0.60.2 reads its fixed-width digit fields with a SWAR trick that also takes
    /// the bytes `*+,-./` for digits: the one place this parser is stricter.
    fn jsonschema_digit_quirk(s: &str) -> bool {
        let b = s.as_bytes();
        let quirky = |i: usize| b.get(i).is_some_and(|c| (b'*'..=b'/').contains(c));
        let in_date_time = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .into_iter()
            .any(quirky);
        let in_offset = match b.len().checked_sub(6) {
            Some(sign) if matches!(b.get(sign), Some(b'+' | b'-')) => {
                [sign + 1, sign + 2, sign + 4, sign + 5]
                    .into_iter()
                    .any(quirky)
            }
            _ => false,
        };
        in_date_time || in_offset
    }

    #[test]
    fn agrees_with_jsonschema() {
        let validator = jsonschema_date_time();
        let mut inputs: Vec<String> = Vec::new();
        let seeds = [
            "2024-02-29T12:00:00Z",
            "1990-12-31T23:59:60Z",
            "1990-12-31T15:59:60-08:00",
            "2024-01-01T00:00:00.123+05:30",
            "0000-01-01t00:00:00z",
            "9999-12-31T23:59:59.999999999-23:59",
            "2023-02-28T23:59:59.5+00:00",
        ];
        let replacements = "0123456789:-+.,/*TtZz \u{7f}é٣";
        for seed in seeds {
            let chars: Vec<char> = seed.chars().collect();
            for i in 0..=chars.len() {
                let (head, tail) = chars.split_at(i);
                let head: String = head.iter().collect();
                inputs.push(format!("{head}{}", tail.iter().skip(1).collect::<String>()));
                for c in replacements.chars() {
                    inputs.push(format!(
                        "{head}{c}{}",
                        tail.iter().skip(1).collect::<String>()
                    ));
                    inputs.push(format!("{head}{c}{}", tail.iter().collect::<String>()));
                }
            }
        }
        let mut rng = Rng(2);
        for _ in 0..5_000 {
            let mut bytes = rng.date_time().to_string().into_bytes();
            let i = rng.range(0, bytes.len() as i64 - 1) as usize;
            bytes[i] = b"0123456789:-+.TZ69"[rng.range(0, 17) as usize];
            inputs.push(String::from_utf8(bytes).unwrap());
        }
        let mut quirks = 0;
        for s in &inputs {
            let ours = s.parse::<DateTime>().is_ok();
            let theirs = validator.is_valid(&serde_json::Value::String(s.clone()));
            if theirs && !ours && jsonschema_digit_quirk(s) {
                quirks += 1;
                continue;
            }
            assert_eq!(ours, theirs, "{s:?}");
        }
        assert!(inputs.len() > 10_000 && quirks < inputs.len() / 10);
    }

    #[test]
    fn serde() {
        let t = dt("2024-01-01T00:00:00.123+05:30");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#""2024-01-01T00:00:00.123+05:30""#);
        assert_eq!(serde_json::from_str::<DateTime>(&json).unwrap(), t);
        // Owned strings go through the same visitor.
        let value = serde_json::Value::String("2024-01-01T00:00:00.123+05:30".into());
        assert_eq!(serde_json::from_value::<DateTime>(value).unwrap(), t);
        // Escapes make serde_json hand over a transient string.
        assert_eq!(
            serde_json::from_str::<DateTime>(r#""2024-01-01T00:00:00.123\u002b05:30""#).unwrap(),
            t
        );

        let err = serde_json::from_str::<DateTime>(r#""2024-13-01T00:00:00Z""#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid format (date-time): month out of range (01-12)"),
            "{err}"
        );
        let err = serde_json::from_value::<DateTime>(serde_json::Value::String(String::new()))
            .unwrap_err();
        assert_eq!(err.to_string(), "invalid format (date-time): empty string");
        for not_a_string in ["5", "null", "true", "[]", "{}", "1.5"] {
            let err = serde_json::from_str::<DateTime>(not_a_string).unwrap_err();
            assert!(err.to_string().starts_with("invalid type: "), "{err}");
            assert!(
                err.to_string().contains("an RFC 3339 date-time string"),
                "{err}"
            );
        }
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono() {
        use chrono::{Datelike, FixedOffset, TimeZone, Timelike, Utc};

        let t = dt("2024-01-01T00:00:00.123456789+05:30");
        let fixed = chrono::DateTime::<FixedOffset>::from(t);
        let local = fixed.naive_local();
        assert_eq!((local.year(), local.month(), local.day()), (2024, 1, 1));
        assert_eq!((local.hour(), local.nanosecond()), (0, 123_456_789));
        assert_eq!(fixed.offset().local_minus_utc(), 19_800);
        assert_eq!(fixed.timestamp(), t.unix_timestamp());
        assert_eq!(DateTime::try_from(fixed), Ok(t));
        let utc = chrono::DateTime::<Utc>::from(t);
        assert_eq!(utc.timestamp(), t.unix_timestamp());
        assert_eq!(DateTime::try_from(utc), Ok(t.with_offset(0).unwrap()));

        let leap = dt("2016-12-31T20:59:60.5-03:00");
        let chrono_leap = chrono::DateTime::<FixedOffset>::from(leap);
        assert_eq!(chrono_leap.timestamp_subsec_nanos(), 1_500_000_000);
        assert_eq!(DateTime::try_from(chrono_leap), Ok(leap));

        let mut rng = Rng(3);
        for _ in 0..2_000 {
            let t = rng.date_time();
            assert_eq!(
                DateTime::try_from(chrono::DateTime::<FixedOffset>::from(t)),
                Ok(t)
            );
        }

        let too_late = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            DateTime::try_from(too_late).unwrap_err().reason(),
            "year outside 0000-9999"
        );
        let too_early = Utc.with_ymd_and_hms(-1, 12, 31, 23, 59, 59).unwrap();
        assert!(DateTime::try_from(too_early).is_err());
        // Within range in its own offset, though not in UTC.
        let east = FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(0, 1, 1, 0, 0, 0)
            .unwrap();
        assert_eq!(
            DateTime::try_from(east).unwrap().to_string(),
            "0000-01-01T00:00:00+01:00"
        );
        let seconds = FixedOffset::east_opt(61)
            .unwrap()
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .unwrap();
        assert!(DateTime::try_from(seconds).is_err());
        // chrono allows a leap second at the end of any minute; RFC 3339 only at 23:59:60 UTC.
        let odd_leap = chrono::DateTime::from_timestamp(59, 1_000_000_000).unwrap();
        assert!(DateTime::try_from(odd_leap).is_err());
        let extremes = [
            chrono::DateTime::<Utc>::MIN_UTC,
            chrono::DateTime::<Utc>::MAX_UTC,
        ];
        assert!(extremes.into_iter().all(|e| DateTime::try_from(e).is_err()));
    }

    #[cfg(feature = "time")]
    #[test]
    fn time() {
        let t = dt("2024-01-01T00:00:00.123456789+05:30");
        let odt = time::OffsetDateTime::try_from(t).unwrap();
        assert_eq!(odt.unix_timestamp(), t.unix_timestamp());
        assert_eq!(odt.nanosecond(), 123_456_789);
        assert_eq!(odt.offset().whole_minutes(), 330);
        assert_eq!(DateTime::try_from(odt), Ok(t));

        let mut rng = Rng(4);
        for _ in 0..2_000 {
            let t = rng.date_time();
            match time::OffsetDateTime::try_from(t) {
                Ok(odt) => assert_eq!(DateTime::try_from(odt), Ok(t)),
                Err(e) => {
                    assert!(t.nanosecond() >= NANOS_PER_SEC);
                    assert_eq!(
                        e.to_string(),
                        "date-time not representable: leap second (the time crate has none)"
                    );
                }
            }
        }
        // Local 9999-12-31 is year 10000 in UTC.
        let last = dt("9999-12-31T23:59:59-23:59");
        assert_eq!(
            DateTime::try_from(time::OffsetDateTime::try_from(last).unwrap()),
            Ok(last)
        );

        let offset = |h, m, s| time::UtcOffset::from_hms(h, m, s).unwrap();
        let base = time::OffsetDateTime::UNIX_EPOCH;
        assert!(DateTime::try_from(base.to_offset(offset(1, 0, 1))).is_err());
        assert!(DateTime::try_from(base.to_offset(offset(24, 0, 0))).is_err());
        assert!(DateTime::try_from(base.to_offset(offset(-23, -59, 0))).is_ok());
        let date = time::Date::from_calendar_date(-1, time::Month::December, 31).unwrap();
        assert!(DateTime::try_from(date.midnight().assume_utc()).is_err());
    }

    #[cfg(feature = "schemars")]
    #[test]
    fn schemars() {
        let mut generator = schemars::SchemaGenerator::default();
        let schema = generator.subschema_for::<DateTime>();
        assert_eq!(
            serde_json::to_value(&schema).unwrap(),
            serde_json::json!({"type": "string", "format": "date-time"})
        );
    }

    #[cfg(feature = "arbitrary")]
    #[test]
    fn arbitrary() {
        use arbitrary::{Arbitrary, Unstructured};

        let mut rng = Rng(5);
        let mut data = [0u8; 64];
        for round in 0..2_000 {
            let length = if round % 10 == 0 {
                round % 14
            } else {
                data.len()
            };
            data.iter_mut().for_each(|b| *b = rng.next() as u8);
            let t = DateTime::arbitrary(&mut Unstructured::new(&data[..length])).unwrap();
            assert!(t.nanosecond() < NANOS_PER_SEC);
            assert_eq!(t.to_string().parse::<DateTime>(), Ok(t));
        }
    }
}
