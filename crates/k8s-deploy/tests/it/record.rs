//! Stories: each deploy recorded as a GitHub deployment of the run's commit in the run's
//! repository, read back from github-sim: a deploy, an unchanged re-run, a rollback, a failed
//! canary, a cancelled deploy rolled back, nothing deployed, a dry-run and the switch off, a token
//! without deployments permission, and bad input.

use std::time::Duration;

use github_sim::deployments::Deployment;
use github_sim::{Access, RepoPermissions, SimHandle, World};
use kube_sim::KubeSim;

use crate::canary::sim_with_service;
use crate::common::{
    CRASHING, DEPLOYMENT, GOOD, NEVER_READY, NEXT, UNPULLABLE, assert_exit, generated_run_line,
    image, sim,
};

const SERVICE: &str = "acme/service";
const WORKFLOW_TOKEN: &str = "ghs_workflowtoken0123456789";
const RUN_URL: &str = "https://github.example/acme/service/actions/runs/4242";

/// A GitHub holding the service repository, its releases v1.1.0 and v1.2.0 on two commits.
fn github() -> SimHandle {
    let world = format!(
        r"
identities:
  - login: github-actions
    kind: github_token
    tokens: [{WORKFLOW_TOKEN}]
repos:
  - name: {SERVICE}
    branches:
      main:
        files: {{ README.md: 'service' }}
      next:
        from: main
        files: {{ README.md: 'service 2' }}
    tags:
      v1.1.0: main
      v1.2.0: next
"
    );
    SimHandle::spawn(World::from_yaml(&world).expect("world parses")).expect("github-sim starts")
}

fn sha_of(github: &SimHandle, tag: &str) -> String {
    github.world(|w| w.repos[SERVICE].resolve(&w.objects, tag).unwrap().hex())
}

/// k8s-deploy of `image` in the workflow of the release `tag`, recording in `github`.
fn action(
    cluster: &KubeSim,
    github: &SimHandle,
    tag: &str,
    image: &str,
) -> gantry_testkit::ActionRun {
    crate::common::action(cluster, image)
        .env("GITHUB_API_URL", github.url())
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_SHA", sha_of(github, tag))
        .env("GITHUB_REF_NAME", tag)
        .input("record-deployment", "true")
        .input("github-token", WORKFLOW_TOKEN)
}

/// The deployments of the service repository, oldest first, each with its statuses oldest first.
fn deployments(github: &SimHandle) -> Vec<Deployment> {
    github.world(|w| w.repos[SERVICE].deployments.clone())
}

fn states(recorded: &Deployment) -> Vec<&str> {
    recorded.statuses.iter().map(|s| s.state.as_str()).collect()
}

/// The description of the status at `index`.
fn said(recorded: &Deployment, index: usize) -> &str {
    &recorded.statuses[index].description
}

