//! The platform rules the reusable workflows and the examples rely on, held where act and the
//! simulators cannot: act gives every job every secret, ignores environments and concurrency, so
//! who can reach a credential, what gates the release, and what GitHub's docs say about each rule
//! are checked here, on the YAML itself, and the scripts that decide (cache, artifact names) are
//! run with GitHub's shell.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_yaml::Value;
use xtask::repo_root;
use xtask::uses::files_under;

use crate::workflow_expr::{Event, may_run};

/// Secrets that can change something: a release, the landing zone, the cluster.
const WRITE_CREDENTIALS: &[&str] = &[
    "RELEASE_BOT_TOKEN",
    "DEPLOY_APP_TOKEN",
    "DEPLOY_APP_PRIVATE_KEY",
    "DEPLOY_APPROVER_TOKEN",
    "KUBECONFIG",
];

/// GitHub's documentation of each rule, which every workflow that relies on the rule cites.
const NEEDS_DOC: &str = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds";
const CONCURRENCY_DOC: &str = "https://docs.github.com/en/actions/using-jobs/using-concurrency";
const ENVIRONMENT_SECRETS_DOC: &str = "https://docs.github.com/en/actions/reference/workflows-and-actions/deployments-and-environments#environment-secrets";
const REUSE_SECRETS_DOC: &str = "https://docs.github.com/en/actions/how-tos/reuse-automations/reuse-workflows#using-inputs-and-secrets-in-a-reusable-workflow";
const INHERIT_ISSUE: &str = "https://github.com/actions/runner/issues/4453";
const GITHUB_TOKEN_DOC: &str = "https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/trigger-a-workflow#triggering-a-workflow-from-a-workflow";
const RELEASE_EVENT_DOC: &str =
    "https://docs.github.com/en/webhooks/webhook-events-and-payloads#release";

struct Workflow {
    path: String,
    text: String,
    yaml: Value,
}

fn load(path: &Path) -> Workflow {
    let text = std::fs::read_to_string(path).unwrap();
    let yaml = serde_yaml::from_str(&text).unwrap();
    let path = path
        .strip_prefix(repo_root())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    Workflow { path, text, yaml }
}

fn yml_files(dir: &Path) -> Vec<Workflow> {
    let yml = |path: &Path| path.extension().is_some_and(|ext| ext == "yml");
    files_under(dir, false, &yml)
        .iter()
        .map(|path| load(path))
        .collect()
}

/// The reusable workflows users call (the project's own ci.yml and release.yml left out).
fn reusable() -> Vec<Workflow> {
    yml_files(&repo_root().join(".github/workflows"))
        .into_iter()
        .filter(|w| w.yaml["on"].get("workflow_call").is_some())
        .collect()
}

fn reusable_named(file: &str) -> Workflow {
    load(&repo_root().join(".github/workflows").join(file))
}

