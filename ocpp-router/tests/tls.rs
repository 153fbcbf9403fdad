//! TLS on both sides of the router: a station on security profile 3 (its client certificate
//! checked against `client_ca`, its commonName its identity), and a backend on profile 3 too,
//! reached over wss:// with the station's client certificate from the configuration.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ocpp_router::{Router, RouterConfig};
use ocpp_rpc_tokio::rustls;
use ocpp_rpc_tokio::{ClientConfig, Handlers, SecurityProfile, Server, ServerConfig, connect};
use ocpp_types::{DateTime, OcppVersion, v201};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

struct Pki {
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let mut params =
            CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| panic!("{e}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = params
            .self_signed(&ca_key)
            .unwrap_or_else(|e| panic!("{e}"));
        Pki { ca, ca_key }
    }

    /// A leaf for `names` (subject alternative names) with commonName `cn`: PEM chain, PEM key.
    fn leaf(&self, names: &[&str], cn: &str) -> (String, String) {
        let key = KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap_or_else(|e| panic!("{e}"));
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params
            .signed_by(&key, &self.ca, &self.ca_key)
            .unwrap_or_else(|e| panic!("{e}"));
        (cert.pem(), key.serialize_pem())
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    path.display().to_string()
}

fn certs(pem: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn key(pem: &str) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn roots(pki: &Pki) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(pki.ca.der().clone())
        .unwrap_or_else(|e| panic!("{e}"));
    roots
}

#[tokio::test]
async fn stations_and_backends_on_security_profile_3() {
    let pki = Pki::new();
    let dir = std::env::temp_dir().join(format!("ocpp-router-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let (server_chain, server_key) = pki.leaf(&["localhost"], "localhost");
    let (client_chain, client_key) = pki.leaf(&[], "CS-TLS");
    // The backend: profile 3, a client certificate whose commonName is the identity.
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots(&pki)))
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let backend_tls = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(&server_chain), key(&server_key))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut config = ServerConfig::default();
    config.versions = vec![OcppVersion::V201];
    config.security = SecurityProfile::MutualTls;
    config.tls = Some(Arc::new(backend_tls));
    let mut handlers = Handlers::new();
    handlers.on(|_, _: v201::BootNotificationRequest| async {
        let accepted = v201::RegistrationStatusEnumType::Accepted;
        // An interval the router would not give itself: the answer is the backend's.
        Ok(v201::BootNotificationResponse::new(
            DateTime::now(),
            77,
            accepted,
        ))
    });
    let backend = Server::bind("127.0.0.1:0", config, handlers)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .start()
        .unwrap_or_else(|e| panic!("{e}"));
    let ca = write(&dir, "ca.pem", &pki.ca.pem());
    let text = format!(
        r#"
        listen = "127.0.0.1:0"
        ocpp = ["2.0.1"]
        store = "{store}"
        certificate = "{router_chain}"
        key = "{router_key}"
        client_ca = "{ca}"
        [[backend]]
        name = "billing"
        url = "wss://localhost:{port}/ocpp"
        primary = true
        ca = "{ca}"
        certificate = "{client_chain}"
        key = "{client_key}"
        "#,
        store = dir.join("store").display(),
        router_chain = write(&dir, "router.pem", &server_chain),
        router_key = write(&dir, "router.key", &server_key),
        port = backend.local_addr().port(),
        client_chain = write(&dir, "client.pem", &client_chain),
        client_key = write(&dir, "client.key", &client_key),
    );
    let config = RouterConfig::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    let router = Router::new(config)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!("wss://localhost:{}/ocpp/CS-TLS", router.local_addr().port());
    let with_certificate = rustls::ClientConfig::builder()
        .with_root_certificates(roots(&pki))
        .with_client_auth_cert(certs(&client_chain), key(&client_key))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut station = ClientConfig::new(url.clone(), [OcppVersion::V201]);
    station.tls = Some(Arc::new(with_certificate));
    let connection = connect(&station, Handlers::new())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let boot = v201::BootNotificationRequest::new(
        v201::ChargingStationType::new(
            ocpp_types::BoundedString::truncating("m"),
            ocpp_types::BoundedString::truncating("v"),
        ),
        v201::BootReasonEnumType::PowerUp,
    );
    let answer = connection
        .call(boot)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.interval, 77);
    // Without a client certificate the router admits no station.
    let mut without = ClientConfig::new(url, [OcppVersion::V201]);
    without.tls = Some(Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots(&pki))
            .with_no_client_auth(),
    ));
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        match connect(&without, Handlers::new()).await {
            Err(_) => true,
            // TLS 1.3 may report the refused certificate only at the first read.
            Ok(connection) => tokio::time::timeout(Duration::from_secs(5), connection.closed())
                .await
                .is_ok(),
        }
    })
    .await;
    assert_eq!(refused.ok(), Some(true));
    router.shutdown(Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
}
