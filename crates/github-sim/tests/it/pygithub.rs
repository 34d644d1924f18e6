//! An independent client, `PyGitHub`, drives the core flows and release assets against the
//! standalone binary.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{hermetic, standalone};

/// Runs `tests/{script}` with `PyGitHub` against the binary serving `tests/pygithub_world.yaml`;
/// asserts it succeeded and printed `done`.
fn run_script(script: &str, done: &str) {
    let importable = hermetic(Command::new("python3").args(["-c", "import github"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        importable,
        "PyGitHub is not importable: run .ci/run or pip install PyGitHub"
    );

    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (server, url) = standalone(&dir.join("tests/pygithub_world.yaml"));
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

#[test]
fn pygithub_drives_the_core_flows() {
    run_script("pygithub_flow.py", "ALL FLOWS OK");
}

#[test]
fn pygithub_uploads_lists_renames_deletes_and_downloads_release_assets() {
    run_script("pygithub_assets.py", "ASSETS OK");
}
