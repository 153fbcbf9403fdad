//! Servers on listeners the application binds (`Server::from_listener`) and clients bound to a
//! local address or offering no compression: what running one box near its limits takes (the
//! open-file limit is tested in `open_files.rs`, a process of its own).
#![cfg(unix)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ocpp_rpc_tokio::{ClientConfig, Handlers, Refusal, Server, ServerConfig, connect};
use ocpp_types::OcppVersion;
use tokio::sync::mpsc;

const LIMIT: Duration = Duration::from_secs(10);

fn reuse_port_listener(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseport(true).unwrap();
    socket.bind(addr).unwrap();
    socket.listen(128).unwrap()
}

#[tokio::test]
async fn two_servers_on_one_port_with_reuseport_share_the_stations() {
    let first = reuse_port_listener("127.0.0.1:0".parse().unwrap());
    let addr = first.local_addr().unwrap();
    let second = reuse_port_listener(addr);
    let servers = [first, second].map(|listener| {
        Server::from_listener(listener, ServerConfig::default(), Handlers::new())
            .unwrap()
            .start()
            .unwrap()
    });
    assert_eq!(servers[0].local_addr(), servers[1].local_addr());

    // The kernel picks a listener by a hash of each connection's addresses and ports: 24
    // connections all landing on one of two has a probability of 2^-23.
    let mut stations = Vec::new();
    for i in 0..24 {
        let config = ClientConfig::new(format!("ws://{addr}/CS{i:03}"), vec![OcppVersion::V201]);
        let station = tokio::time::timeout(LIMIT, connect(&config, Handlers::new()))
            .await
            .unwrap()
            .unwrap();
        stations.push(station);
    }
    let held = servers.each_ref().map(|s| s.acceptor().connections());
    assert_eq!(held[0] + held[1], 24, "{held:?}");
    assert!(
        held[0] > 0 && held[1] > 0,
        "one server got them all: {held:?}"
    );
}

#[tokio::test]
async fn a_client_connects_from_the_local_address_it_is_given() {
    let (tx, mut remotes) = mpsc::unbounded_channel();
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), Handlers::new())
        .await
        .unwrap()
        .on_handshake(move |handshake| {
            let _ = tx.send(handshake.remote_addr);
            async { Ok::<(), Refusal>(()) }
        })
        .start()
        .unwrap();
    for last in [2u8, 3] {
        let local = IpAddr::from([127, 0, 0, last]);
        let mut config = ClientConfig::new(
            format!("ws://{}/CS{last}", server.local_addr()),
            vec![OcppVersion::V201],
        );
        config.local_address = Some(local);
        let _station = tokio::time::timeout(LIMIT, connect(&config, Handlers::new()))
            .await
            .unwrap()
            .unwrap();
        let remote = remotes.recv().await.unwrap();
        assert_eq!(remote.ip(), local);
    }

    // An address of the other family cannot reach an IPv4 server: a clear error, no panic.
    let mut config = ClientConfig::new(
        format!("ws://{}/CS6", server.local_addr()),
        vec![OcppVersion::V201],
    );
    config.local_address = Some(IpAddr::from(std::net::Ipv6Addr::LOCALHOST));
    let refused = connect(&config, Handlers::new()).await.unwrap_err();
    assert!(
        refused.to_string().contains("no address of the family"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_client_offers_permessage_deflate_unless_told_not_to() {
    let (tx, mut offers) = mpsc::unbounded_channel();
    let server = Server::bind("127.0.0.1:0", ServerConfig::default(), Handlers::new())
        .await
        .unwrap()
        .on_handshake(move |handshake| {
            let offer = handshake
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
                .map(|(_, value)| value.clone());
            let _ = tx.send(offer);
            async { Ok::<(), Refusal>(()) }
        })
        .start()
        .unwrap();
    for deflate in [true, false] {
        let mut config = ClientConfig::new(
            format!("ws://{}/CS{deflate}", server.local_addr()),
            vec![OcppVersion::V201],
        );
        config.permessage_deflate = deflate;
        let _station = tokio::time::timeout(LIMIT, connect(&config, Handlers::new()))
            .await
            .unwrap()
            .unwrap();
        let offer = offers.recv().await.unwrap();
        assert_eq!(
            offer.is_some_and(|o| o.starts_with("permessage-deflate")),
            deflate,
            "permessage_deflate = {deflate}"
        );
    }
}
