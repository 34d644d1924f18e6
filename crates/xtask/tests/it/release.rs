//! The whole release rehearsed against github-sim and a local bare git remote with the scripts
//! under `release/`: checksums, the release commit and moved tags, the published release with its
//! assets; then a user's checkout of the release tag installs a binary from the simulator through
//! `actions/install-binary.sh` (verified, cached, not downloaded twice; tampered, cut, missing or
//! uncacheable: exit 2 and nothing left in the tool cache).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use github_sim::{Fault, FaultAction, SimHandle, World};

const WORLD: &str = r#"
clock: { start: "2026-01-01T00:00:00Z", scale: 0 }
identities:
  - { login: release-bot, kind: user, tokens: [release-token] }
repos:
  - name: acme/gantry
    branches:
      main:
        files: { "README.md": "gantry\n" }
"#;

const REPOSITORY: &str = "acme/gantry";
const TAG: &str = "v1.2.3";
const TICGEN: &str = "ticgen-x86_64-unknown-linux-musl";
const TICGEN_BYTES: &[u8] = b"#!/bin/sh\necho released ticgen\n";
const CHECK: &str = "required-ci-check-x86_64-unknown-linux-musl";
const CHECK_BYTES: &[u8] = b"#!/bin/sh\necho released required-ci-check\n";

/// A command with the ambient environment removed: only what the scripts need.
pub(crate) fn hermetic(program: &str, home: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.invalid")
        .env("GIT_COMMITTER_NAME", "dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T10:00:00Z");
    command
}

