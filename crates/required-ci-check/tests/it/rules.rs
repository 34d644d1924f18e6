//! The decision rules as tables: alls-green's contract and smoke cases (ported from its
//! `job_outcome_test.py` and `smoke_test.py`), then `allowed-cancels`, globs, the all-skipped
//! policy, list syntax and determinism.

use required_ci_check::decision::{AllSkipped, Verdict};
use required_ci_check::needs::{self, JobResult};
use required_ci_check::policy::{Allowance, Allowances, Policy};

use crate::common::{Lists, NO_LISTS, decide, needs_json};

const RESULTS: [&str; 4] = ["success", "failure", "cancelled", "skipped"];

/// Every combination of list membership × result: which results pass the gate. alls-green's
/// contract for the first four rows; `allowed-cancels` rows are ours.
#[test]
fn every_policy_and_result_combination_matches_the_contract() {
    /// (in allowed-failures, in allowed-skips, in allowed-cancels) → policy, acceptable results.
    type Row = ((bool, bool, bool), Policy, &'static [&'static str]);
    let table: [Row; 8] = [
        ((false, false, false), Policy::Required, &["success"]),
        (
            (true, false, false),
            Policy::AllowedFailure,
            &["success", "failure", "cancelled", "skipped"],
        ),
        (
            (false, true, false),
            Policy::AllowedSkip,
            &["success", "skipped"],
        ),
        (
            (true, true, false),
            Policy::AllowedFailure,
            &["success", "failure", "cancelled", "skipped"],
        ),
        (
            (false, false, true),
            Policy::AllowedCancel,
            &["success", "cancelled"],
        ),
        (
            (false, true, true),
            Policy::AllowedSkipOrCancel,
            &["success", "cancelled", "skipped"],
        ),
        (
            (true, false, true),
            Policy::AllowedFailure,
            &["success", "failure", "cancelled", "skipped"],
        ),
        (
            (true, true, true),
            Policy::AllowedFailure,
            &["success", "failure", "cancelled", "skipped"],
        ),
    ];
    for ((failures, skips, cancels), policy, acceptable) in table {
        let lists = Lists {
            failures: if failures { "job" } else { "" },
            skips: if skips { "job" } else { "" },
            cancels: if cancels { "job" } else { "" },
        };
        for result in RESULTS {
            // A second job that ran keeps the all-skipped policy out of the way.
            let decision = decide(
                &[("job", result), ("other", "success")],
                &lists,
                AllSkipped::Fail,
            );
            let job = &decision.jobs[0];
            assert_eq!(
                job.policy,
                policy,
                "{lists:?} {result}",
                lists = (failures, skips, cancels)
            );
            assert_eq!(
                decision.passed(),
                acceptable.contains(&result),
                "{policy:?} with {result}: {}",
                decision.to_json()
            );
            let verdict = match (result, acceptable.contains(&result)) {
                ("success", _) => Verdict::Ok,
                (_, true) => Verdict::Tolerated,
                (_, false) => Verdict::Failed,
            };
            assert_eq!(job.verdict, verdict, "{policy:?} with {result}");
        }
    }
}

#[test]
fn one_verdict_per_job_as_in_alls_green_evaluate_jobs() {
    let decision = decide(
        &[
            ("required-job", "success"),
            ("failing-but-allowed", "failure"),
            ("skipped-but-required", "skipped"),
        ],
        &Lists {
            failures: "failing-but-allowed",
            ..NO_LISTS
        },
        AllSkipped::Fail,
    );
    let verdicts: Vec<_> = decision
        .jobs
        .iter()
        .map(|job| (job.name.as_str(), job.result, job.policy, job.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            (
                "failing-but-allowed",
                JobResult::Failure,
                Policy::AllowedFailure,
                Verdict::Tolerated
            ),
            (
                "required-job",
                JobResult::Success,
                Policy::Required,
                Verdict::Ok
            ),
            (
                "skipped-but-required",
                JobResult::Skipped,
                Policy::Required,
                Verdict::Failed
            ),
        ],
        "sorted by name"
    );
    assert_eq!(decision.blocking, ["skipped-but-required"]);
}

