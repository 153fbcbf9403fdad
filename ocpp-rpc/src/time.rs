//! [`Millis`]: the session's notion of time.

/// A point in time, in milliseconds, on a clock the caller chooses (monotonic, any origin).
///
/// The session never reads a clock: every method that needs the time takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// `ms` milliseconds later (saturating).
    pub const fn plus_millis(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }

    /// Milliseconds since the clock's origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}
