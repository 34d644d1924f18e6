//! An independent client, `PyGitHub`, drives the core flows against the standalone binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs a child with the ambient GitHub/runner environment stripped.
#[expect(
    clippy::disallowed_methods,
    reason = "tests list the ambient variables only to remove them from children"
)]
pub fn hermetic(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        if k.starts_with("GITHUB_") || k.starts_with("RUNNER_") || k.starts_with("ACTIONS_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
    let world = dir.join("tests/pygithub_world.yaml");
    let mut child = hermetic(
        Command::new(env!("CARGO_BIN_EXE_github-sim"))
            .arg("--world")
            .arg(&world),
    )
    .stdout(Stdio::piped())
    .spawn()
    .expect("github-sim starts");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let url = line.trim().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "first line is the base URL: {url:?}"
    );

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
