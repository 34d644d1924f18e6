//! The keys of hand-made histories; every expected number is worked out in the comments.
#![expect(
    clippy::float_cmp,
    reason = "the expected rates are exact binary fractions computed the same way"
)]

use std::collections::HashMap;

use time::OffsetDateTime;
use time::macros::datetime;

use super::{Row, compute, median, p90};
use crate::dora::history::{Commit, Delivered, Deployment, History, Status};
use crate::dora::period::Period;

fn deployment(
    id: u64,
    sha: &str,
    created_at: OffsetDateTime,
    statuses: &[(u64, &str, OffsetDateTime)],
) -> Deployment {
    Deployment {
        id,
        sha: sha.to_owned(),
        reference: format!("v{id}"),
        created_at,
        statuses: statuses
            .iter()
            .map(|(id, state, at)| Status {
                id: *id,
                state: (*state).to_owned(),
                at: *at,
            })
            .collect(),
    }
}

fn delivered(status: &str, commits: &[(&str, OffsetDateTime)]) -> Delivered {
    Delivered {
        status: status.to_owned(),
        commits: commits
            .iter()
            .map(|(sha, at)| Commit {
                sha: (*sha).to_owned(),
                at: *at,
            })
            .collect(),
    }
}

fn period(since: OffsetDateTime, until: OffsetDateTime) -> Period {
    Period { since, until }
}

fn row(rows: &[Row], id: u64) -> &Row {
    rows.iter()
        .find(|r| r.id == id)
        .expect("row of the deployment")
}

/// Ten days (1 to 11 November) with a base before them, a failure restored, a rollback, an
/// error restored, a commit delivered twice (before and after the rollback), a failure never
/// restored and a deployment still running.
fn ten_days() -> History {
    let d = |day: u8, hour: u8, minute: u8| {
        datetime!(2026-11-01 00:00 UTC)
            .replace_day(day)
            .unwrap()
            .replace_hour(hour)
            .unwrap()
            .replace_minute(minute)
            .unwrap()
    };
    let deployments = vec![
        // The base, before the period: the first deployment compared with is this one.
        deployment(
            1,
            "a1",
            datetime!(2026-10-31 10:00 UTC),
            &[
                (1, "in_progress", datetime!(2026-10-31 10:00 UTC)),
                (2, "success", datetime!(2026-10-31 10:10 UTC)),
            ],
        ),
        // Several statuses, listed newest first: in_progress, success, then inactive when a
        // newer one replaced it. It succeeded at 09:30.
        deployment(
            2,
            "a2",
            d(2, 9, 0),
            &[
                (7, "inactive", d(3, 0, 0)),
                (4, "success", d(2, 9, 30)),
                (3, "in_progress", d(2, 9, 0)),
            ],
        ),
        deployment(
            3,
            "a3",
            d(3, 12, 0),
            &[
                (5, "in_progress", d(3, 12, 0)),
                (6, "failure", d(3, 12, 20)),
            ],
        ),
        deployment(4, "a4", d(4, 10, 0), &[(8, "success", d(4, 10, 30))]),
        // Rolled back: deployment 6 deploys a4 again, which is behind a5.
        deployment(5, "a5", d(6, 10, 0), &[(9, "success", d(6, 10, 0))]),
        deployment(6, "a4", d(6, 11, 0), &[(10, "success", d(6, 11, 0))]),
        deployment(7, "a7", d(8, 10, 0), &[(11, "error", d(8, 10, 5))]),
        deployment(8, "a8", d(9, 10, 0), &[(12, "success", d(9, 10, 5))]),
        deployment(9, "a9", d(10, 22, 0), &[(13, "failure", d(10, 23, 0))]),
        deployment(
            10,
            "a10",
            d(10, 23, 30),
            &[(14, "in_progress", d(10, 23, 30))],
        ),
    ];
    let delivered = HashMap::from([
        (
            2,
            delivered("ahead", &[("c1", d(2, 7, 30)), ("c2", d(2, 8, 30))]),
        ),
        (
            4,
            delivered("ahead", &[("c4", d(3, 10, 30)), ("c3", d(4, 9, 30))]),
        ),
        (5, delivered("ahead", &[("c5", d(6, 9, 0))])),
        (6, delivered("behind", &[])),
        (
            8,
            delivered("ahead", &[("c5", d(6, 9, 0)), ("c6", d(9, 8, 5))]),
        ),
    ]);
    History {
        deployments,
        delivered,
        releases: HashMap::from([("v4".to_owned(), "Release 4".to_owned())]),
    }
}

