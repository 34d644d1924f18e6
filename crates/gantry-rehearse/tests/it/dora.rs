//! `gantry dora` as a person runs it: the binary against github-sim, its stdout, stderr and exit
//! code checked.

use std::process::{Command, Output};
use std::time::Duration;

use github_sim::{Fault, FaultAction, SimHandle, World};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A repository, a reader and a deployer with tokens; the clock frozen at a known time (moved by
/// the test).
const WORLD: &str = r##"
clock: { start: "2026-10-30T00:00:00Z", scale: 0 }
identities:
  - { login: reader, kind: user, tokens: [ghp_dora_reader] }
  - { login: deployer, kind: user, tokens: [ghp_dora_deployer] }
repos:
  - name: acme/service
    branches:
      main:
        files: { README.md: "# service\n" }
"##;

const TOKEN: &str = "ghp_dora_reader";

/// Runs `gantry dora` with `args`, `token` in `GH_TOKEN` (none when `None`) and nothing else of
/// the ambient GitHub environment.
fn dora(args: &[&str], token: Option<&str>) -> Output {
    let mut gantry = Command::new(env!("CARGO_BIN_EXE_gantry"));
    gantry_testkit::hermetic(&mut gantry)
        .env_remove("GH_TOKEN")
        .arg("dora")
        .args(args);
    if let Some(token) = token {
        gantry.env("GH_TOKEN", token);
    }
    gantry.output().expect("gantry runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit code 2, nothing on stdout, and one `error:` line naming what to fix.
fn assert_bad_input(output: &Output, message: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(text(&output.stdout), "", "no keys are printed");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(message), "{stderr}");
}

#[test]
fn without_a_token_it_says_which_variables_to_set() {
    let output = dora(&["--repo", "acme/service", "--days", "7"], None);
    assert_bad_input(
        &output,
        "no GitHub token: set GH_TOKEN or GITHUB_TOKEN to a token that can read acme/service's deployments (for https://api.github.com)",
    );
}

#[test]
fn bad_options_are_named_before_any_request() {
    let sim = SimHandle::spawn(World::from_yaml(WORLD).unwrap()).unwrap();
    let url = sim.url().to_owned();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--since", "yesterday"],
            "--since `yesterday` is not a date",
        ),
        (
            &["--until", "2026-02-30"],
            "--until `2026-02-30` is not a date",
        ),
        (
            &["--days", "0"],
            "--days must be a whole number of days from 1 to 3650, not `0`",
        ),
        (
            &["--since", "2026-11-02", "--until", "2026-11-01"],
            "the period is empty: --since 2026-11-02T00:00:00Z is not before --until 2026-11-01T00:00:00Z",
        ),
    ];
    for (period, message) in cases {
        let mut args = vec!["--repo", "acme/service", "--api-url", url.as_str()];
        args.extend(period);
        assert_bad_input(&dora(&args, Some(TOKEN)), message);
    }
    assert_bad_input(
        &dora(&["--repo", "acme", "--api-url", &url], Some(TOKEN)),
        "--repo `acme` is not a repository: give owner/name",
    );
    assert!(sim.requests().is_empty(), "no request was sent");
}

#[test]
fn an_unknown_repository_or_a_refused_token_is_bad_input() {
    let sim = SimHandle::spawn(World::from_yaml(WORLD).unwrap()).unwrap();
    let url = sim.url().to_owned();
    let output = dora(
        &["--repo", "acme/nope", "--api-url", &url, "--days", "7"],
        Some(TOKEN),
    );
    assert_bad_input(
        &output,
        "repository acme/nope not found: check --repo (owner/name) and that the token can read its deployments",
    );
    let output = dora(
        &["--repo", "acme/service", "--api-url", &url, "--days", "7"],
        Some("ghp_not_a_known_token"),
    );
    assert_bad_input(&output, "the token was refused");
    assert_bad_input(&output, "give a valid token in GH_TOKEN or GITHUB_TOKEN");
    let all = text(&output.stdout) + &text(&output.stderr);
    assert!(
        !all.contains("ghp_not_a_known_token"),
        "the token is never printed: {all}"
    );
}

