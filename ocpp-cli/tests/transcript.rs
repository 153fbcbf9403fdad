//! The transcript of a running `ocpp csms`: every line reads `sender → receiver`, and a stdout
//! nobody reads never holds up the protocol.

mod common;

use std::time::{Duration, Instant};

use common::{BOOT_201, Csms, call, open, wait_for};

#[tokio::test]
async fn csms_lines_read_sender_to_receiver() {
    let mut csms = Csms::start(&["--ocpp", "2.0.1"]);
    let lines = csms.lines();
    let mut station = open(&csms.addr, "/ocpp/ID1", "ocpp2.0.1")
        .await
        .expect("connects");
    call(&mut station, "boot1", "BootNotification", BOOT_201).await;

    let received = wait_for(&lines, Duration::from_secs(10), |l| l.contains("\"boot1\""))
        .expect("the BootNotification is in the transcript");
    assert!(
        received.starts_with(r#"ID1 → CSMS  [2,"boot1","BootNotification","#),
        "the CSMS received it from ID1: {received}"
    );
    let sent = wait_for(&lines, Duration::from_secs(10), |l| l.contains("\"boot1\""))
        .expect("the answer is in the transcript");
    assert!(
        sent.starts_with(r#"CSMS → ID1  [3,"boot1",{"#),
        "the CSMS sent it to ID1: {sent}"
    );
}

#[tokio::test]
async fn a_stdout_nobody_reads_never_blocks_the_csms() {
    // stdout is a pipe that this test does not read until the end: it fills after 64 KiB.
    let mut csms = Csms::start(&["--ocpp", "2.0.1"]);
    let mut station = open(&csms.addr, "/ocpp/BIG-1", "ocpp2.0.1")
        .await
        .expect("connects");
    let started = Instant::now();
    call(&mut station, "boot", "BootNotification", BOOT_201).await;
    // 40 frames of 200 KB (8 MB of frames), then 1,500 small calls: far more transcript than
    // the pipe and the transcript's queue hold together.
    let big = format!(
        r#"{{"vendorId":"ocpp-rs","data":"{}"}}"#,
        "x".repeat(200_000)
    );
    for n in 0..40 {
        let answer = call(&mut station, &format!("big{n}"), "DataTransfer", &big).await;
        assert_eq!(answer["status"], "UnknownVendorId");
    }
    for n in 0..1500 {
        let id = format!("hb{n}");
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            call(&mut station, &id, "Heartbeat", "{}"),
        )
        .await
        .unwrap_or_else(|_| panic!("Heartbeat {n} answered within 5 s"));
        assert!(answer["currentTime"].is_string());
    }
    // A second station is served promptly too.
    let mut other = open(&csms.addr, "/ocpp/BIG-2", "ocpp2.0.1")
        .await
        .expect("a second station connects");
    call(&mut other, "boot", "BootNotification", BOOT_201).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(60), "took {took:?}");

    // Once stdout is read again, the transcript resumes: long frames were cut, with their
    // length, and what did not fit was counted.
    let lines = csms.lines();
    let cut = wait_for(&lines, Duration::from_secs(10), |l| l.contains("\"big0\""))
        .expect("the first big frame is in the transcript");
    assert!(cut.len() < 2_200, "a cut line: {} bytes", cut.len());
    let length = r#"[2,"big0","DataTransfer",]"#.len() + big.len();
    let tail = format!("… (frame of {length} bytes, 2000 characters shown)");
    assert!(cut.ends_with(&tail), "{}", &cut[cut.len() - 80..]);
    std::thread::sleep(Duration::from_millis(500));
    call(&mut station, "last", "Heartbeat", "{}").await;
    let dropped = wait_for(&lines, Duration::from_secs(10), |l| {
        l.starts_with("… ") && l.ends_with(" lines dropped (output too slow)")
    })
    .expect("the loss is reported");
    let count: u64 = dropped
        .split(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(count > 1000, "{dropped}");
}
