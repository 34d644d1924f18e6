//! The four DORA keys computed from a [`History`] over a [`Period`], without I/O, so that every
//! definition is tested on hand-made histories:
//!
//! - **deployment frequency**: successful deployments whose deciding `success` falls in the
//!   period, per day and per week of the period's length;
//! - **lead time for changes**: for each commit first delivered by a successful deployment in the
//!   period (commits between the previous successful deployment's SHA and its SHA, each counted
//!   once, at the first success that contained it), the time from its committer date to that
//!   success (never negative); median and 90th percentile;
//! - **change failure rate**: failed deployments over finished deployments in the period. A
//!   deployment is finished when it ended `success`, `failure` or `error` in the period (the time
//!   of the deciding status); it failed when it ended `failure` or `error`, or it succeeded and
//!   was rolled back (the next successful deployment deployed an older SHA: the comparison is
//!   `behind`);
//! - **time to restore**: for each failed deployment of the period, from its failure (the
//!   deciding status, or the success of a rolled-back one) to the next successful deployment
//!   that was not itself rolled back; median of those restored, and a count of those not yet.
//!
//! Median: the middle value, or the mean of the two middle values. p90: nearest rank, the value
//! at rank ⌈0.9·n⌉ of the values in ascending order.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use time::OffsetDateTime;

use super::history::{Deployment, History, Outcome, successes};
use super::period::Period;

