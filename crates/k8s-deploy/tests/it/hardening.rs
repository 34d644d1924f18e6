//! Hostile and malformed input: image references checked before anything is sent, kubeconfig
//! secrets that never show whatever the input form, and values that try to run workflow commands.

use base64::Engine as _;
use gantry_testkit::{ActionRun, Transcript};

use crate::common::{GOOD, NEXT, action, assert_exit, deployment, image, sim};

/// Asserts a bad-input refusal naming `input`, with nothing sent to the cluster.
fn assert_refused_before_any_request(run: &Transcript, sim: &kube_sim::KubeSim, input: &str) {
    assert_exit(run, 2);
    let errors = run.errors();
    assert_eq!(errors.len(), 1, "{}", run.render());
    assert!(
        errors[0].starts_with(&format!("input `{input}`: ")),
        "{}",
        run.render()
    );
    assert!(sim.requests().is_empty(), "{:#?}", sim.requests());
    assert_eq!(image(sim), GOOD);
}

/// Asserts the runner would obey nothing the values smuggled in, and no mask of a value the step
/// did not declare secret (the kubeconfig's secrets are masked, so no fixed list of them).
fn assert_no_injected_command(run: &Transcript) {
    run.assert_no_injected_command();
    for command in run.commands() {
        assert!(
            !(command.command == "add-mask" && command.data == "registry.example/app"),
            "{}",
            run.render()
        );
        assert!(!command.data.starts_with("PWNED"), "{}", run.render());
    }
}

#[test]
fn a_malformed_image_is_refused_before_any_request_under_the_input_that_set_it() {
    let sim = sim();
    let run = action(&sim, "registry.example/App:1.1").run();
    assert_refused_before_any_request(&run, &sim, "image");
    assert!(
        run.errors()[0].contains("invalid repository name"),
        "{}",
        run.render()
    );

    let parts = |name: &str, version: &str| {
        ActionRun::new(env!("CARGO_BIN_EXE_k8s-deploy"))
            .input("kubeconfig", sim.kubeconfig_yaml())
            .input("namespace", crate::common::NAMESPACE)
            .input("deployment", crate::common::DEPLOYMENT)
            .input("image-name", name)
            .input("version", version)
    };
    for (name, version, input) in [
        (
            "registry.example/app",
            "1.1##[add-mask]registry.example/app",
            "version",
        ),
        ("registry.example/app", "sha256:abc", "version"),
        (
            "registry.example/app",
            "v1\r::set-output name=pwned::yes",
            "version",
        ),
        ("registry.example/App", "1.1", "image-name"),
        ("registry.example/app:1.1", "1.1", "image-name"),
    ] {
        let run = parts(name, version).run();
        assert_refused_before_any_request(&run, &sim, input);
        assert_no_injected_command(&run);
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prod.env");
    std::fs::write(
        &path,
        "export IMAGE_NAME=registry.example/app\nexport IMAGE_VERSION=1.1##[add-mask]registry.example/app\nexport DEPLOYMENT_NAME=web\n",
    )
    .unwrap();
    let run = ActionRun::new(env!("CARGO_BIN_EXE_k8s-deploy"))
        .input("kubeconfig", sim.kubeconfig_yaml())
        .input("namespace", crate::common::NAMESPACE)
        .input("env-file", &path)
        .run();
    assert_refused_before_any_request(&run, &sim, "env-file");
    assert!(
        run.errors()[0].contains("IMAGE_VERSION"),
        "{}",
        run.render()
    );
    assert_no_injected_command(&run);
    assert_eq!(deployment(&sim).metadata.generation, Some(1));
}

#[test]
fn values_in_the_dry_run_diff_cannot_run_workflow_commands() {
    let sim = sim();
    for cause in [
        "release notes ##[set-output name=x;]PWNED",
        "release notes 1.1##[add-mask]registry.example/app",
        "release\r::set-output name=pwned::PWNED",
        "release\r##[set-output name=x;]PWNED",
    ] {
        // The server-side dry-run (auto on a pull request) and the client-side diff.
        for mode in ["auto", "client"] {
            let run = action(&sim, NEXT)
                .event("pull_request", &serde_json::json!({"number": 7}))
                .input("dry-run", mode)
                .input("change-cause", cause)
                .run();
            assert_exit(&run, 0);
            assert_eq!(run.output("result"), "dry-run");
            assert!(run.stdout.contains("PWNED") || run.stdout.contains("registry.example/app"));
            assert_no_injected_command(&run);
        }
    }
    // Values read from the live Deployment: its annotations show in the client-side diff too.
    crate::common::patch_deployment(
        &sim,
        serde_json::json!({"metadata": {"annotations": {
            "kubernetes.io/change-cause": "theirs\n::set-output name=pwned::PWNED",
            "gantry.dev/image": "x\r##[add-mask]registry.example/app",
        }}}),
    );
    let run = action(&sim, NEXT).input("dry-run", "client").run();
    assert_exit(&run, 0);
    assert!(run.stdout.contains("PWNED"), "{}", run.render());
    assert_no_injected_command(&run);
}

#[test]
fn a_bad_dry_run_or_source_is_refused_before_any_request() {
    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    let sim = sim();
    for (mode, sequence, revision, input) in [
        ("clientside", None, None, "dry-run"),
        ("Client", None, None, "dry-run"),
        ("yes", None, None, "dry-run"),
        ("false", Some("-1"), Some(SHA), "source-sequence"),
        ("false", Some("12abc"), Some(SHA), "source-sequence"),
        ("false", Some("1e3"), Some(SHA), "source-sequence"),
        (
            "false",
            Some("99999999999999999999"),
            Some(SHA),
            "source-sequence",
        ),
        ("false", Some("12"), Some("main"), "source-revision"),
        ("false", Some("12"), Some("0123456"), "source-revision"),
        (
            "false",
            Some("12\r::set-output name=pwned::PWNED"),
            Some(SHA),
            "source-sequence",
        ),
        ("false", Some("12"), None, "source-revision"),
        ("false", None, Some(SHA), "source-sequence"),
    ] {
        let mut run = action(&sim, NEXT).input("dry-run", mode);
        if let Some(sequence) = sequence {
            run = run.input("source-sequence", sequence);
        }
        if let Some(revision) = revision {
            run = run.input("source-revision", revision);
        }
        let run = run.run();
        assert_refused_before_any_request(&run, &sim, input);
        assert_no_injected_command(&run);
    }
}

/// A kubeconfig with every kind of secret a kubeconfig holds, that kube cannot use: the pasted
/// token makes `users[].user` a string where an object belongs.
fn kubeconfig_with_canaries(server: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: '{server}'}}
users:
- name: oidc
  user:
    auth-provider:
      name: oidc
      config:
        id-token: canary-id-token-1f2e
        refresh-token: canary-refresh-token-3d4c
        client-secret: canary-client-secret-5b6a
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: get-token
      env:
      - name: CLOUD_TOKEN
        value: canary-exec-env-7988
