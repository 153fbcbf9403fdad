//! [`Registry`]: the connected stations of one acceptor, by identity, and what happens when an
//! identity that is connected connects again ([`DuplicateIdentity`]).
//!
//! Identities are compared without regard to ASCII case, because the specification's
//! `identifierString` is case-insensitive; a connection keeps the identity as its station sent
//! it.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::connection::Connection;

/// What the server does when a station connects with the identity of a connected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DuplicateIdentity {
    /// The new connection replaces the old one, which is closed with 1008 (policy violation)
    /// and the reason "replaced by a newer connection", and reported to the application as
    /// [`ConnectionEvent::Replaced`](crate::ConnectionEvent::Replaced). A station that lost
    /// its connection without the server noticing reconnects at once this way. The default.
    #[default]
    ReplaceOld,
    /// The new connection is refused with `409 Conflict` before the upgrade while the old one
    /// is open.
    RefuseNew,
}

/// The connected stations, keyed by lowercase identity.
#[derive(Default)]
pub(crate) struct Registry {
    by_identity: Mutex<HashMap<String, Connection>>,
}

fn key(identity: &str) -> String {
    identity.to_ascii_lowercase()
}

impl Registry {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Connection>> {
        self.by_identity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The open connection of `identity`.
    pub(crate) fn get(&self, identity: &str) -> Option<Connection> {
        self.map()
            .get(&key(identity))
            .filter(|c| !c.is_closed())
            .cloned()
    }

    /// Every open connection.
    pub(crate) fn all(&self) -> Vec<Connection> {
        self.map()
            .values()
            .filter(|c| !c.is_closed())
            .cloned()
            .collect()
    }

    /// Records `connection`; returns the open connection it displaces, if any.
    pub(crate) fn insert(&self, connection: &Connection) -> Option<Connection> {
        self.map()
            .insert(key(connection.identity()), connection.clone())
            .filter(|old| !old.is_closed())
    }

    /// Forgets `connection`, if it is still the one recorded for its identity.
    pub(crate) fn remove(&self, connection: &Connection) {
        let mut map = self.map();
        let key = key(connection.identity());
        if map.get(&key).is_some_and(|c| c.same(connection)) {
            map.remove(&key);
        }
    }
}
