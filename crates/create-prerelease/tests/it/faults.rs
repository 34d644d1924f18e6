//! The fault matrix: every API call of the flow fails once (502, secondary rate limit, reset, a
//! response cut mid-body, a 502/504 after GitHub applied it) and the action still makes exactly
//! one release; the same faults made permanent end in a clear error within the deadline and no
//! release at all.

use github_sim::{Fault, FaultAction};

use crate::common::{action, assert_success, releases, sim};

macro_rules! per_call {
    ($($once:ident, $permanent:ident, $call:expr;)*) => {$(
        #[test]
        fn $once() {
            survives_one_failure_of($call);
        }

        #[test]
        fn $permanent() {
            gives_up_cleanly_on_permanent_failure_of($call);
        }
    )*};
}

per_call! {
    release_lookup_fails_once, release_lookup_keeps_failing, 0;
    tag_lookup_fails_once, tag_lookup_keeps_failing, 1;
    notes_fail_once, notes_keep_failing, 2;
    create_fails_once, create_keeps_failing, 3;
}

/// The calls of a first run for a lightweight tag, as method and path pattern.
const CALLS: &[(&str, &str)] = &[
    ("GET", "/repos/acme/service/releases/tags/*"),
    ("GET", "/repos/acme/service/git/ref/tags/*"),
    ("POST", "/repos/acme/service/releases/generate-notes"),
    ("POST", "/repos/acme/service/releases"),
];

fn transient_faults() -> Vec<FaultAction> {
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
    ]
}

/// Answers lost after GitHub applied the request (a gateway's 502/504 once the write is done).
fn lost_answers() -> Vec<FaultAction> {
    vec![
        FaultAction::StatusAfterApply { status: 502 },
        FaultAction::StatusAfterApply { status: 504 },
    ]
}

/// Each call failing once with each transient fault (or its answer lost after it was applied)
/// still makes exactly one release.
fn survives_one_failure_of(call: usize) {
    let (method, path) = CALLS[call];
    {
        for fault in transient_faults().into_iter().chain(lost_answers()) {
            let sim = sim();
            sim.add_fault(Fault::new(method, path, fault.clone()).times(1));
            let run = action(&sim, "v1.2.3").run();
            let label = format!("{method} {path} with {}", fault.label());
            assert_success(&run);
            assert_eq!(releases(&sim).len(), 1, "{label}");
            assert_eq!(run.output("created"), "true", "{label}");
            let faulted = sim.requests().iter().filter(|r| r.fault.is_some()).count();
            assert_eq!(faulted, 1, "{label}: the fault fired");
        }
    }
}

#[test]
fn a_create_whose_response_is_lost_is_reconciled_not_repeated() {
    let sim = sim();
    sim.add_fault(
        Fault::new(
            "POST",
            "/repos/acme/service/releases",
            FaultAction::CloseMidBody,
        )
        .times(1),
    );
    let run = action(&sim, "v1.2.3").run();
    assert_success(&run);
    assert_eq!(
        releases(&sim).len(),
        1,
        "the release made by the cut-off request is found, not duplicated"
    );
    let creates = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/repos/acme/service/releases")
        .count();
    assert_eq!(creates, 1, "the create was not re-sent");
    assert_eq!(run.output("created"), "true");
}

/// The same faults made permanent end in a clear error within the deadline and no release.
fn gives_up_cleanly_on_permanent_failure_of(call: usize) {
    let (method, path) = CALLS[call];
    {
        for fault in transient_faults() {
            let sim = sim();
            sim.add_fault(Fault::new(method, path, fault.clone()));
            let started = std::time::Instant::now();
            let run = action(&sim, "v1.2.3").input("timeout", "3s").run();
            let label = format!("{method} {path} with {}", fault.label());
            assert_eq!(run.code, 1, "{label}: {}", run.render());
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "{label}: gave up in time"
            );
            let errors = run.errors();
            assert_eq!(errors.len(), 1, "{label}");
            assert!(
                errors[0].contains("gave up after") && errors[0].contains("deadline 3s"),
                "{label}: {}",
                errors[0]
            );
            assert!(releases(&sim).is_empty(), "{label}: no partial release");
            assert!(run.outputs.is_empty(), "{label}");
        }
    }
}
