//! Inputs, phase two: the runner's trimmed strings turned into a validated [`Config`], with every
//! problem reported against the input that caused it.

use std::path::PathBuf;

use gantry_runner::{ActionError, Inputs};

use crate::decision::AllSkipped;
use crate::needs;
use crate::policy::{ALLOWED_CANCELS, ALLOWED_FAILURES, ALLOWED_SKIPS, Allowance, Allowances, Job};

pub const JOBS: &str = "jobs";
pub const JOBS_FILE: &str = "jobs-file";
pub const ALL_SKIPPED: &str = "all-skipped";
pub const DECISION_FILE: &str = "decision-file";
pub const SUMMARY: &str = "summary";

/// Everything the gate needs, validated.
#[derive(Debug)]
pub struct Config {
    /// Every needed job with its policy, sorted by name.
    pub jobs: Vec<Job>,
    pub all_skipped: AllSkipped,
    pub decision_file: Option<PathBuf>,
    pub summary: bool,
}

impl Config {
    pub fn from_inputs(inputs: &Inputs) -> Result<Self, ActionError> {
        let (source, text) = match (inputs.get(JOBS), inputs.get(JOBS_FILE)) {
            (Some(text), None) => (JOBS, text.to_owned()),
            (None, Some(path)) => (JOBS_FILE, read_jobs_file(path)?),
            (Some(_), Some(_)) => {
                return Err(ActionError::input(
                    JOBS_FILE,
                    "is set together with `jobs`; set exactly one of them",
                ));
            }
            (None, None) => {
                return Err(ActionError::input(
                    JOBS,
                    "is required: set it to `${{ toJSON(needs) }}`, or set `jobs-file` to a file holding that JSON",
                ));
            }
        };
        let needs = needs::parse(&text).map_err(|message| ActionError::input(source, message))?;
        let list = |name: &str| Allowance::parse(name, inputs.get(name).unwrap_or_default());
        let allowances = Allowances {
            failures: list(ALLOWED_FAILURES)?,
            skips: list(ALLOWED_SKIPS)?,
            cancels: list(ALLOWED_CANCELS)?,
        };
        let all_skipped = inputs.required(ALL_SKIPPED)?;
        let all_skipped = AllSkipped::parse(all_skipped).ok_or_else(|| {
            ActionError::input(
                ALL_SKIPPED,
                format!("`{all_skipped}` is not a policy; use `fail` or `pass`"),
            )
        })?;
        Ok(Self {
            jobs: allowances.apply(&needs)?,
            all_skipped,
            decision_file: inputs.get(DECISION_FILE).map(PathBuf::from),
            summary: inputs.flag(SUMMARY)?,
        })
    }
}

fn read_jobs_file(path: &str) -> Result<String, ActionError> {
    let bytes = std::fs::read(path)
        .map_err(|error| ActionError::input(JOBS_FILE, format!("cannot read `{path}`: {error}")))?;
    String::from_utf8(bytes).map_err(|_| {
        ActionError::input(
            JOBS_FILE,
            format!(
                "`{path}` is not valid UTF-8; it must hold the JSON of `${{{{ toJSON(needs) }}}}`"
            ),
        )
    })
}
