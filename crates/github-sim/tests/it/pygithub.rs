//! An independent client, `PyGitHub`, drives the core flows against the standalone binary.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{hermetic, standalone};

#[test]
fn pygithub_drives_the_core_flows() {
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
            .arg(dir.join("tests/pygithub_flow.py"))
            .arg(&url),
    )
    .output()
    .expect("python3 runs");
    drop(server);
    assert!(
        out.status.success(),
        "pygithub_flow.py failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ALL FLOWS OK"));
}
