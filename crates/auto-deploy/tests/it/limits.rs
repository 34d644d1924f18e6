//! GitHub's secondary rate limits, enforced by the simulator per identity: a deploy into a world
//! with a low content limit still deploys, waiting as GitHub's 403s say and logging each wait with
//! the limit's name; several deploys sharing one identity (each with its own token, as an App's
//! installation tokens share `<slug>[bot]`) all deploy, learning of each other's writes only from
//! the 403s.

use github_sim::WorldSpec;

use crate::common::{
    LZ, PROD_FILE, SOURCE, WORKFLOW_TOKEN, action, assert_deployed, concurrently, prerelease, sim,
};

/// The warnings a run wrote about rate-limit waits.
fn limit_warnings(run: &gantry_testkit::Transcript) -> Vec<String> {
    run.commands()
        .into_iter()
        .filter(|c| c.command == "warning" && c.data.starts_with("GitHub secondary rate limit on "))
        .map(|c| c.data)
        .collect()
}

#[test]
fn a_deploy_under_a_low_content_limit_waits_as_told_and_names_the_limit() {
    let sim = sim();
    // Six writes a simulated minute per identity; at ten times real time a minute frees in six
    // real seconds, which is what each 403's retry-after says.
    sim.world(|w| w.limits.content_per_minute = 6);
    let run = action(&sim, "v1.4.0").run();
    assert_deployed(&run);
    let limits = sim.limits();
    assert!(
        limits.limited >= 1,
        "the deploy ran into the limit: {limits:?}"
    );
    let warnings = limit_warnings(&run);
    assert!(!warnings.is_empty(), "{}", run.render());
    for warning in &warnings {
        assert!(
            warning.contains(": waiting ") && warning.ends_with(" s (retry-after)"),
            "{warning}"
        );
    }
    for usage in limits.identities.values() {
        assert!(usage.peak_writes_per_minute <= 6, "{limits:?}");
    }
}

#[test]
fn deploys_sharing_one_identity_all_deploy_within_the_limits() {
    let sim = sim();
    let files = ["deploy/a.env", "deploy/b.env", "deploy/c.env"];
    let tags = ["v3.1.0", "v3.2.0", "v3.3.0"];
    let tokens = [
        "ghs_runa0123456789",
        "ghs_runb0123456789",
        "ghs_runc0123456789",
    ];
    sim.world(|w| {
        w.limits.content_per_minute = 10;
        let env: Vec<(&str, Option<&str>)> = files.iter().map(|f| (*f, Some(PROD_FILE))).collect();
        w.push_files(LZ, "main", &env, "Add env files", None);
        for tag in tags {
            let sha = w
                .push_files(SOURCE, "main", &[("VERSION", Some(tag))], tag, None)
                .expect("source main");
            w.set_ref(SOURCE, &format!("refs/tags/{tag}"), Some(sha), 0);
        }
        // Each run's own workflow token, one identity: the simulator counts them together.
        let spec = format!(
            "identities: [{{ login: github-actions, kind: github_token, tokens: [{WORKFLOW_TOKEN}, {}] }}]",
            tokens.join(", ")
        );
        w.patch(&WorldSpec::from_yaml(&spec).expect("spec"))
            .expect("patch");
    });
    for tag in tags {
        prerelease(&sim, tag, true);
    }
    let runs = std::sync::Mutex::new(Vec::new());
    concurrently(
        files
            .iter()
            .zip(tags)
            .zip(tokens)
            .map(|((file, tag), token)| {
                let (sim, runs) = (&sim, &runs);
                let story: Box<dyn FnOnce() + Send + '_> = Box::new(move || {
                    let run = action(sim, tag)
                        .input("token", token)
                        .input("env-file", *file)
                        .input("timeout", "3m")
                        .run();
                    assert_deployed(&run);
                    run.assert_never_shows(token);
                    runs.lock().unwrap().push(run);
                });
                (format!("deploy {tag} to {file}"), story)
            })
            .collect(),
    );
    let runs = runs.into_inner().unwrap();
    assert_eq!(runs.len(), 3, "every deploy finished");
    let limits = sim.limits();
    // The shared identity ran into the limit, and every refused request was waited out (each
    // deploy succeeded: a request given up on would have failed it).
    assert!(limits.limited >= 1, "{limits:?}");
    let shared = &limits.identities["github-actions"];
    assert!(shared.peak_writes_per_minute <= 10, "{limits:?}");
    assert!(
        shared.writes >= 3 * 5,
        "three deploys' writes, one identity: {limits:?}"
    );
    let waits: usize = runs.iter().map(|run| limit_warnings(run).len()).sum();
    assert_eq!(
        u64::try_from(waits).unwrap(),
        limits.limited,
        "every 403 was logged and waited out"
    );
    for file in files {
        assert!(
            crate::common::lz_text(&sim, file).contains("IMAGE_VERSION='v3."),
            "{file} deployed"
        );
    }
}
