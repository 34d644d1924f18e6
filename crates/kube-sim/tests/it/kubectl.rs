//! The stock kubectl against the standalone `kube-sim` binary: each test asserts what kubectl
//! printed and its exit code.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;

use crate::common::{Binary, Out, deployment_yaml, kubectl_path, squash, wait_for_jsonpath};

const SCALE: f64 = 50.0;

fn started(extra_spec: &str) -> Binary {
    let bin = Binary::start(
        &deployment_yaml("prod", "web", 3, "registry.example/app:1.0", extra_spec),
        SCALE,
    );
    let out = rollout_status(&bin);
    assert_eq!(out.code, 0, "initial rollout: {out:?}");
    bin
}

/// `kubectl rollout status deploy/web`, waiting at most 30 s.
fn rollout_status(bin: &Binary) -> Out {
    bin.kubectl(&[
        "-n",
        "prod",
        "rollout",
        "status",
        "deploy/web",
        "--timeout=30s",
    ])
}

fn image_of(bin: &Binary) -> String {
    bin.kubectl(&[
        "-n",
        "prod",
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ])
    .stdout
}

#[test]
fn get_deploy_rs_pods_after_a_rollout() {
    let bin = started("");
    assert!(
        bin.kubectl(&["version"])
            .stdout
            .contains("Server Version: v1.33.0+kube-sim")
    );
    let kubeconfig = std::fs::read_to_string(bin.kubeconfig()).expect("kubeconfig written");
    assert!(
        kubeconfig.contains(&format!("server: {}", bin.url)),
        "{kubeconfig}"
    );
    let out = bin.kubectl(&["-n", "prod", "get", "deploy,rs,pods"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "");
    let text = squash(&out.stdout);
    assert!(
        text.contains("NAME READY UP-TO-DATE AVAILABLE AGE"),
        "{text}"
    );
    assert!(text.contains("deployment.apps/web 3/3 3 3 "), "{text}");
    assert!(text.contains("NAME DESIRED CURRENT READY AGE"), "{text}");
    let rs_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("replicaset.apps/web-"))
        .collect();
    assert_eq!(rs_lines.len(), 1, "{text}");
    assert!(rs_lines[0].contains(" 3 3 3 "), "{text}");
    let pods: Vec<&str> = text.lines().filter(|l| l.starts_with("pod/web-")).collect();
    assert_eq!(pods.len(), 3, "{text}");
    assert!(pods.iter().all(|l| l.contains(" 1/1 Running 0 ")), "{text}");
    let wide = bin.kubectl(&[
        "-n",
        "prod",
        "get",
        "deploy",
        "web",
        "-o",
        "wide",
        "--no-headers",
    ]);
    assert!(
        squash(&wide.stdout).contains("app registry.example/app:1.0 app=web"),
        "{wide:?}"
    );
    let missing = bin.kubectl(&["-n", "prod", "get", "deploy", "nope"]);
    assert_eq!(missing.code, 1);
    assert_eq!(
        missing.stderr.trim(),
        "Error from server (NotFound): deployments.apps \"nope\" not found"
    );
}

#[test]
fn set_image_then_rollout_status_succeeds() {
    let bin = started("");
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "set",
        "image",
        "deploy/web",
        "app=registry.example/app:1.1",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web image updated\n"),
        "{out:?}"
    );
    let out = rollout_status(&bin);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout.lines().last(),
        Some("deployment \"web\" successfully rolled out"),
        "{out:?}"
    );
    // Old pods stay Terminating for a moment after the rollout; wait until they are gone.
    let mut images = Vec::new();
    for _ in 0..50 {
        let pods = bin.kubectl(&[
            "-n",
            "prod",
            "get",
            "pods",
            "-o",
            "jsonpath={range .items[*]}{.spec.containers[0].image}{\"\\n\"}{end}",
        ]);
        images = pods.stdout.lines().map(str::to_owned).collect::<Vec<_>>();
        if images.len() == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(images, vec!["registry.example/app:1.1"; 3]);
}

