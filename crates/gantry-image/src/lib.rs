//! Container image references, checked against the grammar of the distribution project
//! (`distribution/reference`, the grammar registries, Docker and Kubernetes tooling share), so an
//! action refuses a malformed image before it writes anything anywhere.
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] component ( "/" component )*        (at most 255 characters)
//! domain     := host [ ":" port ]      host: DNS labels joined by ".", or "[" IPv6 "]"
//! component  := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest     := algorithm ":" hex      sha256: 64, sha384: 96, sha512: 128 lower-case hex digits
//! ```
//!
//! Each part has its own check, so a caller that takes the name and the version from different
//! inputs can report the input the user actually set.

use std::sync::LazyLock;

use regex::Regex;

/// The longest name the grammar allows (domain and path together).
pub const NAME_MAX: usize = 255;

const COMPONENT: &str = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN: &str = r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?";
const TAG: &str = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";

static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!("^(?:{DOMAIN}/)?{COMPONENT}(?:/{COMPONENT})*$")).expect("name grammar")
});
static TAG_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{TAG}$")).expect("tag grammar"));

/// A reference split into its parts, each one valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// What is wrong with a reference; messages describe the rule, never repeat the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    #[error("is empty")]
    Empty,
    #[error(
        "has an invalid repository name: each path component is lower-case letters and digits, joined by `.`, `_`, `__` or `-`, optionally after a registry host[:port]"
    )]
    Name,
    #[error("has a repository name longer than {NAME_MAX} characters")]
    NameTooLong,
    #[error(
        "has an invalid tag: letters, digits, `_`, `.` and `-`, not starting with `.` or `-`, at most 128 characters"
    )]
    Tag,
    #[error(
        "has an invalid digest: sha256: with 64, sha384: with 96 or sha512: with 128 lower-case hex digits"
    )]
    Digest,
}

/// Parses and checks a whole reference: `name`, `name:tag`, `name@digest` or `name:tag@digest`.
pub fn parse(reference: &str) -> Result<ImageRef, ImageRefError> {
    if reference.is_empty() {
        return Err(ImageRefError::Empty);
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => {
            check_digest(digest)?;
            (rest, Some(digest.to_owned()))
        }
        None => (reference, None),
    };
    // A tag follows the last `:` after the last `/`; an earlier `:` belongs to a registry port.
    let last_slash = rest.rfind('/').map_or(0, |index| index + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(index) => {
            let (name, tag) = rest.split_at(last_slash + index);
            let tag = &tag[1..];
            check_tag(tag)?;
            (name, Some(tag.to_owned()))
        }
        None => (rest, None),
    };
    check_name(name)?;
    Ok(ImageRef {
        name: name.to_owned(),
        tag,
        digest,
    })
}

/// Checks a repository name, with or without a registry host.
pub fn check_name(name: &str) -> Result<(), ImageRefError> {
    if name.is_empty() {
        return Err(ImageRefError::Empty);
    }
    if name.len() > NAME_MAX {
        return Err(ImageRefError::NameTooLong);
    }
    if NAME.is_match(name) {
        Ok(())
    } else {
        Err(ImageRefError::Name)
    }
}

/// Checks a tag.
pub fn check_tag(tag: &str) -> Result<(), ImageRefError> {
    if TAG_ONLY.is_match(tag) {
        Ok(())
    } else {
        Err(ImageRefError::Tag)
    }
}

/// Checks a digest: a supported algorithm and exactly its number of lower-case hex digits.
pub fn check_digest(digest: &str) -> Result<(), ImageRefError> {
    let (algorithm, hex) = digest.split_once(':').ok_or(ImageRefError::Digest)?;
    let length = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(ImageRefError::Digest),
    };
    let lower_hex = hex
        .bytes()
        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    if hex.len() == length && lower_hex {
        Ok(())
    } else {
        Err(ImageRefError::Digest)
    }
}

/// Checks what may stand after a name: a tag, or a digest (anything with `:` is taken as a digest,
/// since a tag cannot contain one).
pub fn check_version(version: &str) -> Result<(), ImageRefError> {
    if version.contains(':') {
        check_digest(version)
    } else {
        check_tag(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn valid_references_split_into_their_parts() {
        let cases = [
            ("app", "app", None, None),
            ("app:1.2.3", "app", Some("1.2.3"), None),
            (
                "registry.example/team/app:1.1",
                "registry.example/team/app",
                Some("1.1"),
                None,
            ),
            ("localhost:5000/app", "localhost:5000/app", None, None),
            (
                "localhost:5000/app:v1_2-rc.1",
                "localhost:5000/app",
                Some("v1_2-rc.1"),
                None,
            ),
            (
                "[::1]:5000/a__b/c--d.e:latest",
                "[::1]:5000/a__b/c--d.e",
                Some("latest"),
                None,
            ),
            ("Registry.Example/app", "Registry.Example/app", None, None),
        ];
        for (text, name, tag, digest) in cases {
            let parsed = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed.name, name, "{text}");
            assert_eq!(parsed.tag.as_deref(), tag, "{text}");
            assert_eq!(parsed.digest.as_deref(), digest, "{text}");
        }
        let pinned = parse(&format!("r.example/app:1.1@{SHA}")).unwrap();
        assert_eq!(pinned.tag.as_deref(), Some("1.1"));
        assert_eq!(pinned.digest.as_deref(), Some(SHA));
        assert!(
            parse(&format!("r.example/app@{SHA}"))
                .unwrap()
                .tag
                .is_none()
        );
    }

    #[test]
    fn invalid_references_name_the_broken_part() {
        let cases = [
            ("", ImageRefError::Empty),
            ("registry.example/App:1.1", ImageRefError::Name),
            ("app_:1", ImageRefError::Name),
            ("-app", ImageRefError::Name),
            ("a//b", ImageRefError::Name),
            ("/app", ImageRefError::Name),
            ("a/b/", ImageRefError::Name),
            ("app:", ImageRefError::Tag),
            ("app:.1", ImageRefError::Tag),
            (
                "app:1.1##[add-mask]registry.example/app",
                ImageRefError::Name,
            ),
            ("app:1.1##[add-mask]x", ImageRefError::Tag),
            ("app:v1+build", ImageRefError::Tag),
            ("app@sha256:abc", ImageRefError::Digest),
            (
                "app@md5:0123456789abcdef0123456789abcdef",
                ImageRefError::Digest,
            ),
            ("app: 1", ImageRefError::Tag),
            ("app:1\r::set-output", ImageRefError::Name),
            ("app:1\r", ImageRefError::Tag),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), Err(expected), "{text:?}");
        }
        assert_eq!(
            parse(&format!("app:{}", "x".repeat(128))).unwrap().name,
            "app"
        );
        assert_eq!(
            parse(&format!("app:{}", "x".repeat(129))),
            Err(ImageRefError::Tag)
        );
        assert_eq!(
            parse(&format!("{}:1", "a".repeat(256))),
            Err(ImageRefError::NameTooLong)
        );
        let upper = SHA.to_uppercase().replace("SHA256", "sha256");
        assert_eq!(check_digest(&upper), Err(ImageRefError::Digest));
    }

    #[test]
    fn a_version_is_a_tag_or_a_digest() {
        assert!(check_version("1.2.3").is_ok());
        assert!(check_version(SHA).is_ok());
        assert_eq!(check_version("sha256:ab"), Err(ImageRefError::Digest));
        assert_eq!(check_version("1.1/x"), Err(ImageRefError::Tag));
    }
}
