//! service-ci's "Requirements from poetry.lock" step, run with Python on real lock files: a
//! Poetry project installs exactly its locked main and dev groups, hash-checked, and a missing or
//! stale lock, a tool the lock lacks, or a file whose hash differs is refused.

use std::path::Path;
use std::process::{Command, Output};

use xtask::repo_root;

use crate::workflows::service_ci_script;

/// The example's Poetry project: its pyproject.toml and the poetry.lock Poetry 2 wrote for it.
fn example(name: &str) -> String {
    std::fs::read_to_string(
        repo_root()
            .join("examples/monorepo/services/api")
            .join(name),
    )
    .unwrap()
}

/// Runs the step in `project` as the runner would (`python {0}`), returning its output and the
/// requirements file it wrote.
fn run_step(project: &Path, linters: &str) -> (Output, String) {
    let script = project.join("step.py");
    std::fs::write(
        &script,
        service_ci_script("checks", "Requirements from poetry.lock"),
    )
    .unwrap();
    let output_file = project.join("output");
    let out = Command::new("python3")
        .arg(&script)
        .current_dir(project)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("PROJECT_PATH", "services/api")
        .env("TESTS", "pytest")
        .env("LINTERS", linters)
        .env("GITHUB_OUTPUT", &output_file)
        .env("RUNNER_TEMP", project)
        .output()
        .unwrap();
    let requirements =
        std::fs::read_to_string(project.join("poetry-lock/requirements.txt")).unwrap_or_default();
    (out, requirements)
}

fn project(pyproject: &str, lock: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pyproject.toml"), pyproject).unwrap();
    if let Some(lock) = lock {
        std::fs::write(dir.path().join("poetry.lock"), lock).unwrap();
    }
    dir
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The requirement line of `name`, up to its first hash.
fn line<'a>(requirements: &'a str, name: &str) -> Option<&'a str> {
    requirements
        .lines()
        .find(|l| l.starts_with(&format!("{name}==")))
        .map(|l| l.split(" --hash=").next().unwrap())
}

#[test]
fn a_poetry_2_lock_gives_every_main_and_dev_package_pinned_with_its_hashes_and_markers() {
    let dir = project(&example("pyproject.toml"), Some(&example("poetry.lock")));
    let (out, requirements) = run_step(dir.path(), "black isort pylint mypy");
    assert!(out.status.success(), "{}", stdout(&out));
    // Each `[[package]]` of the lock: its name and the sha256 of every file it lists.
    let lock = example("poetry.lock");
    let (lock, _metadata) = lock.split_once("\n[metadata]").unwrap();
    let packages: Vec<&str> = lock.split("[[package]]").skip(1).collect();
    assert_eq!(requirements.lines().count(), packages.len());
    for package in packages {
        let name = package
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .unwrap()
            .trim_end_matches('"');
        let entry = requirements
            .lines()
            .find(|l| l.starts_with(&format!("{name}==")))
            .unwrap_or_else(|| panic!("{name} missing:\n{requirements}"));
        let hashes: Vec<&str> = package
            .split("hash = \"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
            .collect();
        assert!(!hashes.is_empty(), "{name}");
        for hash in hashes {
            assert!(entry.contains(&format!("--hash={hash}")), "{name}: {hash}");
        }
    }
    assert_eq!(line(&requirements, "black"), Some("black==26.10.1"));
    assert_eq!(
        line(&requirements, "colorama"),
        Some("colorama==0.4.6 ; sys_platform == \"win32\"")
    );
    assert!(
        std::fs::read_to_string(dir.path().join("output"))
            .unwrap()
            .contains("poetry=true\n")
    );
}

#[test]
fn a_project_without_poetry_installs_with_pip_as_before() {
    let worker = std::fs::read_to_string(
        repo_root().join("examples/monorepo/services/worker/pyproject.toml"),
    )
    .unwrap();
    let dir = project(&worker, None);
    let (out, requirements) = run_step(dir.path(), "black pylint");
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(requirements.is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("output")).unwrap(),
        "poetry=false\n"
    );
}

