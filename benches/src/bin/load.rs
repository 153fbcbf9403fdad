//! Load generator: many charging stations against one ocpp-rs CSMS on loopback.
//!
//! `cargo run --release --manifest-path benches/Cargo.toml --bin load -- [CONNECTIONS] [CALLS]`
//!
//! Starts the CSMS in a child process (this binary with `--serve`), opens CONNECTIONS station
//! connections (OCPP 2.0.1, permessage-deflate offered), then has every station make CALLS
//! Heartbeat calls back to back, all stations at once. Prints the connections held, calls per
//! second, p50/p99 call latency, and the CSMS's resident memory per connection (from
//! /proc/<pid>/status before and after the connections).

use std::time::{Duration, Instant};

use ocpp_rpc_tokio::{ClientConfig, Handlers, Server, ServerConfig, connect};
use ocpp_types::{DateTime, OcppVersion, v201};
use tokio::io::{AsyncBufReadExt, BufReader};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if args.get(1).map(String::as_str) == Some("--serve") {
        runtime.block_on(serve());
        return;
    }
    let connections: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let calls: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    runtime.block_on(load(connections, calls));
}

async fn serve() {
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::HeartbeatRequest| async {
        Ok(v201::HeartbeatResponse::new(DateTime::now()))
    });
    let mut config = ServerConfig::default();
    config.versions = vec![OcppVersion::V201];
    // Every simulated station comes from 127.0.0.1, as fast as it can: lift the limits that
    // protect a real server from one address and from floods.
    config.limits.max_connections = usize::MAX;
    config.limits.max_connections_per_address = usize::MAX;
    config.limits.max_handshakes = 4096;
    config.limits.messages_per_second = u32::MAX / 2;
    config.limits.message_burst = u32::MAX / 2;
    config.ping_interval = None;
    let server = Server::bind("127.0.0.1:0", config, handlers)
        .await
        .expect("bind")
        .start()
        .expect("start");
    println!("{}", server.local_addr());
    std::future::pending::<()>().await;
}

async fn load(connections: usize, calls: usize) {
    let exe = std::env::current_exe().expect("own path");
    let mut child = tokio::process::Command::new(exe)
        .arg("--serve")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the CSMS process");
    let pid = child.id().expect("pid");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let addr = lines
        .next_line()
        .await
        .ok()
        .flatten()
        .expect("the CSMS's address");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_rss = ocpp_rs_benches::rss_kib(pid);

    let opened = Instant::now();
    let mut stations = Vec::with_capacity(connections);
    let handlers = Handlers::new();
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..connections {
        let mut config =
            ClientConfig::new(format!("ws://{addr}/CS{i:06}"), vec![OcppVersion::V201]);
        config.ping_interval = None;
        config.pong_timeout = Duration::from_secs(3600);
        let handlers = handlers.clone();
        attempts.spawn(async move { connect(&config, handlers).await });
        // Keep the accept queue from overflowing.
        if attempts.len() >= 256 {
            if let Some(Ok(Ok(station))) = attempts.join_next().await {
                stations.push(station);
            }
        }
    }
    while let Some(result) = attempts.join_next().await {
        if let Ok(Ok(station)) = result {
            stations.push(station);
        }
    }
    let connect_time = opened.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held_rss = ocpp_rs_benches::rss_kib(pid);

    let started = Instant::now();
    let mut runs = tokio::task::JoinSet::new();
    for station in stations.clone() {
        runs.spawn(async move {
            let mut latencies = Vec::with_capacity(calls);
            for _ in 0..calls {
                let at = Instant::now();
                if station
                    .call(v201::HeartbeatRequest::default())
                    .await
                    .is_ok()
                {
                    latencies.push(at.elapsed());
                }
            }
            latencies
        });
    }
    let mut latencies = Vec::new();
    while let Some(result) = runs.join_next().await {
        latencies.extend(result.unwrap_or_default());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let held = stations.len();
    println!("connections requested      {connections}");
    println!("connections held           {held} (opened in {connect_time:.2?})");
    println!(
        "calls answered             {} of {} in {elapsed:.2?}",
        latencies.len(),
        held * calls
    );
    println!(
        "calls per second           {:.0}",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50 / p99          {:.2?} / {:.2?}",
        quantile(0.50),
        quantile(0.99)
    );
    println!(
        "CSMS resident memory       {idle_rss} KiB idle, {held_rss} KiB with {held} connections: {:.1} KiB per connection",
        (held_rss.saturating_sub(idle_rss)) as f64 / held.max(1) as f64
    );
    let _ = child.kill().await;
}