/// alls-green's `smoke_test.py` cases, by id; the empty-`needs` case is in `bad_input`.
#[test]
fn alls_green_smoke_cases() {
    struct Case<'a> {
        id: &'a str,
        lists: Lists<'a>,
        jobs: &'a [(&'a str, &'a str)],
        passes: bool,
        blocking: &'a [&'a str],
    }
    let cases = [
        Case {
            id: "success-despite-failure-and-skip",
            lists: Lists {
                failures: r#"["failing-job", "skipped-job"]"#,
                ..NO_LISTS
            },
            jobs: &[
                ("failing-job", "failure"),
                ("succeeding-job", "success"),
                ("skipped-job", "skipped"),
            ],
            passes: true,
            blocking: &[],
        },
        Case {
            id: "failure-due-to-skip",
            lists: Lists {
                failures: "check-links-markdown, nightly",
                skips: "[]",
                cancels: "",
            },
            jobs: &[
                ("build-web", "success"),
                ("check-links-book", "success"),
                ("check-links-markdown", "failure"),
                ("lint-megalinter", "success"),
                ("nightly", "failure"),
                ("publish-web", "skipped"),
                ("test-dotnet", "success"),
                ("test-elixir", "success"),
                ("test-java", "success"),
                ("test-js", "success"),
                ("test-lib", "success"),
                ("test-php", "success"),
                ("test-python", "success"),
                ("test-rust", "success"),
                ("test-rust-main", "success"),
            ],
            passes: false,
            blocking: &["publish-web"],
        },
        Case {
            id: "success-of-all-allowed-to-skip-or-fail",
            lists: Lists {
                failures: "succeeding-job",
                skips: "succeeding-job",
                cancels: "",
            },
            jobs: &[("succeeding-job", "success")],
            passes: true,
            blocking: &[],
        },
        // An xfail ("a bug to fix") in alls-green's suite; a job in both lists may fail here.
        Case {
            id: "success-of-some-allowed-to-skip-or-fail",
            lists: Lists {
                failures: "failing-job",
                skips: "failing-job",
                cancels: "",
            },
            jobs: &[("failing-job", "failure")],
            passes: true,
            blocking: &[],
        },
        Case {
            id: "everything-required",
            lists: NO_LISTS,
            jobs: &[("succeeding-job", "success")],
            passes: true,
            blocking: &[],
        },
    ];
    for case in cases {
        let decision = decide(case.jobs, &case.lists, AllSkipped::Fail);
        assert_eq!(decision.passed(), case.passes, "{}", case.id);
        assert_eq!(decision.blocking, case.blocking, "{}", case.id);
        assert_eq!(
            decision.result,
            if case.passes { "success" } else { "failure" },
            "{}",
            case.id
        );
    }
}

#[test]
fn allowed_cancels_tolerate_cancelled_only() {
    let lists = Lists {
        cancels: "deploy",
        ..NO_LISTS
    };
    let run = |result| {
        decide(
            &[("build", "success"), ("deploy", result)],
            &lists,
            AllSkipped::Fail,
        )
    };
    assert!(run("cancelled").passed());
    assert_eq!(
        run("cancelled").jobs[1].reason,
        "was cancelled, tolerated by allowed-cancels"
    );
    for result in ["failure", "skipped"] {
        let decision = run(result);
        assert!(!decision.passed(), "{result}");
        assert_eq!(
            decision.jobs[1].reason,
            format!(
                "{}, but is allowed only to succeed or be cancelled",
                if result == "failure" {
                    "failed"
                } else {
                    "was skipped"
                }
            )
        );
    }
}

