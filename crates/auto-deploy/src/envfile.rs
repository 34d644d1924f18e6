//! The format-preserving edit of an env file: only the value of `[export ]KEY=value` changes;
//! comments, order, quoting, other lines, line endings and a missing final newline stay
//! byte-for-byte. A key that is missing or set twice is an error, never a guess.

use std::ops::Range;

/// Why an env file cannot be edited.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the file is not UTF-8 text")]
    NotText,
    #[error("no line sets {0}; add `export {0}=<version>` to the file first")]
    Missing(String),
    #[error("{key} is set on lines {lines:?}; keep exactly one assignment")]
    Duplicated { key: String, lines: Vec<usize> },
    #[error("{key} on line {line} has an unterminated quote")]
    Unterminated { key: String, line: usize },
    #[error("`{0}` is not a safe value for an env file (letters, digits, . _ + - only)")]
    UnsafeValue(String),
}

/// The one assignment of the key in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// 1-based line number.
    pub line: usize,
    /// The current value, without quotes.
    pub value: String,
    /// Byte range of the value inside the file (inside the quotes when quoted).
    span: Range<usize>,
}

/// Finds the single assignment of `key`.
pub fn find(text: &str, key: &str) -> Result<Assignment, EditError> {
    let mut found = Vec::new();
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if let Some(assignment) = parse_line(line, key, index + 1)? {
            found.push(Assignment {
                span: assignment.span.start + offset..assignment.span.end + offset,
                ..assignment
            });
        }
        offset += line.len();
    }
    match found.len() {
        0 => Err(EditError::Missing(key.to_owned())),
        1 => Ok(found.remove(0)),
        _ => Err(EditError::Duplicated {
            key: key.to_owned(),
            lines: found.iter().map(|a| a.line).collect(),
        }),
    }
}

/// The file with the key set to `value`, every other byte unchanged.
pub fn set(bytes: &[u8], key: &str, value: &str) -> Result<(Assignment, Vec<u8>), EditError> {
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
    {
        return Err(EditError::UnsafeValue(value.to_owned()));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| EditError::NotText)?;
    let assignment = find(text, key)?;
    let mut edited = String::with_capacity(text.len() + value.len());
    edited.push_str(&text[..assignment.span.start]);
    edited.push_str(value);
    edited.push_str(&text[assignment.span.end..]);
    Ok((assignment, edited.into_bytes()))
}

/// Parses one line (with its line ending); `Some` when it assigns `key`.
fn parse_line(line: &str, key: &str, number: usize) -> Result<Option<Assignment>, EditError> {
    let body = line.trim_end_matches(['\n', '\r']);
    let indent = body.len() - body.trim_start().len();
    let mut rest = &body[indent..];
    let mut at = indent;
    if let Some(after) = rest.strip_prefix("export")
        && after.starts_with([' ', '\t'])
    {
        let spaces = after.len() - after.trim_start().len();
        at += "export".len() + spaces;
        rest = &after[spaces..];
    }
    let Some(after_key) = rest.strip_prefix(key) else {
        return Ok(None);
    };
    let Some(value_text) = after_key.strip_prefix('=') else {
        return Ok(None);
    };
    at += key.len() + 1;
    let (start, end) = match value_text.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let close = value_text[1..]
                .find(quote)
                .ok_or_else(|| EditError::Unterminated {
                    key: key.to_owned(),
                    line: number,
                })?;
            (at + 1, at + 1 + close)
        }
        _ => {
            let len = value_text
                .find([' ', '\t', '#', ';'])
                .unwrap_or(value_text.len());
            (at, at + len)
        }
    };
    Ok(Some(Assignment {
        line: number,
        value: line[start..end].to_owned(),
        span: start..end,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, value: &str) -> Result<String, EditError> {
        set(text.as_bytes(), "IMAGE_VERSION", value)
            .map(|(_, bytes)| String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn only_the_value_changes() {
        let file = "# service\nexport IMAGE_NAME=svc\nexport IMAGE_VERSION=1.2.3\nexport NAME=x\n";
        assert_eq!(
            edit(file, "1.3.0").unwrap(),
            "# service\nexport IMAGE_NAME=svc\nexport IMAGE_VERSION=1.3.0\nexport NAME=x\n"
        );
    }

    #[test]
    fn quotes_comments_and_spacing_are_kept() {
        assert_eq!(
            edit("export IMAGE_VERSION=\"1.2.3\"  # pinned\n", "1.3.0").unwrap(),
            "export IMAGE_VERSION=\"1.3.0\"  # pinned\n"
        );
        assert_eq!(
            edit("  export\tIMAGE_VERSION='v1' # x\n", "v2").unwrap(),
            "  export\tIMAGE_VERSION='v2' # x\n"
        );
        assert_eq!(
            edit("IMAGE_VERSION=1#c\n", "2").unwrap(),
            "IMAGE_VERSION=2#c\n"
        );
        assert_eq!(edit("IMAGE_VERSION=\n", "2").unwrap(), "IMAGE_VERSION=2\n");
    }

    #[test]
    fn crlf_and_a_missing_final_newline_are_kept() {
        assert_eq!(
            edit("A=1\r\nexport IMAGE_VERSION=1.0.0\r\nB=2\r\n", "1.1.0").unwrap(),
            "A=1\r\nexport IMAGE_VERSION=1.1.0\r\nB=2\r\n"
        );
        assert_eq!(
            edit("A=1\nexport IMAGE_VERSION=1.0.0", "1.1.0").unwrap(),
            "A=1\nexport IMAGE_VERSION=1.1.0"
        );
    }

    #[test]
    fn similar_keys_and_comments_are_not_the_key() {
        let file = "# export IMAGE_VERSION=0.1\nexport IMAGE_VERSION_OLD=1\nMY_IMAGE_VERSION=3\nexport IMAGE_VERSION=2\n";
        let found = find(file, "IMAGE_VERSION").unwrap();
        assert_eq!((found.line, found.value.as_str()), (4, "2"));
    }

    #[test]
    fn missing_duplicated_and_broken_keys_are_errors() {
        assert_eq!(
            edit("export OTHER=1\n", "2"),
            Err(EditError::Missing("IMAGE_VERSION".into()))
        );
        assert_eq!(
            edit("export IMAGE_VERSION=1\nIMAGE_VERSION=1\n", "2"),
            Err(EditError::Duplicated {
                key: "IMAGE_VERSION".into(),
                lines: vec![1, 2]
            })
        );
        assert!(matches!(
            edit("export IMAGE_VERSION=\"1\n", "2"),
            Err(EditError::Unterminated { line: 1, .. })
        ));
        assert_eq!(
            set(&[0xff, 0xfe], "IMAGE_VERSION", "2"),
            Err(EditError::NotText)
        );
    }

    #[test]
    fn values_that_could_break_the_file_are_refused() {
        for bad in ["", "1.0 x", "$(id)", "a\"b", "1\n2"] {
            assert_eq!(
                edit("IMAGE_VERSION=1\n", bad),
                Err(EditError::UnsafeValue(bad.into()))
            );
        }
    }
}
