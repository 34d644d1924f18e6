//! Temporary git repositories with a fixed commit, and the runs of the ticgen binary inside them.

use std::path::Path;
use std::process::Command;

use gantry_testkit::{ActionRun, Transcript};

/// The commit time every test repository uses (2024-05-01T12:00:00Z).
pub const COMMIT_EPOCH: &str = "1714564800";
const COMMIT_DATE: &str = "2024-05-01T12:00:00Z";
/// A SHA that stands for a pull request's merge commit: it must never reach the outputs.
pub const MERGE_SHA: &str = "1111111111111111111111111111111111111111";

/// A git repository in a temp dir with one commit of the files it was given.
pub struct Repo {
    dir: tempfile::TempDir,
    pub sha: String,
}

impl Repo {
    /// Writes the files (path, contents) and commits them with a fixed author, date and message, so
    /// the SHA is the same on every run.
    pub fn new(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for (path, contents) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, contents).expect("write");
        }
        git(dir.path(), &["-c", "init.defaultBranch=main", "init", "-q"]);
        git(dir.path(), &["add", "-A"]);
        git(
            dir.path(),
            &[
                "-c",
                "user.name=ticgen",
                "-c",
                "user.email=ticgen@example.com",
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "-m",
                "init",
            ],
        );
        let sha = git(dir.path(), &["rev-parse", "HEAD"]);
        Self { dir, sha }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Tags the repository's commit (a lightweight tag).
    pub fn tag(&self, name: &str) {
        git(self.path(), &["tag", name]);
    }

    /// A run of ticgen in the repository, inside a simulated Actions step.
    pub fn run(&self) -> ActionRun {
        ActionRun::new(env!("CARGO_BIN_EXE_ticgen"))
            .current_dir(self.path())
            .env("GITHUB_REPOSITORY", "octo/svc")
    }

    /// A run for a push of `git_ref` at the repository's commit, with the push payload.
    pub fn push(&self, git_ref: &str) -> ActionRun {
        let payload = serde_json::json!({
            "ref": git_ref,
            "head_commit": { "id": self.sha, "timestamp": "2024-05-01T14:00:00+02:00" },
            "repository": { "default_branch": "main" },
        });
        self.run()
            .env("GITHUB_REF", git_ref)
            .env("GITHUB_SHA", &self.sha)
            .event("push", &payload)
    }

    /// A run for pull request 42 whose head is the repository's commit and whose merge commit is
    /// [`MERGE_SHA`].
    pub fn pull_request(&self) -> ActionRun {
        let payload = serde_json::json!({
            "number": 42,
            "pull_request": { "number": 42, "head": { "sha": self.sha, "ref": "feature/login" } },
        });
        self.run()
            .env("GITHUB_REF", "refs/pull/42/merge")
            .env("GITHUB_SHA", MERGE_SHA)
            .env("GITHUB_HEAD_REF", "feature/login")
            .event("pull_request", &payload)
    }

    /// The transcript with this repository's path replaced, for snapshots.
    pub fn render(&self, transcript: &Transcript) -> String {
        transcript
            .render()
            .replace(&self.path().display().to_string(), "[REPO]")
            .replace(&self.sha, "[SHA]")
            .replace(&self.sha[..7], "[SHA7]")
    }

    /// Adds a second commit (one hour later) and returns a depth-1 clone of it, as
    /// `actions/checkout` makes by default.
    pub fn shallow_clone(&self) -> Self {
        std::fs::write(self.path().join("CHANGES"), "second\n").expect("write");
        git(self.path(), &["add", "-A"]);
        let later = [
            ("GIT_AUTHOR_DATE", "2024-05-01T13:00:00Z"),
            ("GIT_COMMITTER_DATE", "2024-05-01T13:00:00Z"),
        ];
        git_with(
            self.path(),
            &[
                "-c",
                "user.name=ticgen",
                "-c",
                "user.email=ticgen@example.com",
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "-m",
                "second",
            ],
            &later,
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("file://{}", self.path().display());
        git(dir.path(), &["clone", "-q", "--depth", "1", &url, "."]);
        let sha = git(dir.path(), &["rev-parse", "HEAD"]);
        assert_eq!(
            git(dir.path(), &["rev-list", "--count", "HEAD"]),
            "1",
            "the clone is shallow"
        );
        Self { dir, sha }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    git_with(
        dir,
        args,
        &[
            ("GIT_AUTHOR_DATE", COMMIT_DATE),
            ("GIT_COMMITTER_DATE", COMMIT_DATE),
        ],
    )
}

fn git_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// A `[project]` pyproject.toml with this version.
pub fn pyproject(version: &str) -> String {
    format!(
        "[project]\nname = \"svc\"\nversion = \"{version}\"\ndescription = \"The service\"\nlicense = \"MIT\"\n"
    )
}

/// Asserts a successful run and returns it.
pub fn success(transcript: Transcript) -> Transcript {
    assert_eq!(transcript.code, 0, "{}", transcript.render());
    transcript
}

/// Asserts a bad-input run: exit 2, exactly one `::error`, which names `input`, and no outputs.
pub fn bad_input(transcript: &Transcript, input: &str) -> String {
    assert_eq!(transcript.code, 2, "{}", transcript.render());
    let errors = transcript.errors();
    assert_eq!(errors.len(), 1, "{}", transcript.render());
    assert!(
        errors[0].contains(&format!("`{input}`")),
        "error does not name `{input}`: {}",
        errors[0]
    );
    assert!(
        transcript.raw_outputs.is_empty(),
        "outputs written on failure:\n{}",
        transcript.raw_outputs
    );
    errors[0].clone()
}
