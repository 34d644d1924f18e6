//! An independent client, `PyGitHub`, drives the core flows, release assets, GitHub App sign-in
//! and secondary rate limits (its own retry honouring them) against the standalone binary.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{hermetic, standalone_with};

/// Runs `tests/{script}` with `PyGitHub` against the binary serving `tests/{world}`; asserts it
/// succeeded and printed `done`. `modules` must be importable first (`hint` says how).
fn run_script(script: &str, world: &str, done: &str, modules: &str, hint: &str) {
    run_served(script, world, done, modules, hint, &Served::default());
}

/// How the binary serves and what the client is told: extra server options and client
/// environment variables.
#[derive(Default)]
struct Served<'a> {
    server_args: Vec<&'a OsStr>,
    client_env: Vec<(&'a str, &'a OsStr)>,
}

fn run_served(
    script: &str,
    world: &str,
    done: &str,
    modules: &str,
    hint: &str,
    served: &Served<'_>,
) {
    let importable = hermetic(Command::new("python3").args(["-c", &format!("import {modules}")]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(importable, "python3 cannot import {modules}: {hint}");

    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (server, url) = standalone_with(&dir.join("tests").join(world), &served.server_args);
    let out = hermetic(
        Command::new("python3")
            .arg(dir.join("tests").join(script))
            .arg(&url)
            .envs(served.client_env.iter().copied()),
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

/// The binary over HTTPS with a certificate a private CA signed: `PyGitHub` (through `requests`)
/// trusts that CA from `REQUESTS_CA_BUNDLE`, runs the core flows, and finds every URL the API
/// reports (`url`, `html_url`, `download_url`, `upload_url`, pagination links) on https; without
/// the CA it refuses the server.
#[test]
fn pygithub_drives_the_core_flows_over_https_trusting_a_private_ca() {
    let ca = sim_tls::Ca::new("corp CA").unwrap();
    let identity = ca.issue("github-sim").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (cert, key, bundle) = (
        file("cert.pem", &identity.cert_pem),
        file("key.pem", identity.key_pem()),
        file("ca.pem", &ca.pem()),
    );
    let served = Served {
        server_args: vec![
            OsStr::new("--tls-cert"),
            cert.as_os_str(),
            OsStr::new("--tls-key"),
            key.as_os_str(),
        ],
        client_env: vec![("REQUESTS_CA_BUNDLE", bundle.as_os_str())],
    };
    for (script, done) in [
        ("pygithub_flow.py", "ALL FLOWS OK"),
        ("pygithub_tls.py", "TLS OK"),
    ] {
        run_served(
            script,
            "pygithub_world.yaml",
            done,
            "github",
            "run .ci/install or pip install PyGitHub",
            &served,
        );
    }
}
