//! `NO_PROXY` as curl and Go read it, for the clients that take a proxy per host (the Kubernetes
//! client; reqwest has its own reading): comma-separated entries, `*` for every host, a domain
//! (with or without a leading `.`) matching itself and its subdomains, an IP address, or an IP
//! range in CIDR notation. A port in an entry is ignored, as curl ignores it.

use std::net::IpAddr;

/// Whether `host` (a name or an IP address, IPv6 with or without brackets) bypasses the proxy.
pub fn bypasses(no_proxy: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let address = host.parse::<IpAddr>().ok();
    no_proxy
        .split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some((network, bits)) = entry.split_once('/') {
                return match (address, network.parse::<IpAddr>(), bits.parse::<u32>()) {
                    (Some(address), Ok(network), Ok(bits)) => in_range(address, network, bits),
                    _ => false,
                };
            }
            let entry = strip_port(&entry);
            let entry = entry.trim_start_matches('[').trim_end_matches(']');
            if let (Some(address), Ok(listed)) = (address, entry.parse::<IpAddr>()) {
                return address == listed;
            }
            let domain = entry.trim_start_matches('.');
            host == domain || host.ends_with(&format!(".{domain}"))
        })
}

/// `host:port` → `host` (an IPv6 address in brackets keeps its colons).
fn strip_port(entry: &str) -> &str {
    if entry.starts_with('[') {
        return entry.split_once(']').map_or(entry, |(host, _)| host);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            host
        }
        _ => entry,
    }
}

fn in_range(address: IpAddr, network: IpAddr, bits: u32) -> bool {
    match (address, network) {
        (IpAddr::V4(address), IpAddr::V4(network)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(address) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(address), IpAddr::V6(network)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(address) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::bypasses;

    #[test]
    fn domains_match_themselves_and_their_subdomains_only() {
        let list = "internal.example, .corp.example,localhost";
        assert!(bypasses(list, "internal.example"));
        assert!(bypasses(list, "api.internal.example"));
        assert!(bypasses(list, "corp.example"));
        assert!(bypasses(list, "k8s.eu.corp.example"));
        assert!(bypasses(list, "LOCALHOST"));
        assert!(!bypasses(list, "notinternal.example"));
        assert!(!bypasses(list, "example"));
        assert!(!bypasses("", "anything"));
    }

    #[test]
    fn addresses_ranges_ports_and_the_wildcard() {
        assert!(bypasses("10.0.0.0/8", "10.20.30.40"));
        assert!(!bypasses("10.0.0.0/8", "11.0.0.1"));
        assert!(bypasses("127.0.0.1:6443", "127.0.0.1"));
        assert!(bypasses("::1", "[::1]"));
        assert!(bypasses("fd00::/8", "fd12::1"));
        assert!(!bypasses("fd00::/8", "10.0.0.1"));
        assert!(bypasses("*", "api.github.com"));
        assert!(!bypasses("10.0.0.0/8", "ten.example"));
    }
}