/// The callers a team copies, every repository of examples/.
fn examples() -> Vec<Workflow> {
    let mut found = Vec::new();
    for repo in std::fs::read_dir(repo_root().join("examples")).unwrap() {
        found.extend(yml_files(&repo.unwrap().path().join(".github/workflows")));
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(!found.is_empty());
    found
}

fn jobs(workflow: &Workflow) -> Vec<(String, &Value)> {
    workflow.yaml["jobs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(name, job)| (name.as_str().unwrap().to_owned(), job))
        .collect()
}

/// The reusable workflow file a caller job runs (`gantry-actions/gantry/.github/workflows/F@SHA`).
fn called(job: &Value) -> Option<String> {
    let uses = job["uses"].as_str()?;
    let rest = uses.strip_prefix("gantry-actions/gantry/.github/workflows/")?;
    Some(rest.split('@').next().unwrap().to_owned())
}

fn events(workflow: &Workflow) -> Vec<String> {
    match &workflow.yaml["on"] {
        Value::String(event) => vec![event.clone()],
        Value::Sequence(list) => list
            .iter()
            .map(|e| e.as_str().unwrap().to_owned())
            .collect(),
        Value::Mapping(map) => map.keys().map(|e| e.as_str().unwrap().to_owned()).collect(),
        other => panic!("{}: on: {other:?}", workflow.path),
    }
}

/// The write credentials a job's YAML reads (`secrets.NAME`, any case, whole name).
fn write_credentials(job: &Value) -> Vec<&'static str> {
    let text = serde_yaml::to_string(job).unwrap().to_ascii_uppercase();
    WRITE_CREDENTIALS
        .iter()
        .copied()
        .filter(|name| {
            let needle = format!("SECRETS.{name}");
            text.match_indices(&needle).any(|(at, _)| {
                !text[at + needle.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
        })
        .collect()
}

fn condition(job: &Value) -> Option<&str> {
    job.get("if").map(|c| c.as_str().unwrap())
}

/// The events of the pull-request family: they run code a pull request's author wrote.
fn pull_request_events() -> [Event<'static>; 2] {
    [
        Event {
            name: "pull_request",
            git_ref: Some("refs/pull/1/merge"),
        },
        Event {
            name: "pull_request_target",
            git_ref: None,
        },
    ]
}

#[test]
fn no_job_a_pull_request_can_start_holds_a_write_credential() {
    // Every reusable job that reads a write credential excludes the pull-request events itself,
    // whoever calls it and on whatever event.
    for workflow in reusable() {
        for (name, job) in jobs(&workflow) {
            let held = write_credentials(job);
            for event in pull_request_events() {
                assert!(
                    held.is_empty() || !may_run(condition(job), &event),
                    "{} job {name} reads {held:?} and can run on {}",
                    workflow.path,
                    event.name
                );
            }
        }
    }
    // And through the examples' callers: a caller job the pull request starts, and the called
    // job it runs, both able to run.
    for workflow in examples() {
        let triggers = events(&workflow);
        for event in pull_request_events()
            .into_iter()
            .filter(|e| triggers.iter().any(|t| t == e.name))
        {
            for (name, job) in jobs(&workflow) {
                if !may_run(condition(job), &event) {
                    continue;
                }
                let held = write_credentials(job);
                assert!(
                    held.is_empty(),
                    "{} job {name} reads {held:?}",
                    workflow.path
                );
                let Some(file) = called(job) else { continue };
                for (inner, inner_job) in jobs(&reusable_named(&file)) {
                    let held = write_credentials(inner_job);
                    assert!(
                        held.is_empty() || !may_run(condition(inner_job), &event),
                        "{}: {} starts {file} job {inner}, which reads {held:?}",
                        workflow.path,
                        event.name
                    );
                }
            }
        }
    }
}

#[test]
fn every_job_holding_a_write_credential_names_an_environment() {
    // Repository secrets reach any workflow pushed on any branch; an environment's secrets reach
    // only a job that names it, after its deployment branch and tag policy let the run in.
    let mut holders = 0;
    for workflow in reusable().into_iter().chain(examples()) {
        for (name, job) in jobs(&workflow) {
            let held = write_credentials(job);
            if held.is_empty() {
                continue;
            }
            holders += 1;
            assert!(
                job.get("environment").is_some(),
                "{} job {name} reads {held:?} without naming an environment",
                workflow.path
            );
        }
    }
    assert!(holders >= 4, "the deploy and release jobs were not found");
}

#[test]
fn callers_pass_environment_secrets_with_inherit_and_name_no_credential() {
    // A called job sees its environment's secrets only when the caller passes `secrets: inherit`.
    for workflow in examples() {
        for (name, job) in jobs(&workflow) {
            let Some(file) = called(job) else { continue };
            let callee = reusable_named(&file);
            let wants_environment_secrets = jobs(&callee)
                .iter()
                .any(|(_, inner)| !write_credentials(inner).is_empty());
            if wants_environment_secrets {
                assert_eq!(
                    job["secrets"].as_str(),
                    Some("inherit"),
                    "{} job {name} calls {file}, whose credentials are environment secrets",
                    workflow.path
                );
                assert!(
                    job["with"]["environment"].as_str().is_some()
                        || callee.yaml["on"]["workflow_call"]["inputs"]
                            .get("environment")
                            .is_none(),
                    "{} job {name} names no environment for {file}",
                    workflow.path
                );
            }
        }
    }
}

#[test]
fn a_release_is_made_only_after_the_tags_ci_passed_and_its_image_was_pushed() {
    let mut releases = 0;
    for workflow in examples() {
        let jobs = jobs(&workflow);
        for (name, job) in &jobs {
            if called(job).as_deref() != Some("release-on-tag.yml") {
                continue;
            }
            releases += 1;
            // The CI job of the same workflow run: another workflow on the tag push would run
            // beside CI, not after it. A monorepo has one CI job per service; the release needs
            // its own.
            let needs: Vec<&str> = match &job["needs"] {
                Value::String(one) => vec![one.as_str()],
                Value::Sequence(many) => many.iter().map(|n| n.as_str().unwrap()).collect(),
                _ => vec![],
            };
            let ci = jobs
                .iter()
                .filter(|(_, j)| called(j).as_deref() == Some("service-ci.yml"))
                .map(|(n, _)| n.clone())
                .find(|n| needs.contains(&n.as_str()))
                .unwrap_or_else(|| {
                    panic!(
                        "{} job {name} does not need the service's CI job of the same workflow",
                        workflow.path
                    )
                });
            let gate = condition(job).unwrap_or_default();
            // No status function: GitHub's implicit success() keeps the job from running after
            // a failed or skipped CI.
            for status in ["always(", "failure(", "cancelled(", "success("] {
                assert!(
                    !gate.contains(status),
                    "{} job {name}: {gate}",
                    workflow.path
                );
            }
            assert!(
                gate.contains(&format!("needs.{ci}.outputs.published == 'true'")),
                "{} job {name} does not wait for the pushed image: {gate}",
                workflow.path
            );
            assert!(
                workflow.text.contains(NEEDS_DOC),
                "{} cites no docs for needs",
                workflow.path
            );
        }
    }
    assert_eq!(
        releases, 3,
        "examples/service releases once, examples/monorepo once per service"
    );
}

#[test]
fn every_platform_rule_a_workflow_relies_on_cites_githubs_docs() {
    for workflow in reusable().into_iter().chain(examples()) {
        let text = &workflow.text;
        let jobs = jobs(&workflow);
        let cites = |url: &str, rule: &str| {
            assert!(
                text.contains(url),
                "{} relies on {rule} without citing {url}",
                workflow.path
            );
        };
        if text.contains("\nconcurrency:")
            || jobs.iter().any(|(_, j)| j.get("concurrency").is_some())
        {
            cites(CONCURRENCY_DOC, "a concurrency group");
        }
        if text.contains("secrets: inherit") {
            cites(INHERIT_ISSUE, "secrets: inherit");
        }
        if jobs
            .iter()
            .any(|(_, j)| j.get("environment").is_some() && !write_credentials(j).is_empty())
        {
            cites(
                REUSE_SECRETS_DOC,
                "environment secrets in a called workflow",
            );
        }
        if jobs
            .iter()
            .any(|(_, j)| write_credentials(j).contains(&"RELEASE_BOT_TOKEN"))
        {
            cites(
                GITHUB_TOKEN_DOC,
                "GITHUB_TOKEN's events starting no workflow",
            );
        }
        if workflow.yaml["on"]["release"]["types"].is_sequence()
            || text.contains("types: [released")
        {
            cites(RELEASE_EVENT_DOC, "the release event's types");
        }
    }
    for file in ["k8s-deploy.yml", "deploy-prerelease.yml"] {
        assert!(
            reusable_named(file).text.contains(ENVIRONMENT_SECRETS_DOC),
            "{file}"
        );
    }
}

#[test]
fn no_document_claims_a_concurrency_group_keeps_every_run() {
    // GitHub keeps one running and one pending job per group and cancels the older pending one.
    let root = repo_root();
    let mut texts: Vec<(String, String)> = reusable()
        .into_iter()
        .chain(examples())
        .map(|w| (w.path, w.text))
        .collect();
    for doc in ["README.md", "ARCHITECTURE.md", "tests/e2e/README.md"] {
        texts.push((doc.into(), std::fs::read_to_string(root.join(doc)).unwrap()));
    }
    for (path, text) in texts {
        let flat = text
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for claim in [
            "never cancelled",
            "never canceled",
            "queued, never",
            "runs are queued",
        ] {
            assert!(!flat.contains(claim), "{path} claims `{claim}`");
        }
    }
}

#[test]
fn deploy_release_listens_to_released_only_and_the_readme_says_so() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let mut seen = BTreeSet::new();
    for workflow in examples() {
        let Some(types) = workflow.yaml["on"]["release"]["types"].as_sequence() else {
            continue;
        };
        let types: Vec<&str> = types.iter().map(|t| t.as_str().unwrap()).collect();
        for (_, job) in jobs(&workflow) {
            let Some(file) = called(job) else { continue };
            if file == "deploy-release.yml" {
                assert_eq!(types, ["released"], "{}", workflow.path);
            }
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| [`{file}`]")))
                .unwrap_or_else(|| panic!("README has no row for {file}"));
            let listed = format!("`release: [{}]`", types.join(", "));
            assert!(
                row.contains(&listed),
                "README's row for {file} does not say {listed}"
            );
            seen.insert(file);
        }
    }
    assert!(seen.contains("deploy-release.yml") && seen.contains("deploy-prerelease.yml"));
}

fn step(job: &Value, pick: impl Fn(&Value) -> bool) -> &Value {
    job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| pick(s))
        .expect("the step")
}

fn uses(step: &Value, action: &str) -> bool {
    step["uses"].as_str().is_some_and(|u| u.starts_with(action))
}

#[test]
fn the_deploy_job_deploys_what_the_head_of_the_branch_says() {
    let workflow = reusable_named("k8s-deploy.yml");
    let deploy = &workflow.yaml["jobs"]["deploy"];
    let checkout = step(deploy, |s| uses(s, "actions/checkout@"));
    assert_eq!(checkout["with"]["ref"].as_str(), Some("${{ github.ref }}"));
    assert_eq!(checkout["with"]["fetch-depth"].as_u64(), Some(0));
    let source = step(deploy, |s| {
        s["run"]
            .as_str()
            .is_some_and(|r| r.contains("git rev-list --count --first-parent HEAD"))
    });
    let id = source["id"].as_str().unwrap();
    let k8s = step(deploy, |s| {
        uses(s, "gantry-actions/gantry/actions/k8s-deploy@")
    });
    assert_eq!(
        k8s["with"]["source-revision"].as_str(),
        Some(format!("${{{{ steps.{id}.outputs.revision }}}}").as_str())
    );
    assert_eq!(
        k8s["with"]["source-sequence"].as_str(),
        Some(format!("${{{{ steps.{id}.outputs.sequence }}}}").as_str())
    );
}

#[test]
fn the_pull_request_dry_run_reads_the_cluster_with_the_read_only_credential() {
    let workflow = reusable_named("k8s-deploy.yml");
    let dry_run = &workflow.yaml["jobs"]["dry-run"];
    let k8s = step(dry_run, |s| {
        uses(s, "gantry-actions/gantry/actions/k8s-deploy@")
    });
    assert_eq!(
        k8s["with"]["kubeconfig"].as_str(),
        Some("${{ secrets.KUBECONFIG_READONLY }}")
    );
    assert_eq!(
        k8s["with"]["dry-run"].as_str(),
        Some("${{ inputs.dry-run }}")
    );
    assert_eq!(
        workflow.yaml["on"]["workflow_call"]["inputs"]["dry-run"]["default"].as_str(),
        Some("client")
    );
}

#[test]
fn the_deploy_workflows_pass_who_may_release_and_from_which_branch() {
    for file in ["deploy-prerelease.yml", "deploy-release.yml"] {
        let workflow = reusable_named(file);
        let inputs = &workflow.yaml["on"]["workflow_call"]["inputs"];
        assert_eq!(
            inputs["release-authors"]["required"].as_bool(),
            Some(true),
            "{file}"
        );
        assert_eq!(
            inputs["release-branch"]["default"].as_str(),
            Some(""),
            "{file}"
        );
        let deploy = step(&workflow.yaml["jobs"]["deploy"], |s| {
            uses(s, "gantry-actions/gantry/actions/auto-deploy@")
        });
        for input in ["release-authors", "release-branch"] {
            assert_eq!(
                deploy["with"][input].as_str(),
                Some(format!("${{{{ inputs.{input} }}}}").as_str()),
                "{file}: {input}"
            );
        }
    }
    for workflow in examples() {
        for (name, job) in jobs(&workflow) {
            if called(job).is_some_and(|f| f.starts_with("deploy-")) {
                let authors = job["with"]["release-authors"].as_str().unwrap_or_default();
                assert!(!authors.is_empty(), "{} job {name}", workflow.path);
            }
        }
    }
}

/// The `run:` script of the step named `name` in `job` of service-ci.yml.
pub(crate) fn service_ci_script(job: &str, name: &str) -> String {
    let workflow = reusable_named("service-ci.yml");
    step(&workflow.yaml["jobs"][job], |s| {
        s["name"].as_str() == Some(name)
    })["run"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Runs a workflow script the way the runner does (`bash --noprofile --norc -eo pipefail`).
fn run_script(script: &str, dir: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let file = dir.join("step.sh");
    std::fs::write(&file, script).unwrap();
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&file)
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", dir.display()));
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn release_builds_never_read_a_layer_cache_pull_requests_write() {
    let script = service_ci_script("publish", "Build the image (layer cache in the registry)");
    let cache_args = |ref_type: &str, push: &str| -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("buildah.args");
        let fake = dir.path().join("buildah");
        std::fs::write(
            &fake,
            format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >'{}'\n", log.display()),
        )
        .unwrap();
        Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
        let out = run_script(
            &script,
            dir.path(),
            &[
                ("IMAGE", "registry.example/acme/service"),
                ("DOCKERFILE", "Dockerfile"),
                ("TAGS", "registry.example/acme/service:1.0.0"),
                ("LABELS", ""),
                ("SOURCE_DATE_EPOCH", "1767225600"),
                ("REF_TYPE", ref_type),
                ("PUSH", push),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let args: Vec<String> = std::fs::read_to_string(log)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        args.windows(2)
            .filter(|w| w[0].starts_with("--cache-"))
            .map(|w| format!("{} {}", w[0], w[1]))
            .collect()
    };
    assert_eq!(
        cache_args("tag", "true"),
        [
            "--cache-from registry.example/acme/service/cache",
            "--cache-to registry.example/acme/service/cache"
        ]
    );
    // A pull request (ref type branch, as a branch build) reads the release cache, writes its own.
    assert_eq!(
        cache_args("branch", "true"),
        [
            "--cache-from registry.example/acme/service/cache",
            "--cache-to registry.example/acme/service/cache-pr"
        ]
    );
    // A pull request's build that is not pushed uses no registry cache: nothing leaves the runner.
    assert_eq!(cache_args("branch", "false"), Vec::<String>::new());
}

#[test]
fn service_ci_names_its_artifacts_after_the_project_path() {
    let versions = service_ci_script("versions", "Artifact names of this call");
    let report = service_ci_script("checks", "Report every check");
    let name = |script: &str, path: &str, key: &str| -> String {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("output");
        let out = run_script(
            script,
            dir.path(),
            &[
                ("PROJECT_PATH", path),
                ("GITHUB_OUTPUT", output.to_str().unwrap()),
                ("GITHUB_STEP_SUMMARY", "/dev/null"),
                ("RUNNER_TEMP", dir.path().to_str().unwrap()),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let outputs = std::fs::read_to_string(output).unwrap();
        outputs
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap()
            .to_owned()
    };
    for (path, suffix) in [
        (".", ""),
        ("./", ""),
        ("services/api", "-services-api"),
        ("./services/web/", "-services-web"),
    ] {
        assert_eq!(name(&versions, path, "suffix"), suffix, "{path}");
        assert_eq!(
            name(&report, path, "artifact"),
            format!("checks{suffix}"),
            "{path}"
        );
    }
    // Every upload in service-ci takes its name from the call.
    let workflow = reusable_named("service-ci.yml");
    for (job, value) in jobs(&workflow) {
        for s in value["steps"].as_sequence().unwrap() {
            if uses(s, "actions/upload-artifact@") {
                let artifact = s["with"]["name"].as_str().unwrap();
                assert!(
                    artifact.contains("steps.report.outputs.artifact")
                        || artifact.contains("needs.versions.outputs.artifact-suffix"),
                    "service-ci job {job} uploads a fixed name: {artifact}"
                );
            }
        }
    }
}
