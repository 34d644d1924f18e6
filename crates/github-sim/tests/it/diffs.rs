//! Comparisons (`compare/{base}...{head}`), pull request files and commit files, read by two
//! clients the project did not write: `PyGitHub` and octocrab's models.

use std::process::Command;

use github_sim::{Control, SimHandle, World};
use serde_json::json;

use crate::common::hermetic;
use crate::common::{WORLD, install_crypto, start};

/// The shas of a diverged branch: `bump` (two commits: an edit plus a new file, then a rename)
/// against `main` (one commit after the fork). Each client opens the pull request itself.
struct Story {
    base: String,
    first: String,
    second: String,
}

fn diverge(sim: &Control) -> Story {
    let base = sim.world(|w| w.repos["acme/service"].branch("main").unwrap().hex());
    let push = |branch: &str, files: &[(&str, Option<&str>)], message: &str| {
        sim.world(|w| {
            w.push_files("acme/service", branch, files, message, Some("alice"))
                .unwrap()
                .hex()
        })
    };
    let first = push(
        "bump",
        &[
            ("deploy/env", Some("export IMAGE_VERSION=1.1.0\n")),
            ("notes/a.txt", Some("a\n")),
        ],
        "bump",
    );
    let second = push(
        "bump",
        &[("README.md", None), ("docs/README.md", Some("hello\n"))],
        "move the readme",
    );
    push("main", &[("CHANGELOG.md", Some("1.0.0\n"))], "changelog");
    Story {
        base,
        first,
        second,
    }
}

#[test]
fn pygithub_reads_comparisons_and_file_lists() {
    let sim = SimHandle::spawn(World::from_yaml(WORLD).unwrap()).unwrap();
    let story = diverge(&sim);
    let expected = json!({"base": story.base, "first": story.first, "second": story.second});
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = hermetic(
        Command::new("python3")
            .arg(dir.join("tests/pygithub_diffs.py"))
            .arg(sim.url())
            .arg(expected.to_string()),
    )
    .output()
    .expect("python3 runs");
    assert!(
        out.status.success(),
        "pygithub_diffs.py failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("DIFFS OK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn octocrab_models_read_comparisons_and_file_lists() {
    install_crypto();
    let sim = start().await;
    let control = sim.control();
    let story = tokio::task::spawn_blocking(move || diverge(&control))
        .await
        .unwrap();
    let gh = octocrab::Octocrab::builder()
        .base_uri(sim.url())
        .unwrap()
        .personal_token("alice-token".to_owned())
        .build()
        .unwrap();
    let comparison = gh
        .commits("acme", "service")
        .compare("main", "bump")
        .send()
        .await
        .expect("compare deserialises");
    assert_eq!((comparison.ahead_by, comparison.behind_by), (2, 1));
    assert_eq!(comparison.merge_base_commit.sha, story.base);
    let files: Vec<String> = comparison
        .files
        .unwrap_or_default()
        .into_iter()
        .map(|f| f.filename)
        .collect();
    assert_eq!(files, ["deploy/env", "docs/README.md", "notes/a.txt"]);
    let commit = gh
        .commits("acme", "service")
        .get(story.second.clone())
        .await
        .expect("commit deserialises");
    let renamed = commit.files.unwrap_or_default();
    assert_eq!(renamed.len(), 1, "{renamed:?}");
    assert_eq!(renamed[0].previous_filename.as_deref(), Some("README.md"));
    let pull = gh
        .pulls("acme", "service")
        .create("Bump", "bump", "main")
        .send()
        .await
        .expect("create the pull request");
    let pull_files = gh
        .pulls("acme", "service")
        .list_files(pull.number)
        .await
        .expect("pull files deserialise");
    assert_eq!(pull_files.items.len(), 3);
    let unknown = gh
        .commits("acme", "service")
        .compare("main", "no-such-branch")
        .send()
        .await;
    assert!(unknown.is_err(), "an unknown head is 404");
}
