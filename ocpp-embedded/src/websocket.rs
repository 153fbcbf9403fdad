//! A WebSocket client (RFC 6455) for OCPP-J over any [`embedded_io_async`] stream, in the
//! caller's buffers: the URL ([`Endpoint`]), the opening handshake with the OCPP rules of
//! [`ocpp_rpc::handshake`] ([`client_handshake`]), and the framing ([`FrameReader`],
//! [`FrameWriter`]).
//!
//! The frame header codec is `edge-ws`'s; this module adds what a client over a borrowed
//! buffer needs around it:
//!
//! - a message is read whole into the read buffer, its fragments joined in place; a message
//!   (or a control frame) that does not fit the buffer with its frame header is refused with
//!   [`WsError::TooBig`] (close code 1009) as soon as its header says so, before its payload is
//!   read;
//! - frames RFC 6455 forbids a server to send (a masked frame, a control frame longer than 125
//!   bytes or fragmented, a continuation outside a fragmented message, a new message inside
//!   one, reserved bits or opcodes) are [`WsError::Protocol`] (1002); a text message that is
//!   not UTF-8 is [`WsError::NotUtf8`] (1007);
//! - frames are written masked with a fresh key each, through the write buffer in pieces, so a
//!   message of any length goes out whatever the buffer's size;
//! - pings and closes are handed to the caller (the run loop answers them).
//!
//! No extension is offered (permessage-deflate would need a window of 32 KiB), so a server that
//! answers with one is refused.

use alloc::string::String;

use base64::Engine;
use edge_ws::{FrameHeader, FrameType};
use embedded_io_async::{Error as _, ErrorKind, Read, Write};
use ocpp_rpc::handshake;
use ocpp_types::OcppVersion;
use sha1::{Digest, Sha1};

/// The longest frame header: 2 bytes, 8 of extended length, 4 of mask key.
pub const MAX_HEADER: usize = 14;

/// The smallest write buffer [`FrameWriter`] works with: a header and a few payload bytes.
pub const MIN_WRITE_BUFFER: usize = 32;

/// Where the CSMS is: a `ws://` or `wss://` URL whose last path segment is the station's
/// identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    secure: bool,
    host: String,
    port: u16,
    target: String,
    identity: String,
}

/// Why a URL is not a usable [`Endpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ws` or `wss`.
    Scheme,
    /// No host, a host with characters a host name cannot hold, or user information (`@`).
    Host,
    /// A port that is not a number from 1 to 65535.
    Port,
    /// A path with a space or a control character (it goes into the request line as it is).
    Path,
    /// The last path segment is not a valid identity.
    Identity(handshake::IdentityError),
}

impl core::fmt::Display for UrlError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            UrlError::Scheme => f.write_str("the scheme must be ws or wss"),
            UrlError::Host => f.write_str("no valid host"),
            UrlError::Port => f.write_str("the port must be a number from 1 to 65535"),
            UrlError::Path => f.write_str("the path holds a space or a control character"),
            UrlError::Identity(error) => write!(f, "no valid station identity: {error}"),
        }
    }
}

impl core::error::Error for UrlError {}

impl Endpoint {
    /// Reads `ws://host[:port]/path/<identity>` or `wss://...` (the port defaults to 80 and
    /// 443; IPv6 hosts in brackets; a query is kept for the request, a fragment dropped). The
    /// identity is the last path segment, percent-decoded and checked by
    /// [`handshake::identity_from_path`].
    pub fn parse(url: &str) -> Result<Endpoint, UrlError> {
        let (scheme, rest) = url.split_once("://").ok_or(UrlError::Scheme)?;
        let secure = if scheme.eq_ignore_ascii_case("wss") {
            true
        } else if scheme.eq_ignore_ascii_case("ws") {
            false
        } else {
            return Err(UrlError::Scheme);
        };
        let rest = rest.split('#').next().unwrap_or("");
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(split);
        if authority.contains('@') {
            return Err(UrlError::Host);
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']').ok_or(UrlError::Host)?;
            if host.is_empty()
                || !host
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            {
                return Err(UrlError::Host);
            }
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(UrlError::Port)?),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
        {
            return Err(UrlError::Host);
        }
        let port = match port {
            None => {
                if secure {
                    443
                } else {
                    80
                }
            }
            Some(digits) => match digits.parse::<u16>() {
                Ok(port) if port > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => port,
                _ => return Err(UrlError::Port),
            },
        };
        if target.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
            return Err(UrlError::Path);
        }
        let path = target.split('?').next().unwrap_or("");
        if !path.starts_with('/') {
            return Err(UrlError::Identity(handshake::IdentityError::EmptySegment));
        }
        let identity = handshake::identity_from_path(path, None).map_err(UrlError::Identity)?;
        Ok(Endpoint {
            secure,
            host: String::from(host),
            port,
            target: String::from(target),
            identity,
        })
    }

    /// Whether the URL is `wss://`: the stream must be TLS.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host, as in the URL (without brackets for IPv6): what to resolve, and the TLS server
    /// name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The request target: the path and query.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The station's identity (the last path segment, decoded).
    pub fn identity(&self) -> &str {
        &self.identity
    }
}

