//! Version order for the downgrade guard: SemVer first (a leading `v` ignored), PEP 440 when
//! either side is not SemVer. Versions neither can read are not ordered.

use std::cmp::Ordering;
use std::str::FromStr;

/// How `candidate` compares with `current`; `None` when they cannot be compared.
pub fn compare(candidate: &str, current: &str) -> Option<Ordering> {
    let strip = |text: &str| text.strip_prefix(['v', 'V']).unwrap_or(text).to_owned();
    let (candidate, current) = (strip(candidate), strip(current));
    if let (Ok(a), Ok(b)) = (
        semver::Version::parse(&candidate),
        semver::Version::parse(&current),
    ) {
        return Some(a.cmp_precedence(&b));
    }
    let a = pep440_rs::Version::from_str(&candidate).ok()?;
    let b = pep440_rs::Version::from_str(&current).ok()?;
    Some(a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::compare;
    use std::cmp::Ordering::{Equal, Greater, Less};

    #[test]
    fn semver_with_or_without_v() {
        assert_eq!(compare("v1.10.0", "1.9.0"), Some(Greater));
        assert_eq!(compare("1.2.3-rc.1", "v1.2.3"), Some(Less));
        assert_eq!(compare("1.2.3+b1", "1.2.3+b2"), Some(Equal));
    }

    #[test]
    fn pep440_when_not_semver() {
        assert_eq!(compare("1.2", "1.10"), Some(Less));
        assert_eq!(compare("1.0a1", "1.0"), Some(Less));
        assert_eq!(compare("2.0.post1", "v2.0"), Some(Greater));
    }

    #[test]
    fn unreadable_versions_are_not_ordered() {
        assert_eq!(compare("latest", "1.0.0"), None);
    }
}
