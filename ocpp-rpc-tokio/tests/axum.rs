//! The [`Acceptor`] mounted in an axum application next to a REST route: stations connect
//! through axum's server, calls flow both ways, refusals keep their status and reason, and the
//! other routes are untouched.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::IntoResponse;
use axum::routing::get;
use ocpp_rpc_tokio::{Acceptor, ClientConfig, ConnectError, Handlers, ServerConfig, connect};
use ocpp_types::{DateTime, OcppVersion, v201};
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(10);

async fn ocpp(
    State(acceptor): State<Acceptor>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
) -> impl IntoResponse {
    acceptor.upgrade(request, remote, Vec::new()).await
}

#[tokio::test]
async fn ocpp_mounted_in_axum() {
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::HeartbeatRequest| async {
        Ok(v201::HeartbeatResponse::new(DateTime::now()))
    });
    let (tx, mut stations) = mpsc::unbounded_channel();
    let mut config = ServerConfig::default();
    config.path_prefix = Some("/ocpp".into());
    let acceptor = Acceptor::new(config, handlers).on_connection(move |station| {
        let _ = tx.send(station);
    });
    let app = axum::Router::new()
        .route("/ocpp/{identity}", get(ocpp))
        .route("/health", get(|| async { "ok" }))
        .with_state(acceptor.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let mut station_handlers = Handlers::new();
    station_handlers.on(|_, _: v201::ClearCacheRequest| async {
        Ok(v201::ClearCacheResponse::new(
            v201::ClearCacheStatusEnumType::Accepted,
        ))
    });
    let config = ClientConfig::new(format!("ws://{addr}/ocpp/CS001"), vec![OcppVersion::V201]);
    let station = connect(&config, station_handlers)
        .await
        .expect("connected through axum");
    station
        .call(v201::HeartbeatRequest::default())
        .await
        .expect("the CSMS answers");
    let at_csms = tokio::time::timeout(LIMIT, stations.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at_csms.identity(), "CS001");
    let cleared = at_csms
        .call(v201::ClearCacheRequest::default())
        .await
        .unwrap();
    assert_eq!(cleared.status, v201::ClearCacheStatusEnumType::Accepted);
    assert_eq!(acceptor.connections(), 1);

    // A refused identity keeps its status through axum.
    let bad = ClientConfig::new(format!("ws://{addr}/ocpp/CS*001"), vec![OcppVersion::V201]);
    let error = connect(&bad, Handlers::new()).await;
    assert!(
        error.is_ok(),
        "`*` is an identifierString character: {error:?}"
    );
    let unknown_route =
        ClientConfig::new(format!("ws://{addr}/other/CS002"), vec![OcppVersion::V201]);
    match connect(&unknown_route, Handlers::new()).await {
        Err(ConnectError::Refused(404)) => {}
        other => panic!("{other:?}"),
    }

    // The rest of the application is untouched.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tokio::time::timeout(LIMIT, tcp.read_to_string(&mut response))
        .await
        .unwrap()
        .unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200") && response.ends_with("ok"),
        "{response}"
    );

    station.close().await;
    tokio::time::timeout(LIMIT, acceptor.shutdown(Duration::from_secs(1)))
        .await
        .expect("every connection closed");
}
