//! The one exit-code policy and the errors that map onto it.

use crate::outputs::Outputs;

/// Exit code of a step that did its job.
pub const EXIT_SUCCESS: u8 = 0;
/// Exit code of a step whose job failed (a gate said no, a deploy failed, an API call failed).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a step given bad input or a broken environment; nothing was changed.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Why an action stopped.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// An input is missing or malformed. Exit code 2.
    #[error("input `{input}`: {message}")]
    Input { input: String, message: String },
    /// The runner environment is unusable (a variable missing or malformed). Exit code 2.
    #[error("environment variable `{variable}`: {message}")]
    Environment { variable: String, message: String },
    /// The action's job failed. Exit code 1.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
    /// The action did its job and the answer is "no" (a gate refused): the outputs are written
    /// as on success, then the step fails. Exit code 1.
    #[error("{error}")]
    Refused {
        outputs: Outputs,
        error: anyhow::Error,
    },
}

impl ActionError {
    /// A bad-input error naming the input; `message` should say what is wrong and what to do.
    pub fn input(input: &str, message: impl Into<String>) -> Self {
        Self::Input {
            input: input.to_owned(),
            message: message.into(),
        }
    }

    /// A refusal that still hands its outputs to the workflow (for example a gate's decision).
    pub fn refused(outputs: Outputs, error: anyhow::Error) -> Self {
        Self::Refused { outputs, error }
    }

    /// An unusable-environment error naming the variable.
    pub fn environment(variable: &str, message: impl Into<String>) -> Self {
        Self::Environment {
            variable: variable.to_owned(),
            message: message.into(),
        }
    }

    /// The documented exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Input { .. } | Self::Environment { .. } => EXIT_BAD_INPUT,
            Self::Failed(_) | Self::Refused { .. } => EXIT_FAILURE,
        }
    }

    /// The title of the final `::error` annotation.
    pub fn title(&self) -> &'static str {
        match self {
            Self::Input { .. } => "bad input",
            Self::Environment { .. } => "bad environment",
            Self::Failed(_) | Self::Refused { .. } => "failed",
        }
    }

    /// The message with its whole cause chain, `a: b: c`.
    pub fn full_message(&self) -> String {
        match self {
            Self::Failed(error) | Self::Refused { error, .. } => format!("{error:#}"),
            other => other.to_string(),
        }
    }
}

impl From<crate::env::NotUnicode> for ActionError {
    fn from(error: crate::env::NotUnicode) -> Self {
        Self::environment(&error.name, "is not valid UTF-8")
    }
}
