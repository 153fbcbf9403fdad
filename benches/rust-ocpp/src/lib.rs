//! Only its benchmark: `cargo bench -p ocpp-rs-bench-rust-ocpp`.
