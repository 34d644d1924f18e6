//! A team's own layout: other repositories and env-file path, one landing-zone check, a
//! package.json manifest, another namespace and Deployment, and a bad image that crashes instead
//! of failing to pull.

use std::path::Path;

use gantry_rehearse::{Layout, Sources};

use crate::common::{differing_lines, rehearse_layout};

const WORLD: &str = r#"
service: platform/api
manifest: package.json
image: registry.internal/platform/api
landing_zone: platform/gitops
env_file: envs/staging/api.env
namespace: staging
deployment: api
good_version: 2.0.0
bad_version: 2.1.0
verify_timeout: 4s
tokens:
  deploy: ghs_platformDeployer
  release: ghs_platformReleaser
  bot: ghp_platformMerger
  developer: ghp_platformDev
github:
  clock: { scale: 20 }
  identities:
    - { login: deployer, kind: app, tokens: [ghs_platformDeployer] }
    - { login: releaser, kind: app, tokens: [ghs_platformReleaser] }
    - { login: merger, kind: bot, tokens: [ghp_platformMerger] }
    - { login: dana, kind: user, tokens: [ghp_platformDev] }
  repos:
    - name: platform/api
      branches:
        main:
          files:
            package.json: "{\n  \"name\": \"api\",\n  \"version\": \"1.9.0\"\n}\n"
    - name: platform/gitops
      branches:
        main:
          files:
            envs/staging/api.env: "IMAGE_NAME=registry.internal/platform/api\nIMAGE_VERSION=1.9.0\n"
      protection:
        main: { required_checks: [kubeconform], required_approvals: 1 }
  ci:
    - repo: platform/gitops
      checks: [{ name: kubeconform, conclusion: success, after_ms: 2000 }]
"#;

const MANIFESTS: &str = "apiVersion: v1
kind: Namespace
metadata: {name: staging}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: staging}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: 'registry.internal/platform/api:1.9.0'}]
";

const IMAGES: &str = "images:
  - {image: 'registry.internal/platform/api:2.1.*', crash: true}
  - {image: 'registry.internal/platform/api:*', pull: ok}
";

#[test]
fn a_teams_own_layout() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (world, manifests, images) = (
        write("world.yaml", WORLD),
        write("manifests.yaml", MANIFESTS),
        write("images.yaml", IMAGES),
    );
    let layout = Layout::load(&Sources {
        world: Some(Path::new(&world)),
        manifests: Some(&manifests),
        images: Some(&images),
    })
    .unwrap();
    let run = rehearse_layout(layout);
    run.assert_all_held();

    let number: u64 = run.output("auto-deploy", 0, "pr-number").parse().unwrap();
    assert_eq!(
        run.pull(number),
        (true, Some("merger".to_owned()), vec!["merger".to_owned()])
    );
    let (before, after) = run.env_file_around(&run.output("auto-deploy", 0, "merge-sha"));
    assert_eq!(
        differing_lines(&before, &after),
        [(
            "IMAGE_VERSION=1.9.0".to_owned(),
            "IMAGE_VERSION=2.0.0".to_owned()
        )]
    );
    assert!(
        run.output("k8s-deploy", 1, "failure-reason")
            .contains("CrashLoopBackOff")
    );
    assert_eq!(run.deployment().0, "registry.internal/platform/api:2.0.0");
    assert!(!run.is_prerelease("v2.0.0"));
    assert!(run.is_prerelease("v2.1.0"));
}

#[test]
fn a_layout_naming_a_deployment_the_manifests_lack_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("world.yaml");
    std::fs::write(&world, WORLD).unwrap();
    let error = Layout::load(&Sources {
        world: Some(&world),
        ..Sources::default()
    })
    .unwrap_err();
    assert!(
        error.to_string().contains("no Deployment named `api`"),
        "{error}"
    );
}
