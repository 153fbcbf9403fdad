//! Benchmarks: `cargo bench -p ocpp-rs-benches`.
