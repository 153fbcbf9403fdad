//! The transcript of frames that `ocpp demo`, `ocpp station` and `ocpp csms` print: one line
//! per frame, `sender → receiver  frame`.
//!
//! The transcript never holds up the protocol. Connections only format a line (at most
//! [`MAX_FRAME_CHARS`] characters of the frame, whatever its size) and hand it to a bounded
//! queue without waiting; a thread of its own writes the queue to standard output. When the
//! queue is full (standard output is slow, or a pipe nobody reads), lines are dropped and
//! counted, and `… N lines dropped (output too slow)` is written where they are missing. Control
//! characters and the invisible characters that reorder or hide text are escaped, in frames
//! and in station identities alike, so a peer cannot forge a transcript line or drive the
//! terminal.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ocpp_rpc_tokio::{Direction, FrameObserver};

/// How many lines may wait for the writer before new ones are dropped.
pub const QUEUE_LINES: usize = 1024;

/// How many characters of a frame a line shows; a longer frame is cut and its full length
/// shown.
pub const MAX_FRAME_CHARS: usize = 2000;

/// Where transcript lines go. Cloning shares the same writer.
#[derive(Clone, Default)]
pub struct Transcript {
    writer: Option<Arc<Writer>>,
}

impl std::fmt::Debug for Transcript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.writer.is_some() { "on" } else { "off" };
        f.debug_tuple("Transcript").field(&state).finish()
    }
}

/// Which end of the connections a transcript is written on: it names the two parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The CSMS (`ocpp csms`): the local party is `CSMS`, the remote one is the station's
    /// identity.
    Csms,
    /// A charging station (`ocpp station`, `ocpp demo`): the local party is `station`, the
    /// remote one `CSMS`.
    Station,
}

enum Kind {
    Line(String),
    /// Answered once every line queued before it is written.
    Flush(mpsc::Sender<()>),
}

/// What goes through the queue: a line (or a flush), and how many lines were dropped just
/// before it, so that the loss is reported where it happened.
struct Message {
    kind: Kind,
    dropped_before: u64,
}

struct Writer {
    queue: SyncSender<Message>,
    /// Dropped since the last message that got into the queue.
    unreported: AtomicU64,
    /// Dropped since the start.
    dropped: AtomicU64,
}

impl Writer {
    /// Queues `kind` without waiting, with the lines dropped before it; gives it back when
    /// the queue is full (`false`) or the writer is gone (`true`).
    fn try_queue(&self, kind: Kind) -> Result<(), (Kind, bool)> {
        let dropped_before = self.unreported.swap(0, Ordering::Relaxed);
        let message = Message {
            kind,
            dropped_before,
        };
        self.queue.try_send(message).map_err(|error| {
            self.unreported.fetch_add(dropped_before, Ordering::Relaxed);
            match error {
                TrySendError::Full(back) => (back.kind, false),
                TrySendError::Disconnected(back) => (back.kind, true),
            }
        })
    }
}

impl Transcript {
    /// A transcript on standard output, written by a thread of its own.
    pub fn stdout() -> Transcript {
        Transcript::to(Box::new(std::io::stdout()))
    }

    /// A transcript written to `out` by a thread of its own (for tests: any writer).
    pub fn to(out: Box<dyn std::io::Write + Send>) -> Transcript {
        let (queue, lines) = mpsc::sync_channel(QUEUE_LINES);
        let spawned = std::thread::Builder::new()
            .name("ocpp-transcript".into())
            .spawn(move || write_lines(lines, out));
        match spawned {
            Ok(_) => Transcript {
                writer: Some(Arc::new(Writer {
                    queue,
                    unreported: AtomicU64::new(0),
                    dropped: AtomicU64::new(0),
                })),
            },
            // No thread, no transcript: the protocol matters more than its log.
            Err(_) => Transcript::off(),
        }
    }

    /// No transcript.
    pub fn off() -> Transcript {
        Transcript { writer: None }
    }

    /// Queues `text` (escaped, as one line, cut after [`MAX_FRAME_CHARS`] characters like a
    /// frame, so the queue holds a bounded amount whatever a peer sent) without waiting; drops
    /// it if the queue is full.
    pub fn line(&self, text: &str) {
        let mut line = String::with_capacity(text.len().min(MAX_FRAME_CHARS) + 1);
        if escape_into(&mut line, text, MAX_FRAME_CHARS) {
            line.push('…');
        }
        self.queue(line);
    }

