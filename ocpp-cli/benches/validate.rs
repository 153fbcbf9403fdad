//! Throughput of `ocpp validate`: megabytes of frames per second on one core.
//!
//! The input is `ocpp gen --responses` output (every action of the version, CALL and CALLRESULT)
//! plus a block of 2.0.1 TransactionEvent/1.6 MeterValues traffic, about 8 MB per version.
#![allow(
    missing_docs,
    reason = "criterion_group! writes an undocumented pub fn"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ocpp_cli::{generate, validate};
use ocpp_rpc::AnyAction;
use ocpp_types::OcppVersion;

fn traffic(version: OcppVersion, heavy: &str) -> Vec<u8> {
    let mut input = Vec::new();
    let mut seed = 1;
    while input.len() < 8 << 20 {
        for action in [None, AnyAction::from_name(version, heavy)] {
            let options = generate::Options {
                version,
                action,
                count: 200,
                seed,
                responses: true,
            };
            // Ids repeat between blocks; each CALLRESULT directly follows its CALL.
            generate::run(&options, &mut input).expect("writing to memory");
            seed += 1;
        }
    }
    input
}

fn bench(c: &mut Criterion) {
    for (version, heavy) in [
        (OcppVersion::V16, "MeterValues"),
        (OcppVersion::V201, "TransactionEvent"),
        (OcppVersion::V21, "TransactionEvent"),
    ] {
        let input = traffic(version, heavy);
        let mut sink = Vec::with_capacity(1 << 20);
        let check = validate::run(version, input.as_slice(), &mut sink).expect("in memory");
        assert_eq!(check.errors, 0, "the benchmark input is valid");
        let mut group = c.benchmark_group(format!("validate/{version}"));
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.sample_size(10);
        group.bench_function("frames", |b| {
            b.iter(|| {
                sink.clear();
                validate::run(version, input.as_slice(), &mut sink).expect("in memory")
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
