//! How the decision reaches people and workflows: log lines, the step-summary table and the
//! step outputs. Job names are untrusted text: log lines show them escaped and never start with
//! `::`, the summary shows them as code in escaped cells, and outputs carry them as JSON.

use gantry_runner::{Console, Outputs, Summary, summary};

use crate::decision::{Decision, Verdict};

/// The per-job log, in a group, then the decision in one line.
pub fn log(console: &mut Console<'_>, decision: &Decision) {
    console.group(&format!("Jobs ({})", decision.jobs.len()));
    for job in &decision.jobs {
        console.info(&format!(
            "job {}: {} ({}) → {}: {}",
            shown(&job.name),
            job.result,
            job.policy.as_str(),
            job.verdict.as_str(),
            job.reason
        ));
    }
    console.end_group();
    console.info(&format!(
        "Decision: {}: {}",
        decision.result, decision.reason
    ));
}

/// A name for a log line: in backticks, with control characters (newlines) escaped, so it can
/// neither start a line nor forge a workflow command.
pub fn shown(name: &str) -> String {
    format!("`{}`", name.escape_debug())
}

/// The heading, the one-line verdict and the table job | result | policy | verdict | reason.
pub fn summarize(summary: &mut Summary, decision: &Decision) {
    let icon = if decision.passed() { "✅" } else { "❌" };
    summary
        .heading(2, &format!("{icon} required-ci-check: {}", decision.result))
        .paragraph(&decision.reason)
        .table(
            &["job", "result", "policy", "verdict", "reason"],
            decision.jobs.iter().map(|job| {
                let icon = match job.verdict {
                    Verdict::Ok => "✅",
                    Verdict::Tolerated => "⚠️",
                    Verdict::Failed => "❌",
                };
                vec![
                    summary::code(&job.name),
                    job.result.to_string(),
                    job.policy.as_str().to_owned(),
                    format!("{icon} {}", job.verdict.as_str()),
                    job.reason.clone(),
                ]
            }),
        );
}

/// The step outputs; job lists are compact JSON arrays, ready for `fromJSON`.
pub fn outputs(decision: &Decision) -> Outputs {
    let list = |names: &[String]| serde_json::to_string(names).expect("names serialise");
    let mut outputs = Outputs::new();
    outputs
        .set("result", decision.result)
        .set("success", decision.passed().to_string())
        .set("failure", (!decision.passed()).to_string())
        .set("failed-jobs", list(&decision.failed))
        .set("cancelled-jobs", list(&decision.cancelled))
        .set("skipped-jobs", list(&decision.skipped))
        .set("blocking-jobs", list(&decision.blocking))
        .set("decision", decision.to_json());
    outputs
}