- name: basic
  user: {{username: admin, password: canary-password-a1b2, client-key-data: canary-key-data-c3d4}}
- name: pasted
  user: canary-pasted-token-e5f6
contexts:
- name: ctx
  context: {{cluster: c, user: oidc, namespace: prod}}
current-context: ctx
"
    )
}

const CANARIES: [&str; 7] = [
    "canary-id-token-1f2e",
    "canary-refresh-token-3d4c",
    "canary-client-secret-5b6a",
    "canary-exec-env-7988",
    "canary-password-a1b2",
    "canary-key-data-c3d4",
    "canary-pasted-token-e5f6",
];

#[test]
fn kubeconfig_secrets_never_show_whatever_the_input_form() {
    let sim = sim();
    let text = kubeconfig_with_canaries(&sim.url());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, &text).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&text);
    for (form, value) in [
        ("yaml", text.clone()),
        ("base64", encoded),
        ("path", path.display().to_string()),
    ] {
        let run = action(&sim, NEXT).input("kubeconfig", &value).run();
        assert_eq!(run.code, 2, "{form}: {}", run.render());
        let errors = run.errors();
        assert_eq!(errors.len(), 1, "{form}: {}", run.render());
        assert!(
            errors[0].starts_with("input `kubeconfig`: is not a usable kubeconfig: invalid type"),
            "{form}: {}",
            run.render()
        );
        for canary in CANARIES {
            run.assert_never_shows(canary);
            assert!(
                run.stdout.contains(&format!("::add-mask::{canary}\n")),
                "{form}: {canary} is masked:\n{}",
                run.render()
            );
        }
    }
    assert!(sim.requests().is_empty(), "{:#?}", sim.requests());
}
