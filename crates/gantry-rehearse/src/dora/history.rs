//! The records the four keys are computed from, as plain values (no HTTP): deployments with
//! their statuses and the commits each successful deployment delivered, and what each
//! deployment's statuses say about how it ended.

use std::collections::HashMap;

use time::OffsetDateTime;

/// One deployment to the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    /// What was asked for (a tag, a branch or a SHA).
    pub reference: String,
    pub created_at: OffsetDateTime,
    /// In any order.
    pub statuses: Vec<Status>,
}

/// One deployment status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub id: u64,
    pub state: String,
    pub at: OffsetDateTime,
}

/// How a deployment ended: decided by its last `success`, `failure` or `error` status (ordered by
/// time, then by status id). `inactive` (a newer deployment replaced it), `in_progress`,
/// `queued` and `pending` decide nothing, except that one made `inactive` before any of those
/// never deployed (superseded, or cancelled and undone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Deployed; `at` and `status` are those of the deciding `success`.
    Success { at: OffsetDateTime, status: u64 },
    /// Ended `failure` or `error` at `at`.
    Failed {
        at: OffsetDateTime,
        status: u64,
        error: bool,
    },
    /// No deciding status yet.
    Pending,
    /// Made `inactive` before any deciding status: it never deployed, and counts for nothing.
    Withdrawn,
}

impl Deployment {
    pub fn outcome(&self) -> Outcome {
        self.statuses
            .iter()
            .filter(|s| matches!(s.state.as_str(), "success" | "failure" | "error"))
            .max_by_key(|s| (s.at, s.id))
            .map_or_else(
                || self.undecided(),
                |s| match s.state.as_str() {
                    "success" => Outcome::Success {
                        at: s.at,
                        status: s.id,
                    },
                    state => Outcome::Failed {
                        at: s.at,
                        status: s.id,
                        error: state == "error",
                    },
                },
            )
    }

    fn undecided(&self) -> Outcome {
        if self.statuses.iter().any(|s| s.state == "inactive") {
            Outcome::Withdrawn
        } else {
            Outcome::Pending
        }
    }
}

/// A commit with its committer date (when it entered the history that was deployed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    pub at: OffsetDateTime,
}

/// What a successful deployment's SHA holds over the previous successful deployment's SHA
/// (GitHub's three-dot comparison).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// `ahead`, `behind` (the new SHA is older: a rollback), `identical` or `diverged`.
    pub status: String,
    pub commits: Vec<Commit>,
}

/// Everything read: the deployments, for each successful deployment after the first what it
/// delivered (by deployment id), and the releases (tag → release name).
#[derive(Debug, Clone, Default)]
pub struct History {
    pub deployments: Vec<Deployment>,
    pub delivered: HashMap<u64, Delivered>,
    pub releases: HashMap<String, String>,
}

/// The successful deployments in the order they succeeded (time, then status id), with their
/// success time and status id.
pub fn successes(deployments: &[Deployment]) -> Vec<(&Deployment, OffsetDateTime, u64)> {
    let mut list: Vec<_> = deployments
        .iter()
        .filter_map(|d| match d.outcome() {
            Outcome::Success { at, status } => Some((d, at, status)),
            _ => None,
        })
        .collect();
    list.sort_by_key(|(_, at, status)| (*at, *status));
    list
}
