//! Each manifest style, end to end: where the version comes from and how it is normalised.

use crate::common::{Repo, pyproject, success};

fn version_and_source(repo: &Repo, path: &str) -> (String, String) {
    let run = success(repo.push("refs/heads/feature").input("path", path).run());
    let log = run
        .stdout
        .lines()
        .find(|line| line.starts_with("version "))
        .expect("version log line")
        .to_owned();
    (run.output("version").to_owned(), log)
}

#[test]
fn pyproject_project_table() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3-RC1"))]);
    let run = success(repo.push("refs/heads/feature").run());
    assert_eq!(run.output("version"), "1.2.3rc1");
    assert_eq!(run.output("pep440"), "1.2.3rc1");
    assert_eq!(run.output("semver"), "1.2.3-rc.1");
    assert_eq!(run.output("manifest"), "pyproject.toml");
    assert!(
        run.output("labels")
            .contains("org.opencontainers.image.title=svc\n")
    );
    assert!(
        run.output("labels")
            .contains("org.opencontainers.image.licenses=MIT\n")
    );
}

#[test]
fn pyproject_poetry_table() {
    let repo = Repo::new(&[(
        "pyproject.toml",
        "[tool.poetry]\nname = \"svc\"\nversion = \"2.0.0b3\"\ndescription = \"Poetry 1\"\nlicense = \"Apache-2.0\"\n",
    )]);
    let (version, log) = version_and_source(&repo, ".");
    assert_eq!(version, "2.0.0b3");
    assert_eq!(
        log,
        "version 2.0.0b3 from [tool.poetry].version in `pyproject.toml`"
    );
}

#[test]
fn pyproject_dynamic_project_version_falls_back_to_poetry() {
    let repo = Repo::new(&[(
        "pyproject.toml",
        "[project]\nname = \"svc\"\ndynamic = [\"version\"]\n[tool.poetry]\nversion = \"3.1.0\"\n",
    )]);
    assert_eq!(version_and_source(&repo, ".").0, "3.1.0");
}

#[test]
fn cargo_package() {
    let repo = Repo::new(&[(
        "Cargo.toml",
        "[package]\nname = \"svc\"\nversion = \"0.4.0-beta.2\"\nlicense = \"MIT\"\n",
    )]);
    let run = success(repo.push("refs/heads/main").run());
    assert_eq!(run.output("version"), "0.4.0-beta.2");
    assert_eq!(run.output("semver"), "0.4.0-beta.2");
    assert_eq!(run.output("pep440"), "0.4.0b2");
    assert_eq!(run.output("is-prerelease"), "true");
}

#[test]
fn cargo_workspace_inheritance_from_a_member() {
    let repo = Repo::new(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"crates/*\"]\n[workspace.package]\nversion = \"1.4.2\"\nlicense = \"Apache-2.0\"\n",
        ),
        (
            "crates/app/Cargo.toml",
            "[package]\nname = \"app\"\nversion.workspace = true\nlicense = { workspace = true }\ndescription = \"The app\"\n",
        ),
    ]);
    let run = success(
        repo.push("refs/heads/main")
            .input("path", "crates/app")
            .run(),
    );
    assert_eq!(run.output("version"), "1.4.2");
    assert_eq!(run.output("manifest"), "crates/app/Cargo.toml");
    assert!(
        run.stdout
            .contains("version 1.4.2 from [workspace.package].version in `Cargo.toml`"),
        "{}",
        run.stdout
    );
    assert!(
        run.output("labels")
            .contains("org.opencontainers.image.licenses=Apache-2.0\n")
    );
    assert!(
        run.output("labels")
            .contains("org.opencontainers.image.description=The app\n")
    );
}

#[test]
fn cargo_virtual_workspace_and_self_inheriting_root() {
    let virtual_root = Repo::new(&[(
        "Cargo.toml",
        "[workspace]\nmembers = []\n[workspace.package]\nversion = \"0.9.0\"\n",
    )]);
    assert_eq!(version_and_source(&virtual_root, ".").0, "0.9.0");
    let root = Repo::new(&[(
        "Cargo.toml",
        "[package]\nname = \"root\"\nversion.workspace = true\n[workspace]\n[workspace.package]\nversion = \"0.9.1\"\n",
    )]);
    assert_eq!(version_and_source(&root, ".").0, "0.9.1");
}

#[test]
fn package_json() {
    let repo = Repo::new(&[(
        "package.json",
        r#"{"name": "web", "version": "5.0.1", "description": "Front end", "license": "ISC"}"#,
    )]);
    let run = success(repo.push("refs/heads/main").run());
    assert_eq!(run.output("version"), "5.0.1");
    assert_eq!(run.output("manifest"), "package.json");
    assert!(
        run.output("labels")
            .contains("org.opencontainers.image.title=web\n")
    );
}

