//! The Markdown step summary: built in memory, appended to `GITHUB_STEP_SUMMARY` once at the end,
//! cut to GitHub's 1 MiB per-step budget with a visible note rather than rejected.

use std::fmt::Write as _;

/// GitHub's limit for one step's summary.
pub const SUMMARY_LIMIT_BYTES: usize = 1024 * 1024;

const TRUNCATION_NOTE: &str =
    "\n\n> [!WARNING]\n> Summary truncated to GitHub's 1 MiB step limit.\n";

/// A Markdown document under construction.
#[derive(Debug, Default)]
pub struct Summary {
    markdown: String,
}

impl Summary {
    pub fn heading(&mut self, level: usize, text: &str) -> &mut Self {
        let _ = writeln!(self.markdown, "{} {text}\n", "#".repeat(level.clamp(1, 6)));
        self
    }

    pub fn paragraph(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.markdown, "{text}\n");
        self
    }

    /// A table; cells are escaped so a `|` or a newline in a value cannot break the layout.
    pub fn table<R: AsRef<[String]>>(
        &mut self,
        headers: &[&str],
        rows: impl IntoIterator<Item = R>,
    ) -> &mut Self {
        let _ = writeln!(self.markdown, "| {} |", headers.join(" | "));
        let _ = writeln!(self.markdown, "|{}", "---|".repeat(headers.len()));
        for row in rows {
            let cells: Vec<String> = row.as_ref().iter().map(|cell| escape_cell(cell)).collect();
            let _ = writeln!(self.markdown, "| {} |", cells.join(" | "));
        }
        self.markdown.push('\n');
        self
    }

    /// Appends Markdown as is.
    pub fn raw(&mut self, markdown: &str) -> &mut Self {
        self.markdown.push_str(markdown);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.markdown.is_empty()
    }

    /// The document, cut at a character boundary to fit the budget.
    pub fn render(&self) -> String {
        if self.markdown.len() <= SUMMARY_LIMIT_BYTES {
            return self.markdown.clone();
        }
        let mut cut = SUMMARY_LIMIT_BYTES - TRUNCATION_NOTE.len();
        while !self.markdown.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}{TRUNCATION_NOTE}", &self.markdown[..cut])
    }
}

/// Escapes a table cell: pipes, and newlines turned into `<br>`.
pub fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}

/// Inline code that survives backticks inside the value: the fence is one backtick longer than
/// the longest backtick run in it, as CommonMark requires.
pub fn code(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}
