//! The embedded default: 1.4.0 deploys, is verified and promoted; 1.5.0 cannot pull, is rolled
//! back, and stays a prerelease; the canary of 1.6.0, which answers a fifth of its requests with
//! 500, is caught by its first step's analysis and leaves the Deployment as it was.

use gantry_rehearse::{Layout, report};

use crate::common::{Rehearsed, differing_lines, rehearse_layout};

const GOOD: &str = "registry.example/acme/service:1.4.0";
const BAD: &str = "registry.example/acme/service:1.5.0";
const CANARY: &str = "registry.example/acme/service:1.6.0";

#[test]
fn a_good_and_a_bad_release_and_a_bad_canary_through_the_real_actions() {
    let run = rehearse_layout(Layout::embedded().unwrap());
    run.assert_all_held();
    let release = [
        "ticgen",
        "required-ci-check",
        "ticgen",
        "create-prerelease",
        "auto-deploy",
        "k8s-deploy",
    ];
    assert_eq!(
        run.actions(),
        [&release[..], &release[..], &["k8s-deploy"]].concat(),
        "{}",
        run.transcript
    );

    // The good release: merged by the bot with its one approval, one line of the env file.
    let number: u64 = run.output("auto-deploy", 0, "pr-number").parse().unwrap();
    assert_eq!(
        run.pull(number),
        (
            true,
            Some("deploy-bot".to_owned()),
            vec!["deploy-bot".to_owned()]
        )
    );
    let facts = &run.report.releases[0];
    assert_eq!(facts.landing_zone_pull.as_ref().unwrap().number, number);
    let (before, after) = run.env_file_around(&run.output("auto-deploy", 0, "merge-sha"));
    assert_eq!(
        differing_lines(&before, &after),
        [(
            "export IMAGE_VERSION=1.3.0".to_owned(),
            "export IMAGE_VERSION=1.4.0".to_owned()
        )]
    );
    assert_eq!(facts.env_lines_changed, 1);
    assert_eq!(run.output("k8s-deploy", 0, "image"), GOOD);
    assert!(!run.is_prerelease("v1.4.0"), "v1.4.0 was promoted");
    assert_eq!(facts.prerelease, Some(false));

    // The bad release: its merge landed too, the rollout failed fast and was rolled back.
    let bad = &run.report.releases[1];
    let (before, after) = run.env_file_around(&run.output("auto-deploy", 1, "merge-sha"));
    assert_eq!(differing_lines(&before, &after).len(), 1);
    assert!(after.contains("export IMAGE_VERSION=1.5.0"));
    assert_eq!(run.output("k8s-deploy", 1, "result"), "rolled-back");
    assert_eq!(run.output("auto-deploy", 1, "verified"), "false");
    assert_eq!(
        run.deployment(),
        (GOOD.to_owned(), "4".to_owned()),
        "back on 1.4.0, whose template got the newest revision"
    );
    assert_eq!(
        run.history(),
        [
            (
                "1".to_owned(),
                "registry.example/acme/service:1.3.0".to_owned()
            ),
            ("3".to_owned(), BAD.to_owned()),
            ("4".to_owned(), GOOD.to_owned()),
        ]
    );
    assert_eq!(
        bad.deployment.history,
        [
            (1, "registry.example/acme/service:1.3.0".to_owned()),
            (3, BAD.to_owned()),
            (4, GOOD.to_owned()),
        ]
    );
    assert_eq!(run.output("k8s-deploy", 1, "rollback-revision"), "2");
    assert!(run.is_prerelease("v1.5.0"), "v1.5.0 stays a prerelease");
    assert_eq!(bad.prerelease, Some(true));

    canary_caught_at_its_first_step(&run);
    dora_keys_of_the_deploys(&run);

    what_a_person_reads(&run);
}

