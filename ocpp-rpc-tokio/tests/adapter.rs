//! The tokio adapter end to end over loopback: a CSMS server and station clients for every
//! version, subprotocol negotiation, Basic auth and the handshake hook, permessage-deflate,
//! limits and timeouts (a stalled handshake, an idle station, pings with and without pongs),
//! calls in both directions at once, 2.1 SEND, shutdown, and TLS with and without client
//! certificates.

use std::sync::Arc;
use std::time::Duration;

use ocpp_rpc_tokio::{
    CallFailure, ClientConfig, ConnectError, Connection, Handlers, Refusal, SecurityProfile,
    Server, ServerConfig, connect, rustls,
};
use ocpp_types::{DateTime, OcppVersion, v16, v21, v201};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

mod common;

const LIMIT: Duration = Duration::from_secs(10);

/// A raw upgrade request to `addr`: the response head.
async fn raw_upgrade(
    addr: std::net::SocketAddr,
    path: &str,
    protocol: &str,
    extra: &str,
) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    common::upgrade(&mut tcp, path, protocol, extra).await
}

/// A raw upgrade request to `addr` for `path`: the status and the body.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = common::upgrade(
        &mut tcp,
        path,
        "ocpp2.0.1",
        "Authorization: Basic Q1MwMDU6MDEyMzQ1Njc4OWFiY2RlZg==\r\n",
    )
    .await;
    let body = common::body(&mut tcp, &head).await;
    (common::status(&head), body)
}

fn csms_handlers() -> Handlers {
    let mut handlers = Handlers::new();
    handlers
        .on(|_, _: v16::HeartbeatRequest| async {
            Ok(v16::HeartbeatResponse::new(DateTime::now()))
        })
        .on(|_, _: v201::HeartbeatRequest| async {
            Ok(v201::HeartbeatResponse::new(DateTime::now()))
        })
        .on(|_, _: v21::HeartbeatRequest| async {
            Ok(v21::HeartbeatResponse::new(DateTime::now()))
        })
        .on(|_, boot: v201::BootNotificationRequest| async move {
            let status = match boot.charging_station.vendor_name.as_str() {
                "good" => v201::RegistrationStatusEnumType::Accepted,
                _ => v201::RegistrationStatusEnumType::Rejected,
            };
            Ok(v201::BootNotificationResponse::new(
                DateTime::now(),
                300,
                status,
            ))
        });
    handlers
}

fn station_handlers() -> Handlers {
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::ClearCacheRequest| async {
        Ok(v201::ClearCacheResponse::new(
            v201::ClearCacheStatusEnumType::Accepted,
        ))
    });
    handlers
}

/// A server on a free loopback port whose new connections arrive on the channel.
async fn server(
    config: ServerConfig,
    handlers: Handlers,
) -> (
    ocpp_rpc_tokio::RunningServer,
    mpsc::UnboundedReceiver<Connection>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = Server::bind("127.0.0.1:0", config, handlers)
        .await
        .expect("bind")
        .on_connection(move |c| {
            let _ = tx.send(c);
        })
        .start()
        .expect("start");
    (server, rx)
}

fn url(server: &ocpp_rpc_tokio::RunningServer, identity: &str) -> String {
    format!("ws://{}/ocpp/{identity}", server.local_addr())
}

fn config_with(versions: &[OcppVersion]) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.path_prefix = Some("/ocpp".into());
    config.versions = versions.to_vec();
    config
}