#[test]
fn rollout_status_fails_on_a_bad_image_then_undo_recovers() {
    let bin = started("  progressDeadlineSeconds: 60\n");
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "set",
        "image",
        "deploy/web",
        "app=registry.example/app:does-not-exist",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = rollout_status(&bin);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "error: deployment \"web\" exceeded its progress deadline",
        "{out:?}"
    );
    assert!(out.stdout.contains("Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated..."), "{out:?}");
    let pods = squash(&bin.kubectl(&["-n", "prod", "get", "pods"]).stdout);
    assert!(
        pods.contains(" 0/1 ImagePullBackOff ") || pods.contains(" 0/1 ErrImagePull "),
        "{pods}"
    );
    let events = bin.kubectl(&["-n", "prod", "get", "events"]);
    assert!(
        events
            .stdout
            .contains("Failed to pull image \"registry.example/app:does-not-exist\""),
        "{events:?}"
    );

    let history = bin.kubectl(&["-n", "prod", "rollout", "history", "deploy/web"]);
    assert_eq!(
        squash(&history.stdout),
        "deployment.apps/web\nREVISION CHANGE-CAUSE\n1 <none>\n2 <none>\n",
        "{history:?}"
    );
    let out = bin.kubectl(&["-n", "prod", "rollout", "undo", "deploy/web"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web rolled back\n"),
        "{out:?}"
    );
    let out = rollout_status(&bin);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(image_of(&bin), "registry.example/app:1.0");
    let history = bin.kubectl(&["-n", "prod", "rollout", "history", "deploy/web"]);
    assert_eq!(
        squash(&history.stdout),
        "deployment.apps/web\nREVISION CHANGE-CAUSE\n2 <none>\n3 <none>\n",
        "{history:?}"
    );
}

#[test]
fn rollout_history_and_undo_to_revision() {
    let bin = started("");
    for (v, cause) in [("1.1", "release 1.1"), ("1.2", "release 1.2")] {
        let out = bin.kubectl(&[
            "-n",
            "prod",
            "set",
            "image",
            "deploy/web",
            &format!("app=registry.example/app:{v}"),
        ]);
        assert_eq!(out.code, 0, "{out:?}");
        let out = bin.kubectl(&[
            "-n",
            "prod",
            "annotate",
            "deploy/web",
            &format!("kubernetes.io/change-cause={cause}"),
            "--overwrite",
        ]);
        assert_eq!(out.code, 0, "{out:?}");
        assert_eq!(rollout_status(&bin).code, 0);
    }
    let history = bin.kubectl(&["-n", "prod", "rollout", "history", "deploy/web"]);
    assert_eq!(
        squash(&history.stdout),
        "deployment.apps/web\nREVISION CHANGE-CAUSE\n1 <none>\n2 release 1.1\n3 release 1.2\n",
        "{history:?}"
    );
    let rev = bin.kubectl(&[
        "-n",
        "prod",
        "rollout",
        "history",
        "deploy/web",
        "--revision=2",
    ]);
    assert!(
        rev.stdout.contains("Image:\tregistry.example/app:1.1")
            || squash(&rev.stdout).contains("Image: registry.example/app:1.1"),
        "{rev:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "rollout",
        "undo",
        "deploy/web",
        "--to-revision=1",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web rolled back\n"),
        "{out:?}"
    );
    assert_eq!(rollout_status(&bin).code, 0);
    assert_eq!(image_of(&bin), "registry.example/app:1.0");
    let history = bin.kubectl(&["-n", "prod", "rollout", "history", "deploy/web"]);
    assert_eq!(
        squash(&history.stdout),
        "deployment.apps/web\nREVISION CHANGE-CAUSE\n2 release 1.1\n3 release 1.2\n4 <none>\n",
        "{history:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "rollout",
        "undo",
        "deploy/web",
        "--to-revision=4",
    ]);
    assert_eq!(
        out.stdout,
        "deployment.apps/web skipped rollback (current template already matches revision 4)\n",
        "{out:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "rollout",
        "undo",
        "deploy/web",
        "--to-revision=9",
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("unable to find specified revision 9 in history"),
        "{out:?}"
    );
}