#[test]
fn a_missing_or_stale_lock_and_an_unlocked_tool_are_refused() {
    let pyproject = example("pyproject.toml");
    let (out, _) = run_step(project(&pyproject, None).path(), "black");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out)
            .contains("::error file=services/api/pyproject.toml,title=poetry.lock missing::")
            && stdout(&out).contains("run `poetry lock` in services/api"),
        "{}",
        stdout(&out)
    );
    // pyproject changed without re-locking: Poetry's content-hash no longer matches.
    let changed = pyproject.replace(
        "pytest = \"9.2.0\"",
        "pytest = \"9.2.0\"\nbandit = \"1.9.4\"",
    );
    assert_ne!(changed, pyproject);
    let dir = project(&changed, Some(&example("poetry.lock")));
    let (out, requirements) = run_step(dir.path(), "black");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("::error file=services/api/poetry.lock,title=poetry.lock is stale::"),
        "{}",
        stdout(&out)
    );
    assert!(requirements.is_empty(), "a stale lock was installed");
    // A linter the lock does not hold would run at its latest version: refused.
    let dir = project(&pyproject, Some(&example("poetry.lock")));
    let (out, _) = run_step(dir.path(), "black bandit");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("bandit is not in the main or dev group")
            && stdout(&out).contains("poetry add --group dev bandit"),
        "{}",
        stdout(&out)
    );
}

/// A Poetry 1.x lock (lock-version 1.1: `category`, hashes under `[metadata.files]`, markers only
/// on the dependency edges), for the example's pyproject (Poetry's content-hash depends only on
/// it, so it is the one Poetry 2 wrote).
fn poetry_1_lock(content_hash: &str, demo_hash: &str) -> String {
    format!(
        r#"[[package]]
name = "black"
version = "26.10.1"
description = ""
category = "dev"
optional = false
python-versions = ">=3.10"

[package.dependencies]
click = ">=8.0.0"
demo = {{version = "*", markers = "sys_platform == \"linux\""}}

[[package]]
name = "click"
version = "8.5.1"
description = ""
category = "dev"
optional = false
python-versions = ">=3.10"

[package.dependencies]
colorama = {{version = "*", markers = "platform_system == \"Windows\""}}

[[package]]
name = "colorama"
version = "0.4.6"
description = ""
category = "dev"
optional = false
python-versions = "*"

[[package]]
name = "demo"
version = "1.0"
description = ""
category = "dev"
optional = false
python-versions = "*"

[[package]]
name = "pytest"
version = "9.2.0"
description = ""
category = "dev"
optional = false
python-versions = ">=3.10"

[[package]]
name = "sphinx"
version = "9.0.0"
description = ""
category = "main"
optional = true
python-versions = ">=3.10"

[metadata]
lock-version = "1.1"
python-versions = "^3.11"
content-hash = "{content_hash}"

[metadata.files]
black = [{{file = "black-26.10.1-py3-none-any.whl", hash = "sha256:{a}"}}]
click = [{{file = "click-8.5.1-py3-none-any.whl", hash = "sha256:{b}"}}]
colorama = [{{file = "colorama-0.4.6-py2.py3-none-any.whl", hash = "sha256:{c}"}}]
demo = [{{file = "demo-1.0-py3-none-any.whl", hash = "sha256:{demo_hash}"}}]
pytest = [{{file = "pytest-9.2.0-py3-none-any.whl", hash = "sha256:{d}"}}]
sphinx = [{{file = "sphinx-9.0.0-py3-none-any.whl", hash = "sha256:{e}"}}]
"#,
        a = "a".repeat(64),
        b = "b".repeat(64),
        c = "c".repeat(64),
        d = "d".repeat(64),
        e = "e".repeat(64),
    )
}

