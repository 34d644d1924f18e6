//! The gate's decision: one verdict per job, the overall result, and its stable JSON form
//! (fixed key order, jobs sorted by name, byte-identical for identical input).

use serde::{Serialize, Serializer};

use crate::needs::JobResult;
use crate::policy::{Job, Policy};

/// Version of the decision JSON's shape; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// What the gate says when every job was skipped (the `all-skipped` input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllSkipped {
    Fail,
    Pass,
}

impl AllSkipped {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "fail" => Some(Self::Fail),
            "pass" => Some(Self::Pass),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "fail",
            Self::Pass => "pass",
        }
    }
}

/// How one job counts towards the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It succeeded.
    Ok,
    /// It did not succeed, and its policy allows that.
    Tolerated,
    /// It did not succeed, and its policy does not allow that: the gate fails.
    Failed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Tolerated => "tolerated",
            Self::Failed => "failed",
        }
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One job's line in the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobDecision {
    pub name: String,
    pub result: JobResult,
    pub policy: Policy,
    pub verdict: Verdict,
    /// Why, in words: "failed, but is required to succeed".
    pub reason: String,
}

/// The whole decision; field order is the JSON key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub version: u32,
    /// `success` or `failure`.
    pub result: &'static str,
    /// One line: "1 of 3 jobs failed the gate".
    pub reason: String,
    pub jobs: Vec<JobDecision>,
    /// Jobs by result (tolerated or not), then the jobs that failed the gate.
    pub failed: Vec<String>,
    pub cancelled: Vec<String>,
    pub skipped: Vec<String>,
    pub blocking: Vec<String>,
}

impl Decision {
    /// Judges every job (sorted by name, as [`crate::policy::Allowances::apply`] returns them).
    /// When every job was skipped, `all_skipped` overrides the per-job policies.
    pub fn decide(jobs: Vec<Job>, all_skipped: AllSkipped) -> Self {
        let everything_skipped = jobs.iter().all(|job| job.result == JobResult::Skipped);
        let jobs: Vec<JobDecision> = jobs
            .into_iter()
            .map(|job| {
                let (verdict, reason) = if everything_skipped {
                    let reason = format!(
                        "every job was skipped, and all-skipped is `{}`",
                        all_skipped.as_str()
                    );
                    match all_skipped {
                        AllSkipped::Fail => (Verdict::Failed, reason),
                        AllSkipped::Pass => (Verdict::Tolerated, reason),
                    }
                } else {
                    judge(job.result, job.policy)
                };
                JobDecision {
                    name: job.name,
                    result: job.result,
                    policy: job.policy,
                    verdict,
                    reason,
                }
            })
            .collect();
        let names = |keep: &dyn Fn(&JobDecision) -> bool| -> Vec<String> {
            jobs.iter()
                .filter(|job| keep(job))
                .map(|job| job.name.clone())
                .collect()
        };
        let failed = names(&|job| job.result == JobResult::Failure);
        let cancelled = names(&|job| job.result == JobResult::Cancelled);
        let skipped = names(&|job| job.result == JobResult::Skipped);
        let blocking = names(&|job| job.verdict == Verdict::Failed);
        let count = |verdict| jobs.iter().filter(|job| job.verdict == verdict).count();
        let (ok, tolerated) = (count(Verdict::Ok), count(Verdict::Tolerated));
        let total = jobs.len();
        let all = if total == 1 {
            "the only job".to_owned()
        } else {
            format!("all {total} jobs")
        };
        let reason = match (blocking.len(), everything_skipped) {
            (_, true) if total == 1 => format!(
                "the only job was skipped, and all-skipped is `{}`",
                all_skipped.as_str()
            ),
            (_, true) => format!(
                "all {total} jobs were skipped, and all-skipped is `{}`",
                all_skipped.as_str()
            ),
            (0, false) if tolerated == 0 => format!("{all} succeeded"),
            (0, false) => format!("{all} passed ({ok} succeeded, {tolerated} tolerated)"),
            (failing, false) => format!("{failing} of {total} jobs failed the gate"),
        };
        Self {
            version: SCHEMA_VERSION,
            result: if blocking.is_empty() {
                "success"
            } else {
                "failure"
            },
            reason,
            jobs,
            failed,
            cancelled,
            skipped,
            blocking,
        }
    }

    pub fn passed(&self) -> bool {
        self.blocking.is_empty()
    }

    /// The compact JSON form (the `decision` output).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a decision serialises")
    }

    /// The pretty JSON form with a final newline (the decision file).
    pub fn to_pretty_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a decision serialises");
        text.push('\n');
        text
    }

    /// The failure message: the reason, then each blocking job and why.
    pub fn failure_message(&self) -> String {
        if self.skipped.len() == self.jobs.len() {
            return format!(
                "{}: nothing was built or tested; set all-skipped to `pass` if skipping every job is legitimate",
                self.reason
            );
        }
        let details: Vec<String> = self
            .jobs
            .iter()
            .filter(|job| job.verdict == Verdict::Failed)
            .map(|job| format!("`{}` {}", job.name, job.reason))
            .collect();
        format!("{}: {}", self.reason, details.join("; "))
    }
}

/// One job's verdict under its policy, with the reason.
fn judge(result: JobResult, policy: Policy) -> (Verdict, String) {
    if result == JobResult::Success {
        (Verdict::Ok, "succeeded".to_owned())
    } else if policy.tolerates(result) {
        let input = policy.tolerating_input(result);
        (
            Verdict::Tolerated,
            format!("{}, tolerated by {input}", result.phrase()),
        )
    } else {
        (
            Verdict::Failed,
            format!("{}, but is {}", result.phrase(), policy.phrase()),
        )
    }
}
