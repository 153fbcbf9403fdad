//! Streams the run loop reads and writes at once: [`Split`], and [`Shared`] for a stream
//! whose halves are one object.
//!
//! The run loop keeps a read pending for as long as a connection lives, and writes (frames,
//! pongs, pings) while it waits: it never cancels a read, because a cancelled read may lose
//! bytes (a TLS record header half read, for one). So it needs a reading half and a writing
//! half that work at the same time, which is what [`Split`] gives.

use core::cell::RefCell;
use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;

use embedded_io_async::{ErrorType, Read, Write};

/// A connection with a reading and a writing half that may be used at the same time (one
/// future reading while another writes).
///
/// Implemented for a pair `(reader, writer)` (embassy-net's `TcpSocket::split`, tokio's
/// `into_split`, ...), for [`Shared`], and for a TLS connection (`tls::TlsStream`).
pub trait Split {
    /// The reading half.
    type Reader<'a>: Read
    where
        Self: 'a;
    /// The writing half.
    type Writer<'a>: Write
    where
        Self: 'a;

    /// Both halves.
    fn split(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>);
}

impl<R: Read, W: Write> Split for (R, W) {
    type Reader<'a>
        = &'a mut R
    where
        Self: 'a;
    type Writer<'a>
        = &'a mut W
    where
        Self: 'a;

    fn split(&mut self) -> (&mut R, &mut W) {
        (&mut self.0, &mut self.1)
    }
}

/// One stream used as two halves: each `read`, `write` or `flush` borrows it only while it is
/// polled, and polls a fresh call of the stream's own method each time.
///
/// That is right for a stream whose calls are *poll-safe*: a call polled once and dropped
/// while pending has done nothing but register the waker, and calls in one direction do not
/// disturb the other's. Sockets are (embassy-net's `TcpSocket`, a tokio `TcpStream` through
/// `embedded-io-adapters`); a TLS connection is not (give it a `Shared` socket instead, as
/// `tls::open` does).
#[derive(Debug)]
pub struct Shared<S>(RefCell<S>);

impl<S> Shared<S> {
    /// Wraps `stream`.
    pub fn new(stream: S) -> Shared<S> {
        Shared(RefCell::new(stream))
    }

    /// A half: reads and writes the stream.
    pub fn half(&self) -> Half<'_, S> {
        Half(&self.0)
    }

    /// The stream back.
    pub fn into_inner(self) -> S {
        self.0.into_inner()
    }
}

impl<S: Read + Write> Split for Shared<S> {
    type Reader<'a>
        = Half<'a, S>
    where
        Self: 'a;
    type Writer<'a>
        = Half<'a, S>
    where
        Self: 'a;

    fn split(&mut self) -> (Half<'_, S>, Half<'_, S>) {
        (Half(&self.0), Half(&self.0))
    }
}

/// A handle on a [`Shared`] stream (it can be copied: TLS wants its socket `Clone`).
#[derive(Debug)]
pub struct Half<'a, S>(&'a RefCell<S>);

impl<S> Clone for Half<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Half<'_, S> {}

impl<S: ErrorType> ErrorType for Half<'_, S> {
    type Error = S::Error;
}

/// Polls `call` on the stream once per wake, borrowing it only for the poll. A borrow
/// conflict cannot happen on one thread (polls do not nest); if it ever did, the call waits
/// for the next wake instead of panicking.
async fn poll_each<S, T, F>(cell: &RefCell<S>, mut call: F) -> T
where
    F: FnMut(&mut S, &mut core::task::Context<'_>) -> Poll<T>,
{
    poll_fn(|cx| match cell.try_borrow_mut() {
        Ok(mut stream) => call(&mut stream, cx),
        Err(_) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

impl<S: Read> Read for Half<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, S::Error> {
        poll_each(self.0, |stream, cx| pin!(stream.read(buf)).poll(cx)).await
    }
}

impl<S: Write> Write for Half<'_, S> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, S::Error> {
        poll_each(self.0, |stream, cx| pin!(stream.write(buf)).poll(cx)).await
    }

    async fn flush(&mut self) -> Result<(), S::Error> {
        poll_each(self.0, |stream, cx| pin!(stream.flush()).poll(cx)).await
    }
}
