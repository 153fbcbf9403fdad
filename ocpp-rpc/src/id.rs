//! Message ids: [`MessageId`], and the [`IdGenerator`]s that make them.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

use serde::{Serialize, Serializer};

/// The longest message id OCPP-J allows, in characters (all versions).
pub const MAX_MESSAGE_ID_CHARS: usize = 36;

/// Ids of at most this many bytes (every ASCII id) are stored inline.
const INLINE: usize = MAX_MESSAGE_ID_CHARS;

/// A message id: a string of at most 36 characters. ASCII ids (all that real peers use) are
/// stored inline, without a heap allocation.
///
/// ```
/// use ocpp_rpc::MessageId;
/// let id = MessageId::new("19223201").unwrap();
/// assert_eq!(id.as_str(), "19223201");
/// assert!(MessageId::new(&"x".repeat(37)).is_none());
/// assert!(MessageId::new(&"é".repeat(36)).is_some());
/// ```
#[derive(Clone)]
pub struct MessageId(Repr);

#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(alloc::boxed::Box<str>),
}

impl MessageId {
    /// The id, if it has at most [`MAX_MESSAGE_ID_CHARS`] characters.
    pub fn new(id: &str) -> Option<MessageId> {
        if id.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..id.len()].copy_from_slice(id.as_bytes());
            return Some(MessageId(Repr::Inline {
                len: id.len() as u8,
                buf,
            }));
        }
        if id.chars().count() > MAX_MESSAGE_ID_CHARS {
            return None;
        }
        Some(MessageId(Repr::Heap(id.into())))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always valid: the bytes were copied from a `str`.
            Repr::Inline { len, buf } => {
                core::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(id) => id,
        }
    }

    /// The id's UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..usize::from(*len)],
            Repr::Heap(id) => id.as_bytes(),
        }
    }

    /// An id made of the decimal digits of `n` (what [`CounterIds`] hands out).
    pub fn from_u64(n: u64) -> MessageId {
        let mut len = 1;
        while len < 20 && n >= 10u64.pow(len as u32) {
            len += 1;
        }
        let mut buf = [0; INLINE];
        let mut rest = n;
        for slot in buf[..len].iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        MessageId(Repr::Inline {
            len: len as u8,
            buf,
        })
    }
}

impl Deref for MessageId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for MessageId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for MessageId {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for MessageId {}

impl PartialEq<str> for MessageId {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for MessageId {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Hash for MessageId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MessageId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Makes the message ids of outgoing CALLs and SENDs.
///
/// A [`Session`](crate::Session) asks for a new id per message and skips an id that is still in
/// use on the connection, so a generator needs to be unique only in practice (a counter, a UUID
/// from the platform's random source). Ids must be unique at least per connection; starting
/// each connection from a different point (a random seed) also keeps a late answer from an
/// earlier connection from matching a new call.
pub trait IdGenerator {
    /// The next id.
    fn next_id(&mut self) -> MessageId;
}

impl<F: FnMut() -> MessageId> IdGenerator for F {
    fn next_id(&mut self) -> MessageId {
        self()
    }
}

/// The default [`IdGenerator`]: decimal numbers counting up from a seed (`"1"`, `"2"`, ...).
///
/// Short ids are the cheapest to write and to match. Give each connection a different seed
/// (from a clock or a random source) with [`CounterIds::starting_at`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterIds {
    next: u64,
}

impl CounterIds {
    /// Counts from 1.
    pub const fn new() -> CounterIds {
        CounterIds { next: 1 }
    }

    /// Counts from `seed`.
    pub const fn starting_at(seed: u64) -> CounterIds {
        CounterIds { next: seed }
    }
}

impl Default for CounterIds {
    fn default() -> Self {
        CounterIds::new()
    }
}

impl IdGenerator for CounterIds {
    fn next_id(&mut self) -> MessageId {
        let id = MessageId::from_u64(self.next);
        self.next = self.next.wrapping_add(1);
        id
    }
}
