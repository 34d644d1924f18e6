//! Pieces of `.github/workflows/release.yml` run on their own, with stand-ins for buildah and
//! `release/image.sh`: the image job's login leaves the registry's credentials where
//! attest-build-provenance reads them (the Docker config) and where the pushes read them, which the
//! act test's double of that action checks too; zig is installed only from hash-pinned wheels.

use std::path::Path;
use std::process::{Command, Output};

use serde_yaml::Value;

use crate::release::text;

const REGISTRY: &str = "127.0.0.1:5000";
const DIGEST: &str = "sha256:874c3551687fc19df84874d5d90b31f8684e992ac2b9470f79c00212334d0dae";

fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(xtask::repo_root().join(path)).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The `run:` script of the step of `job` with `id`.
fn step_script(workflow: &Value, job: &str, id: &str) -> String {
    workflow["jobs"][job]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|step| step["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no step {id} in job {job}"))["run"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// buildah's `login` as containers-auth.json(5) says it stores credentials: in `--authfile`, else
/// `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`.
const BUILDAH: &str = r#"#!/usr/bin/env bash
set -euo pipefail
[[ "$1" == login ]] || { echo "unexpected buildah $*" >&2; exit 1; }
shift
authfile="${REGISTRY_AUTH_FILE:-${XDG_RUNTIME_DIR:?}/containers/auth.json}"
user=""
while [[ $# -gt 1 ]]; do
  case "$1" in
    --authfile) authfile="$2"; shift ;;
    --authfile=*) authfile="${1#*=}" ;;
    --username) user="$2"; shift ;;
    --username=*) user="${1#*=}" ;;
  esac
  shift
done
password="$(cat)"
mkdir -p "$(dirname "$authfile")"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$1" "$(printf '%s:%s' "$user" "$password" | base64 -w0)" >"$authfile"
"#;

/// release/image.sh's stand-in: records the auth file its buildah pushes would read, reports a digest.
const IMAGE_SH: &str = r#"#!/usr/bin/env bash
echo "${REGISTRY_AUTH_FILE:-}" >"$(dirname "$0")/pushes-read"
echo "digest=sha256:874c3551687fc19df84874d5d90b31f8684e992ac2b9470f79c00212334d0dae" >>"$GITHUB_OUTPUT"
"#;

fn executable(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// A `run:` script as the runner runs it (`bash -e -o pipefail`), with only `env`.
fn run_script(script: &str, dir: &Path, env: &[(&str, &Path)], vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new("bash");
    command
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            script,
        ])
        .current_dir(dir)
        .env_clear();
    for (name, value) in env {
        command.env(name, value);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// The attest double's script with push-to-registry for the image, in `home`.
fn attest(dir: &Path, home: &Path) -> Output {
    let double = yaml("tests/act/doubles/attest-build-provenance/action.yml");
    let script = double["runs"]["steps"][0]["run"].as_str().unwrap();
    std::fs::create_dir_all(dir.join("artifacts")).unwrap();
    run_script(
        script,
        dir,
        &[
            ("HOME", home),
            ("GANTRY_TEST_ARTIFACTS", &dir.join("artifacts")),
            ("PATH", Path::new("/usr/local/bin:/usr/bin:/bin")),
        ],
        &[
            ("SUBJECT_PATH", ""),
            ("SUBJECT_NAME", &format!("{REGISTRY}/acme/gantry")),
            ("SUBJECT_DIGEST", DIGEST),
            ("PUSH", "true"),
        ],
    )
}

#[test]
fn the_image_login_leaves_the_credentials_where_the_attestation_and_the_pushes_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let (home, work) = (dir.path().join("home"), dir.path().join("work"));
    std::fs::create_dir_all(&home).unwrap();
    executable(&dir.path().join("bin/buildah"), BUILDAH);
    executable(&work.join("release/image.sh"), IMAGE_SH);
    std::fs::write(dir.path().join("github_output"), "").unwrap();

    let script = step_script(&yaml(".github/workflows/release.yml"), "image", "push");
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        dir.path().join("bin").display()
    );
    let output = run_script(
        &script,
        &work,
        &[
            ("HOME", &home),
            ("XDG_RUNTIME_DIR", &dir.path().join("run")),
            ("GITHUB_OUTPUT", &dir.path().join("github_output")),
            ("PATH", Path::new(&path)),
        ],
        &[
            ("IMAGE", &format!("{REGISTRY}/acme/gantry")),
            ("IMAGE_TLS_VERIFY", "false"),
            ("TAGS", &format!("{REGISTRY}/acme/gantry:1.2.3")),
            ("LABELS", "org.opencontainers.image.version=1.2.3"),
            ("REGISTRY_USER", "release-bot"),
            ("REGISTRY_TOKEN", "registry-token"),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let config = home.join(".docker/config.json");
    // JSON is YAML.
    let auths: Value = serde_yaml::from_str(&std::fs::read_to_string(&config).unwrap_or_default())
        .unwrap_or_default();
    assert!(
        auths["auths"][REGISTRY]["auth"].is_string(),
        "the login is not in {}: {auths:?}",
        config.display()
    );
    assert_eq!(
        std::fs::read_to_string(work.join("release/pushes-read"))
            .unwrap()
            .trim(),
        config.to_str().unwrap(),
        "the pushes read the same credentials"
    );

    let attested = attest(dir.path(), &home);
    assert!(attested.status.success(), "{}", text(&attested));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("artifacts/attestations")).unwrap(),
        format!("image {REGISTRY}/acme/gantry {DIGEST} push=true\n")
    );
}

