//! Request paths: user-controlled parts (tags, branches, file paths, SHAs) are checked and then
//! percent-encoded segment by segment, so they cannot change which endpoint is called.
//!
//! Encoding alone is not enough: the URL parser removes `.` and `..` segments, and also their
//! percent-encoded spellings (`%2e`, `.%2E`, …), after the path is built. So a segment that is
//! empty, `.` or `..` is refused outright, as are absolute paths, backslashes (a separator for
//! some servers and proxies) and control characters. Callers that take such a value from a user
//! check it first with [`check_repo_path`], so bad input is refused before any request.

use std::fmt::Write as _;

/// Why a repository path (a file path or a ref name) cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("is empty")]
    Empty,
    #[error("is absolute; give a path relative to the repository root, without a leading /")]
    Absolute,
    #[error("contains a `.` or `..` segment; give the path from the repository root without them")]
    DotSegment,
    #[error("contains an empty segment (`//` or a trailing /)")]
    EmptySegment,
    #[error("contains a backslash; separate directories with /")]
    Backslash,
    #[error("contains a control character")]
    Control,
}

/// A path part refused before any request: the value (escaped for display) and why.
#[derive(Debug, thiserror::Error)]
#[error("refusing to send a request for `{value}`: it {error}")]
pub struct RefusedPath {
    pub value: String,
    pub error: PathError,
}

/// Checks a `/`-separated path inside a repository: relative, no empty, `.` or `..` segments, no
/// backslash, no control characters.
pub fn check_repo_path(path: &str) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if path.starts_with('/') {
        return Err(PathError::Absolute);
    }
    if path.contains('\\') {
        return Err(PathError::Backslash);
    }
    if path.chars().any(char::is_control) {
        return Err(PathError::Control);
    }
    for segment in path.split('/') {
        if segment.is_empty() {
            return Err(PathError::EmptySegment);
        }
        if segment == "." || segment == ".." {
            return Err(PathError::DotSegment);
        }
    }
    Ok(())
}

/// One path segment (a tag, a SHA, a check name), checked and encoded, `/` included.
pub(crate) fn segment(text: &str) -> Result<String, RefusedPath> {
    check(text)?;
    Ok(encode(text, false))
}

/// A `/`-separated path (a file path, a ref name), checked and encoded segment by segment.
pub(crate) fn segments(text: &str) -> Result<String, RefusedPath> {
    check(text)?;
    Ok(text
        .split('/')
        .map(|part| encode(part, false))
        .collect::<Vec<_>>()
        .join("/"))
}

fn check(text: &str) -> Result<(), RefusedPath> {
    check_repo_path(text).map_err(|error| RefusedPath {
        value: text.escape_debug().to_string(),
        error,
    })
}

/// Encodes text for a query value (or, without `keep_slash`, a single segment already checked),
/// keeping `/` when `keep_slash`.
pub(crate) fn encode(text: &str, keep_slash: bool) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/');
        if keep {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_cannot_escape_its_path_segment() {
        assert_eq!(segment("v1.2.3+build.7").unwrap(), "v1.2.3%2Bbuild.7");
        assert_eq!(segment("a/b?x=1#y").unwrap(), "a%2Fb%3Fx%3D1%23y");
        assert_eq!(
            segments("deploy/prod v1/x.env").unwrap(),
            "deploy/prod%20v1/x.env"
        );
        assert_eq!(encode("a b%", true), "a%20b%25");
    }

    #[test]
    fn paths_that_could_leave_the_repository_are_refused() {
        let cases = [
            ("", PathError::Empty),
            ("/etc/passwd", PathError::Absolute),
            (
                "../../../acme/service/contents/README.md",
                PathError::DotSegment,
            ),
            ("envs/../../../../../user", PathError::DotSegment),
            ("envs/./prod.env", PathError::DotSegment),
            ("..", PathError::DotSegment),
            ("envs//prod.env", PathError::EmptySegment),
            ("envs/", PathError::EmptySegment),
            ("envs\\..\\user", PathError::Backslash),
            ("envs/prod.env\r::set-output", PathError::Control),
            ("envs/\0x", PathError::Control),
        ];
        for (path, expected) in cases {
            assert_eq!(check_repo_path(path), Err(expected), "{path:?}");
            assert!(segments(path).is_err(), "{path:?}");
        }
        assert!(segment("..").is_err());
        assert!(segment(".").is_err());
        assert_eq!(segments("...").unwrap(), "...");
        assert_eq!(segments(".github/x.env").unwrap(), ".github/x.env");
    }
}
