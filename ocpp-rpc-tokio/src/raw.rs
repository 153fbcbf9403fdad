//! The WebSocket under an OCPP session, one message at a time, for tools that test another
//! implementation: a conformance prober offers odd subprotocol lists and wrong credentials,
//! writes malformed frames, and reads whatever comes back, where a [`Connection`] would have
//! checked and answered it.
//!
//! [`open`] runs a client's handshake as [`ClientConfig`] says (URL, TLS, timeout, extra
//! headers) with the `Sec-WebSocket-Protocol` and `Authorization` values of an [`Offer`], and
//! reports the server's answer without judging it; [`accept`] answers a server-side upgrade
//! request with the subprotocol given. Both give a [`RawSocket`]. Nothing here enforces OCPP:
//! that is the point.
//!
//! [`Connection`]: crate::Connection

use std::io;

use futures_util::{SinkExt, StreamExt};
use hyper::header::{self, HeaderValue};
use hyper_util::rt::TokioIo;
use yawc::close::CloseCode;
use yawc::{Frame, HttpStream, OpCode, UpgradeFut, WebSocket};

use crate::client::{self, ClientConfig, ConnectError};
use crate::websocket_options;

/// What a client's upgrade request carries besides the WebSocket headers: the exact
/// `Sec-WebSocket-Protocol` and `Authorization` values, each header left out when `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// The `Sec-WebSocket-Protocol` value (`"ocpp2.0.1, ocpp1.6"`).
    pub subprotocols: Option<String>,
    /// The `Authorization` value (see [`ocpp_rpc::handshake::basic_authorization`]).
    pub authorization: Option<String>,
}

/// A server's answer to an upgrade request, as it came.
#[derive(Debug)]
pub struct Opened {
    /// The HTTP status (`101` when the WebSocket is open).
    pub status: u16,
    /// The `Sec-WebSocket-Protocol` answered, if any.
    pub subprotocol: Option<String>,
    /// The WebSocket, after a `101`.
    pub socket: Option<RawSocket>,
}

/// Connects to `config.url` and sends the upgrade request `offer` describes, within
/// `config.connect_timeout`. The URL's last path segment goes out as it is, whether or not it
/// is an identity the OCPP rules allow. Any HTTP answer is an [`Opened`]; a failure to connect, a broken
/// HTTP exchange or a `101` with the wrong `Sec-WebSocket-Accept` is a [`ConnectError`].
pub async fn open(config: &ClientConfig, offer: &Offer) -> Result<Opened, ConnectError> {
    let target = client::target(&config.url, false)?;
    let answer = client::exchange(config, &target, offer).await?;
    Ok(Opened {
        status: answer.status,
        subprotocol: answer.subprotocol,
        socket: answer.socket.map(|socket| RawSocket {
            inner: Inner::Client(socket),
        }),
    })
}

/// A server-side upgrade under way: the response is sent, the socket comes with [`socket`].
///
/// [`socket`]: Accepting::socket
#[derive(Debug)]
pub struct Accepting(UpgradeFut);

impl Accepting {
    /// The WebSocket, once the HTTP server has handed over the connection.
    pub async fn socket(self) -> io::Result<RawSocket> {
        let socket = self.0.await.map_err(io::Error::other)?;
        Ok(RawSocket {
            inner: Inner::Server(socket),
        })
    }
}

/// Answers a WebSocket upgrade request (from a hyper-based server, which puts the upgrade
/// handle into the request's extensions) with `101` and `subprotocol` as the
/// `Sec-WebSocket-Protocol` (none when `None`), reading messages up to `max_message_size`
/// bytes. `Err` when the request is not a WebSocket upgrade, with the reason.
pub fn accept<B>(
    request: &mut http::Request<B>,
    subprotocol: Option<&str>,
    max_message_size: usize,
) -> Result<(http::Response<String>, Accepting), String> {
    let (mut response, upgrading) =
        WebSocket::upgrade_with_options(&mut *request, websocket_options(max_message_size))
            .map_err(|error| error.to_string())?;
    if let Some(subprotocol) = subprotocol {
        let value = HeaderValue::from_str(subprotocol).map_err(|error| error.to_string())?;
        response
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    Ok((response.map(|_| String::new()), Accepting(upgrading)))
}

/// A WebSocket message as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message. One that is not UTF-8 comes as [`Message::Binary`]'s bytes would, in
    /// [`Message::InvalidText`].
    Text(String),
    /// A text message whose bytes are not UTF-8.
    InvalidText(Vec<u8>),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (the socket answers it with a pong by itself).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame: its status code, if it had one, and reason.
    Close {
        /// The close code (`None`: the frame had no body).
        code: Option<u16>,
        /// The reason, lossily decoded.
        reason: String,
    },
}

/// An open WebSocket, client or server side.
pub struct RawSocket {
    inner: Inner,
}

impl std::fmt::Debug for RawSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let side = match self.inner {
            Inner::Client(_) => "client",
            Inner::Server(_) => "server",
        };
        f.debug_struct("RawSocket").field("side", &side).finish()
    }
}

enum Inner {
    Client(WebSocket<TokioIo<hyper::upgrade::Upgraded>>),
    Server(WebSocket<HttpStream>),
}

impl RawSocket {
    async fn send(&mut self, frame: Frame) -> io::Result<()> {
        let sent = match &mut self.inner {
            Inner::Client(socket) => socket.send(frame).await,
            Inner::Server(socket) => socket.send(frame).await,
        };
        sent.map_err(io::Error::other)
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.send(Frame::text(text.to_owned())).await
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.send(Frame::binary(bytes.to_vec())).await
    }

    /// Sends a ping.
    pub async fn ping(&mut self, payload: &[u8]) -> io::Result<()> {
        self.send(Frame::ping(payload.to_vec())).await
    }

    /// Sends a close frame with `code` and `reason`.
    pub async fn close(&mut self, code: u16, reason: &str) -> io::Result<()> {
        self.send(Frame::close(CloseCode::from(code), reason.as_bytes()))
            .await
    }

    /// The next message; `None` once the connection is gone (closed, reset, or broken at the
    /// WebSocket level).
    pub async fn receive(&mut self) -> Option<Message> {
        let frame = match &mut self.inner {
            Inner::Client(socket) => socket.next().await,
            Inner::Server(socket) => socket.next().await,
        }?;
        Some(match frame.opcode() {
            OpCode::Text => match std::str::from_utf8(frame.payload()) {
                Ok(text) => Message::Text(text.to_owned()),
                Err(_) => Message::InvalidText(frame.payload().to_vec()),
            },
            OpCode::Ping => Message::Ping(frame.payload().to_vec()),
            OpCode::Pong => Message::Pong(frame.payload().to_vec()),
            OpCode::Close => Message::Close {
                code: frame.close_code().map(u16::from),
                reason: frame
                    .close_reason()
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .to_owned(),
            },
            _ => Message::Binary(frame.payload().to_vec()),
        })
    }
}
