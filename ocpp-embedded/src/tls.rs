//! `wss://` with `embedded-tls` (feature `tls`): security profile 2 (TLS, the server's
//! certificate checked, Basic auth in the handshake) and profile 3 (a client certificate).
//!
//! [`open`] runs the TLS handshake over a socket and returns a [`TlsStream`], which the run loop
//! takes as any other stream (a [`Connect`](crate::Connect) returns it); [`Pki`] is a
//! [`CryptoProvider`] that checks the server's certificate against a CA and, for profile 3,
//! presents the station's certificate and signs with its P-256 key.
//!
//! ```text
//! // In a Connect impl, with `socket: Shared<TcpSocket>` a field of the connector:
//! self.socket = Some(Shared::new(tcp));
//! let socket = self.socket.as_ref().unwrap();
//! let pki = Pki::new(rng, CSMS_ROOT_CA_DER).with_client_certificate(STATION_CERT_DER, key);
//! let stream = tls::open(socket, &mut self.tls_read, &mut self.tls_write, endpoint.host(), pki).await?;
//! ```
//!
//! # What `embedded-tls` can and cannot do
//!
//! - **TLS 1.3 only.** OCPP asks for TLS 1.2 or newer (2.0.1 part 2, A00.FR.306/307; 1.6
//!   security whitepaper), so a CSMS may serve TLS 1.2 alone, and is compliant doing so: such
//!   a CSMS cannot be reached from this crate. Its handshake fails with
//!   `TlsError::InvalidHandshake`/`InvalidRecord` (or an alert) and the run loop reports
//!   [`ConnectFailure::Transport`](crate::run::ConnectFailure::Transport) after every attempt.
//!   The remedy is on the CSMS (enable TLS 1.3; every current TLS library has it) or a TLS
//!   1.2 stack on the station (mbedTLS through its C bindings, or the modem's TLS).
//! - Cipher suites `TLS_AES_128_GCM_SHA256` (this provider) or `TLS_AES_256_GCM_SHA384`; key
//!   exchange on P-256 only (`secp256r1`): a server that insists on X25519 alone fails too.
//! - Server certificates signed with ECDSA P-256 (P-384 with `embedded-tls`'s `p384`
//!   feature, RSA with its `rsa` feature: enable them on `embedded-tls` in the firmware's
//!   `Cargo.toml`). Each certificate of the chain is checked against the one above it up to
//!   the CA given, and the host name against the leaf's names; **validity dates are not
//!   checked** (the provider has no wall clock at connection time: [`NoClock`]), nor
//!   revocation, name constraints or key usages.
//! - Security profile 3: a client certificate is supported. `embedded-tls` sends **one**
//!   certificate, the station's own, without intermediates: the CSMS must be able to verify it
//!   from the CAs it holds (OCPP's usual chain, station certificate ← CSO sub-CA ← root,
//!   works only if the CSMS has the sub-CA). The key signs with ECDSA P-256/SHA-256 in
//!   software ([`Pki`]); a key in a secure element needs a [`CryptoProvider`] of the
//!   firmware's whose `signer` calls it.
//! - Memory: the read record buffer must hold a whole TLS record, up to 16 640 bytes (a
//!   server may send records that large); the write record buffer needs the TLS overhead
//!   plus what is written at once, and one of the two must hold the client's handshake
//!   messages (with profile 3, its certificate).

use embedded_io_async::{Read, Write};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, CryptoRngCore, NoClock, SignatureScheme,
    TlsCipherSuite, TlsConfig, TlsConnection, TlsContext, TlsError, TlsReader, TlsVerifier,
    TlsWriter,
};
use p256::ecdsa::{DerSignature, SigningKey};

use crate::stream::{Half, Shared, Split};

pub use embedded_tls;

/// A TLS connection over a [`Shared`] socket, ready for the run loop.
pub struct TlsStream<'a, S, C>
where
    S: Read + Write,
    C: TlsCipherSuite + 'static,
{
    connection: TlsConnection<'a, Half<'a, S>, C>,
}

impl<S, C> core::fmt::Debug for TlsStream<'_, S, C>
where
    S: Read + Write,
    C: TlsCipherSuite + 'static,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsStream").finish_non_exhaustive()
    }
}

