#![no_main]
//! Structure-aware: the tokio adapter's server (`ocpp_rpc_tokio::Acceptor::serve`) on an
//! in-memory pipe, fed a whole connection that `arbitrary` decodes from the input: an HTTP
//! upgrade request (path, subprotocol offer, Basic credentials, permessage-deflate, a good or
//! bad key, extra headers) or raw bytes, then WebSocket frames (any opcode, FIN and RSV bits,
//! masked or not, lengths in any of the three forms or claiming what they do not hold) whose
//! payloads are OCPP frames of the chosen version built from schema-valid messages (calls,
//! answers to the server's own call, SENDs), such frames with a byte changed or cut short,
//! raw bytes, or close frames; all of it written in pieces of sizes from the input. The server
//! runs on a paused tokio clock, so its timeouts pass as soon as nothing else can happen.
//!
//! Configurations from the input: the versions accepted, security profile 0 or 1 (a password
//! hook), a path prefix, a small message limit, whether handlers answer or fail, whether the
//! server calls the station once it connects.
//!
//! Checks:
//! - no panic, and the server ends the exchange by itself (within an hour of its clock) once
//!   the client has written everything and shut its side;
//! - a well-formed upgrade of a valid identity, with the right credentials and a version in
//!   common, is switched to the version `choose_subprotocol` picks; one with no version in
//!   common is switched without a subprotocol or refused;
//! - what the server writes after switching (without compression) reads as WebSocket frames
//!   (`ocpp_embedded::websocket::FrameReader`, an independent reader), and every text message
//!   in it is a valid OCPP frame of the version chosen.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use ocpp_embedded::websocket::{FrameReader, HandshakeError, Incoming, WsError, check_response};
use ocpp_rpc::handshake::{basic_authorization, choose_subprotocol};
use ocpp_rpc::{AnyAction, AnyRequest, AnyResponse, ErrorCode, RpcError, frame};
use ocpp_rpc_tokio::{Acceptor, Handlers, Refusal, SecurityProfile, ServerConfig};
use ocpp_types::random::{Gen, SplitMix64};
use ocpp_types::{OcppVersion, v16, v21, v201};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

include!("generate.rs");

const REMOTE: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// Of the format every version takes: 40 hexadecimal digits.
const PASSWORD: &str = "0123456789abcdef0123456789ABCDEF01234567";
/// Valid identities: plain, every allowed punctuation, percent-encoded, the longest.
const IDENTITIES: &[&str] = &[
    "CS001",
    "cp-1.2_x*=+@",
    "%43S%30%301",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv",
];

#[derive(Debug, Arbitrary)]
struct Setup {
    /// Which of `OcppVersion::ALL` the server accepts (none set: all), in that order or reversed.
    versions: u8,
    reversed: bool,
    password: bool,
    prefix: bool,
    small_messages: bool,
    /// Handlers answer with a schema-valid response of this seed, or fail.
    answer: Option<u64>,
    /// The server calls the station once it connects: an action pick and a seed.
    call_station: Option<(u8, u64)>,
}

impl Setup {
    fn versions(&self) -> Vec<OcppVersion> {
        let mut versions: Vec<OcppVersion> = OcppVersion::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.versions & 7 == 0 || self.versions & (1 << i) != 0)
            .map(|(_, v)| v)
            .collect();
        if self.reversed {
            versions.reverse();
        }
        versions
    }
}

#[derive(Debug, Arbitrary)]
enum Path {
    Identity(u8),
    Text(String),
}

#[derive(Debug, Arbitrary)]
enum Protocol {
    Version(u8),
    Text(String),
}

#[derive(Debug, Arbitrary)]
enum Authorization {
    None,
    Right,
    WrongPassword,
    Text(String),
}

#[derive(Debug, Arbitrary)]
struct Upgrade {
    path: Path,
    protocols: Vec<Protocol>,
    authorization: Authorization,
    deflate: bool,
    bad_key: bool,
    bad_version: bool,
    extra: Option<(String, String)>,
}

