//! The `ocpp` binary end to end: `gen` output always validates, and `validate` gives the exact
//! verdict, code and location for broken frames.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn ocpp(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ocpp binary runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(stdin).expect("writing stdin");
    drop(input);
    child.wait_with_output().expect("the ocpp binary ends")
}

fn stdout(output: &Output) -> &str {
    std::str::from_utf8(&output.stdout).expect("UTF-8 output")
}

#[test]
fn generated_frames_always_validate() {
    for version in ["1.6", "2.0.1", "2.1"] {
        for seed in 0..20 {
            let seed = seed.to_string();
            let generated = ocpp(
                &[
                    "gen",
                    "--ocpp",
                    version,
                    "--count",
                    "150",
                    "--seed",
                    &seed,
                    "--responses",
                ],
                b"",
            );
            assert!(generated.status.success(), "gen {version} {seed}");
            let lines = generated.stdout.iter().filter(|&&b| b == b'\n').count();
            assert!(lines >= 150, "at least one frame per CALL");
            let verdict = ocpp(&["validate", "--ocpp", version], &generated.stdout);
            let bad: Vec<_> = stdout(&verdict).lines().filter(|l| *l != "ok").collect();
            assert!(bad.is_empty(), "{version} seed {seed}: {bad:?}");
            assert_eq!(stdout(&verdict).lines().count(), lines);
            assert!(verdict.status.success());
        }
    }
}

#[test]
fn gen_is_reproducible_by_seed_and_honours_action() {
    let args = ["gen", "--ocpp", "2.0.1", "--count", "50", "--seed", "42"];
    let first = ocpp(&args, b"");
    assert_eq!(first.stdout, ocpp(&args, b"").stdout);
    let other = ocpp(
        &["gen", "--ocpp", "2.0.1", "--count", "50", "--seed", "43"],
        b"",
    );
    assert_ne!(first.stdout, other.stdout);

    let boots = ocpp(
        &[
            "gen",
            "--ocpp",
            "1.6",
            "--action",
            "BootNotification",
            "--count",
            "5",
            "--responses",
        ],
        b"",
    );
    let text = stdout(&boots);
    assert_eq!(text.lines().count(), 10);
    for (n, line) in text.lines().enumerate() {
        let id = n / 2 + 1;
        let head = match n % 2 {
            0 => format!("[2,\"{id}\",\"BootNotification\",{{"),
            _ => format!("[3,\"{id}\",{{"),
        };
        assert!(line.starts_with(&head), "{line}");
    }

    // 2.1's SEND-only action comes out as SEND frames, without results.
    let sends = ocpp(
        &[
            "gen",
            "--ocpp",
            "2.1",
            "--action",
            "NotifyPeriodicEventStream",
            "--count",
            "3",
            "--responses",
        ],
        b"",
    );
    assert!(stdout(&sends).lines().all(|l| l.starts_with("[6,")));
    assert_eq!(stdout(&sends).lines().count(), 3);
}

#[test]
fn gen_refuses_an_unknown_action() {
    let out = ocpp(
        &["gen", "--ocpp", "1.6", "--action", "TransactionEvent"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no action \"TransactionEvent\""), "{err}");
    assert!(
        err.contains("StartTransaction"),
        "lists the valid names: {err}"
    );
}

const BROKEN: &str = r#"[2,"1","BootNotification",{"reason":"PowerUp"}]
[2,"2","Heartbeat",{"extra":1}]
[2,"3","Heartbeat",{}]
[3,"3",{"currentTime":"2024-01-01 10:00:00Z"}]
[3,"99",{"currentTime":"2024-01-01T10:00:00Z"}]
not json

[2,"4","NoSuchAction",{}]
[2,"5","Heartbeat",null]
[2,"6","Authorize",{"idToken":{"idToken":"0123456789012345678901234567890123456","type":"ISO14443"}}]
[2,"7","Heartbeat",{}]
[3,"7",{"currentTime":"2024-02-30T00:00:00Z"}]
[2,"8","Heartbeat",{}]
[4,"8","NotImplemented","",{}]
[4,"8","NotImplemented","",{}]
[2,"9","NotifyReport",{"requestId":1,"generatedAt":"2024-01-01T00:00:00Z","seqNo":0,"reportData":[]}]
"#;

