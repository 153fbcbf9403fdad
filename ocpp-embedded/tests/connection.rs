//! The run loop's connection handling: Basic auth against the tokio CSMS, the read buffer as
//! the message size limit (1009), pings both ways and a CSMS that stops answering, and a
//! store that fails (the loop stops, and nothing that depends on the write goes out).

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocpp_embedded::run::{ConnectFailure, Disconnect, RunError};
use ocpp_embedded::websocket::{HandshakeError, WsError};
use ocpp_embedded::{AsyncStore, Blocking, Event, Input, Runner};
use ocpp_rpc_tokio::{Refusal, SecurityProfile, Server, ServerConfig};
use ocpp_station::store::{MemoryStore, Store, Write};
use ocpp_station::{IdToken, StationEvent};
use ocpp_types::OcppVersion;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

const PASSWORD: &str = "0123456789abcdef";

/// Security profile 1 against the tokio CSMS: the right password is let in, a wrong one is
/// refused with 401 and the station keeps trying.
#[tokio::test]
async fn basic_auth_security_profile_1() {
    let log = Log::default();
    let mut config = ServerConfig::default();
    config.security = SecurityProfile::BasicAuth;
    let server = Server::bind("127.0.0.1:0", config, handlers(log.clone()))
        .await
        .unwrap()
        .on_handshake(|handshake| async move {
            if handshake.identity == "CS010" && handshake.password_is(PASSWORD) {
                Ok(())
            } else {
                Err(Refusal::unauthorized())
            }
        })
        .start()
        .unwrap();
    for (password, admitted) in [(PASSWORD, true), ("fedcba9876543210", false)] {
        let mut read_buf = vec![0u8; 2048];
        let mut write_buf = vec![0u8; 128];
        let mut config = run_config(&format!("ws://{}/CS010", server.local_addr()));
        config.password = Some(password.into());
        let mut runner = Runner::start(
            station_config(OcppVersion::V201),
            Charger::default(),
            Blocking(MemoryStore::new()),
            config,
            &mut read_buf,
            &mut write_buf,
        )
        .await
        .unwrap();
        let inputs = Inputs::new();
        let (mut events, sink) = Events::new();
        let mut tcp = Tcp;
        let run = runner.run(&mut tcp, inputs.dyn_receiver(), random(), sink);
        let script = async {
            if admitted {
                events.wait("the boot accepted", registered).await;
            } else {
                events
                    .until("two refusals", |seen| {
                        seen.iter()
                            .filter(|e| {
                                **e == Event::ConnectFailed(ConnectFailure::Handshake(
                                    HandshakeError::Refused(401),
                                ))
                            })
                            .count()
                            == 2
                    })
                    .await;
            }
        };
        tokio::select! {
            error = run => panic!("the run loop stopped: {error:?}"),
            () = script => {}
        }
    }
    server.shutdown(Duration::ZERO).await;
}

/// Runs a station whose read buffer is `size` bytes against a raw CSMS that `csms` scripts
/// after the station's BootNotification: the events seen until the connection ended.
async fn raw_session<F, Fut>(
    size: usize,
    configure: impl FnOnce(&mut ocpp_embedded::RunConfig, &mut ocpp_station::StationConfig),
    csms: F,
) -> Vec<Event>
where
    F: FnOnce(tokio::net::TcpStream, &'static Inputs) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut read_buf = vec![0u8; size];
    let mut write_buf = vec![0u8; 64];
    let mut config = run_config(&format!(
        "ws://{}/ocpp/CS020",
        listener.local_addr().unwrap()
    ));
    let mut station = station_config(OcppVersion::V201);
    configure(&mut config, &mut station);
    let mut runner = Runner::start(
        station,
        Charger::default(),
        Blocking(MemoryStore::new()),
        config,
        &mut read_buf,
        &mut write_buf,
    )
    .await
    .unwrap();
    // Leaked, so that the script may feed it inputs too.
    let inputs: &'static Inputs = Box::leak(Box::new(Inputs::new()));
    let (mut events, sink) = Events::new();
    let mut tcp = Tcp;
    let run = runner.run(&mut tcp, inputs.dyn_receiver(), random(), sink);
    let script = async {
        let mut socket = raw_accept(&listener, "ocpp2.0.1").await;
        let (opcode, boot) = client_frame(&mut socket).await.expect("the boot");
        assert_eq!(opcode, 1);
        assert!(
            String::from_utf8(boot)
                .unwrap()
                .contains("BootNotification")
        );
        csms(socket, inputs).await;
        events
            .wait("the loss", |e| matches!(e, Event::Disconnected(_)))
            .await;
    };
    tokio::select! {
        error = run => panic!("the run loop stopped: {error:?}"),
        () = script => {}
    }
    events.seen
}