#[test]
fn monorepo_path_and_explicit_manifest() {
    let repo = Repo::new(&[
        ("pyproject.toml", &pyproject("9.9.9")),
        (
            "services/api/pyproject.toml",
            "[project]\nname = \"api\"\ndynamic = [\"version\"]\n",
        ),
        (
            "services/api/Cargo.toml",
            "[package]\nname = \"api\"\nversion = \"0.3.0\"\n",
        ),
    ]);
    let run = success(
        repo.push("refs/heads/main")
            .input("path", "services/api")
            .input("manifest", "Cargo.toml")
            .run(),
    );
    assert_eq!(run.output("version"), "0.3.0");
    assert_eq!(run.output("manifest"), "services/api/Cargo.toml");
    assert_eq!(version_and_source(&repo, ".").0, "9.9.9");
}

#[test]
fn detection_prefers_pyproject_then_cargo_then_package_json() {
    let repo = Repo::new(&[
        ("package.json", r#"{"version": "3.0.0"}"#),
        (
            "Cargo.toml",
            "[package]\nname = \"x\"\nversion = \"2.0.0\"\n",
        ),
    ]);
    assert_eq!(version_and_source(&repo, ".").0, "2.0.0");
}

#[test]
fn semver_without_a_pep440_spelling() {
    let repo = Repo::new(&[("package.json", r#"{"version": "1.0.0-x.7.z"}"#)]);
    let run = success(repo.push("refs/heads/main").run());
    assert_eq!(run.output("pep440"), "");
    assert_eq!(run.output("semver"), "1.0.0-x.7.z");
    assert!(
        run.summary.contains("no PEP 440 spelling"),
        "{}",
        run.summary
    );
    let json: serde_json::Value = serde_json::from_str(run.output("json")).expect("json");
    assert!(json["pep440"].is_null());
}

#[test]
fn licence_tables_and_objects() {
    let python = Repo::new(&[(
        "pyproject.toml",
        "[project]\nname = \"a\"\nversion = \"1.0\"\nlicense = { text = \"BSD-3-Clause\" }\n",
    )]);
    let run = success(python.push("refs/heads/main").run());
    assert!(
        run.output("labels")
            .contains("org.opencontainers.image.licenses=BSD-3-Clause\n")
    );
    let node = Repo::new(&[(
        "package.json",
        r#"{"version": "1.0.0", "license": {"type": "MIT"}}"#,
    )]);
    let run = success(node.push("refs/heads/main").run());
    assert!(
        run.output("labels")
            .contains("org.opencontainers.image.licenses=MIT\n")
    );
}

/// A monorepo service built with hatch and hatch-vcs: the version is its tag after `tag-prefix`.
const HATCH_VCS: &str = "[build-system]\nrequires = [\"hatchling\", \"hatch-vcs\"]\nbuild-backend = \"hatchling.build\"\n[project]\nname = \"worker\"\ndynamic = [\"version\"]\n[tool.hatch.version]\nsource = \"vcs\"\n";

#[test]
fn a_hatch_vcs_project_takes_its_version_from_its_tag() {
    let repo = Repo::new(&[("pyproject.toml", HATCH_VCS)]);
    repo.tag("worker-v0.9.1rc1");
    let run = success(
        repo.push("refs/tags/worker-v0.9.1rc1")
            .input("tag-prefix", "worker-v")
            .run(),
    );
    assert_eq!(run.output("version"), "0.9.1rc1");
    assert_eq!(run.output("semver"), "0.9.1-rc.1");
    assert_eq!(run.output("tic"), "0.9.1-rc.1");
    assert!(
        run.stdout.contains(
            "version 0.9.1rc1 from the tag `worker-v0.9.1rc1` (hatch-vcs, `pyproject.toml`)"
        ),
        "{}",
        run.render()
    );
}

#[test]
fn a_hatch_vcs_branch_build_is_the_next_version_after_the_nearest_tag() {
    let repo = Repo::new(&[("pyproject.toml", HATCH_VCS)]);
    repo.tag("api-v3.0.0");
    repo.tag("worker-v0.9.1");
    let run = success(
        repo.push("refs/heads/main")
            .input("tag-prefix", "worker-v")
            .run(),
    );
    assert_eq!(run.output("version"), "0.9.2");
    assert!(
        run.output("tic").starts_with("0.9.2-main.g"),
        "{}",
        run.render()
    );
    assert!(
        run.stdout
            .contains("from the nearest tag `worker-v0.9.1`, next version (hatch-vcs"),
        "{}",
        run.render()
    );
}

#[test]
fn a_hatch_vcs_build_without_a_reachable_tag_says_to_fetch_the_tags() {
    let repo = Repo::new(&[("pyproject.toml", HATCH_VCS)]);
    let run = repo
        .push("refs/heads/main")
        .input("tag-prefix", "worker-v")
        .run();
    let error = crate::common::bad_input(&run, "manifest");
    assert!(
        error.contains("takes its version from git (hatch-vcs), but no tag starting with `worker-v` is reachable")
            && error.contains("fetch-depth: 0"),
        "{error}"
    );
}
