#![no_main]
//! The embedded adapter's WebSocket client reading what a server sends
//! (`ocpp_embedded::websocket`): an HTTP response head, then frames, arriving in pieces of
//! any size.
//!
//! Checks: `check_response` and `FrameReader::next` never panic; every read either yields an
//! item, takes bytes, or ends with an error (so a stream of any length ends: no hang); a text
//! message is at most the buffer's size; after an error the reader is done.

use std::convert::Infallible;

use embedded_io_async::{ErrorType, Read};
use libfuzzer_sys::fuzz_target;
use ocpp_embedded::websocket::{FrameReader, Incoming, check_response};
use ocpp_types::OcppVersion;

/// A stream giving the input in pieces whose sizes come from the input too.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
}

impl ErrorType for Pieces<'_> {
    type Error = Infallible;
}

impl Read for Pieces<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let size = self
            .sizes
            .get(self.turn % self.sizes.len().max(1))
            .copied()
            .unwrap_or(7);
        self.turn += 1;
        let n = usize::from(size).max(1).min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&split, rest)) = input.split_first() else {
        return;
    };
    let split = usize::from(split).min(rest.len());
    let (sizes, data) = rest.split_at(split.min(16));
    // The handshake's check of a response head.
    let _ = check_response(data, "dGhlIHNhbXBsZSBub25jZQ==", &OcppVersion::ALL);
    // Frames, into a buffer whose size the input picks.
    let mut buf = vec![0; 16 + usize::from(split) * 8];
    let capacity = buf.len();
    let mut reader = FrameReader::new(&mut buf);
    let mut stream = Pieces {
        data,
        sizes,
        turn: 0,
    };
    // Each call takes at least one byte or ends: bounded by the input's length.
    for _ in 0..=data.len() + 1 {
        match embassy_futures::block_on(reader.next(&mut stream)) {
            Ok(Incoming::Text(text)) => assert!(text.len() <= capacity),
            Ok(Incoming::Binary(bytes)) => assert!(bytes.len() <= capacity),
            Ok(_) => {}
            Err(_) => return,
        }
    }
    panic!("the reader went on after its input ended");
});
