//! An independent client, `PyGitHub`, drives the core flows, release assets, GitHub App sign-in
//! and secondary rate limits (its own retry honouring them) against the standalone binary.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{hermetic, standalone};

/// Runs `tests/{script}` with `PyGitHub` against the binary serving `tests/{world}`; asserts it
/// succeeded and printed `done`. `modules` must be importable first (`hint` says how).
fn run_script(script: &str, world: &str, done: &str, modules: &str, hint: &str) {
    let importable = hermetic(Command::new("python3").args(["-c", &format!("import {modules}")]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(importable, "python3 cannot import {modules}: {hint}");

    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (server, url) = standalone(&dir.join("tests").join(world));
    let out = hermetic(
        Command::new("python3")
            .arg(dir.join("tests").join(script))
            .arg(&url),
    )
    .output()
    .expect("python3 runs");
    drop(server);
    assert!(
        out.status.success(),
        "{script} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(done));
}

/// The core flows and assets need `PyGitHub` alone.
fn run_core(script: &str, done: &str) {
    run_script(
        script,
        "pygithub_world.yaml",
        done,
        "github",
        "run .ci/install or pip install PyGitHub",
    );
}

#[test]
fn pygithub_drives_the_core_flows() {
    run_core("pygithub_flow.py", "ALL FLOWS OK");
}

#[test]
fn pygithub_uploads_lists_renames_deletes_and_downloads_release_assets() {
    run_core("pygithub_assets.py", "ASSETS OK");
}

#[test]
fn pygithub_signs_in_as_an_app_and_mints_narrowed_installation_tokens() {
    run_script(
        "pygithub_apps.py",
        "apps_world.yaml",
        "APPS OK",
        "github, jwt, cryptography",
        "run .ci/install or pip install PyGitHub 'PyJWT[crypto]'",
    );
}

#[test]
fn pygithub_retry_honours_the_secondary_rate_limit() {
    run_script(
        "pygithub_limits.py",
        "pygithub_limits.yaml",
        "LIMITS OK",
        "github",
        "run .ci/install or pip install PyGitHub",
    );
}

#[test]
fn pygithub_records_deployments_statuses_and_environments() {
    run_script(
        "pygithub_deployments.py",
        "pygithub_deployments.yaml",
        "DEPLOYMENTS OK",
        "github",
        "run .ci/install or pip install PyGitHub",
    );
}
