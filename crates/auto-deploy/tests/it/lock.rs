//! Two releases deploying to one env file at once are serialised by the lock: no lost update,
//! the higher version ends up deployed, nothing is downgraded. The lock belongs to a run: two runs
//! of one release take turns, a re-run attempt takes over its killed attempt's lock at once, an
//! expired lock is taken over, a live one of another run is waited for.

use github_sim::SimHandle;

use crate::common::{
    LZ, PREPROD, action, assert_deployed, lz_branches, lz_text, merges, promotions, pulls, sim,
};

fn concurrent_deploys_are_serialised_and_the_higher_version_wins() {
    let sim = sim();
    let (low, high) = std::thread::scope(|scope| {
        let low = scope.spawn(|| action(&sim, "v1.4.0").run());
        let high = scope.spawn(|| action(&sim, "v1.5.0").run());
        (low.join().unwrap(), high.join().unwrap())
    });
    assert_eq!(high.code, 0, "{}", high.render());
    assert_eq!(high.output("result"), "deployed");
    assert!(
        lz_text(&sim, PREPROD).contains("export IMAGE_VERSION=v1.5.0 "),
        "{}",
        lz_text(&sim, PREPROD)
    );
    let waited = [&low, &high]
        .iter()
        .any(|run| run.stdout.contains("is locked by acme/service@"));
    assert!(
        waited,
        "one waited for the other:\n{}\n{}",
        low.render(),
        high.render()
    );
    match low.code {
        // v1.4.0 went first and was deployed, then v1.5.0 on top of it.
        0 => assert_eq!(low.output("result"), "deployed"),
        // v1.5.0 went first: deploying v1.4.0 after it would be a downgrade.
        _ => assert!(
            low.errors()[0].contains("refusing to downgrade"),
            "{}",
            low.render()
        ),
    }
    let merged = pulls(&sim).iter().filter(|p| p.2).count();
    assert_eq!(merged, if low.code == 0 { 2 } else { 1 });
    assert!(lz_branches(&sim).is_empty(), "{:?}", lz_branches(&sim));
}

/// Leaves a lock on the preprod env file as a killed deploy would, holding `content`.
fn plant_lock(sim: &SimHandle, content: &serde_json::Value) {
    sim.world(|w| {
        let base = w.repos[LZ].branch("main").unwrap();
        let sig = w.signature_of(None);
        let commit = w.make_commit(
            Some(base),
            &[(
                ".gantry-lock.json".to_owned(),
                Some(content.to_string().into_bytes()),
            )],
            "gantry-lock: left by a killed deploy",
            &sig,
        );
        w.repos.get_mut(LZ).unwrap().refs.insert(
            "refs/heads/gantry-lock/deploy-preprod.env".to_owned(),
            commit,
        );
    });
}

/// An hour from now, in unix seconds.
fn in_an_hour() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600
}

fn an_expired_lock_of_another_release_is_taken_over() {
    let sim = sim();
    // A lock left behind by a crashed deploy of another release, expired long ago.
    plant_lock(
        &sim,
        &serde_json::json!({"owner": "acme/service@v0.9.0", "expires": 1}),
    );
    let run = action(&sim, "v1.4.0").run();
    assert_eq!(run.code, 0, "{}", run.render());
    assert!(
        run.stdout.contains(
            "taking over the lock of deploy/preprod.env held by acme/service@v0.9.0 (outside a workflow run) (expired)"
        ),
        "{}",
        run.stdout
    );
    assert!(lz_branches(&sim).is_empty());
}

fn two_runs_of_one_release_at_once_take_turns() {
    let sim = sim();
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| action(&sim, "v1.4.0").env("GITHUB_RUN_ID", "5001").run());
        let second = scope.spawn(|| action(&sim, "v1.4.0").env("GITHUB_RUN_ID", "5002").run());
        (first.join().unwrap(), second.join().unwrap())
    });
    assert_deployed(&first);
    assert_deployed(&second);
    let waited = [&first, &second].iter().any(|run| {
        run.stdout
            .contains("is locked by acme/service@v1.4.0 (run 500")
    });
    assert!(
        waited,
        "one waited:\n{}\n{}",
        first.render(),
        second.render()
    );
    assert_eq!(pulls(&sim).len(), 1, "{:?}", pulls(&sim));
    assert_eq!(merges(&sim), 1);
    assert_eq!(promotions(&sim), 1);
    assert!(lz_branches(&sim).is_empty(), "{:?}", lz_branches(&sim));
}

fn a_re_run_attempt_takes_over_the_lock_of_its_killed_attempt_at_once() {
    let sim = sim();
    plant_lock(
        &sim,
        &serde_json::json!({"owner": "acme/service@v1.4.0", "run_id": "4242", "run_attempt": 1,
            "holder": "killed", "expires": in_an_hour()}),
    );
    let run = action(&sim, "v1.4.0").env("GITHUB_RUN_ATTEMPT", "2").run();
    assert_deployed(&run);
    assert!(
        run.stdout.contains(
            "held by acme/service@v1.4.0 (run 4242 attempt 1) (an earlier attempt of this run)"
        ),
        "{}",
        run.stdout
    );
}

fn a_live_lock_of_another_run_of_the_same_release_is_waited_for() {
    let sim = sim();
    plant_lock(
        &sim,
        &serde_json::json!({"owner": "acme/service@v1.4.0", "run_id": "1111", "run_attempt": 1,
            "holder": "elsewhere", "expires": in_an_hour()}),
    );
    let run = action(&sim, "v1.4.0").input("timeout", "3s").run();
    assert_eq!(run.code, 1, "{}", run.render());
    assert!(
        run.errors()[0].contains(
            "timed out waiting for the lock of deploy/preprod.env held by acme/service@v1.4.0 (run 1111 attempt 1)"
        ),
        "{}",
        run.render()
    );
    assert!(pulls(&sim).is_empty(), "nothing deployed");
}

crate::stories!(
    concurrent_deploys_are_serialised_and_the_higher_version_wins,
    an_expired_lock_of_another_release_is_taken_over,
    two_runs_of_one_release_at_once_take_turns,
    a_re_run_attempt_takes_over_the_lock_of_its_killed_attempt_at_once,
    a_live_lock_of_another_run_of_the_same_release_is_waited_for,
);
