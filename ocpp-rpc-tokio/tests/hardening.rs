//! The server under attack, over real sockets: connection limits that keep a well-behaved
//! station admitted, authentication that cannot be skipped, one deadline for the whole
//! handshake, the first-message deadline, the read budget, the duplicate-identity policies,
//! and the close codes RFC 6455 asks for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ocpp_rpc_tokio::{
    ClientConfig, ConnectError, Connection, ConnectionEvent, DuplicateIdentity, Handlers, Refusal,
    RunningServer, SecurityProfile, Server, ServerConfig, connect,
};
use ocpp_types::{DateTime, OcppVersion, v201};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

mod common;
use common::{close_code, masked, read_frame, status, tcp_from, upgrade};

const LIMIT: Duration = Duration::from_secs(10);

fn handlers() -> Handlers {
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::HeartbeatRequest| async {
        Ok(v201::HeartbeatResponse::new(DateTime::now()))
    });
    handlers
}

async fn start(config: ServerConfig) -> (RunningServer, mpsc::UnboundedReceiver<Connection>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = Server::bind("127.0.0.1:0", config, handlers())
        .await
        .unwrap()
        .on_connection(move |c| {
            let _ = tx.send(c);
        })
        .start()
        .unwrap();
    (server, rx)
}

#[tokio::test]
async fn connection_limits_answer_before_the_upgrade_and_keep_a_good_station_admitted() {
    let mut config = ServerConfig::default();
    config.limits.max_connections = 5;
    config.limits.max_connections_per_address = 3;
    let (server, _stations) = start(config).await;
    let addr = server.local_addr();
    // One address takes all it may, silently.
    let mut hogs = Vec::new();
    for i in 0..3 {
        let mut tcp = tcp_from([127, 0, 0, 1], addr).await;
        assert_eq!(
            status(&upgrade(&mut tcp, &format!("/HOG{i}"), "ocpp2.0.1", "").await),
            101
        );
        hogs.push(tcp);
    }
    let mut fourth = tcp_from([127, 0, 0, 1], addr).await;
    assert_eq!(
        status(&upgrade(&mut fourth, "/HOG3", "ocpp2.0.1", "").await),
        429
    );
    // A station from another address still gets in.
    let mut station = tcp_from([127, 0, 0, 2], addr).await;
    assert_eq!(
        status(&upgrade(&mut station, "/GOOD1", "ocpp2.0.1", "").await),
        101
    );
    let mut other = tcp_from([127, 0, 0, 3], addr).await;
    assert_eq!(
        status(&upgrade(&mut other, "/GOOD2", "ocpp2.0.1", "").await),
        101
    );
    // Full: 503.
    let mut full = tcp_from([127, 0, 0, 4], addr).await;
    assert_eq!(
        status(&upgrade(&mut full, "/LATE", "ocpp2.0.1", "").await),
        503
    );
    // A place freed is a place again.
    drop(hogs.pop());
    let mut again = tcp_from([127, 0, 0, 4], addr).await;
    let mut admitted = false;
    for _ in 0..50 {
        if status(&upgrade(&mut again, "/LATE", "ocpp2.0.1", "").await) == 101 {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        again = tcp_from([127, 0, 0, 4], addr).await;
    }
    assert!(admitted, "the freed place was never given again");
    server.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn too_many_handshakes_in_progress_are_refused_at_once() {
    let mut config = ServerConfig::default();
    config.limits.max_handshakes = 2;
    let (server, _stations) = start(config).await;
    let addr = server.local_addr();
    // Two clients that never finish their request hold both handshake places.
    let _slow: Vec<TcpStream> = vec![
        tcp_from([127, 0, 0, 1], addr).await,
        tcp_from([127, 0, 0, 1], addr).await,
    ];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = tcp_from([127, 0, 0, 2], addr).await;
    let mut response = String::new();
    let _ = tokio::time::timeout(LIMIT, third.read_to_string(&mut response)).await;
    assert!(response.starts_with("HTTP/1.1 503"), "{response:?}");
    server.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn basic_auth_without_a_credential_check_does_not_start() {
    for security in [SecurityProfile::BasicAuth] {
        let mut config = ServerConfig::default();
        config.security = security;
        let server = Server::bind("127.0.0.1:0", config, handlers())
            .await
            .unwrap();
        let error = server.start().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    }
}

#[tokio::test]
async fn the_credential_check_runs_even_when_no_version_is_in_common() {
    let mut config = ServerConfig::default();
    config.versions = vec![OcppVersion::V16];
    config.security = SecurityProfile::BasicAuth;
    let (checked_tx, mut checked) = mpsc::unbounded_channel();
    let server = Server::bind("127.0.0.1:0", config, handlers())
        .await
        .unwrap()
        .on_handshake(move |handshake| {
            let _ = checked_tx.send(handshake.version);
            let right = handshake.password_is("0123456789abcdef0123456789abcdef01234567");
            async move {
                if right {
                    Ok(())
                } else {
                    Err(Refusal::unauthorized())
                }
            }
        })
        .start()
        .unwrap();
    // The station offers only 2.0.1 and a wrong password: refused 401, not upgraded.
    let mut tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let wrong = "Authorization: Basic Q1MwMDE6d3Jvbmd3cm9uZ3dyb25nd3Jvbmc=\r\n";
    assert_eq!(
        status(&upgrade(&mut tcp, "/CS001", "ocpp2.0.1", wrong).await),
        401
    );
    assert_eq!(
        checked.recv().await,
        Some(None),
        "the hook saw no version in common"
    );
    server.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn one_deadline_covers_the_handshake_hook() {
    let mut config = ServerConfig::default();
    config.handshake_timeout = Duration::from_millis(300);
    let server = Server::bind("127.0.0.1:0", config, handlers())
        .await
        .unwrap()
        .on_handshake(|_| async {
            std::future::pending::<()>().await;
            Ok(())
        })
        .start()
        .unwrap();
    let started = Instant::now();
    let config = ClientConfig::new(
        format!("ws://{}/CS001", server.local_addr()),
        vec![OcppVersion::V201],
    );
    match connect(&config, Handlers::new()).await {
        Err(ConnectError::Refused(503)) => {}
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    server.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_connection_that_never_speaks_is_closed() {
    let mut config = ServerConfig::default();
    config.limits.first_message_timeout = Some(Duration::from_millis(300));
    let (server, _stations) = start(config).await;
    let mut tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    assert_eq!(
        status(&upgrade(&mut tcp, "/SILENT", "ocpp2.0.1", "").await),
        101
    );
    assert_eq!(close_code(&mut tcp).await, Some(1008));
    drop(tcp);
    let freed = async {
        while server.acceptor().connections() != 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(LIMIT, freed)
        .await
        .expect("its place is free again");
    server.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn oversized_and_non_utf8_messages_get_their_close_codes() {
    let mut config = ServerConfig::default();
    config.max_message_size = 4096;
    let (server, _stations) = start(config).await;
    let mut big = TcpStream::connect(server.local_addr()).await.unwrap();
    assert_eq!(
        status(&upgrade(&mut big, "/BIG", "ocpp2.0.1", "").await),
        101
    );
    big.write_all(&masked(1, &vec![b'x'; 10_000]))
        .await
        .unwrap();
    assert_eq!(close_code(&mut big).await, Some(1009));
    let mut bad = TcpStream::connect(server.local_addr()).await.unwrap();
    assert_eq!(
        status(&upgrade(&mut bad, "/BAD", "ocpp2.0.1", "").await),
        101
    );
    bad.write_all(&masked(1, b"[2,\"1\",\"Heartbeat\",{\"x\":\"\xff\"}]"))
        .await
        .unwrap();
    assert_eq!(close_code(&mut bad).await, Some(1007));
    server.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn the_read_budget_slows_a_flood_without_dropping_it() {
    let mut config = ServerConfig::default();
    config.limits.message_burst = 2;
    config.limits.messages_per_second = 10;
    let (server, _stations) = start(config).await;
    let mut tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    assert_eq!(
        status(&upgrade(&mut tcp, "/FLOOD", "ocpp2.0.1", "").await),
        101
    );
    let started = Instant::now();
    for i in 0..12 {
        let call = format!(r#"[2,"{i}","Heartbeat",{{}}]"#);
        tcp.write_all(&masked(1, call.as_bytes())).await.unwrap();
    }
    for _ in 0..12 {
        let (opcode, payload) = read_frame(&mut tcp).await.expect("every call answered");
        assert_eq!(opcode, 1);
        assert!(
            payload.starts_with(b"[3,"),
            "{}",
            String::from_utf8_lossy(&payload)
        );
    }
    // 2 at once, then 10 at 10 per second.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    server.shutdown(Duration::from_millis(100)).await;
}

async fn station(server: &RunningServer, identity: &str) -> Result<Connection, ConnectError> {
    let config = ClientConfig::new(
        format!("ws://{}/{identity}", server.local_addr()),
        vec![OcppVersion::V201],
    );
    connect(&config, Handlers::new()).await
}

#[tokio::test]
async fn a_second_connection_replaces_the_first_by_default() {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut config = ServerConfig::default();
    config.events = Some(Arc::new(
        move |connection: &Connection, event: &ConnectionEvent| {
            let _ = events_tx.send((connection.identity().to_owned(), event.clone()));
        },
    ));
    let (server, mut stations) = start(config).await;
    let first = station(&server, "CS001").await.unwrap();
    let first_at_csms = stations.recv().await.unwrap();
    let second = station(&server, "cs001").await.unwrap();
    let second_at_csms = stations.recv().await.unwrap();
    tokio::time::timeout(LIMIT, first.closed())
        .await
        .expect("the old one is closed");
    assert!(
        first_at_csms.is_closed()
            || tokio::time::timeout(LIMIT, first_at_csms.closed())
                .await
                .is_ok()
    );
    assert_eq!(
        events.recv().await,
        Some(("CS001".into(), ConnectionEvent::Replaced))
    );
    let found = server
        .acceptor()
        .station("CS001")
        .expect("found by identity");
    assert!(found.same(&second_at_csms));
    found
        .call(v201::ClearCacheRequest::default())
        .await
        .expect_err("no handler, but it is reached");
    assert!(!second.is_closed());
    assert_eq!(server.acceptor().stations().len(), 1);
    server.shutdown(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn a_second_connection_can_be_refused_instead() {
    let mut config = ServerConfig::default();
    config.duplicate_identity = DuplicateIdentity::RefuseNew;
    let (server, _stations) = start(config).await;
    let first = station(&server, "CS001").await.unwrap();
    match station(&server, "CS001").await {
        Err(ConnectError::Refused(409)) => {}
        other => panic!("{other:?}"),
    }
    assert!(!first.is_closed());
    first.close().await;
    // Once it has gone, the identity may connect again.
    let mut again = None;
    for _ in 0..50 {
        if let Ok(connection) = station(&server, "CS001").await {
            again = Some(connection);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some());
    server.shutdown(Duration::from_millis(100)).await;
}
