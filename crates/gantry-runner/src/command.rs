//! Workflow commands (`::name k=v::data`): formatting with the toolkit's exact escaping, and a model
//! of how the runner reads a step's output (its line splitting, both command parsers and
//! `stop-commands`), so tests can read back exactly what the runner would obey.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Escapes a command's data: `%`, CR and LF, as `@actions/core` does.
pub fn escape_data(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: the data escapes plus `:` and `,`.
pub fn escape_property(value: &str) -> String {
    escape_data(value).replace(':', "%3A").replace(',', "%2C")
}

/// Formats one workflow command line, without the trailing newline.
///
/// Properties keep the order given; properties with an empty value are left out, since the runner
/// drops them anyway.
pub fn format(command: &str, properties: &[(&str, &str)], data: &str) -> String {
    let mut line = format!("::{command}");
    let mut first = true;
    for (key, value) in properties.iter().filter(|(_, v)| !v.is_empty()) {
        line.push(if first { ' ' } else { ',' });
        first = false;
        let _ = write!(line, "{key}={}", escape_property(value));
    }
    let _ = write!(line, "::{}", escape_data(data));
    line
}

/// A workflow command as the runner parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    pub command: String,
    /// Property keys are lower-cased: the runner treats them case-insensitively.
    pub properties: BTreeMap<String, String>,
    pub data: String,
}

/// Parses a line the way the runner's `ActionCommand.TryParseV2` does; `None` when it is no command.
pub fn parse(line: &str) -> Option<ParsedCommand> {
    let rest = line.trim_start().strip_prefix("::")?;
    let end = rest.find("::")?;
    let (info, data) = (&rest[..end], &rest[end + 2..]);
    let (command, props) = info.split_once(' ').unwrap_or((info, ""));
    if command.is_empty() {
        return None;
    }
    let properties = props
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, value)| !key.is_empty() && !value.is_empty())
        .map(|(key, value)| (key.to_ascii_lowercase(), unescape_property(value)))
        .collect();
    Some(ParsedCommand {
        command: command.to_owned(),
        properties,
        data: unescape_data(data),
    })
}

fn unescape_data(value: &str) -> String {
    value
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

fn unescape_property(value: &str) -> String {
    value
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// Commands the runner registers (`ActionCommandManager`: one extension each, plus
/// `stop-commands`); either parser ignores any other name.
pub const REGISTERED: &[&str] = &[
    "add-mask",
    "add-path",
    "debug",
    "echo",
    "endgroup",
    "error",
    "group",
    "notice",
    "save-state",
    "set-env",
    "set-output",
    "stop-commands",
    "warning",
];

/// Splits text into the lines the runner reads (.NET `StreamReader.ReadLine`): a line ends at
/// `\r\n`, `\n` or a lone `\r`, so `"v1\r::set-output …"` is two lines for the runner although
/// Rust's `str::lines` sees one.
pub fn runner_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\n' => {
                lines.push(&text[start..index]);
                start = index + 1;
            }
            b'\r' => {
                lines.push(&text[start..index]);
                if bytes.get(index + 1) == Some(&b'\n') {
                    index += 1;
                }
                start = index + 1;
            }
            _ => {}
        }
        index += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Parses a line the way the runner's older `ActionCommand.TryParse` does: `##[name k=v;k=v]data`
/// found **anywhere** in the line, `None` when it is no command. The runner tries this parser on
/// every line that is not a `::` command.
pub fn parse_v1(line: &str) -> Option<ParsedCommand> {
    let start = line.find("##[")?;
    let rest = &line[start + 3..];
    let end = rest.find(']')?;
    let (info, data) = (&rest[..end], &rest[end + 1..]);
    let (command, props) = info.split_once(' ').unwrap_or((info, ""));
    if command.is_empty() {
        return None;
    }
    let properties = props
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, value)| !key.is_empty() && !value.is_empty())
        .map(|(key, value)| (key.to_ascii_lowercase(), unescape_v1(value)))
        .collect();
    Some(ParsedCommand {
        command: command.to_owned(),
        properties,
        data: unescape_v1(data),
    })
}

fn unescape_v1(value: &str) -> String {
    value
        .replace("%3B", ";")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%5D", "]")
        .replace("%25", "%")
}

/// Characters the runner's culture-sensitive string comparison may ignore: control characters and
/// the zero-width and other default-ignorable format characters.
pub fn is_ignorable(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{AD}'
                | '\u{34F}'
                | '\u{61C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// The commands the runner would obey in a step's whole stdout: its line splitting, the `::` parser
/// then the `##[` parser, registered names only, and `stop-commands`, which pauses both syntaxes
/// until the token comes back as a command (`ActionCommandManager.TryProcessCommand`).
///
/// The runner matches `::` and `##[` with culture-sensitive `StartsWith`/`IndexOf`, for which
/// [`is_ignorable`] characters do not count; the model drops them first, so it errs towards
/// seeing a command.
pub fn obeyed(stdout: &str) -> Vec<ParsedCommand> {
    let mut commands = Vec::new();
    let mut stopped_until: Option<String> = None;
    for line in runner_lines(stdout) {
        let line: String = line.chars().filter(|c| !is_ignorable(*c)).collect();
        let line = line.as_str();
        let registered = |parsed: &ParsedCommand| {
            REGISTERED
                .iter()
                .any(|name| name.eq_ignore_ascii_case(&parsed.command))
                || stopped_until
                    .as_deref()
                    .is_some_and(|token| token.eq_ignore_ascii_case(&parsed.command))
        };
        let Some(parsed) = parse(line)
            .filter(registered)
            .or_else(|| parse_v1(line).filter(registered))
        else {
            continue;
        };
        match &stopped_until {
            Some(token) if parsed.command.eq_ignore_ascii_case(token) => stopped_until = None,
            Some(_) => {}
            None if parsed.command.eq_ignore_ascii_case("stop-commands") => {
                stopped_until = Some(parsed.data);
            }
            None => commands.push(parsed),
        }
    }
    commands
}
