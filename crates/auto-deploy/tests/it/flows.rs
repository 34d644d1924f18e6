//! Stories: the whole deploy, unchanged, skip-merge, and the format-preserving edit.

use crate::common::{
    BOT, PASSING, PREPROD, PROD, PROD_FILE, action, assert_deployed, assert_roles, calls_by,
    following_service, is_prerelease, lz_branches, lz_file, lz_text, mirrored, pulls, sim,
    sim_with,
};

fn a_prerelease_is_deployed_merged_verified_and_promoted() {
    let sim = sim();
    let service = following_service(&sim);
    let run = action(&sim, "v1.4.0")
        .input("verify-url", &service.url)
        .run();
    assert_deployed(&run);
    assert_eq!(
        lz_text(&sim, PREPROD),
        "# pre-production\nexport IMAGE_NAME=acme/service\nexport IMAGE_VERSION=v1.4.0  # bumped by auto-deploy\nexport NAME=\"service\"\n"
    );
    assert_eq!(lz_text(&sim, PROD), PROD_FILE, "prod untouched");
    let pulls = pulls(&sim);
    assert_eq!(pulls.len(), 1);
    let (number, open, merged, head) = &pulls[0];
    assert!(!open && *merged);
    assert_eq!(head, "deploy/deploy-preprod.env/v1.4.0");
    assert_eq!(run.output("pr-number"), number.to_string());
    assert!(
        run.output("pr-url")
            .ends_with(&format!("/acme/landing-zone/pull/{number}"))
    );
    assert_eq!(run.output("previous-version"), "v1.3.0");
    assert_eq!(run.output("deployed-version"), "v1.4.0");
    assert_eq!(run.output("verified"), "true");
    assert_eq!(run.output("merge-sha").len(), 40);
    let checks: serde_json::Value = serde_json::from_str(run.output("checks")).unwrap();
    assert_eq!(checks.as_array().unwrap().len(), 2, "{checks}");
    assert!(
        lz_branches(&sim).is_empty(),
        "deploy branch and lock deleted: {:?}",
        lz_branches(&sim)
    );
    assert!(!is_prerelease(&sim, "v1.4.0"), "promoted");
    let success = |name: &str| {
        (
            name.to_owned(),
            "completed".to_owned(),
            Some("success".to_owned()),
        )
    };
    assert_eq!(mirrored(&sim), [success("lint"), success("test")]);
    assert_roles(&sim);
    let bot_changes: Vec<String> = calls_by(&sim, BOT)
        .into_iter()
        .filter(|call| !call.starts_with("GET "))
        .collect();
    assert_eq!(
        bot_changes,
        [
            "POST /repos/acme/landing-zone/pulls/1/reviews",
            "PUT /repos/acme/landing-zone/pulls/1/merge"
        ],
        "one approval, one merge"
    );
    assert!(
        run.stdout.contains("2/2 checks done: lint ✓ test ✓"),
        "{}",
        run.stdout
    );
    for part in [
        "deployed",
        "Timeline",
        "Landing-zone checks",
        "v1.3.0 → v1.4.0",
    ] {
        assert!(run.summary.contains(part), "{part}: {}", run.summary);
    }
    let conditional = sim.requests().iter().filter(|r| r.status == 304).count();
    assert!(conditional > 0, "polls were conditional");
}

fn an_env_file_already_at_the_version_is_unchanged_without_a_pull_request() {
    let sim = sim();
    let run = action(&sim, "v1.3.0").run();
    assert_eq!(run.code, 0, "{}", run.render());
    assert_eq!(run.output("result"), "unchanged");
    assert_eq!(run.output("previous-version"), "v1.3.0");
    assert!(pulls(&sim).is_empty());
    assert!(lz_branches(&sim).is_empty(), "lock released");
    assert!(
        is_prerelease(&sim, "v1.3.0"),
        "nothing deployed, nothing promoted"
    );
}

