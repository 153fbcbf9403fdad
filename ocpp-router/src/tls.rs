//! The TLS settings the configuration's PEM files describe (feature `tls`).

use std::collections::HashMap;
use std::sync::Arc;

use ocpp_rpc_tokio::pem::{self, PemError};
use ocpp_rpc_tokio::rustls;

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
        let identity = backend.certificate.as_deref().zip(backend.key.as_deref());
        let client = pem::client_config(ca, identity).map_err(invalid)?;
        settings.insert(backend.name.clone(), client);
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
    pem::server_config(chain, key, config.client_ca.as_deref())
        .map(Some)
        .map_err(invalid)
}

fn invalid(error: PemError) -> ConfigError {
    ConfigError(error.to_string())
}