impl<'a, S, C> Split for TlsStream<'a, S, C>
where
    S: Read + Write,
    C: TlsCipherSuite + 'static,
{
    type Reader<'x>
        = TlsReader<'x, Half<'a, S>, C>
    where
        Self: 'x;
    type Writer<'x>
        = TlsWriter<'x, Half<'a, S>, C>
    where
        Self: 'x;

    fn split(&mut self) -> (Self::Reader<'_>, Self::Writer<'_>) {
        self.connection.split()
    }
}

impl<'a, S, C> TlsStream<'a, S, C>
where
    S: Read + Write,
    C: TlsCipherSuite + 'static,
{
    /// The TLS connection.
    pub fn connection(&mut self) -> &mut TlsConnection<'a, Half<'a, S>, C> {
        &mut self.connection
    }
}

/// Runs the TLS handshake over `socket` for `server_name` (the URL's host: SNI and the name
/// the server's certificate must carry), with `provider`'s verifier and credentials.
///
/// `socket` must be poll-safe as [`Shared`] says (a TCP socket is): TLS reads and writes go
/// on at once through it. The buffers are the TLS record buffers (see the module's notes).
pub async fn open<'a, S, P>(
    socket: &'a Shared<S>,
    read_record: &'a mut [u8],
    write_record: &'a mut [u8],
    server_name: &str,
    provider: P,
) -> Result<TlsStream<'a, S, P::CipherSuite>, TlsError>
where
    S: Read + Write,
    P: CryptoProvider,
    P::CipherSuite: 'static,
{
    let config = TlsConfig::new().with_server_name(server_name);
    let mut connection = TlsConnection::new(socket.half(), read_record, write_record);
    connection.open(TlsContext::new(&config, provider)).await?;
    Ok(TlsStream { connection })
}

/// A [`CryptoProvider`]: the server's certificate chain checked against one CA (DER), and for
/// security profile 3 the station's certificate (DER) and its P-256 key. `CERT_SIZE` bounds
/// the server's certificate chain as it is kept during the handshake.
pub struct Pki<'a, R, const CERT_SIZE: usize = 4096> {
    rng: R,
    verifier: CertVerifier<'a, Aes128GcmSha256, NoClock, CERT_SIZE>,
    client: Option<(&'a [u8], SigningKey)>,
}

impl<R, const CERT_SIZE: usize> core::fmt::Debug for Pki<'_, R, CERT_SIZE> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pki")
            .field("client_certificate", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a, R: CryptoRngCore, const CERT_SIZE: usize> Pki<'a, R, CERT_SIZE> {
    /// Checks the server against `ca` (a DER certificate), with random numbers from `rng` (a
    /// hardware RNG, cryptographically secure).
    pub fn new(rng: R, ca: &'a [u8]) -> Pki<'a, R, CERT_SIZE> {
        Pki {
            rng,
            verifier: CertVerifier::new(Certificate::X509(ca)),
            client: None,
        }
    }

    /// Presents `certificate` (DER) when the server asks for one (security profile 3), and
    /// proves it with `key`.
    pub fn with_client_certificate(
        mut self,
        certificate: &'a [u8],
        key: SigningKey,
    ) -> Pki<'a, R, CERT_SIZE> {
        self.client = Some((certificate, key));
        self
    }
}

impl<R: CryptoRngCore, const CERT_SIZE: usize> CryptoProvider for Pki<'_, R, CERT_SIZE> {
    type CipherSuite = Aes128GcmSha256;
    type Signature = DerSignature;

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }

    fn signer(
        &mut self,
    ) -> Result<
        (
            impl p256::ecdsa::signature::SignerMut<Self::Signature>,
            SignatureScheme,
        ),
        TlsError,
    > {
        let (_, key) = self.client.as_ref().ok_or(TlsError::InvalidPrivateKey)?;
        Ok((key.clone(), SignatureScheme::EcdsaSecp256r1Sha256))
    }

    fn client_cert(&mut self) -> Option<Certificate<impl AsRef<[u8]>>> {
        self.client
            .as_ref()
            .map(|(certificate, _)| Certificate::X509(*certificate))
    }
}
