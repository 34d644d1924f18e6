//! Workflow commands (`::name k=v::data`): formatting with the toolkit's exact escaping, and the
//! runner's parser, so tests can read back exactly what the runner would see.

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
