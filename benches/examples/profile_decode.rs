//! A decode loop for profilers and instruction counters:
//! `cargo run --release --example profile_decode -- [te|boot|mv|nr] [ours|floor|reader] [N]`, e.g.
//! under `perf record` or `valgrind --tool=callgrind` (which counts instructions, so two builds
//! can be compared on a noisy machine).
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let n: usize = arg(2, "1000000").parse().unwrap_or(1_000_000);
    let mode = arg(1, "ours");
    let (json, decode): (String, fn(&str) -> bool) = match arg(0, "te").as_str() {
        "boot" => (ocpp_rs_benches::boot_notification(), |j| {
            ocpp_types::from_str::<ocpp_types::v201::BootNotificationRequest>(j).is_ok()
        }),
        "mv" => (ocpp_rs_benches::meter_values_16(), |j| {
            ocpp_types::from_str::<ocpp_types::v16::MeterValuesRequest>(j).is_ok()
        }),
        "nr" => (ocpp_rs_benches::notify_report(100), |j| {
            ocpp_types::from_str::<ocpp_types::v201::NotifyReportRequest>(j).is_ok()
        }),
        _ => (ocpp_rs_benches::transaction_event(), |j| {
            ocpp_types::from_str::<ocpp_types::v201::TransactionEventRequest>(j).is_ok()
        }),
    };
    let mut ok = 0;
    for _ in 0..n {
        let json = black_box(json.as_str());
        ok += usize::from(match mode.as_str() {
            "floor" => serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok(),
            // Our reader with nothing built: how much of a decode is reading the JSON.
            "reader" => ocpp_types::__rt::fast_from_str::<serde::de::IgnoredAny>(json).is_ok(),
            _ => decode(json),
        });
    }
    println!("{ok}");
}
