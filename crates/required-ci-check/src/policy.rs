//! Who may do what: the `allowed-*` lists (names or glob patterns, each checked against `needs`)
//! and the per-job policy they add up to.

use gantry_runner::ActionError;
use glob::Pattern;
use serde::{Serialize, Serializer};

use crate::needs::{JobResult, Needs};

/// Which non-success results a job may have without failing the gate. A job named in several
/// lists gets all their tolerances; `allowed-failures` tolerates every result, as in alls-green.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Required,
    AllowedSkip,
    AllowedCancel,
    AllowedSkipOrCancel,
    AllowedFailure,
}

impl Policy {
    fn from_lists(failure: bool, skip: bool, cancel: bool) -> Self {
        match (failure, skip, cancel) {
            (true, _, _) => Self::AllowedFailure,
            (false, true, true) => Self::AllowedSkipOrCancel,
            (false, true, false) => Self::AllowedSkip,
            (false, false, true) => Self::AllowedCancel,
            (false, false, false) => Self::Required,
        }
    }

    /// Whether a job under this policy may end with `result` without failing the gate.
    pub fn tolerates(self, result: JobResult) -> bool {
        matches!(
            (self, result),
            (_, JobResult::Success)
                | (Self::AllowedFailure, _)
                | (
                    Self::AllowedSkip | Self::AllowedSkipOrCancel,
                    JobResult::Skipped
                )
                | (
                    Self::AllowedCancel | Self::AllowedSkipOrCancel,
                    JobResult::Cancelled
                )
        )
    }

    /// The input that made a tolerated `result` acceptable.
    pub fn tolerating_input(self, result: JobResult) -> &'static str {
        match (self, result) {
            (Self::AllowedSkip | Self::AllowedSkipOrCancel, JobResult::Skipped) => ALLOWED_SKIPS,
            (Self::AllowedCancel | Self::AllowedSkipOrCancel, JobResult::Cancelled) => {
                ALLOWED_CANCELS
            }
            _ => ALLOWED_FAILURES,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::AllowedSkip => "allowed-skip",
            Self::AllowedCancel => "allowed-cancel",
            Self::AllowedSkipOrCancel => "allowed-skip-or-cancel",
            Self::AllowedFailure => "allowed-failure",
        }
    }

    /// What the policy asks of a job, for reasons: "required to succeed".
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Required => "required to succeed",
            Self::AllowedSkip => "allowed only to succeed or be skipped",
            Self::AllowedCancel => "allowed only to succeed or be cancelled",
            Self::AllowedSkipOrCancel => "allowed only to succeed, be skipped or be cancelled",
            Self::AllowedFailure => "allowed to fail",
        }
    }
}

impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

pub const ALLOWED_FAILURES: &str = "allowed-failures";
pub const ALLOWED_SKIPS: &str = "allowed-skips";
pub const ALLOWED_CANCELS: &str = "allowed-cancels";

/// One `allowed-*` input: job names or glob patterns.
#[derive(Debug, Clone, Default)]
pub struct Allowance {
    entries: Vec<String>,
}

impl Allowance {
    /// Parses a list the way alls-green does, plus newlines: a JSON array of strings, or names
    /// separated by commas or newlines (blank entries dropped).
    pub fn parse(input: &str, text: &str) -> Result<Self, ActionError> {
        let entries = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    serde_json::Value::String(name) => Ok(name.trim().to_owned()),
                    other => Err(ActionError::input(
                        input,
                        format!("the JSON list holds `{other}`; list job names as strings"),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => text
                .split([',', '\n'])
                .map(|entry| entry.trim().to_owned())
                .collect(),
        };
        Ok(Self {
            entries: entries
                .into_iter()
                .filter(|entry| !entry.is_empty())
                .collect(),
        })
    }

    /// The jobs this list names; every entry must name at least one job, so a typo is an error
    /// rather than a silently ignored rule.
    fn select<'a>(&self, input: &str, needs: &'a Needs) -> Result<Vec<&'a str>, ActionError> {
        let mut selected = Vec::new();
        for entry in &self.entries {
            let pattern = Pattern::new(entry);
            let before = selected.len();
            selected.extend(needs.keys().map(String::as_str).filter(|name| {
                name == entry || pattern.as_ref().is_ok_and(|pattern| pattern.matches(name))
            }));
            if selected.len() > before {
                continue;
            }
            let problem = match pattern {
                Err(error) => format!("`{entry}` is not a valid glob pattern ({error})"),
                Ok(_) => format!("`{entry}` matches no job in needs"),
            };
            let jobs: Vec<&str> = needs.keys().map(String::as_str).collect();
            return Err(ActionError::input(
                input,
                format!("{problem}; jobs are: {}", jobs.join(", ")),
            ));
        }
        Ok(selected)
    }
}

/// One needed job, with the policy the lists give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub name: String,
    pub result: JobResult,
    pub policy: Policy,
}

/// The three `allowed-*` inputs.
#[derive(Debug, Clone, Default)]
pub struct Allowances {
    pub failures: Allowance,
    pub skips: Allowance,
    pub cancels: Allowance,
}

impl Allowances {
    /// Each job with its policy, sorted by name; fails on the first list entry that names no job.
    pub fn apply(&self, needs: &Needs) -> Result<Vec<Job>, ActionError> {
        let failures = self.failures.select(ALLOWED_FAILURES, needs)?;
        let skips = self.skips.select(ALLOWED_SKIPS, needs)?;
        let cancels = self.cancels.select(ALLOWED_CANCELS, needs)?;
        Ok(needs
            .iter()
            .map(|(name, &result)| {
                let listed = |selected: &[&str]| selected.contains(&name.as_str());
                Job {
                    name: name.clone(),
                    result,
                    policy: Policy::from_lists(listed(&failures), listed(&skips), listed(&cancels)),
                }
            })
            .collect())
    }
}