fn skip_merge_opens_the_prod_pull_request_waits_for_checks_and_stops() {
    let sim = sim();
    let run = action(&sim, "v1.4.0")
        .input("skip-merge", "true")
        .input("bot-token", "")
        .run();
    assert_eq!(run.code, 0, "{}", run.render());
    assert_eq!(run.output("result"), "pr-open");
    assert_eq!(run.output("previous-version"), "v1.2.0");
    let pulls = pulls(&sim);
    assert_eq!(pulls.len(), 1);
    assert!(pulls[0].1 && !pulls[0].2, "open, not merged");
    assert_eq!(pulls[0].3, "deploy/deploy-prod.env/v1.4.0");
    assert_eq!(
        String::from_utf8(lz_file(&sim, &pulls[0].3, PROD).unwrap()).unwrap(),
        "export IMAGE_NAME=acme/service\nexport IMAGE_VERSION='v1.4.0'\n"
    );
    assert_eq!(lz_text(&sim, PROD), PROD_FILE, "main untouched");
    assert!(calls_by(&sim, BOT).is_empty());
    assert!(is_prerelease(&sim, "v1.4.0"));
    assert_eq!(mirrored(&sim).len(), 2);
}

fn crlf_line_endings_and_a_missing_final_newline_survive() {
    let file = "export IMAGE_NAME=acme/service\r\nexport IMAGE_VERSION=\"v1.3.0\"\r\n# end";
    let sim = sim_with(file, PROD_FILE, PASSING);
    let run = action(&sim, "v1.4.0").run();
    assert_deployed(&run);
    assert_eq!(
        lz_file(&sim, "main", PREPROD).unwrap(),
        b"export IMAGE_NAME=acme/service\r\nexport IMAGE_VERSION=\"v1.4.0\"\r\n# end"
    );
    assert_eq!(run.output("verified"), "skipped");
}

fn an_older_open_deploy_pull_request_is_closed_as_superseded_with_a_comment() {
    let sim = sim_with(
        crate::common::PREPROD_FILE,
        PROD_FILE,
        &[("lint", "success", 1000), ("test", "failure", 2000)],
    );
    let first = action(&sim, "v1.4.0").run();
    assert_eq!(first.code, 1, "{}", first.render());
    let second = action(&sim, "v1.5.0").run();
    assert_eq!(second.code, 1, "{}", second.render());
    let pulls = pulls(&sim);
    assert_eq!(pulls.len(), 2);
    assert!(!pulls[0].1 && !pulls[0].2, "#1 closed, not merged");
    assert!(pulls[1].1, "#2 open");
    let comments: Vec<String> = sim.world(|w| {
        w.repos[crate::common::LZ]
            .comments
            .iter()
            .filter(|c| c.number == 1)
            .map(|c| c.body.clone())
            .collect()
    });
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].starts_with("Superseded by #2 (acme/service v1.5.0)"),
        "{comments:?}"
    );
    assert!(second.stdout.contains("closed #1 as superseded"));
}

fn the_tag_comes_from_the_release_event() {
    let sim = sim();
    let run = action(&sim, "")
        .event(
            "release",
            &serde_json::json!({"action": "prereleased", "release": {"tag_name": "v1.3.0"}}),
        )
        .run();
    assert_eq!(run.code, 0, "{}", run.render());
    assert_eq!(run.output("result"), "unchanged");
    assert_eq!(run.output("deployed-version"), "v1.3.0");
}

fn tokens_that_cannot_do_the_job_are_bad_input_before_any_request() {
    let sim = sim();
    let no_bot = action(&sim, "v1.4.0").input("bot-token", "").run();
    assert_eq!(no_bot.code, 2, "{}", no_bot.render());
    assert!(no_bot.errors()[0].starts_with("input `bot-token`: is empty"));
    let same = action(&sim, "v1.4.0")
        .input("bot-token", crate::common::WORKFLOW_TOKEN)
        .run();
    assert_eq!(same.code, 2, "{}", same.render());
    assert!(same.errors()[0].contains("is the same token as token"));
    same.assert_never_shows(crate::common::WORKFLOW_TOKEN);
    assert!(sim.requests().is_empty());
}

