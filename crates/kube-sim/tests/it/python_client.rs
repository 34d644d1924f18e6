//! The official Python `kubernetes` client drives the core flows against the standalone binary:
//! create, watch, list, read and patch Deployments, list Pods, read logs, and its error paths.

use std::path::Path;
use std::process::Command;

use crate::common::{Binary, deployment_yaml, hermetic};

#[test]
fn python_kubernetes_client_drives_the_core_flows() {
    let importable = hermetic(Command::new("python3").args(["-c", "import kubernetes"]))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        importable,
        "the Python kubernetes client is not importable: run .ci/install or pip install kubernetes"
    );
    let bin = Binary::start(
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
        50.0,
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python_kubernetes_flow.py");
    let out = hermetic(Command::new("python3").arg(&script).arg(bin.kubeconfig()))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("ALL FLOWS OK"),
        "python_kubernetes_flow.py failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