fn example_content_hash() -> String {
    example("poetry.lock")
        .lines()
        .find_map(|l| l.strip_prefix("content-hash = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned()
}

#[test]
fn a_poetry_1_lock_is_read_by_category_with_the_markers_of_its_edges() {
    let lock = poetry_1_lock(&example_content_hash(), &"f".repeat(64));
    let dir = project(&example("pyproject.toml"), Some(&lock));
    let (out, requirements) = run_step(dir.path(), "black");
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(line(&requirements, "black"), Some("black==26.10.1"));
    assert_eq!(line(&requirements, "click"), Some("click==8.5.1"));
    assert_eq!(
        line(&requirements, "colorama"),
        Some("colorama==0.4.6 ; (platform_system == \"Windows\")")
    );
    assert_eq!(
        line(&requirements, "demo"),
        Some("demo==1.0 ; (sys_platform == \"linux\")")
    );
    assert!(requirements.contains(&format!("--hash=sha256:{}", "a".repeat(64))));
    // An extra's package (optional) is not part of the main or dev group's install.
    assert_eq!(line(&requirements, "sphinx"), None);
}

#[test]
fn pip_refuses_a_file_whose_hash_is_not_the_locked_one() {
    use sha2::Digest;
    // The index serves demo 1.0 with other bytes than the ones locked.
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    std::fs::create_dir(&index).unwrap();
    std::fs::write(index.join("demo-1.0-py3-none-any.whl"), b"tampered").unwrap();
    let locked = format!("{:x}", sha2::Sha256::digest(b"the locked wheel"));
    let project = project(
        &example("pyproject.toml"),
        Some(&poetry_1_lock(&example_content_hash(), &locked)),
    );
    let (out, requirements) = run_step(project.path(), "black");
    assert!(out.status.success(), "{}", stdout(&out));
    let demo = requirements
        .lines()
        .find(|l| l.starts_with("demo=="))
        .unwrap();
    let only_demo = dir.path().join("requirements.txt");
    std::fs::write(
        &only_demo,
        demo.replace("sys_platform == \"linux\"", "python_version >= \"3\""),
    )
    .unwrap();
    let out = Command::new("python3")
        .args(["-m", "pip", "install", "--require-hashes", "--no-deps"])
        .args(["--no-index", "--find-links"])
        .arg(&index)
        .arg("--target")
        .arg(dir.path().join("site"))
        .arg("--requirement")
        .arg(&only_demo)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "pip installed a file whose hash differs"
    );
    assert!(stderr.contains("DO NOT MATCH THE HASHES"), "{stderr}");
    assert!(stderr.contains(&locked), "{stderr}");
    assert!(
        !dir.path().join("site").exists()
            || std::fs::read_dir(dir.path().join("site"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn a_poetry_2_lock_keeps_only_the_main_and_dev_groups_and_their_markers() {
    let sha = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    let package = |name: &str, groups: &str, markers: &str, hash: &str| {
        format!(
            "[[package]]\nname = \"{name}\"\nversion = \"1.0\"\ndescription = \"\"\noptional = false\n\
             python-versions = \"*\"\ngroups = {groups}\n{markers}\
             files = [{{file = \"{name}-1.0-py3-none-any.whl\", hash = \"{hash}\"}}]\n\n"
        )
    };
    let lock = [
        package("black", "[\"dev\"]", "", &sha('a')),
        package("pytest", "[\"dev\"]", "", &sha('b')),
        // Markers per group: the install takes the union of those of the groups it installs.
        package(
            "tomli",
            "[\"main\", \"dev\"]",
            "markers = {main = \"python_version < \\\"3.11\\\"\", dev = \"sys_platform == \\\"linux\\\"\"}\n",
            &sha('c'),
        ),
        package("sphinx", "[\"docs\"]", "", &sha('d')),
        format!(
            "[metadata]\nlock-version = \"2.1\"\npython-versions = \"^3.11\"\ncontent-hash = \"{}\"\n",
            example_content_hash()
        ),
    ]
    .concat();
    let dir = project(&example("pyproject.toml"), Some(&lock));
    let (out, requirements) = run_step(dir.path(), "black");
    assert!(out.status.success(), "{}", stdout(&out));
    assert_eq!(line(&requirements, "black"), Some("black==1.0"));
    assert_eq!(
        line(&requirements, "tomli"),
        Some("tomli==1.0 ; (sys_platform == \"linux\") or (python_version < \"3.11\")")
    );
    // The docs group is not installed.
    assert_eq!(line(&requirements, "sphinx"), None);
    assert_eq!(requirements.lines().count(), 3, "{requirements}");
}
