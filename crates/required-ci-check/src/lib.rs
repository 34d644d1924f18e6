//! `required-ci-check`: one required status for a whole workflow. It judges every job in `needs`
//! by alls-green's rules plus `allowed-cancels` and an all-skipped policy ([`decision`]), checks
//! that every job the rules name exists ([`policy`]), and reports the decision as outputs, JSON,
//! a file and a summary table ([`report`]), failing the step when the gate says no.

mod artifact;
pub mod config;
pub mod decision;
pub mod needs;
pub mod policy;
pub mod report;

use gantry_runner::{ActionError, ActionSpec, InputSpec, OutputSpec, Outputs, Step};

use crate::config::Config;
use crate::decision::Decision;

pub static SPEC: ActionSpec = ActionSpec {
    name: "required-ci-check",
    title: "required-ci-check: one required status for the whole workflow",
    description: "Judges every job this job `needs` and passes only if each one ended as its policy allows: \
        required jobs must succeed; `allowed-failures` may end any way, `allowed-skips` may be skipped, \
        `allowed-cancels` may be cancelled (alls-green's rules, plus cancels). Every name or glob in those \
        lists must match a job in `needs`, so a typo is an error, not a silent pass, and an explicit \
        `all-skipped` policy decides what a run where nothing ran means. Make this job the one required \
        status check in branch protection. It reports the decision as outputs, as JSON (also written to \
        `decision-file` for an artifact) and as a step-summary table. Exit codes: 0 the gate passed; \
        1 the gate failed (outputs, file and summary are still written); 2 bad input (nothing is written).",
    inputs: &[
        InputSpec::optional(
            "jobs",
            "",
            "The `needs` context as JSON: always the expression `toJSON(needs)`, in a job whose `needs:` lists every \
             job the gate judges (and which runs with `if: always()`, or a failed job would skip the gate). \
             Each job's `result` must be success, failure, cancelled or skipped. Set this or `jobs-file`, \
             not both; it reaches the binary through the environment, never through a shell script.",
        ),
        InputSpec::optional(
            "jobs-file",
            "",
            "Path of a file holding the same JSON as `jobs`, for a `needs` context saved or assembled by \
             an earlier step. Set this or `jobs`, not both.",
        ),
        InputSpec::optional(
            "allowed-failures",
            "",
            "Jobs that may end any way (failure, cancelled, skipped or success) without failing the gate. \
             Job names or glob patterns such as `lint-*`, separated by commas or newlines, or a JSON list of \
             strings. Every entry must match at least one job in `needs`: a typo is an input error.",
        ),
        InputSpec::optional(
            "allowed-skips",
            "",
            "Jobs that may be skipped (or succeed) without failing the gate; failing or being cancelled \
             still fails it. Same syntax and checks as `allowed-failures`.",
        ),
        InputSpec::optional(
            "allowed-cancels",
            "",
            "Jobs that may be cancelled (or succeed) without failing the gate, e.g. a slow optional job \
             someone may cancel by hand; failing or being skipped still fails it. Same syntax \
             and checks as `allowed-failures`. A job named in several lists gets all their allowances.",
        ),
        InputSpec::optional(
            "all-skipped",
            "fail",
            "What the gate says when every job in `needs` was skipped, overriding the per-job rules. \
             `fail`: the gate fails even if every skip is allowed, because nothing was built or tested \
             (often an `if:` that is always false). `pass`: the gate passes even for required jobs, for \
             workflows where skipping everything is legitimate (e.g. path filters on a docs-only change). \
             When at least one job ran, only the per-job rules decide.",
        ),
        InputSpec::optional(
            "decision-file",
            "",
            "Path to write the decision JSON to (the `decision` output, pretty-printed), e.g. \
             `ci-decision.json` in the workspace, for `actions/upload-artifact`. Missing directories are \
             created and the file is replaced atomically. Written whether the gate passes or fails, not on \
             bad input. Empty: no file.",
        ),
        InputSpec::optional(
            "summary",
            "true",
            "Whether to add the decision to the step summary: a one-line verdict and a table of job, \
             result, policy, verdict and reason.",
        ),
    ],
    outputs: &[
        OutputSpec::new(
            "result",
            "`success` or `failure`: the gate's decision. Also set when the gate fails (the step then \
             fails), so a later step with `if: always()` can read every output.",
        ),
        OutputSpec::new("success", "`true` when the gate passed, else `false`."),
        OutputSpec::new("failure", "`true` when the gate failed, else `false`."),
        OutputSpec::new(
            "failed-jobs",
            "JSON array of the jobs whose result is `failure`, allowed or not, sorted by name; `[]` when \
             none. Read it with `fromJSON`.",
        ),
        OutputSpec::new(
            "cancelled-jobs",
            "JSON array of the jobs whose result is `cancelled`, allowed or not, sorted by name.",
        ),
        OutputSpec::new(
            "skipped-jobs",
            "JSON array of the jobs whose result is `skipped`, allowed or not, sorted by name.",
        ),
        OutputSpec::new(
            "blocking-jobs",
            "JSON array of the jobs that made the gate fail (verdict `failed`), sorted by name; `[]` when \
             it passed.",
        ),
        OutputSpec::new(
            "decision",
            "The whole decision as compact JSON, byte-identical for identical input: `version` (1), `result`, \
             `reason`, `jobs` (sorted by name, each with `name`, `result`, `policy`, `verdict`, `reason`), \
             then the name lists `failed`, `cancelled`, `skipped` and `blocking`. `policy` is one of \
             required, allowed-skip, allowed-cancel, allowed-skip-or-cancel, allowed-failure; `verdict` is \
             ok, tolerated or failed.",
        ),
    ],
};

/// Decides, reports, and fails the step (with the outputs written) when the gate says no.
pub fn run(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
    let config = Config::from_inputs(&step.inputs)?;
    let decision = Decision::decide(config.jobs, config.all_skipped);
    report::log(&mut step.console, &decision);
    if let Some(path) = &config.decision_file {
        artifact::write_atomically(path, &decision.to_pretty_json()).map_err(|error| {
            ActionError::input(
                config::DECISION_FILE,
                format!("cannot write `{}`: {error}", path.display()),
            )
        })?;
        step.console.info(&format!(
            "Decision written to {}",
            report::shown(&path.to_string_lossy())
        ));
    }
    if config.summary {
        report::summarize(&mut step.summary, &decision);
    }
    let outputs = report::outputs(&decision);
    if decision.passed() {
        Ok(outputs)
    } else {
        Err(ActionError::refused(
            outputs,
            anyhow::anyhow!(decision.failure_message()),
        ))
    }
}
