//! Attacks on `ocpp csms`, over loopback, as issue 9 describes them: for each, a fresh server
//! process, the attack, then the server's peak memory and whether a fresh station (from another
//! loopback address) is still served promptly. Prints a Markdown table.
//!
//! ```sh
//! cargo run --release --bin attack -- PATH/TO/ocpp          # every attack
//! cargo run --release --bin attack -- PATH/TO/ocpp flood    # one of them
//! ```
//!
//! Run it against the `ocpp` of two commits to compare them. Traffic goes only to 127.0.0.0/8;
//! every loop is bounded in count and time.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::DeflateEncoder;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, Command};

const STEP: Duration = Duration::from_secs(5);

struct Csms {
    child: Child,
    addr: SocketAddr,
}

impl Csms {
    /// `ocpp csms` on a free port, with `ulimit -n` set to `files`.
    async fn start(ocpp: &str, versions: &str, files: u32) -> Csms {
        let port = free_port();
        let script = format!(
            "ulimit -n {files}; exec {ocpp} csms --listen 127.0.0.1:{port} --ocpp {versions}"
        );
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("ocpp csms");
        // Drain its transcript so stdout never blocks it (that is another attack).
        let stdout = child.stdout.take().expect("stdout");
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(_)) = lines.next_line().await {}
        });
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        for _ in 0..100 {
            if TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Csms { child, addr }
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Peak resident memory so far, in MiB.
    fn peak_mib(&self) -> f64 {
        proc_field(self.pid(), "VmHWM:") as f64 / 1024.0
    }

    /// CPU time used so far (user + system), in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks: u64 = fields
            .get(11..13)
            .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
        ticks as f64 / 100.0
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn proc_field(pid: u32, name: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn tcp_from(source: [u8; 4], server: SocketAddr) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::from((source, 0))).ok()?;
    tokio::time::timeout(STEP, socket.connect(server))
        .await
        .ok()?
        .ok()
}

/// Upgrades at `path` with `protocol` (and `extra` headers); the response's status.
async fn upgrade(tcp: &mut TcpStream, path: &str, protocol: &str, extra: &str) -> u16 {
    let head = upgrade_head(tcp, path, protocol, extra).await;
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Upgrades at `path`; the response head.
async fn upgrade_head(tcp: &mut TcpStream, path: &str, protocol: &str, extra: &str) -> String {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocol}\r\n{extra}\r\n"
    );
    if tcp.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(STEP, tcp.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A masked client frame; `rsv1` marks it compressed.
fn frame(opcode: u8, payload: &[u8], rsv1: bool) -> Vec<u8> {
    let mask = [9u8, 8, 7, 6];
    let mut out = vec![0x80 | if rsv1 { 0x40 } else { 0 } | opcode];
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

fn text(payload: &str) -> Vec<u8> {
    frame(1, payload.as_bytes(), false)
}

/// Reads one server frame (opcode, payload); `None` on EOF, error or after `wait`.
async fn read_frame(tcp: &mut TcpStream, wait: Duration) -> Option<(u8, Vec<u8>)> {
    let read = async {
        let mut head = [0u8; 2];
        tcp.read_exact(&mut head).await.ok()?;
        let len = match head[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                tcp.read_exact(&mut ext).await.ok()?;
                u64::from(u16::from_be_bytes(ext))
            }
            127 => {
                let mut ext = [0u8; 8];
                tcp.read_exact(&mut ext).await.ok()?;
                u64::from_be_bytes(ext)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; usize::try_from(len).ok()?];
        tcp.read_exact(&mut payload).await.ok()?;
        Some((head[0] & 0x0f, payload))
    };
    tokio::time::timeout(wait, read).await.ok().flatten()
}

/// What ended the connection: `close N`, `tcp close` or `open`.
async fn ending(tcp: &mut TcpStream, wait: Duration) -> String {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return "open".into();
        }
        let mut head = [0u8; 1];
        match tokio::time::timeout(left, tcp.peek(&mut head)).await {
            Err(_) => return "open".into(),
            Ok(Ok(0)) | Ok(Err(_)) => return "TCP close, no close frame".into(),
            Ok(Ok(_)) => {}
        }
        match read_frame(tcp, left).await {
            Some((8, payload)) => {
                let code = payload
                    .get(..2)
                    .map_or(1005, |c| u16::from_be_bytes([c[0], c[1]]));
                return format!("close {code}");
            }
            Some(_) => continue,
            None => return "TCP close, no close frame".into(),
        }
    }
}