/// `Input::Close`: the firmware closes the connection (1000), waits for the CSMS's close, and is
/// told why it ended.
#[tokio::test]
async fn the_firmware_closes_with_1000() {
    let seen = raw_session(
        1024,
        |_, _| {},
        |mut socket, inputs| async move {
            inputs.send(Input::Close).await;
            let (opcode, payload) = client_control_frame(&mut socket).await.unwrap();
            assert_eq!((opcode, payload), (8, 1000u16.to_be_bytes().to_vec()));
            socket
                .write_all(&server_frame(8, &1000u16.to_be_bytes()))
                .await
                .unwrap();
        },
    )
    .await;
    assert!(seen.contains(&Event::Disconnected(Disconnect::Asked)));
}

#[tokio::test]
async fn a_message_larger_than_the_read_buffer_closes_with_1009() {
    let seen = raw_session(
        512,
        |_, _| {},
        |mut socket, _| async move {
            // 508 bytes of payload and a 4-byte header fit 512; 509 do not.
            let fits = format!("[2,\"1\",\"X\",\"{}\"]", "a".repeat(508 - 14));
            assert_eq!(fits.len(), 508);
            socket
                .write_all(&server_frame(1, fits.as_bytes()))
                .await
                .unwrap();
            let big = format!("[2,\"2\",\"X\",\"{}\"]", "a".repeat(509 - 14));
            socket
                .write_all(&server_frame(1, big.as_bytes()))
                .await
                .unwrap();
            // The first is answered (a CALLERROR: no such action), then the close comes.
            let (opcode, answer) = client_frame(&mut socket).await.unwrap();
            assert_eq!(opcode, 1);
            assert!(String::from_utf8(answer).unwrap().starts_with("[4,\"1\""));
            let (opcode, payload) = client_control_frame(&mut socket).await.unwrap();
            assert_eq!((opcode, payload), (8, 1009u16.to_be_bytes().to_vec()));
        },
    )
    .await;
    assert!(seen.contains(&Event::Disconnected(Disconnect::Read(WsError::TooBig))));
}

#[tokio::test]
async fn pings_are_answered_and_a_silent_csms_is_pinged_then_dropped() {
    let seen = raw_session(
        1024,
        |config, station| {
            // The station's variable (whole seconds) says when to ping.
            station.variables.web_socket_ping_interval = 1;
            config.pong_timeout = Duration::from_millis(300);
        },
        |mut socket, _| async move {
            socket
                .write_all(&server_frame(9, b"are you there"))
                .await
                .unwrap();
            let (opcode, payload) = client_control_frame(&mut socket).await.unwrap();
            assert_eq!((opcode, payload.as_slice()), (10, &b"are you there"[..]));
            // Then silence: the station pings after 1 s, and closes 300 ms later.
            let (opcode, _) = client_control_frame(&mut socket).await.unwrap();
            assert_eq!(opcode, 9);
            let (opcode, payload) = client_control_frame(&mut socket).await.unwrap();
            assert_eq!((opcode, payload), (8, 1001u16.to_be_bytes().to_vec()));
        },
    )
    .await;
    assert!(seen.contains(&Event::Disconnected(Disconnect::NoPong)));
}

