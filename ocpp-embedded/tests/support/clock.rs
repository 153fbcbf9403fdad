//! The tests' `embassy-time` driver: the crate's own host driver (`src/host.rs`), compiled
//! into the tests when the crate does not already link it (feature `host-time-driver`).

#[allow(dead_code, unreachable_pub, missing_docs)]
#[path = "../../src/host.rs"]
mod host;
