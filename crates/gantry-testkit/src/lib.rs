//! Runs an action binary the way the runner does (inputs as `INPUT_*`, a fresh `GITHUB_OUTPUT` and
//! step summary, an event payload file, no ambient `GITHUB_*`/`RUNNER_*`/`ACTIONS_*` variables) and
//! returns the whole transcript for assertions and snapshots; also strips the same ambient
//! variables from any other child a test runs ([`hermetic`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub mod prometheus;
pub mod proxy;

use gantry_runner::command::{self, ParsedCommand};
use gantry_runner::{Env, file_command, spec::input_env_name};

/// Variables a child keeps from the test's own environment; everything else is dropped so ambient
/// CI variables cannot leak into a test.
const KEPT_VARIABLES: &[&str] = &["PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"];

/// Strips the ambient `GITHUB_*`, `RUNNER_*` and `ACTIONS_*` variables and `KUBECONFIG` from a
/// child the test runs (a client driving a simulator), keeping the rest of its environment.
pub fn hermetic(cmd: &mut Command) -> &mut Command {
    for (name, _) in Env::from_process().iter() {
        let name = name.to_string_lossy();
        if ["GITHUB_", "RUNNER_", "ACTIONS_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || name == "KUBECONFIG"
        {
            cmd.env_remove(&*name);
        }
    }
    cmd
}

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
        let mut child = self.command(&self.binary);
        let output = child
            .output()
            .unwrap_or_else(|error| panic!("run {}: {error}", self.binary.display()));
        self.transcript(output.status, &output.stdout, &output.stderr)
    }

    /// Starts the step the way the runner starts a composite action's `run:` step: `run_line`
    /// (the `run:` of the generated `action.yml`) is the last line of a script file that
    /// `bash --noprofile --norc -eo pipefail <file>` runs, with the binary in `GANTRY_EXE`.
    /// The bash process is the step's entry process, the one the runner signals.
    pub fn start_as_script(self, run_line: &str) -> RunningStep {
        let script = self.dir.path().join("step.sh");
        std::fs::write(&script, format!("set -e\n{run_line}\n")).expect("write the step script");
        let mut command = self.command(Path::new("bash"));
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .env("GANTRY_EXE", &self.binary)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start bash");
        let stdout = drain(child.stdout.take().expect("piped stdout"));
        let stderr = drain(child.stderr.take().expect("piped stderr"));
        RunningStep {
            run: self,
            child,
            stdout,
            stderr,
        }
    }

    /// The child command: a clean environment, the step's inputs and files.
    fn command(&self, program: &Path) -> Command {
        let mut child = Command::new(program);
        child.env_clear();
        if program == self.binary {
            child.args(&self.args);
        }
        for (name, value) in Env::from_process().iter() {
            if KEPT_VARIABLES.iter().any(|kept| name == *kept) {
                child.env(name, value);
            }
        }
        if self.in_actions {
            let output_path = self.dir.path().join("github_output");
            std::fs::write(&output_path, "").expect("create GITHUB_OUTPUT");
            child
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_OUTPUT", &output_path)
                .env("GITHUB_STEP_SUMMARY", self.dir.path().join("step_summary"));
        }
        child.envs(self.env.iter().map(|(k, v)| (k, v)));
        if let Some(cwd) = &self.cwd {
            child.current_dir(cwd);
        }
        child
    }

    fn transcript(&self, status: ExitStatus, stdout: &[u8], stderr: &[u8]) -> Transcript {
        let raw_outputs =
            std::fs::read_to_string(self.dir.path().join("github_output")).unwrap_or_default();
        Transcript {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(stdout).into_owned(),
            stderr: String::from_utf8_lossy(stderr).into_owned(),
            outputs: file_command::parse(&raw_outputs)
                .expect("GITHUB_OUTPUT parses as the runner parses it"),
            raw_outputs,
            summary: std::fs::read_to_string(self.dir.path().join("step_summary"))
                .unwrap_or_default(),
        }
    }
}

/// The `run:` line of the step that runs the binary (id `run`) in `actions/<action>/action.yml`,
/// as `cargo xtask codegen` generated it: what [`ActionRun::start_as_script`] should run.
pub fn generated_run_line(action: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../actions")
        .join(action)
        .join("action.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    let yml: serde_yaml::Value = serde_yaml::from_str(&text).expect("action.yml parses");
    yml["runs"]["steps"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|step| step["id"] == "run")
        .and_then(|step| step["run"].as_str())
        .expect("a step with id run")
        .to_owned()
}

/// Reads a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// A step started by [`ActionRun::start_as_script`], still running.
pub struct RunningStep {
    run: ActionRun,
    child: Child,
    stdout: JoinHandle<Vec<u8>>,
    stderr: JoinHandle<Vec<u8>>,
}

/// The runner's cancellation of a step: SIGINT, SIGTERM 7.5 s later, the kill 2.5 s after that
/// (actions/runner `ProcessInvoker`, GitHub's documentation on cancelling a workflow).
const SIGTERM_AFTER: Duration = Duration::from_millis(7_500);
const KILL_AFTER_SIGTERM: Duration = Duration::from_millis(2_500);

impl RunningStep {
    /// The entry process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Cancels the step as the runner does and collects the transcript; also says which signals
    /// were needed (`["SIGINT"]` when the step ended within the first 7.5 s).
    pub fn cancel_as_runner(mut self) -> (Transcript, Vec<&'static str>) {
        let mut sent = vec!["SIGINT"];
        self.signal("INT");
        if self.wait_for(SIGTERM_AFTER).is_none() {
            sent.push("SIGTERM");
            self.signal("TERM");
            if self.wait_for(KILL_AFTER_SIGTERM).is_none() {
                sent.push("SIGKILL");
                let _ = self.child.kill();
            }
        }
        (self.finish(), sent)
    }

    /// Waits for the step to end by itself.
    pub fn finish(mut self) -> Transcript {
        let status = self.child.wait().expect("wait for the step");
        let stdout = self.stdout.join().expect("stdout reader");
        let stderr = self.stderr.join().expect("stderr reader");
        self.run.transcript(status, &stdout, &stderr)
    }

    /// Sends a signal (`INT`, `TERM`) to the entry process, with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -s {name} {} failed", self.pid());
    }

    fn wait_for(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait().expect("poll the step") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
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

    /// Asserts the runner would obey nothing a hostile value smuggled in: the step's own masks,
    /// groups, annotations and debug lines only, and no output (`x`, `pwned`) that the hostile
    /// values in the hardening tests try to set.
    pub fn assert_no_injected_command(&self) {
        for command in self.commands() {
            assert!(
                matches!(
                    command.command.as_str(),
                    "add-mask" | "group" | "endgroup" | "notice" | "warning" | "error" | "debug"
                ),
                "obeyed {command:?}:\n{}",
                self.render()
            );
        }
        assert!(
            self.outputs
                .keys()
                .all(|name| name != "x" && name != "pwned"),
            "{}",
            self.render()
        );
    }

    /// Asserts every `::add-mask::` masks one of `secrets`, and nothing a value chose.
    pub fn assert_masks_only(&self, secrets: &[&str]) {
        for command in self.commands() {
            if command.command == "add-mask" {
                assert!(
                    secrets.contains(&command.data.as_str()),
                    "masked {:?}:\n{}",
                    command.data,
                    self.render()
                );
            }
        }
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
