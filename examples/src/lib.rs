//! Examples live beside this file; see `cargo run -p ocpp-rs-examples --example types`.