#[test]
fn a_cancelled_required_job_fails_the_gate() {
    let decision = decide(&[("build", "cancelled")], &NO_LISTS, AllSkipped::Fail);
    assert!(!decision.passed());
    assert_eq!(decision.cancelled, ["build"]);
    assert_eq!(
        decision.failure_message(),
        "1 of 1 jobs failed the gate: `build` was cancelled, but is required to succeed"
    );
}

#[test]
fn globs_select_every_matching_job() {
    let jobs = [
        ("build", "success"),
        ("test-linux", "failure"),
        ("test-macos", "cancelled"),
        ("test-windows", "skipped"),
        ("lint-a", "failure"),
        ("lint-b", "success"),
    ];
    let decision = decide(
        &jobs,
        &Lists {
            failures: "test-*\nlint-?",
            ..NO_LISTS
        },
        AllSkipped::Fail,
    );
    assert!(decision.passed(), "{}", decision.to_json());
    let policies: Vec<_> = decision
        .jobs
        .iter()
        .map(|job| (job.name.as_str(), job.policy))
        .collect();
    assert_eq!(
        policies,
        [
            ("build", Policy::Required),
            ("lint-a", Policy::AllowedFailure),
            ("lint-b", Policy::AllowedFailure),
            ("test-linux", Policy::AllowedFailure),
            ("test-macos", Policy::AllowedFailure),
            ("test-windows", Policy::AllowedFailure),
        ]
    );
    let classes = decide(
        &jobs,
        &Lists {
            skips: "test-[wx]*",
            ..NO_LISTS
        },
        AllSkipped::Fail,
    );
    assert_eq!(classes.jobs[5].policy, Policy::AllowedSkip);
    assert_eq!(classes.jobs[4].policy, Policy::Required);
}

#[test]
fn a_name_with_glob_characters_matches_itself() {
    let decision = decide(
        &[("odd[name", "failure"), ("build", "success")],
        &Lists {
            failures: "odd[name",
            ..NO_LISTS
        },
        AllSkipped::Fail,
    );
    assert!(decision.passed(), "{}", decision.to_json());
}

#[test]
fn every_list_entry_must_match_a_job() {
    let needs = needs::parse(&needs_json(&[("build", "success"), ("deploy", "skipped")])).unwrap();
    for (input, text, message) in [
        (
            "allowed-skips",
            "deploi",
            "input `allowed-skips`: `deploi` matches no job in needs; jobs are: build, deploy",
        ),
        (
            "allowed-failures",
            "build, test-*",
            "input `allowed-failures`: `test-*` matches no job in needs; jobs are: build, deploy",
        ),
        (
            "allowed-cancels",
            "Build",
            "input `allowed-cancels`: `Build` matches no job in needs; jobs are: build, deploy",
        ),
        (
            "allowed-skips",
            "dep[loy",
            "input `allowed-skips`: `dep[loy` is not a valid glob pattern (Pattern syntax error near position 3: invalid range pattern); jobs are: build, deploy",
        ),
    ] {
        let mut allowances = Allowances::default();
        let list = Allowance::parse(input, text).unwrap();
        match input {
            "allowed-failures" => allowances.failures = list,
            "allowed-skips" => allowances.skips = list,
            _ => allowances.cancels = list,
        }
        let error = allowances.apply(&needs).unwrap_err();
        assert_eq!(error.to_string(), message);
        assert_eq!(error.exit_code(), 2);
    }
}

#[test]
fn lists_take_commas_newlines_or_a_json_array() {
    let jobs = [("a", "failure"), ("b", "failure"), ("c", "failure")];
    for text in [
        "a,b,c",
        " a , b ,, c ,",
        "a\nb\n\nc\n",
        "a, b\nc",
        r#"["a", "b", "c"]"#,
        r#"[" a", "", "b", "c"]"#,
    ] {
        let decision = decide(
            &jobs,
            &Lists {
                failures: text,
                ..NO_LISTS
            },
            AllSkipped::Fail,
        );
        assert!(decision.passed(), "{text:?}: {}", decision.to_json());
    }
    let error = Allowance::parse("allowed-failures", r#"["a", 1]"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "input `allowed-failures`: the JSON list holds `1`; list job names as strings"
    );
}

