//! Where `ocpp csms` admits stations: at any path, the identity being the last segment, as
//! chargers are configured with whatever CSMS URL the operator chose; `--path-prefix`
//! restricts it.
//!
//! `any_path_admits_a_station_named_by_the_last_segment` needs the server to accept any path
//! before the identity (a `ServerConfig` option in ocpp-rpc, not there yet): until it is, only
//! `/ocpp/ID` gets in and that test fails.

mod common;

use std::time::Duration;

use common::{BOOT_201, Csms, call, open, wait_for};

#[tokio::test]
async fn any_path_admits_a_station_named_by_the_last_segment() {
    let mut csms = Csms::start(&["--ocpp", "2.0.1"]);
    let lines = csms.lines();
    let paths = [
        ("/ID1", "ID1"),
        ("/ocpp/ID2", "ID2"),
        ("/steve/websocket/CentralSystemService/ID3", "ID3"),
    ];
    let mut refused = Vec::new();
    for (path, identity) in paths {
        match open(&csms.addr, path, "ocpp2.0.1").await {
            Ok(mut station) => {
                call(&mut station, "boot", "BootNotification", BOOT_201).await;
                let prefix = format!("{identity} → CSMS  [2,\"boot\"");
                let line = wait_for(&lines, Duration::from_secs(10), |l| l.starts_with(&prefix));
                assert!(line.is_some(), "{path}: the identity is {identity}");
            }
            Err(error) => refused.push(format!("{path}: {error}")),
        }
    }
    assert!(refused.is_empty(), "refused: {refused:#?}");
}

#[tokio::test]
async fn a_path_prefix_admits_only_below_it() {
    let csms = Csms::start(&["--ocpp", "2.0.1", "--path-prefix", "/ocpp/"]);
    let mut station = open(&csms.addr, "/ocpp/ID1", "ocpp2.0.1")
        .await
        .expect("admitted below the prefix");
    call(&mut station, "boot", "BootNotification", BOOT_201).await;
    for path in ["/ID1", "/other/ID1", "/ocpp/more/ID1"] {
        assert!(
            open(&csms.addr, path, "ocpp2.0.1").await.is_err(),
            "{path} is refused"
        );
    }
}

#[test]
fn a_path_prefix_is_a_path() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ocpp"))
        .args(["csms", "--path-prefix", "ocpp"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(error.contains("is not a path: it starts with /"), "{error}");
}
