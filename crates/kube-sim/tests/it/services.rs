//! Services and their Endpoints through clients this project did not write: kubectl exposes a
//! Deployment, reads the Service and the Endpoints the controller computed from ready pods,
//! switches the selector, replaces with a stale `resourceVersion` (409) and deletes; the Python
//! `kubernetes` client creates, lists, watches, patches and replaces.

use std::path::Path;
use std::process::Command;

use crate::common::{Binary, deployment_yaml, hermetic, squash, wait_for_jsonpath};

/// `web` on 1.0 (2 replicas) and `web-green` on an image (never ready in a test's time),
/// both with a named port.
fn two_deployments() -> String {
    let port = "      ports: [{name: http, containerPort: 8080}]\n";
    let green = deployment_yaml(
        "prod",
        "web-green",
        1,
        "registry.example/app:never-ready",
        "",
    )
    .split("---\n")
    .nth(1)
    .expect("deployment document")
    .replace("{app: web-green}", "{app: web, slot: green}");
    format!(
        "{}{port}---\n{green}{port}",
        deployment_yaml("prod", "web", 2, "registry.example/app:1.0", "")
            .replace("{app: web}", "{app: web, slot: blue}")
    )
    .replace(
        "      - name: app\n        image: registry.example/app:1.0\n      ports",
        "      - name: app\n        image: registry.example/app:1.0\n        ports",
    )
    .replace(
        "      - name: app\n        image: registry.example/app:never-ready\n      ports",
        "      - name: app\n        image: registry.example/app:never-ready\n        ports",
    )
}

#[test]
fn kubectl_exposes_switches_and_deletes_a_service() {
    let bin = Binary::start(&two_deployments(), 50.0);
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "rollout",
        "status",
        "deploy/web",
        "--timeout=30s",
    ]);
    assert_eq!(out.code, 0, "{out:?}");

    let out = bin.kubectl(&[
        "-n",
        "prod",
        "expose",
        "deployment",
        "web",
        "--name",
        "web",
        "--port",
        "80",
        "--target-port",
        "http",
        "--selector",
        "app=web,slot=blue",
    ]);
    assert_eq!(out.stdout, "service/web exposed\n", "{out:?}");
    let out = bin.kubectl(&["-n", "prod", "get", "svc", "web", "-o", "wide"]);
    let table = squash(&out.stdout);
    assert!(
        table.starts_with("NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR\n"),
        "{table}"
    );
    assert!(
        table.contains(" ClusterIP 10.96.") && table.contains(" <none> 80/TCP "),
        "{table}"
    );
    assert!(table.trim_end().ends_with(" app=web,slot=blue"), "{table}");

    // The two ready blue pods, by the container port the name `http` resolves to.
    let pod_ips = bin.kubectl(&[
        "-n",
        "prod",
        "get",
        "pods",
        "-l",
        "slot=blue",
        "-o",
        "jsonpath={range .items[*]}{.status.podIP}:8080 {end}",
    ]);
    let mut want: Vec<&str> = pod_ips.stdout.split_whitespace().collect();
    want.sort_unstable();
    let got = bin.kubectl(&[
        "-n",
        "prod",
        "get",
        "endpoints",
        "web",
        "-o",
        "jsonpath={range .subsets[*].addresses[*]}{.ip}:8080 {end}",
    ]);
    assert_eq!(got.stdout.split_whitespace().collect::<Vec<_>>(), want);
    let got = bin.kubectl(&[
        "-n",
        "prod",
        "get",
        "ep",
        "web",
        "-o",
        "jsonpath={.subsets[0].ports[0].port}",
    ]);
    assert_eq!(got.stdout, "8080");

    // Selector switched to the green pod, which is running but not ready.
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "patch",
        "svc",
        "web",
        "-p",
        r#"{"spec":{"selector":{"slot":"green"}}}"#,
    ]);
    assert_eq!(out.stdout, "service/web patched\n", "{out:?}");
    wait_for_jsonpath(
        &bin,
        "prod",
        "ep/web",
        "{.subsets[0].notReadyAddresses[0].targetRef.name}",
        &green_pod(&bin),
    );
    let out = bin.kubectl(&["-n", "prod", "get", "ep", "web"]);
    assert!(squash(&out.stdout).contains("\nweb <none> "), "{out:?}");

    // A replace carrying a resourceVersion the Service no longer has is a conflict.
    let stale = bin
        .kubectl(&["-n", "prod", "get", "svc", "web", "-o", "json"])
        .stdout;
    let out = bin.kubectl(&["-n", "prod", "label", "svc", "web", "touched=yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let file = bin.dir.path().join("stale.json");
    std::fs::write(&file, stale.replace("\"green\"", "\"blue\"")).expect("write");
    let out = bin.kubectl(&[
        "replace",
        "--validate=false",
        "-f",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "Operation cannot be fulfilled on services \"web\": the object has been modified"
        ),
        "{out:?}"
    );
    // The cluster IP is allocated once: changing it is refused.
    let out = bin.kubectl(&[
        "-n",
        "prod",
        "patch",
        "svc",
        "web",
        "-p",
        r#"{"spec":{"clusterIP":"10.96.9.9","clusterIPs":["10.96.9.9"]}}"#,
    ]);
    assert!(
        out.stderr.contains("spec.clusterIPs[0]: Invalid value")
            && out.stderr.contains("may not change once set"),
        "{out:?}"
    );

    let out = bin.kubectl(&["-n", "prod", "delete", "svc", "web"]);
    assert_eq!(out.stdout, "service \"web\" deleted\n", "{out:?}");
    let out = bin.kubectl(&["-n", "prod", "get", "ep", "web"]);
    assert!(
        out.stderr.contains("endpoints \"web\" not found"),
        "{out:?}"
    );
}

fn green_pod(bin: &Binary) -> String {
    bin.kubectl(&[
        "-n",
        "prod",
        "get",
        "pods",
        "-l",
        "slot=green",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ])
    .stdout
}

#[test]
fn python_kubernetes_client_drives_services() {
    let bin = Binary::start(&two_deployments(), 50.0);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python_kubernetes_services.py");
    let out = hermetic(Command::new("python3").arg(&script).arg(bin.kubeconfig()))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("SERVICES OK"),
        "python_kubernetes_services.py failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
