//! Cancellation as the runner delivers it (SIGINT to the step's bash entry process, which `exec`s
//! the binary): reads stop at once, the one write finishes within the window, nothing is half-made.

use github_sim::{Fault, FaultAction};

use crate::common::{BOT_TOKEN, action, releases, sim};

const TAG: &str = "v1.3.0-rc.1";

fn slow(method: &str, path: &str, ms: u64) -> Fault {
    Fault::new(method, path, FaultAction::Latency { ms }).times(1)
}

/// Starts the action as the runner would, waits until `fault` caught its request, cancels.
fn cancel_while(sim: &github_sim::SimHandle, fault: Fault) -> gantry_testkit::Transcript {
    sim.add_fault(fault);
    let step =
        action(sim, TAG).start_as_script(&gantry_testkit::generated_run_line("create-prerelease"));
    let caught = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while sim.faults().iter().any(|fault| fault.times != Some(0)) {
        assert!(std::time::Instant::now() < caught, "the request never came");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let (run, signals) = step.cancel_as_runner();
    assert_eq!(signals, ["SIGINT"], "{}", run.render());
    assert_eq!(run.code, 1, "{}", run.render());
    assert_eq!(run.errors().len(), 1, "{}", run.render());
    assert!(run.summary.contains("cancelled"), "{}", run.summary);
    run.assert_never_shows(BOT_TOKEN);
    run
}

#[test]
fn cancelled_during_the_lookup_no_release_is_made() {
    let sim = sim();
    let run = cancel_while(&sim, slow("GET", "/repos/*/*/releases/tags/*", 60_000));
    assert!(
        run.errors()[0].contains(
            "cancelled (SIGINT): stopped before any write; no release was made or changed"
        ),
        "{}",
        run.render()
    );
    assert!(run.outputs.is_empty(), "{}", run.render());
    assert!(releases(&sim).is_empty());
}

#[test]
fn cancelled_while_the_create_is_in_flight_the_release_is_made_whole() {
    let sim = sim();
    let run = cancel_while(&sim, slow("POST", "/repos/*/*/releases", 2_000));
    assert!(
        run.errors()[0].contains(&format!(
            "cancelled (SIGINT): the release for {TAG} is whole (created by this run)"
        )),
        "{}",
        run.render()
    );
    let made = releases(&sim);
    assert_eq!(made.len(), 1);
    assert_eq!(run.output("release-id"), made[0].id.to_string());
}
