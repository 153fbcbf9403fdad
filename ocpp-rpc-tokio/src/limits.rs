//! [`Limits`]: what one CSMS process admits, in one place, and the accounting behind it.
//!
//! Every limit has a default suited to a CSMS on the open internet; all can be changed. A
//! connection refused by a limit gets an HTTP status before any upgrade: `503 Service
//! Unavailable` when the server is full, `429 Too Many Requests` when one address holds too many
//! connections (so one misbehaving address cannot lock out well-behaved stations).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// The limits of a CSMS server, in one place. Every limit has a default suited to a CSMS on the
/// open internet. A connection refused by a limit gets an HTTP status before any upgrade: `503
/// Service Unavailable` when the server is full, `429 Too Many Requests` when one address holds
/// too many connections (so one misbehaving address cannot lock out well-behaved stations).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Connections served at once, upgraded or being upgraded (default 10,000). The process's
    /// open-file limit also bounds it: keep this below that limit.
    pub max_connections: usize,
    /// Connections from one IP address at once (default 100: a depot behind one NAT router
    /// fits; an address holding more is refused with 429).
    pub max_connections_per_address: usize,
    /// TCP connections that have not completed their handshake yet (default 256); beyond it
    /// new ones are refused at once (503 in plain text; closed without a word under TLS).
    pub max_handshakes: usize,
    /// A station must send its first OCPP message within this time after the upgrade
    /// (default 60 s), or the connection is closed (1008).
    pub first_message_timeout: Option<Duration>,
    /// Messages a connection may send in a burst before reading from it is slowed down
    /// (default 200: a station emptying its offline queue after a reconnection goes at full
    /// speed for that long).
    pub message_burst: u32,
    /// Messages per second a connection may send in the long run (default 50). Above it the
    /// server reads no faster: the sender feels TCP back-pressure, nothing is lost and nobody
    /// is disconnected.
    pub messages_per_second: u32,
    /// Bytes of message payload (after inflating) per second a connection may send in the long
    /// run (default 1 MiB), with a burst of four seconds' worth: the inflate budget, which
    /// bounds what a deflate bomb can cost in CPU.
    pub bytes_per_second: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 10_000,
            max_connections_per_address: 100,
            max_handshakes: 256,
            first_message_timeout: Some(Duration::from_secs(60)),
            message_burst: 200,
            messages_per_second: 50,
            bytes_per_second: 1 << 20,
        }
    }
}

/// Which limit refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    /// [`Limits::max_connections`]: 503.
    Connections,
    /// [`Limits::max_connections_per_address`]: 429.
    Address,
}

impl Over {
    pub(crate) fn status(self) -> u16 {
        match self {
            Over::Connections => 503,
            Over::Address => 429,
        }
    }

    pub(crate) fn reason(self) -> &'static str {
        match self {
            Over::Connections => "the server is at its connection limit",
            Over::Address => "too many connections from this address",
        }
    }
}

/// The connections of one acceptor: how many, and from where. Shared by its clones.
#[derive(Default)]
pub(crate) struct Census {
    total: AtomicUsize,
    handshakes: AtomicUsize,
    by_address: Mutex<HashMap<IpAddr, usize>>,
    ended: Notify,
}

impl Census {
    pub(crate) fn connections(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    /// Counts a connection from `address` if the limits allow it.
    pub(crate) fn admit(
        self: &Arc<Census>,
        address: IpAddr,
        limits: &Limits,
    ) -> Result<Admitted, Over> {
        let mut by_address = self
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.total.load(Ordering::SeqCst) >= limits.max_connections {
            return Err(Over::Connections);
        }
        let count = by_address.entry(address).or_insert(0);
        if *count >= limits.max_connections_per_address {
            return Err(Over::Address);
        }
        *count += 1;
        self.total.fetch_add(1, Ordering::SeqCst);
        Ok(Admitted {
            census: self.clone(),
            address,
        })
    }

    /// Counts a handshake in progress if fewer than `max` are.
    pub(crate) fn begin_handshake(self: &Arc<Census>, max: usize) -> Option<Handshaking> {
        let before = self.handshakes.fetch_add(1, Ordering::SeqCst);
        let guard = Handshaking(self.clone());
        (before < max).then_some(guard)
    }

    /// Waits until no connection is counted.
    pub(crate) async fn all_ended(&self) {
        loop {
            let ended = self.ended.notified();
            if self.connections() == 0 {
                return;
            }
            ended.await;
        }
    }
}

/// One counted connection; dropping it uncounts it.
pub(crate) struct Admitted {
    census: Arc<Census>,
    address: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut by_address = self
            .census
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                by_address.remove(&self.address);
            }
        }
        drop(by_address);
        if self.census.total.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.census.ended.notify_waiters();
        }
    }
}