#[tokio::test]
async fn a_pong_keeps_the_connection_and_a_close_is_answered() {
    let seen = raw_session(
        1024,
        |config, _| {
            // The run loop's override, finer than the variable's seconds.
            config.ping_interval = Some(Duration::from_millis(200));
            config.pong_timeout = Duration::from_millis(300);
        },
        |mut socket, _| async move {
            for _ in 0..3 {
                let (opcode, payload) = client_control_frame(&mut socket).await.unwrap();
                assert_eq!(opcode, 9);
                socket.write_all(&server_frame(10, &payload)).await.unwrap();
            }
            socket
                .write_all(&server_frame(8, &1000u16.to_be_bytes()))
                .await
                .unwrap();
            let (opcode, payload) = client_control_frame(&mut socket).await.unwrap();
            assert_eq!((opcode, payload), (8, 1000u16.to_be_bytes().to_vec()));
        },
    )
    .await;
    assert!(!seen.contains(&Event::Disconnected(Disconnect::NoPong)));
    assert!(seen.contains(&Event::Disconnected(Disconnect::Closed(Some(1000)))));
}

/// A memory store that fails every write while `failing` is set.
struct Flaky {
    store: MemoryStore,
    failing: Arc<Mutex<bool>>,
}

impl AsyncStore for Flaky {
    type Error = &'static str;

    async fn load(&mut self) -> Result<Vec<Vec<u8>>, &'static str> {
        self.store.load().map_err(|_| "load")
    }

    async fn write(&mut self, write: &Write) -> Result<(), &'static str> {
        if *self.failing.lock().unwrap() {
            return Err("the flash is worn out");
        }
        self.store.write(write).map_err(|_| "write")
    }
}

/// The store fails when the transaction starts: the loop stops with the error, the CSMS
/// hears nothing of the transaction; the next run performs the write first, and the start
/// goes out.
#[tokio::test]
async fn a_failing_store_stops_the_loop_and_its_write_comes_first_next_time() {
    let log = Log::default();
    let server = csms("127.0.0.1:0".parse().unwrap(), log.clone()).await;
    let failing = Arc::new(Mutex::new(false));
    let store = Flaky {
        store: MemoryStore::new(),
        failing: failing.clone(),
    };
    let mut read_buf = vec![0u8; 2048];
    let mut write_buf = vec![0u8; 128];
    let mut runner = Runner::start(
        station_config(OcppVersion::V16),
        Charger::default(),
        store,
        run_config(&format!("ws://{}/ocpp/CS030", server.local_addr())),
        &mut read_buf,
        &mut write_buf,
    )
    .await
    .unwrap();
    let inputs = Inputs::new();
    let (mut events, sink) = Events::new();
    let mut tcp = Tcp;
    {
        let run = runner.run(&mut tcp, inputs.dyn_receiver(), random(), sink);
        let script = async {
            events.wait("the boot accepted", registered).await;
            *failing.lock().unwrap() = true;
            inputs.send(Input::PlugIn(1)).await;
            inputs.send(Input::Token(1, IdToken::rfid("TAG3"))).await;
            std::future::pending::<()>().await;
        };
        tokio::select! {
            error = run => assert_eq!(error, RunError::Store("the flash is worn out")),
            () = script => unreachable!(),
        }
    }
    assert!(!runner.station().is_connected());
    assert!(
        transaction_messages(&log).is_empty(),
        "nothing that depends on the failed write went out"
    );
    assert!(
        !events
            .seen
            .iter()
            .any(|e| matches!(e, Event::Station(StationEvent::TransactionStarted { .. })))
    );
    *failing.lock().unwrap() = false;
    let (mut events, sink) = Events::new();
    let run = runner.run(&mut tcp, inputs.dyn_receiver(), random(), sink);
    let script = async {
        events
            .until("the start acknowledged", |seen| {
                seen.iter()
                    .any(|e| matches!(e, Event::Station(StationEvent::TransactionStarted { .. })))
                    && seen.iter().any(delivered)
            })
            .await;
    };
    tokio::select! {
        error = run => panic!("the run loop stopped: {error:?}"),
        () = script => {}
    }
    let messages = transaction_messages(&log);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].action, "StartTransaction");
    server.shutdown(Duration::ZERO).await;
}
