//! Station identities in NATS: as key-value keys (case-folded, as the server's registry
//! compares them) and as header values (as the station sent it).
//!
//! An OCPP identity may hold any printable character (`identifierString` allows `*`, `.`,
//! `:`, `@`, ...), while a NATS key takes `[-/_=.a-zA-Z0-9]` and a header no line breaks. Every
//! byte outside `[A-Za-z0-9_-]` is written `=XX` (uppercase hex), so keys stay readable
//! (`CP-001` is `CP-001`) and the escape is reversible.

use std::fmt::Write;

/// `identity` escaped, case kept (for headers).
pub(crate) fn escape(identity: &str) -> String {
    let mut out = String::with_capacity(identity.len());
    for byte in identity.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            out.push(char::from(byte));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "={byte:02X}");
        }
    }
    out
}

/// The presence key of `identity`: escaped, ASCII case folded.
pub(crate) fn presence_key(identity: &str) -> String {
    escape(&identity.to_ascii_lowercase())
}

/// Reverses [`escape`]; `None` if `text` is not an escaped identity.
pub(crate) fn unescape(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'=' {
            let hex = tail.get(..2)?;
            let hex = std::str::from_utf8(hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = tail.get(2..)?;
        } else if first.is_ascii_alphanumeric() || first == b'-' || first == b'_' {
            bytes.push(first);
            rest = tail;
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

/// Whether `name` may name a node or a prefix: one NATS subject token that is also a valid
/// bucket and stream name.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_identities_stay_readable() {
        assert_eq!(escape("CP-001_a"), "CP-001_a");
        assert_eq!(presence_key("CP-001_A"), "cp-001_a");
    }

    #[test]
    fn every_other_byte_is_escaped_and_comes_back() {
        for identity in ["a.b", "x*y>z", "é ü", "=41", "with/slash", "a b\tc", ""] {
            let escaped = escape(identity);
            assert!(
                escaped
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'='),
                "{escaped}"
            );
            assert_eq!(unescape(&escaped).as_deref(), Some(identity));
        }
        assert_eq!(escape("a.b"), "a=2Eb");
    }

    #[test]
    fn broken_escapes_are_refused() {
        for text in ["=4", "=G1", "a.b", "=FF", "x y"] {
            assert_eq!(unescape(text), None, "{text}");
        }
    }

    #[test]
    fn tokens() {
        assert!(is_token("node-1"));
        assert!(!is_token(""));
        assert!(!is_token("a.b"));
        assert!(!is_token("a b"));
    }
}
