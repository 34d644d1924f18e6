//! Properties over random `needs` and lists: the result follows the verdicts, the verdicts follow
//! the policies, the name lists partition the jobs, and input order never changes a byte.

use std::collections::BTreeMap;

use proptest::prelude::*;
use required_ci_check::decision::{AllSkipped, Verdict};
use required_ci_check::needs::JobResult;
use required_ci_check::policy::Policy;

use crate::common::{Lists, decide};

const RESULTS: [&str; 4] = ["success", "failure", "cancelled", "skipped"];

/// Job name → (result, in allowed-failures, in allowed-skips, in allowed-cancels).
fn jobs() -> impl Strategy<Value = BTreeMap<String, (&'static str, bool, bool, bool)>> {
    prop::collection::btree_map(
        "[a-d][a-z0-9-]{0,6}",
        (
            prop::sample::select(&RESULTS[..]),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        1..10,
    )
}

fn list(
    jobs: &BTreeMap<String, (&str, bool, bool, bool)>,
    pick: fn(&(&str, bool, bool, bool)) -> bool,
) -> String {
    jobs.iter()
        .filter(|(_, job)| pick(job))
        .map(|(name, _)| name.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

proptest! {
    #[test]
    fn decisions_are_consistent_and_order_independent(jobs in jobs(), pass_all_skipped in any::<bool>()) {
        let all_skipped = if pass_all_skipped { AllSkipped::Pass } else { AllSkipped::Fail };
        let (failures, skips, cancels) = (list(&jobs, |j| j.1), list(&jobs, |j| j.2), list(&jobs, |j| j.3));
        let lists = Lists { failures: &failures, skips: &skips, cancels: &cancels };
        let forward: Vec<(&str, &str)> = jobs.iter().map(|(name, job)| (name.as_str(), job.0)).collect();
        let backward: Vec<(&str, &str)> = forward.iter().rev().copied().collect();
        let decision = decide(&forward, &lists, all_skipped);
        prop_assert_eq!(decision.to_json(), decide(&backward, &lists, all_skipped).to_json());

        let everything_skipped = jobs.values().all(|job| job.0 == "skipped");
        for (job, (name, spec)) in decision.jobs.iter().zip(&jobs) {
            prop_assert_eq!(&job.name, name);
            prop_assert_eq!(job.result.as_str(), spec.0);
            let expected_policy = match (spec.1, spec.2, spec.3) {
                (true, _, _) => Policy::AllowedFailure,
                (false, true, true) => Policy::AllowedSkipOrCancel,
                (false, true, false) => Policy::AllowedSkip,
                (false, false, true) => Policy::AllowedCancel,
                (false, false, false) => Policy::Required,
            };
            prop_assert_eq!(job.policy, expected_policy);
            let expected_verdict = match (everything_skipped, all_skipped) {
                (true, AllSkipped::Fail) => Verdict::Failed,
                (true, AllSkipped::Pass) => Verdict::Tolerated,
                _ if job.result == JobResult::Success => Verdict::Ok,
                _ if job.policy.tolerates(job.result) => Verdict::Tolerated,
                _ => Verdict::Failed,
            };
            prop_assert_eq!(job.verdict, expected_verdict);
        }

        let blocking: Vec<&str> = decision.jobs.iter().filter(|job| job.verdict == Verdict::Failed).map(|job| job.name.as_str()).collect();
        prop_assert_eq!(&decision.blocking, &blocking);
        prop_assert_eq!(decision.passed(), blocking.is_empty());
        prop_assert_eq!(decision.result, if blocking.is_empty() { "success" } else { "failure" });
        let successes = decision.jobs.iter().filter(|job| job.result == JobResult::Success).count();
        prop_assert_eq!(decision.failed.len() + decision.cancelled.len() + decision.skipped.len() + successes, jobs.len());
    }
}
