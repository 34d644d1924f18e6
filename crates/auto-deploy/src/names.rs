//! Branch and lock names in the landing-zone repository: one deploy branch per env file and tag,
//! one lock per env file. Names are sanitised for git, and a hash suffix keeps two inputs that
//! sanitise alike (`v1+b` and `v1-b`) apart; they are only ever matched exactly or by full prefix.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Prefix of every deploy branch.
const DEPLOY_PREFIX: &str = "deploy";
/// Prefix of every lock branch.
const LOCK_PREFIX: &str = "gantry-lock";

/// A git-safe form of `text`: letters, digits, `.`, `_`, `-`; anything else becomes `-`; a short
/// hash of the original is appended when anything had to change.
pub fn sanitise(text: &str) -> String {
    let mut clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while clean.contains("..") {
        clean = clean.replace("..", ".");
    }
    let clean = clean.trim_matches(['.', '-']).to_owned();
    let lock_suffix = Path::new(&clean)
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("lock"));
    if clean == text && !clean.is_empty() && !lock_suffix {
        return clean;
    }
    format!("{clean}-{}", short_hash(text))
}

/// Eight hex digits of the SHA-256 of `text`.
pub fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..4].iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// The environment's id: the env file path, sanitised (`deploy/preprod.env` → `deploy-preprod.env`).
pub fn env_id(env_file: &str) -> String {
    sanitise(&env_file.replace('/', "-"))
}

/// `deploy/<env>/` : every deploy branch of one env file starts with this.
pub fn deploy_prefix(env_file: &str) -> String {
    format!("{DEPLOY_PREFIX}/{}/", env_id(env_file))
}

/// The deploy branch of one tag for one env file.
pub fn deploy_branch(env_file: &str, tag: &str) -> String {
    format!("{}{}", deploy_prefix(env_file), sanitise(tag))
}

/// The lock branch of one env file.
pub fn lock_branch(env_file: &str) -> String {
    format!("{LOCK_PREFIX}/{}", env_id(env_file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_stay_readable() {
        assert_eq!(
            deploy_branch("deploy/preprod.env", "v1.2.3"),
            "deploy/deploy-preprod.env/v1.2.3"
        );
        assert_eq!(
            lock_branch("deploy/prod.env"),
            "gantry-lock/deploy-prod.env"
        );
    }

    #[test]
    fn names_that_sanitise_alike_stay_distinct() {
        let plus = sanitise("v1.2.3+build");
        let dash = sanitise("v1.2.3-build");
        assert_ne!(plus, dash);
        assert!(plus.starts_with("v1.2.3-build-"), "{plus}");
        assert_eq!(dash, "v1.2.3-build");
        assert!(!sanitise("a..b").contains(".."));
        assert_eq!(sanitise("x.lock").len(), "x.lock-".len() + 8);
        assert!(!sanitise("").is_empty());
    }
}
