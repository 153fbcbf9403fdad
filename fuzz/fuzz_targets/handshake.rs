#![no_main]
//! The OCPP rules of the WebSocket handshake (`ocpp_rpc::handshake`) on arbitrary input: the
//! bytes are split into a request path (and a prefix a server may require), a
//! `Sec-WebSocket-Protocol` offer and answer, an `Authorization` header, Basic-auth credentials
//! and the numbers of a reconnection back-off. None of these functions may panic, and:
//!
//! - `identity_from_path`: an identity it returns has 1 to 48 characters of `identifierString`
//!   without `:` (`a-z A-Z 0-9 * - _ = + | @ .`, restated here, not taken from the library), so
//!   never a `/`, and is not `.` or `..`; `check_identity` accepts it; `/<identity>` gives it
//!   back; and an identity accepted under a prefix is the identity of the same path without one
//!   (a prefix only ever narrows what is accepted).
//! - `choose_subprotocol`: its choice is a version of the preference list that the offer names
//!   (a comma-separated list, entries trimmed, exact and case-sensitive), and the first such;
//!   `None` only when the offer names none of them.
//! - `accepted_subprotocol`: the client accepts only a version it offered, named exactly
//!   (`ocpp1.6`, not `1.6`).
//! - `parse_basic_authorization(basic_authorization(u, p))` gives `(u, p)` back for any `u`
//!   without `:` and any `p`; whatever it reads from an arbitrary header has a user without
//!   `:` and survives the same round trip.
//! - `password_format_ok` holds only for 40 hex digits on 1.6 and 16 to 40 characters on 2.x.
//! - `RetryBackOff::delay` is at least the minimum wait, never decreases as `attempt` grows,
//!   and stops growing after `repeat_times` doublings.

use core::time::Duration;

use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use ocpp_rpc::handshake::{
    self, MAX_IDENTITY_CHARS, RetryBackOff, accepted_subprotocol, basic_authorization,
    check_identity, choose_subprotocol, identity_from_path, parse_basic_authorization,
    password_format_ok,
};
use ocpp_types::OcppVersion;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    path: &'a str,
    prefix: Option<&'a str>,
    offered: &'a str,
    preference: Vec<u8>,
    answer: Option<&'a str>,
    authorization: &'a str,
    user: &'a str,
    password: &'a str,
    wait_minimum_ms: u64,
    wait_minimum_nanos: u32,
    random_range_ms: u64,
    repeat_times: u32,
    attempt: u32,
    random: u32,
}

/// `identifierString` without `:`, as OCPP 2.0.1 part 2 and part 4 (3.1.1, with the errata)
/// define it.
fn identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "*-_=+|@.".contains(c)
}

fn versions(bytes: &[u8]) -> Vec<OcppVersion> {
    bytes
        .iter()
        .take(4)
        .map(|b| OcppVersion::ALL[*b as usize % 3])
        .collect()
}

fn names(offer: &str, version: OcppVersion) -> bool {
    offer
        .split(',')
        .any(|name| name.trim() == version.subprotocol())
}

fn check_path(path: &str, prefix: Option<&str>) {
    let Ok(identity) = identity_from_path(path, prefix) else {
        return;
    };
    let chars = identity.chars().count();
    assert!(
        (1..=MAX_IDENTITY_CHARS).contains(&chars),
        "{path:?}: identity {identity:?} has {chars} characters"
    );
    assert!(
        identity.chars().all(identifier_char),
        "{path:?}: identity {identity:?} holds a character outside identifierString"
    );
    assert!(!identity.contains('/'), "{path:?}: {identity:?}");
    assert!(
        identity != "." && identity != "..",
        "{path:?}: dot-segment {identity:?}"
    );
    assert_eq!(check_identity(&identity), Ok(()), "{path:?}");
    assert_eq!(
        identity_from_path(&format!("/{identity}"), None).as_deref(),
        Ok(identity.as_str()),
        "an identity is not its own path"
    );
    if prefix.is_some() {
        assert_eq!(
            identity_from_path(path, None).as_deref(),
            Ok(identity.as_str()),
            "{path:?} under {prefix:?} gives {identity:?}, but not without the prefix"
        );
    }
}

