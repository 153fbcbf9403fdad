//! `wss://` with embedded-tls against the tokio CSMS with rustls: security profile 2 (the
//! server's certificate checked against the CA, Basic auth), profile 3 (a client
//! certificate whose commonName is the identity), and a server the CA did not sign.

mod support;

use std::sync::Arc;
use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use ocpp_embedded::run::ConnectFailure;
use ocpp_embedded::tls::embedded_tls::Aes128GcmSha256;
use ocpp_embedded::tls::{self, Pki, TlsStream};
use ocpp_embedded::websocket::{Endpoint, HandshakeError};
use ocpp_embedded::{Blocking, Connect, Event, Input, Runner, Shared};
use ocpp_rpc_tokio::{Refusal, SecurityProfile, Server, ServerConfig, rustls};
use ocpp_station::store::MemoryStore;
use ocpp_station::{IdToken, StationEvent};
use ocpp_types::OcppVersion;
use p256::pkcs8::DecodePrivateKey;
use rand_core::OsRng;
use support::*;
use tokio::net::TcpStream;

const PASSWORD: &str = "0123456789abcdef";

/// A CA, a server certificate for localhost and a station certificate for CS009 (ECDSA
/// P-256, rcgen's default).
struct Pkis {
    ca: Vec<u8>,
    server: (Vec<u8>, Vec<u8>),
    station: (Vec<u8>, Vec<u8>),
}

fn pki() -> Pkis {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        (cert.der().to_vec(), key.serialize_der())
    };
    Pkis {
        ca: ca.der().to_vec(),
        server: leaf("localhost"),
        station: leaf("CS009"),
    }
}

/// TLS over a TCP connection, checking the server against `ca`, with the station's
/// certificate when given.
struct Tls {
    socket: Option<Shared<FromTokio<TcpStream>>>,
    read_record: Vec<u8>,
    write_record: Vec<u8>,
    ca: Vec<u8>,
    station: Option<(Vec<u8>, p256::ecdsa::SigningKey)>,
}

impl Tls {
    fn new(ca: &[u8], station: Option<&(Vec<u8>, Vec<u8>)>) -> Tls {
        Tls {
            socket: None,
            read_record: vec![0; 16640],
            write_record: vec![0; 4096],
            ca: ca.to_vec(),
            station: station.map(|(cert, key)| {
                let key = p256::SecretKey::from_pkcs8_der(key).unwrap();
                (cert.clone(), p256::ecdsa::SigningKey::from(key))
            }),
        }
    }
}

impl Connect for Tls {
    type Stream<'s> = TlsStream<'s, FromTokio<TcpStream>, Aes128GcmSha256>;
    type Error = String;

    async fn connect(&mut self, endpoint: &Endpoint) -> Result<Self::Stream<'_>, String> {
        let tcp = TcpStream::connect((endpoint.host(), endpoint.port()))
            .await
            .map_err(|e| e.to_string())?;
        let Tls {
            socket,
            read_record,
            write_record,
            ca,
            station,
        } = self;
        let socket = &*socket.insert(Shared::new(FromTokio::new(tcp)));
        let mut pki: Pki<'_, OsRng> = Pki::new(OsRng, ca);
        if let Some((certificate, key)) = station {
            pki = pki.with_client_certificate(certificate, key.clone());
        }
        tls::open(socket, read_record, write_record, endpoint.host(), pki)
            .await
            .map_err(|e| format!("{e:?}"))
    }
}

/// A TLS CSMS of `profile` (the handshake hook checks the password under profile 2).
async fn tls_csms(pki: &Pkis, profile: SecurityProfile, log: Log) -> ocpp_rpc_tokio::RunningServer {
    let ca = rustls::pki_types::CertificateDer::from(pki.ca.clone());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let builder = rustls::ServerConfig::builder();
    let builder = if profile == SecurityProfile::MutualTls {
        let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let server_tls = builder
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(
                pki.server.0.clone(),
            )],
            rustls::pki_types::PrivateKeyDer::Pkcs8(pki.server.1.clone().into()),
        )
        .unwrap();
    let mut config = ServerConfig::default();
    config.security = profile;
    config.tls = Some(Arc::new(server_tls));
    Server::bind("127.0.0.1:0", config, handlers(log))
        .await
        .unwrap()
        .on_handshake(move |handshake| async move {
            let admitted = match profile {
                SecurityProfile::TlsBasicAuth => handshake.password_is(PASSWORD),
                _ => handshake.certificates.len() == 1,
            };
            if admitted {
                Ok(())
            } else {
                Err(Refusal::unauthorized())
            }
        })
        .start()
        .unwrap()
}