#[test]
fn a_deploy_is_recorded_on_the_run_commit_and_a_rerun_continues_it() {
    let cluster = sim();
    let github = github();
    let deploy = || {
        action(&cluster, &github, "v1.1.0", NEXT)
            .input("environment-url", "https://prod.acme.example")
            .run()
    };
    let run = deploy();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed");
    let recorded = deployments(&github);
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let first = &recorded[0];
    assert_eq!(
        first.sha.hex(),
        sha_of(&github, "v1.1.0"),
        "the run's commit"
    );
    assert_eq!(first.git_ref, "v1.1.0", "the run's ref");
    assert_eq!(
        first.environment, "prod",
        "no env file: named after the namespace"
    );
    assert_eq!(states(first), ["in_progress", "success"]);
    assert_eq!(said(first, 0), format!("deploying {NEXT}"));
    assert_eq!(said(first, 1), format!("{NEXT} deployed and verified"));
    assert_eq!(first.statuses[1].log_url, RUN_URL, "log_url is the run");
    assert_eq!(
        first.statuses[1].environment_url,
        "https://prod.acme.example"
    );
    let id = first.id;
    assert!(
        run.stdout.contains(&format!(
            "Recording deployment {id} of v1.1.0 in environment prod of acme/service"
        )) && run.stdout.contains(&format!("Deployment {id} is success")),
        "{}",
        run.stdout
    );
    let row = format!(
        "| GitHub deployment | {id} of `v1.1.0` in environment `prod` of acme/service: success |"
    );
    assert!(run.summary.contains(&row), "{}", run.summary);

    // The re-run finds the image running: the same deployment, successful again.
    let rerun = deploy();
    assert_exit(&rerun, 0);
    assert_eq!(rerun.output("result"), "unchanged");
    let recorded = deployments(&github);
    assert_eq!(recorded.len(), 1, "no duplicate: {recorded:?}");
    assert_eq!(
        states(&recorded[0]),
        ["in_progress", "success", "in_progress", "success"]
    );
    assert_eq!(said(&recorded[0], 3), format!("{NEXT} already running"));
    let events = github.events();
    assert_eq!(events.iter().filter(|e| e.event == "deployment").count(), 1);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event == "deployment_status")
            .count(),
        4
    );
}

#[test]
fn a_rollback_is_a_failure_with_the_reason() {
    let cluster = sim();
    let github = github();
    assert_exit(&action(&cluster, &github, "v1.1.0", NEXT).run(), 0);
    let run = action(&cluster, &github, "v1.2.0", UNPULLABLE).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back");
    assert_eq!(image(&cluster), NEXT);
    let recorded = deployments(&github);
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(recorded[1].git_ref, "v1.2.0");
    assert_eq!(states(&recorded[1]), ["in_progress", "failure"]);
    let reason = said(&recorded[1], 1);
    assert!(
        reason.starts_with("rolled back: ") && reason.contains("ErrImagePull"),
        "{reason}"
    );
    assert!(reason.chars().count() <= 140, "{reason}");
    assert_eq!(
        states(&recorded[0]),
        ["in_progress", "success"],
        "a failure replaces nothing"
    );
}

#[test]
fn a_failed_canary_is_a_failure_and_its_deployment_is_untouched() {
    let cluster = sim_with_service("");
    let github = github();
    let run = action(&cluster, &github, "v1.2.0", CRASHING)
        .input("strategy", "canary")
        .input("steps", "- weight: 50\n")
        .run();
    assert_exit(&run, 1);
    assert_eq!(image(&cluster), GOOD);
    let recorded = deployments(&github);
    assert_eq!(states(&recorded[0]), ["in_progress", "failure"]);
    let reason = said(&recorded[0], 1);
    assert!(reason.starts_with("canary step 1 "), "{reason}");
}

#[test]
fn a_deploy_cancelled_and_rolled_back_never_deployed() {
    let cluster = sim();
    let github = github();
    let step =
        action(&cluster, &github, "v1.1.0", NEVER_READY).start_as_script(&generated_run_line());
    assert!(cluster.wait_until_blocking(Duration::from_secs(30), |sim| image(sim) == NEVER_READY));
    let (run, signals) = step.cancel_as_runner();
    assert_eq!(signals, ["SIGINT"], "{}", run.render());
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    let recorded = deployments(&github);
    assert_eq!(states(&recorded[0]), ["in_progress", "inactive"]);
    let reason = said(&recorded[0], 1);
    assert!(
        reason.starts_with("cancelled (SIGINT) and rolled back: "),
        "{reason}"
    );
}

#[test]
fn nothing_deployed_is_an_error() {
    let cluster = sim();
    let github = github();
    let run = action(&cluster, &github, "v1.1.0", NEXT)
        .input("deployment", "absent")
        .run();
    assert_exit(&run, 1);
    let recorded = deployments(&github);
    assert_eq!(states(&recorded[0]), ["in_progress", "error"]);
    let reason = said(&recorded[0], 1);
    assert!(reason.starts_with("nothing deployed: "), "{reason}");
    assert!(
        run.summary.contains("GitHub deployment ") && run.summary.contains(": error"),
        "{}",
        run.summary
    );
    assert_eq!(image(&cluster), GOOD);
}

