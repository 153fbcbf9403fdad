//! Campaigns against small scripted CSMSs: a right answer passes, a wrong one is found, a
//! dropped connection is critical and the probe connects again and goes on.

use std::net::SocketAddr;

use hyper::service::service_fn;
use ocpp_probe::{Plan, Settings, Severity, Target};
use ocpp_rpc_tokio::raw::{self, Message};
use ocpp_types::OcppVersion;

mod support;

/// What the scripted CSMS does with a text message.
enum Reply {
    Text(String),
    Drop,
    Nothing,
}

/// A CSMS speaking 2.0.1 that does what `script` says, and where it says nothing
/// (`None`), answers boots and heartbeats validly and ignores the rest.
async fn fake_csms(script: fn(&str) -> Option<Reply>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = service_fn(
                move |mut request: http::Request<hyper::body::Incoming>| async move {
                    let (response, accepting) =
                        raw::accept(&mut request, Some("ocpp2.0.1"), 1 << 20)
                            .unwrap_or_else(|e| panic!("{e}"));
                    tokio::spawn(async move {
                        let Ok(mut socket) = accepting.socket().await else {
                            return;
                        };
                        while let Some(message) = socket.receive().await {
                            let Message::Text(text) = message else {
                                continue;
                            };
                            let id = text.split('"').nth(1).unwrap_or("-1").to_owned();
                            let reply = if let Some(reply) = script(&text) {
                                reply
                            } else if text.contains("\"BootNotification\"") {
                                Reply::Text(format!(
                                    r#"[3,"{id}",{{"currentTime":"2026-12-02T00:00:00Z","interval":300,"status":"Accepted"}}]"#
                                ))
                            } else if text.contains("\"Heartbeat\"") {
                                Reply::Text(format!(
                                    r#"[3,"{id}",{{"currentTime":"2026-12-02T00:00:00Z"}}]"#
                                ))
                            } else {
                                Reply::Nothing
                            };
                            match reply {
                                Reply::Text(answer) => {
                                    let _ = socket.send_text(&answer).await;
                                }
                                Reply::Drop => return,
                                Reply::Nothing => {}
                            }
                        }
                    });
                    Ok::<_, std::convert::Infallible>(response)
                },
            );
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                    .with_upgrades(),
            );
        }
    });
    address
}

