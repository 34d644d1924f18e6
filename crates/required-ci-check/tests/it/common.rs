//! Shared helpers: a `needs` JSON builder, an in-process decision, and a run of the binary.

use std::path::Path;

use gantry_testkit::{ActionRun, Transcript};
use required_ci_check::decision::{AllSkipped, Decision};
use required_ci_check::needs;
use required_ci_check::policy::{Allowance, Allowances};

/// `${{ toJSON(needs) }}` for these jobs, shaped as GitHub renders it.
pub fn needs_json(jobs: &[(&str, &str)]) -> String {
    let object: serde_json::Map<String, serde_json::Value> = jobs
        .iter()
        .map(|(name, result)| {
            (
                (*name).to_owned(),
                serde_json::json!({"result": result, "outputs": {}}),
            )
        })
        .collect();
    serde_json::to_string_pretty(&object).unwrap()
}

/// The allowance lists, as the three inputs would give them.
pub struct Lists<'a> {
    pub failures: &'a str,
    pub skips: &'a str,
    pub cancels: &'a str,
}

pub const NO_LISTS: Lists<'static> = Lists {
    failures: "",
    skips: "",
    cancels: "",
};

/// Decides in process, as the binary does after reading its inputs.
pub fn decide(jobs: &[(&str, &str)], lists: &Lists<'_>, all_skipped: AllSkipped) -> Decision {
    let needs = needs::parse(&needs_json(jobs)).unwrap();
    let allowances = Allowances {
        failures: Allowance::parse("allowed-failures", lists.failures).unwrap(),
        skips: Allowance::parse("allowed-skips", lists.skips).unwrap(),
        cancels: Allowance::parse("allowed-cancels", lists.cancels).unwrap(),
    };
    Decision::decide(allowances.apply(&needs).unwrap(), all_skipped)
}

/// A run of the real binary inside a simulated Actions step.
pub fn action() -> ActionRun {
    ActionRun::new(env!("CARGO_BIN_EXE_required-ci-check"))
}

/// The transcript for a snapshot, with a temp dir replaced by `[TMP]`.
pub fn render(transcript: &Transcript, temp: &Path) -> String {
    transcript
        .render()
        .replace(&temp.display().to_string(), "[TMP]")
}
