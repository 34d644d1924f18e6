//! Request paths: user-controlled parts (tags, branches, file paths) are percent-encoded so they
//! cannot change which endpoint is called.

use std::fmt::Write as _;

/// Encodes one path segment, keeping `/` when `keep_slash` (git ref names and file paths).
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
    use super::encode;

    #[test]
    fn user_text_cannot_escape_its_path_segment() {
        assert_eq!(encode("v1.2.3+build.7", false), "v1.2.3%2Bbuild.7");
        assert_eq!(
            encode("../../user?x=1#y", false),
            "..%2F..%2Fuser%3Fx%3D1%23y"
        );
        assert_eq!(encode("deploy/prod/v1", true), "deploy/prod/v1");
        assert_eq!(encode("a b%", true), "a%20b%25");
    }
}