#[tokio::test]
async fn calls_both_ways_in_every_version() {
    let (server, mut stations) = server(config_with(&OcppVersion::ALL), csms_handlers()).await;
    for version in OcppVersion::ALL {
        let config = ClientConfig::new(url(&server, "CS001"), vec![version]);
        let station = connect(&config, station_handlers()).await.expect("connect");
        assert_eq!(station.version(), version);
        let time = match version {
            OcppVersion::V16 => station
                .call(v16::HeartbeatRequest::default())
                .await
                .map(|r| r.current_time),
            OcppVersion::V201 => station
                .call(v201::HeartbeatRequest::default())
                .await
                .map(|r| r.current_time),
            OcppVersion::V21 => station
                .call(v21::HeartbeatRequest::default())
                .await
                .map(|r| r.current_time),
        };
        assert!(time.is_ok(), "{version}: {time:?}");

        let at_csms = tokio::time::timeout(LIMIT, stations.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(at_csms.identity(), "CS001");
        assert_eq!(at_csms.version(), version);
        assert!(at_csms.remote_addr().is_some());
        if version == OcppVersion::V201 {
            let answer = at_csms
                .call(v201::ClearCacheRequest::default())
                .await
                .expect("ClearCache");
            assert_eq!(answer.status, v201::ClearCacheStatusEnumType::Accepted);
            // An action without a handler is refused, not left unanswered.
            let refused = at_csms
                .call(v201::UnlockConnectorRequest::new(1, 1))
                .await
                .unwrap_err();
            assert!(
                matches!(&refused, CallFailure::CallError(e) if e.code == ocpp_rpc::ErrorCode::NotSupported),
                "{refused:?}"
            );
        }
        // A request of another version is refused before it is sent.
        if version != OcppVersion::V16 {
            let wrong = station
                .call(v16::HeartbeatRequest::default())
                .await
                .unwrap_err();
            assert!(matches!(wrong, CallFailure::Refused(_)), "{wrong:?}");
        }
        station.close().await;
        at_csms.closed().await;
    }
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_incoming_call_is_served_while_our_own_call_waits() {
    // The CSMS answers a Heartbeat only after calling the station back: with incoming calls
    // blocked behind our own, this would never finish.
    let mut handlers = Handlers::new();
    handlers.on(
        |station: Connection, _: v201::HeartbeatRequest| async move {
            station
                .call(v201::ClearCacheRequest::default())
                .await
                .map_err(|e| {
                    ocpp_rpc::RpcError::new(ocpp_rpc::ErrorCode::InternalError, e.to_string())
                })?;
            Ok(v201::HeartbeatResponse::new(DateTime::now()))
        },
    );
    let (server, _stations) = server(config_with(&[OcppVersion::V201]), handlers).await;
    let config = ClientConfig::new(url(&server, "CS002"), vec![OcppVersion::V201]);
    let station = connect(&config, station_handlers()).await.unwrap();
    let answer = tokio::time::timeout(LIMIT, station.call(v201::HeartbeatRequest::default())).await;
    assert!(matches!(answer, Ok(Ok(_))), "{answer:?}");
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn subprotocols_follow_the_server_preference() {
    let (server, _stations) = server(
        config_with(&[OcppVersion::V201, OcppVersion::V16]),
        csms_handlers(),
    )
    .await;
    let both = ClientConfig::new(
        url(&server, "CS003"),
        vec![OcppVersion::V16, OcppVersion::V201],
    );
    let station = connect(&both, Handlers::new()).await.unwrap();
    assert_eq!(station.version(), OcppVersion::V201);
    station.close().await;

    let none = ClientConfig::new(url(&server, "CS003"), vec![OcppVersion::V21]);
    let error = connect(&none, Handlers::new()).await.unwrap_err();
    assert!(matches!(error, ConnectError::NoCommonVersion(_)), "{error}");

    // Without a version in common the handshake completes without a subprotocol, then the
    // server closes at once.
    let response = raw_upgrade(server.local_addr(), "/ocpp/CS003", "ocpp2.1", "").await;
    assert!(response.starts_with("HTTP/1.1 101"), "{response}");
    assert!(
        !response
            .to_ascii_lowercase()
            .contains("sec-websocket-protocol"),
        "{response}"
    );
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn permessage_deflate_is_negotiated_and_used() {
    let (server, _stations) = server(config_with(&[OcppVersion::V201]), csms_handlers()).await;
    let response = raw_upgrade(
        server.local_addr(),
        "/ocpp/CS004",
        "ocpp2.0.1",
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
    )
    .await
    .to_ascii_lowercase();
    assert!(
        response.contains("sec-websocket-extensions: permessage-deflate"),
        "{response}"
    );
    assert!(
        response.contains("sec-websocket-protocol: ocpp2.0.1"),
        "{response}"
    );
    // Our client offers it too; a call with a large compressible payload (deflated: over the
    // 256-byte threshold) reaches the CSMS, which answers it (NotSupported: no handler).
    let config = ClientConfig::new(url(&server, "CS004"), vec![OcppVersion::V201]);
    let station = connect(&config, Handlers::new()).await.unwrap();
    let mut transfer = v201::DataTransferRequest::new("vendor".parse().unwrap());
    transfer.data = Some(serde_json::Value::String("compressible ".repeat(500)));
    let answer = station.call(transfer).await.unwrap_err();
    assert!(
        matches!(&answer, CallFailure::CallError(e) if e.code == ocpp_rpc::ErrorCode::NotSupported),
        "{answer:?}"
    );
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn basic_auth_identity_rules_and_the_handshake_hook() {
    let mut config = config_with(&[OcppVersion::V201]);
    config.security = SecurityProfile::BasicAuth;
    let (tx, rx) = mpsc::unbounded_channel();
    let server = Server::bind("127.0.0.1:0", config, csms_handlers())
        .await
        .unwrap()
        .on_handshake(move |handshake| {
            let known = handshake.identity == "CS005"
                && handshake.password.as_deref() == Some("0123456789abcdef");
            let _ = tx.send(handshake.identity.clone());
            async move {
                if known {
                    Ok(())
                } else {
                    Err(Refusal::unknown_station())
                }
            }
        })
        .start()
        .unwrap();
    let mut rx = rx;
    let base = format!("ws://{}/ocpp", server.local_addr());
    let attempt = |identity: &str, password: Option<&str>| {
        let mut config = ClientConfig::new(format!("{base}/{identity}"), vec![OcppVersion::V201]);
        config.password = password.map(str::to_owned);
        async move { connect(&config, Handlers::new()).await }
    };
    let ok = attempt("CS005", Some("0123456789abcdef"))
        .await
        .expect("admitted");
    assert_eq!(rx.recv().await.as_deref(), Some("CS005"));
    ok.close().await;
    let refused = |e: Result<Connection, ConnectError>| match e {
        Err(ConnectError::Refused(status)) => status,
        other => panic!("{other:?}"),
    };
    assert_eq!(refused(attempt("CS005", None).await), 401);
    // Too short for a 2.x password: refused before the hook.
    assert_eq!(refused(attempt("CS005", Some("short")).await), 401);
    assert_eq!(
        refused(attempt("CS999", Some("0123456789abcdef")).await),
        404
    );
    assert_eq!(rx.recv().await.as_deref(), Some("CS999"));
    // Identities the specification does not allow: 400 with the reason, before any hook.
    let long = "x".repeat(49);
    for (path, reason) in [
        (format!("/ocpp/{long}"), "at most 48"),
        ("/ocpp/a%0D%0Ab".into(), "identifierString"),
        ("/ocpp/..%2Fetc".into(), "identifierString"),
        ("/ocpp//CS005".into(), "empty segment"),
    ] {
        let (status, body) = raw_get(server.local_addr(), &path).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains(reason), "{path}: {body}");
    }
    let wrong_path = ClientConfig::new(
        format!("ws://{}/other/CS005", server.local_addr()),
        vec![OcppVersion::V201],
    );
    let error = connect(&wrong_path, Handlers::new()).await;
    assert_eq!(refused(error), 404);
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn an_oversized_message_closes_the_connection() {
    let mut config = config_with(&[OcppVersion::V16]);
    config.max_message_size = 4096;
    let mut handlers = csms_handlers();
    handlers.on(|_, _: v16::DataTransferRequest| async {
        Ok(v16::DataTransferResponse::new(
            v16::DataTransferStatus::Accepted,
        ))
    });
    let (server, _stations) = server(config, handlers).await;
    let station = connect(
        &ClientConfig::new(url(&server, "CS006"), vec![OcppVersion::V16]),
        Handlers::new(),
    )
    .await
    .unwrap();
    let mut small = v16::DataTransferRequest::new("vendor".parse().unwrap());
    small.data = Some("x".repeat(100));
    assert!(station.call(small).await.is_ok());
    let mut big = v16::DataTransferRequest::new("vendor".parse().unwrap());
    big.data = Some("x".repeat(100_000));
    let error = tokio::time::timeout(LIMIT, station.call(big))
        .await
        .expect("ends");
    assert_eq!(error.unwrap_err(), CallFailure::Closed);
    tokio::time::timeout(LIMIT, station.closed())
        .await
        .expect("closed");
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_silent_station_is_closed_after_the_idle_timeout() {
    let mut config = config_with(&[OcppVersion::V201]);
    config.ping_interval = None;
    config.idle_timeout = Some(Duration::from_millis(200));
    let (server, mut stations) = server(config, csms_handlers()).await;
    let mut client = ClientConfig::new(url(&server, "CS007"), vec![OcppVersion::V201]);
    client.ping_interval = None;
    client.pong_timeout = Duration::from_secs(3600);
    let station = connect(&client, Handlers::new()).await.unwrap();
    let at_csms = stations.recv().await.unwrap();
    tokio::time::timeout(LIMIT, at_csms.closed())
        .await
        .expect("the CSMS closes");
    tokio::time::timeout(LIMIT, station.closed())
        .await
        .expect("the station sees it");
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn shutdown_ends_pending_calls_with_connection_closed() {
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::HeartbeatRequest| async {
        // Never answers in time.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(v201::HeartbeatResponse::new(DateTime::now()))
    });
    let (server, _stations) = server(config_with(&[OcppVersion::V201]), handlers).await;
    let station = connect(
        &ClientConfig::new(url(&server, "CS008"), vec![OcppVersion::V201]),
        Handlers::new(),
    )
    .await
    .unwrap();
    let call = tokio::spawn({
        let station = station.clone();
        async move { station.call(v201::HeartbeatRequest::default()).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(LIMIT, server.shutdown(Duration::from_millis(200)))
        .await
        .expect("shutdown within the grace period and the close handshake");
    let outcome = tokio::time::timeout(LIMIT, call)
        .await
        .expect("the call ends")
        .unwrap();
    assert_eq!(outcome.unwrap_err(), CallFailure::Closed);
    assert!(station.is_closed());
}

/// A CA, a server certificate for localhost and a client certificate, all generated here.
struct Pki {
    ca: rustls::pki_types::CertificateDer<'static>,
    server: (
        rustls::pki_types::CertificateDer<'static>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ),
    client: (
        rustls::pki_types::CertificateDer<'static>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ),
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        // The subject's commonName is what binds a station certificate to its identity.
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].clone());
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        (
            cert.der().clone(),
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
    };
    Pki {
        ca: ca.der().clone(),
        server: leaf(vec!["localhost".into()]),
        client: leaf(vec!["CS009".into()]),
    }
}

async fn tls_round_trip(mutual: bool) -> Result<Connection, ConnectError> {
    tls_round_trip_as(mutual, "CS009").await
}

/// A TLS connection as `identity`, with the client certificate of CS009 under profile 3.
async fn tls_round_trip_as(mutual: bool, identity: &str) -> Result<Connection, ConnectError> {
    let pki = pki();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let roots = Arc::new(roots);
    let builder = rustls::ServerConfig::builder();
    let server_tls = if mutual {
        let verifier = rustls::server::WebPkiClientVerifier::builder(roots.clone())
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    }
    .with_single_cert(vec![pki.server.0.clone()], pki.server.1.clone_key())
    .unwrap();
    let mut config = config_with(&[OcppVersion::V201]);
    config.security = if mutual {
        SecurityProfile::MutualTls
    } else {
        SecurityProfile::TlsBasicAuth
    };
    config.tls = Some(Arc::new(server_tls));
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let server = Server::bind("127.0.0.1:0", config, csms_handlers())
        .await
        .unwrap()
        .on_handshake(move |handshake| {
            let _ = seen_tx.send((handshake.password.clone(), handshake.certificates.clone()));
            async { Ok(()) }
        })
        .start()
        .unwrap();
    let client_tls = rustls::ClientConfig::builder().with_root_certificates(roots);
    let client_tls = if mutual {
        client_tls
            .with_client_auth_cert(vec![pki.client.0.clone()], pki.client.1.clone_key())
            .unwrap()
    } else {
        client_tls.with_no_client_auth()
    };
    let url = format!(
        "wss://localhost:{}/ocpp/{identity}",
        server.local_addr().port()
    );
    let mut client = ClientConfig::new(url, vec![OcppVersion::V201]);
    client.tls = Some(Arc::new(client_tls));
    if !mutual {
        client.password = Some("0123456789abcdef".into());
    }
    let station = connect(&client, Handlers::new()).await?;
    let (password, certificates) = seen.recv().await.unwrap();
    if mutual {
        assert_eq!(
            certificates,
            vec![pki.client.0.as_ref().to_vec()],
            "the hook sees the certificate"
        );
        assert_eq!(password, None);
    } else {
        assert_eq!(password.as_deref(), Some("0123456789abcdef"));
        assert!(certificates.is_empty());
    }
    let answer = station.call(v201::HeartbeatRequest::default()).await;
    assert!(answer.is_ok(), "{answer:?}");
    Ok(station)
}

#[tokio::test]
async fn profile_3_refuses_a_certificate_of_another_identity() {
    match tls_round_trip_as(true, "CS010").await {
        Err(ConnectError::Refused(401)) => {}
        other => panic!("{other:?}"),
    }
    tls_round_trip_as(true, "cs009")
        .await
        .expect("identities compare without regard to case");
}

#[tokio::test]
async fn tls_with_basic_auth_security_profile_2() {
    tls_round_trip(false).await.expect("profile 2");
}

#[tokio::test]
async fn mutual_tls_security_profile_3() {
    tls_round_trip(true).await.expect("profile 3");
}

#[tokio::test]
async fn a_refused_connection_is_reported_in_words() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = ClientConfig::new(format!("ws://{addr}/ocpp/CS010"), vec![OcppVersion::V201]);
    let error = connect(&config, Handlers::new()).await.unwrap_err();
    assert!(matches!(error, ConnectError::Io { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot connect to {addr}")),
        "{error}"
    );
}

#[tokio::test]
async fn a_client_reconnects_after_losing_its_connection() {
    let (server, mut stations) = server(config_with(&[OcppVersion::V201]), csms_handlers()).await;
    let mut config = ClientConfig::new(url(&server, "CS011"), vec![OcppVersion::V201]);
    config.backoff = ocpp_rpc_tokio::RetryBackOff {
        wait_minimum: Duration::from_millis(10),
        random_range: Duration::from_millis(10),
        repeat_times: 2,
    };
    let client = ocpp_rpc_tokio::Client::start(config, Handlers::new());
    let first = tokio::time::timeout(LIMIT, client.connection())
        .await
        .expect("connected");
    let at_csms = stations.recv().await.unwrap();
    // The CSMS drops the station; the client comes back by itself.
    at_csms.close().await;
    tokio::time::timeout(LIMIT, first.closed())
        .await
        .expect("the station sees the loss");
    let again = tokio::time::timeout(LIMIT, stations.recv())
        .await
        .expect("reconnected")
        .unwrap();
    assert_eq!(again.identity(), "CS011");
    let second = tokio::time::timeout(LIMIT, client.connection())
        .await
        .expect("a new connection");
    assert!(!second.is_closed());
    assert!(second.call(v201::HeartbeatRequest::default()).await.is_ok());
    client.stop().await;
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_send_message_reaches_the_csms_on_2_1_only() {
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let mut handlers = csms_handlers();
    handlers.fallback(move |_, message: ocpp_rpc::AnyRequest| {
        let _ = seen_tx.send(message.action().as_str());
        // A SEND gets no answer; what the handler returns is dropped.
        async {
            Err(ocpp_rpc::RpcError::new(
                ocpp_rpc::ErrorCode::NotSupported,
                "",
            ))
        }
    });
    let (server, _stations) = server(config_with(&[OcppVersion::V21]), handlers).await;
    let station = connect(
        &ClientConfig::new(url(&server, "CS012"), vec![OcppVersion::V21]),
        Handlers::new(),
    )
    .await
    .unwrap();
    let element = v21::StreamDataElementType::new(0.5, "42".parse().unwrap());
    let stream = v21::NotifyPeriodicEventStream::new(vec![element], 1, 0, DateTime::now());
    station.send(stream).await.expect("sent");
    let action = tokio::time::timeout(LIMIT, seen.recv())
        .await
        .expect("delivered");
    assert_eq!(action, Some("NotifyPeriodicEventStream"));
    // Calls still work after it: nothing waits for an answer to the SEND.
    assert!(station.call(v21::HeartbeatRequest::default()).await.is_ok());
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_stalled_handshake_neither_blocks_others_nor_stays_open() {
    let mut config = config_with(&[OcppVersion::V201]);
    config.handshake_timeout = Duration::from_millis(300);
    let (server, _stations) = server(config, csms_handlers()).await;
    // A peer that starts an upgrade request and then goes quiet.
    let mut stalled = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    stalled
        .write_all(b"GET /ocpp/CS014 HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Meanwhile another station connects and is served.
    let station = connect(
        &ClientConfig::new(url(&server, "CS015"), vec![OcppVersion::V201]),
        Handlers::new(),
    )
    .await
    .expect("served while the other handshake stalls");
    assert!(
        station
            .call(v201::HeartbeatRequest::default())
            .await
            .is_ok()
    );
    // The stalled one is dropped after the handshake timeout: its read ends.
    let mut buf = [0u8; 256];
    let ended = tokio::time::timeout(LIMIT, async {
        loop {
            match stalled.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stalled connection is closed");
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn pings_keep_a_quiet_station_connected() {
    // The CSMS closes after 300 ms without hearing from a station; this one says nothing but
    // pings every 100 ms.
    let mut config = config_with(&[OcppVersion::V201]);
    config.idle_timeout = Some(Duration::from_millis(300));
    let (server, mut stations) = server(config, csms_handlers()).await;
    let mut client = ClientConfig::new(url(&server, "CS016"), vec![OcppVersion::V201]);
    client.ping_interval = Some(Duration::from_millis(100));
    client.pong_timeout = Duration::from_millis(500);
    let station = connect(&client, Handlers::new()).await.unwrap();
    let at_csms = stations.recv().await.unwrap();
    let closed = tokio::time::timeout(Duration::from_millis(1500), at_csms.closed()).await;
    assert!(closed.is_err(), "closed although the station kept pinging");
    assert!(
        station
            .call(v201::HeartbeatRequest::default())
            .await
            .is_ok()
    );
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_station_closes_when_its_ping_gets_no_pong() {
    use base64::Engine as _;
    use sha1::Digest as _;
    // A fake CSMS that completes the WebSocket handshake and then never answers anything.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && tcp.read(&mut byte).await.unwrap() == 1 {
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("Sec-WebSocket-Key: ")
                    .or(l.strip_prefix("sec-websocket-key: "))
            })
            .expect("a key")
            .trim()
            .to_owned();
        let mut sha = sha1::Sha1::new();
        sha.update(key.as_bytes());
        sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
        let accept = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
        let reply = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n"
        );
        tcp.write_all(reply.as_bytes()).await.unwrap();
        // Read what the station sends until it hangs up; report whether a ping came.
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        // A client frame's first byte: FIN plus opcode 9 is a ping.
        seen.first() == Some(&0x89)
    });
    let mut client = ClientConfig::new(format!("ws://{addr}/ocpp/CS017"), vec![OcppVersion::V201]);
    client.ping_interval = Some(Duration::from_millis(100));
    client.pong_timeout = Duration::from_millis(200);
    let station = connect(&client, Handlers::new()).await.unwrap();
    tokio::time::timeout(LIMIT, station.closed())
        .await
        .expect("the station gives up on the silent CSMS");
    let pinged = tokio::time::timeout(LIMIT, fake).await.unwrap().unwrap();
    assert!(pinged, "the first thing the station sent was a ping");
}

#[tokio::test]
async fn a_peer_that_stops_reading_cannot_hold_up_shutdown() {
    let mut config = ServerConfig::default();
    config.versions = vec![OcppVersion::V16];
    config.write_timeout = Duration::from_millis(500);
    let (server, _stations) = server(config, csms_handlers()).await;
    let mut socket = common::websocket(server.local_addr(), "/ocpp/CS020", "ocpp1.6").await;
    // Calls of an unknown 60 KB action: each is answered at once with the name in the
    // description. The peer never reads, so the server's writes soon block.
    let name = "x".repeat(60_000);
    let writer = tokio::spawn(async move {
        for i in 0..400 {
            let call = format!(r#"[2,"{i}","{name}",{{}}]"#);
            if socket
                .write_all(&common::text(call.as_bytes()))
                .await
                .is_err()
            {
                break;
            }
        }
        socket
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = std::time::Instant::now();
    tokio::time::timeout(LIMIT, server.shutdown(Duration::from_millis(200)))
        .await
        .expect("shutdown finished although the peer does not read");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    writer.abort();
}

#[tokio::test]
async fn any_path_is_admitted_by_default_with_the_last_segment_as_identity() {
    let (server, mut stations) = server(ServerConfig::default(), csms_handlers()).await;
    for path in [
        "CS021",
        "ocpp/CS022",
        "steve/websocket/CentralSystemService/CS023",
    ] {
        let config = ClientConfig::new(
            format!("ws://{}/{path}", server.local_addr()),
            vec![OcppVersion::V201],
        );
        let station = connect(&config, Handlers::new()).await.expect(path);
        let at_csms = tokio::time::timeout(LIMIT, stations.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(at_csms.identity(), path.rsplit('/').next().unwrap());
        station.close().await;
    }
    server.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn violations_reach_the_application() {
    let (tx, mut events) = mpsc::unbounded_channel();
    let mut config = ServerConfig::default();
    config.events = Some(Arc::new(
        move |connection: &Connection, event: &ocpp_rpc_tokio::ConnectionEvent| {
            let _ = tx.send((connection.identity().to_owned(), event.clone()));
        },
    ));
    let (server, mut stations) = server(config, csms_handlers()).await;
    let mut socket = common::websocket(server.local_addr(), "/CS024", "ocpp2.0.1").await;
    socket
        .write_all(&common::text(br#"[2,"1","Heartbeat",{"surplus":1}]"#))
        .await
        .unwrap();
    let (identity, event) = tokio::time::timeout(LIMIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(identity, "CS024");
    match event {
        ocpp_rpc_tokio::ConnectionEvent::ProtocolViolation(violation) => {
            assert_eq!(violation.kind, ocpp_rpc::ViolationKind::InvalidPayload);
            assert_eq!(
                violation.answered,
                Some(ocpp_rpc::ErrorCode::FormatViolation)
            );
            assert!(
                violation.detail.contains("/surplus"),
                "{}",
                violation.detail
            );
        }
        other => panic!("{other:?}"),
    }
    let connection = tokio::time::timeout(LIMIT, stations.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(connection.violations(), 1);
    server.shutdown(Duration::from_secs(1)).await;
}