/// The four keys and the deployments of the period they were computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keys {
    pub deployment_frequency: Frequency,
    pub lead_time: LeadTime,
    pub change_failure_rate: FailureRate,
    pub time_to_restore: Restore,
    pub deployments: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frequency {
    pub successful: usize,
    pub per_day: f64,
    pub per_week: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTime {
    /// Commits first delivered in the period.
    pub commits: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureRate {
    pub finished: usize,
    pub failed: usize,
    /// `failed / finished`; `None` when nothing finished.
    pub rate: Option<f64>,
    /// Deployments created in the period with no deciding status yet (not counted).
    pub pending: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restore {
    pub failures: usize,
    pub restored: usize,
    pub unrestored: usize,
    pub median_seconds: Option<f64>,
}

/// One deployment of the period, as the table, the JSON and the chart show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub reference: String,
    /// The release whose tag was deployed, by name.
    pub release: Option<String>,
    /// `success`, `failure`, `error` or `pending`.
    pub state: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    pub rolled_back: bool,
    /// Commits it first delivered; `None` for a success with no earlier success to compare with.
    pub commits: Option<usize>,
    /// When a failed deployment was restored.
    #[serde(with = "time::serde::rfc3339::option")]
    pub restored_at: Option<OffsetDateTime>,
}

/// A failure: when, and the status id that orders it among same-second events.
struct Failure {
    deployment: u64,
    at: OffsetDateTime,
    status: u64,
}

/// The successful deployments in the order they succeeded, and which of them were rolled back.
struct Successes<'a> {
    list: Vec<(&'a Deployment, OffsetDateTime, u64)>,
    rolled_back: HashSet<u64>,
}

impl<'a> Successes<'a> {
    fn of(history: &'a History) -> Successes<'a> {
        let list = successes(&history.deployments);
        let rolled_back = list
            .windows(2)
            .filter(|pair| {
                history
                    .delivered
                    .get(&pair[1].0.id)
                    .is_some_and(|d| d.status == "behind")
            })
            .map(|pair| pair[0].0.id)
            .collect();
        Successes { list, rolled_back }
    }

    /// Lead times (seconds) of the commits first delivered in the period, and how many commits
    /// each successful deployment after the first delivered first.
    fn lead_times(&self, history: &History, period: &Period) -> (Vec<i64>, HashMap<u64, usize>) {
        let mut seen = HashSet::new();
        let mut seconds = Vec::new();
        let mut first_delivered = HashMap::new();
        for (deployment, at, _) in self.list.iter().skip(1) {
            let Some(delivered) = history.delivered.get(&deployment.id) else {
                continue;
            };
            let new: Vec<_> = delivered
                .commits
                .iter()
                .filter(|c| seen.insert(c.sha.clone()))
                .collect();
            first_delivered.insert(deployment.id, new.len());
            if period.contains(*at) {
                seconds.extend(new.iter().map(|c| (*at - c.at).whole_seconds().max(0)));
            }
        }
        (seconds, first_delivered)
    }

    /// The failed deployments of the period.
    fn failures(&self, history: &History, period: &Period) -> Vec<Failure> {
        history
            .deployments
            .iter()
            .filter_map(|d| {
                match d.outcome() {
                    Outcome::Failed { at, status, .. } => Some((at, status)),
                    Outcome::Success { at, status } if self.rolled_back.contains(&d.id) => {
                        Some((at, status))
                    }
                    _ => None,
                }
                .map(|(at, status)| Failure {
                    deployment: d.id,
                    at,
                    status,
                })
            })
            .filter(|f| period.contains(f.at))
            .collect()
    }

    /// The next successful deployment after `failure` that was not itself rolled back.
    fn restored_at(&self, failure: &Failure) -> Option<OffsetDateTime> {
        self.list
            .iter()
            .find(|(d, at, status)| {
                d.id != failure.deployment
                    && !self.rolled_back.contains(&d.id)
                    && (*at, *status) > (failure.at, failure.status)
            })
            .map(|(_, at, _)| *at)
    }
}

/// Computes the keys of `history` over `period`.
pub fn compute(history: &History, period: &Period) -> Keys {
    let successes = Successes::of(history);
    let (lead_seconds, first_delivered) = successes.lead_times(history, period);
    let failures = successes.failures(history, period);
    let restores: HashMap<u64, Option<OffsetDateTime>> = failures
        .iter()
        .map(|f| (f.deployment, successes.restored_at(f)))
        .collect();
    let restore_seconds: Vec<i64> = failures
        .iter()
        .filter_map(|f| restores[&f.deployment].map(|at| (at - f.at).whole_seconds()))
        .collect();
    let rows = rows(
        history,
        period,
        &successes.rolled_back,
        &first_delivered,
        &restores,
    );

    let successful = rows.iter().filter(|r| r.state == "success").count();
    let finished = rows.iter().filter(|r| r.state != "pending").count();
    let days = period.days();
    Keys {
        deployment_frequency: Frequency {
            successful,
            per_day: ratio(successful, days),
            per_week: ratio(successful, days / 7.0),
        },
        lead_time: LeadTime {
            commits: lead_seconds.len(),
            median_seconds: median(&lead_seconds),
            p90_seconds: p90(&lead_seconds),
        },
        change_failure_rate: FailureRate {
            finished,
            failed: failures.len(),
            rate: (finished > 0).then(|| ratio(failures.len(), usize_f64(finished))),
            pending: rows.len() - finished,
        },
        time_to_restore: Restore {
            failures: failures.len(),
            restored: restore_seconds.len(),
            unrestored: failures.len() - restore_seconds.len(),
            median_seconds: median(&restore_seconds),
        },
        deployments: rows,
    }
}

/// The deployments that finished in the period, and those created in it still pending, in the
/// order they finished (or were created), then by id.
fn rows(
    history: &History,
    period: &Period,
    rolled_back: &HashSet<u64>,
    first_delivered: &HashMap<u64, usize>,
    restores: &HashMap<u64, Option<OffsetDateTime>>,
) -> Vec<Row> {
    let mut rows: Vec<Row> = history
        .deployments
        .iter()
        .filter_map(|d| {
            let (state, finished_at) = match d.outcome() {
                Outcome::Success { at, .. } => ("success", Some(at)),
                Outcome::Failed { at, error, .. } => {
                    (if error { "error" } else { "failure" }, Some(at))
                }
                Outcome::Pending => ("pending", None),
                Outcome::Withdrawn => return None,
            };
            period
                .contains(finished_at.unwrap_or(d.created_at))
                .then(|| Row {
                    id: d.id,
                    sha: d.sha.clone(),
                    reference: d.reference.clone(),
                    release: history.releases.get(&d.reference).cloned(),
                    state,
                    created_at: d.created_at,
                    finished_at,
                    rolled_back: rolled_back.contains(&d.id),
                    commits: first_delivered.get(&d.id).copied(),
                    restored_at: restores.get(&d.id).copied().flatten(),
                })
        })
        .collect();
    rows.sort_by_key(|r| (r.finished_at.unwrap_or(r.created_at), r.id));
    rows
}

#[expect(
    clippy::cast_precision_loss,
    reason = "counts of deployments and commits are far below 2^52"
)]
fn usize_f64(n: usize) -> f64 {
    n as f64
}

fn ratio(count: usize, over: f64) -> f64 {
    if over > 0.0 {
        usize_f64(count) / over
    } else {
        0.0
    }
}

/// The middle value, or the mean of the two middle ones; `None` for no values.
#[expect(
    clippy::cast_precision_loss,
    reason = "durations in seconds are far below 2^52"
)]
pub fn median(values: &[i64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2] as f64),
        _ => Some(f64::midpoint(
            sorted[n / 2 - 1] as f64,
            sorted[n / 2] as f64,
        )),
    }
}

/// The 90th percentile by nearest rank: the value at rank ⌈0.9·n⌉ (1-based) in ascending order.
pub fn p90(values: &[i64]) -> Option<i64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (sorted.len() * 9).div_ceil(10);
    rank.checked_sub(1).map(|index| sorted[index])
}

#[cfg(test)]
mod tests;