/// The canary: measured at 20 % errors by its first step, removed, the Deployment untouched.
fn canary_caught_at_its_first_step(run: &Rehearsed) {
    let canary = run.report.steps.last().unwrap();
    assert_eq!(canary.transcript.code, 1, "{}", run.transcript);
    assert_eq!(run.output("k8s-deploy", 2, "result"), "failed");
    let error = canary.transcript.errors().pop().unwrap();
    assert!(
        error.contains(&format!("deploy of {CANARY} to preprod/service failed: canary step 1 (weight 25%: 1 of 3 pods) failed: analysis failed"))
            && error.ends_with("preprod/service-canary was removed and preprod/service left unchanged"),
        "{error}"
    );
    let step = canary
        .transcript
        .summary
        .lines()
        .find(|line| line.starts_with("| step 1 "))
        .unwrap_or_else(|| panic!("{}", canary.transcript.summary));
    assert!(step.contains(" (failed)"), "{step}");
    // The measured error ratio: counts of whole requests, so near the image's declared 0.2.
    let measured: f64 = error
        .split_once("(first failing measurement: ")
        .and_then(|(_, rest)| rest.split_once(" (failed)"))
        .and_then(|(value, _)| value.parse().ok())
        .unwrap_or_else(|| panic!("{error}"));
    assert!((0.15..0.25).contains(&measured), "{error}");
    assert!(run.canary().is_none(), "the canary Deployment is removed");
    assert_eq!(
        run.deployment(),
        (GOOD.to_owned(), "4".to_owned()),
        "the canary changed nothing of the Deployment"
    );
    assert_eq!(
        run.report.releases[1].deployment.generation,
        run.generation(),
        "the Deployment's spec unchanged since the bad release"
    );
}

/// The DORA keys of the deploys' records (one GitHub deployment per release, made by auto-deploy,
/// and one of the canary, made by k8s-deploy on main's head): 1.4.0 succeeded, 1.5.0 failed,
/// the 1.6.0 canary failed, and nothing restored either.
fn dora_keys_of_the_deploys(run: &Rehearsed) {
    let dora = run.report.dora.as_ref().expect("the records were read");
    assert_eq!(dora.scope.environment, "preprod");
    let keys = &dora.keys;
    assert_eq!(keys.deployments.len(), 3, "{:?}", keys.deployments);
    let canary = &keys.deployments[2];
    assert_eq!(
        (canary.reference.as_str(), canary.state),
        ("main", "failure"),
        "{canary:?}"
    );
    assert_eq!(keys.deployment_frequency.successful, 1);
    let rate = &keys.change_failure_rate;
    assert_eq!((rate.finished, rate.failed, rate.pending), (3, 2, 0));
    assert_eq!(rate.rate, Some(2.0 / 3.0), "change failure rate 2/3");
    let restore = &keys.time_to_restore;
    assert_eq!(
        (restore.failures, restore.restored, restore.unrestored),
        (2, 0, 2)
    );
}

/// What a person reads: one line per step, the timeline, the DORA keys, the report.
fn what_a_person_reads(run: &Rehearsed) {
    assert_eq!(
        run.transcript
            .lines()
            .filter(|l| l.starts_with('✓') || l.starts_with('✗'))
            .count(),
        13,
        "{}",
        run.transcript
    );
    let timeline = report::timeline_text(&run.report);
    assert_eq!(timeline.lines().count(), 14, "{timeline}");
    let html = report::html(&run.report, "rehearsal");
    assert!(html.contains("<svg"), "a timeline chart");
    assert!(
        html.contains("<h2>DORA keys of acme/service in preprod, "),
        "the DORA keys in the report"
    );
    assert!(
        html.contains(
            "<th>change failure rate</th><td>66.7% (2 of 3 finished deployments failed)</td>"
        ),
        "the change failure rate in the report"
    );
    assert_eq!(html.matches("<section").count(), 13);
    assert!(
        html.contains("<table>"),
        "summaries' tables rendered as HTML"
    );
    assert!(
        !html.contains("ghp_rehearsalDeployBotToken00001"),
        "no token in the report"
    );
}
