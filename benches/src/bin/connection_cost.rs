//! What one station connection costs an ocpp-rs CSMS, allocation by allocation.
//!
//! `cargo run --release --manifest-path benches/Cargo.toml --bin connection_cost -- [STATIONS]`
//!
//! Runs the CSMS of the scale bench (`scale serve`'s configuration) in this process under the
//! dhat heap profiler, has a `scale generate` process connect and boot STATIONS stations
//! (default 2,000), and prints the heap the connections hold, per connection, grouped by where
//! it was allocated (the innermost frame in ocpp-rs, yawc, hyper or tokio). Build `scale`
//! first (the same command with `--bin scale`).

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use ocpp_rpc_tokio::Server;
use ocpp_rs_benches::scale;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() {
    let stations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let Ok(runtime) = runtime else {
        eprintln!("connection_cost: no tokio runtime");
        std::process::exit(2);
    };
    if let Err(error) = runtime.block_on(run(stations)) {
        eprintln!("connection_cost: {error}");
        std::process::exit(1);
    }
}

type Fallible<T = ()> = Result<T, Box<dyn std::error::Error>>;

async fn run(stations: usize) -> Fallible {
    let dir = std::env::temp_dir().join(format!("ocpp-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let profile = dir.join("dhat-heap.json");
    let profiler = dhat::Profiler::builder().file_name(&profile).build();
    let server = Server::from_listener(
        scale::reuse_port_listener(0)?,
        scale::config(),
        scale::handlers(),
    )?
    .start()?;
    let before = dhat::HeapStats::get().curr_bytes as u64;
    let port = server.local_addr().port();
    let pki = scale::pki(&dir)?;
    let mut generator =
        tokio::process::Command::new(std::env::current_exe()?.with_file_name("scale"))
            .arg("generate")
            .arg(format!("ws://127.0.0.1:{port}"))
            .arg("wss://localhost:1") // no TLS in this bench
            .arg("127.0.0.2")
            .arg("0")
            .arg(stations.to_string())
            .arg(&pki.ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
    let mut stdin = generator.stdin.take().ok_or("no stdin")?;
    let mut answers = BufReader::new(generator.stdout.take().ok_or("no stdout")?).lines();
    stdin.write_all(b"hold\n").await?;
    let held = tokio::time::timeout(Duration::from_secs(300), answers.next_line())
        .await??
        .ok_or("the generator ended")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let connections = server.acceptor().connections();
    eprintln!("{held}; the CSMS holds {connections} connections");
    drop(profiler); // writes the profile: what is live now is what the connections hold
    let _ = generator.kill().await;
    report(
        &std::fs::read_to_string(&profile)?,
        connections.max(1),
        before,
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Groups the bytes live at the end of the profile by their innermost frame of interest.
fn report(json: &str, connections: usize, before: u64) -> Fallible {
    let profile: serde_json::Value = serde_json::from_str(json)?;
    let frames: Vec<&str> = profile["ftbl"]
        .as_array()
        .ok_or("no frame table")?
        .iter()
        .map(|f| f.as_str().unwrap_or(""))
        .collect();
    let mut groups: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut total = 0;
    for point in profile["pps"].as_array().ok_or("no program points")? {
        let bytes = point["eb"].as_u64().unwrap_or(0);
        let blocks = point["ebk"].as_u64().unwrap_or(0);
        if bytes == 0 {
            continue;
        }
        total += bytes;
        let stack = point["fs"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let place = stack
            .iter()
            .filter_map(|i| frames.get(i.as_u64()? as usize))
            .find_map(|frame| interesting(frame))
            .unwrap_or_else(|| "elsewhere".to_owned());
        let entry = groups.entry(place).or_default();
        entry.0 += bytes;
        entry.1 += blocks;
    }
    let mut rows: Vec<_> = groups.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1.0));
    println!(
        "heap live with {connections} connections: {:.0} bytes per connection ({} bytes before \
         any connection)",
        total.saturating_sub(before) as f64 / connections as f64,
        before
    );
    println!("{:>10} {:>8}  allocated in", "bytes/conn", "blocks");
    for (place, (bytes, blocks)) in rows {
        let per = bytes as f64 / connections as f64;
        if per >= 8.0 {
            println!(
                "{per:>10.0} {:>8.1}  {place}",
                blocks as f64 / connections as f64
            );
        }
    }
    Ok(())
}

/// The function a frame names, if it is one worth grouping by: the innermost frame of ours or
/// of the libraries a connection lives in.
fn interesting(frame: &str) -> Option<String> {
    const CRATES: [&str; 8] = [
        "ocpp_rpc_tokio::",
        "ocpp_rpc::",
        "ocpp_types::",
        "yawc::",
        "hyper::",
        "hyper_util::",
        "tokio::",
        "flate2::",
    ];
    // A frame reads `0x1234: crate::module::function (path/file.rs:12:3)`.
    let name = frame.split_once(": ").map_or(frame, |(_, rest)| rest);
    let name = name.split(" (").next().unwrap_or(name);
    CRATES
        .iter()
        .any(|c| name.starts_with(c) || name.starts_with(&format!("<{c}")))
        .then(|| name.to_owned())
}
