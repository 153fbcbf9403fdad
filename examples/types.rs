//! Build, encode and decode a 2.0.1 BootNotification.
fn main() {}
