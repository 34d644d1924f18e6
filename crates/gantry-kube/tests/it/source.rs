//! The image write never goes back past a newer source: one recorded before the read stops it
//! before anything is sent, one written between the read and the write is seen on the re-read the
//! compare-and-swap forces, and a rollback keeps the recorded source.

use gantry_kube::deployment::{self, ImageChange, Written};
use gantry_kube::rollback::Rollback;
use gantry_kube::source::{REVISION_ANNOTATION, SEQUENCE_ANNOTATION, Source};
use k8s_openapi::api::apps::v1::Deployment;
use kube_sim::{Fault, KubeSim, Resource, Verb};
use serde_json::json;

use crate::common::{deploy_from, image, roll_back, start, target};

fn source(sequence: u64) -> Source {
    Source {
        sequence,
        revision: format!("{sequence:040x}"),
    }
}

/// Writes `image` from `source` on the Deployment as read now.
async fn write(client: &kube::Client, image: &str, source: Source) -> Written {
    let read = deployment::read_unpaused(client, &target()).await.unwrap();
    let change = ImageChange {
        container: "app".to_owned(),
        image: image.to_owned(),
        annotations: std::collections::BTreeMap::new(),
        source: Some(source),
    };
    deployment::set_image(client, &target(), &read, &change, false)
        .await
        .unwrap()
}

fn recorded(sim: &KubeSim) -> (String, String) {
    let d = sim.get::<Deployment>("default", "web").unwrap();
    let annotations = d.metadata.annotations.unwrap_or_default();
    (
        annotations
            .get(SEQUENCE_ANNOTATION)
            .cloned()
            .unwrap_or_default(),
        annotations
            .get(REVISION_ANNOTATION)
            .cloned()
            .unwrap_or_default(),
    )
}

fn patches(sim: &KubeSim) -> usize {
    sim.count_requests(Verb::Patch, Some(Resource::Deployments))
}

fn expect_superseded(written: Written) -> Source {
    match written {
        Written::Superseded { live } => live,
        Written::Applied(d) => panic!("written over a newer source: {:?}", d.metadata.annotations),
    }
}

#[tokio::test]
async fn the_source_is_recorded_in_the_write_that_sets_the_image() {
    let (sim, client) = start().await;
    deploy_from(&sim, &client, "app:1.1", Some(source(10))).await;
    assert_eq!(image(&sim), "app:1.1");
    assert_eq!(recorded(&sim), ("10".to_owned(), format!("{:040x}", 10)));
    assert_eq!(patches(&sim), 1);
}

#[tokio::test]
async fn a_newer_recorded_source_stops_the_write_before_it_is_sent() {
    let (sim, client) = start().await;
    deploy_from(&sim, &client, "app:1.1", Some(source(10))).await;
    let live = expect_superseded(write(&client, "app:1.0", source(9)).await);
    assert_eq!(live, source(10));
    assert_eq!(image(&sim), "app:1.1");
    assert_eq!(patches(&sim), 1, "no second write");
    // The same source again, or a newer one, is written.
    assert!(matches!(
        write(&client, "app:1.2", source(10)).await,
        Written::Applied(_)
    ));
    assert!(matches!(
        write(&client, "app:1.3", source(11)).await,
        Written::Applied(_)
    ));
    assert_eq!(image(&sim), "app:1.3");
    assert_eq!(recorded(&sim).0, "11");
}

