//! The OCPP rules of the WebSocket handshake, for every runtime adapter: the station identity in
//! the URL, the subprotocol that selects the version, the HTTP Basic-auth credentials of
//! security profiles 1 and 2, and the reconnection back-off.
//!
//! These are pure functions over strings and numbers, so the tokio adapter (server and client)
//! and the embedded adapter apply the same rules, and a fuzzer can reach them without a socket.
//!
//! ```
//! use ocpp_rpc::handshake::{self, RetryBackOff};
//! use ocpp_types::OcppVersion;
//!
//! // Server side: who is connecting, and in which version.
//! let identity = handshake::identity_from_path("/steve/websocket/CS%2D001", None)?;
//! assert_eq!(identity, "CS-001");
//! let version = handshake::choose_subprotocol("ocpp1.6, ocpp2.0.1", &[OcppVersion::V201, OcppVersion::V16]);
//! assert_eq!(version, Some(OcppVersion::V201));
//!
//! // Client side: what to offer and how to authenticate.
//! assert_eq!(handshake::offered_subprotocols(&[OcppVersion::V21, OcppVersion::V16]), "ocpp2.1, ocpp1.6");
//! let header = handshake::basic_authorization("CS-001", "0123456789abcdef");
//! let credentials = handshake::parse_basic_authorization(&header).unwrap();
//! assert_eq!((credentials.user.as_str(), credentials.password.as_str()), ("CS-001", "0123456789abcdef"));
//! # Ok::<(), handshake::IdentityError>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;
use core::time::Duration;

use base64::Engine;
use ocpp_types::OcppVersion;

/// The longest charging station identity: 48 characters (`identifierString[48]`, OCPP 2.0.1 and
/// 2.1 part 4, section 3.1.1; the 1.6 security whitepaper uses the same limit).
pub const MAX_IDENTITY_CHARS: usize = 48;

/// Why a request path carries no acceptable charging station identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The path does not start with the required prefix.
    #[error("the path is not under {prefix:?}")]
    WrongPrefix {
        /// The prefix the server requires.
        prefix: String,
    },
    /// The path has an empty segment (`//`), or ends in `/`: no identity, or an alias of one.
    #[error("the path has an empty segment")]
    EmptySegment,
    /// The identity is `.` or `..`: a dot-segment, which URL normalisation (RFC 3986, 5.2.4)
    /// removes, so it could alias another path.
    #[error("the identity is a dot-segment")]
    DotSegment,
    /// The last segment is not valid percent-encoded UTF-8.
    #[error("the identity is not valid percent-encoded UTF-8")]
    Encoding,
    /// Longer than [`MAX_IDENTITY_CHARS`].
    #[error("the identity has {0} characters; at most 48 are allowed")]
    TooLong(usize),
    /// A character outside `identifierString` (`a-z A-Z 0-9 * - _ = + | @ .`), or `:`, which
    /// separates user and password in Basic auth and so may not appear in an identity.
    #[error("the identity holds {0:?}, which an identifierString does not allow")]
    Character(char),
}

/// Whether `c` may appear in a charging station identity: the `identifierString` character set
/// of OCPP 2.0.1 / 2.1 part 2 (`a-z A-Z 0-9 * - _ = : + | @ .`) without `:` (part 4, 3.1.1,
/// as corrected by the 2.0 part 4 errata). OCPP 1.6 names no character set; the same one is
/// applied there, because the identity is also the Basic-auth user of the security whitepaper.
pub const fn is_identity_char(c: char) -> bool {
    matches!(c, 'a'..='z' | 'A'..='Z' | '0'..='9' | '*' | '-' | '_' | '=' | '+' | '|' | '@' | '.')
}

/// Checks an identity (already percent-decoded) against the rules of [`is_identity_char`] and
/// [`MAX_IDENTITY_CHARS`]. Identities are case-insensitive in the specification
/// (`identifierString`); this check keeps the case, and comparing is left to the caller.
pub fn check_identity(identity: &str) -> Result<(), IdentityError> {
    if identity.is_empty() {
        return Err(IdentityError::EmptySegment);
    }
    if identity == "." || identity == ".." {
        return Err(IdentityError::DotSegment);
    }
    if let Some(bad) = identity.chars().find(|&c| !is_identity_char(c)) {
        return Err(IdentityError::Character(bad));
    }
    // Every allowed character is ASCII, so bytes are characters.
    if identity.len() > MAX_IDENTITY_CHARS {
        return Err(IdentityError::TooLong(identity.len()));
    }
    Ok(())
}

