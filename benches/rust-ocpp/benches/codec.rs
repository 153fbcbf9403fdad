//! rust-ocpp 3.0.4 on the inputs of `benches/benches/codec.rs`: serde decode plus `validate()`
//! where its type has one, all from text, encode, and the floor (`IgnoredAny`) again, in this build (whose
//! serde_json has `arbitrary_precision`, which rust-ocpp's decimals need).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ocpp_rs_benches as inputs;
use serde::de::{DeserializeOwned, IgnoredAny};
use validator::Validate;

fn decode<T: DeserializeOwned>(json: &str) -> T {
    match serde_json::from_str(json) {
        Ok(value) => value,
        Err(error) => panic!("{}: {error}", std::any::type_name::<T>()),
    }
}

fn compare<Theirs: DeserializeOwned + serde::Serialize>(
    c: &mut Criterion,
    name: &str,
    json: &str,
    validate: fn(&Theirs) -> bool,
) {
    let bytes = json.as_bytes();
    let theirs: Theirs = decode(json);
    assert!(
        validate(&theirs),
        "{name}: rust-ocpp's validate() refuses the input"
    );
    let mut group = c.benchmark_group(format!("decode/{name}"));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(BenchmarkId::from_parameter("rust-ocpp+validate"), |b| {
        b.iter(|| validate(&decode::<Theirs>(std::hint::black_box(json))))
    });
    group.bench_function(
        BenchmarkId::from_parameter("floor-IgnoredAny-arbitrary-precision"),
        |b| b.iter(|| serde_json::from_str::<IgnoredAny>(std::hint::black_box(json)).is_ok()),
    );
    group.finish();
    let mut group = c.benchmark_group(format!("encode/{name}"));
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    let mut out = Vec::with_capacity(bytes.len() * 2);
    group.bench_function(BenchmarkId::from_parameter("rust-ocpp"), |b| {
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, std::hint::black_box(&theirs)).is_ok()
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    use rust_ocpp::v1_6::messages::meter_values::MeterValuesRequest;
    use rust_ocpp::v2_0_1::messages::{boot_notification, notify_report, transaction_event};
    compare::<transaction_event::TransactionEventRequest>(
        c,
        "2.0.1 TransactionEvent",
        &inputs::transaction_event(),
        // rust-ocpp 3.0.4 has no validate() for this message.
        |_| true,
    );
    compare::<boot_notification::BootNotificationRequest>(
        c,
        "2.0.1 BootNotification",
        &inputs::boot_notification(),
        // The message has no validate(); its ChargingStationType does.
        |boot| boot.charging_station.validate().is_ok(),
    );
    compare::<MeterValuesRequest>(c, "1.6 MeterValues", &inputs::meter_values_16(), |_| true);
    compare::<notify_report::NotifyReportRequest>(
        c,
        "2.0.1 NotifyReport (100 entries)",
        &inputs::notify_report(100),
        |report| {
            report
                .report_data
                .iter()
                .flatten()
                .all(|data| data.component.validate().is_ok() && data.variable.validate().is_ok())
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