/// The cases `only` of a 2.0.1 campaign against a fresh scripted CSMS.
async fn probe_fake(script: fn(&str) -> Option<Reply>, only: &[&str]) -> ocpp_probe::Report {
    let address = fake_csms(script).await;
    let url = format!("ws://{address}/ocpp/FAKE");
    let plan = Plan::new(OcppVersion::V201, Target::Csms, 1);
    ocpp_probe::probe_csms(&url, None, &plan, &settings(only))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Each finding's case and severity.
fn found(report: &ocpp_probe::Report) -> Vec<(&str, Severity)> {
    report
        .findings()
        .map(|f| (f.case.as_str(), f.severity))
        .collect()
}

fn settings(only: &[&str]) -> Settings {
    Settings {
        only: only.iter().map(|s| (*s).to_owned()).collect(),
        timeout: std::time::Duration::from_millis(500),
        ..Settings::default()
    }
}

/// The scripted bugs: a frame that is not JSON drops the connection, an unknown action is
/// "accepted", a lower-case one is refused as it should be.
fn buggy(text: &str) -> Option<Reply> {
    let id = text.split('"').nth(1).unwrap_or("-1").to_owned();
    if !text.ends_with(']') {
        Some(Reply::Drop)
    } else if text.contains("OcppRsProbeUnknown") {
        Some(Reply::Text(format!(r#"[3,"{id}",{{}}]"#)))
    } else if text.contains("\"heartbeat\"") {
        Some(Reply::Text(format!(
            r#"[4,"{id}","NotImplemented","",{{}}]"#
        )))
    } else {
        None
    }
}

#[tokio::test]
async fn each_scripted_bug_is_found_and_the_campaign_goes_on() {
    let only = [
        "rpc.not-json",
        "rpc.unknown-action",
        "rpc.action-in-lower-case",
    ];
    let report = probe_fake(buggy, &only).await;
    let found = found(&report);
    assert_eq!(
        found,
        [
            ("rpc.not-json", Severity::Critical),
            ("rpc.unknown-action", Severity::Error)
        ],
        "{}",
        report.to_text()
    );
    assert_eq!(report.reconnects, 1);
    assert_eq!(report.cases.len(), 3);
    assert!(!report.passed());
    // The report says what was sent and what came back.
    let json = report.to_json();
    assert!(
        json.contains("OcppRsProbeUnknown") && json.contains("\"answers\""),
        "{json}"
    );
    let junit = report.to_junit();
    assert_eq!(junit.matches("<failure").count(), 2, "{junit}");
}

/// A CSMS that never answers anything but boots and heartbeats.
fn silent(_: &str) -> Option<Reply> {
    None
}

#[tokio::test]
async fn silence_to_a_valid_call_is_an_error_and_to_a_broken_frame_no_finding() {
    let only = ["rpc.not-an-array", "payload.Authorize.valid.0"];
    let report = probe_fake(silent, &only).await;
    let found = found(&report);
    assert_eq!(
        found,
        [("payload.Authorize.valid.0", Severity::Error)],
        "{}",
        report.to_text()
    );
    assert_eq!(report.reconnects, 0);
}

/// A station that sends its StatusNotifications without waiting for the answers, and
/// answers every call of the CSMS with NotSupported.
async fn hasty_station(url: String) {
    let config = ocpp_rpc_tokio::ClientConfig::new(url, vec![OcppVersion::V201]);
    let offer = raw::Offer {
        subprotocols: Some("ocpp2.0.1".to_owned()),
        authorization: None,
    };
    let opened = raw::open(&config, &offer)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let Some(mut socket) = opened.socket else {
        panic!("refused: {}", opened.status)
    };
    let boot = r#"[2,"b1","BootNotification",{"chargingStation":{"model":"M","vendorName":"V"},"reason":"PowerUp"}]"#;
    let _ = socket.send_text(boot).await;
    while let Some(message) = socket.receive().await {
        let Message::Text(text) = message else {
            continue;
        };
        if text.starts_with("[3,\"b1\"") {
            for id in ["s1", "s2"] {
                let status = format!(
                    r#"[2,"{id}","StatusNotification",{{"timestamp":"2026-12-02T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}}]"#
                );
                let _ = socket.send_text(&status).await;
            }
        } else if text.starts_with("[2,") {
            let id = text.split('"').nth(1).unwrap_or("-1");
            let _ = socket
                .send_text(&format!(r#"[4,"{id}","NotSupported","",{{}}]"#))
                .await;
        }
    }
}

#[tokio::test]
async fn a_peer_with_two_calls_in_flight_is_found() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "ws://{}/ocpp/HASTY",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    tokio::spawn(hasty_station(url));
    let plan = Plan::new(OcppVersion::V201, Target::Station, 1);
    let report = ocpp_probe::probe_station_on(listener, None, &plan, &settings(&["ws.ping"]))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let found = found(&report);
    assert_eq!(
        found,
        [("peer.one-call-in-flight", Severity::Error)],
        "{}",
        report.to_text()
    );
}

/// The tokio adapter's server with Basic auth (security profile 1): every handshake case,
/// the credential ones included, passes; so does an unknown action.
#[tokio::test]
async fn the_handshake_cases_pass_against_a_server_with_basic_auth() {
    use ocpp_rpc_tokio::{SecurityProfile, ServerConfig};
    let mut config = ServerConfig::default();
    config.security = SecurityProfile::BasicAuth;
    let server = support::password_csms(config).await;
    let password = support::PASSWORD;
    let url = format!("ws://{}/ocpp/AUTH-1", server.local_addr());
    let plan = Plan {
        credentials: true,
        ..Plan::new(OcppVersion::V201, Target::Csms, 1)
    };
    let mut only: Vec<String> = ocpp_probe::catalogue(&plan)
        .into_iter()
        .filter(|c| c.id.starts_with("handshake."))
        .map(|c| c.id)
        .collect();
    assert_eq!(only.len(), 8, "{only:?}");
    only.push("rpc.unknown-action".to_owned());
    let settings = Settings {
        only,
        ..Settings::default()
    };
    let report = ocpp_probe::probe_csms(&url, Some(password), &plan, &settings)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.cases.len(), 9);
    assert!(report.findings().next().is_none(), "{}", report.to_text());
    // Without the password, the probe cannot connect at all.
    let refused = ocpp_probe::probe_csms(&url, None, &plan, &settings).await;
    assert!(
        matches!(&refused, Err(e) if e.contains("401")),
        "{refused:?}"
    );
    server.shutdown(std::time::Duration::from_secs(1)).await;
}

/// The identity cases go out as written (the probe's client does not refuse them itself),
/// and a CSMS that admits any identity is told so.
#[tokio::test]
async fn a_csms_that_admits_any_identity_is_found() {
    let only = [
        "handshake.identity-too-long",
        "handshake.identity-bad-character",
    ];
    let report = probe_fake(silent, &only).await;
    assert_eq!(
        found(&report),
        [
            ("handshake.identity-too-long", Severity::Warning),
            ("handshake.identity-bad-character", Severity::Warning)
        ],
        "{}",
        report.to_text()
    );
}
