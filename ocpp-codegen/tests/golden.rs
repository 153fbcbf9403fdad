//! Golden output: a small fixture folder of schemas (`tests/fixtures/reset/`: an enum, a
//! bounded string, a nested object, an optional array with checked items, a date-time and a
//! definition shared by two files) generates exactly the checked-in `expected.rs`.
//!
//! After an intended change to the generator, rewrite the expected file with
//! `OCPP_CODEGEN_BLESS=1 cargo test -p ocpp-rs-codegen --test golden`, and review its diff.

use std::path::Path;

use ocpp_codegen::Version;

/// Lines of unchanged context around a difference.
const CONTEXT: usize = 3;

#[test]
fn fixture_generates_the_checked_in_source() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reset");
    let actual = ocpp_codegen::generate(Version::V201, &dir).expect("the fixture generates");
    let expected_file = dir.join("expected.rs");
    if std::env::var_os("OCPP_CODEGEN_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&expected_file, &actual).expect("writes the expected file");
        return;
    }
    let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
    if let Some(shown) = diff(&expected, &actual) {
        panic!(
            "the generated source differs from {} (- expected, + generated); \
             rerun with OCPP_CODEGEN_BLESS=1 to accept it:\n{shown}",
            expected_file.display()
        );
    }
}

/// A unified-style diff of the one region where the texts differ (between their common first
/// and last lines), or `None` if they are equal.
fn diff(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let start = prefix.saturating_sub(CONTEXT);
    let mut out = format!("@@ line {} @@\n", start + 1);
    for line in &old[start..prefix] {
        out.push_str(&format!("  {line}\n"));
    }
    for line in &old[prefix..old.len() - suffix] {
        out.push_str(&format!("- {line}\n"));
    }
    for line in &new[prefix..new.len() - suffix] {
        out.push_str(&format!("+ {line}\n"));
    }
    let end = (old.len() - suffix + CONTEXT).min(old.len());
    for line in &old[old.len() - suffix..end] {
        out.push_str(&format!("  {line}\n"));
    }
    if old.len() == new.len() && prefix == old.len() {
        out.push_str("(the texts differ only in their line endings)\n");
    }
    Some(out)
}

#[test]
fn the_diff_shows_the_changed_lines_in_context() {
    let shown = diff("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nX\nf\ng\nh\n").unwrap();
    assert_eq!(
        shown,
        "@@ line 2 @@\n  b\n  c\n  d\n- e\n+ X\n  f\n  g\n  h\n"
    );
    assert_eq!(diff("same\n", "same\n"), None);
}
