//! What the deploy tells people while it runs and afterwards: a log line for every step and every
//! change, a warning for every rate-limit wait, and a timeline (seconds since start) that the step
//! summary shows.

use std::time::{Duration, Instant};

use gantry_github::RateLimitLog;
use gantry_runner::Console;

/// The steps of the flow, as logs, errors and the summary name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Release,
    EnvFile,
    Lock,
    Edit,
    PullRequest,
    Checks,
    Merge,
    Verify,
    Cleanup,
    Record,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Self::Release => "1. resolve the release",
            Self::EnvFile => "2. choose the env file",
            Self::Lock => "3. lock the env file",
            Self::Edit => "4. edit the env file",
            Self::PullRequest => "5. branch and pull request",
            Self::Checks => "6-7. mirror and wait for checks",
            Self::Merge => "8. approve and merge",
            Self::Verify => "9. verify the deployment",
            Self::Cleanup => "10. clean up",
            Self::Record => "deployment record",
        }
    }
}

/// The log and the timeline.
pub struct Journal<'s, 'c> {
    console: &'s mut Console<'c>,
    started: Instant,
    pub timeline: Vec<(Duration, Stage, String)>,
    /// The clients' rate-limit waits, written before the next line.
    rate_limits: Vec<RateLimitLog>,
}

impl<'s, 'c> Journal<'s, 'c> {
    pub fn new(console: &'s mut Console<'c>, rate_limits: Vec<RateLimitLog>) -> Self {
        Self {
            console,
            started: Instant::now(),
            timeline: Vec::new(),
            rate_limits,
        }
    }

    /// Writes the rate-limit waits the clients made since the last line, as warnings.
    pub fn rate_limit_waits(&mut self) {
        for log in &self.rate_limits {
            log.warn(self.console);
        }
    }

    /// Logs a line and keeps it on the timeline.
    pub fn note(&mut self, stage: Stage, message: impl Into<String>) {
        self.rate_limit_waits();
        let message = message.into();
        let elapsed = self.started.elapsed();
        self.console.info(&format!(
            "[{:>6.1}s] {}: {message}",
            elapsed.as_secs_f64(),
            stage.label()
        ));
        self.timeline.push((elapsed, stage, message));
    }

    /// A warning annotation, also kept on the timeline.
    pub fn warn(&mut self, stage: Stage, message: impl Into<String>) {
        self.rate_limit_waits();
        let message = message.into();
        self.console
            .warning(&message, &gantry_runner::Annotation::titled("auto-deploy"));
        self.timeline
            .push((self.started.elapsed(), stage, format!("warning: {message}")));
    }
}
