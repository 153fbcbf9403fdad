//! `format: uri` (1.6's firmware and diagnostics locations): RFC 3986 `URI`, an absolute URI
//! with a scheme, checked against the RFC's grammar.

/// Whether `s` matches RFC 3986's `URI` production.
pub(crate) fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    if !is_scheme(scheme) {
        return false;
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let (hier, query) = match rest.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (rest, None),
    };
    let tail_ok =
        |t: Option<&str>| t.is_none_or(|t| all_chars(t, |c| is_pchar(c) || c == '/' || c == '?'));
    if !tail_ok(query) || !tail_ok(fragment) {
        return false;
    }
    match hier.strip_prefix("//") {
        Some(after) => {
            let (authority, path) = match after.find('/') {
                Some(i) => after.split_at(i),
                None => (after, ""),
            };
            is_authority(authority) && is_path(path)
        }
        // path-absolute ("/" not followed by "/"), path-rootless or path-empty.
        None => is_path(hier),
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn is_sub_delim(c: char) -> bool {
    matches!(
        c,
        '!' | '$' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | ';' | '='
    )
}

fn is_pchar(c: char) -> bool {
    is_unreserved(c) || is_sub_delim(c) || matches!(c, ':' | '@')
}

/// Every character satisfies `ok`, where `%` must start a valid percent-encoding.
fn all_chars(s: &str, ok: impl Fn(char) -> bool) -> bool {
    let bytes = s.as_bytes();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            chars.next();
            chars.next();
        } else if !ok(c) {
            return false;
        }
    }
    true
}

fn is_path(path: &str) -> bool {
    all_chars(path, |c| is_pchar(c) || c == '/')
}

fn is_authority(authority: &str) -> bool {
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if userinfo.is_some_and(|u| !all_chars(u, |c| is_unreserved(c) || is_sub_delim(c) || c == ':'))
    {
        return false;
    }
    let (host, port) = if let Some(literal) = hostport.strip_prefix('[') {
        let Some((inside, after)) = literal.split_once(']') else {
            return false;
        };
        if !is_ip_literal(inside) {
            return false;
        }
        match after {
            "" => ("", None),
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    port.is_none_or(|p| p.chars().all(|c| c.is_ascii_digit()))
        && all_chars(host, |c| is_unreserved(c) || is_sub_delim(c))
}

fn is_ip_literal(s: &str) -> bool {
    if let Some(future) = s.strip_prefix(['v', 'V']) {
        let Some((version, rest)) = future.split_once('.') else {
            return false;
        };
        return !version.is_empty()
            && version.chars().all(|c| c.is_ascii_hexdigit())
            && !rest.is_empty()
            && rest
                .chars()
                .all(|c| is_unreserved(c) || is_sub_delim(c) || c == ':');
    }
    s.parse::<core::net::Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::is_uri;

    #[test]
    fn absolute_uris() {
        for ok in [
            "ftp://user:pass@example.com/firmware/v1.bin",
            "https://example.com:8443/a/b?c=d#e",
            "http://[::1]:80/",
            "urn:isbn:0451450523",
            "mailto:a@b.c",
            "file:///tmp/x%20y",
            "s3://bucket/key",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            "",
            "example.com/path",
            "/relative",
            "http://exa mple.com",
            "http://x/%zz",
            "1http://x",
            ":x",
            "http://[::1/",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }
}