#[test]
fn validate_names_code_and_location_of_each_fault() {
    let out = ocpp(&["validate", "--ocpp", "2.0.1"], BROKEN.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let verdicts: Vec<_> = stdout(&out).lines().collect();
    let expected = [
        "error OccurrenceConstraintViolation #/chargingStation: ",
        "error FormatViolation #/extra: ",
        "ok",
        "error PropertyConstraintViolation #/currentTime: ",
        "error GenericError #: no earlier CALL with message id \"99\"",
        "error RpcFrameworkError #: ",
        "ok",
        "error NotImplemented #: ",
        "error TypeConstraintViolation #: ",
        "error PropertyConstraintViolation #/idToken/idToken: ",
        "ok",
        "error PropertyConstraintViolation #/currentTime: ",
        "ok",
        "ok",
        "error GenericError #: ",
        "error OccurrenceConstraintViolation #/reportData: ",
    ];
    assert_eq!(
        verdicts.len(),
        expected.len(),
        "one verdict per line: {verdicts:#?}"
    );
    for (verdict, prefix) in verdicts.iter().zip(expected) {
        assert!(
            verdict.starts_with(prefix),
            "{verdict:?} should start with {prefix:?}"
        );
    }
}

#[test]
fn validate_spells_codes_as_the_version_does() {
    let input = br#"[2,"1","Heartbeat",{"extra":1}]
[2,"2","BootNotification",{"chargePointVendor":"v"}]
[2,"3","Heartbeat",{}
"#;
    let out = ocpp(&["validate", "--ocpp", "1.6"], input);
    let verdicts: Vec<_> = stdout(&out).lines().collect();
    assert!(
        verdicts[0].starts_with("error FormationViolation #/extra: "),
        "{verdicts:?}"
    );
    assert!(
        verdicts[1].starts_with("error OccurenceConstraintViolation #/chargePointModel: "),
        "{verdicts:?}"
    );
    assert!(
        verdicts[2].starts_with("error GenericError #: "),
        "{verdicts:?}"
    );
}

#[test]
fn validate_reads_files_and_reports_unreadable_ones() {
    let dir = std::env::temp_dir().join(format!("ocpp-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("frames.log");
    std::fs::write(
        &path,
        "[2,\"1\",\"Heartbeat\",{}]\r\n[3,\"1\",{\"currentTime\":\"2024-01-01T00:00:00+01:00\"}]",
    )
    .expect("write");
    let out = ocpp(
        &[
            "validate",
            "--ocpp",
            "2.1",
            path.to_str().expect("UTF-8 path"),
        ],
        b"",
    );
    assert_eq!(stdout(&out), "ok\nok\n");
    assert!(out.status.success());

    let missing = ocpp(
        &["validate", "--ocpp", "2.1", "/nonexistent/frames.log"],
        b"",
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/frames.log")
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_and_version_errors() {
    for args in [&["--help"][..], &["validate", "--help"], &["gen", "--help"]] {
        let out = ocpp(args, b"");
        assert!(out.status.success(), "{args:?}");
        assert!(stdout(&out).contains("Usage"), "{args:?}");
    }
    let out = ocpp(&["validate", "--ocpp", "3.0"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected 1.6, 2.0.1 or 2.1"));
}

#[test]
fn demo_survives_a_reader_that_stops_early() {
    use std::io::{BufRead, BufReader};
    // `ocpp demo | head -1`: stdout closes after one line; the demo still ends normally.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ocpp binary runs");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut first)
        .expect("a first line");
    assert!(first.starts_with("CSMS listening on ws://"), "{first}");
    let out = child.wait_with_output().expect("the demo ends");
    let error = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{error}");
    assert!(!error.contains("panicked"), "{error}");
}
