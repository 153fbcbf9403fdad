//! OCPP inside an existing axum application: the CSMS's REST API and its OCPP endpoint share
//! one HTTP server. The [`Acceptor`] checks and upgrades each station's request; everything else
//! is ordinary axum.
//!
//! ```sh
//! cargo run -p ocpp-rs-examples --example axum   # then connect a station to
//!                                                  # ws://127.0.0.1:9000/ocpp/<identity>
//! curl http://127.0.0.1:9000/api/stations          # the stations connected now
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::IntoResponse;
use axum::routing::get;
use ocpp_rpc_tokio::{Acceptor, Connection, Handlers, ServerConfig};
use ocpp_types::{DateTime, v201};

/// What the REST side sees: the connected stations, by identity.
type Stations = Arc<Mutex<BTreeMap<String, Connection>>>;

#[derive(Clone)]
struct App {
    ocpp: Acceptor,
    stations: Stations,
}

/// The OCPP endpoint: hand the upgrade request to the acceptor, return its answer.
async fn ocpp_endpoint(
    State(app): State<App>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    request: Request,
) -> impl IntoResponse {
    app.ocpp.upgrade(request, remote, Vec::new()).await
}

/// A REST route beside it.
async fn list_stations(State(app): State<App>) -> Json<Vec<String>> {
    let stations = app.stations.lock().map(|s| s.keys().cloned().collect());
    Json(stations.unwrap_or_default())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::HeartbeatRequest| async {
        Ok(v201::HeartbeatResponse::new(DateTime::now()))
    });
    let stations = Stations::default();
    let (connected, disconnected) = (stations.clone(), stations.clone());
    let ocpp = Acceptor::new(ServerConfig::default(), handlers).on_connection(move |station| {
        if let Ok(mut all) = connected.lock() {
            all.insert(station.identity().to_owned(), station.clone());
        }
        let gone = disconnected.clone();
        tokio::spawn(async move {
            station.closed().await;
            if let Ok(mut all) = gone.lock() {
                all.remove(station.identity());
            }
        });
    });
    let app = axum::Router::new()
        .route("/ocpp/{identity}", get(ocpp_endpoint))
        .route("/api/stations", get(list_stations))
        .with_state(App {
            ocpp,
            stations: stations.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await?;
    println!(
        "OCPP at ws://127.0.0.1:9000/ocpp/<identity>, REST at http://127.0.0.1:9000/api/stations"
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
