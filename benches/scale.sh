#!/usr/bin/env bash
# Scale on one box: 50,000 stations against ocpp-rs, ocpp-kit 0.3.0 and Node ocpp-rpc 2.2.1,
# from the same load generator in the same run, then the table side by side (see the doc comment of
# benches/src/bin/scale.rs for the phases). About 15 minutes after the build on 2 cores.
#
#     bash benches/scale.sh [--stations 50000] [--servers 4] [--generators 4] [--peers rust,kit,node]
#                           [--rates 1000,2000,4000,8000,12000,16000] [--seconds 10] [--fresh 4000]
set -euo pipefail
cd "$(dirname "$0")/.."
bash interop/setup.sh >/dev/null # the Node peer, into interop/.peers/
cargo build --release --quiet --manifest-path benches/Cargo.toml --bin scale
exec benches/target/release/scale "$@"
