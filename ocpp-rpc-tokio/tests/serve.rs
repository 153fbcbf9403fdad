//! [`Acceptor::serve`]: connections the application accepted itself, from a listener of its own
//! and from an in-memory pipe, get the server's handshake checks, limits and OCPP session.

use std::net::SocketAddr;
use std::time::Duration;

use ocpp_rpc_tokio::{Acceptor, ClientConfig, Handlers, ServerConfig, connect};
use ocpp_types::{DateTime, OcppVersion, v201};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(10);
const REMOTE: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9);

#[tokio::test]
async fn a_listener_of_the_applications_own_serves_stations_both_ways() {
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::HeartbeatRequest| async {
        Ok(v201::HeartbeatResponse::new(DateTime::now()))
    });
    let (tx, mut stations) = mpsc::unbounded_channel();
    let acceptor = Acceptor::new(ServerConfig::default(), handlers).on_connection(move |station| {
        let _ = tx.send(station);
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = acceptor.clone();
    tokio::spawn(async move {
        while let Ok((stream, remote)) = listener.accept().await {
            let acceptor = serving.clone();
            tokio::spawn(async move { acceptor.serve(stream, remote).await });
        }
    });

    let mut station_handlers = Handlers::new();
    station_handlers.on(|_, _: v201::ClearCacheRequest| async {
        Ok(v201::ClearCacheResponse::new(
            v201::ClearCacheStatusEnumType::Accepted,
        ))
    });
    let config = ClientConfig::new(format!("ws://{addr}/CS001"), vec![OcppVersion::V201]);
    let station = tokio::time::timeout(LIMIT, connect(&config, station_handlers))
        .await
        .unwrap()
        .expect("connected through the application's listener");
    let answer = tokio::time::timeout(LIMIT, station.call(v201::HeartbeatRequest::default()))
        .await
        .unwrap();
    assert!(answer.is_ok(), "{answer:?}");
    let csms_side = tokio::time::timeout(LIMIT, stations.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(csms_side.identity(), "CS001");
    assert_eq!(
        acceptor.station("CS001").map(|c| c.same(&csms_side)),
        Some(true)
    );
    let cleared = tokio::time::timeout(LIMIT, csms_side.call(v201::ClearCacheRequest::default()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.status, v201::ClearCacheStatusEnumType::Accepted);
}

/// Writes `request` into a pipe that `acceptor` serves and returns all it answers.
async fn over_a_pipe(acceptor: &Acceptor, request: &str) -> String {
    let (mut client, server) = tokio::io::duplex(4096);
    let serving = acceptor.clone();
    let served = tokio::spawn(async move { serving.serve(server, REMOTE).await });
    client.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(LIMIT, client.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server never ended the exchange");
    tokio::time::timeout(LIMIT, served).await.unwrap().unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn upgrade_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: csms\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: ocpp2.0.1\r\nConnection: close\r\n\r\n"
    )
}

#[tokio::test]
async fn a_pipe_gets_the_servers_refusals() {
    let acceptor = Acceptor::new(ServerConfig::default(), Handlers::new());
    let answer = over_a_pipe(&acceptor, &upgrade_request("/bad:identity")).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(
        answer.contains(':'),
        "the reason names the character: {answer}"
    );

    let mut config = ServerConfig::default();
    config.limits.max_handshakes = 0;
    let acceptor = Acceptor::new(config, Handlers::new());
    let answer = over_a_pipe(&acceptor, &upgrade_request("/CS001")).await;
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    assert_eq!(acceptor.connections(), 0);
}

#[tokio::test]
async fn a_handler_that_panics_is_answered_internal_error_and_the_connection_goes_on() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let panicked = std::sync::Arc::new(AtomicBool::new(false));
    let mut handlers = Handlers::new();
    handlers.on(move |_, _: v201::HeartbeatRequest| {
        let first = !panicked.swap(true, Ordering::SeqCst);
        async move {
            assert!(!first, "a bug in the application's handler");
            Ok(v201::HeartbeatResponse::new(DateTime::now()))
        }
    });
    let server = ocpp_rpc_tokio::Server::bind("127.0.0.1:0", ServerConfig::default(), handlers)
        .await
        .unwrap()
        .start()
        .unwrap();
    let config = ClientConfig::new(
        format!("ws://{}/CS001", server.local_addr()),
        vec![OcppVersion::V201],
    );
    let station = connect(&config, Handlers::new()).await.unwrap();
    let failed = tokio::time::timeout(LIMIT, station.call(v201::HeartbeatRequest::default()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&failed, ocpp_rpc_tokio::CallFailure::CallError(e) if e.code == ocpp_rpc_tokio::ErrorCode::InternalError),
        "{failed:?}"
    );
    let answered = tokio::time::timeout(LIMIT, station.call(v201::HeartbeatRequest::default()))
        .await
        .unwrap();
    assert!(answered.is_ok(), "{answered:?}");
}
