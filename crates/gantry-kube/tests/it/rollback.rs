//! Rollback goes to the recorded revision (not "the previous one") and never overwrites a change
//! made by someone else after our own write.

use gantry_kube::deployment;
use gantry_kube::rollback::{Restore, Rollback, previous_revision};

use crate::common::{deploy, image, roll_back, start, target};

#[tokio::test]
async fn the_recorded_revision_is_restored_not_the_previous_one() {
    let (sim, client) = start().await;
    deploy(&sim, &client, "app:1.1").await;
    let ours = deploy(&sim, &client, "app:1.2").await;
    // `kubectl rollout undo` would go to revision 2 (app:1.1); we recorded revision 1.
    let result = roll_back(&client, 1, &ours, "unused").await.unwrap();
    let Rollback::Applied { deployment } = result else {
        panic!("not applied: {result:?}");
    };
    assert_eq!(deployment::image_of(&deployment, "app").unwrap(), "app:1.0");
    assert_eq!(image(&sim), "app:1.0");
    let labels = deployment
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .labels
        .unwrap();
    assert!(!labels.contains_key("pod-template-hash"), "{labels:?}");
}

#[tokio::test]
async fn someone_elses_later_change_is_kept() {
    let (sim, client) = start().await;
    let ours = deploy(&sim, &client, "app:1.1").await;
    // Someone else deploys after us.
    deploy(&sim, &client, "app:1.3").await;
    let result = roll_back(&client, 1, &ours, "unused").await.unwrap();
    let Rollback::Refused { reason } = result else {
        panic!("rolled back over someone else's change");
    };
    assert_eq!(
        reason,
        "someone else changed the deployment's pod template after our patch (container app runs app:1.3)"
    );
    assert_eq!(image(&sim), "app:1.3");
}

#[tokio::test]
async fn a_revision_that_no_longer_exists_is_an_error() {
    let (sim, client) = start().await;
    let ours = deploy(&sim, &client, "app:1.1").await;
    let error = roll_back(&client, 7, &ours, "unused").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "deployment default/web has no ReplicaSet for revision 7 to roll back to"
    );
    assert_eq!(image(&sim), "app:1.1");
}

#[tokio::test]
async fn a_scale_after_our_patch_is_not_someone_elses_deploy_and_is_kept() {
    let (sim, client) = start().await;
    let ours = deploy(&sim, &client, "app:1.1").await;
    // `kubectl scale`: the generation moves, the pod template does not.
    let api = target().api(&client);
    let scale = serde_json::json!({"spec": {"replicas": 5}});
    api.patch(
        "web",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&scale),
    )
    .await
    .unwrap();
    let result = roll_back(&client, 1, &ours, "app:1.1").await.unwrap();
    let Rollback::Applied { deployment } = result else {
        panic!("a scale stopped the rollback: {result:?}");
    };
    assert_eq!(deployment::image_of(&deployment, "app").unwrap(), "app:1.0");
    assert_eq!(deployment.spec.unwrap().replicas, Some(5));
}

#[tokio::test]
async fn the_previous_revision_skips_the_bad_image() {
    let (sim, client) = start().await;
    deploy(&sim, &client, "app:1.1").await;
    deploy(&sim, &client, "app:1.2").await;
    let previous = previous_revision(&client, &target(), "app", "app:1.2")
        .await
        .unwrap();
    assert_eq!(
        previous,
        Some(Restore {
            revision: 2,
            image: "app:1.1".to_owned()
        })
    );
    // Not the current (bad) revision, and nothing older than the first.
    let (_fresh, fresh_client) = start().await;
    assert_eq!(
        previous_revision(&fresh_client, &target(), "app", "app:1.0")
            .await
            .unwrap(),
        None
    );
}