#[test]
fn ten_days_of_deployments() {
    let keys = compute(
        &ten_days(),
        &period(
            datetime!(2026-11-01 00:00 UTC),
            datetime!(2026-11-11 00:00 UTC),
        ),
    );
    // Successes in the period: 2, 4, 5 (later rolled back), 6 (the rollback), 8 → 5 in 10 days.
    assert_eq!(keys.deployment_frequency.successful, 5);
    assert_eq!(keys.deployment_frequency.per_day, 0.5);
    assert_eq!(keys.deployment_frequency.per_week, 3.5);
    // Lead times: c1 2h, c2 1h (deployment 2 at 2 Nov 09:30); c4 24h, c3 1h (4 Nov 10:30);
    // c5 1h (6 Nov 10:00); the rollback delivers nothing; deployment 8 delivers c5 again (not
    // counted twice) and c6, 2h. Sorted: 1h 1h 1h 2h 2h 24h → median (1h + 2h) / 2 = 5400 s;
    // p90 is rank ⌈0.9·6⌉ = 6 → 24h.
    assert_eq!(keys.lead_time.commits, 6);
    assert_eq!(keys.lead_time.median_seconds, Some(5400.0));
    assert_eq!(keys.lead_time.p90_seconds, Some(86_400));
    // Finished in the period: 2, 3, 4, 5, 6, 7, 8, 9 (8); failed: 3 (failure), 5 (rolled
    // back), 7 (error), 9 (failure) → 4 / 8; 10 is still running.
    assert_eq!(keys.change_failure_rate.finished, 8);
    assert_eq!(keys.change_failure_rate.failed, 4);
    assert_eq!(keys.change_failure_rate.rate, Some(0.5));
    assert_eq!(keys.change_failure_rate.pending, 1);
    // Restores: 3 (3 Nov 12:20) by 4 (4 Nov 10:30): 22h10m = 79800 s; 5 (6 Nov 10:00) by 6
    // (11:00): 3600 s; 7 (8 Nov 10:05) by 8 (9 Nov 10:05): 86400 s; 9 never.
    // Median of 3600, 79800, 86400 → 79800.
    assert_eq!(keys.time_to_restore.failures, 4);
    assert_eq!(keys.time_to_restore.restored, 3);
    assert_eq!(keys.time_to_restore.unrestored, 1);
    assert_eq!(keys.time_to_restore.median_seconds, Some(79_800.0));

    let ids: Vec<u64> = keys.deployments.iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        [2, 3, 4, 5, 6, 7, 8, 9, 10],
        "the base before the period is no row"
    );
    let five = row(&keys.deployments, 5);
    assert!(five.rolled_back);
    assert_eq!(five.state, "success");
    assert_eq!(five.restored_at, Some(datetime!(2026-11-06 11:00 UTC)));
    assert_eq!(row(&keys.deployments, 7).state, "error");
    assert_eq!(row(&keys.deployments, 9).restored_at, None);
    assert_eq!(row(&keys.deployments, 10).state, "pending");
    assert_eq!(row(&keys.deployments, 10).finished_at, None);
    assert_eq!(
        row(&keys.deployments, 8).commits,
        Some(1),
        "c5 was delivered before"
    );
    assert_eq!(row(&keys.deployments, 6).commits, Some(0));
    assert_eq!(
        row(&keys.deployments, 4).release.as_deref(),
        Some("Release 4")
    );
    assert_eq!(
        row(&keys.deployments, 2).finished_at,
        Some(datetime!(2026-11-02 09:30 UTC)),
        "the success, not the later inactive, finished it"
    );
}

