//! The fault matrix: every call site of the flow (the rarer ones a re-run or a refused merge
//! reaches included) fails in turn with a 502, a secondary rate limit
//! (403 and 429 with `retry-after`), a connection reset, a response cut mid-body and a 502/504
//! after GitHub applied the request (both: the request was applied, the answer lost), and the
//! deploy still completes once: one pull request, one
//! merge, one promotion, no duplicated mirror or lock. Identities are audited on every run.

use github_sim::{Fault, FaultAction};

use crate::common::{
    action, assert_deployed, assert_roles, concurrently, is_prerelease, lz_branches, merges,
    mirrored, promotions, pulls, sim, story,
};

/// Every call site of a first deploy, as method and path pattern.
const CALL_SITES: &[(&str, &str)] = &[
    ("GET", "/repos/acme/service/releases/tags/*"),
    ("GET", "/repos/acme/service/git/ref/tags/*"),
    ("GET", "/repos/acme/service"),
    ("GET", "/repos/acme/service/compare/**"),
    ("GET", "/repos/acme/landing-zone/contents/.gantry-lock.json"),
    (
        "GET",
        "/repos/acme/landing-zone/git/ref/heads/gantry-lock/*",
    ),
    ("GET", "/repos/acme/landing-zone/git/ref/heads/main"),
    ("POST", "/repos/acme/landing-zone/git/refs"),
    ("PUT", "/repos/acme/landing-zone/contents/.gantry-lock.json"),
    ("GET", "/repos/acme/landing-zone/pulls"),
    (
        "GET",
        "/repos/acme/landing-zone/contents/deploy/preprod.env",
    ),
    ("GET", "/repos/acme/landing-zone/git/ref/heads/deploy/**"),
    (
        "PUT",
        "/repos/acme/landing-zone/contents/deploy/preprod.env",
    ),
    ("POST", "/repos/acme/landing-zone/pulls"),
    ("GET", "/repos/acme/landing-zone/compare/**"),
    ("GET", "/repos/acme/landing-zone/commits/*/check-runs"),
    ("GET", "/repos/acme/landing-zone/commits/*/status"),
    ("GET", "/repos/acme/service/commits/*/check-runs"),
    ("POST", "/repos/acme/service/check-runs"),
    ("PATCH", "/repos/acme/service/check-runs/*"),
    ("GET", "/repos/acme/landing-zone/pulls/*/reviews"),
    ("POST", "/repos/acme/landing-zone/pulls/*/reviews"),
    ("PUT", "/repos/acme/landing-zone/pulls/*/merge"),
    (
        "DELETE",
        "/repos/acme/landing-zone/git/refs/heads/deploy/**",
    ),
    ("PATCH", "/repos/acme/service/releases/*"),
    (
        "DELETE",
        "/repos/acme/landing-zone/git/refs/heads/gantry-lock/**",
    ),
];

fn faults() -> Vec<FaultAction> {
    vec![
        FaultAction::Status { status: 502 },
        FaultAction::SecondaryRateLimit {
            status: 403,
            retry_after: 1,
        },
        FaultAction::SecondaryRateLimit {
            status: 429,
            retry_after: 1,
        },
        FaultAction::ConnectionReset,
        FaultAction::CloseMidBody,
    ]
}

/// The answer lost after GitHub applied the request, 502 or 504: once it fires the flow
/// reconciles instead of re-sending, so it gets a deploy of its own.
fn lost_answer(site: usize) -> FaultAction {
    FaultAction::StatusAfterApply {
        status: if site.is_multiple_of(2) { 502 } else { 504 },
    }
}

/// One deploy whose call site fails once with each fault in a row, then one whose answer at that
/// call site is lost after it was applied.
fn survives_faults_at(site: usize, method: &str, path: &str) {
    survives(method, path, &faults());
    survives(method, path, &[lost_answer(site)]);
}

fn survives(method: &str, path: &str, faults: &[FaultAction]) {
    let sim = sim();
    for fault in faults {
        sim.add_fault(Fault::new(method, path, fault.clone()).times(1));
    }
    let run = action(&sim, "v1.4.0").run();
    let label = format!("{method} {path} with {}", faults[0].label());
    assert_deployed(&run);
    let fired = sim.requests().iter().filter(|r| r.fault.is_some()).count();
    assert_eq!(fired, faults.len(), "{label}: every fault fired");
    let pulls = pulls(&sim);
    assert_eq!(pulls.len(), 1, "{label}: {pulls:?}");
    assert!(pulls[0].2, "{label}: merged");
    assert_eq!(merges(&sim), 1, "{label}: one merge");
    assert!(!is_prerelease(&sim, "v1.4.0"), "{label}: promoted");
    assert_eq!(promotions(&sim), 1, "{label}: one promotion");
    assert_eq!(mirrored(&sim).len(), 2, "{label}: no duplicated mirror");
    assert!(
        lz_branches(&sim).is_empty(),
        "{label}: {:?}",
        lz_branches(&sim)
    );
    assert_roles(&sim);
}

/// The call sites that close an older deploy pull request as superseded.
const SUPERSEDE_SITES: &[(&str, &str)] = &[
    ("POST", "/repos/acme/landing-zone/issues/*/comments"),
    ("PATCH", "/repos/acme/landing-zone/pulls/*"),
];

