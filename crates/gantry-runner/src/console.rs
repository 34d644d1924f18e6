//! Everything the step writes to stdout: log lines and workflow commands, with every known secret
//! replaced by `***` before it leaves the process (GitHub masks too; outside Actions nobody would),
//! and every value neutralised so the runner cannot read it as a workflow command.
//!
//! The runner reads stdout line by line, a line ending at `\n`, `\r\n` **or a lone `\r`**, and
//! obeys two syntaxes: `::cmd::` at the start of a line and `##[cmd]` **anywhere** in a line
//! (`ActionCommand.TryParseV2` / `TryParse`). Two defences, both here because this is the one
//! writer of stdout:
//! - text with a line (as the runner splits it) that could start a `::` command is fenced with
//!   `::stop-commands::` and an unguessable token, which pauses both syntaxes on the runner;
//! - every `##[` becomes `## [` on every line but `::add-mask::`, so the legacy syntax never
//!   parses, fenced or not: inside our own `::error::`/`::group::` data, in runners or log viewers
//!   that handle it differently (`##[error]` at a line start is also styled by GitHub's log view).
//!   A visible space, not a zero-width character: the runner finds the prefix with a
//!   culture-sensitive `IndexOf`, for which zero-width and control characters are ignorable, so
//!   `##\u{200B}[` may still match. For the same reason the checks skip such characters.

use std::io::Write;

use crate::command;
use crate::secret::Secret;

/// Where an annotation points and what it is called; empty fields are left out.
#[derive(Debug, Default, Clone)]
pub struct Annotation {
    pub title: String,
    pub file: String,
    pub line: Option<u32>,
    pub end_line: Option<u32>,
    pub col: Option<u32>,
    pub end_column: Option<u32>,
}

impl Annotation {
    pub fn titled(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }
}

/// The step's stdout.
pub struct Console<'a> {
    out: &'a mut dyn Write,
    debug: bool,
    secrets: Vec<String>,
}

impl<'a> Console<'a> {
    pub(crate) fn new(out: &'a mut dyn Write, debug: bool) -> Self {
        Self {
            out,
            debug,
            secrets: Vec::new(),
        }
    }

    /// Masks a secret: `::add-mask::` for the value and for each of its lines, and local redaction.
    pub fn add_mask(&mut self, secret: &Secret) {
        let value = secret.expose();
        let mut parts = vec![value];
        parts.extend(
            command::runner_lines(value)
                .into_iter()
                .filter(|line| *line != value && !line.trim().is_empty()),
        );
        for part in parts {
            // Written as is: the runner must register the exact value, and `::add-mask::` is
            // parsed by the `::` parser before the `##[` one could look at it.
            self.write(&command::format("add-mask", &[], part));
            self.secrets.push(part.to_owned());
        }
        self.secrets
            .sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    }

    /// Replaces every known secret in `text` by `***`.
    pub fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_owned(), |text, secret| {
            text.replace(secret.as_str(), "***")
        })
    }

    /// Plain log text. Text with a line (split as the runner splits it) that could start a `::`
    /// command (an echoed value, a job name) is fenced with `::stop-commands::` and an unguessable
    /// token, so the runner shows those lines instead of running them as workflow commands.
    pub fn info(&mut self, text: &str) {
        let text = self.redact(text);
        if !command::runner_lines(&text)
            .into_iter()
            .any(could_start_command)
        {
            self.raw(&text);
            return;
        }
        let token = crate::file_command::random_delimiter();
        self.raw(&command::format("stop-commands", &[], &token));
        self.raw(&text);
        self.raw(&command::format(&token, &[], ""));
    }

    /// `::debug::`, shown only when `RUNNER_DEBUG=1`.
    pub fn debug(&mut self, message: &str) {
        if self.debug {
            self.command("debug", &Annotation::default(), message);
        }
    }

    pub fn notice(&mut self, message: &str, at: &Annotation) {
        self.command("notice", at, message);
    }

    pub fn warning(&mut self, message: &str, at: &Annotation) {
        self.command("warning", at, message);
    }

    pub fn error(&mut self, message: &str, at: &Annotation) {
        self.command("error", at, message);
    }

    /// Opens a collapsible group in the log.
    pub fn group(&mut self, title: &str) {
        let line = command::format("group", &[], &self.redact(title));
        self.raw(&line);
    }

    pub fn end_group(&mut self) {
        self.raw(&command::format("endgroup", &[], ""));
    }

    fn command(&mut self, name: &str, at: &Annotation, message: &str) {
        let numbers = [at.line, at.end_line, at.col, at.end_column]
            .map(|n| n.map(|n| n.to_string()).unwrap_or_default());
        let title = self.redact(&at.title);
        let properties = [
            ("title", title.as_str()),
            ("file", at.file.as_str()),
            ("line", numbers[0].as_str()),
            ("endLine", numbers[1].as_str()),
            ("col", numbers[2].as_str()),
            ("endColumn", numbers[3].as_str()),
        ];
        let line = command::format(name, &properties, &self.redact(message));
        self.raw(&line);
    }

    /// Writes a line with the legacy `##[` syntax broken up.
    fn raw(&mut self, line: &str) {
        self.write(&break_legacy_commands(line));
    }

    fn write(&mut self, line: &str) {
        // A closed stdout must not turn a finished deploy into a failure; there is nowhere left to
        // report the write error to.
        let _ = writeln!(self.out, "{line}");
    }

    pub(crate) fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// Whether one runner line could be a `::` command: `::` after leading whitespace, ignoring
/// ignorable characters anywhere in that prefix.
pub fn could_start_command(line: &str) -> bool {
    let mut visible = line
        .chars()
        .filter(|c| !command::is_ignorable(*c))
        .skip_while(|c| c.is_whitespace());
    visible.next() == Some(':') && visible.next() == Some(':')
}

/// Inserts a space before every `[` that follows `##` (ignorable characters in between do not
/// count as a break), so no `##[` prefix is left for the runner's legacy parser.
pub fn break_legacy_commands(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut hashes = 0;
    for c in line.chars() {
        match c {
            '#' => hashes += 1,
            '[' if hashes >= 2 => {
                out.push(' ');
                hashes = 0;
            }
            c if command::is_ignorable(c) => {}
            _ => hashes = 0,
        }
        out.push(c);
    }
    out
}
