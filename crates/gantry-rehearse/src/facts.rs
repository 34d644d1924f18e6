//! Reads what the simulators hold, independently of what the actions said: files on a branch,
//! the landing-zone pull request, release flags, the Deployment and its revision history. The
//! rehearsal's expectations compare the actions' outputs with these facts.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};

const REVISION: &str = "deployment.kubernetes.io/revision";

/// Every file of `repo` at `rev` (a branch, tag or commit), path → bytes; `None` when `rev` does
/// not resolve.
pub fn tree(github: &github_sim::Control, repo: &str, rev: &str) -> Option<Vec<(String, Vec<u8>)>> {
    github.world(|w| {
        let sha = w.repos.get(repo)?.resolve(&w.objects, rev)?;
        Some(
            w.objects
                .commit_files(&sha)
                .iter()
                .filter_map(|(path, blob)| Some((path.clone(), w.objects.blob(blob)?.to_vec())))
                .collect(),
        )
    })
}

/// One file of `repo` at `rev` as text.
pub fn file_text(
    github: &github_sim::Control,
    repo: &str,
    rev: &str,
    path: &str,
) -> Option<String> {
    tree(github, repo, rev)?
        .into_iter()
        .find(|(p, _)| p == path)
        .and_then(|(_, bytes)| String::from_utf8(bytes).ok())
}

/// The login owning `token`.
pub fn login_of(github: &github_sim::Control, token: &str) -> Option<String> {
    github.world(|w| w.identity_by_token(token).map(|i| i.login))
}

/// A pull request as the landing zone's history tells it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PullFacts {
    pub number: u64,
    pub merged: bool,
    pub merged_by: Option<String>,
    /// Logins of the approving reviews.
    pub approvals: Vec<String>,
}

pub fn pull(github: &github_sim::Control, repo: &str, number: u64) -> Option<PullFacts> {
    github.world(|w| {
        let pull = w.repos.get(repo)?.pull(number)?;
        Some(PullFacts {
            number,
            merged: pull.merged,
            merged_by: pull.merged_by.map(|id| w.login_of(id).to_owned()),
            approvals: pull
                .reviews
                .iter()
                .filter(|r| r.state == "APPROVED")
                .map(|r| w.login_of(r.user).to_owned())
                .collect(),
        })
    })
}

/// Whether the release of `tag` is a prerelease; `None` when there is no release.
pub fn is_prerelease(github: &github_sim::Control, repo: &str, tag: &str) -> Option<bool> {
    github.world(|w| {
        w.repos
            .get(repo)?
            .releases
            .iter()
            .find(|r| r.tag_name == tag)
            .map(|r| r.prerelease)
    })
}

/// How many lines differ between two texts of the same file (changed lines count once).
pub fn lines_changed(before: &str, after: &str) -> usize {
    let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let common = b.iter().zip(&a).filter(|(x, y)| x == y).count();
    b.len().max(a.len()) - common
}

/// The Deployment as the cluster holds it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DeploymentFacts {
    pub image: String,
    pub revision: String,
    /// `metadata.generation`: changes with every change of the spec.
    pub generation: i64,
    /// (revision, image) of each `ReplicaSet` it owns, oldest revision first.
    pub history: Vec<(u64, String)>,
}

pub fn deployment(cluster: &kube_sim::KubeSim, namespace: &str, name: &str) -> DeploymentFacts {
    let Some(deployment) = cluster.get::<Deployment>(namespace, name) else {
        return DeploymentFacts::default();
    };
    let revision = deployment
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION).cloned())
        .unwrap_or_default();
    let generation = deployment.metadata.generation.unwrap_or_default();
    let image = first_image(deployment.spec.and_then(|s| s.template.spec));
    let uid = deployment.metadata.uid;
    let mut history: Vec<(u64, String)> = cluster
        .list::<ReplicaSet>(Some(namespace))
        .into_iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|owner| Some(&owner.uid) == uid.as_ref())
        })
        .map(|rs| {
            let revision = rs
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(REVISION))
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            (
                revision,
                first_image(rs.spec.and_then(|s| s.template).and_then(|t| t.spec)),
            )
        })
        .collect();
    history.sort();
    DeploymentFacts {
        image,
        revision,
        generation,
        history,
    }
}

fn first_image(pod: Option<k8s_openapi::api::core::v1::PodSpec>) -> String {
    pod.and_then(|p| p.containers.into_iter().next())
        .and_then(|c| c.image)
        .unwrap_or_default()
}
