//! Every kind of bad input: one `::error` naming the input and the problem, exit 2, no outputs.

use std::ffi::OsString;

use crate::common::{Repo, bad_input, pyproject};

fn failing(files: &[(&str, &str)]) -> (Repo, gantry_testkit::Transcript) {
    let repo = Repo::new(files);
    let run = repo.push("refs/heads/main").run();
    (repo, run)
}

#[test]
fn malformed_toml() {
    let (_, run) = failing(&[("pyproject.toml", "[project]\nversion = 1.2.3\n")]);
    let error = bad_input(&run, "manifest");
    assert!(
        error.contains("`pyproject.toml` is not valid TOML") && error.contains("(line 2)"),
        "{error}"
    );
}

#[test]
fn malformed_json() {
    let (_, run) = failing(&[("package.json", "{\"version\": ")]);
    let error = bad_input(&run, "manifest");
    assert!(
        error.contains("`package.json` is not valid JSON"),
        "{error}"
    );
}

#[test]
fn wrong_type_of_version() {
    let (_, run) = failing(&[("Cargo.toml", "[package]\nname = \"x\"\nversion = 3\n")]);
    let error = bad_input(&run, "manifest");
    assert!(
        error.contains("`package.version` must be a string"),
        "{error}"
    );
}

#[test]
fn bad_boolean() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.0.0"))]);
    let error = bad_input(
        &repo.push("refs/heads/main").input("latest", "yes").run(),
        "latest",
    );
    assert!(error.contains("`yes` is not a boolean"), "{error}");
}

#[test]
fn missing_manifest() {
    let (_, run) = failing(&[("README.md", "no manifest here")]);
    let error = bad_input(&run, "path");
    assert!(
        error.contains("no pyproject.toml, Cargo.toml or package.json in `.`"),
        "{error}"
    );
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.0.0"))]);
    let error = bad_input(
        &repo
            .push("refs/heads/main")
            .input("manifest", "package.json")
            .run(),
        "manifest",
    );
    assert!(error.contains("cannot read `package.json`"), "{error}");
}

#[test]
fn unreadable_manifest() {
    let (repo, _) = failing(&[("pyproject.toml/keep", "a directory, not a file")]);
    let error = bad_input(
        &repo
            .push("refs/heads/main")
            .input("manifest", "pyproject.toml")
            .run(),
        "manifest",
    );
    assert!(error.contains("cannot read `pyproject.toml`"), "{error}");
}

#[test]
fn path_that_is_not_a_directory() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.0.0"))]);
    bad_input(
        &repo
            .push("refs/heads/main")
            .input("path", "services/none")
            .run(),
        "path",
    );
}

#[test]
fn unparseable_versions() {
    let (_, run) = failing(&[("pyproject.toml", &pyproject("1.2.x"))]);
    let error = bad_input(&run, "manifest");
    assert!(
        error.contains("`1.2.x` is not a valid PEP 440 version"),
        "{error}"
    );
    let (_, run) = failing(&[("package.json", r#"{"version": "1.2"}"#)]);
    let error = bad_input(&run, "manifest");
    assert!(
        error.contains("`1.2` is not a valid SemVer 2.0 version"),
        "{error}"
    );
}

#[test]
fn dynamic_version() {
    let (_, run) = failing(&[(
        "pyproject.toml",
        "[project]\nname = \"x\"\ndynamic = [\"version\"]\n",
    )]);
    let error = bad_input(&run, "manifest");
    assert!(error.contains("declares the version dynamic"), "{error}");
}

#[test]
fn workspace_inheritance_without_a_root() {
    let (_, run) = failing(&[(
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion.workspace = true\n",
    )]);
    let error = bad_input(&run, "manifest");
    assert!(
        error.contains("no Cargo.toml with `[workspace]` is above it"),
        "{error}"
    );
}

#[test]
fn tag_and_manifest_mismatch() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.2.3"))]);
    let run = repo.push("refs/tags/v1.2.4").run();
    let error = bad_input(&run, "manifest");
    assert_eq!(
        error,
        "input `manifest`: tag `v1.2.4` does not match version `1.2.3` in `pyproject.toml`; bump the manifest or re-tag"
    );
    insta::assert_snapshot!("tag_mismatch", repo.render(&run));
}

#[test]
fn non_utf8_input_value() {
    use std::os::unix::ffi::OsStringExt as _;
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.0.0"))]);
    let run = repo
        .push("refs/heads/main")
        .input("path", OsString::from_vec(b"sub\xff".to_vec()))
        .run();
    let error = bad_input(&run, "path");
    assert!(error.contains("not valid UTF-8"), "{error}");
}

#[test]
fn non_utf8_manifest() {
    let repo = Repo::new(&[("pyproject.toml", "")]);
    std::fs::write(
        repo.path().join("pyproject.toml"),
        b"[project]\nversion = \"1.0\xff\"\n",
    )
    .expect("write");
    let error = bad_input(&repo.push("refs/heads/main").run(), "manifest");
    assert!(
        error.contains("cannot read `pyproject.toml`") && error.contains("UTF-8"),
        "{error}"
    );
}

#[test]
fn bad_overrides() {
    let repo = Repo::new(&[("pyproject.toml", &pyproject("1.0.0"))]);
    let push = || repo.push("refs/heads/main");
    bad_input(&push().input("sha", "abc123").run(), "sha");
    bad_input(&push().input("ref", "main").run(), "ref");
    bad_input(
        &push().input("source-date-epoch", "yesterday").run(),
        "source-date-epoch",
    );
    bad_input(
        &push().input("image", "ghcr.io/Octo/svc:latest").run(),
        "image",
    );
}

#[test]
fn version_too_long_for_a_tag() {
    let long = format!("1.0.0+{}", "a".repeat(125));
    let (_, run) = failing(&[("pyproject.toml", &pyproject(&long))]);
    let error = bad_input(&run, "manifest");
    assert!(error.contains("OCI tags allow at most 128"), "{error}");
}
