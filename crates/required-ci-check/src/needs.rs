//! The `needs` context as `${{ toJSON(needs) }}` renders it: job name → `{"result": …}`, parsed
//! strictly, since anything else means the gate is not looking at the jobs it should judge.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// The conclusion of one needed job, as GitHub reports it in `needs.<job>.result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobResult {
    Success,
    Failure,
    Cancelled,
    Skipped,
}

impl JobResult {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }

    /// The result as a past-tense phrase: "failed", "was cancelled".
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Success => "succeeded",
            Self::Failure => "failed",
            Self::Cancelled => "was cancelled",
            Self::Skipped => "was skipped",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "success" => Some(Self::Success),
            "failure" => Some(Self::Failure),
            "cancelled" => Some(Self::Cancelled),
            "skipped" => Some(Self::Skipped),
            _ => None,
        }
    }
}

impl Serialize for JobResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for JobResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every needed job and its result, sorted by name (byte order) so reports are deterministic.
pub type Needs = BTreeMap<String, JobResult>;

/// Parses the JSON text of the `needs` context; the error says what is wrong and what to pass.
/// Each job's `outputs` and any other fields are ignored.
pub fn parse(text: &str) -> Result<Needs, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|error| format!("is not valid JSON ({error}); pass `${{{{ toJSON(needs) }}}}`"))?;
    let Value::Object(jobs) = value else {
        return Err(format!(
            "must be the JSON object `${{{{ toJSON(needs) }}}}` renders, not {}",
            kind(&value)
        ));
    };
    if jobs.is_empty() {
        return Err(
            "is an empty object: the job running this step has no `needs:`; \
             list every job the gate must judge under `needs:`"
                .to_owned(),
        );
    }
    jobs.into_iter()
        .map(|(name, job)| {
            let result = job_result(&name, &job)?;
            Ok((name, result))
        })
        .collect()
}

fn job_result(name: &str, job: &Value) -> Result<JobResult, String> {
    let Value::Object(fields) = job else {
        return Err(format!(
            "job `{name}` must be an object with a `result`, not {}",
            kind(job)
        ));
    };
    match fields.get("result") {
        None => Err(format!("job `{name}` has no `result`")),
        Some(Value::String(text)) => JobResult::parse(text).ok_or_else(|| {
            format!(
                "job `{name}` has result `{text}`; expected success, failure, cancelled or skipped"
            )
        }),
        Some(other) => Err(format!(
            "job `{name}` has a `result` that is {}, not a string",
            kind(other)
        )),
    }
}

/// "an array", "a number": what a JSON value is, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
