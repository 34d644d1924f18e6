//! A landing zone shared by many services: each service's release goes to its own env file, all
//! at once, into a base branch that requires branches to be up to date ("strict"). Every merge
//! puts the others behind; each deploy brings its pull request up to date, waits for the checks
//! of the new head and merges, so all of them deploy.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use gantry_testkit::Transcript;
use github_sim::{SimHandle, World};

use crate::common::{
    BOT, BOT_TOKEN, LZ, RELEASE_APP, RELEASE_AUTHOR, WORKFLOW_TOKEN, action, lz_branches, lz_file,
    pulls,
};

/// The env file of service `i`.
fn env_file(i: usize) -> String {
    format!("services/svc{i}.env")
}

fn env_text(version: &str) -> String {
    format!("# owned by svc\nexport IMAGE_VERSION={version}\nexport REPLICAS=2\n")
}

/// A landing zone shared by `services` service repositories, each with the prerelease v1.1.0:
/// `main` requires the `test` check (taking `ci_ms` simulated ms) and one approval.
#[derive(Clone, Copy)]
pub struct Shared {
    pub services: usize,
    pub ci_ms: u64,
    /// "Require branches to be up to date before merging".
    pub strict: bool,
    /// "Dismiss stale pull request approvals when new commits are pushed".
    pub dismiss_stale: bool,
    /// Simulated time per real time.
    pub scale: u32,
}

impl Shared {
    pub fn strict(services: usize, ci_ms: u64) -> Self {
        Self {
            services,
            ci_ms,
            strict: true,
            dismiss_stale: false,
            scale: 10,
        }
    }

    pub fn start(self) -> SimHandle {
        let Self {
            services,
            ci_ms,
            strict,
            dismiss_stale,
            scale,
        } = self;
        let (mut repos, mut files) = (String::new(), String::new());
        for i in 0..services {
            let _ = writeln!(
                repos,
                "  - name: acme/svc{i}\n    branches: {{ main: {{ files: {{ README.md: svc{i} }} }} }}\n    tags: {{ v1.1.0: main }}"
            );
            let _ = writeln!(
                files,
                "          {}: {}",
                env_file(i),
                serde_json::to_string(&env_text("v1.0.0")).unwrap()
            );
        }
        let world = format!(
            r"
clock: {{ scale: {scale} }}
identities:
  - {{ login: github-actions, kind: github_token, tokens: [{WORKFLOW_TOKEN}] }}
  - {{ login: {BOT}, kind: bot, tokens: [{BOT_TOKEN}] }}
  - {{ login: {RELEASE_APP}, kind: app, tokens: [ghs_releaseapp0123456789] }}
repos:
{repos}  - name: {LZ}
    actions: {{ can_approve_pull_request_reviews: true }}
    branches:
      main:
        files:
          README.md: landing zone
{files}    protection:
      main: {{ required_checks: [test], required_approvals: 1, strict: {strict}, dismiss_stale_reviews: {dismiss_stale} }}
ci:
  - repo: {LZ}
    base: main
    checks:
      - {{ name: test, conclusion: success, after_ms: {ci_ms} }}
"
        );
        let sim = SimHandle::spawn(World::from_yaml(&world).expect("world parses")).expect("sim");
        for i in 0..services {
            crate::common::prerelease_in(
                &sim,
                &format!("acme/svc{i}"),
                "v1.1.0",
                true,
                RELEASE_APP,
            );
        }
        sim
    }
}

/// Service `i`'s deploy of v1.1.0.
pub fn deploy(sim: &SimHandle, i: usize) -> gantry_testkit::ActionRun {
    action(sim, "v1.1.0")
        .env("GITHUB_REPOSITORY", format!("acme/svc{i}"))
        .env("GITHUB_RUN_ID", format!("{}", 7000 + i))
        .input("env-file", env_file(i))
        .input("release-authors", RELEASE_AUTHOR)
        .input("timeout", "5m")
}

/// Runs every service's deploy at once.
pub fn deploy_all(sim: &SimHandle, services: usize) -> Vec<Transcript> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..services)
            .map(|i| scope.spawn(move || deploy(sim, i).run()))
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("deploy thread"))
            .collect()
    })
}

/// Every env file holds its own service's new version and nothing else changed; no deploy or
/// lock branch is left; every pull request was merged.
pub fn assert_all_deployed(sim: &SimHandle, runs: &[Transcript]) {
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run.code, 0, "svc{i}: {}", run.render());
        assert_eq!(run.output("result"), "deployed", "svc{i}: {}", run.render());
        run.assert_never_shows(BOT_TOKEN);
        let text = String::from_utf8(lz_file(sim, "main", &env_file(i)).expect("env file"))
            .expect("utf-8");
        assert_eq!(text, env_text("v1.1.0"), "svc{i}'s env file");
    }
    assert_eq!(
        lz_file(sim, "main", "README.md").as_deref(),
        Some(&b"landing zone"[..])
    );
    assert_eq!(lz_branches(sim), Vec::<String>::new(), "branches left");
    let pulls = pulls(sim);
    assert_eq!(pulls.len(), runs.len(), "one pull request each: {pulls:?}");
    assert!(pulls.iter().all(|pull| pull.2), "all merged: {pulls:?}");
}