#[test]
fn the_attest_double_refuses_a_push_without_the_registrys_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    let missing = attest(dir.path(), &home);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).contains(&format!(
            "::error::No credential file found at {}",
            home.join(".docker/config.json").display()
        )),
        "{}",
        text(&missing)
    );
    std::fs::write(
        home.join(".docker/config.json"),
        r#"{"auths": {"ghcr.io": {"auth": "eDp5"}}}"#,
    )
    .unwrap();
    let other = attest(dir.path(), &home);
    assert_eq!(other.status.code(), Some(1));
    assert!(
        text(&other).contains(&format!(
            "::error::No credentials found for registry {REGISTRY}"
        )),
        "{}",
        text(&other)
    );
    assert!(!dir.path().join("artifacts/attestations").exists());
}

#[test]
fn zig_is_installed_only_from_hash_pinned_wheels() {
    let root = xtask::repo_root();
    let requirements = std::fs::read_to_string(root.join("release/zig-requirements.txt")).unwrap();
    let joined = requirements
        .lines()
        .filter(|line| !line.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("\\\n", " ");
    let mut names = Vec::new();
    for requirement in joined.lines().filter(|line| !line.trim().is_empty()) {
        let mut words = requirement.split_whitespace();
        let pin = words.next().unwrap();
        let (name, version) = pin
            .split_once("==")
            .unwrap_or_else(|| panic!("{pin} is not name==version"));
        assert!(
            !version.is_empty() && !version.contains(['*', ',']),
            "{pin}"
        );
        let hashes: Vec<&str> = words.collect();
        assert!(!hashes.is_empty(), "{pin} has no hash");
        for hash in hashes {
            let digest = hash.strip_prefix("--hash=sha256:").unwrap_or_default();
            assert!(
                digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
                "{hash}"
            );
        }
        names.push(name.to_owned());
    }
    names.sort();
    assert_eq!(names, ["cargo-zigbuild", "ziglang"]);
    for user in [".github/workflows/release.yml", ".ci/install"] {
        let text = std::fs::read_to_string(root.join(user)).unwrap();
        assert!(
            text.contains("--require-hashes -r release/zig-requirements.txt"),
            "{user} does not install from release/zig-requirements.txt"
        );
        for line in text.lines().filter(|line| line.contains("pip")) {
            assert!(
                !line.contains("ziglang") && !line.contains("cargo-zigbuild"),
                "{user} installs zig unpinned: {line}"
            );
        }
    }
}
