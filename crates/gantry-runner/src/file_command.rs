//! File commands (`GITHUB_OUTPUT` and friends): the heredoc writer with a random delimiter, and the
//! runner's parser, so outputs can be read back exactly as the runner reads them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Renders outputs as heredoc entries with one random delimiter that collides with no line of any
/// name or value. The whole block is written with one `write` so a failure leaves nothing half-done.
pub fn render(outputs: &[(String, String)]) -> String {
    let delimiter = loop {
        let candidate = random_delimiter();
        let collides = outputs.iter().any(|(name, value)| {
            name.contains(&candidate) || value.lines().any(|line| line == candidate)
        });
        if !collides {
            break candidate;
        }
    };
    let mut block = String::new();
    for (name, value) in outputs {
        let _ = write!(block, "{name}<<{delimiter}\n{value}\n{delimiter}\n");
    }
    block
}

/// `ghadelimiter_` and 32 random hex digits: unguessable, so no value can forge it.
pub(crate) fn random_delimiter() -> String {
    let mut bytes = [0u8; 16];
    // getrandom only fails when the OS has no entropy source; a fixed fallback would let a value
    // forge outputs, so give up loudly instead.
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    let mut delimiter = String::from("ghadelimiter_");
    for byte in bytes {
        let _ = write!(delimiter, "{byte:02x}");
    }
    delimiter
}

/// Why the runner would reject a file-command file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("Invalid format '{0}'. Name must not be empty and delimiter must not be empty")]
    EmptyNameOrDelimiter(String),
    #[error("Invalid value. Matching delimiter not found '{0}'")]
    DelimiterNotFound(String),
    #[error("Invalid value. EOF marker missing new line.")]
    MissingNewLine,
    #[error("Invalid format '{0}'")]
    InvalidFormat(String),
}

/// Parses a file-command file as the runner's `FileCommandManager` does (later names win).
///
/// Line by line: `NAME=VALUE` when `=` comes before any `<<`; otherwise `NAME<<DELIM` and the value
/// is the text up to a line equal to `DELIM`, keeping the file's own newlines.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut outputs = BTreeMap::new();
    let mut index = 0;
    while let Some((line, _)) = read_line(text, &mut index) {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(eq), h) if h.is_none_or(|h| eq < h) => {
                let (name, value) = (&line[..eq], &line[eq + 1..]);
                if name.is_empty() {
                    return Err(ParseError::EmptyNameOrDelimiter(line.to_owned()));
                }
                outputs.insert(name.to_owned(), value.to_owned());
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(ParseError::EmptyNameOrDelimiter(line.to_owned()));
                }
                let start = index;
                let mut end = index;
                loop {
                    let Some((candidate, newline)) = read_line(text, &mut index) else {
                        return Err(ParseError::DelimiterNotFound(delimiter.to_owned()));
                    };
                    if candidate == delimiter {
                        break;
                    }
                    let Some(newline) = newline else {
                        return Err(ParseError::MissingNewLine);
                    };
                    end = index - newline.len();
                }
                outputs.insert(name.to_owned(), text[start..end].to_owned());
            }
            _ => return Err(ParseError::InvalidFormat(line.to_owned())),
        }
    }
    Ok(outputs)
}

/// Reads the line at `index` and the newline that ends it (`None` at the end of the text).
fn read_line<'a>(text: &'a str, index: &mut usize) -> Option<(&'a str, Option<&'a str>)> {
    let rest = text.get(*index..).filter(|rest| !rest.is_empty())?;
    let Some(lf) = rest.find('\n') else {
        *index = text.len();
        return Some((rest, None));
    };
    let (line, newline) = if lf > 0 && rest.as_bytes()[lf - 1] == b'\r' {
        (&rest[..lf - 1], &rest[lf - 1..=lf])
    } else {
        (&rest[..lf], &rest[lf..=lf])
    };
    *index += lf + 1;
    Some((line, Some(newline)))
}
