//! Decoding and encoding representative messages with ocpp-rs (schema-exact decode), next to
//! the floor, `serde_json::from_str::<IgnoredAny>` on the same text (parsing without building
//! anything). Every decoder reads text, as a WebSocket text message arrives. `benches/rust-ocpp/benches/codec.rs` measures rust-ocpp on the same inputs with the
//! same group names; `benches/codec.sh` runs both and prints the ratios.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ocpp_rs_benches as inputs;
use serde::de::{DeserializeOwned, IgnoredAny};

fn compare<Ours: DeserializeOwned + serde::Serialize>(c: &mut Criterion, name: &str, json: &str) {
    let bytes = json.as_bytes();
    let ours: Ours = match ocpp_types::from_str(json) {
        Ok(value) => value,
        Err(error) => panic!("{name}: ocpp-rs refuses the input: {error}"),
    };
    let mut group = c.benchmark_group(format!("decode/{name}"));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(BenchmarkId::from_parameter("ocpp-rs"), |b| {
        b.iter(|| ocpp_types::from_str::<Ours>(std::hint::black_box(json)).is_ok())
    });
    group.bench_function(BenchmarkId::from_parameter("floor-IgnoredAny"), |b| {
        b.iter(|| serde_json::from_str::<IgnoredAny>(std::hint::black_box(json)).is_ok())
    });
    group.finish();
    let mut group = c.benchmark_group(format!("encode/{name}"));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    let mut out = Vec::with_capacity(bytes.len() * 2);
    group.bench_function(BenchmarkId::from_parameter("ocpp-rs"), |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, std::hint::black_box(&ours)).is_ok()
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    use ocpp_types::{v16, v201};
    compare::<v201::TransactionEventRequest>(
        c,
        "2.0.1 TransactionEvent",
        &inputs::transaction_event(),
    );
    compare::<v201::BootNotificationRequest>(
        c,
        "2.0.1 BootNotification",
        &inputs::boot_notification(),
    );
    compare::<v16::MeterValuesRequest>(c, "1.6 MeterValues", &inputs::meter_values_16());
    compare::<v201::NotifyReportRequest>(
        c,
        "2.0.1 NotifyReport (100 entries)",
        &inputs::notify_report(100),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