/// The charging station identity of a connection URL's path: its last segment, percent-decoded
/// exactly once (so `%2F` can never become a path separator, and `%252F` stays `%2F`, which is
/// then refused), and checked with [`check_identity`].
///
/// With `prefix`, the path must be `prefix/<identity>` exactly (`/ocpp` and `/ocpp/` are the
/// same prefix); without, any path whose last segment is an identity is accepted
/// (`/ID`, `/ocpp/ID`, `/steve/websocket/CentralSystemService/ID`), as operators configure
/// chargers with URLs of their own choosing. A query string must be removed first.
pub fn identity_from_path(path: &str, prefix: Option<&str>) -> Result<String, IdentityError> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (head, last) = match path.rsplit_once('/') {
        Some((head, last)) => (Some(head), last),
        None => (None, path),
    };
    if let Some(head) = head {
        if head.split('/').any(str::is_empty) {
            return Err(IdentityError::EmptySegment);
        }
    }
    if let Some(prefix) = prefix {
        let wanted = prefix.trim_matches('/');
        if head.unwrap_or("") != wanted {
            return Err(IdentityError::WrongPrefix {
                prefix: prefix.to_owned(),
            });
        }
    }
    let identity = percent_encoding::percent_decode_str(last)
        .decode_utf8()
        .map_err(|_| IdentityError::Encoding)?;
    check_identity(&identity)?;
    Ok(identity.into_owned())
}

/// The value of a `Sec-WebSocket-Protocol` request header offering `versions` in order of
/// preference (`ocpp2.1, ocpp2.0.1`).
pub fn offered_subprotocols(versions: &[OcppVersion]) -> String {
    let mut header = String::new();
    for version in versions {
        if !header.is_empty() {
            header.push_str(", ");
        }
        header.push_str(version.subprotocol());
    }
    header
}

/// The server's choice: the first of `preference` that the client offers in
/// `Sec-WebSocket-Protocol` values (`offered` is one header value or several joined with `,`).
///
/// `None` means no version in common. OCPP-J then asks the server to complete the WebSocket
/// handshake without a subprotocol and close the connection at once (2.0.1 / 2.1 part 4,
/// section 3.1.2; 1.6 JSON, section 3.1.2 leaves it to the server, which does the same).
pub fn choose_subprotocol(offered: &str, preference: &[OcppVersion]) -> Option<OcppVersion> {
    preference.iter().copied().find(|version| {
        offered
            .split(',')
            .any(|name| name.trim() == version.subprotocol())
    })
}

/// The client's check of the server's answer: the version named in the response's
/// `Sec-WebSocket-Protocol`, if it is one that was offered, named exactly as it was offered
/// (`ocpp1.6`; a bare `1.6` was not offered, and RFC 6455, section 4.1, has the client fail
/// the connection). `None` (no header, or a version not offered) means the connection must
/// not be used for OCPP.
pub fn accepted_subprotocol(answer: Option<&str>, offered: &[OcppVersion]) -> Option<OcppVersion> {
    let answer = answer?.trim();
    offered
        .iter()
        .copied()
        .find(|version| version.subprotocol() == answer)
}

/// Basic-auth credentials from an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user: the charging station identity.
    pub user: String,
    /// The password (`BasicAuthPassword` on 2.x, `AuthorizationKey` on 1.6).
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The `Authorization` header value a station sends with security profiles 1 and 2:
/// `Basic base64(identity ":" password)`.
pub fn basic_authorization(identity: &str, password: &str) -> String {
    let mut plain = String::with_capacity(identity.len() + password.len() + 1);
    plain.push_str(identity);
    plain.push(':');
    plain.push_str(password);
    let mut header = String::from("Basic ");
    base64::engine::general_purpose::STANDARD.encode_string(plain.as_bytes(), &mut header);
    header
}

