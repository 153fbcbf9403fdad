//! `ocpp station --embedded` end to end: the station core on ocpp-rs-embedded's `Runner`
//! (embedded-io-async over a TCP stream, a flash store on a file-backed NOR flash) completes
//! its sessions against `ocpp csms` in every version, resumes from its flash, refuses
//! `wss://`, and exits 3 when it cannot connect.

mod common;

use std::process::{Command, Output};

use common::TempDir;

fn station(url: &str, version: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .args(["station", "--embedded", "--url", url, "--ocpp", version])
        .args(["--samples", "1"])
        .args(args)
        .output()
        .expect("ocpp station runs")
}

#[test]
fn an_embedded_session_against_ocpp_csms_in_every_version() {
    let csms = common::Csms::start(&[]);
    let versions: [&'static str; 3] = ["1.6", "2.0.1", "2.1"];
    let dirs: Vec<TempDir> = versions.iter().map(|v| TempDir::new(v)).collect();
    let runs: Vec<_> = versions
        .iter()
        .zip(&dirs)
        .map(|(version, dir)| {
            let url = format!("ws://{}/ocpp/EMB-{version}", csms.addr);
            let (version, dir) = (*version, dir.path().to_owned());
            std::thread::spawn(move || station(&url, version, &["--store", &dir]))
        })
        .collect();
    for ((version, run), dir) in versions.iter().zip(runs).zip(&dirs) {
        let out = run.join().expect("joins");
        let text = String::from_utf8_lossy(&out.stdout);
        let errors = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{version}: {text}{errors}");
        common::assert_one_session(version, &text);
        // The store is the flash file, not the tokio stack's log.
        assert!(dir.0.join("flash").is_file(), "{version}: no DIR/flash");
        assert!(
            dir.0.join("progress").is_file(),
            "{version}: no DIR/progress"
        );
    }
}

#[test]
fn an_embedded_station_resumes_from_its_flash() {
    let csms = common::Csms::start(&[]);
    let dir = TempDir::new("resume");
    let url = format!("ws://{}/ocpp/EMB-RESUME", csms.addr);
    let args = ["--store", dir.path(), "--sessions", "2"];
    let out = station(&url, "2.0.1", &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(text.matches("\"eventType\":\"Started\"").count(), 2);
    // The same store, the same count: nothing to do, no connection needed.
    let out = station("ws://127.0.0.1:9/ocpp/EMB-RESUME", "2.0.1", &args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("2 of 2 sessions started already"), "{text}");
}

#[test]
fn an_embedded_station_refuses_wss_and_gives_up_without_a_csms() {
    let out = station("wss://127.0.0.1:9/ocpp/EMB-TLS", "2.0.1", &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ws:// URLs only"));
    // Nothing listens on port 9 of loopback: a refused TCP connection each time.
    let out = station(
        "ws://127.0.0.1:9/ocpp/EMB-NONE",
        "1.6",
        &["--give-up", "2", "--retry-wait", "100"],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
