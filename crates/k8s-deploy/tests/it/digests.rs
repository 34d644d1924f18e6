//! Verification of what the pods run: the digest a reference names, or the one digest a tag
//! resolved to (recorded as `image-digest`), and a tag that moves mid-rollout fails the deploy.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube_sim::{ImageCatalogue, ImageSpec};

use crate::common::{GOOD, NAMESPACE, NEXT, action, assert_exit, image, images, sim};

const FIRST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const MOVED: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// The tests' catalogue with the tag `NEXT` pointing at `digest`; with `slow`, each pull and start
/// takes 10 simulated seconds, so new pods resolve the tag well apart.
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
#[ignore = "races the simulated controller: under load the second pod can resolve the tag before the test moves it; run alone with --ignored"]
fn a_tag_that_moves_during_the_rollout_fails_the_deploy() {
    let sim = sim();
    sim.set_images(next_at(FIRST, true));
    let run = std::thread::scope(|scope| {
        let run = scope.spawn(|| action(&sim, NEXT).run());
        assert!(sim.wait_until_blocking(Duration::from_secs(30), |sim| {
            sim.list::<Pod>(Some(NAMESPACE)).iter().any(|pod| {
                pod.status
                    .as_ref()
                    .and_then(|status| status.container_statuses.as_ref())
                    .is_some_and(|statuses| {
                        statuses
                            .iter()
                            .any(|c| c.image_id.ends_with(FIRST) && c.ready)
                    })
            })
        }));
        // The registry's tag now points at another digest.
        sim.set_images(next_at(MOVED, true));
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
