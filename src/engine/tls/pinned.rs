//! `--ca-cert` also pins: a server certificate given in that file exactly (byte for byte) is
//! trusted as itself, even where the WebPKI rules would refuse it as a server certificate.
//!
//! Why: the usual way of making a certificate for a test server, `openssl req -x509 -newkey …
//! -subj /CN=localhost`, marks it as a certificate authority (basicConstraints CA:TRUE), and
//! WebPKI refuses a CA as the server's own certificate (`CaUsedAsEndEntity`) even when it is a
//! root the user trusts. The user who passes that very file means "trust this server"; browsers
//! offer the same as an exception. Only the chain to an issuer is waived: the handshake's
//! signature is still checked against the certificate's key (so the server holds its private
//! key), and the host name must still be one the certificate names; its dates were already
//! checked by the WebPKI verifier before it got to the issuer.

use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use std::sync::Arc;

#[derive(Debug)]
pub(super) struct PinnedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl PinnedVerifier {
    pub(super) fn new(
        inner: Arc<WebPkiServerVerifier>,
        pinned: Vec<CertificateDer<'static>>,
    ) -> Self {
        PinnedVerifier { inner, pinned }
    }
}

/// The refusals that concern the chain to an issuer, which a pinned certificate does without.
fn about_the_issuer(e: &rustls::Error) -> bool {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(C::UnknownIssuer) => true,
        rustls::Error::InvalidCertificate(C::Other(other)) => {
            format!("{other:?}").contains("CaUsedAsEndEntity")
        }
        _ => false,
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(e)
                if about_the_issuer(&e)
                    && self
                        .pinned
                        .iter()
                        .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                let cert = ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&cert, server_name)?;
                tracing::debug!("server certificate accepted as pinned by --ca-cert ({e})");
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
