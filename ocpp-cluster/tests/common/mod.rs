//! What the tests share: a real nats-server each ([`ocpp_cluster::testing`]), and waiting.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

pub use ocpp_cluster::testing::NatsServer as Nats;

/// Polls `check` until it holds; panics after `limit`.
pub async fn wait_for<F, Fut>(limit: Duration, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    assert!(
        ocpp_cluster::testing::wait_until(limit, check).await,
        "condition not reached in {limit:?}"
    );
}