/// Reads a `Basic` `Authorization` header value (`None` for any other scheme or a malformed
/// value). The user is everything before the first `:`, as RFC 7617 says.
pub fn parse_basic_authorization(header: &str) -> Option<Credentials> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some(Credentials {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// Whether `password` has the form the version's specification gives the Basic-auth password:
/// on 2.0.1 and 2.1 `BasicAuthPassword` is a `passwordString` of 16 to 40 characters (part 2,
/// security); on 1.6 the security whitepaper's `AuthorizationKey` is 40 hexadecimal digits
/// (a 20-byte key, hex-encoded).
pub fn password_format_ok(version: OcppVersion, password: &str) -> bool {
    match version {
        OcppVersion::V16 => password.len() == 40 && password.bytes().all(|b| b.is_ascii_hexdigit()),
        _ => (16..=40).contains(&password.chars().count()),
    }
}

/// The reconnection back-off of OCPP 2.0.1 / 2.1 (configuration variables
/// `RetryBackOffWaitMinimum`, `RetryBackOffRandomRange`, `RetryBackOffRepeatTimes`; part 2,
/// B04 / requirement B04.FR.01 and the OCPPCommCtrlr component): the first wait is the minimum
/// plus a random part of the range; each further wait doubles, up to `repeat_times` doublings,
/// then stays. OCPP 1.6 has no such variables; stations use the same schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBackOff {
    /// `RetryBackOffWaitMinimum`.
    pub wait_minimum: Duration,
    /// `RetryBackOffRandomRange`.
    pub random_range: Duration,
    /// `RetryBackOffRepeatTimes`.
    pub repeat_times: u32,
}

impl Default for RetryBackOff {
    /// 10 s minimum, 10 s random range, 5 doublings.
    fn default() -> RetryBackOff {
        RetryBackOff {
            wait_minimum: Duration::from_secs(10),
            random_range: Duration::from_secs(10),
            repeat_times: 5,
        }
    }
}

impl RetryBackOff {
    /// The wait before reconnection attempt `attempt` (0 for the first after a loss), with
    /// `random` (any `u32`, from the caller's source of randomness) choosing the random part:
    /// `random / 2^32` of the range. Injecting the random number keeps this testable and free
    /// of any platform's random source.
    pub fn delay(&self, attempt: u32, random: u32) -> Duration {
        let range_ms = u64::try_from(self.random_range.as_millis()).unwrap_or(u64::MAX);
        // (range * random) >> 32 cannot overflow u128.
        let random_ms = ((u128::from(range_ms) * u128::from(random)) >> 32) as u64;
        let first = self
            .wait_minimum
            .saturating_add(Duration::from_millis(random_ms));
        first.saturating_mul(1 << attempt.min(self.repeat_times).min(31))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn identities_from_any_path_or_under_a_prefix() {
        for path in [
            "/CS001",
            "/ocpp/CS001",
            "/steve/websocket/CentralSystemService/CS001",
        ] {
            assert_eq!(identity_from_path(path, None), Ok("CS001".to_string()));
        }
        assert_eq!(
            identity_from_path("/ocpp/CS001", Some("/ocpp")),
            Ok("CS001".into())
        );
        assert_eq!(
            identity_from_path("/ocpp/CS001", Some("ocpp/")),
            Ok("CS001".into())
        );
        assert_eq!(identity_from_path("/CS001", Some("")), Ok("CS001".into()));
        assert!(matches!(
            identity_from_path("/other/CS001", Some("/ocpp")),
            Err(IdentityError::WrongPrefix { .. })
        ));
        assert!(matches!(
            identity_from_path("/ocpp/x/CS001", Some("/ocpp")),
            Err(IdentityError::WrongPrefix { .. })
        ));
    }

    #[test]
    fn identities_are_refused_precisely() {
        let refused = [
            ("/ocpp/", IdentityError::EmptySegment),
            ("/ocpp//x1", IdentityError::EmptySegment),
            ("//x1", IdentityError::EmptySegment),
            ("/ocpp/a%3Ab", IdentityError::Character(':')),
            ("/ocpp/a:b", IdentityError::Character(':')),
            (
                "/ocpp/..%2F..%2Fetc%2Fpasswd",
                IdentityError::Character('/'),
            ),
            ("/ocpp/%252F", IdentityError::Character('%')),
            ("/ocpp/..", IdentityError::DotSegment),
            ("/ocpp/%2E", IdentityError::DotSegment),
            ("/ocpp/a%00b", IdentityError::Character('\0')),
            ("/ocpp/a%0D%0Ab", IdentityError::Character('\r')),
            ("/ocpp/a%1Bb", IdentityError::Character('\u{1b}')),
            ("/ocpp/a%E2%80%AEb", IdentityError::Character('\u{202e}')),
            ("/ocpp/a%E2%80%8Bb", IdentityError::Character('\u{200b}')),
            ("/ocpp/CS%20001", IdentityError::Character(' ')),
            ("/ocpp/%FF", IdentityError::Encoding),
        ];
        for (path, error) in refused {
            assert_eq!(identity_from_path(path, None), Err(error), "{path}");
        }
        assert_eq!(check_identity("a.b"), Ok(()));
        assert_eq!(check_identity("..."), Ok(()));
        let long = "x".repeat(49);
        assert_eq!(
            identity_from_path(&format!("/{long}"), None),
            Err(IdentityError::TooLong(49))
        );
        assert_eq!(
            identity_from_path(&format!("/{}", &long[1..]), None),
            Ok(long[1..].into())
        );
        assert_eq!(
            identity_from_path("/ocpp/CS%2D001%40site", None),
            Ok("CS-001@site".into())
        );
    }

    #[test]
    fn subprotocols_follow_the_server_preference() {
        let prefs = [OcppVersion::V201, OcppVersion::V16];
        assert_eq!(
            choose_subprotocol("ocpp1.6, ocpp2.0.1", &prefs),
            Some(OcppVersion::V201)
        );
        assert_eq!(
            choose_subprotocol("ocpp1.6,ocpp2.0.1", &[OcppVersion::V16]),
            Some(OcppVersion::V16)
        );
        assert_eq!(
            choose_subprotocol("ocpp1.6, ocpp2.0.1", &[OcppVersion::V21]),
            None
        );
        assert_eq!(choose_subprotocol("", &prefs), None);
        assert_eq!(
            choose_subprotocol("OCPP1.6", &prefs),
            None,
            "subprotocols are case-sensitive"
        );
        assert_eq!(offered_subprotocols(&prefs), "ocpp2.0.1, ocpp1.6");
        assert_eq!(
            accepted_subprotocol(Some("ocpp1.6"), &prefs),
            Some(OcppVersion::V16)
        );
        assert_eq!(accepted_subprotocol(Some("ocpp2.1"), &prefs), None);
        assert_eq!(accepted_subprotocol(None, &prefs), None);
    }

    /// Found by the `handshake` fuzz target: a server answering `2.1` (not a subprotocol
    /// the client offered) was taken as `ocpp2.1`.
    #[test]
    fn accepted_subprotocol_is_named_exactly_as_offered() {
        let offered = [OcppVersion::V21, OcppVersion::V201, OcppVersion::V16];
        for version in offered {
            let bare = &version.subprotocol()[4..];
            assert_eq!(accepted_subprotocol(Some(bare), &offered), None, "{bare}");
            assert_eq!(
                accepted_subprotocol(Some(version.subprotocol()), &offered),
                Some(version)
            );
        }
        assert_eq!(
            accepted_subprotocol(Some(" ocpp2.1 "), &offered),
            Some(OcppVersion::V21),
            "optional whitespace around a header value is not part of it"
        );
        assert_eq!(accepted_subprotocol(Some("OCPP2.1"), &offered), None);
    }

    #[test]
    fn basic_auth_round_trips_and_checks_its_format() {
        let header = basic_authorization("CS001", "0123456789abcdef");
        assert_eq!(header, "Basic Q1MwMDE6MDEyMzQ1Njc4OWFiY2RlZg==");
        let credentials = parse_basic_authorization(&header).unwrap();
        assert_eq!(credentials.user, "CS001");
        assert_eq!(credentials.password, "0123456789abcdef");
        assert!(
            !format!("{credentials:?}").contains("0123"),
            "Debug hides the password"
        );
        assert_eq!(parse_basic_authorization("Bearer abc"), None);
        assert_eq!(parse_basic_authorization("Basic !!!"), None);
        assert_eq!(
            parse_basic_authorization("Basic Q1MwMDE="),
            None,
            "no colon"
        );
        let with_colon = parse_basic_authorization(&basic_authorization("CS", "a:b")).unwrap();
        assert_eq!(with_colon.password, "a:b");
        assert!(password_format_ok(OcppVersion::V201, "0123456789abcdef"));
        assert!(!password_format_ok(OcppVersion::V201, "short"));
        assert!(!password_format_ok(OcppVersion::V201, &"x".repeat(41)));
        assert!(!password_format_ok(OcppVersion::V16, "0123456789abcdef"));
        assert!(password_format_ok(OcppVersion::V16, &"a1".repeat(20)));
        assert!(!password_format_ok(OcppVersion::V16, &"g1".repeat(20)));
    }

    #[test]
    fn back_off_doubles_then_stays() {
        let backoff = RetryBackOff {
            wait_minimum: Duration::from_secs(10),
            random_range: Duration::from_secs(4),
            repeat_times: 3,
        };
        let half = 1 << 31;
        assert_eq!(backoff.delay(0, 0), Duration::from_secs(10));
        assert_eq!(backoff.delay(0, half), Duration::from_secs(12));
        assert_eq!(backoff.delay(1, half), Duration::from_secs(24));
        assert_eq!(backoff.delay(3, 0), Duration::from_secs(80));
        assert_eq!(backoff.delay(4, 0), Duration::from_secs(80));
        assert!(backoff.delay(u32::MAX, u32::MAX) < Duration::from_secs(112));
        assert!(backoff.delay(u32::MAX, u32::MAX) > Duration::from_secs(111));
        let huge = RetryBackOff {
            wait_minimum: Duration::MAX,
            random_range: Duration::MAX,
            repeat_times: 40,
        };
        assert_eq!(huge.delay(40, u32::MAX), Duration::MAX);
    }
}
