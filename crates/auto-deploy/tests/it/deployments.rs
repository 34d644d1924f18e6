//! Stories: each deploy recorded as a GitHub deployment of the tag's commit in the source
//! repository, read back from the simulator: a good deploy, a failed one, a re-run, the switch
//! off, a token without deployments permission, and bad input.

use github_sim::{Access, RepoPermissions, SimHandle};

use crate::common::{
    LZ, SOURCE, action, assert_deployed, following_service, is_prerelease, never_verified, sim,
};

const RUN_URL: &str = "https://github.example/acme/service/actions/runs/4242";

/// `(id, sha, ref, environment, [(state, description, log_url, environment_url)])`, oldest first
type Recorded = (
    u64,
    String,
    String,
    String,
    Vec<(String, String, String, String)>,
);

fn deployments(sim: &SimHandle) -> Vec<Recorded> {
    sim.world(|w| {
        w.repos[SOURCE]
            .deployments
            .iter()
            .map(|d| {
                let statuses = d
                    .statuses
                    .iter()
                    .map(|s| {
                        (
                            s.state.clone(),
                            s.description.clone(),
                            s.log_url.clone(),
                            s.environment_url.clone(),
                        )
                    })
                    .collect();
                (
                    d.id,
                    d.sha.hex(),
                    d.git_ref.clone(),
                    d.environment.clone(),
                    statuses,
                )
            })
            .collect()
    })
}

fn states(recorded: &Recorded) -> Vec<&str> {
    recorded.4.iter().map(|s| s.0.as_str()).collect()
}

fn tag_sha(sim: &SimHandle, tag: &str) -> String {
    sim.world(|w| w.repos[SOURCE].resolve(&w.objects, tag).unwrap().hex())
}

fn a_verified_deploy_is_recorded_and_replaces_the_previous_one() {
    let sim = sim();
    let service = following_service(&sim);
    let deploy = |tag: &str| {
        action(&sim, tag)
            .input("verify-url", &service.url)
            .input("environment-url", "https://preprod.acme.example")
            .run()
    };
    assert_deployed(&deploy("v1.4.0"));
    let first = deployments(&sim);
    assert_eq!(first.len(), 1);
    let (_, sha, git_ref, environment, statuses) = &first[0];
    assert_eq!(*sha, tag_sha(&sim, "v1.4.0"));
    assert_eq!(git_ref, "v1.4.0");
    assert_eq!(environment, "preprod", "named after deploy/preprod.env");
    assert_eq!(states(&first[0]), ["in_progress", "success"]);
    assert_eq!(statuses[0].2, RUN_URL, "log_url is the run");
    assert_eq!(statuses[1].1, "v1.4.0 verified");
    assert_eq!(statuses[1].2, RUN_URL);
    assert_eq!(statuses[1].3, "https://preprod.acme.example");

    assert_deployed(&deploy("v1.5.0"));
    let both = deployments(&sim);
    assert_eq!(both.len(), 2);
    assert_eq!(states(&both[0]), ["in_progress", "success", "inactive"]);
    assert_eq!(states(&both[1]), ["in_progress", "success"]);
    let events = sim.events();
    let count = |name: &str| events.iter().filter(|e| e.event == name).count();
    assert_eq!(count("deployment"), 2);
}

fn a_production_deploy_marks_the_one_it_replaced_inactive_itself() {
    // GitHub's auto_inactive leaves production environments alone: auto-deploy retires them.
    let sim = sim();
    let service = following_service(&sim);
    for tag in ["v1.4.0", "v1.5.0"] {
        let run = action(&sim, tag)
            .input("verify-url", &service.url)
            .input("deployment-environment", "production")
            .run();
        assert_deployed(&run);
    }
    let both = deployments(&sim);
    assert_eq!(both[0].3, "production");
    assert_eq!(states(&both[0]), ["in_progress", "success", "inactive"]);
    assert_eq!(both[0].4[2].1, "replaced by v1.5.0");
    assert_eq!(states(&both[1]), ["in_progress", "success"]);
}

fn a_failed_verification_is_recorded_as_a_failure_with_the_reason() {
    let sim = sim();
    let run = never_verified(&sim, "v1.4.0");
    assert_eq!(run.code, 1, "{}", run.render());
    let recorded = deployments(&sim);
    assert_eq!(recorded.len(), 1);
    assert_eq!(states(&recorded[0]), ["in_progress", "failure"]);
    let reason = &recorded[0].4[1].1;
    assert!(
        reason.starts_with("failed at 9. verify the deployment"),
        "{reason}"
    );
    assert!(reason.chars().count() <= 140, "{reason}");
    assert_eq!(recorded[0].4[1].2, RUN_URL);
    assert!(is_prerelease(&sim, "v1.4.0"));
}

fn a_rerun_continues_its_deployment_instead_of_making_another() {
    let sim = sim();
    let service = following_service(&sim);
    for _ in 0..2 {
        assert_deployed(
            &action(&sim, "v1.4.0")
                .input("verify-url", &service.url)
                .run(),
        );
    }
    let recorded = deployments(&sim);
    assert_eq!(recorded.len(), 1, "no duplicate: {recorded:?}");
    assert_eq!(
        states(&recorded[0]),
        ["in_progress", "success", "in_progress", "success"]
    );
}

fn recording_can_be_switched_off() {
    let sim = sim();
    let run = action(&sim, "v1.4.0")
        .input("record-deployment", "false")
        .run();
    assert_deployed(&run);
    assert!(deployments(&sim).is_empty());
    assert!(
        sim.requests()
            .iter()
            .all(|r| !r.path.contains("/deployments")),
        "no deployment request at all"
    );
}

fn a_token_without_deployments_permission_warns_and_deploys() {
    let sim = sim();
    sim.world(|w| {
        let id = w.identity_by_login("github-actions").unwrap().id;
        let mut without = RepoPermissions::ALL;
        without.deployments = Access::None;
        let map = [
            (SOURCE.to_owned(), without),
            (LZ.to_owned(), RepoPermissions::ALL),
        ];
        w.identities.get_mut(&id).unwrap().permissions = Some(map.into_iter().collect());
    });
    let run = action(&sim, "v1.4.0").run();
    assert_deployed(&run);
    assert!(deployments(&sim).is_empty());
    assert!(
        run.stdout.contains("::warning")
            && run
                .stdout
                .contains("could not record the deployment in acme/service"),
        "{}",
        run.stdout
    );
    assert!(
        !is_prerelease(&sim, "v1.4.0"),
        "the deploy went all the way"
    );
}

fn a_bad_environment_is_refused_before_any_write() {
    let sim = sim();
    let run = action(&sim, "v1.4.0")
        .input("deployment-environment", "pre prod")
        .run();
    assert_eq!(run.code, 2, "{}", run.render());
    assert!(
        run.stdout.contains("deployment-environment"),
        "{}",
        run.stdout
    );
    let run = action(&sim, "v1.4.0")
        .input("environment-url", "preprod.acme")
        .run();
    assert_eq!(run.code, 2, "{}", run.render());
    assert!(sim.requests().is_empty(), "refused before any request");
}

crate::stories!(
    a_verified_deploy_is_recorded_and_replaces_the_previous_one,
    a_production_deploy_marks_the_one_it_replaced_inactive_itself,
    a_failed_verification_is_recorded_as_a_failure_with_the_reason,
    a_rerun_continues_its_deployment_instead_of_making_another,
    recording_can_be_switched_off,
    a_token_without_deployments_permission_warns_and_deploys,
    a_bad_environment_is_refused_before_any_write,
);
