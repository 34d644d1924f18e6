//! Branch and lock names in the landing-zone repository: one deploy branch per env file and tag,
//! one lock per env file, under two prefixes a landing zone's rulesets can exempt. Names are
//! sanitised for git, and a hash suffix keeps two inputs that sanitise alike (`v1+b` and `v1-b`)
//! apart; they are only ever matched exactly or by full prefix.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The default prefix of every deploy branch (input `deploy-branch-prefix`).
pub const DEPLOY_PREFIX: &str = "deploy/";
/// The default prefix of every lock branch (input `lock-branch-prefix`).
pub const LOCK_PREFIX: &str = "gantry-lock/";

/// The two branch prefixes, as given (each ends with `/` or is joined to the name as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branches {
    pub deploy: String,
    pub lock: String,
}

impl Default for Branches {
    fn default() -> Self {
        Self {
            deploy: DEPLOY_PREFIX.to_owned(),
            lock: LOCK_PREFIX.to_owned(),
        }
    }
}

impl Branches {
    /// `<deploy prefix><env>/` : every deploy branch of one env file starts with this.
    pub fn deploy_prefix(&self, env_file: &str) -> String {
        format!("{}{}/", self.deploy, env_id(env_file))
    }

    /// The deploy branch of one tag for one env file.
    pub fn deploy_branch(&self, env_file: &str, tag: &str) -> String {
        format!("{}{}", self.deploy_prefix(env_file), sanitise(tag))
    }

    /// The lock branch of one env file.
    pub fn lock_branch(&self, env_file: &str) -> String {
        format!("{}{}", self.lock, env_id(env_file))
    }
}

/// Why a branch prefix is refused: the prefixes become the start of branch names, so they must
/// be valid there, and neither may hold the other's branches (a deploy branch is never a lock).
pub fn check_prefixes(branches: &Branches) -> Result<(), (&'static str, String)> {
    for (input, prefix) in [
        ("deploy-branch-prefix", &branches.deploy),
        ("lock-branch-prefix", &branches.lock),
    ] {
        let valid = !prefix.is_empty()
            && !prefix.starts_with(['/', '.', '-'])
            && !prefix.contains("//")
            && !prefix.contains("..")
            && !prefix.contains("/.")
            && !prefix.split('/').any(|part| {
                Path::new(part)
                    .extension()
                    .is_some_and(|extension| extension.eq_ignore_ascii_case("lock"))
            })
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
        if !valid {
            return Err((
                input,
                format!(
                    "`{prefix}` cannot start a branch name; use letters, digits, `.`, `_`, `-` and `/` (no leading `/`, `.` or `-`, no `..`, `//` or part ending in `.lock`), like `{}`",
                    if input == "deploy-branch-prefix" {
                        DEPLOY_PREFIX
                    } else {
                        LOCK_PREFIX
                    }
                ),
            ));
        }
    }
    if branches.deploy.starts_with(&branches.lock) || branches.lock.starts_with(&branches.deploy) {
        return Err((
            "lock-branch-prefix",
            format!(
                "`{}` and deploy-branch-prefix `{}` overlap; give locks and deploy branches prefixes where neither starts the other",
                branches.lock, branches.deploy
            ),
        ));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_stay_readable() {
        let branches = Branches::default();
        assert_eq!(
            branches.deploy_branch("deploy/preprod.env", "v1.2.3"),
            "deploy/deploy-preprod.env/v1.2.3"
        );
        assert_eq!(
            branches.lock_branch("deploy/prod.env"),
            "gantry-lock/deploy-prod.env"
        );
        let exempt = Branches {
            deploy: "bots/gantry/deploy-".to_owned(),
            lock: "bots/gantry/lock-".to_owned(),
        };
        assert_eq!(
            exempt.deploy_branch("api.env", "v1"),
            "bots/gantry/deploy-api.env/v1"
        );
        assert_eq!(exempt.lock_branch("api.env"), "bots/gantry/lock-api.env");
        assert_eq!(check_prefixes(&exempt), Ok(()));
    }

    #[test]
    fn prefixes_that_cannot_start_a_branch_or_overlap_are_refused() {
        let with = |deploy: &str, lock: &str| {
            check_prefixes(&Branches {
                deploy: deploy.to_owned(),
                lock: lock.to_owned(),
            })
            .map_err(|(input, _)| input)
        };
        assert_eq!(with("", "l/"), Err("deploy-branch-prefix"));
        assert_eq!(with("/d", "l/"), Err("deploy-branch-prefix"));
        assert_eq!(with("d/../x", "l/"), Err("deploy-branch-prefix"));
        assert_eq!(with("d/", "l o/"), Err("lock-branch-prefix"));
        assert_eq!(with("d/", "l:/"), Err("lock-branch-prefix"));
        assert_eq!(with("d.lock/", "l/"), Err("deploy-branch-prefix"));
        assert_eq!(with("gantry/", "gantry/lock/"), Err("lock-branch-prefix"));
        assert_eq!(with("gantry/deploy/", "gantry/lock/"), Ok(()));
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
