//! The standalone binary's edges: bad inputs fail loudly with a non-zero exit code.

use std::process::Command;

fn run(args: &[&str], files: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_kube-sim"))
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .output()
        .expect("run kube-sim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn rejects_unserved_kinds_invalid_objects_and_bad_catalogues() {
    let (code, stdout, stderr) = run(
        &["--manifests", "m.yaml"],
        &[(
            "m.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        )],
    );
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.contains("kube-sim does not serve ConfigMap (v1)"),
        "{stderr}"
    );

    let bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: other}}\n    spec: {containers: [{name: app, image: x}]}\n";
    let (code, _, stderr) = run(&["--manifests", "m.yaml"], &[("m.yaml", bad)]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("failed to create Deployment default/web from the manifests"),
        "{stderr}"
    );
    assert!(
        stderr.contains("selector does not match template labels"),
        "{stderr}"
    );

    let (code, _, stderr) = run(
        &["--images", "i.yaml"],
        &[("i.yaml", "images:\n  - image: x\n    pull: sometimes\n")],
    );
    assert_eq!(code, 1);
    assert!(stderr.contains("pull must be ok or fail"), "{stderr}");

    let (code, _, stderr) = run(&["--time-scale", "0"], &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("--time-scale must be a positive number"),
        "{stderr}"
    );
}

#[test]
fn a_token_policy_file_must_hold_roles() {
    let (code, _, stderr) = run(
        &["--token", "t:user:r.yaml"],
        &[(
            "r.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: x, namespace: prod}\n",
        )],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("expected kind Role or ClusterRole, got RoleBinding"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["--token", "t:user:missing.yaml"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("access must be read, deploy, admin or a file of Roles and ClusterRoles"),
        "{stderr}"
    );
}
