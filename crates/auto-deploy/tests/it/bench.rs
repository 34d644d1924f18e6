//! The benchmark (ignored by default; see `crates/auto-deploy/BENCH.md`): a landing-zone CI of
//! five checks finishing over 60 s of real time. It measures the API requests the deploy spent
//! (304s are free) and the delay from the last check finishing to the merge request, and sets
//! them beside a wait-on-check style client that polls the check list every 10 s.

use std::time::{Duration, Instant};

use github_sim::{SimHandle, World};

use crate::common::{
    BOT_TOKEN, LZ, PREPROD_FILE, PROD_FILE, RELEASE_APP, WORKFLOW_TOKEN, action, prerelease,
};

const CHECKS: &[(&str, u64)] = &[
    ("lint", 12_000),
    ("types", 24_000),
    ("unit", 36_000),
    ("build", 48_000),
    ("e2e", 60_000),
];
const FIXED_POLL: Duration = Duration::from_secs(10);

fn world() -> SimHandle {
    let checks: Vec<String> = CHECKS
        .iter()
        .map(|(name, ms)| {
            format!("      - {{ name: {name}, conclusion: success, after_ms: {ms} }}")
        })
        .collect();
    let yaml = format!(
        r"
clock: {{ scale: 1 }}
identities:
  - {{ login: github-actions, kind: github_token, tokens: [{WORKFLOW_TOKEN}] }}
  - {{ login: deploy-bot, kind: bot, tokens: [{BOT_TOKEN}] }}
  - {{ login: {RELEASE_APP}, kind: app }}
repos:
  - name: acme/service
    branches: {{ main: {{ files: {{ README.md: service }} }} }}
    tags: {{ v1.4.0: main }}
  - name: {LZ}
    actions: {{ can_approve_pull_request_reviews: true }}
    branches:
      main:
        files: {{ deploy/preprod.env: {preprod}, deploy/prod.env: {prod} }}
    protection: {{ main: {{ required_checks: [lint, types, unit, build, e2e], required_approvals: 1 }} }}
ci:
  - repo: {LZ}
    checks:
{}
",
        checks.join("\n"),
        preprod = serde_json::to_string(PREPROD_FILE).unwrap(),
        prod = serde_json::to_string(PROD_FILE).unwrap(),
    );
    let sim = SimHandle::spawn(World::from_yaml(&yaml).expect("world")).expect("sim");
    prerelease(&sim, "v1.4.0", true);
    sim
}

#[test]
#[ignore = "takes a minute of real time; run it for BENCH.md"]
#[expect(clippy::print_stderr, reason = "the benchmark reports its numbers")]
fn bench_five_checks_over_sixty_seconds() {
    let sim = world();
    let started = Instant::now();
    let (run, opened, last_check, merge_request) = std::thread::scope(|scope| {
        let run = scope.spawn(|| action(&sim, "v1.4.0").input("timeout", "5m").run());
        let (mut opened, mut last_check, mut merge_request) = (None, None, None);
        while merge_request.is_none() && !run.is_finished() {
            let events = sim.events();
            if opened.is_none() && events.iter().any(|e| e.event == "pull_request") {
                opened = Some(Instant::now());
            }
            let completed = events
                .iter()
                .filter(|e| {
                    e.event == "check_run"
                        && e.action.as_deref() == Some("completed")
                        && e.repo == LZ
                })
                .count();
            if last_check.is_none() && completed == CHECKS.len() {
                last_check = Some(Instant::now());
            }
            if sim
                .requests()
                .iter()
                .any(|r| r.method == "PUT" && r.path.ends_with("/merge"))
            {
                merge_request = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        (run.join().unwrap(), opened, last_check, merge_request)
    });
    assert_eq!(run.code, 0, "{}", run.render());
    let requests: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/repos/"))
        .collect();
    let spent = requests.iter().filter(|r| r.status != 304).count();
    let free = requests.len() - spent;
    let waits: Vec<_> = requests
        .iter()
        .filter(|r| r.path.contains("/commits/") && r.path.starts_with("/repos/acme/landing-zone"))
        .collect();
    let wait_spent = waits.iter().filter(|r| r.status != 304).count();
    let delay = merge_request.expect("merged") - last_check.expect("checks done");
    let ci = last_check.unwrap() - opened.expect("opened");
    // The fixed-poll client: one full (rate-limited) check-list request at the start and every
    // 10 s after; it sees the last completion at the next tick, on average half a period later.
    let fixed_polls = ci.as_secs_f64() / FIXED_POLL.as_secs_f64();
    let fixed_polls = fixed_polls.ceil() + 1.0;
    eprintln!(
        "auto-deploy bench: CI {:.1}s; whole deploy {:.1}s\n\
         requests spent (non-304): {spent} (+{free} free 304s); of them waiting on checks: {wait_spent} (+{} free)\n\
         last check → merge request: {:.2}s\n\
         fixed 10 s poll: {fixed_polls:.0} spent requests waiting on checks; last check → merge request 0–10 s (5 s on average) plus its own approve/merge\n\
         workflow token: {}\nbot token: {}",
        ci.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        waits.len() - wait_spent,
        delay.as_secs_f64(),
        run.stdout
            .lines()
            .find(|l| l.starts_with("API requests"))
            .unwrap_or_default(),
        requests
            .iter()
            .filter(|r| r.identity.as_deref() == Some("deploy-bot"))
            .count(),
    );
    assert!(spent < 60, "{spent} requests spent");
    assert!(
        delay <= Duration::from_secs(2),
        "{delay:?} from last check to merge"
    );
}