/// Why the opening handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Reading or writing the stream failed.
    Io(ErrorKind),
    /// The server closed the connection before answering.
    Eof,
    /// The response head does not fit the read buffer.
    ResponseTooLarge,
    /// The response is not HTTP/1.1 as RFC 6455 asks.
    Malformed(&'static str),
    /// The server did not switch protocols: the HTTP status it answered with (401 for a wrong
    /// password, 404 for an unknown path or identity, ...).
    Refused(u16),
    /// `Sec-WebSocket-Accept` is missing or does not match the key sent.
    Accept,
    /// The server answered with an extension, though none was offered.
    Extension,
    /// The server chose no subprotocol, or one that was not offered.
    NoCommonVersion,
}

impl core::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HandshakeError::Io(kind) => write!(f, "I/O error: {kind:?}"),
            HandshakeError::Eof => f.write_str("the server closed the connection"),
            HandshakeError::ResponseTooLarge => {
                f.write_str("the handshake response does not fit the read buffer")
            }
            HandshakeError::Malformed(what) => write!(f, "invalid handshake response: {what}"),
            HandshakeError::Refused(status) => {
                write!(
                    f,
                    "the CSMS refused the WebSocket handshake with HTTP {status}"
                )
            }
            HandshakeError::Accept => f.write_str("wrong Sec-WebSocket-Accept"),
            HandshakeError::Extension => f.write_str("the server chose an extension not offered"),
            HandshakeError::NoCommonVersion => {
                f.write_str("the CSMS accepted none of the offered OCPP versions")
            }
        }
    }
}

impl core::error::Error for HandshakeError {}

/// A `Sec-WebSocket-Key` from 16 random bytes (RFC 6455 asks for a nonce, not a secret).
pub fn websocket_key(mut random: impl FnMut() -> u32) -> String {
    let mut nonce = [0u8; 16];
    for chunk in nonce.chunks_mut(4) {
        chunk.copy_from_slice(&random().to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(nonce)
}

/// The `Sec-WebSocket-Accept` a server must answer `key` with (RFC 6455, 4.2.2).
pub fn accept_key(key: &str) -> String {
    let mut hash = Sha1::new();
    hash.update(key.as_bytes());
    hash.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(hash.finalize())
}

/// The upgrade request: `GET <target>` with the WebSocket headers, the OCPP subprotocols
/// `versions` offer ([`handshake::offered_subprotocols`]) and, with a password (security
/// profiles 1 and 2), `Authorization: Basic` for the identity
/// ([`handshake::basic_authorization`]).
pub fn upgrade_request(
    endpoint: &Endpoint,
    versions: &[OcppVersion],
    key: &str,
    password: Option<&str>,
) -> String {
    use core::fmt::Write as _;
    let mut request = String::with_capacity(256);
    let host = if endpoint.host.contains(':') {
        alloc::format!("[{}]", endpoint.host)
    } else {
        endpoint.host.clone()
    };
    // Writing into a String cannot fail.
    let _ = write!(
        request,
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {}\r\n",
        endpoint.target,
        host,
        endpoint.port,
        key,
        handshake::offered_subprotocols(versions),
    );
    if let Some(password) = password {
        let _ = write!(
            request,
            "Authorization: {}\r\n",
            handshake::basic_authorization(&endpoint.identity, password)
        );
    }
    request.push_str("\r\n");
    request
}

/// The most response headers read.
const MAX_HEADERS: usize = 32;

/// Parses a response head into `response`: its length once complete, `None` while partial.
fn parse_head<'h, 'b>(
    response: &mut httparse::Response<'h, 'b>,
    bytes: &'b [u8],
) -> Result<Option<usize>, HandshakeError> {
    match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => Ok(Some(length)),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            Err(HandshakeError::Malformed("more than 32 headers"))
        }
        Err(_) => Err(HandshakeError::Malformed("not an HTTP response")),
    }
}