/// How many deploys had to bring their pull request up to date.
fn updated(runs: &[Transcript]) -> usize {
    runs.iter()
        .filter(|run| run.stdout.contains("was behind its base branch"))
        .count()
}

#[test]
fn two_services_releasing_at_once_into_a_strict_landing_zone_both_deploy() {
    let sim = Shared::strict(2, 10_000).start();
    let runs = deploy_all(&sim, 2);
    assert_all_deployed(&sim, &runs);
    assert!(
        updated(&runs) >= 1,
        "the second merge needed an update: {}",
        runs[1].render()
    );
}

#[test]
fn six_services_releasing_at_once_into_a_strict_landing_zone_that_dismisses_stale_approvals_all_deploy()
 {
    let sim = Shared {
        dismiss_stale: true,
        ..Shared::strict(6, 10_000)
    }
    .start();
    let runs = deploy_all(&sim, 6);
    assert_all_deployed(&sim, &runs);
    assert!(updated(&runs) >= 1, "{}", runs[0].render());
    // Each updated head was approved again: its earlier approval was dismissed.
    let approvals = crate::common::calls_by(&sim, BOT)
        .iter()
        .filter(|call| call.starts_with("POST") && call.ends_with("/reviews"))
        .count();
    assert!(
        approvals > 6,
        "{approvals} approvals for six pull requests, some updated"
    );
}

/// A deploy killed while it waits for the checks of the head it brought up to date leaves the
/// pull request and its new head; the re-run attempt validates that head and merges it.
#[test]
fn a_deploy_killed_while_waiting_on_its_updated_head_is_finished_by_its_re_run() {
    let day = Duration::from_secs(86_400);
    let sim = Shared::strict(2, day.as_millis().try_into().unwrap()).start();
    let step = deploy(&sim, 0).start_as_script(&gantry_testkit::generated_run_line("auto-deploy"));
    wait_until("the pull request", || !pulls(&sim).is_empty());
    // Another service's change lands on main while the checks run.
    sim.world(|w| {
        w.push_files(
            LZ,
            "main",
            &[(env_file(1).as_str(), Some(env_text("v1.0.1").as_str()))],
            "Deploy svc1 by hand",
            None,
        );
    });
    sim.advance(day);
    let number = pulls(&sim)[0].0;
    wait_until("the update of the deploy branch", || {
        sim.world(|w| {
            let pull = w.repos[LZ].pull(number).expect("pull");
            w.objects
                .commit(&pull.head_sha)
                .is_some_and(|commit| commit.parents.len() == 2)
        })
    });
    step.signal("KILL");
    let killed = step.finish();
    assert_ne!(killed.code, 0, "{}", killed.render());
    let rerun = deploy(&sim, 0).env("GITHUB_RUN_ATTEMPT", "2");
    sim.advance(day);
    let rerun = rerun.run();
    assert_eq!(rerun.code, 0, "{}", rerun.render());
    assert_eq!(rerun.output("result"), "deployed", "{}", rerun.render());
    assert_eq!(rerun.output("pr-number"), number.to_string());
    let text = String::from_utf8(lz_file(&sim, "main", &env_file(0)).unwrap()).unwrap();
    assert_eq!(text, env_text("v1.1.0"));
    let other = String::from_utf8(lz_file(&sim, "main", &env_file(1)).unwrap()).unwrap();
    assert_eq!(
        other,
        env_text("v1.0.1"),
        "the other service's change is kept"
    );
    assert_eq!(pulls(&sim).len(), 1);
    assert_eq!(lz_branches(&sim), Vec::<String>::new());
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A landing zone whose rulesets restrict branch creation exempts one namespace: both prefixes
/// put every branch the deploy makes there.
#[test]
fn deploy_and_lock_branches_are_made_under_the_prefixes_given() {
    let sim = Shared::strict(1, 1_000).start();
    let run = deploy(&sim, 0)
        .input("deploy-branch-prefix", "bots/gantry/deploy-")
        .input("lock-branch-prefix", "bots/gantry/lock-")
        .run();
    assert_all_deployed(&sim, std::slice::from_ref(&run));
    let refs: Vec<String> = sim
        .events()
        .iter()
        .filter(|e| e.event == "push" && e.repo == LZ)
        .filter_map(|e| e.payload["ref"].as_str().map(str::to_owned))
        .filter(|r| r != "refs/heads/main")
        .collect();
    assert!(
        refs.contains(&"refs/heads/bots/gantry/deploy-services-svc0.env/v1.1.0".to_owned())
            && refs.contains(&"refs/heads/bots/gantry/lock-services-svc0.env".to_owned()),
        "{refs:?}"
    );
    assert!(
        refs.iter()
            .all(|r| r.starts_with("refs/heads/bots/gantry/")),
        "{refs:?}"
    );
}
