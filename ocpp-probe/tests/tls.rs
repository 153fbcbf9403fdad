//! A `wss://` CSMS (security profile 2: TLS and Basic auth), probed over TLS with the CA
//! given in `Settings::tls`: the handshake cases, the credential ones included, pass.

use std::sync::Arc;

use ocpp_probe::{Plan, Settings, Target};
use ocpp_rpc_tokio::rustls;
use ocpp_rpc_tokio::{SecurityProfile, ServerConfig};
use ocpp_types::OcppVersion;

mod support;

#[tokio::test]
async fn a_tls_csms_is_probed_over_wss() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let generated = || KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
    let ca_key = generated();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap_or_else(|e| panic!("{e}"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).unwrap_or_else(|e| panic!("{e}"));
    let key = generated();
    let leaf =
        CertificateParams::new(vec!["localhost".to_owned()]).unwrap_or_else(|e| panic!("{e}"));
    let leaf = leaf
        .signed_by(&key, &ca, &ca_key)
        .unwrap_or_else(|e| panic!("{e}"));
    let server_tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let mut config = ServerConfig::default();
    config.security = SecurityProfile::TlsBasicAuth;
    config.tls = Some(Arc::new(server_tls));
    let server = support::password_csms(config).await;
    let password = support::PASSWORD;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.der().clone())
        .unwrap_or_else(|e| panic!("{e}"));
    let client_tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let url = format!("wss://localhost:{}/ocpp/TLS-1", server.local_addr().port());
    let plan = Plan {
        credentials: true,
        ..Plan::new(OcppVersion::V201, Target::Csms, 1)
    };
    let mut only: Vec<String> = ocpp_probe::catalogue(&plan)
        .into_iter()
        .filter(|c| c.id.starts_with("handshake.") || c.id.starts_with("payload.Heartbeat."))
        .map(|c| c.id)
        .collect();
    only.push("rpc.unknown-action".to_owned());
    let settings = Settings {
        only: only.clone(),
        tls: Some(Arc::new(client_tls)),
        ..Settings::default()
    };
    let report = ocpp_probe::probe_csms(&url, Some(password), &plan, &settings)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.cases.len(), only.len());
    assert!(report.findings().next().is_none(), "{}", report.to_text());
    // Without the CA, no connection at all.
    let untrusted = Settings {
        only,
        ..Settings::default()
    };
    assert!(
        ocpp_probe::probe_csms(&url, Some(password), &plan, &untrusted)
            .await
            .is_err()
    );
    server.shutdown(std::time::Duration::from_secs(1)).await;
}
