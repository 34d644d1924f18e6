//! `gantry dora` as a person runs it: the binary against github-sim, its stdout, stderr and exit
//! code checked.

use std::process::{Command, Output};

use github_sim::{SimHandle, World};

/// A repository and a reader with a token; the clock frozen at a known time.
const WORLD: &str = r##"
clock: { start: "2026-11-01T00:00:00Z", scale: 0 }
identities:
  - { login: reader, kind: user, tokens: [ghp_dora_reader] }
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