fn check_subprotocols(input: &Input<'_>) {
    let preference = versions(&input.preference);
    let chosen = choose_subprotocol(input.offered, &preference);
    let first_named = preference
        .iter()
        .copied()
        .find(|v| names(input.offered, *v));
    assert_eq!(
        chosen, first_named,
        "offer {:?}, preference {preference:?}",
        input.offered
    );
    if let Some(version) = chosen {
        // The client's check of the server's choice, written as the server writes it.
        assert_eq!(
            accepted_subprotocol(Some(version.subprotocol()), &preference),
            Some(version)
        );
    }
    // The offer the client writes names each version it offers.
    let offer = handshake::offered_subprotocols(&preference);
    for version in &preference {
        assert!(names(&offer, *version), "{offer:?} lacks {version:?}");
    }
    if let Some(version) = accepted_subprotocol(input.answer, &preference) {
        assert!(preference.contains(&version), "{version:?} was not offered");
        let answer = input.answer.unwrap_or_default();
        assert_eq!(
            answer.trim(),
            version.subprotocol(),
            "the server answered {answer:?}, which is not the subprotocol of {version:?}"
        );
    }
}

fn check_basic_auth(input: &Input<'_>) {
    if !input.user.contains(':') {
        let header = basic_authorization(input.user, input.password);
        let Some(credentials) = parse_basic_authorization(&header) else {
            panic!("our own header does not parse: {header:?}");
        };
        assert_eq!(credentials.user, input.user);
        assert_eq!(credentials.password, input.password);
    }
    if let Some(credentials) = parse_basic_authorization(input.authorization) {
        assert!(!credentials.user.contains(':'), "{:?}", input.authorization);
        let again = parse_basic_authorization(&basic_authorization(
            &credentials.user,
            &credentials.password,
        ));
        assert_eq!(again, Some(credentials));
    }
    for version in OcppVersion::ALL {
        let ok = password_format_ok(version, input.password);
        let expected = match version {
            OcppVersion::V16 => {
                input.password.len() == 40 && input.password.chars().all(|c| c.is_ascii_hexdigit())
            }
            _ => (16..=40).contains(&input.password.chars().count()),
        };
        assert_eq!(ok, expected, "{version:?} {:?}", input.password);
    }
}

fn check_back_off(input: &Input<'_>) {
    let wait_minimum = Duration::from_millis(input.wait_minimum_ms)
        .saturating_add(Duration::from_nanos(u64::from(input.wait_minimum_nanos)));
    let backoff = RetryBackOff {
        wait_minimum,
        random_range: Duration::from_millis(input.random_range_ms),
        repeat_times: input.repeat_times,
    };
    let attempt = input.attempt;
    let delay = backoff.delay(attempt, input.random);
    assert!(delay >= wait_minimum, "{backoff:?} {attempt}: {delay:?}");
    if let Some(next) = attempt.checked_add(1) {
        let later = backoff.delay(next, input.random);
        assert!(
            later >= delay,
            "{backoff:?}: attempt {next} waits {later:?} < {delay:?}"
        );
    }
    // Doubling stops: every attempt past the last doubling waits as long as the last one.
    assert!(backoff.delay(u32::MAX, input.random) >= delay);
    if attempt >= input.repeat_times {
        assert_eq!(delay, backoff.delay(input.repeat_times, input.random));
    }
    // The random part is below the range: at most one range above the minimum, doubled.
    let first = backoff.delay(0, input.random);
    assert!(first <= wait_minimum.saturating_add(backoff.random_range));
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    check_path(input.path, input.prefix);
    check_path(input.path, None);
    check_subprotocols(&input);
    check_basic_auth(&input);
    check_back_off(&input);
});