/// Checks a complete response head to the request sent with `key` offering `versions`: the
/// version the server chose.
pub fn check_response(
    head: &[u8],
    key: &str,
    versions: &[OcppVersion],
) -> Result<OcppVersion, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    if parse_head(&mut response, head)?.is_none() {
        return Err(HandshakeError::Malformed("incomplete"));
    }
    if response.version != Some(1) {
        return Err(HandshakeError::Malformed("not HTTP/1.1"));
    }
    let status = response.code.unwrap_or(0);
    if status != 101 {
        return Err(HandshakeError::Refused(status));
    }
    let mut upgrade = false;
    let mut connection = false;
    let mut accept = None;
    let mut protocol = None;
    for header in response.headers.iter() {
        let value = core::str::from_utf8(header.value)
            .map_err(|_| HandshakeError::Malformed("a header value is not UTF-8"))?
            .trim();
        let name = header.name;
        if name.eq_ignore_ascii_case("upgrade") {
            upgrade |= value.eq_ignore_ascii_case("websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection |= value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
        } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
            if accept.replace(value).is_some() {
                return Err(HandshakeError::Accept);
            }
        } else if name.eq_ignore_ascii_case("sec-websocket-extensions") {
            return Err(HandshakeError::Extension);
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol")
            && protocol.replace(value).is_some()
        {
            return Err(HandshakeError::NoCommonVersion);
        }
    }
    if !upgrade {
        return Err(HandshakeError::Malformed("no Upgrade: websocket"));
    }
    if !connection {
        return Err(HandshakeError::Malformed("no Connection: Upgrade"));
    }
    if accept != Some(accept_key(key).as_str()) {
        return Err(HandshakeError::Accept);
    }
    handshake::accepted_subprotocol(protocol, versions).ok_or(HandshakeError::NoCommonVersion)
}

/// The opening handshake over a fresh stream: sends the upgrade request, reads the response
/// into `frames`' buffer (what follows the response head stays there as the first frame
/// bytes), checks it, and returns the version the server chose.
pub async fn client_handshake<R: Read, W: Write>(
    reader: &mut R,
    writer: &mut W,
    frames: &mut FrameReader<'_>,
    endpoint: &Endpoint,
    versions: &[OcppVersion],
    password: Option<&str>,
    random: impl FnMut() -> u32,
) -> Result<OcppVersion, HandshakeError> {
    let key = websocket_key(random);
    let request = upgrade_request(endpoint, versions, &key, password);
    let io = |e: ErrorKind| HandshakeError::Io(e);
    writer
        .write_all(request.as_bytes())
        .await
        .map_err(|e| io(e.kind()))?;
    writer.flush().await.map_err(|e| io(e.kind()))?;
    frames.reset();
    loop {
        let filled = &frames.buf[..frames.end];
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        if let Some(length) = parse_head(&mut httparse::Response::new(&mut headers), filled)? {
            let version = check_response(&filled[..length], &key, versions)?;
            frames.buf.copy_within(length..frames.end, 0);
            frames.end -= length;
            return Ok(version);
        }
        if frames.end == frames.buf.len() {
            return Err(HandshakeError::ResponseTooLarge);
        }
        let read = reader
            .read(&mut frames.buf[frames.end..])
            .await
            .map_err(|e| io(e.kind()))?;
        if read == 0 {
            return Err(HandshakeError::Eof);
        }
        frames.end += read;
    }
}

/// Why reading or writing a WebSocket connection failed. Each but the I/O ones has the close
/// code RFC 6455 gives it ([`WsError::close_code`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsError {
    /// The stream failed.
    Io(ErrorKind),
    /// The server closed the stream.
    Eof,
    /// A frame the protocol forbids (1002).
    Protocol(&'static str),
    /// A message larger than the read buffer allows (1009).
    TooBig,
    /// A text message that is not UTF-8 (1007).
    NotUtf8,
    /// The write buffer is smaller than [`MIN_WRITE_BUFFER`].
    WriteBuffer,
}

impl WsError {
    /// The close code to send for this error, if a close frame is still worth sending.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            WsError::Protocol(_) => Some(1002),
            WsError::TooBig => Some(1009),
            WsError::NotUtf8 => Some(1007),
            WsError::Io(_) | WsError::Eof | WsError::WriteBuffer => None,
        }
    }
}

impl core::fmt::Display for WsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WsError::Io(kind) => write!(f, "I/O error: {kind:?}"),
            WsError::Eof => f.write_str("the server closed the connection"),
            WsError::Protocol(what) => write!(f, "WebSocket protocol error: {what}"),
            WsError::TooBig => f.write_str("a message larger than the read buffer"),
            WsError::NotUtf8 => f.write_str("a text message that is not UTF-8"),
            WsError::WriteBuffer => f.write_str("the write buffer is too small"),
        }
    }
}

impl core::error::Error for WsError {}

/// A message or control frame from the server, borrowed from the read buffer until the next
/// [`FrameReader::next`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A text message (every fragment joined).
    Text(&'a str),
    /// A binary message (OCPP-J has none: the run loop closes with 1003).
    Binary(&'a [u8]),
    /// A ping, to be answered with a pong of the same payload.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// A close frame, with its status code if it has one.
    Close(Option<u16>),
}

/// What the item last returned still occupies in the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    Nothing,
    /// A control frame of this many bytes at `assembled`.
    Control(usize),
    /// The message at the start.
    Message,
}

