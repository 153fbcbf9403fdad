// Where our JSON reader and serde_json may differ, on purpose, on numbers: `include!`d by the
// targets that compare the two (`json_reader.rs`, `differential.rs`).

/// Whether `text` has a number of 16 or more digits, or an exponent: numbers that serde_json
/// (without `float_roundtrip`) may read one unit in the last place off, where ours is
/// correctly rounded.
fn has_long_number(text: &str) -> bool {
    let mut run = 0;
    text.bytes().any(|b| {
        run = match b {
            b'0'..=b'9' => run + 1,
            b'.' => run,
            _ => 0,
        };
        run >= 16 || b == b'e' || b == b'E'
    })
}

/// Whether serde_json's refusal of `text`, which ours accepts, is its inexact parse
/// overflowing on a number just above f64::MAX that rounds down to it.
fn serde_json_overflowed(text: &str, reference: &serde_json::Error) -> bool {
    has_long_number(text) && reference.to_string().starts_with("number out of range")
}

/// Whether `text` has a number that, correctly rounded, is too large for an f64 (ours refuses
/// it) while serde_json's inexact parse may read it as f64::MAX: a number just above the
/// midpoint between f64::MAX and 2^1024 (found by `json_reader`, 2026-12-02:
/// `1.79769313486231588e308`).
fn rounds_beyond_f64(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
        .any(|token| token.parse::<f64>().is_ok_and(f64::is_infinite))
}
