//! One private certificate authority for every HTTPS server of the tests (github-sim, kube-sim,
//! the `verify-url` endpoint), so a client is set up once, as a runner behind a corporate CA is:
//! its own crate because the simulators' binaries serve with it and must not pull in the testkit.

mod listener;

use std::path::Path;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

pub use crate::listener::TlsListener;

/// Why certificates could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("failed to generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{what} holds no PEM {expected}")]
    Pem {
        what: String,
        expected: &'static str,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to use the server certificate: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A certificate authority made for one test or one run.
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

impl Ca {
    /// A fresh CA whose certificate names `name`.
    pub fn new(name: &str) -> Result<Self, TlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(Self { issuer })
    }

    /// The CA certificate, PEM: what clients must trust.
    pub fn pem(&self) -> String {
        self.issuer.as_ref().pem()
    }

    /// A server certificate for `127.0.0.1` and `localhost`, named `name`, signed by this CA.
    pub fn issue(&self, name: &str) -> Result<Identity, TlsError> {
        let key = KeyPair::generate()?;
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            ca_pem: Some(self.pem()),
        })
    }
}

/// A server's certificate and key, and the CA certificate that signed it.
#[derive(Clone)]
pub struct Identity {
    /// The server certificate (or chain), PEM.
    pub cert_pem: String,
    key_pem: String,
    /// The signing CA's certificate, PEM (a kubeconfig's `certificate-authority`), when known.
    pub ca_pem: Option<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").finish_non_exhaustive()
    }
}

impl Identity {
    /// A server certificate (chain) and its key made elsewhere, with the CA that signed them.
    pub fn from_pem(cert_pem: String, key_pem: String, ca_pem: Option<String>) -> Self {
        Self {
            cert_pem,
            key_pem,
            ca_pem,
        }
    }

    /// [`Identity::from_pem`] from files (a simulator's `--tls-cert`, `--tls-key`, `--tls-ca`).
    pub fn from_files(cert: &Path, key: &Path, ca: Option<&Path>) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| TlsError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        let identity = Self::from_pem(read(cert)?, read(key)?, ca.map(read).transpose()?);
        identity.acceptor()?;
        Ok(identity)
    }

    /// A CA and a server certificate of its own, for a server that needs HTTPS and nothing
    /// shared.
    pub fn self_made(name: &str) -> Result<Self, TlsError> {
        Ca::new(&format!("{name} CA"))?.issue(name)
    }

    /// The server's key, PEM (to hand a simulator's binary as `--tls-key`).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The server side of TLS with this certificate: rustls over ring, HTTP/1.1.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let chain = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .ok()
            .filter(|chain| !chain.is_empty())
            .ok_or_else(|| TlsError::Pem {
                what: "the server certificate".to_owned(),
                expected: "certificate",
            })?;
        let key =
            PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).map_err(|_| TlsError::Pem {
                what: "the server key".to_owned(),
                expected: "private key",
            })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_certificate_is_served_and_its_key_matches() {
        let ca = Ca::new("test CA").unwrap();
        let identity = ca.issue("server").unwrap();
        assert_eq!(identity.ca_pem, Some(ca.pem()));
        assert!(identity.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(identity.acceptor().is_ok());
        let other = Ca::new("other CA").unwrap().issue("server").unwrap();
        let mismatched = Identity::from_pem(identity.cert_pem, other.key_pem, None);
        assert!(matches!(mismatched.acceptor(), Err(TlsError::Rustls(_))));
        let garbage = Identity::from_pem("hello".into(), "key".into(), None);
        assert_eq!(
            garbage.acceptor().err().unwrap().to_string(),
            "the server certificate holds no PEM certificate"
        );
    }
}
