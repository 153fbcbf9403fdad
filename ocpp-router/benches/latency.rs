//! The latency `ocpp router` adds to a call, on loopback, in one process: a station's
//! Heartbeat straight to a CSMS, through the router to the same CSMS as its primary, and
//! through the router with a secondary also getting a copy of every call.
//!
//! ```text
//! cargo bench -p ocpp-rs-router --bench latency [-- --calls N]
//! ```
//!
//! Calls go one after another (a station has one in flight); each path gets 1,000 calls of
//! warm-up first. The CSMS and the router take messages at any rate (a station's default
//! budget is 50 a second after a burst of 200, which would be measured instead). Prints p50, p99 and the mean of each path, and what the router adds.

use std::time::{Duration, Instant};

use ocpp_router::{Router, RouterConfig};
use ocpp_rpc_tokio::{ClientConfig, Connection, Handlers, RunningServer, Server, ServerConfig};
use ocpp_types::{DateTime, OcppVersion, v201};

async fn csms() -> RunningServer {
    let mut config = ServerConfig::default();
    config.versions = vec![OcppVersion::V201];
    config.limits.message_burst = u32::MAX / 2;
    config.limits.messages_per_second = u32::MAX / 2;
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::HeartbeatRequest| async {
        Ok(v201::HeartbeatResponse::new(DateTime::now()))
    });
    Server::bind("127.0.0.1:0", config, handlers)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .start()
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn station(url: String) -> Connection {
    ocpp_rpc_tokio::connect(
        &ClientConfig::new(url, [OcppVersion::V201]),
        Handlers::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
}

/// `calls` Heartbeats one after another (after 1,000 of warm-up): each one's round trip.
async fn measure(connection: &Connection, calls: usize) -> Vec<Duration> {
    for _ in 0..1_000 {
        connection
            .call(v201::HeartbeatRequest::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        connection
            .call(v201::HeartbeatRequest::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        times.push(start.elapsed());
    }
    times.sort_unstable();
    times
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut calls = 20_000;
    while let Some(arg) = args.next() {
        if arg == "--calls" {
            calls = args
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("--calls N"));
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    runtime.block_on(async move {
        let primary = csms().await;
        let secondary = csms().await;
        let store = std::env::temp_dir().join(format!("ocpp-router-bench-{}", std::process::id()));
        let router = |copies: bool| {
            let mut text = format!(
                "listen = \"127.0.0.1:0\"\nstore = \"{}\"\nmessages_per_second = 1000000000\nmessage_burst = 1000000000\n[[backend]]\nname = \"billing\"\nurl = \"ws://{}/ocpp\"\nprimary = true\n",
                store.display(),
                primary.local_addr()
            );
            if copies {
                text.push_str(&format!(
                    "[[backend]]\nname = \"energy\"\nurl = \"ws://{}/ocpp\"\n",
                    secondary.local_addr()
                ));
            }
            RouterConfig::from_toml(&text).unwrap_or_else(|e| panic!("{e}"))
        };
        let direct = station(format!("ws://{}/ocpp/DIRECT", primary.local_addr())).await;
        let straight = measure(&direct, calls).await;
        let alone = Router::new(router(false))
            .start()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let routed = station(format!("ws://{}/ocpp/ROUTED", alone.local_addr())).await;
        let through = measure(&routed, calls).await;
        let copying = Router::new(router(true))
            .start()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let copied = station(format!("ws://{}/ocpp/COPIED", copying.local_addr())).await;
        let with_copy = measure(&copied, calls).await;
        println!("{calls} Heartbeat calls one after another, 2.0.1, loopback");
        println!("{:<40} {:>10} {:>10} {:>10}", "path", "p50", "p99", "mean");
        let mean = |t: &[Duration]| t.iter().sum::<Duration>() / t.len() as u32;
        for (name, times) in [
            ("station -> CSMS", &straight),
            ("station -> router -> CSMS", &through),
            ("station -> router -> CSMS (+ a copy)", &with_copy),
        ] {
            println!(
                "{:<40} {:>10} {:>10} {:>10}",
                name,
                micros(quantile(times, 0.5)),
                micros(quantile(times, 0.99)),
                micros(mean(times))
            );
        }
        for (name, times) in [("router", &through), ("router with a copy", &with_copy)] {
            println!(
                "added by the {name}: p50 {}, p99 {}",
                micros(quantile(times, 0.5).saturating_sub(quantile(&straight, 0.5))),
                micros(quantile(times, 0.99).saturating_sub(quantile(&straight, 0.99)))
            );
        }
        let _ = std::fs::remove_dir_all(&store);
    });
}
