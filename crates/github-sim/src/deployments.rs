//! Deployments, their statuses and environments as a repository keeps them, with GitHub's rules
//! that outlive one request: which deployments a `success` makes inactive, which may be deleted.

use serde_json::Value;

use crate::git::Sha;

/// One deployment status (they are never edited; the newest is the deployment's state).
#[derive(Clone, Debug)]
pub struct DeploymentStatus {
    pub id: u64,
    pub state: String,
    pub creator: u64,
    pub description: String,
    pub environment: String,
    pub target_url: String,
    pub log_url: String,
    pub environment_url: String,
    pub created_at: i64,
}

/// One deployment with its statuses, oldest first.
#[derive(Clone, Debug)]
pub struct Deployment {
    pub id: u64,
    pub sha: Sha,
    /// The ref as the client named it (branch, tag or SHA).
    pub git_ref: String,
    pub task: String,
    pub payload: Value,
    pub original_environment: String,
    /// The environment now (a status may move the deployment to another one).
    pub environment: String,
    pub description: Option<String>,
    pub creator: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub transient_environment: bool,
    pub production_environment: bool,
    pub statuses: Vec<DeploymentStatus>,
}

impl Deployment {
    /// The state of the newest status, if any.
    pub fn state(&self) -> Option<&str> {
        self.statuses.last().map(|s| s.state.as_str())
    }
}

/// A deployment environment.
#[derive(Clone, Debug)]
pub struct Environment {
    pub id: u64,
    pub name: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Minutes a job waits before it may deploy (0: no wait timer rule).
    pub wait_timer: u32,
    /// `{protected_branches, custom_branch_policies}` as stored, `None` for all branches.
    pub branch_policy: Option<(bool, bool)>,
}

/// The deployments of `environment` that a new `success` on deployment `except` makes inactive
/// (GitHub: "all prior non-transient, non-production environment deployments in the same
/// repository with the same environment name"), newest excluded, already inactive ones skipped.
pub fn replaced_by(deployments: &[Deployment], except: u64, environment: &str) -> Vec<u64> {
    deployments
        .iter()
        .filter(|d| {
            d.id < except
                && d.environment == environment
                && !d.transient_environment
                && !d.production_environment
                && d.state() != Some("inactive")
        })
        .map(|d| d.id)
        .collect()
}

/// Whether GitHub lets deployment `id` be deleted: the only deployment of the repository may
/// always go, any other only once its newest status is `inactive`.
pub fn deletable(deployments: &[Deployment], id: u64) -> bool {
    deployments.len() == 1
        || deployments
            .iter()
            .any(|d| d.id == id && d.state() == Some("inactive"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(id: u64, environment: &str, state: Option<&str>, production: bool) -> Deployment {
        Deployment {
            id,
            sha: Sha([0; 20]),
            git_ref: "main".into(),
            task: "deploy".into(),
            payload: Value::Null,
            original_environment: environment.into(),
            environment: environment.into(),
            description: None,
            creator: 1,
            created_at: 0,
            updated_at: 0,
            transient_environment: false,
            production_environment: production,
            statuses: state
                .map(|s| DeploymentStatus {
                    id: id + 100,
                    state: s.into(),
                    creator: 1,
                    description: String::new(),
                    environment: environment.into(),
                    target_url: String::new(),
                    log_url: String::new(),
                    environment_url: String::new(),
                    created_at: 0,
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn success_replaces_older_non_production_deployments_of_its_environment_only() {
        let mut transient = deployment(3, "staging", Some("success"), false);
        transient.transient_environment = true;
        let all = vec![
            deployment(1, "staging", Some("success"), false),
            deployment(2, "qa", Some("success"), false),
            transient,
            deployment(4, "staging", Some("inactive"), false),
            deployment(5, "production", Some("success"), true),
            deployment(6, "staging", None, false),
            deployment(7, "staging", Some("in_progress"), false),
            deployment(8, "staging", Some("success"), false),
        ];
        assert_eq!(replaced_by(&all, 7, "staging"), vec![1, 6]);
        assert!(replaced_by(&all, 9, "production").is_empty());
    }

    #[test]
    fn only_inactive_or_lone_deployments_are_deletable() {
        let lone = vec![deployment(1, "qa", Some("success"), false)];
        assert!(deletable(&lone, 1));
        let two = vec![
            deployment(1, "qa", Some("success"), false),
            deployment(2, "qa", Some("inactive"), false),
        ];
        assert!(!deletable(&two, 1));
        assert!(deletable(&two, 2));
    }
}
