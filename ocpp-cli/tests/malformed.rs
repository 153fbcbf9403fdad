//! Malformed frames against a running `ocpp csms` over a real WebSocket: each gets the answer
//! its version's specification asks for (the error code, or silence), and the connection keeps
//! serving valid calls after every one.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use yawc::{Frame, OpCode, WebSocket};

/// `ocpp csms` on a free port, killed on drop.
struct Csms {
    child: Child,
    addr: String,
}

impl Csms {
    fn start() -> Csms {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp"))
            .args([
                "csms",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--ocpp",
                "2.0.1,2.1,1.6",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("ocpp csms starts");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let ready = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(ready.starts_with("listening on ws://"), "{ready}");
        // Keep draining the transcript so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Csms {
            child,
            addr: format!("127.0.0.1:{port}"),
        }
    }
}

impl Drop for Csms {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Socket = WebSocket<yawc::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(csms: &Csms, protocol: &str) -> Socket {
    let url = format!("ws://{}/ocpp/MALFORMED-1", csms.addr)
        .parse()
        .expect("URL");
    let request = yawc::HttpRequest::builder().header("Sec-WebSocket-Protocol", protocol);
    WebSocket::connect(url)
        .with_request(request)
        .await
        .expect("connects")
}

/// The next text frame, parsed.
async fn next(socket: &mut Socket) -> serde_json::Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an answer in time")
            .expect("the connection stays open");
        if frame.opcode() == OpCode::Text {
            return serde_json::from_slice(frame.payload()).expect("JSON");
        }
    }
}

async fn send(socket: &mut Socket, text: &str) {
    socket
        .send(Frame::text(text.to_owned()))
        .await
        .expect("sent");
}

