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
    /// "Require merge queue" (squash), with the CI running on merge groups too.
    pub merge_queue: bool,
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
            merge_queue: false,
            scale: 10,
        }
    }

    pub fn start(self) -> SimHandle {
        let Self {
            services,
            ci_ms,
            strict,
            dismiss_stale,
            merge_queue,
            scale,
        } = self;
        let (queue, events) = if merge_queue {
            (
                ", merge_queue: { merge_method: squash }",
                "\n    on: [pull_request, merge_group]",
            )
        } else {
            ("", "")
        };
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
  # The deploy token of every service, minted from one App installation: they share its
  # 5,000 requests an hour (a workflow's own GITHUB_TOKEN would have 1,000).
  - {{ login: github-actions, kind: github_token, tokens: [{WORKFLOW_TOKEN}], rate_limit: 5000 }}
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
      main: {{ required_checks: [test], required_approvals: 1, strict: {strict}, dismiss_stale_reviews: {dismiss_stale}{queue} }}
ci:
  - repo: {LZ}
    base: main{events}
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

/// The queue's merges, in order: the pull request numbers of `pull_request` `closed` events.
fn merged_in_order(sim: &SimHandle) -> Vec<u64> {
    sim.events()
        .iter()
        .filter(|e| e.event == "pull_request" && e.action.as_deref() == Some("closed"))
        .filter(|e| e.payload["merged"] == true)
        .filter_map(|e| e.payload["number"].as_u64())
        .collect()
}

/// The pull requests in the order the queue built their merge groups first.
fn queued_in_order(sim: &SimHandle) -> Vec<u64> {
    let mut order: Vec<u64> = Vec::new();
    for event in sim.events() {
        if event.event != "merge_group" || event.action.as_deref() != Some("checks_requested") {
            continue;
        }
        let branch = event.payload["merge_group"]["head_ref"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let number = branch
            .rsplit('/')
            .next()
            .and_then(|leaf| leaf.strip_prefix("pr-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|n| n.parse().ok());
        if let Some(number) = number
            && !order.contains(&number)
        {
            order.push(number);
        }
    }
    order
}

/// A landing zone whose base requires a merge queue: the REST merge is refused, so every deploy
/// enqueues its validated head and follows it; the queue merges them one after another.
#[test]
fn services_releasing_into_a_merge_queue_landing_zone_are_merged_in_queue_order() {
    let sim = Shared {
        strict: false,
        merge_queue: true,
        ..Shared::strict(3, 5_000)
    }
    .start();
    let runs = deploy_all(&sim, 3);
    assert_all_deployed(&sim, &runs);
    for run in &runs {
        assert!(
            run.stdout.contains("main requires a merge queue: queued #"),
            "{}",
            run.render()
        );
    }
    let queued = queued_in_order(&sim);
    assert_eq!(queued.len(), 3, "{queued:?}");
    assert_eq!(merged_in_order(&sim), queued, "merged in queue order");
}

/// One merge group's required check fails: the queue removes only that pull request (its deploy
/// fails naming the check and leaves nothing merged), the others merge.
#[test]
fn a_failing_merge_group_check_dequeues_only_its_pull_request_and_that_deploy_fails_naming_it() {
    let sim = Shared {
        strict: false,
        merge_queue: true,
        ..Shared::strict(3, 20_000)
    }
    .start();
    // svc1's merge group gets a failing `test` run once its deploy has looked at the group (as a
    // real check fails some time after the group is built).
    let failing = std::sync::atomic::AtomicBool::new(false);
    let runs = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|i| {
                let sim = &sim;
                scope.spawn(move || deploy(sim, i).run())
            })
            .collect();
        while !runs.iter().all(std::thread::ScopedJoinHandle::is_finished) {
            if !failing.load(std::sync::atomic::Ordering::Relaxed) {
                let looked: Vec<String> = sim
                    .requests()
                    .into_iter()
                    .filter(|r| r.path.contains("/git/ref/heads/gh-readonly-queue/"))
                    .map(|r| r.path)
                    .collect();
                let failed = sim.world(|w| {
                    let pull = w.repos[LZ]
                        .pulls
                        .iter()
                        .find(|p| p.head_ref.contains("svc1"))?;
                    let branch = format!(
                        "gh-readonly-queue/main/pr-{}-{}",
                        pull.number,
                        pull.head_sha.hex()
                    );
                    let group = w.repos[LZ].branch(&branch)?;
                    if !looked.iter().any(|path| path.ends_with(&branch)) {
                        return None;
                    }
                    let app = w.identity_by_login("github-actions")?.id;
                    let run =
                        w.create_check_run(LZ, app, "test", group, Some(&branch), "in_progress");
                    Some(w.complete_check_run(LZ, run, "failure"))
                });
                if failed == Some(true) {
                    failing.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        runs.into_iter()
            .map(|run| run.join().expect("deploy"))
            .collect::<Vec<_>>()
    });
    assert!(failing.into_inner(), "svc1's merge group was never built");
    for i in [0, 2] {
        assert_eq!(runs[i].code, 0, "svc{i}: {}", runs[i].render());
        let text = String::from_utf8(lz_file(&sim, "main", &env_file(i)).unwrap()).unwrap();
        assert_eq!(text, env_text("v1.1.0"));
    }
    let failed = &runs[1];
    assert_eq!(failed.code, 1, "{}", failed.render());
    let errors = failed.errors();
    assert!(
        errors[0]
            .contains("was removed from the merge queue of main (CI_FAILURE): on its merge group")
            && errors[0].contains("check `test` failure ("),
        "{}",
        failed.render()
    );
    let text = String::from_utf8(lz_file(&sim, "main", &env_file(1)).unwrap()).unwrap();
    assert_eq!(text, env_text("v1.0.0"), "svc1 was not merged");
    assert_eq!(merged_in_order(&sim).len(), 2);
}
