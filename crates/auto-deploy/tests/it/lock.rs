//! Two releases deploying to one env file at once are serialised by the lock: no lost update,
//! the higher version ends up deployed, nothing is downgraded. A stale lock is taken over.

use crate::common::{PREPROD, action, lz_branches, lz_text, pulls, sim};

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

fn an_expired_lock_of_another_release_is_taken_over() {
    let sim = sim();
    let base = sim.world(|w| w.repos[crate::common::LZ].branch("main").unwrap());
    // A lock left behind by a crashed deploy of another release, expired long ago.
    sim.world(|w| {
        let sig = w.signature_of(None);
        let commit = w.make_commit(
            Some(base),
            &[(
                ".gantry-lock.json".to_owned(),
                Some(br#"{"owner":"acme/service@v0.9.0","expires":1}"#.to_vec()),
            )],
            "gantry-lock: held by acme/service@v0.9.0 until 1",
            &sig,
        );
        w.repos.get_mut(crate::common::LZ).unwrap().refs.insert(
            "refs/heads/gantry-lock/deploy-preprod.env".to_owned(),
            commit,
        );
    });
    let run = action(&sim, "v1.4.0").run();
    assert_eq!(run.code, 0, "{}", run.render());
    assert!(
        run.stdout.contains(
            "taking over the expired lock of deploy/preprod.env held by acme/service@v0.9.0"
        ),
        "{}",
        run.stdout
    );
    assert!(lz_branches(&sim).is_empty());
}

crate::stories!(
    concurrent_deploys_are_serialised_and_the_higher_version_wins,
    an_expired_lock_of_another_release_is_taken_over,
);
