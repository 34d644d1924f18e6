//! What a person watches while the rehearsal runs: one line per step as it finishes, and a spinner
//! for each step that is still running when stdout is a terminal (plain lines only otherwise, so
//! a log file or CI step gets no control characters). `gantry dora` uses it on stderr (stdout
//! carries its result), with a bar while it pages through history.

use std::io::{IsTerminal as _, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The rehearsal's terminal.
pub struct Progress {
    spinners: Option<MultiProgress>,
    out: Mutex<Box<dyn Write + Send>>,
}

impl Progress {
    /// Stdout, with spinners when it is a terminal.
    pub fn stdout() -> Progress {
        let tty = std::io::stdout().is_terminal();
        Progress {
            spinners: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout())),
            out: Mutex::new(Box::new(std::io::stdout())),
        }
    }

    /// Stderr, with spinners and bars when it is a terminal.
    pub fn stderr() -> Progress {
        let tty = std::io::stderr().is_terminal();
        Progress {
            spinners: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            out: Mutex::new(Box::new(std::io::stderr())),
        }
    }

    /// Plain lines into `out` (tests, files).
    pub fn plain(out: impl Write + Send + 'static) -> Progress {
        Progress {
            spinners: None,
            out: Mutex::new(Box::new(out)),
        }
    }

    /// Prints one line (above the spinners, if any). Each line is neutralised so that nothing a
    /// world file or an action's output holds reads as a workflow command when this runs in CI.
    pub fn line(&self, text: &str) {
        let text = plain_text(text);
        if let Some(spinners) = &self.spinners {
            // A closed terminal is nothing to fail the rehearsal for.
            let _ = spinners.println(&text);
        } else {
            let mut out = self
                .out
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    /// A spinner for a step that waits; it disappears when dropped.
    pub fn waiting(&self, title: &str) -> Spinner {
        Spinner(self.spinners.as_ref().map(|spinners| {
            let bar = spinners.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(plain_text(title));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        }))
    }
}

impl Progress {
    /// A counter of the items read so far (of `total` when known); on a terminal a bar or a
    /// spinner, otherwise nothing until [`Counter::note`] or [`Counter::done`] prints a line.
    pub fn counter(&self, title: &str, total: Option<u64>) -> Counter<'_> {
        let bar = self.spinners.as_ref().map(|spinners| {
            let (bar, template) = match total {
                Some(total) => (
                    ProgressBar::new(total),
                    "  {msg} [{bar:30}] {pos}/{len} {elapsed}",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "  {spinner} {msg}: {pos} {elapsed}",
                ),
            };
            let bar = spinners.add(bar);
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message(plain_text(title));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Counter {
            progress: self,
            bar,
        }
    }
}

/// Items read so far, shown while a list is paged through.
pub struct Counter<'a> {
    progress: &'a Progress,
    bar: Option<ProgressBar>,
}

impl Counter<'_> {
    /// `count` more items read.
    pub fn add(&self, count: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(count);
        }
    }

    /// A line only when not on a terminal (where the bar says it), e.g. one per page.
    pub fn note(&self, text: &str) {
        if self.bar.is_none() {
            self.progress.line(text);
        }
    }

    /// Removes the bar and prints `text`.
    pub fn done(mut self, text: &str) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.progress.line(text);
    }
}

impl Drop for Counter<'_> {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// A running step's spinner (nothing when not on a terminal).
pub struct Spinner(Option<ProgressBar>);

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

/// `text` with carriage returns removed and every line that the runner would read as a workflow
/// command indented by a visible marker (`::name::`, also behind the invisible characters the
/// runner skips) or broken as gantry-runner breaks it (`##[name]` anywhere in a line).
pub fn plain_text(text: &str) -> String {
    text.replace('\r', "")
        .lines()
        .map(|line| {
            let line = gantry_runner::console::break_legacy_commands(line);
            if gantry_runner::console::could_start_command(&line) {
                format!("| {line}")
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use gantry_runner::command::obeyed;

    use super::plain_text;

    #[test]
    fn no_line_of_a_progress_text_reads_as_a_workflow_command() {
        let hostile = [
            "::error::injected",
            "  ::add-mask::secret",
            "\u{200b}::add-mask::behind a zero-width space",
            "\u{feff} ::warning::hidden behind invisible characters",
            "deploying ##[error]mid-line legacy command",
            "##[group]legacy at the start",
            "#\u{200b}#[error]split by an invisible character",
            "safe\r::error::after a carriage return",
            "\r##[warning]after a lone carriage return",
        ];
        for text in hostile {
            let shown = plain_text(text);
            assert!(
                obeyed(&shown).is_empty(),
                "{text:?} printed as {shown:?}: the runner would obey {:?}",
                obeyed(&shown)
            );
        }
        assert_eq!(
            plain_text("web: deployed ##[not-a-command] 1.2.3"),
            "web: deployed ## [not-a-command] 1.2.3",
            "the text stays readable"
        );
        assert_eq!(plain_text("plain line\nsecond"), "plain line\nsecond");
    }
}