/// One handshake in progress; dropping it ends it.
pub(crate) struct Handshaking(Arc<Census>);

impl Drop for Handshaking {
    fn drop(&mut self) {
        self.0.handshakes.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A token bucket over messages and bytes: how long reading must pause.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    messages: f64,
    bytes: f64,
    message_burst: f64,
    byte_burst: f64,
    messages_per_second: f64,
    bytes_per_second: f64,
    updated: tokio::time::Instant,
}

impl Budget {
    pub(crate) fn new(limits: &Limits) -> Budget {
        let message_burst = f64::from(limits.message_burst.max(1));
        let bytes_per_second = (limits.bytes_per_second.max(1)) as f64;
        Budget {
            messages: message_burst,
            bytes: bytes_per_second * 4.0,
            message_burst,
            byte_burst: bytes_per_second * 4.0,
            messages_per_second: f64::from(limits.messages_per_second.max(1)),
            bytes_per_second,
            updated: tokio::time::Instant::now(),
        }
    }

    fn refill(&mut self, now: tokio::time::Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.updated = now;
        self.messages =
            (self.messages + elapsed * self.messages_per_second).min(self.message_burst);
        self.bytes = (self.bytes + elapsed * self.bytes_per_second).min(self.byte_burst);
    }

    /// Takes one message of `bytes` bytes (the budget may go negative: the next read waits).
    pub(crate) fn spend(&mut self, bytes: usize) {
        self.refill(tokio::time::Instant::now());
        self.messages -= 1.0;
        self.bytes -= bytes as f64;
    }

    /// When reading may go on (`None`: now).
    pub(crate) fn resume_at(&mut self) -> Option<tokio::time::Instant> {
        let now = tokio::time::Instant::now();
        self.refill(now);
        let wait_messages = (1.0 - self.messages).max(0.0) / self.messages_per_second;
        let wait_bytes = (-self.bytes).max(0.0) / self.bytes_per_second;
        let wait = wait_messages.max(wait_bytes);
        (wait > 0.0).then(|| now + Duration::from_secs_f64(wait.min(3600.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn one_address_cannot_take_every_place() {
        let census = Arc::new(Census::default());
        let limits = Limits {
            max_connections: 5,
            max_connections_per_address: 2,
            ..Limits::default()
        };
        let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        let first = census.admit(a, &limits).unwrap();
        let _second = census.admit(a, &limits).unwrap();
        assert_eq!(census.admit(a, &limits).err(), Some(Over::Address));
        let others: Vec<_> = (0..3).map(|_| census.admit(b, &limits)).collect();
        assert_eq!(others.iter().filter(|o| o.is_ok()).count(), 2);
        assert_eq!(census.connections(), 4);
        drop(first);
        assert_eq!(census.connections(), 3);
        assert!(
            census.admit(a, &limits).is_ok(),
            "a place freed is a place again"
        );
    }

    #[test]
    fn handshakes_in_progress_are_bounded() {
        let census = Arc::new(Census::default());
        let held: Vec<_> = (0..3).filter_map(|_| census.begin_handshake(2)).collect();
        assert_eq!(held.len(), 2);
        drop(held);
        assert!(census.begin_handshake(2).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_slows_reading_without_refusing() {
        let limits = Limits {
            message_burst: 3,
            messages_per_second: 10,
            bytes_per_second: 1000,
            ..Limits::default()
        };
        let mut budget = Budget::new(&limits);
        for _ in 0..3 {
            assert_eq!(budget.resume_at(), None);
            budget.spend(10);
        }
        let wait = budget.resume_at().expect("the burst is spent");
        let now = tokio::time::Instant::now();
        assert!(
            wait - now <= Duration::from_millis(101) && wait - now >= Duration::from_millis(99)
        );
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_eq!(budget.resume_at(), None);
        // A big message spends the byte budget: 4,000 bytes of burst, then 1,000 per second.
        budget.spend(6000);
        let wait = budget.resume_at().expect("the bytes are spent");
        assert!(wait - tokio::time::Instant::now() >= Duration::from_millis(1900));
    }
}
