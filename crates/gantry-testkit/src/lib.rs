//! Runs an action binary the way the runner does (inputs as `INPUT_*`, a fresh `GITHUB_OUTPUT` and
//! step summary, an event payload file, no ambient `GITHUB_*`/`RUNNER_*`/`ACTIONS_*` variables) and
//! returns the whole transcript for assertions and snapshots.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use gantry_runner::command::{self, ParsedCommand};
use gantry_runner::{Env, file_command, spec::input_env_name};

/// Variables a child keeps from the test's own environment; everything else is dropped so ambient
/// CI variables cannot leak into a test.
const KEPT_VARIABLES: &[&str] = &["PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"];

/// One run of an action binary, configured step by step.
pub struct ActionRun {
    binary: PathBuf,
    dir: tempfile::TempDir,
    env: Vec<(OsString, OsString)>,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    in_actions: bool,
}

impl ActionRun {
    /// A run of `binary` (use `env!("CARGO_BIN_EXE_<name>")`) inside a simulated Actions step.
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        let dir = tempfile::tempdir().expect("create a temp dir for the step");
        Self {
            binary: binary.into(),
            dir,
            env: Vec::new(),
            args: Vec::new(),
            cwd: None,
            in_actions: true,
        }
    }

    /// Runs outside Actions: no `GITHUB_ACTIONS`, `GITHUB_OUTPUT` or summary; outputs go to stdout.
    #[must_use]
    pub fn outside_actions(mut self) -> Self {
        self.in_actions = false;
        self
    }

    /// Sets an input as the runner does (`INPUT_<NAME>`).
    #[must_use]
    pub fn input(self, name: &str, value: impl Into<OsString>) -> Self {
        self.env(input_env_name(name), value)
    }

    /// Sets an environment variable for the child.
    #[must_use]
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Writes the event payload file and sets `GITHUB_EVENT_NAME` and `GITHUB_EVENT_PATH`.
    #[must_use]
    pub fn event(self, name: &str, payload: &serde_json::Value) -> Self {
        let path = self.dir.path().join("event.json");
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(payload).expect("serialise event"),
        )
        .expect("write event");
        self.env("GITHUB_EVENT_NAME", name)
            .env("GITHUB_EVENT_PATH", path)
    }

    /// Adds a command-line argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Runs the child in this directory.
    #[must_use]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The step's private temp dir (event file, output file, summary live here).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the binary to completion and collects everything it produced.
    pub fn run(self) -> Transcript {
        let output_path = self.dir.path().join("github_output");
        let summary_path = self.dir.path().join("step_summary");
        let mut child = Command::new(&self.binary);
        child.env_clear().args(&self.args);
        for (name, value) in Env::from_process().iter() {
            if KEPT_VARIABLES.iter().any(|kept| name == *kept) {
                child.env(name, value);
            }
        }
        if self.in_actions {
            std::fs::write(&output_path, "").expect("create GITHUB_OUTPUT");
            child
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_OUTPUT", &output_path)
                .env("GITHUB_STEP_SUMMARY", &summary_path);
        }
        child.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &self.cwd {
            child.current_dir(cwd);
        }
        let output = child
            .output()
            .unwrap_or_else(|error| panic!("run {}: {error}", self.binary.display()));
        let raw_outputs = std::fs::read_to_string(&output_path).unwrap_or_default();
        Transcript {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            outputs: file_command::parse(&raw_outputs)
                .expect("GITHUB_OUTPUT parses as the runner parses it"),
            raw_outputs,
            summary: std::fs::read_to_string(&summary_path).unwrap_or_default(),
        }
    }
}

/// What one run produced.
#[derive(Debug)]
pub struct Transcript {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Outputs as the runner reads them from `GITHUB_OUTPUT`.
    pub outputs: BTreeMap<String, String>,
    /// The `GITHUB_OUTPUT` file as written.
    pub raw_outputs: String,
    pub summary: String,
}

impl Transcript {
    /// Workflow commands on stdout that the runner would obey ([`command::obeyed`]): its line
    /// splitting, both syntaxes, and nothing between `::stop-commands::TOKEN` and `::TOKEN::`.
    pub fn commands(&self) -> Vec<ParsedCommand> {
        command::obeyed(&self.stdout)
    }

    /// The data of every `::error` command.
    pub fn errors(&self) -> Vec<String> {
        self.commands()
            .into_iter()
            .filter(|c| c.command == "error")
            .map(|c| c.data)
            .collect()
    }

    /// One output, panicking with the transcript when it is missing.
    pub fn output(&self, name: &str) -> &str {
        self.outputs.get(name).map_or_else(
            || panic!("no output `{name}` in\n{}", self.render()),
            String::as_str,
        )
    }

    /// The whole transcript as text, for snapshots: exit code, stdout, stderr, outputs, summary.
    pub fn render(&self) -> String {
        let mut text = format!("exit: {}\n--- stdout\n{}", self.code, self.stdout);
        if !self.stderr.is_empty() {
            let _ = write!(text, "--- stderr\n{}", self.stderr);
        }
        text.push_str("--- outputs\n");
        for (name, value) in &self.outputs {
            let _ = writeln!(text, "{name}={value:?}");
        }
        if !self.summary.is_empty() {
            let _ = write!(text, "--- summary\n{}", self.summary);
        }
        text
    }

    /// Asserts the text appears nowhere the step could leak it: stdout (except the `::add-mask::`
    /// commands that tell the runner to hide it, which the runner never shows), stderr, outputs and
    /// the summary.
    pub fn assert_never_shows(&self, secret: &str) {
        let shown: String = self
            .stdout
            .lines()
            .filter(|line| !line.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n");
        for (place, text) in [
            ("stdout", &shown),
            ("stderr", &self.stderr),
            ("outputs", &self.raw_outputs),
            ("summary", &self.summary),
        ] {
            assert!(
                !text.contains(secret),
                "the secret leaked into {place}:\n{}",
                self.render()
            );
        }
    }
}