#[test]
fn a_success_followed_by_a_failure_ended_in_failure() {
    let at = datetime!(2026-11-01 10:00 UTC);
    let d = deployment(
        1,
        "x",
        at,
        &[
            (3, "failure", at + time::Duration::minutes(9)),
            (1, "in_progress", at),
            (2, "success", at + time::Duration::minutes(5)),
            (4, "inactive", at + time::Duration::minutes(20)),
        ],
    );
    assert_eq!(
        d.outcome(),
        crate::dora::history::Outcome::Failed {
            at: at + time::Duration::minutes(9),
            status: 3,
            error: false
        }
    );
}

#[test]
fn a_deployment_made_inactive_before_it_ended_counts_for_nothing() {
    // Deployment 2 was superseded (k8s-deploy: a newer landing-zone commit already ran) and
    // never deployed: 1 success, 0 failures, nothing pending, and only deployment 1 listed.
    let at = datetime!(2026-11-01 10:00 UTC);
    let minutes = time::Duration::minutes;
    let history = History {
        deployments: vec![
            deployment(
                1,
                "a",
                at,
                &[(1, "in_progress", at), (2, "success", at + minutes(3))],
            ),
            deployment(
                2,
                "b",
                at + minutes(10),
                &[
                    (3, "in_progress", at + minutes(10)),
                    (4, "inactive", at + minutes(11)),
                ],
            ),
        ],
        ..History::default()
    };
    assert_eq!(
        history.deployments[1].outcome(),
        crate::dora::history::Outcome::Withdrawn
    );
    let keys = compute(
        &history,
        &period(
            datetime!(2026-11-01 00:00 UTC),
            datetime!(2026-11-02 00:00 UTC),
        ),
    );
    assert_eq!(keys.deployment_frequency.successful, 1);
    assert_eq!(keys.change_failure_rate.finished, 1);
    assert_eq!(keys.change_failure_rate.pending, 0);
    assert_eq!(keys.change_failure_rate.failed, 0);
    assert_eq!(keys.deployments.len(), 1);
    assert_eq!(keys.deployments[0].id, 1);
}

#[test]
fn ties_are_ordered_by_status_id() {
    let t = datetime!(2026-11-01 10:00 UTC);
    let minute = time::Duration::minutes(1);
    let history = History {
        deployments: vec![
            deployment(
                1,
                "b",
                t - time::Duration::days(1),
                &[(1, "success", t - time::Duration::days(1))],
            ),
            // Same second: Y succeeded (status 4), then X failed (5), then Z succeeded (6).
            deployment(2, "x", t, &[(5, "failure", t)]),
            deployment(3, "y", t, &[(4, "success", t)]),
            deployment(4, "z", t, &[(6, "success", t)]),
        ],
        delivered: HashMap::from([
            (
                3,
                delivered("ahead", &[("y1", t - minute), ("y2", t - minute)]),
            ),
            (4, delivered("ahead", &[("z1", t - minute * 2)])),
        ]),
        releases: HashMap::new(),
    };
    let keys = compute(
        &history,
        &period(
            datetime!(2026-11-01 00:00 UTC),
            datetime!(2026-11-02 00:00 UTC),
        ),
    );
    // Y and Z in one day: 2 a day, 14 a week.
    assert_eq!(keys.deployment_frequency.successful, 2);
    assert_eq!(keys.deployment_frequency.per_day, 2.0);
    assert_eq!(keys.deployment_frequency.per_week, 14.0);
    // 60 s, 60 s, 120 s: median 60, p90 rank ⌈2.7⌉ = 3 → 120.
    assert_eq!(keys.lead_time.median_seconds, Some(60.0));
    assert_eq!(keys.lead_time.p90_seconds, Some(120));
    // X failed after Y (status 5 > 4) and before Z (6): Z restores it, 0 s later.
    assert_eq!(keys.change_failure_rate.finished, 3);
    assert_eq!(keys.change_failure_rate.rate, Some(1.0 / 3.0));
    assert_eq!(keys.time_to_restore.restored, 1);
    assert_eq!(keys.time_to_restore.median_seconds, Some(0.0));
    assert_eq!(row(&keys.deployments, 2).restored_at, Some(t));
    let order: Vec<u64> = keys.deployments.iter().map(|r| r.id).collect();
    assert_eq!(order, [2, 3, 4], "same finish time: by deployment id");
}