/// Sends a valid Heartbeat and expects its CALLRESULT next: nothing else was answered, and the
/// connection still serves.
async fn still_serving(socket: &mut Socket, id: &str) {
    send(socket, &format!(r#"[2,"{id}","Heartbeat",{{}}]"#)).await;
    let answer = next(socket).await;
    assert_eq!(answer[0], 3, "{answer}");
    assert_eq!(answer[1], id, "{answer}");
}

/// (frame, expected answer id, expected code per version 1.6 / 2.0.1 / 2.1; `None`: ignored)
type Case = (&'static str, &'static str, [Option<&'static str>; 3]);

const fn all(code: &'static str) -> [Option<&'static str>; 3] {
    [Some(code), Some(code), Some(code)]
}

fn cases() -> Vec<Case> {
    let long_id = "x".repeat(37);
    let long_id: &'static str =
        Box::leak(format!(r#"[2,"{long_id}","Heartbeat",{{}}]"#).into_boxed_str());
    vec![
        (
            "not json",
            "-1",
            [
                Some("GenericError"),
                Some("RpcFrameworkError"),
                Some("RpcFrameworkError"),
            ],
        ),
        (
            r#"{"a":1}"#,
            "-1",
            [
                Some("GenericError"),
                Some("RpcFrameworkError"),
                Some("RpcFrameworkError"),
            ],
        ),
        (
            r#"[2,"m1","Heartbeat"]"#,
            "m1",
            [
                Some("ProtocolError"),
                Some("RpcFrameworkError"),
                Some("RpcFrameworkError"),
            ],
        ),
        (r#"[2,"m2","NoSuchAction",{}]"#, "m2", all("NotImplemented")),
        (
            r#"[2,"m3","Heartbeat",{"extra":1}]"#,
            "m3",
            [
                Some("FormationViolation"),
                Some("FormatViolation"),
                Some("FormatViolation"),
            ],
        ),
        (
            r#"[2,"m4","Heartbeat",[]]"#,
            "m4",
            all("TypeConstraintViolation"),
        ),
        (
            long_id,
            "-1",
            [
                Some("GenericError"),
                Some("RpcFrameworkError"),
                Some("RpcFrameworkError"),
            ],
        ),
        (
            r#"[7,"m5",{}]"#,
            "m5",
            [None, Some("MessageTypeNotSupported"), None],
        ),
        ("", "", [None, None, None]),
        ("   ", "", [None, None, None]),
    ]
}

/// Version-specific payload faults: (version index, frame, id, code).
fn payload_cases() -> Vec<(usize, &'static str, &'static str, &'static str)> {
    vec![
        (
            0,
            r#"[2,"p1","BootNotification",{"chargePointVendor":"v"}]"#,
            "p1",
            "OccurenceConstraintViolation",
        ),
        (
            0,
            r#"[2,"p2","Authorize",{"idTag":"123456789012345678901"}]"#,
            "p2",
            "PropertyConstraintViolation",
        ),
        (
            0,
            r#"[2,"p3","Reset",{"type":"Hard"}]"#,
            "p3",
            "NotSupported",
        ),
        (
            1,
            r#"[2,"p1","BootNotification",{"reason":"PowerUp"}]"#,
            "p1",
            "OccurrenceConstraintViolation",
        ),
        (
            1,
            r#"[2,"p2","Authorize",{"idToken":{"idToken":1,"type":"ISO14443"}}]"#,
            "p2",
            "TypeConstraintViolation",
        ),
        (
            1,
            r#"[2,"p3","Authorize",{"idToken":{"idToken":"a","type":"NoSuchType"}}]"#,
            "p3",
            "PropertyConstraintViolation",
        ),
        (
            1,
            r#"[2,"p4","RequestStartTransaction",{"remoteStartId":1,"idToken":{"idToken":"a","type":"Central"}}]"#,
            "p4",
            "NotSupported",
        ),
        (
            2,
            r#"[2,"p1","Heartbeat",{"customData":{"vendorId":"v"},"x":null}]"#,
            "p1",
            "FormatViolation",
        ),
        (
            2,
            r#"[2,"p2","StatusNotification",{"timestamp":"2024-01-01 10:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}]"#,
            "p2",
            "PropertyConstraintViolation",
        ),
    ]
}

#[tokio::test]
async fn every_malformed_frame_gets_its_answer_and_the_connection_keeps_serving() {
    let csms = Csms::start();
    for (index, protocol) in ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"].into_iter().enumerate() {
        let mut socket = open(&csms, protocol).await;
        still_serving(&mut socket, "first").await;
        for (n, (frame, id, codes)) in cases().into_iter().enumerate() {
            send(&mut socket, frame).await;
            if let Some(code) = codes[index] {
                let answer = next(&mut socket).await;
                assert_eq!(answer[0], 4, "{protocol} {frame}: {answer}");
                assert_eq!(answer[1], id, "{protocol} {frame}: {answer}");
                assert_eq!(answer[2], code, "{protocol} {frame}: {answer}");
                assert!(
                    answer[4].is_object(),
                    "{protocol} {frame}: details {answer}"
                );
            }
            still_serving(&mut socket, &format!("ok{n}")).await;
        }
        for (version, frame, id, code) in payload_cases() {
            if version != index {
                continue;
            }
            send(&mut socket, frame).await;
            let answer = next(&mut socket).await;
            assert_eq!(
                (answer[0].clone(), answer[1].clone(), answer[2].clone()),
                (4.into(), id.into(), code.into()),
                "{protocol} {frame}: {answer}"
            );
            still_serving(&mut socket, &format!("after-{id}")).await;
        }
        let _ = socket
            .send(Frame::close(yawc::close::CloseCode::Normal, b""))
            .await;
    }
}

#[tokio::test]
async fn too_many_bad_messages_in_a_row_close_the_connection() {
    let csms = Csms::start();
    let mut socket = open(&csms, "ocpp2.0.1").await;
    for _ in 0..10 {
        send(&mut socket, "not json").await;
    }
    // Ten answers, then the close.
    let mut answers = 0;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = socket.next().await {
            match frame.opcode() {
                OpCode::Text => answers += 1,
                OpCode::Close => return true,
                _ => {}
            }
        }
        true
    })
    .await
    .expect("closed in time");
    assert!(closed);
    assert_eq!(answers, 10);
}

#[tokio::test]
async fn ctrl_c_closes_connections_with_1001_going_away() {
    let csms = Csms::start();
    let mut socket = open(&csms, "ocpp2.0.1").await;
    still_serving(&mut socket, "before").await;
    let status = Command::new("kill")
        .args(["-INT", &csms.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let code = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = socket.next().await {
            if frame.opcode() == OpCode::Close {
                return frame.close_code();
            }
        }
        None
    })
    .await
    .expect("closed in time");
    assert_eq!(code, Some(yawc::close::CloseCode::Away));
}