/// A fresh station (2.0.1, or 1.6 where the server speaks only 1.6) from 127.0.0.250:
/// connected, booted and answered within 5 s?
async fn fresh_station(addr: SocketAddr, v16: bool) -> String {
    let started = Instant::now();
    let Some(mut tcp) = tcp_from([127, 0, 0, 250], addr).await else {
        return "no: TCP connect failed".into();
    };
    let (protocol, boot) = if v16 {
        (
            "ocpp1.6",
            r#"[2,"b","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]"#,
        )
    } else {
        (
            "ocpp2.0.1",
            r#"[2,"b","BootNotification",{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}]"#,
        )
    };
    let status = upgrade(&mut tcp, "/ocpp/FRESH", protocol, "").await;
    if status != 101 {
        return format!("no: HTTP {status}");
    }
    if tcp.write_all(&text(boot)).await.is_err() {
        return "no: write failed".into();
    }
    match read_frame(&mut tcp, STEP).await {
        Some((1, payload)) if payload.starts_with(b"[3,\"b\"") => {
            format!("yes ({} ms)", started.elapsed().as_millis())
        }
        other => format!("no: {:?}", other.map(|(o, p)| (o, p.len()))),
    }
}

struct Row {
    attack: &'static str,
    observed: String,
    peak_mib: f64,
    fresh: String,
}

/// 1,100 silent WebSocket connections from one address, the server limited to 1,024 files; and
/// the same spread over 11 addresses.
async fn flood(ocpp: &str, addresses: u8) -> Row {
    let csms = Csms::start(ocpp, "2.0.1", 1024).await;
    let mut held = Vec::new();
    let mut refused = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..1100u32 {
        let source = [127, 0, 0, 1 + (i % u32::from(addresses)) as u8];
        let Some(mut tcp) = tcp_from(source, csms.addr).await else {
            *refused.entry(0).or_default() += 1;
            continue;
        };
        match upgrade(&mut tcp, &format!("/ocpp/SILENT{i}"), "ocpp2.0.1", "").await {
            101 => held.push(tcp),
            status => *refused.entry(status).or_default() += 1,
        }
    }
    let fresh = fresh_station(csms.addr, false).await;
    Row {
        attack: if addresses == 1 {
            "1,100 silent connections from one address, server at 1,024 files"
        } else {
            "1,100 silent connections from 11 addresses, server at 1,024 files"
        },
        observed: format!("{} held open; refused: {refused:?}", held.len()),
        peak_mib: csms.peak_mib(),
        fresh,
    }
}

