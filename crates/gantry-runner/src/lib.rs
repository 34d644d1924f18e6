//! The GitHub Actions runner protocol, and the only crate that speaks it: inputs from `INPUT_*` or
//! the command line, outputs to `GITHUB_OUTPUT`, workflow commands and masking on stdout, the step
//! summary, and one exit-code policy. Every action binary is `gantry_runner::main(&SPEC, run)`.

#[cfg(feature = "async")]
pub mod cancel;
pub mod certificate;
mod cli;
pub mod command;
pub mod console;
pub mod context;
pub mod env;
pub mod env_vars;
pub mod error;
pub mod file_command;
pub mod inputs;
pub mod no_proxy;
pub mod outputs;
pub mod secret;
pub mod spec;
pub mod summary;
pub use cli::SUITE_VERSION;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

pub use console::{Annotation, Console};
pub use context::{GithubContext, NetworkSettings, api_token};
pub use env::Env;
pub use error::{ActionError, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_SUCCESS};
pub use inputs::Inputs;
pub use outputs::Outputs;
pub use secret::Secret;
pub use spec::{ActionSpec, InputSpec, OutputSpec};
pub use summary::Summary;

/// Everything an action's `run` function gets: typed access to its inputs, the run's context, the
/// console and the summary. Outputs are returned, not written, so they appear all or not at all.
pub struct Step<'a> {
    pub spec: &'static ActionSpec,
    pub inputs: Inputs,
    pub console: Console<'a>,
    pub summary: Summary,
    env: Env,
    context: Option<GithubContext>,
}

impl Step<'_> {
    /// The `GITHUB_*` context, read on first use.
    pub fn context(&mut self) -> Result<&GithubContext, ActionError> {
        if self.context.is_none() {
            self.context = Some(GithubContext::from_env(&self.env)?);
        }
        Ok(self.context.get_or_insert_with(GithubContext::default))
    }

    /// The environment snapshot, for the few documented variables an action reads itself
    /// (for example `SOURCE_DATE_EPOCH`).
    pub fn env(&self) -> &Env {
        &self.env
    }

    /// The step's cancellation token (see [`cancel`]): cancelled by the runner's SIGINT/SIGTERM.
    #[cfg(feature = "async")]
    pub fn cancellation(&self) -> cancel::Cancellation {
        cancel::token()
    }

    /// Whether the step runs inside GitHub Actions (`GITHUB_ACTIONS=true`).
    pub fn in_actions(&self) -> bool {
        self.env.is(env_vars::GITHUB_ACTIONS, "true")
    }
}

/// The body of an action: reads inputs, does the work, returns the outputs.
pub type RunFn = fn(&mut Step<'_>) -> Result<Outputs, ActionError>;

/// Runs an action as a process: reads the real environment and arguments, writes to stdout.
/// With the `async` feature it first catches the runner's cancellation signals ([`cancel`]).
pub fn main(spec: &'static ActionSpec, run: RunFn) -> ExitCode {
    #[cfg(feature = "async")]
    let signals = cancel::install();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    #[cfg(feature = "async")]
    if let Err(error) = signals {
        let mut console = Console::new(&mut out, false);
        console.warning(
            &format!("cannot catch cancellation signals; a cancelled step ends abruptly: {error}"),
            &Annotation::titled(spec.name),
        );
        console.flush();
    }
    let code = run_with(
        spec,
        Env::from_process(),
        std::env::args_os(),
        &mut out,
        run,
    );
    ExitCode::from(code)
}

/// Runs an action against a given environment, argument list and stdout; returns the exit code.
pub fn run_with(
    spec: &'static ActionSpec,
    env: Env,
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    run: RunFn,
) -> u8 {
    let debug = env.is(env_vars::RUNNER_DEBUG, "1");
    let mut console = Console::new(out, debug);
    let parsed = match cli::parse(spec, args) {
        Ok(cli::Parsed::Run(parsed)) => parsed,
        Ok(cli::Parsed::Print(text)) => {
            console.info(text.trim_end());
            return EXIT_SUCCESS;
        }
        Err(error) => return fail(&mut console, spec, &error),
    };
    let sink = match outputs::Sink::choose(&env, parsed.json) {
        Ok(sink) => sink,
        Err(error) => return fail(&mut console, spec, &error),
    };
    let inputs = match Inputs::resolve(spec, &parsed.flags, &env) {
        Ok(inputs) => inputs,
        Err(error) => return fail(&mut console, spec, &error),
    };
    for secret in inputs.secrets() {
        console.add_mask(secret);
    }
    let summary_path = env
        .non_empty(env_vars::GITHUB_STEP_SUMMARY)
        .ok()
        .flatten()
        .map(OsString::from);
    let mut step = Step {
        spec,
        inputs,
        console,
        summary: Summary::default(),
        env,
        context: None,
    };
    let (outputs, refusal) = match run(&mut step) {
        Ok(outputs) => (Some(outputs), None),
        Err(ActionError::Refused { outputs, error }) => (Some(outputs), Some(error.into())),
        Err(error) => (None, Some(error)),
    };
    let Step {
        mut console,
        summary,
        ..
    } = step;
    let written = outputs.map_or(Ok(()), |outputs| {
        outputs.check(spec)?;
        sink.write(&outputs, &mut console)
    });
    // A failure to write the outputs outranks a refusal: the workflow would miss the outputs.
    let code = match written.err().or(refusal) {
        None => EXIT_SUCCESS,
        Some(error) => fail(&mut console, spec, &error),
    };
    if let Some(path) = summary_path.filter(|_| !summary.is_empty()) {
        let markdown = console.redact(&summary.render());
        if let Err(error) = append(&path, &markdown) {
            console.warning(
                &format!("could not write the step summary: {error}"),
                &Annotation::titled(spec.name),
            );
        }
    }
    console.flush();
    code
}

/// The single-threaded async runtime a networked action runs its work on.
#[cfg(feature = "async")]
pub fn runtime() -> Result<tokio::runtime::Runtime, ActionError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            ActionError::Failed(
                anyhow::Error::new(error).context("failed to start the async runtime"),
            )
        })
}

/// Reports the one final `::error` and returns the documented exit code.
fn fail(console: &mut Console<'_>, spec: &ActionSpec, error: &ActionError) -> u8 {
    let title = format!("{}: {}", spec.name, error.title());
    console.error(&error.full_message(), &Annotation::titled(title));
    console.flush();
    error.exit_code()
}

fn append(path: &OsString, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}