    /// How many lines were dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.writer
            .as_ref()
            .map_or(0, |w| w.dropped.load(Ordering::Relaxed))
    }

    /// Waits until every line queued so far is written, for at most `timeout` (at the end of
    /// a command, so its last lines are not lost). Returns whether they were.
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(writer) = &self.writer else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        let (done, written) = mpsc::channel();
        let mut flush = Kind::Flush(done);
        loop {
            match writer.try_queue(flush) {
                Ok(()) => break,
                Err((_, true)) => return false,
                Err((back, false)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    flush = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        written.recv_timeout(left).is_ok()
    }

    /// An observer that writes each frame as `sender → receiver  frame`, the parties named
    /// as `side` says.
    pub fn observer(&self, side: Side) -> FrameObserver {
        let transcript = self.clone();
        Arc::new(move |connection, direction, frame| {
            if transcript.writer.is_none() {
                return;
            }
            let identity = connection.identity();
            let line = match side {
                Side::Csms => frame_line("CSMS", identity, direction, frame),
                Side::Station => frame_line("station", "CSMS", direction, frame),
            };
            transcript.queue(line);
        })
    }

    /// Writes one frame as `sender → receiver  frame`: `local` sent an `Outgoing` frame to
    /// `remote`, or received an `Incoming` one from it (for frames that come without a
    /// [`Connection`](ocpp_rpc_tokio::Connection), such as a station runner's).
    pub fn frame(&self, local: &str, remote: &str, direction: Direction, frame: &str) {
        if self.writer.is_some() {
            self.queue(frame_line(local, remote, direction, frame));
        }
    }

    fn queue(&self, line: String) {
        let Some(writer) = &self.writer else {
            return;
        };
        if writer.try_queue(Kind::Line(line)).is_err() {
            writer.dropped.fetch_add(1, Ordering::Relaxed);
            writer.unreported.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The transcript line of `frame` between the `local` party and the `remote` one: `Outgoing`
/// is a frame `local` sent, `Incoming` one it received. The line reads
/// `sender → receiver  frame`, the names and the frame escaped, the frame cut after
/// [`MAX_FRAME_CHARS`] characters.
pub fn frame_line(local: &str, remote: &str, direction: Direction, frame: &str) -> String {
    let (sender, receiver) = match direction {
        Direction::Outgoing => (local, remote),
        Direction::Incoming => (remote, local),
    };
    let mut line = String::with_capacity(frame.len().min(MAX_FRAME_CHARS) + 64);
    escape_name_into(&mut line, sender);
    line.push_str(" → ");
    escape_name_into(&mut line, receiver);
    line.push_str("  ");
    if escape_into(&mut line, frame, MAX_FRAME_CHARS) {
        let _ = write!(
            line,
            "… (frame of {} bytes, {} characters shown)",
            frame.len(),
            MAX_FRAME_CHARS
        );
    }
    line
}

/// Whether `c` must not reach a terminal as itself: control characters (C0, DEL, C1) and the
/// invisible format characters that hide or reorder text (zero-width, bidi embeddings,
/// overrides and isolates, the byte-order mark).
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}')
}

/// Appends `text` with every character that `must_escape` names written as `\u{XX}`, stopping after
/// `max_chars` characters of `text`; returns whether it stopped early.
pub fn escape_into(out: &mut String, text: &str, max_chars: usize) -> bool {
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            return true;
        }
        if must_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    false
}

/// Appends a party's name: as it is when it is plain (letters, digits and `-_.:*+@#`), else
/// quoted and escaped (`"a b\u{d}\u{a}"`), so that an identity cannot pass for an arrow, a
/// frame or another party.
fn escape_name_into(out: &mut String, name: &str) {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| (c.is_alphanumeric() && !must_escape(c)) || "-_.:*+@#".contains(c));
    if plain {
        out.push_str(name);
        return;
    }
    out.push('"');
    for c in name.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if must_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The writer thread: writes lines until every sender is gone, each loss reported where it
/// happened.
fn write_lines(lines: Receiver<Message>, out: Box<dyn std::io::Write + Send>) {
    let out = Mutex::new(out);
    let write = |text: &str| {
        if let Ok(mut out) = out.lock() {
            // A closed stdout (`ocpp csms | head`) is the reader's choice: keep draining.
            let _ = out.write_all(text.as_bytes());
            let _ = out.write_all(b"\n");
        }
    };
    for Message {
        kind,
        dropped_before: missed,
    } in lines
    {
        if missed > 0 {
            write(&format!(
                "… {missed} line{} dropped (output too slow)",
                if missed == 1 { "" } else { "s" }
            ));
        }
        match kind {
            Kind::Line(line) => write(&line),
            Kind::Flush(done) => {
                if let Ok(mut out) = out.lock() {
                    let _ = out.flush();
                }
                let _ = done.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_sender_to_receiver() {
        let frame = r#"[2,"1","Heartbeat",{}]"#;
        assert_eq!(
            frame_line("CSMS", "ID1", Direction::Incoming, frame),
            format!("ID1 → CSMS  {frame}")
        );
        assert_eq!(
            frame_line("CSMS", "ID1", Direction::Outgoing, frame),
            format!("CSMS → ID1  {frame}")
        );
    }

    #[test]
    fn long_frames_are_cut_with_their_length_shown() {
        let frame = format!(
            r#"[2,"1","DataTransfer",{{"data":"{}"}}]"#,
            "é".repeat(100_000)
        );
        let line = frame_line("station", "CSMS", Direction::Outgoing, &frame);
        assert!(
            line.chars().count() < MAX_FRAME_CHARS + 100,
            "{}",
            line.len()
        );
        assert!(line.starts_with(r#"station → CSMS  [2,"1","DataTransfer",{"data":"éé"#));
        let tail = format!("… (frame of {} bytes, 2000 characters shown)", frame.len());
        assert!(line.ends_with(&tail), "{}", &line[line.len() - 80..]);
        // A frame of exactly the limit is shown whole.
        let exact = "x".repeat(MAX_FRAME_CHARS);
        assert_eq!(
            frame_line("a", "b", Direction::Outgoing, &exact),
            format!("a → b  {exact}")
        );
    }

    #[test]
    fn control_and_invisible_characters_are_escaped() {
        let frame =
            "[2,\"1\",\"DataTransfer\",\r\n{\"data\":\"\u{1b}[2J\u{7}\u{9b}\u{202e}\u{200b}ok\"}]";
        let line = frame_line("station", "CSMS", Direction::Outgoing, frame);
        assert_eq!(
            line,
            "station → CSMS  [2,\"1\",\"DataTransfer\",\\u{d}\\u{a}{\"data\":\"\\u{1b}[2J\\u{7}\\u{9b}\\u{202e}\\u{200b}ok\"}]"
        );
        assert!(!line.chars().any(must_escape));
    }

    #[test]
    fn an_identity_cannot_forge_a_line() {
        let forged = "X → CSMS  [3,\"1\",{}]\r\nID9";
        let line = frame_line(
            "CSMS",
            forged,
            Direction::Incoming,
            "[2,\"1\",\"Heartbeat\",{}]",
        );
        assert_eq!(
            line,
            "\"X → CSMS  [3,\\\"1\\\",{}]\\u{d}\\u{a}ID9\" → CSMS  [2,\"1\",\"Heartbeat\",{}]"
        );
        assert!(!line.contains('\n') && !line.contains('\r'));
        // Plain identities stay as they are; odd ones are quoted.
        assert!(
            frame_line("CSMS", "CS-001_a.b", Direction::Incoming, "").starts_with("CS-001_a.b → ")
        );
        assert!(frame_line("CSMS", "a b", Direction::Incoming, "").starts_with("\"a b\" → "));
        assert!(frame_line("CSMS", "", Direction::Incoming, "").starts_with("\"\" → "));
    }

    /// A writer that blocks until released, like a pipe nobody reads.
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        signal: std::sync::Condvar,
        entered: std::sync::atomic::AtomicBool,
        written: Mutex<Vec<u8>>,
    }

    struct Blocked(Arc<Gate>);

    impl std::io::Write for Blocked {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let gate = &*self.0;
            gate.entered.store(true, Ordering::SeqCst);
            let mut open = gate.open.lock().map_err(|_| std::io::ErrorKind::Other)?;
            while !*open {
                open = gate
                    .signal
                    .wait(open)
                    .map_err(|_| std::io::ErrorKind::Other)?;
            }
            let mut written = gate.written.lock().map_err(|_| std::io::ErrorKind::Other)?;
            written.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_blocked_output_drops_and_counts_lines_without_waiting() {
        let gate = Arc::new(Gate::default());
        let transcript = Transcript::to(Box::new(Blocked(gate.clone())));
        // The writer takes the first line and blocks writing it.
        transcript.line("line 0");
        while !gate.entered.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let started = Instant::now();
        let total = QUEUE_LINES * 3;
        for n in 1..total {
            transcript.line(&format!("line {n}"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "queueing never waits"
        );
        // The queue holds lines 1 to QUEUE_LINES; the rest are dropped and counted.
        let dropped = transcript.dropped();
        assert_eq!(dropped, (total - 1 - QUEUE_LINES) as u64);
        assert!(
            !transcript.flush(Duration::from_millis(50)),
            "still blocked"
        );

        *gate.open.lock().unwrap() = true;
        gate.signal.notify_all();
        assert!(transcript.flush(Duration::from_secs(10)));
        let text = String::from_utf8(gate.written.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let expected: Vec<String> = (0..=QUEUE_LINES).map(|n| format!("line {n}")).collect();
        assert_eq!(
            lines[..=QUEUE_LINES],
            expected,
            "the oldest lines, in order"
        );
        // The loss is reported where it happened: before the next message (here the flush).
        assert_eq!(
            lines[QUEUE_LINES + 1..],
            [format!("… {dropped} lines dropped (output too slow)")]
        );
    }

    #[test]
    fn a_long_line_is_cut_like_a_frame() {
        let gate = Arc::new(Gate::default());
        *gate.open.lock().unwrap() = true;
        let transcript = Transcript::to(Box::new(Blocked(gate.clone())));
        transcript.line(&"x".repeat(MAX_FRAME_CHARS * 10));
        assert!(transcript.flush(Duration::from_secs(10)));
        let text = String::from_utf8(gate.written.lock().unwrap().clone()).unwrap();
        let line = text.lines().next().unwrap();
        assert_eq!(line.chars().count(), MAX_FRAME_CHARS + 1);
        assert!(line.ends_with('…'));
    }
}