/// A peer that stops reading while the server has large answers for it, then Ctrl-C.
async fn slow_reader(ocpp: &str) -> Row {
    let mut csms = Csms::start(ocpp, "1.6", 4096).await;
    let mut tcp = TcpStream::connect(csms.addr).await.expect("connect");
    upgrade(&mut tcp, "/ocpp/SLOW", "ocpp1.6", "").await;
    let name = "x".repeat(60_000);
    let writer = tokio::spawn(async move {
        for i in 0..300 {
            let call = format!(r#"[2,"{i}","{name}",{{}}]"#);
            if tokio::time::timeout(STEP, tcp.write_all(&text(&call)))
                .await
                .is_err()
            {
                break;
            }
        }
        tcp
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let fresh = fresh_station(csms.addr, true).await;
    let peak_mib = csms.peak_mib();
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(csms.pid().to_string())
        .status()
        .await;
    let started = Instant::now();
    let exited = tokio::time::timeout(Duration::from_secs(40), csms.child.wait()).await;
    let observed = match exited {
        Ok(_) => format!(
            "exited {:.1} s after Ctrl-C",
            started.elapsed().as_secs_f64()
        ),
        Err(_) => "still running 40 s after Ctrl-C".into(),
    };
    writer.abort();
    Row {
        attack: "a peer that stops reading, then Ctrl-C",
        observed,
        peak_mib,
        fresh,
    }
}

/// 2,000 connections as the same identity.
async fn duplicates(ocpp: &str) -> Row {
    let csms = Csms::start(ocpp, "2.0.1", 8192).await;
    let mut held = Vec::new();
    for i in 0..2000u32 {
        let source = [127, 0, 0, 1 + (i % 40) as u8];
        let Some(mut tcp) = tcp_from(source, csms.addr).await else {
            continue;
        };
        if upgrade(&mut tcp, "/ocpp/TWIN", "ocpp2.0.1", "").await == 101 {
            held.push(tcp);
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut open = 0;
    for tcp in &mut held {
        if ending(tcp, Duration::from_millis(5)).await == "open" {
            open += 1;
        }
    }
    let fresh = fresh_station(csms.addr, false).await;
    Row {
        attack: "2,000 connections as one identity",
        observed: format!("{} upgraded, {open} still open", held.len()),
        peak_mib: csms.peak_mib(),
        fresh,
    }
}

/// permessage-deflate: messages that inflate to almost 1 MiB each, 1 KB on the wire.
async fn deflate(ocpp: &str) -> Row {
    let csms = Csms::start(ocpp, "2.0.1", 4096).await;
    let mut tcp = TcpStream::connect(csms.addr).await.expect("connect");
    let extension = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n";
    let head = upgrade_head(&mut tcp, "/ocpp/BOMB", "ocpp2.0.1", extension).await;
    let negotiated = head.to_ascii_lowercase().contains("permessage-deflate");
    let message = format!(
        r#"[2,"1","DataTransfer",{{"vendorId":"v","data":"{}"}}]"#,
        "a".repeat(1_000_000)
    );
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(message.as_bytes()).expect("deflate");
    let mut compressed = encoder.finish().expect("deflate");
    // A sync flush's tail is left out on the wire (RFC 7692, 7.2.1); a finished stream is also
    // accepted by inflaters.
    if compressed.ends_with(&[0, 0, 0xff, 0xff]) {
        compressed.truncate(compressed.len() - 4);
    }
    let bomb = frame(1, &compressed, true);
    let cpu_before = csms.cpu_seconds();
    let started = Instant::now();
    let mut wire = 0usize;
    let (mut read_half, mut write_half) = tcp.into_split();
    tokio::spawn(async move {
        let mut sink = vec![0u8; 65536];
        while let Ok(n) = read_half.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    });
    while wire < 2_000_000 && started.elapsed() < Duration::from_secs(10) {
        match tokio::time::timeout(Duration::from_secs(10), write_half.write_all(&bomb)).await {
            Ok(Ok(())) => wire += bomb.len(),
            _ => break,
        }
    }
    let fresh = fresh_station(csms.addr, false).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu = csms.cpu_seconds() - cpu_before;
    Row {
        attack: "deflate: 2 MB on the wire inflating to ~1 MiB per KB",
        observed: format!(
            "deflate {}; {} KB sent in {:.1} s; server CPU {cpu:.2} s",
            if negotiated {
                "negotiated"
            } else {
                "NOT negotiated"
            },
            wire / 1000,
            started.elapsed().as_secs_f64()
        ),
        peak_mib: csms.peak_mib(),
        fresh,
    }
}

/// Protocol-level items: a 500 KB 1.6 action name, 26 pipelined calls, a repeated pending id,
/// a 2 MB frame, invalid UTF-8, identities.
async fn protocol(ocpp: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    {
        let csms = Csms::start(ocpp, "1.6", 4096).await;
        let mut tcp = TcpStream::connect(csms.addr).await.expect("connect");
        upgrade(&mut tcp, "/ocpp/LONG", "ocpp1.6", "").await;
        let call = format!(r#"[2,"1","{}",{{}}]"#, "x".repeat(500_000));
        let _ = tcp.write_all(&text(&call)).await;
        let answer = read_frame(&mut tcp, STEP).await.map_or(0, |(_, p)| p.len());
        rows.push(Row {
            attack: "1.6 CALL with a 500 KB action name",
            observed: format!("answer of {answer} bytes"),
            peak_mib: csms.peak_mib(),
            fresh: fresh_station(csms.addr, true).await,
        });
    }
    let csms = Csms::start(ocpp, "2.0.1", 4096).await;
    {
        let mut tcp = TcpStream::connect(csms.addr).await.expect("connect");
        upgrade(&mut tcp, "/ocpp/BURST", "ocpp2.0.1", "").await;
        let mut burst = Vec::new();
        for i in 0..26 {
            burst.extend(text(&format!(r#"[2,"{i}","Heartbeat",{{}}]"#)));
        }
        let _ = tcp.write_all(&burst).await;
        let mut results = 0;
        let mut errors = 0;
        while let Some((opcode, payload)) = read_frame(&mut tcp, Duration::from_secs(2)).await {
            match (opcode, payload.first(), payload.get(1)) {
                (1, Some(b'['), Some(b'3')) => results += 1,
                (1, Some(b'['), Some(b'4')) => errors += 1,
                _ => break,
            }
        }
        let end = ending(&mut tcp, Duration::from_millis(500)).await;
        rows.push(Row {
            attack: "26 pipelined CALLs",
            observed: format!("{results} CALLRESULTs, {errors} CALLERRORs; connection {end}"),
            peak_mib: csms.peak_mib(),
            fresh: fresh_station(csms.addr, false).await,
        });
    }
    {
        let mut tcp = TcpStream::connect(csms.addr).await.expect("connect");
        upgrade(&mut tcp, "/ocpp/TWICE", "ocpp2.0.1", "").await;
        let mut twice = text(r#"[2,"same","Heartbeat",{}]"#);
        twice.extend(text(r#"[2,"same","Heartbeat",{}]"#));
        let _ = tcp.write_all(&twice).await;
        let mut answers = Vec::new();
        while let Some((_, payload)) = read_frame(&mut tcp, Duration::from_secs(1)).await {
            let text = String::from_utf8_lossy(&payload);
            answers.push(text.split(',').take(3).collect::<Vec<_>>().join(","));
        }
        rows.push(Row {
            attack: "two pending CALLs with one message id",
            observed: answers.join(" / "),
            peak_mib: csms.peak_mib(),
            fresh: fresh_station(csms.addr, false).await,
        });
    }
    for (attack, payload) in [
        ("a 2 MB text frame", vec![b'x'; 2_000_000]),
        (
            "a text frame that is not UTF-8",
            b"[2,\"1\",\"Heartbeat\",{\"x\":\"\xff\"}]".to_vec(),
        ),
    ] {
        let mut tcp = TcpStream::connect(csms.addr).await.expect("connect");
        upgrade(&mut tcp, "/ocpp/FRAME", "ocpp2.0.1", "").await;
        let _ = tcp.write_all(&frame(1, &payload, false)).await;
        let end = ending(&mut tcp, STEP).await;
        rows.push(Row {
            attack,
            observed: end,
            peak_mib: csms.peak_mib(),
            fresh: fresh_station(csms.addr, false).await,
        });
    }
    let mut statuses = Vec::new();
    for path in [
        "/ocpp/a%0D%0Ab",
        "/ocpp/..%2F..%2Fetc%2Fpasswd",
        "/ocpp/..",
        "/ocpp//x1",
        "/ocpp/a%E2%80%AEb",
        "/ocpp/a%00b",
    ] {
        let mut tcp = TcpStream::connect(csms.addr).await.expect("connect");
        statuses.push(format!(
            "{path} {}",
            upgrade(&mut tcp, path, "ocpp2.0.1", "").await
        ));
    }
    rows.push(Row {
        attack: "identities: CR LF, %2F, .., //, bidi override, NUL",
        observed: statuses.join("; "),
        peak_mib: csms.peak_mib(),
        fresh: fresh_station(csms.addr, false).await,
    });
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let ocpp = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "target/release/ocpp".into());
    let only = args.get(2).cloned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
        let mut rows = Vec::new();
        if wanted("flood") {
            rows.push(flood(&ocpp, 1).await);
            rows.push(flood(&ocpp, 11).await);
        }
        if wanted("slow") {
            rows.push(slow_reader(&ocpp).await);
        }
        if wanted("duplicates") {
            rows.push(duplicates(&ocpp).await);
        }
        if wanted("deflate") {
            rows.push(deflate(&ocpp).await);
        }
        if wanted("protocol") {
            rows.extend(protocol(&ocpp).await);
        }
        println!("| attack | observed | server peak RSS | fresh station served |");
        println!("|---|---|---|---|");
        for row in rows {
            println!(
                "| {} | {} | {:.1} MiB | {} |",
                row.attack, row.observed, row.peak_mib, row.fresh
            );
        }
    });
}