#[test]
fn set_image_dry_run_server_changes_nothing() {
    let bin = started("");
    let before = bin
        .kubectl(&[
            "-n",
            "prod",
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.resourceVersion}/{.metadata.generation}",
        ])
        .stdout;
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "set",
        "image",
        "deploy/web",
        "app=registry.example/app:1.9",
        "--dry-run=server",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "registry.example/app:1.9"),
        "{out:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "set",
        "image",
        "deploy/web",
        "app=registry.example/app:1.9",
        "--dry-run=server",
    ]);
    assert_eq!(
        out.stdout, "deployment.apps/web image updated (server dry run)\n",
        "{out:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "set",
        "image",
        "deploy/web",
        "nosuch=registry.example/app:1.9",
        "--dry-run=server",
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("unable to find container named \"nosuch\""),
        "{out:?}"
    );
    let after = bin
        .kubectl(&[
            "-n",
            "prod",
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.metadata.resourceVersion}/{.metadata.generation}",
        ])
        .stdout;
    assert_eq!(before, after);
    assert_eq!(image_of(&bin), "registry.example/app:1.0");
}

#[test]
fn patch_strategic_merge_and_json_with_test() {
    let bin = started("");
    let out = bin.kubectl(&["-n", "prod", "patch", "deploy", "web", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"}]}]}}}}"#]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web patched\n"),
        "{out:?}"
    );
    let env = bin.kubectl(&["-n", "prod", "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].name}"]);
    assert_eq!(
        env.stdout, "registry.example/app:1.0 A",
        "strategic merge keeps the image: {env:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":2}}"#,
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = bin.kubectl(&["-n", "prod", "patch", "deploy", "web", "--type=json", "-p", r#"[{"op":"test","path":"/spec/replicas","value":5},{"op":"replace","path":"/spec/replicas","value":1}]"#]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("test failed"), "{out:?}");
    let out = bin.kubectl(&["-n", "prod", "patch", "deploy", "web", "--type=json", "-p", r#"[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":1}]"#]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web patched\n"),
        "{out:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":1}}"#,
    ]);
    assert_eq!(
        out.stdout, "deployment.apps/web patched (no change)\n",
        "{out:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "patch",
        "deploy",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"template":{"metadata":{"labels":{"app":"other"}}}}}"#,
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("is invalid"), "{out:?}");
}

#[test]
fn get_watch_prints_changes() {
    let bin = started("");
    let mut child = Command::new(kubectl_path())
        .arg("--kubeconfig")
        .arg(bin.kubeconfig())
        .args(["-n", "prod", "get", "deploy", "web", "-w"])
        .env_clear()
        .env("HOME", bin.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl get -w");
    // Lines arrive on a channel, so the test waits for what it expects instead of sleeping.
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |prefix: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                let hit = squash(&line).starts_with(prefix);
                seen.push(line);
                if hit {
                    return;
                }
            }
        }
        panic!("kubectl get -w never printed {prefix:?}: {seen:?}");
    };
    wait_for("web 3/3 3 3 ");
    let out = bin.kubectl(&["-n", "prod", "scale", "deploy/web", "--replicas=1"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web scaled\n"),
        "{out:?}"
    );
    wait_for("web 1/1 1 1 ");
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    let stdout = seen.join("\n");
    let text = squash(&stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("NAME READY UP-TO-DATE AVAILABLE AGE"),
        "{text}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("NAME")).count(),
        1,
        "headers once: {text}"
    );
    assert!(
        lines.get(1).is_some_and(|l| l.starts_with("web 3/3 3 3 ")),
        "{text}"
    );
    assert!(
        lines.last().is_some_and(|l| l.starts_with("web 1/1 1 1 ")),
        "{text}"
    );
}

