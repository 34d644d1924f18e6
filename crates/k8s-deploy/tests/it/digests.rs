//! Verification of what the pods run: the digest a reference names, or the one digest a tag
//! resolved to (recorded as `image-digest`), and a tag that moves mid-rollout fails the deploy.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube_sim::{Config, ImageCatalogue, ImageSpec, KubeSim, SimHandle};

use crate::common::{
    GOOD, NAMESPACE, NEXT, TOKEN, action, assert_exit, image, images, manifests, rolled_out, sim,
};

const FIRST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const MOVED: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// The tests' catalogue with the tag `NEXT` pointing at `digest`; with `slow`, each pull and start
/// takes 10 simulated seconds.
fn next_at(digest: &str, slow: bool) -> ImageCatalogue {
    let mut catalogue = images();
    let mut next = ImageSpec {
        digest: Some(digest.to_owned()),
        ..ImageSpec::ok(NEXT)
    };
    if slow {
        next.pull_time = Duration::from_secs(10);
        next.ready_after = Duration::from_secs(10);
    }
    catalogue.entries.insert(0, next);
    catalogue
}

#[test]
fn a_tag_records_the_digest_its_pods_resolved() {
    let sim = sim();
    sim.set_images(next_at(FIRST, false));
    let run = action(&sim, NEXT).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("image-digest"), FIRST, "{}", run.render());
    assert!(run.summary.contains(FIRST), "{}", run.summary);
}

#[test]
fn an_image_by_digest_is_verified_against_the_pods() {
    let sim = sim();
    let pinned = format!("registry.example/app@{FIRST}");
    let mut catalogue = images();
    catalogue
        .entries
        .push(ImageSpec::ok("registry.example/app@sha256:*"));
    sim.set_images(catalogue);
    let run = action(&sim, &pinned).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(run.output("image-digest"), FIRST);
}

#[test]
fn a_tag_that_moves_during_the_rollout_fails_the_deploy() {
    // Simulated time moves only when the test advances it, so the tag moves at one exact point:
    // after the first new pod started on FIRST and before it is ready, which is before the
    // second new pod exists (the rollout surges one pod at a time).
    let sim = frozen_sim();
    sim.set_images(next_at(FIRST, true));
    let run = std::thread::scope(|scope| {
        let run = scope.spawn(|| action(&sim, NEXT).run());
        assert!(
            sim.wait_until_blocking(Duration::from_secs(30), |sim| new_pods(sim).len() == 1),
            "the action starts the rollout"
        );
        sim.advance(Duration::from_secs(15));
        let started = new_pods(&sim);
        assert_eq!(started.len(), 1, "only the surge pod exists yet");
        assert_eq!(
            started[0],
            (FIRST.to_owned(), false),
            "the first pod started on FIRST and is not ready"
        );
        // The registry's tag now points at another digest.
        sim.set_images(next_at(MOVED, true));
        while !run.is_finished() {
            sim.advance(Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(5));
        }
        run.join().unwrap()
    });
    assert_exit(&run, 1);
    let reason = run.output("failure-reason");
    assert!(
        reason.starts_with(&format!(
            "the ready pods of the new replica set run 2 different digests of {NEXT} ({FIRST}, {MOVED}): the tag moved during the rollout"
        )),
        "{}",
        run.render()
    );
    assert_eq!(run.output("result"), "rolled-back");
    assert_eq!(image(&sim), GOOD);
}

/// The tests' Deployment, rolled out, on a clock that stands still unless advanced.
fn frozen_sim() -> SimHandle {
    let sim = KubeSim::spawn(Config {
        time_scale: 0.000_001,
        images: images(),
        manifests: manifests("", ""),
        token: TOKEN.to_owned(),
        ..Config::default()
    })
    .expect("simulator starts");
    for _ in 0..30 {
        if rolled_out(&sim) {
            return sim;
        }
        sim.advance(Duration::from_secs(5));
    }
    panic!("the initial rollout finishes");
}

/// The containers of the pods that run `NEXT`, as (image id, ready); empty ids until started.
fn new_pods(sim: &KubeSim) -> Vec<(String, bool)> {
    sim.list::<Pod>(Some(NAMESPACE))
        .into_iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .filter_map(|pod| {
            let spec = pod.spec?;
            (spec.containers[0].image.as_deref() == Some(NEXT)).then(|| {
                let status = pod
                    .status
                    .and_then(|status| status.container_statuses)
                    .and_then(|statuses| statuses.into_iter().next());
                status.map_or((String::new(), false), |c| {
                    (
                        c.image_id
                            .rsplit_once('@')
                            .map_or(c.image_id.clone(), |(_, digest)| digest.to_owned()),
                        c.ready,
                    )
                })
            })
        })
        .collect()
}
