//! `ocpp probe` against our own CSMS and station, in every version: the whole catalogue, no
//! finding at all (a finding here is a bug in the probe or in what it probes).

use std::net::SocketAddr;
use std::time::Duration;

use ocpp_cli::csms::{self, StationPath};
use ocpp_cli::station;
use ocpp_cli::transcript::Transcript;
use ocpp_probe::{Plan, Report, Settings, Target};
use ocpp_types::OcppVersion;

const VERSIONS: [OcppVersion; 3] = [OcppVersion::V16, OcppVersion::V201, OcppVersion::V21];

fn check(report: &Report, least: usize) {
    assert!(report.findings().next().is_none(), "{}", report.to_text());
    assert!(report.cases.len() >= least, "{} cases", report.cases.len());
    assert_eq!(report.reconnects, 0);
}

/// The whole CSMS catalogue of every version against `url`: no finding.
async fn probe_every_version(url: &str) {
    for version in VERSIONS {
        let plan = Plan::new(version, Target::Csms, 1);
        let report = ocpp_probe::probe_csms(url, None, &plan, &Settings::default())
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        check(&report, 250);
        // Every family ran.
        for family in ["handshake.", "rpc.", "payload.", "ws."] {
            assert!(
                report.cases.iter().any(|c| c.case.id.starts_with(family)),
                "{family}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_csms_passes_the_whole_probe_in_every_version() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    let server = csms::start(any, VERSIONS.to_vec(), &StationPath::Any, Transcript::off())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    probe_every_version(&format!("ws://{}/ocpp/PROBE-1", server.local_addr())).await;
    server.shutdown(Duration::from_secs(1)).await;
}

/// The router in front of our CSMS (and a second one as a secondary) is a CSMS to the probe:
/// it must answer every case as one, whatever it passes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_router_passes_the_whole_probe_in_every_version() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}"));
    let primary = csms::start(any, VERSIONS.to_vec(), &StationPath::Any, Transcript::off())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let secondary = csms::start(any, VERSIONS.to_vec(), &StationPath::Any, Transcript::off())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = std::env::temp_dir().join(format!("ocpp-probe-router-{}", std::process::id()));
    let config = format!(
        "listen = \"127.0.0.1:0\"\nstore = \"{}\"\nmessages_per_second = 100000\nmessage_burst = 100000\n\
         [[backend]]\nname = \"billing\"\nurl = \"ws://{}/ocpp\"\nprimary = true\n\
         [[backend]]\nname = \"energy\"\nurl = \"ws://{}/ocpp\"\n",
        store.display(),
        primary.local_addr(),
        secondary.local_addr()
    );
    let config = ocpp_router::RouterConfig::from_toml(&config).unwrap_or_else(|e| panic!("{e}"));
    let router = ocpp_router::Router::new(config)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    probe_every_version(&format!("ws://{}/ocpp/PROBE-R", router.local_addr())).await;
    router.shutdown(Duration::from_secs(1)).await;
    primary.shutdown(Duration::from_secs(1)).await;
    secondary.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_station_passes_the_whole_probe_in_every_version() {
    for version in VERSIONS {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let mut options = station::Options::new(format!("ws://{address}/ocpp/ST-1"), version);
        options.sessions = 0;
        options.stay = Duration::from_secs(120);
        options.give_up = Duration::from_secs(1);
        // The station's future is not `Send` (its embedded stack is in it): a thread of its
        // own. It gives up a second after the probe has closed the connection.
        let station = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            runtime.map(|r| {
                r.block_on(station::run(&options, Transcript::off()))
                    .is_ok()
            })
        });
        let plan = Plan::new(version, Target::Station, 1);
        let report = ocpp_probe::probe_station_on(listener, None, &plan, &Settings::default())
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        check(&report, 250);
        // With every case answered, it ends by giving up on reconnecting (exit 3).
        let ended = tokio::task::spawn_blocking(move || station.join()).await;
        assert!(matches!(ended, Ok(Ok(Ok(false)))), "{ended:?}");
    }
}
