//! What the end-to-end tests share: `ocpp csms` as a child process, a bare WebSocket
//! station that sends frames by hand, temporary directories, and the check of a charging
//! session's transcript.
#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use yawc::{Frame, OpCode, WebSocket};

/// `ocpp csms` on a free port, killed on drop. Its stdout is left unread after the first line:
/// call [`Csms::lines`] to read it, or keep it blocked.
pub struct Csms {
    child: Child,
    pub addr: String,
    stdout: Option<BufReader<ChildStdout>>,
}

impl Csms {
    /// Starts `ocpp csms` with `args` after `--listen`, and waits for its first line.
    pub fn start(args: &[&str]) -> Csms {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ocpp"))
            .args(["csms", "--listen", &addr])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("ocpp csms starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut ready = String::new();
        stdout.read_line(&mut ready).expect("a first line");
        assert!(ready.starts_with("listening on ws://"), "{ready}");
        Csms {
            child,
            addr,
            stdout: Some(stdout),
        }
    }

    /// Reads stdout from now on in a thread, line by line, into the returned channel.
    pub fn lines(&mut self) -> std::sync::mpsc::Receiver<String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = self.stdout.take().expect("stdout is read only once");
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    }
}

impl Drop for Csms {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to `timeout` for a line that `wanted` accepts; the lines seen on the way are lost.
pub fn wait_for(
    lines: &std::sync::mpsc::Receiver<String>,
    timeout: Duration,
    wanted: impl Fn(&str) -> bool,
) -> Option<String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if wanted(&line) => return Some(line),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

pub type Socket = WebSocket<yawc::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `ws://ADDR{path}` offering `protocol`.
pub async fn open(addr: &str, path: &str, protocol: &str) -> Result<Socket, String> {
    let url = format!("ws://{addr}{path}")
        .parse()
        .map_err(|e| format!("{e}"))?;
    let request = yawc::HttpRequest::builder().header("Sec-WebSocket-Protocol", protocol);
    WebSocket::connect(url)
        .with_request(request)
        .await
        .map_err(|e| format!("{e}"))
}

/// The next text frame, parsed, within 10 s.
pub async fn next(socket: &mut Socket) -> serde_json::Value {
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

pub async fn send(socket: &mut Socket, text: &str) {
    socket
        .send(Frame::text(text.to_owned()))
        .await
        .expect("sent");
}

/// Sends a CALL and returns the answer, which must be the CALLRESULT of the same id.
pub async fn call(socket: &mut Socket, id: &str, action: &str, payload: &str) -> serde_json::Value {
    send(socket, &format!(r#"[2,"{id}","{action}",{payload}]"#)).await;
    let answer = next(socket).await;
    assert_eq!(answer[0], 3, "{answer}");
    assert_eq!(answer[1], id, "{answer}");
    answer[2].clone()
}

/// A 2.0.1 BootNotification payload.
pub const BOOT_201: &str =
    r#"{"chargingStation":{"model":"m","vendorName":"v"},"reason":"PowerUp"}"#;

/// A fresh directory under the system's temporary directory, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        TempDir(
            std::env::temp_dir().join(format!("ocpp-cli-{name}-{}-{nanos}", std::process::id())),
        )
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks the transcript `ocpp station` printed for one charging session of `version`: boot,
/// authorization, start, a meter value, stop in that order, frames both ways, and its summary.
pub fn assert_one_session(version: &str, text: &str) {
    let (start, meter, stop) = match version {
        "1.6" => ("StartTransaction", "MeterValues", "StopTransaction"),
        _ => (
            "\"eventType\":\"Started\"",
            "\"eventType\":\"Updated\"",
            "\"eventType\":\"Ended\"",
        ),
    };
    let position = |what: &str| {
        text.find(what)
            .unwrap_or_else(|| panic!("{version}: no {what} in {text}"))
    };
    assert!(position("\"BootNotification\"") < position("\"Authorize\""));
    assert!(
        position("\"Authorize\"") < position(start),
        "{version}: {text}"
    );
    assert!(position(start) < position(meter), "{version}: {text}");
    assert!(position(meter) < position(stop), "{version}: {text}");
    assert!(
        text.contains("station → CSMS  [2,\"1\",\"BootNotification\""),
        "{version}: {text}"
    );
    assert!(
        text.contains("CSMS → station  [3,\"1\","),
        "{version}: {text}"
    );
    assert!(
        text.contains("calls, every one answered validly; 1 of 1 sessions done"),
        "{version}: {text}"
    );
}
