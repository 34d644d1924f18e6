//! Step outputs: collected while the action runs and written once, all together, only on success
//! or on a refusal that carries them ([`crate::ActionError::Refused`]): to `GITHUB_OUTPUT` inside
//! Actions, as `name=value` lines or JSON outside.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::console::Console;
use crate::env::Env;
use crate::env_vars as vars;
use crate::error::ActionError;
use crate::file_command;
use crate::spec::ActionSpec;

/// Output values in the order they were set; setting a name twice replaces the value.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outputs(Vec<(String, String)>);

impl Outputs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets an output; the name must be declared in the action's spec (checked before writing).
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        match self.0.iter_mut().find(|(existing, _)| existing == name) {
            Some(entry) => entry.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Every name is declared by the spec: an undeclared output would silently never reach a
    /// workflow, so it is a bug in the action.
    pub(crate) fn check(&self, spec: &ActionSpec) -> Result<(), ActionError> {
        match self.0.iter().find(|(name, _)| spec.output(name).is_none()) {
            Some((name, _)) => {
                Err(anyhow::anyhow!("bug: output `{name}` is not declared by {}", spec.name).into())
            }
            None => Ok(()),
        }
    }

    /// The outputs as one JSON object, in order.
    pub fn to_json(&self) -> serde_json::Value {
        self.0
            .iter()
            .map(|(name, value)| (name.clone(), serde_json::Value::from(value.as_str())))
            .collect()
    }

    /// `name=value` lines; a multi-line value uses a heredoc with a delimiter that no line equals.
    pub fn to_lines(&self) -> String {
        let mut text = String::new();
        for (name, value) in &self.0 {
            if value.contains('\n') {
                let mut delimiter = String::from("EOF");
                while value.lines().any(|line| line == delimiter) {
                    delimiter.push('_');
                }
                let _ = writeln!(text, "{name}<<{delimiter}\n{value}\n{delimiter}");
            } else {
                let _ = writeln!(text, "{name}={value}");
            }
        }
        text
    }
}

/// Where outputs go, decided before the action runs so a broken environment fails first.
pub(crate) enum Sink {
    /// Inside Actions: the `GITHUB_OUTPUT` file.
    File(std::ffi::OsString),
    /// Outside Actions: stdout, as lines or JSON.
    Stdout { json: bool },
}

impl Sink {
    pub(crate) fn choose(env: &Env, json: bool) -> Result<Self, ActionError> {
        if !env.is(vars::GITHUB_ACTIONS, "true") {
            return Ok(Self::Stdout { json });
        }
        match env.raw(vars::GITHUB_OUTPUT).filter(|path| !path.is_empty()) {
            Some(path) => Ok(Self::File(path.to_owned())),
            None => Err(ActionError::environment(
                vars::GITHUB_OUTPUT,
                "is not set although GITHUB_ACTIONS=true; the runner sets it for every step, so run this inside a workflow step or unset GITHUB_ACTIONS to print outputs",
            )),
        }
    }

    pub(crate) fn write(
        &self,
        outputs: &Outputs,
        console: &mut Console<'_>,
    ) -> Result<(), ActionError> {
        match self {
            Self::Stdout { json: true } => {
                console.info(&serde_json::to_string_pretty(&outputs.to_json()).unwrap_or_default());
            }
            Self::Stdout { json: false } => console.info(outputs.to_lines().trim_end()),
            Self::File(path) => {
                let block = file_command::render(&outputs.0);
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|error| {
                        ActionError::environment(
                            vars::GITHUB_OUTPUT,
                            format!("cannot open {}: {error}", path.to_string_lossy()),
                        )
                    })?;
                file.write_all(block.as_bytes()).map_err(|error| {
                    ActionError::environment(
                        vars::GITHUB_OUTPUT,
                        format!("cannot write {}: {error}", path.to_string_lossy()),
                    )
                })?;
                console.group("Outputs");
                console.info(outputs.to_lines().trim_end());
                console.end_group();
            }
        }
        Ok(())
    }
}