#[test]
fn all_skipped_fail_fails_even_allowed_skips() {
    let jobs = [("build", "skipped"), ("test", "skipped")];
    let decision = decide(
        &jobs,
        &Lists {
            skips: "*",
            ..NO_LISTS
        },
        AllSkipped::Fail,
    );
    assert!(!decision.passed());
    assert_eq!(decision.blocking, ["build", "test"]);
    assert_eq!(
        decision.reason,
        "all 2 jobs were skipped, and all-skipped is `fail`"
    );
    assert!(
        decision
            .jobs
            .iter()
            .all(|job| job.reason == "every job was skipped, and all-skipped is `fail`")
    );
    assert_eq!(
        decision.failure_message(),
        "all 2 jobs were skipped, and all-skipped is `fail`: nothing was built or tested; set all-skipped to `pass` if skipping every job is legitimate"
    );
}

#[test]
fn all_skipped_pass_passes_even_required_jobs() {
    let decision = decide(&[("build", "skipped")], &NO_LISTS, AllSkipped::Pass);
    assert!(decision.passed());
    assert_eq!(decision.jobs[0].verdict, Verdict::Tolerated);
    assert_eq!(
        decision.reason,
        "the only job was skipped, and all-skipped is `pass`"
    );
}

#[test]
fn all_skipped_does_not_apply_once_any_job_ran() {
    let jobs = [("build", "skipped"), ("test", "failure")];
    for policy in [AllSkipped::Fail, AllSkipped::Pass] {
        let decision = decide(
            &jobs,
            &Lists {
                skips: "build",
                ..NO_LISTS
            },
            policy,
        );
        assert_eq!(decision.blocking, ["test"], "{policy:?}");
        assert_eq!(decision.jobs[0].verdict, Verdict::Tolerated, "{policy:?}");
    }
}

#[test]
fn reasons_count_successes_and_tolerated_jobs() {
    let all_ok = decide(
        &[("a", "success"), ("b", "success")],
        &NO_LISTS,
        AllSkipped::Fail,
    );
    assert_eq!(all_ok.reason, "all 2 jobs succeeded");
    let only = decide(&[("a", "success")], &NO_LISTS, AllSkipped::Fail);
    assert_eq!(only.reason, "the only job succeeded");
    let tolerated = decide(
        &[("a", "success"), ("b", "failure"), ("c", "skipped")],
        &Lists {
            failures: "b",
            skips: "c",
            cancels: "",
        },
        AllSkipped::Fail,
    );
    assert_eq!(
        tolerated.reason,
        "all 3 jobs passed (1 succeeded, 2 tolerated)"
    );
}

#[test]
fn the_decision_json_is_byte_identical_whatever_the_input_order() {
    let forward = decide(
        &[("b", "failure"), ("a", "success"), ("c", "cancelled")],
        &Lists {
            failures: "b,c",
            ..NO_LISTS
        },
        AllSkipped::Fail,
    );
    let backward = decide(
        &[("c", "cancelled"), ("a", "success"), ("b", "failure")],
        &Lists {
            failures: "c\nb",
            ..NO_LISTS
        },
        AllSkipped::Fail,
    );
    assert_eq!(forward.to_json(), backward.to_json());
    assert_eq!(
        forward.to_json(),
        r#"{"version":1,"result":"success","reason":"all 3 jobs passed (1 succeeded, 2 tolerated)","jobs":[{"name":"a","result":"success","policy":"required","verdict":"ok","reason":"succeeded"},{"name":"b","result":"failure","policy":"allowed-failure","verdict":"tolerated","reason":"failed, tolerated by allowed-failures"},{"name":"c","result":"cancelled","policy":"allowed-failure","verdict":"tolerated","reason":"was cancelled, tolerated by allowed-failures"}],"failed":["b"],"cancelled":["c"],"skipped":[],"blocking":[]}"#
    );
}
