//! TLS settings from PEM files, as operators keep certificates (feature `tls`).
//!
//! [`client_config`] for a station (or anything that dials a CSMS): the CAs to trust and,
//! for security profile 3, a client certificate. [`server_config`] for a CSMS: its
//! certificate and key and, for profile 3, the CAs stations' certificates must chain to.

use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec::Vec;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

/// A PEM file that could not be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct PemError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// A client that trusts the CA certificates in `ca` and, with `identity` (a certificate
/// chain and its key), presents that client certificate (security profile 3).
pub fn client_config(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<Arc<rustls::ClientConfig>, PemError> {
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots(ca)?);
    let config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(certificates(chain)?, private_key(key)?)
            .map_err(|e| fail(chain, &e))?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// A server presenting the certificate chain `chain` with its `key` and, with `client_ca`,
/// asking every client for a certificate that chains to those CAs (security profile 3).
pub fn server_config(
    chain: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, PemError> {
    let builder = rustls::ServerConfig::builder();
    let builder = match client_ca {
        Some(ca) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots(ca)?))
                .build()
                .map_err(|e| fail(ca, &e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(certificates(chain)?, private_key(key)?)
        .map_err(|e| fail(chain, &e))?;
    Ok(Arc::new(config))
}

/// The CA certificates of `path`, as trust anchors.
fn roots(path: &Path) -> Result<rustls::RootCertStore, PemError> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificates(path)? {
        roots.add(certificate).map_err(|e| fail(path, &e))?;
    }
    Ok(roots)
}

/// Every certificate of `path` (at least one).
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let all = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(path, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(path, &e))?;
    if all.is_empty() {
        return Err(fail(path, &"no certificate in it"));
    }
    Ok(all)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| fail(path, &e))
}

fn fail(path: &Path, error: &dyn core::fmt::Display) -> PemError {
    PemError {
        path: path.to_path_buf(),
        reason: error.to_string(),
    }
}