#[test]
fn an_empty_period_has_no_keys_but_zero_frequency() {
    let keys = compute(
        &ten_days(),
        &period(
            datetime!(2026-12-01 00:00 UTC),
            datetime!(2026-12-08 00:00 UTC),
        ),
    );
    assert_eq!(keys.deployment_frequency.successful, 0);
    assert_eq!(keys.deployment_frequency.per_day, 0.0);
    assert_eq!(keys.deployment_frequency.per_week, 0.0);
    assert_eq!(keys.lead_time.commits, 0);
    assert_eq!(keys.lead_time.median_seconds, None);
    assert_eq!(keys.lead_time.p90_seconds, None);
    assert_eq!(keys.change_failure_rate.finished, 0);
    assert_eq!(keys.change_failure_rate.rate, None);
    assert_eq!(keys.time_to_restore.failures, 0);
    assert_eq!(keys.time_to_restore.median_seconds, None);
    assert!(keys.deployments.is_empty());
    let nothing = compute(
        &History::default(),
        &period(
            datetime!(2026-12-01 00:00 UTC),
            datetime!(2026-12-08 00:00 UTC),
        ),
    );
    assert_eq!(nothing, keys);
}

#[test]
fn no_failures_and_a_first_deployment_without_a_base() {
    let t = datetime!(2026-11-03 12:00 UTC);
    let hour = time::Duration::hours(1);
    let history = History {
        deployments: vec![
            deployment(1, "first", t, &[(1, "success", t)]),
            deployment(2, "second", t + hour * 24, &[(2, "success", t + hour * 25)]),
        ],
        // A commit dated after the deployment (a skewed clock) counts as 0 s, not negative.
        delivered: HashMap::from([(
            2,
            delivered("ahead", &[("s1", t + hour), ("s2", t + hour * 26)]),
        )]),
        releases: HashMap::new(),
    };
    let keys = compute(
        &history,
        &period(
            datetime!(2026-11-01 00:00 UTC),
            datetime!(2026-11-08 00:00 UTC),
        ),
    );
    assert_eq!(keys.deployment_frequency.successful, 2);
    assert_eq!(keys.deployment_frequency.per_week, 2.0);
    // s1: 24 h; s2: max(0, −1 h) = 0. Median (0 + 86400) / 2; p90 rank 2 → 86400.
    assert_eq!(keys.lead_time.commits, 2);
    assert_eq!(keys.lead_time.median_seconds, Some(43_200.0));
    assert_eq!(keys.lead_time.p90_seconds, Some(86_400));
    assert_eq!(
        row(&keys.deployments, 1).commits,
        None,
        "nothing to compare the first with"
    );
    assert_eq!(keys.change_failure_rate.rate, Some(0.0));
    assert_eq!(keys.change_failure_rate.failed, 0);
    assert_eq!(keys.time_to_restore.failures, 0);
    assert_eq!(keys.time_to_restore.median_seconds, None);
}

#[test]
fn median_and_p90_by_hand() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[7]), Some(7.0));
    assert_eq!(median(&[9, 1, 4]), Some(4.0));
    assert_eq!(median(&[4, 1, 2, 9]), Some(3.0));
    assert_eq!(median(&[1, 2]), Some(1.5));
    assert_eq!(p90(&[]), None);
    assert_eq!(p90(&[5]), Some(5));
    // Ten values: rank 9; eleven values: rank ⌈9.9⌉ = 10.
    assert_eq!(p90(&[10, 1, 2, 3, 4, 5, 6, 7, 8, 9]), Some(9));
    assert_eq!(p90(&[11, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9]), Some(10));
}
