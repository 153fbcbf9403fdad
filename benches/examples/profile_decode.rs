//! A decode loop for profilers: `perf record cargo run --release --example profile_decode`.
fn main() {
    let json = ocpp_rs_benches::transaction_event();
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut ok = 0;
    for _ in 0..n {
        ok += ocpp_types::from_str::<ocpp_types::v201::TransactionEventRequest>(
            std::hint::black_box(json.as_str()),
        )
        .is_ok() as usize;
    }
    println!("{ok}");
}