#[test]
fn create_namespace_and_deployment_then_read_logs() {
    let bin = Binary::start(
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
        SCALE,
    );
    let out = bin.kubectl(&["create", "namespace", "staging"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "namespace/staging created\n"),
        "{out:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "staging",
        "create",
        "deployment",
        "api",
        "--image=registry.example/app:1.0",
        "--replicas=2",
        "--port=8080",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/api created\n"),
        "{out:?}"
    );
    let out = bin.kubectl(&[
        "-n",
        "staging",
        "rollout",
        "status",
        "deploy/api",
        "--timeout=30s",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let port = bin.kubectl(&[
        "-n",
        "staging",
        "get",
        "deploy",
        "api",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].ports[0].containerPort}",
    ]);
    assert_eq!(port.stdout, "8080");
    let out = bin.kubectl(&["-n", "staging", "logs", "deploy/api"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "listening on :8080\n"),
        "{out:?}"
    );

    let out = bin.kubectl(&[
        "-n",
        "staging",
        "create",
        "deployment",
        "crash",
        "--image=registry.example/app:crash",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    wait_for_jsonpath(
        &bin,
        "staging",
        "pods",
        "{.items[?(@.metadata.labels.app==\"crash\")].status.containerStatuses[0].state.waiting.reason}",
        "CrashLoopBackOff",
    );
    let out = bin.kubectl(&["-n", "staging", "logs", "deploy/crash", "--previous"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "starting\npanic: no database configured\n"),
        "{out:?}"
    );

    let out = bin.kubectl(&[
        "-n",
        "staging",
        "create",
        "deployment",
        "nope",
        "--image=registry.example/app:nope",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    wait_for_jsonpath(
        &bin,
        "staging",
        "pods",
        "{.items[?(@.metadata.labels.app==\"nope\")].status.containerStatuses[0].state.waiting.reason}",
        "ImagePullBackOff",
    );
    let out = bin.kubectl(&["-n", "staging", "logs", "deploy/nope"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("is waiting to start: trying and failing to pull image"),
        "{out:?}"
    );
}

#[test]
fn tls_and_tokens_are_checked_as_a_real_server_checks_them() {
    let bin = Binary::start_with(
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
        SCALE,
        &[
            "--tls",
            "--token",
            "admin-secret:admin:admin",
            "--token",
            "reader-secret:system:serviceaccount:ci:reader:read",
        ],
    );
    assert!(bin.url.starts_with("https://"), "{}", bin.url);
    let kubeconfig = std::fs::read_to_string(bin.kubeconfig()).expect("kubeconfig");
    assert!(
        kubeconfig.contains("certificate-authority-data: "),
        "{kubeconfig}"
    );
    let out = bin.kubectl(&["-n", "prod", "get", "deploy", "web", "-o", "name"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web\n"),
        "{out:?}"
    );

    let out = bin.kubectl(&["--token=wrong", "-n", "prod", "get", "deploy", "web"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("You must be logged in to the server")
            || out.stderr.contains("Unauthorized"),
        "{out:?}"
    );
    let out = bin.kubectl(&[
        "--token=reader-secret",
        "-n",
        "prod",
        "get",
        "deploy",
        "web",
        "-o",
        "name",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = bin.kubectl(&[
        "--token=reader-secret",
        "-n",
        "prod",
        "scale",
        "deploy/web",
        "--replicas=2",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "Error from server (Forbidden): deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ci:reader\" cannot "
        ) && out.stderr.contains(
            "resource \"deployments/scale\" in API group \"apps\" in the namespace \"prod\""
        ),
        "{out:?}"
    );
    let untrusting = bin.dir.path().join("untrusting");
    let without_ca: Vec<&str> = kubeconfig
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .collect();
    std::fs::write(&untrusting, without_ca.join("\n")).expect("write kubeconfig");
    let out = crate::common::kubectl(
        &untrusting,
        bin.dir.path(),
        &["-n", "prod", "get", "deploy"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("certificate signed by unknown authority"),
        "a client that does not trust the CA is refused: {out:?}"
    );
}

/// The binary serving a certificate a shared private CA signed (`--tls-cert`, `--tls-key`,
/// `--tls-ca`): the kubeconfig it writes trusts that CA, and kubectl verifies the server with it.
#[test]
fn a_certificate_from_a_shared_ca_is_served_and_its_ca_written_into_the_kubeconfig() {
    let ca = sim_tls::Ca::new("corp CA").expect("a CA");
    let identity = ca.issue("kube-sim").expect("a certificate");
    let files = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    };
    let (cert, key, ca_file) = (
        file("cert.pem", &identity.cert_pem),
        file("key.pem", identity.key_pem()),
        file("ca.pem", &ca.pem()),
    );
    let bin = Binary::start_with(
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
        SCALE,
        &["--tls-cert", &cert, "--tls-key", &key, "--tls-ca", &ca_file],
    );
    assert!(bin.url.starts_with("https://"), "{}", bin.url);
    let kubeconfig = std::fs::read_to_string(bin.kubeconfig()).expect("kubeconfig");
    let trusted = base64::engine::general_purpose::STANDARD.encode(ca.pem());
    assert!(
        kubeconfig.contains(&format!("certificate-authority-data: {trusted}")),
        "{kubeconfig}"
    );
    let out = bin.kubectl(&["-n", "prod", "get", "deploy", "web", "-o", "name"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web\n"),
        "{out:?}"
    );
    let other = sim_tls::Ca::new("another CA").expect("a CA");
    let untrusting = bin.dir.path().join("untrusting");
    let other_data = base64::engine::general_purpose::STANDARD.encode(other.pem());
    std::fs::write(&untrusting, kubeconfig.replace(&trusted, &other_data)).expect("write");
    let out = crate::common::kubectl(
        &untrusting,
        bin.dir.path(),
        &["-n", "prod", "get", "deploy"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("certificate signed by unknown authority"),
        "another CA is refused: {out:?}"
    );
}

/// A deploy tool's Role in `prod`: what kubectl may and may not do with it.
const DEPLOYER_ROLE: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: prod}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, patch]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [list, watch]
";

#[test]
fn a_token_with_a_role_file_gets_exactly_its_verbs_on_its_resources_in_its_namespace() {
    let roles = tempfile::tempdir().expect("tempdir");
    let role = roles.path().join("deployer.yaml");
    std::fs::write(&role, DEPLOYER_ROLE).expect("write role");
    let grant = format!(
        "deployer-secret:system:serviceaccount:ci:deployer:{}",
        role.display()
    );
    let bin = Binary::start_with(
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
        SCALE,
        &[
            "--tls",
            "--token",
            "admin-secret:admin:admin",
            "--token",
            &grant,
        ],
    );
    let as_deployer = |args: &[&str]| {
        let mut all = vec!["--token=deployer-secret"];
        all.extend_from_slice(args);
        bin.kubectl(&all)
    };
    let out = as_deployer(&["-n", "prod", "get", "deploy", "web", "-o", "name"]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps/web\n"),
        "{out:?}"
    );
    let out = as_deployer(&[
        "-n",
        "prod",
        "set",
        "image",
        "deploy/web",
        "app=registry.example/app:1.1",
    ]);
    assert_eq!(out.code, 0, "patch is allowed: {out:?}");
    assert_eq!(image_of(&bin), "registry.example/app:1.1");
    let forbidden = |out: &Out, rest: &str| {
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .contains(&format!("Error from server (Forbidden): {rest}")),
            "{out:?}"
        );
    };
    // A verb the rules do not list.
    forbidden(
        &as_deployer(&["-n", "prod", "delete", "deploy", "web"]),
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ci:deployer\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"prod\"",
    );
    // A subresource is its own resource.
    forbidden(
        &as_deployer(&["-n", "prod", "scale", "deploy/web", "--replicas=2"]),
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ci:deployer\" cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace \"prod\"",
    );
    // A resource of another group the rules do not name.
    forbidden(
        &as_deployer(&["-n", "prod", "get", "pods"]),
        "pods is forbidden: User \"system:serviceaccount:ci:deployer\" cannot list resource \"pods\" in API group \"\" in the namespace \"prod\"",
    );
    // A Role applies in its namespace only.
    forbidden(
        &as_deployer(&["-n", "default", "get", "deploy"]),
        "deployments.apps is forbidden: User \"system:serviceaccount:ci:deployer\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"default\"",
    );
    forbidden(
        &as_deployer(&["get", "deploy", "--all-namespaces"]),
        "deployments.apps is forbidden: User \"system:serviceaccount:ci:deployer\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope",
    );
    let out = bin.kubectl(&[
        "--token=admin-secret",
        "-n",
        "prod",
        "get",
        "pods",
        "-o",
        "name",
    ]);
    assert_eq!(
        out.code, 0,
        "the admin shorthand still allows everything: {out:?}"
    );
}

#[test]
fn delete_with_foreground_cascade_waits_for_the_pods() {
    let bin = started("");
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "delete",
        "deploy/web",
        "--cascade=foreground",
        "--timeout=30s",
    ]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "deployment.apps \"web\" deleted\n"),
        "{out:?}"
    );
    let out = bin.kubectl(&["-n", "prod", "get", "deploy,rs,pods", "-o", "name"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
}

/// The routes the README lists as not simulated fail loudly, as it says.
#[test]
fn unserved_routes_fail_as_the_readme_says() {
    let bin = started("");
    let out = bin.kubectl(&["auth", "can-i", "patch", "deployments"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "kube-sim does not serve /apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
        ),
        "{out:?}"
    );
    // Services are served: cluster-info finds no cluster services in kube-system and says so.
    let out = bin.kubectl(&["cluster-info"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("Kubernetes control plane is running at http://127.0.0.1:"),
        "{out:?}"
    );
    let out = bin.kubectl(&["get", "--raw", "/apis/events.k8s.io/v1/events"]);
    assert_eq!(out.code, 1, "{out:?}");
    let out = bin.kubectl(&["-n", "prod", "events", "--for=deployment/web"]);
    assert_eq!(
        out.code, 0,
        "core v1 Events serve `kubectl events`: {out:?}"
    );
    assert!(out.stdout.contains("ScalingReplicaSet"), "{out:?}");
}

/// A concurrent-patch fault: the other writer's merge patch lands just before kubectl's patch, so
/// a patch carrying the `resourceVersion` kubectl read is a genuine 409, and the other write stays.
#[test]
fn a_concurrent_patch_makes_a_write_with_the_version_read_conflict() {
    let sim = kube_sim::KubeSim::spawn(crate::common::config(
        SCALE,
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
    ))
    .expect("simulator starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let kubectl = |args: &[&str]| crate::common::kubectl(&kubeconfig, dir.path(), args);
    let field = |path: &str| {
        kubectl(&[
            "-n",
            "prod",
            "get",
            "deploy",
            "web",
            "-o",
            &format!("jsonpath={path}"),
        ])
        .stdout
    };
    // `kubectl patch` with the resourceVersion it reads first: an optimistic-concurrency write.
    let patch_with_version_read = || {
        let version = field("{.metadata.resourceVersion}");
        let patch = format!(
            r#"{{"metadata":{{"resourceVersion":"{version}","annotations":{{"mine":"ours"}}}}}}"#
        );
        kubectl(&[
            "-n",
            "prod",
            "patch",
            "deploy",
            "web",
            "--type=merge",
            "-p",
            &patch,
        ])
    };
    sim.add_fault(
        kube_sim::Fault::concurrent_patch(serde_json::json!({
            "metadata": {"annotations": {"other": "theirs"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "registry.example/app:1.3"}
            ]}}},
        }))
        .on(kube_sim::Verb::Patch)
        .times(1),
    );
    let out = patch_with_version_read();
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "Error from server (Conflict): Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(
        field("{.spec.template.spec.containers[0].image}"),
        "registry.example/app:1.3"
    );
    assert_eq!(field("{.metadata.annotations.other}"), "theirs");
    assert_eq!(field("{.metadata.annotations.mine}"), "");
    // The fault fired once: the same patch on the fresh version is accepted.
    let out = patch_with_version_read();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(field("{.metadata.annotations.mine}"), "ours");
}