/// What [`FrameReader::parse`] found.
enum Parsed {
    Control {
        kind: FrameType,
        start: usize,
        len: usize,
    },
    Message {
        text: bool,
    },
    Fragment,
}

/// Reads frames from the server into a caller's buffer and returns whole messages.
///
/// The buffer holds the message being assembled at its start and the raw bytes read after
/// it, so a message (with the header of its last frame) must fit the buffer: the buffer's
/// size is the message size limit. [`next`](FrameReader::next) is cancel-safe only as far as
/// the stream's `read` is: bytes a completed `read` returned are never lost, but a `read`
/// dropped half-way may lose what it had (a TLS stream's does); the run loop never drops one.
#[derive(Debug)]
pub struct FrameReader<'b> {
    buf: &'b mut [u8],
    /// The message being assembled is at `buf[..assembled]`.
    assembled: usize,
    /// Raw bytes are at `buf[assembled..end]`.
    end: usize,
    held: Held,
    /// A fragmented message is being read: whether it is text.
    fragmented: Option<bool>,
}

impl<'b> FrameReader<'b> {
    /// A reader over `buf`.
    pub fn new(buf: &'b mut [u8]) -> FrameReader<'b> {
        FrameReader {
            buf,
            assembled: 0,
            end: 0,
            held: Held::Nothing,
            fragmented: None,
        }
    }

    /// The largest text message that surely fits: the buffer less the longest frame header.
    pub fn max_message(&self) -> usize {
        self.buf.len().saturating_sub(MAX_HEADER)
    }

    /// Forgets everything read (for a new connection).
    pub fn reset(&mut self) {
        self.assembled = 0;
        self.end = 0;
        self.held = Held::Nothing;
        self.fragmented = None;
    }

    /// The next message or control frame. After an error the connection is unusable.
    pub async fn next<R: Read>(&mut self, reader: &mut R) -> Result<Incoming<'_>, WsError> {
        self.release();
        loop {
            match self.parse()? {
                Some(Parsed::Fragment) => continue,
                Some(Parsed::Control { kind, start, len }) => {
                    let payload = &self.buf[start..start + len];
                    return Ok(match kind {
                        FrameType::Ping => Incoming::Ping(payload),
                        FrameType::Pong => Incoming::Pong(payload),
                        _ => Incoming::Close(close_code(payload)?),
                    });
                }
                Some(Parsed::Message { text }) => {
                    let message = &self.buf[..self.assembled];
                    return if text {
                        core::str::from_utf8(message)
                            .map(Incoming::Text)
                            .map_err(|_| WsError::NotUtf8)
                    } else {
                        Ok(Incoming::Binary(message))
                    };
                }
                None => {}
            }
            if self.end == self.buf.len() {
                return Err(WsError::TooBig);
            }
            let read = reader
                .read(&mut self.buf[self.end..])
                .await
                .map_err(|e| WsError::Io(e.kind()))?;
            if read == 0 {
                return Err(WsError::Eof);
            }
            self.end += read;
        }
    }

    /// Drops what the item last returned occupies.
    fn release(&mut self) {
        match core::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            Held::Control(length) => {
                let at = self.assembled;
                self.buf.copy_within(at + length..self.end, at);
                self.end -= length;
            }
            Held::Message => {
                self.buf.copy_within(self.assembled..self.end, 0);
                self.end -= self.assembled;
                self.assembled = 0;
            }
        }
    }

    /// Takes one complete frame off the raw bytes, if there is one.
    fn parse(&mut self) -> Result<Option<Parsed>, WsError> {
        let raw = &self.buf[self.assembled..self.end];
        let (header, header_len) = match FrameHeader::deserialize(raw) {
            Ok(parsed) => parsed,
            Err(edge_ws::Error::Incomplete(_)) => return Ok(None),
            Err(_) => return Err(WsError::Protocol("a reserved bit or opcode")),
        };
        if header.mask_key.is_some() {
            return Err(WsError::Protocol("a masked frame from the server"));
        }
        let fin = raw.first().is_some_and(|b| b & 0x80 != 0);
        let len = usize::try_from(header.payload_len).map_err(|_| WsError::TooBig)?;
        let control = matches!(
            header.frame_type,
            FrameType::Ping | FrameType::Pong | FrameType::Close
        );
        if control && (!fin || len > 125) {
            return Err(WsError::Protocol("a fragmented or long control frame"));
        }
        let total = header_len.checked_add(len).ok_or(WsError::TooBig)?;
        if self
            .assembled
            .checked_add(total)
            .is_none_or(|end| end > self.buf.len())
        {
            return Err(WsError::TooBig);
        }
        if raw.len() < total {
            return Ok(None);
        }
        let text = match header.frame_type {
            FrameType::Ping | FrameType::Pong | FrameType::Close => {
                self.held = Held::Control(total);
                return Ok(Some(Parsed::Control {
                    kind: header.frame_type,
                    start: self.assembled + header_len,
                    len,
                }));
            }
            FrameType::Text(_) | FrameType::Binary(_) => {
                if self.fragmented.is_some() {
                    return Err(WsError::Protocol("a new message inside a fragmented one"));
                }
                matches!(header.frame_type, FrameType::Text(_))
            }
            FrameType::Continue(_) => self.fragmented.ok_or(WsError::Protocol(
                "a continuation outside a fragmented message",
            ))?,
        };
        // The payload joins the message: the raw bytes after the header move down over it.
        let at = self.assembled;
        self.buf.copy_within(at + header_len..self.end, at);
        self.end -= header_len;
        self.assembled += len;
        if header.frame_type.is_final() {
            self.fragmented = None;
            self.held = Held::Message;
            Ok(Some(Parsed::Message { text }))
        } else {
            self.fragmented = Some(text);
            Ok(Some(Parsed::Fragment))
        }
    }
}

