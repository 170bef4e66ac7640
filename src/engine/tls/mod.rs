//! TLS for wss://: rustls with the system roots (which honour `SSL_CERT_FILE`/`SSL_CERT_DIR`)
//! plus an optional PEM file of extra roots (corporate proxies), whose certificates are also
//! pinned (`pinned.rs`); and a failed handshake said in plain words (`problem.rs`).

mod pinned;
mod problem;

pub use problem::TlsProblem;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TlsSetupError {
    #[error("cannot read CA file {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("CA file {path} holds no PEM certificate")]
    CaFileEmpty { path: PathBuf },
    #[error("no usable root certificate: neither the system store nor --ca-cert gave one")]
    NoRoots,
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("TLS configuration: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// A client configuration with an explicit crypto provider: relying on a process default panics
/// at run time as soon as two providers are linked in. The certificates of `ca_cert` are roots,
/// and each is also trusted as a server certificate given exactly (`pinned.rs`).
pub fn client_config(ca_cert: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for err in &native.errors {
        tracing::warn!("system certificate store: {err}");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!("system roots: {added} added, {ignored} ignored");
    let mut pinned = Vec::new();
    if let Some(path) = ca_cert {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|source| TlsSetupError::CaFile {
                path: path.to_path_buf(),
                source,
            })?
            .collect::<Result<_, _>>()
            .map_err(|source| TlsSetupError::CaFile {
                path: path.to_path_buf(),
                source,
            })?;
        if certs.is_empty() {
            return Err(TlsSetupError::CaFileEmpty {
                path: path.to_path_buf(),
            });
        }
        roots.add_parsable_certificates(certs.iter().cloned());
        pinned = certs;
    }
    if roots.is_empty() && pinned.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let config = if pinned.is_empty() {
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let webpki =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(pinned::PinnedVerifier::new(webpki, pinned)))
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}
