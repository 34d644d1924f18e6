//! The Kubernetes name rules the inputs are checked against before any request.

/// A DNS-1123 subdomain, as Kubernetes requires for Deployment, namespace and Service names.
pub fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A DNS-1123 label, as Kubernetes requires for container names.
pub fn is_container_name(name: &str) -> bool {
    name.len() <= 63 && !name.contains('.') && is_dns_subdomain(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_subdomains() {
        assert!(is_dns_subdomain("web-1.prod"));
        assert!(!is_dns_subdomain("Web"));
        assert!(!is_dns_subdomain("-web"));
        assert!(!is_dns_subdomain(""));
    }

    #[test]
    fn container_names_are_dns_labels() {
        assert!(is_container_name("app-2"));
        assert!(!is_container_name("app.2"));
        assert!(!is_container_name(&"a".repeat(64)));
    }
}