/// A deploy of v1.5.0 that supersedes the open pull request a failed v1.4.0 deploy left, while
/// the comment or the close fails once with each fault.
fn supersedes_despite_faults_at(method: &str, path: &str, faults: &[FaultAction]) {
    let sim = sim();
    sim.add_fault(
        Fault::new(
            "POST",
            "/repos/acme/landing-zone/pulls/*/reviews",
            FaultAction::Status { status: 403 },
        )
        .times(1),
    );
    let first = action(&sim, "v1.4.0").run();
    assert_eq!(first.code, 1, "{}", first.render());
    for fault in faults {
        sim.add_fault(Fault::new(method, path, fault.clone()).times(1));
    }
    let run = action(&sim, "v1.5.0").run();
    let label = format!("superseding with {method} {path} ({})", faults[0].label());
    assert_deployed(&run);
    let pulls = pulls(&sim);
    assert_eq!(pulls.len(), 2, "{label}: {pulls:?}");
    assert!(!pulls[0].1 && !pulls[0].2, "{label}: #1 closed unmerged");
    assert!(pulls[1].2, "{label}: #2 merged");
    let comments = sim.world(|w| w.repos[crate::common::LZ].comments.len());
    assert_eq!(comments, 1, "{label}: one comment");
    assert_eq!(merges(&sim), 1, "{label}: one merge");
    assert_eq!(promotions(&sim), 1, "{label}: one promotion");
    assert_roles(&sim);
}

/// All call sites at once, each against its own simulator.
#[test]
fn every_call_site_survives_5xx_rate_limits_resets_and_lost_responses() {
    let plain = CALL_SITES
        .iter()
        .enumerate()
        .map(|(site, &(method, path))| {
            story(format!("{method} {path}"), move || {
                survives_faults_at(site, method, path);
            })
        });
    let superseding = SUPERSEDE_SITES
        .iter()
        .enumerate()
        .map(|(site, &(method, path))| {
            story(format!("supersede {method} {path}"), move || {
                supersedes_despite_faults_at(method, path, &faults());
                supersedes_despite_faults_at(method, path, &[lost_answer(site)]);
            })
        });
    concurrently(plain.chain(superseding).collect());
}

/// How a rarer call site is reached before its faults are switched on.
#[derive(Clone, Copy)]
enum Setup {
    /// A first run stopped at the approval, leaving its branch and open pull request: the re-run
    /// reads the branch's commit and the pull request it reuses.
    Reuse,
    /// As `Reuse`, then someone pushed to the deploy branch: the re-run resets it (force).
    Reset,
    /// The first merge is refused with 405: the pull request is re-read until `mergeable` settles.
    Refused,
}

/// Call sites that only the paths above reach, each with its setup.
const RARE_SITES: &[(&str, &str, Setup)] = &[
    (
        "GET",
        "/repos/acme/landing-zone/git/commits/*",
        Setup::Reuse,
    ),
    ("GET", "/repos/acme/landing-zone/pulls/*", Setup::Reuse),
    (
        "PATCH",
        "/repos/acme/landing-zone/git/refs/heads/deploy/**",
        Setup::Reset,
    ),
    ("GET", "/repos/acme/landing-zone/pulls/*", Setup::Refused),
];

/// The deploy still ends in one pull request, one merge and one promotion when a call site that
/// only a re-run or a refused merge reaches fails once with each fault.
fn survives_faults_on_rare_path(method: &str, path: &str, setup: Setup) {
    let sim = sim();
    if matches!(setup, Setup::Reuse | Setup::Reset) {
        sim.add_fault(
            Fault::new(
                "POST",
                "/repos/acme/landing-zone/pulls/*/reviews",
                FaultAction::Status { status: 403 },
            )
            .times(1),
        );
        let first = action(&sim, "v1.4.0").run();
        assert_eq!(first.code, 1, "{}", first.render());
    }
    if matches!(setup, Setup::Reset) {
        sim.world(|w| {
            w.push_files(
                crate::common::LZ,
                "deploy/deploy-preprod.env/v1.4.0",
                &[("NOTES.md", Some("someone else's change\n"))],
                "someone else's change",
                None,
            )
        })
        .expect("pushed to the deploy branch");
    }
    if matches!(setup, Setup::Refused) {
        sim.add_fault(
            Fault::new(
                "PUT",
                "/repos/acme/landing-zone/pulls/*/merge",
                FaultAction::Status { status: 405 },
            )
            .times(1),
        );
    }
    let faults = faults();
    for fault in &faults {
        sim.add_fault(Fault::new(method, path, fault.clone()).times(1));
    }
    let run = action(&sim, "v1.4.0").run();
    let label = format!(
        "{method} {path} after {}",
        match setup {
            Setup::Reuse => "a stopped run",
            Setup::Reset => "a foreign push",
            Setup::Refused => "a refused merge",
        }
    );
    assert_deployed(&run);
    let fired = sim
        .requests()
        .iter()
        .filter(|r| {
            r.fault.is_some()
                && r.path.starts_with("/repos/acme/landing-zone/")
                && r.method == method
        })
        .count();
    assert!(
        fired >= faults.len(),
        "{label}: every fault fired ({fired})"
    );
    let pulls = pulls(&sim);
    assert_eq!(pulls.len(), 1, "{label}: {pulls:?}");
    assert!(pulls[0].2, "{label}: merged");
    assert_eq!(merges(&sim), 1, "{label}: one merge");
    assert_eq!(promotions(&sim), 1, "{label}: one promotion");
    if matches!(setup, Setup::Reset) {
        let notes = crate::common::lz_file(&sim, "main", "NOTES.md");
        assert_eq!(
            notes, None,
            "{label}: the foreign change was not merged unvalidated"
        );
    }
    assert_roles(&sim);
}

#[test]
fn rarer_call_sites_survive_the_same_faults() {
    let stories = RARE_SITES.iter().map(|&(method, path, setup)| {
        story(format!("rare {method} {path}"), move || {
            survives_faults_on_rare_path(method, path, setup);
        })
    });
    concurrently(stories.collect());
}
