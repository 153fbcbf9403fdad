//! The open-file limit a starting server raises. Alone in its test binary: the limit belongs to
//! the process, and any other test starting a server in parallel would raise it too.
#![cfg(unix)]

use ocpp_rpc_tokio::{Handlers, Limits, Server, ServerConfig, raise_open_file_limit};

/// The soft and hard open-file limits, from `/proc/self/limits`.
fn open_file_limits() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| match word {
            "unlimited" => Some(u64::MAX),
            word => word.parse().ok(),
        })
        .collect();
    (numbers[0], numbers[1])
}

#[tokio::test]
async fn a_starting_server_raises_the_open_file_limit_as_far_as_it_may() {
    if !std::path::Path::new("/proc/self/limits").exists() {
        return; // Not Linux: nothing to read the limit from without another dependency.
    }
    let (_, hard) = open_file_limits();
    // Start low, so that the raise is seen whatever limit the test runs under.
    assert_eq!(raise_open_file_limit(0).unwrap(), open_file_limits().0);
    lower_soft_limit(256, hard);
    assert_eq!(open_file_limits().0, 256);

    let mut config = ServerConfig::default();
    let mut limits = Limits::default();
    limits.max_connections = 1_000;
    config.limits = limits.clone();
    let _server = Server::bind("127.0.0.1:0", config.clone(), Handlers::new())
        .await
        .unwrap()
        .start()
        .unwrap();
    assert_eq!(open_file_limits().0, hard.min(1_064));

    // More connections than the hard limit allows: raised to the hard limit (and a warning).
    limits.max_connections = usize::MAX;
    config.limits = limits;
    let _server = Server::bind("127.0.0.1:0", config, Handlers::new())
        .await
        .unwrap()
        .start()
        .unwrap();
    assert_eq!(open_file_limits().0, hard);
}

fn lower_soft_limit(soft: u64, hard: u64) {
    rlimit::setrlimit(rlimit::Resource::NOFILE, soft, hard).unwrap();
}
