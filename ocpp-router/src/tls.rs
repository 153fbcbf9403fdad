//! The TLS settings the configuration's PEM files describe (feature `tls`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use ocpp_rpc_tokio::rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ConfigError, RouterConfig};

/// The client settings of each backend with a `ca` (and, for profile 3, a certificate).
pub(crate) fn backends(
    config: &RouterConfig,
) -> Result<HashMap<String, Arc<rustls::ClientConfig>>, ConfigError> {
    let mut settings = HashMap::new();
    for backend in &config.backends {
        let Some(ca) = &backend.ca else {
            if backend.url.starts_with("wss://") {
                return Err(ConfigError(format!(
                    "backend {}: a wss:// URL needs ca (the CAs its certificate chains to)",
                    backend.name
                )));
            }
            continue;
        };
        let mut roots = rustls::RootCertStore::empty();
        for certificate in certificates(ca)? {
            roots.add(certificate).map_err(|e| fail(ca, &e))?;
        }
        let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
        let client = match (&backend.certificate, &backend.key) {
            (Some(chain), Some(key)) => builder
                .with_client_auth_cert(certificates(chain)?, private_key(key)?)
                .map_err(|e| fail(chain, &e))?,
            _ => builder.with_no_client_auth(),
        };
        settings.insert(backend.name.clone(), Arc::new(client));
    }
    Ok(settings)
}

/// The stations' side, if the router has a certificate.
pub(crate) fn server(
    config: &RouterConfig,
) -> Result<Option<Arc<rustls::ServerConfig>>, ConfigError> {
    let (Some(chain), Some(key)) = (&config.certificate, &config.key) else {
        return Ok(None);
    };
    let builder = rustls::ServerConfig::builder();
    let builder = match &config.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in certificates(ca)? {
                roots.add(certificate).map_err(|e| fail(ca, &e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .map_err(|e| fail(ca, &e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let server = builder
        .with_single_cert(certificates(chain)?, private_key(key)?)
        .map_err(|e| fail(chain, &e))?;
    Ok(Some(Arc::new(server)))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let all = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(path, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(path, &e))?;
    if all.is_empty() {
        return Err(fail(path, &"no certificate in it"));
    }
    Ok(all)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, ConfigError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| fail(path, &e))
}

fn fail(path: &Path, error: &dyn std::fmt::Display) -> ConfigError {
    ConfigError(format!("{}: {error}", path.display()))
}