/// The status code of a close frame's payload (none, or two bytes and a UTF-8 reason).
fn close_code(payload: &[u8]) -> Result<Option<u16>, WsError> {
    match payload {
        [] => Ok(None),
        [_] => Err(WsError::Protocol("a close frame of one byte")),
        [high, low, reason @ ..] => {
            let code = u16::from_be_bytes([*high, *low]);
            let valid = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if !valid {
                return Err(WsError::Protocol("an invalid close code"));
            }
            core::str::from_utf8(reason).map_err(|_| WsError::NotUtf8)?;
            Ok(Some(code))
        }
    }
}

/// Writes masked frames through a caller's buffer.
#[derive(Debug)]
pub struct FrameWriter<'b> {
    buf: &'b mut [u8],
}

/// The kind of a frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outgoing {
    /// A text message (one frame).
    Text,
    /// A ping.
    Ping,
    /// A pong.
    Pong,
    /// A close frame.
    Close,
}

impl<'b> FrameWriter<'b> {
    /// A writer through `buf` (at least [`MIN_WRITE_BUFFER`] bytes, else every send fails with
    /// [`WsError::WriteBuffer`]).
    pub fn new(buf: &'b mut [u8]) -> FrameWriter<'b> {
        FrameWriter { buf }
    }

    /// Sends one frame of `payload`, masked with `mask`, and flushes the stream.
    pub async fn send<W: Write>(
        &mut self,
        writer: &mut W,
        kind: Outgoing,
        payload: &[u8],
        mask: u32,
    ) -> Result<(), WsError> {
        if self.buf.len() < MIN_WRITE_BUFFER {
            return Err(WsError::WriteBuffer);
        }
        let frame_type = match kind {
            Outgoing::Text => FrameType::Text(false),
            Outgoing::Ping => FrameType::Ping,
            Outgoing::Pong => FrameType::Pong,
            Outgoing::Close => FrameType::Close,
        };
        let header = FrameHeader {
            frame_type,
            payload_len: payload.len() as u64,
            mask_key: Some(mask),
        };
        let mut filled = header
            .serialize(self.buf)
            .map_err(|_| WsError::WriteBuffer)?;
        let io = |e: W::Error| WsError::Io(e.kind());
        let mut offset = 0;
        loop {
            let n = (self.buf.len() - filled).min(payload.len() - offset);
            let piece = &mut self.buf[filled..filled + n];
            piece.copy_from_slice(&payload[offset..offset + n]);
            FrameHeader::mask_with(piece, Some(mask), offset);
            writer
                .write_all(&self.buf[..filled + n])
                .await
                .map_err(io)?;
            offset += n;
            filled = 0;
            if offset == payload.len() {
                break;
            }
        }
        writer.flush().await.map_err(io)
    }

    /// Sends a close frame with `code` (and no reason).
    pub async fn close<W: Write>(
        &mut self,
        writer: &mut W,
        code: u16,
        mask: u32,
    ) -> Result<(), WsError> {
        self.send(writer, Outgoing::Close, &code.to_be_bytes(), mask)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::VecDeque;
    use alloc::vec;
    use alloc::vec::Vec;
    use embassy_futures::block_on;
    use embedded_io_async::ErrorType;

    /// A stream that returns its chunks one `read` at a time, and keeps what is written.
    #[derive(Default)]
    struct Script {
        chunks: VecDeque<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Script {
        fn new(chunks: &[&[u8]]) -> Script {
            Script {
                chunks: chunks.iter().map(|c| c.to_vec()).collect(),
                written: Vec::new(),
            }
        }

        /// Every byte of `bytes` as a chunk of its own.
        fn bytewise(bytes: &[u8]) -> Script {
            Script {
                chunks: bytes.iter().map(|b| vec![*b]).collect(),
                written: Vec::new(),
            }
        }
    }

    impl ErrorType for Script {
        type Error = ErrorKind;
    }

    impl Read for Script {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
            let Some(chunk) = self.chunks.front_mut() else {
                return Ok(0);
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            chunk.drain(..n);
            if chunk.is_empty() {
                self.chunks.pop_front();
            }
            Ok(n)
        }
    }

    impl Write for Script {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }

        async fn flush(&mut self) -> Result<(), ErrorKind> {
            Ok(())
        }
    }

    /// An unmasked server frame.
    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = vec![if fin { 0x80 } else { 0 } | opcode];
        match payload.len() {
            n if n < 126 => frame.push(n as u8),
            n if n < 65536 => {
                frame.push(126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(payload);
        frame
    }

    fn read_all(script: &mut Script, buf: &mut [u8]) -> Vec<Result<String, WsError>> {
        let mut frames = FrameReader::new(buf);
        let mut seen = Vec::new();
        block_on(async {
            loop {
                let item = match frames.next(script).await {
                    Ok(Incoming::Text(t)) => Ok(alloc::format!("text {t}")),
                    Ok(Incoming::Binary(b)) => Ok(alloc::format!("binary {}", b.len())),
                    Ok(Incoming::Ping(p)) => Ok(alloc::format!("ping {p:?}")),
                    Ok(Incoming::Pong(p)) => Ok(alloc::format!("pong {p:?}")),
                    Ok(Incoming::Close(code)) => Ok(alloc::format!("close {code:?}")),
                    Err(WsError::Eof) => break,
                    Err(e) => Err(e),
                };
                let stop = item.is_err();
                seen.push(item);
                if stop {
                    break;
                }
            }
        });
        seen
    }

    fn ok(items: &[&str]) -> Vec<Result<String, WsError>> {
        items.iter().map(|s| Ok(String::from(*s))).collect()
    }

    #[test]
    fn urls_give_host_port_target_and_identity() {
        let e = Endpoint::parse("ws://127.0.0.1:9000/ocpp/CS%2D001").unwrap();
        assert_eq!(
            (e.host(), e.port(), e.target(), e.identity(), e.is_secure()),
            ("127.0.0.1", 9000, "/ocpp/CS%2D001", "CS-001", false)
        );
        let e = Endpoint::parse("WSS://csms.example.com/steve/CS1?x=1#frag").unwrap();
        assert_eq!(
            (e.host(), e.port(), e.target(), e.identity(), e.is_secure()),
            ("csms.example.com", 443, "/steve/CS1?x=1", "CS1", true)
        );
        let e = Endpoint::parse("ws://[::1]:8080/CS1").unwrap();
        assert_eq!((e.host(), e.port()), ("::1", 8080));
        assert_eq!(Endpoint::parse("ws://h/CS1").unwrap().port(), 80);
        for (url, error) in [
            ("http://h/CS1", UrlError::Scheme),
            ("h/CS1", UrlError::Scheme),
            ("ws:///CS1", UrlError::Host),
            ("ws://user@h/CS1", UrlError::Host),
            ("ws://h\r\nX: y/CS1", UrlError::Host),
            ("ws://h:0/CS1", UrlError::Port),
            ("ws://h:+80/CS1", UrlError::Port),
            ("ws://h:99999/CS1", UrlError::Port),
            ("ws://[::1/CS1", UrlError::Host),
            ("ws://h/a b/CS1", UrlError::Path),
            (
                "ws://h",
                UrlError::Identity(handshake::IdentityError::EmptySegment),
            ),
            (
                "ws://h/ocpp/",
                UrlError::Identity(handshake::IdentityError::EmptySegment),
            ),
            (
                "ws://h/ocpp/a%3Ab",
                UrlError::Identity(handshake::IdentityError::Character(':')),
            ),
        ] {
            assert_eq!(Endpoint::parse(url), Err(error), "{url}");
        }
    }

    #[test]
    fn accept_key_matches_rfc_6455() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        let mut n = 0;
        let key = websocket_key(|| {
            n += 1;
            n
        });
        assert_eq!(key.len(), 24);
        assert_ne!(
            key,
            websocket_key(|| 7),
            "the key comes from the random source"
        );
    }

    #[test]
    fn the_request_offers_the_version_and_authenticates_the_identity() {
        let e = Endpoint::parse("ws://[::1]:9000/ocpp/CS001").unwrap();
        let request = upgrade_request(&e, &[OcppVersion::V201], "KEY", Some("0123456789abcdef"));
        assert!(request.starts_with("GET /ocpp/CS001 HTTP/1.1\r\nHost: [::1]:9000\r\n"));
        for line in [
            "Upgrade: websocket\r\n",
            "Connection: Upgrade\r\n",
            "Sec-WebSocket-Key: KEY\r\n",
            "Sec-WebSocket-Version: 13\r\n",
            "Sec-WebSocket-Protocol: ocpp2.0.1\r\n",
            "Authorization: Basic Q1MwMDE6MDEyMzQ1Njc4OWFiY2RlZg==\r\n",
        ] {
            assert!(request.contains(line), "{line}");
        }
        assert!(request.ends_with("\r\n\r\n"));
        assert!(!upgrade_request(&e, &[OcppVersion::V16], "KEY", None).contains("Authorization"));
    }

    fn response(extra: &str) -> String {
        alloc::format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        )
    }

    #[test]
    fn responses_are_checked() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let offered = [OcppVersion::V16];
        let check = |r: &str| check_response(r.as_bytes(), key, &offered);
        assert_eq!(
            check(&response("Sec-WebSocket-Protocol: ocpp1.6\r\n")),
            Ok(OcppVersion::V16)
        );
        assert_eq!(check(&response("")), Err(HandshakeError::NoCommonVersion));
        assert_eq!(
            check(&response("Sec-WebSocket-Protocol: ocpp2.0.1\r\n")),
            Err(HandshakeError::NoCommonVersion)
        );
        assert_eq!(
            check(&response(
                "Sec-WebSocket-Protocol: ocpp1.6\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"
            )),
            Err(HandshakeError::NoCommonVersion)
        );
        assert_eq!(
            check(&response(
                "Sec-WebSocket-Protocol: ocpp1.6\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"
            )),
            Err(HandshakeError::Extension)
        );
        assert_eq!(
            check_response(
                response("Sec-WebSocket-Protocol: ocpp1.6\r\n").as_bytes(),
                "other",
                &offered
            ),
            Err(HandshakeError::Accept)
        );
        assert_eq!(
            check("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
            Err(HandshakeError::Refused(401))
        );
        assert_eq!(
            check("HTTP/1.0 101 Switching Protocols\r\n\r\n"),
            Err(HandshakeError::Malformed("not HTTP/1.1"))
        );
        assert!(matches!(
            check("SSH-2.0-OpenSSH\r\n\r\n"),
            Err(HandshakeError::Malformed(_))
        ));
    }

    #[test]
    fn the_handshake_keeps_the_bytes_after_the_response_head() {
        let endpoint = Endpoint::parse("ws://h/CS1").unwrap();
        // The key from a random source that always gives 0: 16 zero bytes.
        let key = websocket_key(|| 0);
        let mut head = response("Sec-WebSocket-Protocol: ocpp2.0.1\r\n")
            .replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &accept_key(&key))
            .into_bytes();
        head.extend(frame(true, 1, b"[3,\"1\",{}]"));
        // One byte per read: the head arrives in pieces.
        let mut stream = Script::bytewise(&head);
        let mut sink = Script::default();
        let mut buf = [0u8; 512];
        let mut frames = FrameReader::new(&mut buf);
        let version = block_on(client_handshake(
            &mut stream,
            &mut sink,
            &mut frames,
            &endpoint,
            &[OcppVersion::V201],
            None,
            || 0,
        ));
        assert_eq!(version, Ok(OcppVersion::V201));
        assert!(sink.written.starts_with(b"GET /CS1 HTTP/1.1\r\n"));
        let text = block_on(frames.next(&mut stream));
        assert_eq!(text, Ok(Incoming::Text("[3,\"1\",{}]")));

        let mut small = [0u8; 64];
        let mut frames = FrameReader::new(&mut small);
        let mut stream = Script::new(&[&head]);
        let refused = block_on(client_handshake(
            &mut stream,
            &mut sink,
            &mut frames,
            &endpoint,
            &[OcppVersion::V201],
            None,
            || 0,
        ));
        assert_eq!(refused, Err(HandshakeError::ResponseTooLarge));
        let mut stream = Script::new(&[b"HTTP/1.1 101 Swi"]);
        let mut buf = [0u8; 512];
        let mut frames = FrameReader::new(&mut buf);
        let cut = block_on(client_handshake(
            &mut stream,
            &mut sink,
            &mut frames,
            &endpoint,
            &[OcppVersion::V201],
            None,
            || 0,
        ));
        assert_eq!(cut, Err(HandshakeError::Eof));
    }

    #[test]
    fn fragments_join_around_control_frames_whatever_the_reads() {
        let mut bytes = frame(false, 1, b"[2,\"1\",");
        bytes.extend(frame(true, 9, b"hi"));
        bytes.extend(frame(false, 0, b"\"Heartbeat\","));
        bytes.extend(frame(true, 10, b""));
        bytes.extend(frame(true, 0, b"{}]"));
        bytes.extend(frame(true, 2, &[1, 2, 3]));
        bytes.extend(frame(true, 1, "é".as_bytes()));
        bytes.extend(frame(true, 8, &[0x03, 0xe8, b'b', b'y', b'e']));
        let expected = ok(&[
            "ping [104, 105]",
            "pong []",
            "text [2,\"1\",\"Heartbeat\",{}]",
            "binary 3",
            "text é",
            "close Some(1000)",
        ]);
        let mut buf = [0u8; 64];
        assert_eq!(read_all(&mut Script::new(&[&bytes]), &mut buf), expected);
        assert_eq!(read_all(&mut Script::bytewise(&bytes), &mut buf), expected);
    }

    #[test]
    fn a_message_must_fit_the_buffer_with_its_header() {
        let mut buf = [0u8; 64];
        let fits = "x".repeat(62);
        let too_big = "x".repeat(63);
        let mut bytes = frame(true, 1, fits.as_bytes());
        bytes.extend(frame(true, 1, too_big.as_bytes()));
        let seen = read_all(&mut Script::new(&[&bytes]), &mut buf);
        assert_eq!(seen[0], Ok(alloc::format!("text {fits}")));
        assert_eq!(seen[1], Err(WsError::TooBig));
        // Refused from the header alone: the payload is never waited for.
        let header = frame(true, 1, &[0u8; 70000])[..10].to_vec();
        assert_eq!(
            read_all(&mut Script::new(&[&header]), &mut buf),
            vec![Err(WsError::TooBig)]
        );
        // A fragmented message counts whole.
        let mut bytes = frame(false, 1, &[b'a'; 40]);
        bytes.extend(frame(true, 0, &[b'a'; 30]));
        assert_eq!(
            read_all(&mut Script::new(&[&bytes]), &mut buf),
            vec![Err(WsError::TooBig)]
        );
        assert_eq!(WsError::TooBig.close_code(), Some(1009));
    }

    #[test]
    fn forbidden_frames_are_protocol_errors() {
        let masked = [0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1];
        let long_ping = frame(true, 9, &[0; 126]);
        let fragmented_ping = frame(false, 9, b"");
        let lone_continuation = frame(true, 0, b"x");
        let mut nested = frame(false, 1, b"a");
        nested.extend(frame(true, 1, b"b"));
        let reserved_bit = [0xc1, 0];
        let reserved_opcode = [0x83, 0];
        let short_close = frame(true, 8, &[3]);
        let bad_code = frame(true, 8, &1005u16.to_be_bytes());
        for bytes in [
            &masked[..],
            &long_ping,
            &fragmented_ping,
            &lone_continuation,
            &nested,
            &reserved_bit,
            &reserved_opcode,
            &short_close,
            &bad_code,
        ] {
            let mut buf = [0u8; 256];
            let seen = read_all(&mut Script::new(&[bytes]), &mut buf);
            assert!(
                matches!(seen.last(), Some(Err(WsError::Protocol(_)))),
                "{bytes:?}: {seen:?}"
            );
        }
        let mut buf = [0u8; 256];
        let not_utf8 = frame(true, 1, &[0xff, 0xfe]);
        assert_eq!(
            read_all(&mut Script::new(&[&not_utf8]), &mut buf),
            vec![Err(WsError::NotUtf8)]
        );
    }

    /// Reads back masked client frames: (opcode and FIN byte, unmasked payload).
    fn client_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let (header, length) = FrameHeader::deserialize(bytes).unwrap();
            let total = length + header.payload_len as usize;
            let mut payload = bytes[length..total].to_vec();
            assert!(header.mask_key.is_some(), "client frames are masked");
            header.mask(&mut payload, 0);
            frames.push((bytes[0], payload));
            bytes = &bytes[total..];
        }
        frames
    }

    #[test]
    fn frames_of_any_length_go_out_masked_through_a_small_buffer() {
        let payload: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let mut buf = [0u8; MIN_WRITE_BUFFER];
        let mut out = FrameWriter::new(&mut buf);
        let mut sink = Script::default();
        block_on(async {
            out.send(&mut sink, Outgoing::Text, &payload, 0x1234_5678)
                .await
                .unwrap();
            out.send(&mut sink, Outgoing::Ping, b"", 7).await.unwrap();
            out.close(&mut sink, 1000, 9).await.unwrap();
        });
        let frames = client_frames(&sink.written);
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0], (0x81, payload));
        assert_eq!(frames[1], (0x89, Vec::new()));
        assert_eq!(frames[2], (0x88, 1000u16.to_be_bytes().to_vec()));
        let mut tiny = [0u8; MIN_WRITE_BUFFER - 1];
        let refused =
            block_on(FrameWriter::new(&mut tiny).send(&mut sink, Outgoing::Text, b"x", 0));
        assert_eq!(refused, Err(WsError::WriteBuffer));
    }
}
