//! A server certificate the trust store refused, worded once for every client of the suite
//! (GitHub's API, `verify-url`, the Kubernetes API): the problem as rustls names it, and what to
//! change, which depends on where the trust came from. It will not go away by retrying.

use std::error::Error;
use std::path::Path;

#[cfg(doc)]
use crate::context::NetworkSettings;

/// How rustls starts the message of a certificate it refused (`invalid peer certificate:
/// UnknownIssuer`); the runner crate does not link rustls, so the chain is read by message.
const REFUSED: &str = "invalid peer certificate";

/// The certificate problem behind `error` (anywhere in its source chain, including inside an
/// `io::Error`), as rustls words it; `None` when the failure was something else.
pub fn problem(error: &(dyn Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        if let Some(at) = text.find(REFUSED) {
            return Some(text[at..].to_owned());
        }
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && let Some(found) = problem(inner)
        {
            return Some(found);
        }
        next = error.source();
    }
    None
}

/// The message for `server` (`host:port`), whose certificate the platform trust store refused
/// with `problem`: the system roots, or `bundle` (`SSL_CERT_FILE`, see [`NetworkSettings`]) in
/// their place.
pub fn untrusted(server: &str, problem: &str, bundle: Option<&Path>) -> String {
    match bundle {
        Some(bundle) => format!(
            "the TLS certificate of {server} is not trusted ({problem}): SSL_CERT_FILE \
             ({}) replaces the system roots and holds no CA that signed it; add that CA to the \
             bundle",
            bundle.display()
        ),
        None => format!(
            "the TLS certificate of {server} is not trusted ({problem}): if a private CA signed \
             it, set SSL_CERT_FILE to a PEM bundle of that CA and the public roots (cat \
             /etc/ssl/certs/ca-certificates.crt corp-ca.pem > bundle.pem)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_problem_is_found_inside_an_io_error_and_nothing_else_counts() {
        let refused = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        assert_eq!(
            problem(&Outer(refused)).as_deref(),
            Some("invalid peer certificate: UnknownIssuer")
        );
        let refused_connection = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(problem(&Outer(refused_connection)), None);
    }

    #[test]
    fn the_advice_names_the_bundle_when_one_is_set() {
        let problem = "invalid peer certificate: UnknownIssuer";
        assert!(
            untrusted("127.0.0.1:443", problem, None)
                .contains("set SSL_CERT_FILE to a PEM bundle of that CA and the public roots")
        );
        assert!(
            untrusted("127.0.0.1:443", problem, Some(Path::new("/etc/corp.pem")))
                .contains("SSL_CERT_FILE (/etc/corp.pem) replaces the system roots")
        );
    }
}