#[tokio::test]
async fn a_newer_deploy_between_our_read_and_our_write_is_kept() {
    let (sim, client) = start().await;
    deploy_from(&sim, &client, "app:1.1", Some(source(5))).await;
    // A newer run's deploy lands after our read, just before our write.
    sim.add_fault(
        Fault::concurrent_patch(json!({
            "metadata": {"annotations": {SEQUENCE_ANNOTATION: "9", REVISION_ANNOTATION: "nine"}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:1.3"}]}}},
        }))
        .on(Verb::Patch)
        .resource(Resource::Deployments)
        .times(1),
    );
    let live = expect_superseded(write(&client, "app:1.2", source(7)).await);
    assert_eq!(live.sequence, 9);
    assert_eq!(live.revision, "nine");
    assert_eq!(image(&sim), "app:1.3");
    assert_eq!(recorded(&sim), ("9".to_owned(), "nine".to_owned()));
}

#[tokio::test]
async fn a_newer_source_recorded_between_our_read_and_our_write_is_kept_even_without_a_new_template()
 {
    let (sim, client) = start().await;
    deploy_from(&sim, &client, "app:1.1", Some(source(5))).await;
    // A newer run of the same image records its source only: the pod template does not move, so
    // the compare-and-swap alone would retry our write on the fresh version.
    sim.add_fault(
        Fault::concurrent_patch(json!({
            "metadata": {"annotations": {SEQUENCE_ANNOTATION: "9", REVISION_ANNOTATION: "nine"}},
        }))
        .on(Verb::Patch)
        .resource(Resource::Deployments)
        .times(1),
    );
    let live = expect_superseded(write(&client, "app:1.2", source(7)).await);
    assert_eq!(live.sequence, 9);
    assert_eq!(image(&sim), "app:1.1");
    assert_eq!(recorded(&sim).0, "9");
    // The first deploy's patch, and ours that met the other write; no retry.
    assert_eq!(patches(&sim), 2);
}

#[tokio::test]
async fn an_older_source_recorded_meanwhile_is_written_over_on_retry() {
    let (sim, client) = start().await;
    deploy_from(&sim, &client, "app:1.1", Some(source(5))).await;
    sim.add_fault(
        Fault::concurrent_patch(json!({"metadata": {"annotations": {SEQUENCE_ANNOTATION: "6"}}}))
            .on(Verb::Patch)
            .resource(Resource::Deployments)
            .times(1),
    );
    assert!(matches!(
        write(&client, "app:1.2", source(7)).await,
        Written::Applied(_)
    ));
    assert_eq!(image(&sim), "app:1.2");
    assert_eq!(recorded(&sim), ("7".to_owned(), format!("{:040x}", 7)));
    assert_eq!(patches(&sim), 3);
}

#[tokio::test]
async fn a_rollback_restores_the_template_and_keeps_the_source() {
    let (sim, client) = start().await;
    let ours = deploy_from(&sim, &client, "app:1.1", Some(source(5))).await;
    let result = roll_back(&client, 1, &ours, "app:1.1").await.unwrap();
    assert!(matches!(result, Rollback::Applied { .. }), "{result:?}");
    assert_eq!(image(&sim), "app:1.0");
    assert_eq!(recorded(&sim), ("5".to_owned(), format!("{:040x}", 5)));
    // So an older run still cannot go back, while a re-run of the same source may try again.
    expect_superseded(write(&client, "app:0.9", source(4)).await);
    assert_eq!(image(&sim), "app:1.0");
    assert!(matches!(
        write(&client, "app:1.1", source(5)).await,
        Written::Applied(_)
    ));
}

#[tokio::test]
async fn a_garbled_recorded_sequence_stops_the_write() {
    let (sim, client) = start().await;
    let api = target().api(&client);
    let garble = json!({"metadata": {"annotations": {SEQUENCE_ANNOTATION: "12; rm -rf"}}});
    api.patch(
        "web",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&garble),
    )
    .await
    .unwrap();
    let read = deployment::read_unpaused(&client, &target()).await.unwrap();
    let change = ImageChange {
        container: "app".to_owned(),
        image: "app:1.1".to_owned(),
        annotations: std::collections::BTreeMap::new(),
        source: Some(source(3)),
    };
    let error = deployment::set_image(&client, &target(), &read, &change, false)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("deployment default/web has annotation gantry.dev/source-sequence=`12; rm -rf`, which is not a non-negative integer"),
        "{error}"
    );
    assert_eq!(image(&sim), "app:1.0");
    assert_eq!(patches(&sim), 1, "only the test's own annotation patch");
}