#[derive(Debug, Arbitrary)]
enum Head {
    Upgrade(Upgrade),
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum Opcode {
    Text,
    Binary,
    Continuation,
    Ping,
    Pong,
    Close,
    Other(u8),
}

#[derive(Debug, Arbitrary)]
enum Payload {
    /// `[2, "c<id>", action, request]`.
    Call {
        action: u8,
        seed: u64,
        id: u8,
    },
    /// The answer to the server's call `"<call % 4 + 1>"`: a CALLRESULT, or a CALLERROR.
    Answer {
        call: u8,
        seed: u64,
        error: bool,
    },
    /// `[6, "s", action, payload]`.
    Send {
        action: u8,
        seed: u64,
    },
    /// A call with one byte changed, or cut short.
    Damaged {
        action: u8,
        seed: u64,
        at: u16,
        xor: u8,
        cut: bool,
    },
    /// A close frame's payload.
    Close {
        code: u16,
        reason: String,
    },
    Bytes(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct WsFrame {
    not_final: bool,
    rsv: u8,
    opcode: Opcode,
    unmasked: bool,
    mask: [u8; 4],
    /// 0: the shortest length form; 1: at least 16 bits; 2: 64 bits.
    length_form: u8,
    /// A length field that says this instead of the payload's length.
    claim: Option<u32>,
    payload: Payload,
}

#[derive(Debug, Arbitrary)]
struct Input {
    setup: Setup,
    head: Head,
    frames: Vec<WsFrame>,
    /// Sizes of the pieces the client's bytes are written in (cycled; 0 counts as 1).
    pieces: Vec<u8>,
}

/// What the upgrade request asked for, to judge the answer by.
struct Asked {
    /// The exact `Sec-WebSocket-Protocol` value, if sent.
    offered: Option<String>,
    /// The versions among it, for `check_response`.
    versions: Vec<OcppVersion>,
    /// A well-formed upgrade of a valid identity with the right credentials, if required.
    valid: bool,
    /// No text of the input's own in a header breaks the request (so the server saw the
    /// offer as written).
    intact: bool,
    deflate: bool,
}

/// The request head, and what it asked for (nothing to judge by for raw bytes).
fn head_bytes(input: &Input) -> (Vec<u8>, Option<Asked>) {
    match &input.head {
        Head::Upgrade(upgrade) => {
            let (head, asked) = upgrade_head(&input.setup, upgrade);
            (head, Some(asked))
        }
        Head::Raw(bytes) => (bytes.clone(), None),
    }
}

fn upgrade_head(setup: &Setup, upgrade: &Upgrade) -> (Vec<u8>, Asked) {
    let Upgrade {
        path,
        protocols,
        authorization,
        deflate,
        bad_key,
        bad_version,
        extra,
    } = upgrade;
    let prefix = if setup.prefix { "/ocpp/" } else { "/" };
    let (path, identity) = match path {
        Path::Identity(pick) => {
            let identity = IDENTITIES[usize::from(*pick) % IDENTITIES.len()];
            (format!("{prefix}{identity}"), Some(identity))
        }
        Path::Text(text) => (text.clone(), None),
    };
    let offered: Vec<String> = protocols
        .iter()
        .take(4)
        .map(|p| match p {
            Protocol::Version(pick) => OcppVersion::ALL[usize::from(*pick) % 3]
                .subprotocol()
                .to_owned(),
            Protocol::Text(text) => text.clone(),
        })
        .collect();
    let mut head = format!(
        "GET {path} HTTP/1.1\r\nHost: csms\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    );
    head += if *bad_version {
        "Sec-WebSocket-Version: 8\r\n"
    } else {
        "Sec-WebSocket-Version: 13\r\n"
    };
    head += &format!(
        "Sec-WebSocket-Key: {}\r\n",
        if *bad_key { "not a key" } else { KEY }
    );
    let offer = (!offered.is_empty()).then(|| offered.join(", "));
    if let Some(offer) = &offer {
        head += &format!("Sec-WebSocket-Protocol: {offer}\r\n");
    }
    // The identity as the server decodes it, for the Basic credentials' user.
    let user = identity.map(|i| i.replace("%43", "C").replace("%30", "0"));
    let credentials = match authorization {
        Authorization::None => None,
        Authorization::Right => Some(basic_authorization(
            user.as_deref().unwrap_or("x"),
            PASSWORD,
        )),
        Authorization::WrongPassword => Some(basic_authorization(
            user.as_deref().unwrap_or("x"),
            "wrong password 123",
        )),
        Authorization::Text(text) => Some(text.clone()),
    };
    if let Some(credentials) = &credentials {
        head += &format!("Authorization: {credentials}\r\n");
    }
    if *deflate {
        head += "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    }
    let mut plain = true;
    if let Some((name, value)) = extra {
        head += &format!("{name}: {value}\r\n");
        plain = false;
    }
    head += "\r\n";
    let credentials_right = !setup.password || matches!(authorization, Authorization::Right);
    // Texts of the input's own in header values: a control character or a byte beyond ASCII
    // makes the request malformed (or another request altogether).
    let texts_safe = protocols
        .iter()
        .all(|p| !matches!(p, Protocol::Text(text) if !header_safe(text)))
        && !matches!(authorization, Authorization::Text(text) if !header_safe(text));
    // The names offered as the server reads the header: comma-separated, trimmed.
    let versions: Vec<OcppVersion> = offer
        .iter()
        .flat_map(|offer| offer.split(','))
        .filter_map(|name| OcppVersion::from_subprotocol(name.trim()))
        .collect();
    let asked = Asked {
        valid: identity.is_some()
            && credentials_right
            && texts_safe
            && !bad_key
            && !bad_version
            && plain,
        offered: offer,
        versions,
        deflate: *deflate,
        intact: texts_safe,
    };
    (head.into_bytes(), asked)
}

/// Visible ASCII, space and tab only: what a header value may hold.
fn header_safe(text: &str) -> bool {
    text.bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

fn opcode(op: &Opcode) -> u8 {
    match op {
        Opcode::Text => 1,
        Opcode::Binary => 2,
        Opcode::Continuation => 0,
        Opcode::Ping => 9,
        Opcode::Pong => 10,
        Opcode::Close => 8,
        Opcode::Other(code) => code & 0x0F,
    }
}

fn payload_bytes(payload: &Payload, version: OcppVersion, setup: &Setup) -> Vec<u8> {
    let actions = AnyAction::all(version);
    let pick = |p: u8| actions[usize::from(p) % actions.len()];
    let json = |value: serde_json::Value| serde_json::to_vec(&value).unwrap_or_default();
    match payload {
        Payload::Call { action, seed, id } => {
            let action = pick(*action);
            match request(action, *seed) {
                Some(r) => json(serde_json::json!([2, format!("c{id}"), action.as_str(), r])),
                None => Vec::new(),
            }
        }
        Payload::Answer { call, seed, error } => {
            let id = (call % 4 + 1).to_string();
            let answered = setup
                .call_station
                .map(|(p, _)| pick(p))
                .unwrap_or(actions[0]);
            match (error, response(answered, *seed)) {
                (false, Some(r)) => json(serde_json::json!([3, id, r])),
                _ => json(serde_json::json!([4, id, "GenericError", "", {}])),
            }
        }
        Payload::Send { action, seed } => {
            let action = pick(*action);
            match request(action, *seed) {
                Some(r) => json(serde_json::json!([6, "s", action.as_str(), r])),
                None => Vec::new(),
            }
        }
        Payload::Damaged {
            action,
            seed,
            at,
            xor,
            cut,
        } => {
            let action = pick(*action);
            let Some(r) = request(action, *seed) else {
                return Vec::new();
            };
            let mut bytes = json(serde_json::json!([2, "d", action.as_str(), r]));
            let at = usize::from(*at) % bytes.len().max(1);
            if *cut {
                bytes.truncate(at);
            } else if let Some(byte) = bytes.get_mut(at) {
                *byte ^= xor | 1;
            }
            bytes
        }
        Payload::Close { code, reason } => {
            let mut bytes = code.to_be_bytes().to_vec();
            bytes.extend_from_slice(reason.as_bytes());
            bytes
        }
        Payload::Bytes(bytes) => bytes.clone(),
    }
}

fn frame_bytes(frame: &WsFrame, payload: &[u8], out: &mut Vec<u8>) {
    let fin = if frame.not_final { 0 } else { 0x80 };
    out.push(fin | ((frame.rsv & 7) << 4) | opcode(&frame.opcode));
    let mask = if frame.unmasked { 0 } else { 0x80 };
    let len = frame.claim.map_or(payload.len() as u64, u64::from);
    match frame.length_form % 3 {
        0 if len < 126 => out.push(mask | len as u8),
        0 | 1 if len <= 0xFFFF => {
            out.push(mask | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if frame.unmasked {
        out.extend_from_slice(payload);
    } else {
        out.extend_from_slice(&frame.mask);
        out.extend(
            payload
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ frame.mask[i % 4]),
        );
    }
}

fn acceptor(setup: &Setup) -> Acceptor {
    let mut config = ServerConfig::default();
    config.versions = setup.versions();
    if setup.prefix {
        config.path_prefix = Some("/ocpp".to_owned());
    }
    if setup.small_messages {
        config.max_message_size = 512;
    }
    if setup.password {
        config.security = SecurityProfile::BasicAuth;
    }
    let mut handlers = Handlers::new();
    let answer = setup.answer;
    handlers.fallback(move |_, request: AnyRequest| async move {
        let action = request.action();
        match answer.and_then(|seed| response(action, seed)) {
            Some(response) => Ok(response),
            None => Err(RpcError::new(ErrorCode::GenericError, "the handler fails")),
        }
    });
    let mut acceptor = Acceptor::new(config, handlers);
    if setup.password {
        acceptor = acceptor.on_handshake(|handshake| async move {
            if handshake.password_is(PASSWORD) {
                Ok(())
            } else {
                Err(Refusal::unauthorized())
            }
        });
    }
    if let Some((pick, seed)) = setup.call_station {
        acceptor = acceptor.on_connection(move |connection| {
            let actions = AnyAction::all(connection.version());
            let action = actions[usize::from(pick) % actions.len()];
            if let Some(request) = request(action, seed) {
                tokio::spawn(async move {
                    let _ = connection.call_any(request).await;
                });
            }
        });
    }
    acceptor
}

/// Runs the whole exchange: everything the server wrote, or `None` if it never ended.
async fn exchange(acceptor: Acceptor, bytes: Vec<u8>, pieces: &[u8]) -> Option<Vec<u8>> {
    let (client, server) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move { acceptor.serve(server, REMOTE).await });
    let (mut read, mut write) = tokio::io::split(client);
    let reader = tokio::spawn(async move {
        let mut out = Vec::new();
        let _ = read.read_to_end(&mut out).await;
        out
    });
    let client = async move {
        let mut rest = &bytes[..];
        let mut turn = 0;
        while !rest.is_empty() {
            let size = pieces
                .get(turn % pieces.len().max(1))
                .copied()
                .unwrap_or(255);
            turn += 1;
            let (piece, after) = rest.split_at(usize::from(size).max(1).min(rest.len()));
            rest = after;
            if write.write_all(piece).await.is_err() {
                break;
            }
            tokio::task::yield_now().await;
        }
        let _ = write.shutdown().await;
        reader.await.ok()
    };
    tokio::time::timeout(Duration::from_secs(3600), client)
        .await
        .ok()
        .flatten()
}

/// A reader over a byte slice for `FrameReader`.
struct Slice<'a>(&'a [u8]);

impl embedded_io_async::ErrorType for Slice<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io_async::Read for Slice<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// Holds what the server wrote to what the request asked for.
fn check(asked: &Asked, accepted: &[OcppVersion], out: &[u8]) {
    let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") else {
        assert!(
            !asked.valid || out.is_empty(),
            "no response head: {:?}",
            String::from_utf8_lossy(out)
        );
        return;
    };
    let (head, frames) = out.split_at(end + 4);
    let chosen = asked
        .offered
        .as_deref()
        .and_then(|offer| choose_subprotocol(offer, accepted));
    let version = match check_response(head, KEY, &asked.versions) {
        Ok(version) => {
            if asked.intact {
                assert_eq!(Some(version), chosen, "the server chose another version");
            }
            version
        }
        Err(HandshakeError::Extension) => return, // compressed frames: not read here
        Err(error) => {
            assert!(
                !asked.valid || chosen.is_none(),
                "a valid upgrade ({:?} offered) was answered {error:?}: {}",
                asked.offered,
                String::from_utf8_lossy(head)
            );
            return;
        }
    };
    if asked.deflate {
        return;
    }
    let mut buf = vec![0; 1 << 16];
    let mut reader = FrameReader::new(&mut buf);
    let mut stream = Slice(frames);
    loop {
        match embassy_futures::block_on(reader.next(&mut stream)) {
            Ok(Incoming::Text(text)) => {
                if let Err(error) = frame::parse(text.as_bytes(), version) {
                    panic!("the server wrote an invalid frame {text:?}: {error:?}");
                }
            }
            Ok(Incoming::Close(_)) | Err(WsError::Eof | WsError::TooBig) => return,
            Ok(_) => {}
            Err(error) => panic!("the server wrote no valid WebSocket: {error:?}"),
        }
    }
}

fuzz_target!(|input: Input| {
    let (mut bytes, asked) = head_bytes(&input);
    let accepted = input.setup.versions();
    let version = asked
        .as_ref()
        .and_then(|a| a.offered.as_deref())
        .and_then(|offer| choose_subprotocol(offer, &accepted))
        .unwrap_or(OcppVersion::V201);
    for frame in input.frames.iter().take(32) {
        let payload = payload_bytes(&frame.payload, version, &input.setup);
        frame_bytes(frame, &payload, &mut bytes);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => panic!("no runtime: {error}"),
    };
    let acceptor = acceptor(&input.setup);
    let out = runtime.block_on(exchange(acceptor, bytes, &input.pieces));
    let Some(out) = out else {
        panic!("the server never ended the exchange");
    };
    if let Some(asked) = &asked {
        check(asked, &accepted, &out);
    }
});