pub(crate) fn run(mut command: Command) -> Output {
    let output = command.output().expect("command runs");
    assert!(
        output.status.success(),
        "{command:?} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

pub(crate) fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// A reusable workflow of the source: one pin of this repository's actions at a development
/// commit, one of a third-party action.
const WORKFLOW: &str = "jobs:
  deploy:
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: gantry-actions/gantry/actions/ticgen@cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af # development commit (no release yet)
";
const WORKFLOW_PIN: &str = "gantry-actions/gantry/actions/ticgen@cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af # development commit (no release yet)";

/// An example caller of that workflow, pinned at the development commit.
const EXAMPLE: &str = "# Copy this into your repository.
jobs:
  deploy:
    uses: gantry-actions/gantry/.github/workflows/deploy.yml@cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af # development commit (no release yet)
    with:
      tag: v1
";
const EXAMPLE_PIN: &str = "gantry-actions/gantry/.github/workflows/deploy.yml@cc78c6ffb09bfae0fbde06ff51a30a8f4b6c05af # development commit (no release yet)";
const EXAMPLE_PATH: &str = "examples/service/.github/workflows/deploy.yml";

/// The pushed image's digest the release commit pins.
const IMAGE_DIGEST: &str =
    "sha256:874c3551687fc19df84874d5d90b31f8684e992ac2b9470f79c00212334d0dae";

fn script(name: &str) -> PathBuf {
    xtask::repo_root().join("release").join(name)
}

/// A rehearsed release: the source repository, its bare remote, the assets and the simulator.
struct Rehearsal {
    dir: tempfile::TempDir,
    sim: SimHandle,
}

impl Rehearsal {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn git(&self, repo: &str, args: &[&str]) -> String {
        let mut command = hermetic("git", self.dir.path());
        command.arg("-C").arg(self.path(repo)).args(args);
        String::from_utf8_lossy(&run(command).stdout)
            .trim()
            .to_owned()
    }

    /// Tags a source commit, builds the assets' checksums, makes the release commit (pushed to
    /// the bare remote) and publishes the release to the simulator.
    fn new(major: bool) -> Rehearsal {
        let rehearsal = Rehearsal {
            dir: tempfile::tempdir().unwrap(),
            sim: SimHandle::spawn(World::from_yaml(WORLD).unwrap()).unwrap(),
        };
        let src = rehearsal.path("src");
        std::fs::create_dir_all(src.join("actions")).unwrap();
        std::fs::copy(
            xtask::repo_root().join("actions/install-binary.sh"),
            src.join("actions/install-binary.sh"),
        )
        .unwrap();
        std::fs::write(src.join("README.md"), "gantry\n").unwrap();
        std::fs::create_dir_all(src.join(".github/workflows")).unwrap();
        std::fs::write(src.join(".github/workflows/deploy.yml"), WORKFLOW).unwrap();
        std::fs::create_dir_all(src.join(EXAMPLE_PATH).parent().unwrap()).unwrap();
        std::fs::write(src.join(EXAMPLE_PATH), EXAMPLE).unwrap();
        std::fs::create_dir_all(src.join("actions/ticgen/docker")).unwrap();
        std::fs::write(
            src.join("actions/ticgen/docker/action.yml"),
            xtask::docker_action_yml(xtask::ACTIONS[0]),
        )
        .unwrap();
        rehearsal.git(".", &["init", "--quiet", "--bare", "remote.git"]);
        rehearsal.git("src", &["init", "--quiet", "--initial-branch=main"]);
        rehearsal.git("src", &["add", "."]);
        rehearsal.git("src", &["commit", "--quiet", "-m", "gantry 1.2.3"]);
        rehearsal.git("src", &["tag", "-a", TAG, "-m", "gantry 1.2.3"]);
        let remote = rehearsal.path("remote.git");
        let remote = remote.to_str().unwrap();
        rehearsal.git("src", &["push", "--quiet", remote, "main", TAG]);

        let dist = rehearsal.path("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join(TICGEN), TICGEN_BYTES).unwrap();
        std::fs::write(dist.join(CHECK), CHECK_BYTES).unwrap();
        let mut checksums = hermetic("bash", rehearsal.dir.path());
        checksums.arg(script("checksums.sh")).arg(&dist);
        run(checksums);

        rehearsal.commit(major);
        rehearsal.publish();
        rehearsal
    }

    /// release/commit.sh on the source, the image given by digest.
    fn commit_command(&self, major: bool, image: &str) -> Command {
        let mut commit = hermetic("bash", self.dir.path());
        commit
            .current_dir(self.path("src"))
            .arg(script("commit.sh"))
            .arg(TAG)
            .arg(self.path("dist/SHA256SUMS"));
        if major {
            commit.arg("--major");
        }
        commit.args(["--image", image, "--repository", REPOSITORY]);
        commit.arg("--push").arg(self.path("remote.git"));
        commit
    }

    fn commit(&self, major: bool) -> Output {
        run(self.commit_command(major, &format!("ghcr.io/Acme/gantry@{IMAGE_DIGEST}")))
    }

    fn publish(&self) -> Output {
        let mut publish = hermetic("bash", self.dir.path());
        publish
            .arg(script("publish.sh"))
            .arg(TAG)
            .arg(self.path("dist"))
            .env("GITHUB_API_URL", self.sim.url())
            .env("GITHUB_REPOSITORY", REPOSITORY)
            .env("GITHUB_TOKEN", "release-token");
        run(publish)
    }

    /// A user's checkout of the release tag (no target/).
    fn checkout(&self) -> PathBuf {
        let checkout = self.path("user");
        if !checkout.exists() {
            let mut clone = hermetic("git", self.dir.path());
            clone
                .args(["clone", "--quiet", "--branch", TAG])
                .arg(self.path("remote.git"))
                .arg(&checkout);
            run(clone);
        }
        checkout
    }

    /// Runs the installer of the user's checkout for `binary` with tool cache `cache`.
    fn install(&self, binary: &str, cache: &Path) -> (i32, String, Option<PathBuf>) {
        let output_file = self.path("github_output");
        std::fs::write(&output_file, "").unwrap();
        let mut command = hermetic("bash", self.dir.path());
        command
            .arg(self.checkout().join("actions/install-binary.sh"))
            .env("GANTRY_BINARY", binary)
            .env("GANTRY_ACTION_REPOSITORY", REPOSITORY)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_SERVER_URL", self.sim.url())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TOOL_CACHE", cache)
            .env("RUNNER_TEMP", self.runner_temp());
        let output = command.output().unwrap();
        let written = std::fs::read_to_string(&output_file).unwrap();
        let path = written
            .strip_prefix("path=")
            .map(|p| PathBuf::from(p.trim_end()));
        (output.status.code().unwrap_or(-1), text(&output), path)
    }

    /// The job's `RUNNER_TEMP`, where the installer puts the verified copy each step runs.
    fn runner_temp(&self) -> PathBuf {
        let temp = self.path("runner_temp");
        std::fs::create_dir_all(&temp).unwrap();
        temp
    }

    fn downloads(&self, asset: &str) -> usize {
        let path = format!("/{REPOSITORY}/releases/download/{TAG}/{asset}");
        self.sim
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path == path)
            .count()
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_release_commit_carries_the_checksums_and_the_tags_move_to_it() {
    let release = Rehearsal::new(true);
    let source = release.git("src", &["rev-parse", "main"]);
    let parent = |commit: &str| release.git("remote.git", &["rev-parse", &format!("{commit}^")]);
    let tagged = release.git("remote.git", &["rev-parse", &format!("{TAG}^{{commit}}")]);
    let workflows = parent(&tagged);
    let checksums = parent(&workflows);
    assert_eq!(
        parent(&checksums),
        source,
        "on the tagged source: the checksums commit, the workflows' pins, the examples' pins"
    );
    assert_eq!(
        release.git(
            "remote.git",
            &["cat-file", "-t", &format!("refs/tags/{TAG}")]
        ),
        "tag",
        "an annotated tag stays annotated"
    );
    for commit in [&tagged, &workflows, &checksums] {
        assert_eq!(
            release.git(
                "remote.git",
                &["show", &format!("{commit}:actions/RELEASE")]
            ),
            TAG
        );
        let sums = release.git(
            "remote.git",
            &["show", &format!("{commit}:actions/SHA256SUMS")],
        );
        assert_eq!(
            sums + "\n",
            std::fs::read_to_string(release.path("dist/SHA256SUMS")).unwrap()
        );
    }
    assert_eq!(
        release.git("remote.git", &["rev-parse", "v1^{commit}"]),
        tagged,
        "--major moves the floating major tag"
    );
    assert_eq!(
        release.git("remote.git", &["diff", "--name-only", &source, &checksums]),
        "actions/RELEASE\nactions/SHA256SUMS\nactions/ticgen/docker/action.yml",
        "the checksums commit adds the two files and pins the Docker actions"
    );
    let development = xtask::docker_action_yml(xtask::ACTIONS[0]);
    assert!(development.contains(xtask::DOCKER_DEVELOPMENT_NOTE));
    assert!(development.contains(&format!("image: {}\n", xtask::DOCKER_IMAGE_PLACEHOLDER)));
    let docker = release.git(
        "remote.git",
        &["show", &format!("{TAG}:actions/ticgen/docker/action.yml")],
    ) + "\n";
    assert_eq!(
        docker,
        development
            .replace(&format!("{}\n", xtask::DOCKER_DEVELOPMENT_NOTE), "")
            .replace(
                xtask::DOCKER_IMAGE_PLACEHOLDER,
                &format!("docker://ghcr.io/acme/gantry@{IMAGE_DIGEST}")
            ),
        "the released Docker action runs the pushed image by digest, and no longer says it is none"
    );
    assert_eq!(
        release.git(
            "remote.git",
            &["diff", "--name-only", &checksums, &workflows]
        ),
        ".github/workflows/deploy.yml",
        "the second commit only moves the workflows' pins"
    );
    assert_eq!(
        release.git(
            "remote.git",
            &["show", &format!("{TAG}:.github/workflows/deploy.yml")]
        ) + "\n",
        WORKFLOW.replace(
            WORKFLOW_PIN,
            &format!("{REPOSITORY}/actions/ticgen@{checksums} # {TAG}")
        ),
        "this repository's actions pinned to the checksums commit, under the repository's name; others untouched"
    );
    assert_eq!(
        release.git("remote.git", &["diff", "--name-only", &workflows, &tagged]),
        EXAMPLE_PATH,
        "the tagged commit only moves the examples' pins"
    );
    assert_eq!(
        release.git("remote.git", &["show", &format!("{TAG}:{EXAMPLE_PATH}")]) + "\n",
        EXAMPLE.replace(
            EXAMPLE_PIN,
            &format!("{REPOSITORY}/.github/workflows/deploy.yml@{workflows} # {TAG}")
        ),
        "the examples call the reusable workflows of the commit whose workflows pin the released actions"
    );

    // A re-run on the moved tag makes the same commits again (deterministic, idempotent).
    release.commit(true);
    assert_eq!(
        release.git("remote.git", &["rev-parse", &format!("{TAG}^{{commit}}")]),
        tagged
    );
}

#[test]
fn an_image_without_a_digest_is_refused_before_anything_moves() {
    let release = Rehearsal::new(false);
    let tagged = release.git("remote.git", &["rev-parse", &format!("{TAG}^{{commit}}")]);
    let output = release
        .commit_command(false, "ghcr.io/acme/gantry:1.2.3")
        .output()
        .unwrap();
    let log = text(&output);
    assert_eq!(output.status.code(), Some(2), "{log}");
    assert_eq!(log.matches("::error").count(), 1, "{log}");
    assert!(
        log.contains("--image ghcr.io/acme/gantry:1.2.3 is not REPOSITORY@sha256:DIGEST"),
        "{log}"
    );
    assert_eq!(
        release.git("remote.git", &["rev-parse", &format!("{TAG}^{{commit}}")]),
        tagged,
        "the tag did not move"
    );
}

#[test]
fn the_floating_major_tag_moves_only_when_asked() {
    let release = Rehearsal::new(false);
    let tags = release.git("remote.git", &["tag", "--list"]);
    assert_eq!(tags, TAG, "no v1 without --major");
}

#[test]
fn the_published_release_holds_every_asset_and_a_rerun_uploads_nothing() {
    let release = Rehearsal::new(false);
    let assets = release.sim.world(|w| {
        let repo = &w.repos[REPOSITORY];
        let rel = repo
            .releases
            .iter()
            .find(|r| r.tag_name == TAG)
            .expect("release exists")
            .clone();
        assert!(
            !rel.draft && !rel.prerelease,
            "published as a final release"
        );
        repo.release_assets
            .iter()
            .filter(|a| a.release_id == rel.id)
            .map(|a| (a.name.clone(), a.bytes.to_vec()))
            .collect::<Vec<_>>()
    });
    let names: Vec<&str> = assets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["SHA256SUMS", CHECK, TICGEN]);
    assert_eq!(assets[2].1, TICGEN_BYTES);

    let uploads_before = release
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/assets"))
        .count();
    let again = text(&release.publish());
    assert!(
        again.contains(&format!("kept {TICGEN} (already uploaded, same SHA-256)")),
        "{again}"
    );
    let uploads_after = release
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/assets"))
        .count();
    assert_eq!(uploads_before, uploads_after, "a re-run uploads nothing");
}

#[test]
fn a_checkout_of_the_release_installs_from_the_release_and_caches_it() {
    let release = Rehearsal::new(false);
    let cache = release.path("toolcache");
    let (code, log, path) = release.install("ticgen", &cache);
    assert_eq!(code, 0, "{log}");
    let path = path.expect("path output");
    assert!(
        path.starts_with(release.runner_temp()),
        "the step runs its private copy: {}",
        path.display()
    );
    let cached = cache.join(format!("gantry/{TAG}/x86_64-unknown-linux-musl/ticgen"));
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        std::fs::read(&path).unwrap()
    );
    let ran = Command::new(&path).output().unwrap();
    assert_eq!(ran.stdout, b"released ticgen\n");
    assert_eq!(release.downloads(TICGEN), 1);

    let (code, log, again) = release.install("ticgen", &cache);
    assert_eq!(code, 0, "{log}");
    let again = again.expect("path output");
    assert!(
        again.starts_with(release.runner_temp()) && again != path,
        "{log}"
    );
    assert_eq!(
        release.downloads(TICGEN),
        1,
        "a cache hit downloads nothing"
    );

    let (code, log, _) = release.install("required-ci-check", &cache);
    assert_eq!(code, 0, "{log}");
    assert_eq!(release.downloads(CHECK), 1);
}

/// Runs the installer against a fault and asserts the failure contract: exit 2, exactly one
/// `::error` containing `message`, nothing in the tool cache.
fn assert_refused(release: &Rehearsal, binary: &str, cache: &Path, message: &str) {
    let (code, log, path) = release.install(binary, cache);
    assert_eq!((code, path), (2, None), "{log}");
    assert_eq!(log.matches("::error").count(), 1, "{log}");
    assert!(log.contains(message), "wanted {message:?} in:\n{log}");
    assert_eq!(files_under(cache), Vec::<PathBuf>::new(), "nothing cached");
}

#[test]
fn a_tampered_asset_in_the_release_is_refused_and_nothing_is_cached() {
    let release = Rehearsal::new(false);
    release.sim.world(|w| {
        let asset = w
            .repos
            .get_mut(REPOSITORY)
            .unwrap()
            .release_assets
            .iter_mut()
            .find(|a| a.name == TICGEN)
            .unwrap();
        asset.bytes = b"#!/bin/sh\necho evil\n".to_vec().into();
    });
    assert_refused(
        &release,
        "ticgen",
        &release.path("toolcache"),
        &format!("checksum mismatch for {TICGEN}"),
    );
}

#[test]
fn a_download_cut_mid_body_is_refused_and_nothing_is_cached() {
    let release = Rehearsal::new(false);
    release.sim.add_fault(Fault::new(
        "GET",
        "/github-production-release-asset/**",
        FaultAction::CloseMidBody,
    ));
    assert_refused(
        &release,
        "ticgen",
        &release.path("toolcache"),
        "could not download",
    );
}

#[test]
fn a_missing_asset_is_refused_and_nothing_is_cached() {
    let release = Rehearsal::new(false);
    release.sim.world(|w| {
        w.repos
            .get_mut(REPOSITORY)
            .unwrap()
            .release_assets
            .retain(|a| a.name != TICGEN);
    });
    assert_refused(
        &release,
        "ticgen",
        &release.path("toolcache"),
        &format!(
            "could not download {}/{REPOSITORY}/releases/download/{TAG}/{TICGEN}",
            release.sim.url()
        ),
    );
}

#[test]
fn an_unwritable_tool_cache_costs_only_the_next_jobs_download() {
    let release = Rehearsal::new(false);
    let cache = release.path("readonly-cache");
    std::fs::create_dir_all(&cache).unwrap();
    // A file in the cache's place stops writes even for root, whom permissions do not stop.
    std::fs::write(cache.join("gantry"), "not a directory").unwrap();
    let (code, log, path) = release.install("ticgen", &cache);
    assert_eq!(code, 0, "{log}");
    let path = path.expect("path output");
    assert!(path.starts_with(release.runner_temp()), "{log}");
    assert_eq!(
        Command::new(&path).output().unwrap().stdout,
        b"released ticgen\n"
    );
    assert!(
        log.contains("is not writable; the next job downloads"),
        "{log}"
    );
    assert_eq!(log.matches("::error").count(), 0, "{log}");
    assert_eq!(release.downloads(TICGEN), 1);
}

#[test]
fn a_binary_without_a_checksum_line_is_refused_before_any_download() {
    let release = Rehearsal::new(false);
    assert_refused(
        &release,
        "k8s-deploy",
        &release.path("toolcache"),
        "actions/SHA256SUMS has no checksum for k8s-deploy-x86_64-unknown-linux-musl",
    );
    assert_eq!(release.downloads("k8s-deploy-x86_64-unknown-linux-musl"), 0);
}