#[test]
fn an_env_file_names_the_environment() {
    let cluster = sim();
    let github = github();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("preprod.env");
    std::fs::write(
        &path,
        format!("IMAGE_NAME=registry.example/app\nIMAGE_VERSION=1.1\nDEPLOYMENT={DEPLOYMENT}\n"),
    )
    .unwrap();
    let run = action(&cluster, &github, "v1.1.0", "")
        .input("env-file", path.display().to_string())
        .run();
    assert_exit(&run, 0);
    assert_eq!(deployments(&github)[0].environment, "preprod");
}

#[test]
fn a_dry_run_and_the_switch_off_record_nothing() {
    let cluster = sim();
    let github = github();
    let dry = action(&cluster, &github, "v1.1.0", NEXT)
        .input("dry-run", "true")
        .run();
    assert_exit(&dry, 0);
    assert_eq!(dry.output("result"), "dry-run");
    let off = action(&cluster, &github, "v1.1.0", NEXT)
        .input("record-deployment", "false")
        .run();
    assert_exit(&off, 0);
    assert_eq!(off.output("result"), "deployed");
    assert!(github.requests().is_empty(), "no request to GitHub at all");
    for run in [&dry, &off] {
        assert!(
            !run.summary.contains("GitHub deployment"),
            "{}",
            run.summary
        );
    }
}

#[test]
fn a_token_without_deployments_permission_warns_and_deploys() {
    let cluster = sim();
    let github = github();
    github.world(|w| {
        let id = w.identity_by_login("github-actions").unwrap().id;
        let mut without = RepoPermissions::ALL;
        without.deployments = Access::None;
        w.identities.get_mut(&id).unwrap().permissions =
            Some([(SERVICE.to_owned(), without)].into_iter().collect());
    });
    let run = action(&cluster, &github, "v1.1.0", NEXT).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed");
    assert_eq!(image(&cluster), NEXT);
    assert!(deployments(&github).is_empty());
    assert!(
        run.summary
            .contains("| GitHub deployment | not recorded (see the warning) |"),
        "{}",
        run.summary
    );
    assert!(
        run.stdout.contains("::warning")
            && run
                .stdout
                .contains("could not record the deployment in acme/service (the token needs deployments: write there"),
        "{}",
        run.stdout
    );
}

#[test]
fn without_a_token_the_deploy_goes_on_with_a_warning() {
    let cluster = sim();
    let github = github();
    let run = action(&cluster, &github, "v1.1.0", NEXT)
        .input("github-token", "")
        .run();
    assert_exit(&run, 0);
    assert_eq!(image(&cluster), NEXT);
    assert!(
        run.stdout
            .contains("the deploy is not recorded: github-token is empty"),
        "{}",
        run.stdout
    );
    assert!(github.requests().is_empty());
}

#[test]
fn a_bad_environment_is_refused_before_any_request() {
    let cluster = sim();
    let github = github();
    let run = action(&cluster, &github, "v1.1.0", NEXT)
        .input("deployment-environment", "pre prod")
        .run();
    assert_exit(&run, 2);
    assert!(
        run.stdout.contains("deployment-environment") && run.stdout.contains("`pre prod`"),
        "{}",
        run.stdout
    );
    let run = action(&cluster, &github, "v1.1.0", NEXT)
        .input("environment-url", "prod.acme")
        .run();
    assert_exit(&run, 2);
    assert!(run.stdout.contains("environment-url"), "{}", run.stdout);
    assert!(github.requests().is_empty(), "refused before any request");
    assert_eq!(image(&cluster), GOOD);
}
