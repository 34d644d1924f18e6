//! One workflow step of the rehearsal: a real action binary run as the runner runs it (through
//! gantry-testkit: `GITHUB_OUTPUT` and step-summary files, the event payload file, `INPUT_*` for
//! the inputs the workflow sets, nothing from the caller's environment but `PATH`/`HOME`), in a
//! checkout of the repository, with the run's GitHub context. The binaries apply the action.yml
//! defaults themselves, so only the inputs a workflow sets are passed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gantry_testkit::{ActionRun, Transcript};

use crate::binaries::Binaries;
use crate::progress::Progress;

/// The GitHub context of a workflow run: which repository, event and commit.
#[derive(Clone, Debug)]
pub struct Context {
    pub repository: String,
    pub event: String,
    pub payload: serde_json::Value,
    pub git_ref: String,
    pub sha: String,
    /// The checkout (`GITHUB_WORKSPACE`), also the step's working directory.
    pub workspace: PathBuf,
    pub run_id: u64,
}

/// A finished step.
#[derive(Debug)]
pub struct Step {
    pub title: String,
    pub action: &'static str,
    /// Since the rehearsal started.
    pub started: Duration,
    pub duration: Duration,
    pub transcript: Transcript,
}

impl Step {
    pub fn succeeded(&self) -> bool {
        self.transcript.code == 0
    }

    /// An output, empty when the step did not set it.
    pub fn output(&self, name: &str) -> &str {
        self.transcript.outputs.get(name).map_or("", String::as_str)
    }

    /// What the step said in the end: its result (or, for ticgen, its tag; for
    /// create-prerelease, the release), and its last error.
    pub fn outcome(&self) -> String {
        let result = match self.action {
            "ticgen" if self.succeeded() => format!("tic={}", self.output("tic")),
            "create-prerelease" if self.succeeded() => format!(
                "release {} (prerelease={}, created={})",
                self.output("tag"),
                self.output("prerelease"),
                self.output("created")
            ),
            _ => self.output("result").to_owned(),
        };
        let error = self.transcript.errors().pop().unwrap_or_default();
        match (result.is_empty(), error.is_empty()) {
            (false, true) => result,
            (false, false) => format!("{result}: {error}"),
            (true, false) => error,
            (true, true) => format!("exit {}", self.transcript.code),
        }
    }
}

/// Runs steps against the rehearsal's simulators and clock.
pub struct StepRunner<'a> {
    pub binaries: &'a Binaries,
    pub api_url: String,
    pub started: Instant,
    pub progress: &'a Progress,
}

impl StepRunner<'_> {
    /// Runs `action` with `inputs` in `context`, showing a spinner while it runs and one line
    /// when it ends.
    pub fn run(
        &self,
        title: &str,
        action: &'static str,
        context: &Context,
        inputs: &[(&str, &str)],
    ) -> Step {
        let spinner = self.progress.waiting(title);
        let started = self.started.elapsed();
        let begin = Instant::now();
        let transcript = self.command(action, context, inputs).run();
        let step = Step {
            title: title.to_owned(),
            action,
            started,
            duration: begin.elapsed(),
            transcript,
        };
        drop(spinner);
        self.progress.line(&step_line(&step));
        step
    }

    fn command(&self, action: &str, context: &Context, inputs: &[(&str, &str)]) -> ActionRun {
        let (ref_type, ref_name) = split_ref(&context.git_ref);
        let mut run = ActionRun::new(self.binaries.path(action))
            .current_dir(&context.workspace)
            .event(&context.event, &context.payload)
            .env("CI", "true")
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("GITHUB_API_URL", &self.api_url)
            .env("GITHUB_SERVER_URL", "https://github.example")
            .env("GITHUB_REPOSITORY", &context.repository)
            .env("GITHUB_RUN_ID", context.run_id.to_string())
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_WORKSPACE", &context.workspace)
            .env("GITHUB_REF", &context.git_ref)
            .env("GITHUB_REF_NAME", ref_name)
            .env("GITHUB_REF_TYPE", ref_type)
            .env("GITHUB_SHA", &context.sha);
        for (name, value) in inputs {
            run = run.input(name, *value);
        }
        run
    }
}

/// `refs/tags/v1` → (`tag`, `v1`); `refs/pull/3/merge` → (`branch`, `3/merge`).
fn split_ref(git_ref: &str) -> (&'static str, &str) {
    if let Some(tag) = git_ref.strip_prefix("refs/tags/") {
        ("tag", tag)
    } else {
        let name = git_ref
            .strip_prefix("refs/heads/")
            .or_else(|| git_ref.strip_prefix("refs/"))
            .unwrap_or(git_ref);
        ("branch", name.strip_prefix("pull/").unwrap_or(name))
    }
}

/// `✓ ticgen on the tag v1.4.0        12 ms  tic=1.4.0` style progress line.
pub fn step_line(step: &Step) -> String {
    let mark = if step.succeeded() { "✓" } else { "✗" };
    format!(
        "{mark} {:<52} {:>8}  {}",
        step.title,
        format_duration(step.duration),
        step.outcome()
    )
}

pub fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// Writes `files` (path → bytes) under `dir`, as a checkout would.
pub fn checkout(dir: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    for (path, bytes) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, bytes)?;
    }
    Ok(())
}
