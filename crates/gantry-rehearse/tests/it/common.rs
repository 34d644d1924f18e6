//! Runs a rehearsal the way `gantry rehearse` does, capturing its progress lines, and reads the
//! simulators directly for the assertions.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use gantry_rehearse::{Binaries, Layout, Progress, Report, Stage, rehearse};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

/// A rehearsal that ran, with its stage still up for inspection.
pub struct Rehearsed {
    pub layout: Layout,
    pub stage: Stage,
    pub report: Report,
    pub transcript: String,
}

/// Captured progress lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The action binaries in this test's profile directory (`target/debug`). `cargo test
/// --workspace` builds them with every action's own tests; `cargo test -p gantry-rehearse` alone
/// needs a `cargo build -p ticgen -p required-ci-check -p create-prerelease -p auto-deploy -p
/// k8s-deploy` first (a cargo build nested in the test would wait on this build's lock).
pub fn binaries() -> Binaries {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    Binaries::in_dir(profile_dir).expect("the action binaries are built")
}

pub fn rehearse_layout(layout: Layout) -> Rehearsed {
    let stage = Stage::start(&layout, None).expect("the stage starts");
    let captured = Captured::default();
    let progress = Progress::plain(captured.clone());
    let report = rehearse(&layout, &stage, &binaries(), &progress).expect("the rehearsal runs");
    let transcript = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    Rehearsed {
        layout,
        stage,
        report,
        transcript,
    }
}

impl Rehearsed {
    /// Asserts every expectation held, showing the progress lines and the failed ones if not.
    pub fn assert_all_held(&self) {
        let failed: Vec<_> = self
            .report
            .expectations
            .iter()
            .filter(|e| !e.held)
            .map(|e| format!("{} — found {}", e.what, e.found))
            .collect();
        assert!(failed.is_empty(), "{failed:#?}\n{}", self.transcript);
    }

    pub fn actions(&self) -> Vec<&str> {
        self.report.steps.iter().map(|s| s.action).collect()
    }

    /// The output of the `n`-th step running `action`.
    pub fn output(&self, action: &str, n: usize, name: &str) -> String {
        self.report
            .steps
            .iter()
            .filter(|s| s.action == action)
            .nth(n)
            .unwrap_or_else(|| panic!("no {action} step {n}"))
            .output(name)
            .to_owned()
    }

    /// (merged, merged by, approving logins) of a landing-zone pull request, from github-sim.
    pub fn pull(&self, number: u64) -> (bool, Option<String>, Vec<String>) {
        self.stage.github.world(|w| {
            let pull = w.repos[&self.layout.landing_zone].pull(number).unwrap();
            (
                pull.merged,
                pull.merged_by.map(|id| w.login_of(id).to_owned()),
                pull.reviews
                    .iter()
                    .filter(|r| r.state == "APPROVED")
                    .map(|r| w.login_of(r.user).to_owned())
                    .collect(),
            )
        })
    }

    /// The env file before and after a landing-zone commit (its first parent and itself).
    pub fn env_file_around(&self, commit: &str) -> (String, String) {
        self.stage.github.world(|w| {
            let repo = &w.repos[&self.layout.landing_zone];
            let sha = repo
                .resolve(&w.objects, commit)
                .expect("the merge commit exists");
            let parent = w.objects.commit(&sha).unwrap().parents[0];
            let text = |at| {
                let blob = w.objects.commit_files(at)[&self.layout.env_file];
                String::from_utf8(w.objects.blob(&blob).unwrap().to_vec()).unwrap()
            };
            (text(&parent), text(&sha))
        })
    }

    pub fn is_prerelease(&self, tag: &str) -> bool {
        self.stage.github.world(|w| {
            w.repos[&self.layout.service]
                .releases
                .iter()
                .find(|r| r.tag_name == tag)
                .expect("the release exists")
                .prerelease
        })
    }

    /// The Deployment's image and revision annotation, from kube-sim.
    pub fn deployment(&self) -> (String, String) {
        let d = self
            .stage
            .cluster
            .get::<Deployment>(&self.layout.namespace, &self.layout.deployment)
            .unwrap();
        let revision = d.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"].clone();
        let image = d.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .clone()
            .unwrap();
        (image, revision)
    }

    /// The Deployment's `metadata.generation`, from kube-sim.
    pub fn generation(&self) -> i64 {
        self.stage
            .cluster
            .get::<Deployment>(&self.layout.namespace, &self.layout.deployment)
            .unwrap()
            .metadata
            .generation
            .unwrap()
    }

    /// The canary Deployment k8s-deploy derives (`<deployment>-canary`), if it is there.
    pub fn canary(&self) -> Option<Deployment> {
        self.stage.cluster.get::<Deployment>(
            &self.layout.namespace,
            &format!("{}-canary", self.layout.deployment),
        )
    }

    /// (revision, image) of every `ReplicaSet` in the namespace, by revision.
    pub fn history(&self) -> Vec<(String, String)> {
        let mut history: Vec<_> = self
            .stage
            .cluster
            .list::<ReplicaSet>(Some(&self.layout.namespace))
            .into_iter()
            .map(|rs| {
                (
                    rs.metadata.annotations.unwrap()["deployment.kubernetes.io/revision"].clone(),
                    rs.spec.unwrap().template.unwrap().spec.unwrap().containers[0]
                        .image
                        .clone()
                        .unwrap(),
                )
            })
            .collect();
        history.sort();
        history
    }
}

/// Lines that differ between two texts of the same length.
pub fn differing_lines(before: &str, after: &str) -> Vec<(String, String)> {
    assert_eq!(before.lines().count(), after.lines().count());
    before
        .lines()
        .zip(after.lines())
        .filter(|(b, a)| b != a)
        .map(|(b, a)| (b.to_owned(), a.to_owned()))
        .collect()
}