/// Builds a history in github-sim the way a pipeline would, through GitHub's documented REST
/// routes (deployments, deployment statuses, releases), at chosen simulated times.
struct Seed {
    sim: SimHandle,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Seed {
    fn new() -> Seed {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Seed {
            sim: SimHandle::spawn(World::from_yaml(WORLD).unwrap()).unwrap(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            http: reqwest::Client::new(),
        }
    }

    /// Moves the simulated clock forward to `at` (RFC 3339).
    fn at(&self, at: &str) {
        let target = OffsetDateTime::parse(at, &Rfc3339).unwrap();
        let now_ms = i128::from(self.sim.now_ms());
        let ahead = target.unix_timestamp_nanos() / 1_000_000 - now_ms;
        assert!(ahead >= 0, "time runs forward: {at}");
        self.sim
            .advance(Duration::from_millis(u64::try_from(ahead).unwrap()));
    }

    /// A commit on `main` at `at`; its SHA.
    fn commit(&self, at: &str, name: &str) -> String {
        self.at(at);
        self.sim
            .world(|w| {
                w.push_files(
                    "acme/service",
                    "main",
                    &[(name, Some(name))],
                    name,
                    Some("deployer"),
                )
            })
            .unwrap()
            .hex()
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let url = format!("{}/repos/acme/service/{path}", self.sim.url());
        self.runtime.block_on(async {
            let response = self
                .http
                .post(&url)
                .bearer_auth("ghp_dora_deployer")
                .header("accept", "application/vnd.github+json")
                .header("user-agent", "gantry-dora-test")
                .json(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let value: Value = response.json().await.unwrap();
            assert!(status.is_success(), "POST {path}: {status} {value}");
            value
        })
    }

    /// A deployment of `reference` to production created at `at`, then each status at its time;
    /// the deployment's id.
    fn deploy(&self, reference: &str, at: &str, statuses: &[(&str, &str)]) -> u64 {
        self.deploy_to("production", reference, at, statuses)
    }

    fn deploy_to(
        &self,
        environment: &str,
        reference: &str,
        at: &str,
        statuses: &[(&str, &str)],
    ) -> u64 {
        self.at(at);
        let deployment = self.post(
            "deployments",
            &json!({"ref": reference, "environment": environment, "auto_merge": false, "required_contexts": []}),
        );
        let id = deployment["id"].as_u64().unwrap();
        for (state, at) in statuses {
            self.at(at);
            self.post(
                &format!("deployments/{id}/statuses"),
                &json!({"state": state}),
            );
        }
        id
    }
}

/// The ten days of the unit test `ten_days_of_deployments`, played through the REST API: a base
/// before the period, a failure restored, a rollback, an error restored, a commit delivered
/// before and after the rollback, a failure never restored, a deployment still running; one
/// older deployment that the reader must never need; two deployments to staging.
fn ten_days() -> (Seed, Vec<u64>) {
    let seed = Seed::new();
    let c0 = seed.commit("2026-10-30T08:00:00Z", "c0");
    let old = seed.deploy(
        &c0,
        "2026-10-30T09:00:00Z",
        &[("success", "2026-10-30T09:05:00Z")],
    );
    let base = seed.deploy(
        &c0,
        "2026-10-31T10:00:00Z",
        &[
            ("in_progress", "2026-10-31T10:00:00Z"),
            ("success", "2026-10-31T10:10:00Z"),
        ],
    );
    seed.commit("2026-11-02T07:30:00Z", "c1");
    seed.commit("2026-11-02T08:30:00Z", "c2");
    seed.at("2026-11-02T08:45:00Z");
    seed.post(
        "releases",
        &json!({"tag_name": "v2", "name": "Two", "target_commitish": "main"}),
    );
    let d2 = seed.deploy(
        "v2",
        "2026-11-02T09:00:00Z",
        &[
            ("in_progress", "2026-11-02T09:00:00Z"),
            ("success", "2026-11-02T09:30:00Z"),
        ],
    );
    let c3 = seed.commit("2026-11-03T10:30:00Z", "c3");
    let d3 = seed.deploy(
        &c3,
        "2026-11-03T12:00:00Z",
        &[
            ("in_progress", "2026-11-03T12:00:00Z"),
            ("failure", "2026-11-03T12:20:00Z"),
        ],
    );
    let c4 = seed.commit("2026-11-04T09:30:00Z", "c4");
    let d4 = seed.deploy(
        &c4,
        "2026-11-04T10:00:00Z",
        &[("success", "2026-11-04T10:30:00Z")],
    );
    // Another environment's deployments count for nothing here.
    seed.deploy_to(
        "staging",
        &c4,
        "2026-11-05T10:00:00Z",
        &[("failure", "2026-11-05T10:01:00Z")],
    );
    seed.deploy_to(
        "staging",
        &c4,
        "2026-11-05T11:00:00Z",
        &[("success", "2026-11-05T11:01:00Z")],
    );
    let c5 = seed.commit("2026-11-06T09:00:00Z", "c5");
    let d5 = seed.deploy(
        &c5,
        "2026-11-06T10:00:00Z",
        &[("success", "2026-11-06T10:00:00Z")],
    );
    let d6 = seed.deploy(
        &c4,
        "2026-11-06T11:00:00Z",
        &[("success", "2026-11-06T11:00:00Z")],
    );
    let d7 = seed.deploy(
        &c5,
        "2026-11-08T10:00:00Z",
        &[("error", "2026-11-08T10:05:00Z")],
    );
    let c6 = seed.commit("2026-11-09T08:05:00Z", "c6");
    let d8 = seed.deploy(
        &c6,
        "2026-11-09T10:00:00Z",
        &[("success", "2026-11-09T10:05:00Z")],
    );
    let d9 = seed.deploy(
        &c6,
        "2026-11-10T22:00:00Z",
        &[("failure", "2026-11-10T23:00:00Z")],
    );
    let d10 = seed.deploy(
        &c6,
        "2026-11-10T23:30:00Z",
        &[("in_progress", "2026-11-10T23:30:00Z")],
    );
    seed.at("2026-11-20T00:00:00Z");
    seed.sim.clear_requests();
    (seed, vec![old, base, d2, d3, d4, d5, d6, d7, d8, d9, d10])
}

const PERIOD: [&str; 4] = ["--since", "2026-11-01", "--until", "2026-11-11"];

fn dora_of(seed: &Seed, extra: &[&str]) -> Output {
    let url = seed.sim.url().to_owned();
    let mut args = vec!["--repo", "acme/service", "--api-url", url.as_str()];
    args.extend(PERIOD);
    args.extend(extra);
    let output = dora(&args, Some(TOKEN));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    output
}

#[test]
fn the_keys_of_ten_days_as_json() {
    let (seed, ids) = ten_days();
    let output = dora_of(&seed, &["--json", "--per-page", "2"]);
    let keys: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys["repository"], "acme/service");
    assert_eq!(keys["environment"], "production");
    assert_eq!(keys["since"], "2026-11-01T00:00:00Z");
    assert_eq!(keys["until"], "2026-11-11T00:00:00Z");
    assert_eq!(keys["days"], 10.0);
    // Successes in the period: d2, d4, d5 (rolled back), d6 (the rollback), d8: 5 in 10 days.
    assert_eq!(
        keys["deployment_frequency"],
        json!({"successful": 5, "per_day": 0.5, "per_week": 3.5})
    );
    // c1 2h, c2 1h (d2 at 09:30); c3 24h, c4 1h (d4 at 4 Nov 10:30); c5 1h (d5); c6 2h (d8; c5
    // came again after the rollback and counts once). Sorted 1h 1h 1h 2h 2h 24h: median
    // (1h + 2h) / 2 = 5400 s, p90 rank 6 = 86400 s.
    assert_eq!(
        keys["lead_time"],
        json!({"commits": 6, "median_seconds": 5400.0, "p90_seconds": 86400})
    );
    // Finished: d2..d9 (8); failed: d3, d5 (rolled back), d7 (error), d9; d10 still running.
    assert_eq!(
        keys["change_failure_rate"],
        json!({"finished": 8, "failed": 4, "rate": 0.5, "pending": 1})
    );
    // d3 → d4: 22h10m = 79800 s; d5 → d6: 3600 s; d7 → d8: 86400 s; d9 never. Median 79800.
    assert_eq!(
        keys["time_to_restore"],
        json!({"failures": 4, "restored": 3, "unrestored": 1, "median_seconds": 79800.0})
    );
    let rows = keys["deployments"].as_array().unwrap();
    let listed: Vec<u64> = rows.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(
        listed,
        ids[2..],
        "the period's deployments, in the order they finished"
    );
    let row = |id: u64| rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(row(ids[2])["ref"], "v2");
    assert_eq!(row(ids[2])["release"], "Two");
    assert_eq!(row(ids[2])["finished_at"], "2026-11-02T09:30:00Z");
    assert_eq!(row(ids[2])["commits"], 2);
    assert_eq!(row(ids[3])["state"], "failure");
    assert_eq!(row(ids[3])["restored_at"], "2026-11-04T10:30:00Z");
    assert_eq!(row(ids[5])["rolled_back"], true);
    assert_eq!(row(ids[6])["commits"], 0);
    assert_eq!(row(ids[7])["state"], "error");
    assert_eq!(row(ids[8])["commits"], 1);
    assert_eq!(row(ids[9])["restored_at"], Value::Null);
    assert_eq!(row(ids[10])["state"], "pending");

    // Two deployments a page, newest first: the fifth page holds the base (31 Oct), so the
    // sixth, with the older deployment, is never read, nor its statuses.
    let requests = seed.sim.requests();
    let pages: Vec<&str> = requests
        .iter()
        .filter(|r| r.path == "/repos/acme/service/deployments" && r.method == "GET")
        .map(|r| r.query.as_str())
        .collect();
    assert_eq!(pages.len(), 5, "{pages:?}");
    assert!(pages.iter().all(|q| q.contains("environment=production")));
    let old_statuses = format!("/repos/acme/service/deployments/{}/statuses", ids[0]);
    assert!(!requests.iter().any(|r| r.path == old_statuses));
    assert!(
        requests
            .iter()
            .all(|r| r.identity.as_deref() == Some("reader"))
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("read 10 deployments to production (5 pages) and their statuses"),
        "{stderr}"
    );
    let per_page: Vec<&str> = stderr.lines().filter(|l| l.contains(": page ")).collect();
    assert_eq!(
        per_page.len(),
        5,
        "one plain line a page off a terminal: {stderr}"
    );
    assert!(stderr.contains("compared 5 pairs of successive deployed commits"));
}

#[test]
fn the_keys_of_ten_days_as_a_table_and_a_page_despite_faults() {
    let (seed, ids) = ten_days();
    seed.sim.add_fault(
        Fault::new(
            "GET",
            "/repos/*/*/deployments/*/statuses",
            FaultAction::SecondaryRateLimit {
                status: 403,
                retry_after: 1,
            },
        )
        .times(1),
    );
    seed.sim.add_fault(
        Fault::new(
            "GET",
            "/repos/*/*/compare/*",
            FaultAction::Status { status: 502 },
        )
        .times(1),
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("reports/dora.html");
    let output = dora_of(&seed, &["--html", page.to_str().unwrap()]);
    let table = text(&output.stdout);
    let expected_keys = [
        "DORA keys of acme/service in production, 2026-11-01T00:00:00Z to 2026-11-11T00:00:00Z (10 days)",
        "  deployment frequency   5 successful · 0.50 a day · 3.50 a week",
        "  lead time for changes  median 1h 30m · p90 1d (6 commits)",
        "  change failure rate    50.0% (4 of 8 finished deployments failed; 1 pending)",
        "  time to restore        median 22h 10m (3 of 4 failures restored)",
    ];
    for line in expected_keys {
        assert!(table.lines().any(|l| l == line), "{line:?} in\n{table}");
    }
    let row = |id: u64| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&id.to_string()))
            .unwrap_or_else(|| panic!("a row for {id} in\n{table}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(row(ids[2])[1..2], ["v2"]);
    assert_eq!(
        row(ids[3])[3..],
        [
            "failure",
            "2026-11-03T12:20:00Z",
            "-",
            "2026-11-04T10:30:00Z"
        ]
    );
    assert_eq!(row(ids[5])[3..5], ["rolled", "back"]);
    assert_eq!(row(ids[10])[3..], ["pending", "-", "-"]);

    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("GitHub secondary rate limit on GET /repos/acme/service/deployments/"),
        "{stderr}"
    );
    assert!(
        stderr.contains("read 11 deployments to production (1 page) and their statuses"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN) && !table.contains(TOKEN));
    let faults: Vec<_> = seed
        .sim
        .requests()
        .into_iter()
        .filter_map(|r| r.fault)
        .collect();
    assert_eq!(faults.len(), 2, "both faults were met: {faults:?}");

    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<svg class=\"chart\""), "the chart");
    assert!(html.contains("<title>2026-11-03: 0 succeeded, 1 failed</title>"));
    assert!(
        html.contains("<title>2026-11-06: 1 succeeded, 1 failed</title>"),
        "d6, and d5 rolled back"
    );
    assert!(html.contains("<title>2026-11-10: 0 succeeded, 1 failed</title>"));
    assert!(html.contains("<td>50.0% (4 of 8 finished deployments failed; 1 pending)</td>"));
    assert!(
        !html.contains("<script") && !html.contains("<link"),
        "nothing fetched"
    );
}

#[test]
fn an_environment_without_deployments_has_zero_frequency_and_a_warning() {
    let (seed, _) = ten_days();
    let output = dora_of(&seed, &["--environment", "prod", "--json"]);
    let keys: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys["environment"], "prod");
    assert_eq!(
        keys["deployment_frequency"],
        json!({"successful": 0, "per_day": 0.0, "per_week": 0.0})
    );
    assert_eq!(
        keys["lead_time"],
        json!({"commits": 0, "median_seconds": null, "p90_seconds": null})
    );
    assert_eq!(
        keys["change_failure_rate"],
        json!({"finished": 0, "failed": 0, "rate": null, "pending": 0})
    );
    assert_eq!(keys["deployments"], json!([]));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "warning: acme/service has no deployments to `prod` at all: check --environment"
        ),
        "{stderr}"
    );
}