fn a_finished_deploy_re_runs_as_a_no_op_and_a_rollback_opens_a_new_pull_request() {
    let sim = sim();
    assert_deployed(&action(&sim, "v1.4.0").run());
    let again = action(&sim, "v1.4.0").run();
    assert_deployed(&again);
    assert!(
        again.stdout.contains("#1 was merged by an earlier run"),
        "{}",
        again.stdout
    );
    assert_eq!(pulls(&sim).len(), 1, "no second pull request");
    // Someone deploys v1.5.0 by hand; going back to v1.4.0 is a new, explicit downgrade.
    sim.world(|w| {
        w.push_files(
            crate::common::LZ,
            "main",
            &[(PREPROD, Some("export IMAGE_VERSION=v1.5.0\n"))],
            "hand deploy",
            None,
        )
    })
    .expect("pushed");
    let refused = action(&sim, "v1.4.0").run();
    assert_eq!(refused.code, 1, "{}", refused.render());
    let rollback = action(&sim, "v1.4.0")
        .input("allow-downgrade", "true")
        .run();
    assert_deployed(&rollback);
    assert_eq!(rollback.output("previous-version"), "v1.5.0");
    let pulls = pulls(&sim);
    assert_eq!(pulls.len(), 2, "{pulls:?}");
    assert!(pulls[1].2, "the rollback was merged");
    assert_eq!(lz_text(&sim, PREPROD), "export IMAGE_VERSION=v1.4.0\n");
}

/// A Python service reports its PEP 440 version for the image tagged with the SemVer form.
fn a_service_reporting_the_pep440_form_of_the_version_is_verified() {
    let sim = sim();
    let service = crate::common::following_service_as(&sim, |semver| semver.replace("-rc.", "rc"));
    let run = action(&sim, "v1.4.0")
        .input("image-version", "1.4.0-rc.1")
        .input("verify-url", &service.url)
        .run();
    assert_deployed(&run);
    assert_eq!(run.output("verified"), "true");
    assert!(
        run.stdout.contains(
            "shows version \"1.4.0rc1\" (PEP 440, which is 1.4.0-rc.1 in SemVer; compared with 1.4.0-rc.1 (SemVer) as versions)"
        ),
        "{}",
        run.render()
    );
}

/// Self-hosted runners behind a proxy: the verify-url request goes through `HTTPS_PROXY` (a real
/// tinyproxy) like every GitHub request, and `NO_PROXY` sends GitHub's around it.
fn verification_goes_through_the_runner_proxy() {
    let sim = sim();
    let service = following_service(&sim);
    let proxy = gantry_testkit::proxy::Tinyproxy::start();
    // Both listen on 127.0.0.1; the service is named `localhost` so NO_PROXY can tell them apart.
    let verify_url = service.url.replace("127.0.0.1", "localhost");
    let run = action(&sim, "v1.4.0")
        .input("verify-url", &verify_url)
        .env("HTTPS_PROXY", &proxy.url)
        .env("NO_PROXY", "example.com, 127.0.0.1")
        .run();
    assert_deployed(&run);
    let requests = proxy.requests();
    assert!(
        requests.iter().any(|r| *r == format!("GET {verify_url}")),
        "the proxy saw {requests:?}"
    );
    assert!(
        requests.iter().all(|r| !r.contains("/repos/")),
        "GitHub went around the proxy (NO_PROXY): {requests:?}"
    );
}

crate::stories!(
    verification_goes_through_the_runner_proxy,
    a_service_reporting_the_pep440_form_of_the_version_is_verified,
    a_prerelease_is_deployed_merged_verified_and_promoted,
    an_env_file_already_at_the_version_is_unchanged_without_a_pull_request,
    skip_merge_opens_the_prod_pull_request_waits_for_checks_and_stops,
    crlf_line_endings_and_a_missing_final_newline_survive,
    an_older_open_deploy_pull_request_is_closed_as_superseded_with_a_comment,
    the_tag_comes_from_the_release_event,
    tokens_that_cannot_do_the_job_are_bad_input_before_any_request,
    a_finished_deploy_re_runs_as_a_no_op_and_a_rollback_opens_a_new_pull_request,
);
