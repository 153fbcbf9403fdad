//! A WebSocket client by hand, for tests that must send what no well-behaved client would:
//! raw upgrade requests, frames of any size or content, and reading the server's frames as
//! they are (close codes included).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How long any single step may take.
pub const STEP: Duration = Duration::from_secs(10);

/// A TCP connection to `server` from the loopback address `source` (127.0.0.x).
pub async fn tcp_from(source: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(server).await.unwrap()
}

/// Sends an upgrade request for `path` offering `protocol` (plus `extra` header lines, each
/// ending in CR LF) and returns the response head.
pub async fn upgrade(tcp: &mut TcpStream, path: &str, protocol: &str, extra: &str) -> String {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocol}\r\n{extra}\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
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

/// The status of a response head.
pub fn status(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The body after a response `head`, as much as its `Content-Length` announces.
pub async fn body(tcp: &mut TcpStream, head: &str) -> String {
    let length = head
        .lines()
        .find_map(|l| {
            let l = l.to_ascii_lowercase();
            l.strip_prefix("content-length:")
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = tokio::time::timeout(STEP, tcp.read_exact(&mut body)).await;
    String::from_utf8_lossy(&body).into_owned()
}

/// A plain socket upgraded at `path` with `protocol`.
pub async fn websocket(addr: SocketAddr, path: &str, protocol: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let head = upgrade(&mut tcp, path, protocol, "").await;
    assert_eq!(status(&head), 101, "{head}");
    tcp
}

/// A client frame (masked, as RFC 6455 requires of clients): 1 text, 2 binary, 8 close.
pub fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= 0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// A client text frame.
pub fn text(payload: &[u8]) -> Vec<u8> {
    masked(1, payload)
}

/// Reads one (unmasked) server frame: opcode and payload; `None` at EOF or after [`STEP`].
pub async fn read_frame(tcp: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
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
    tokio::time::timeout(STEP, read).await.ok().flatten()
}

/// The close code of the next close frame, skipping other frames.
pub async fn close_code(tcp: &mut TcpStream) -> Option<u16> {
    while let Some((opcode, payload)) = read_frame(tcp).await {
        if opcode == 8 {
            return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
        }
    }
    None
}