/// A station on `connector` reaching `url`: registration, then a transaction's start
/// acknowledged.
async fn session(url: &str, password: Option<&str>, connector: &mut Tls) {
    let mut read_buf = vec![0u8; 2048];
    let mut write_buf = vec![0u8; 256];
    let mut config = run_config(url);
    config.password = password.map(str::to_string);
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
    let run = runner.run(connector, inputs.dyn_receiver(), random(), sink);
    let script = async {
        events.wait("the boot accepted", registered).await;
        inputs.send(Input::PlugIn(1)).await;
        inputs.send(Input::Token(1, IdToken::rfid("TAG9"))).await;
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
}

#[tokio::test]
async fn wss_with_basic_auth_security_profile_2() {
    let pki = pki();
    let log = Log::default();
    let server = tls_csms(&pki, SecurityProfile::TlsBasicAuth, log.clone()).await;
    let url = format!("wss://localhost:{}/ocpp/CS008", server.local_addr().port());
    session(&url, Some(PASSWORD), &mut Tls::new(&pki.ca, None)).await;
    assert_eq!(transaction_messages(&log).len(), 1);
    server.shutdown(Duration::ZERO).await;
}

#[tokio::test]
async fn wss_with_a_client_certificate_security_profile_3() {
    let pki = pki();
    let log = Log::default();
    let server = tls_csms(&pki, SecurityProfile::MutualTls, log.clone()).await;
    let url = format!("wss://localhost:{}/ocpp/CS009", server.local_addr().port());
    session(&url, None, &mut Tls::new(&pki.ca, Some(&pki.station))).await;
    assert_eq!(transaction_messages(&log).len(), 1);
    // The certificate of CS009 does not let a station in as CS012 (the CSMS binds the
    // certificate's commonName to the identity).
    let url = format!("wss://localhost:{}/ocpp/CS012", server.local_addr().port());
    let mut read_buf = vec![0u8; 2048];
    let mut write_buf = vec![0u8; 256];
    let mut runner = Runner::start(
        station_config(OcppVersion::V201),
        Charger::default(),
        Blocking(MemoryStore::new()),
        run_config(&url),
        &mut read_buf,
        &mut write_buf,
    )
    .await
    .unwrap();
    let inputs = Inputs::new();
    let (mut events, sink) = Events::new();
    let mut connector = Tls::new(&pki.ca, Some(&pki.station));
    let run = runner.run(&mut connector, inputs.dyn_receiver(), random(), sink);
    let refused = Event::ConnectFailed(ConnectFailure::Handshake(HandshakeError::Refused(401)));
    tokio::select! {
        error = run => panic!("the run loop stopped: {error:?}"),
        _ = events.wait("a refusal", |e| *e == refused) => {}
    }
    server.shutdown(Duration::ZERO).await;
}

/// A server whose certificate another CA signed is refused, and so is one whose name is
/// not the URL's host.
#[tokio::test]
async fn wss_refuses_a_server_the_ca_did_not_sign_or_of_another_name() {
    let pki = pki();
    let other = self::pki();
    let server = tls_csms(&pki, SecurityProfile::TlsBasicAuth, Log::default()).await;
    let port = server.local_addr().port();
    for (url, ca) in [
        (format!("wss://localhost:{port}/ocpp/CS011"), &other.ca),
        (format!("wss://127.0.0.1:{port}/ocpp/CS011"), &pki.ca),
    ] {
        let mut read_buf = vec![0u8; 2048];
        let mut write_buf = vec![0u8; 256];
        let mut config = run_config(&url);
        config.password = Some(PASSWORD.into());
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
        let mut connector = Tls::new(ca, None);
        let run = runner.run(&mut connector, inputs.dyn_receiver(), random(), sink);
        let script = async {
            let failure = events
                .wait("a failed attempt", |e| matches!(e, Event::ConnectFailed(_)))
                .await;
            match failure {
                Event::ConnectFailed(ConnectFailure::Transport(reason)) => {
                    assert!(reason.contains("InvalidCertificate"), "{url}: {reason}")
                }
                other => panic!("{url}: {other:?}"),
            }
        };
        tokio::select! {
            error = run => panic!("the run loop stopped: {error:?}"),
            () = script => {}
        }
        assert!(!events.seen.iter().any(|e| matches!(e, Event::Connected(_))));
    }
    server.shutdown(Duration::ZERO).await;
}
