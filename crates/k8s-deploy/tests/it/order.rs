//! Deploys never go backwards: with `source-sequence` and `source-revision`, the landing-zone
//! commit is recorded with the image, and a run of an older commit (started or scheduled late)
//! changes nothing, whether the newer deploy came before its read or between its read and write.

use gantry_testkit::{ActionRun, Transcript};
use kube_sim::{Fault, KubeSim, Resource, Verb};
use serde_json::json;

use crate::common::{
    GOOD, NEXT, OTHER, UNPULLABLE, action, assert_exit, deployment, image, patch_deployment, sim,
};

/// A landing-zone commit SHA for `sequence`.
fn revision(sequence: u64) -> String {
    format!("{sequence:040x}")
}

/// The action deploying `image` from the landing-zone commit at `sequence`.
fn from(sim: &KubeSim, image: &str, sequence: u64) -> ActionRun {
    action(sim, image)
        .input("source-sequence", sequence.to_string())
        .input("source-revision", revision(sequence))
}

/// The recorded source: (sequence, revision).
fn recorded(sim: &KubeSim) -> (String, String) {
    let annotations = deployment(sim).metadata.annotations.unwrap_or_default();
    let get = |key: &str| annotations.get(key).cloned().unwrap_or_default();
    (
        get("gantry.dev/source-sequence"),
        get("gantry.dev/source-revision"),
    )
}

fn patches(sim: &KubeSim) -> usize {
    sim.count_requests(Verb::Patch, Some(Resource::Deployments))
}

/// Asserts a superseded ending: exit 0, outputs, one notice naming both sources, a summary row.
fn assert_superseded(run: &Transcript, ours: u64, live: u64, live_revision: &str) {
    assert_exit(run, 0);
    assert_eq!(run.output("result"), "superseded", "{}", run.render());
    assert_eq!(run.output("failure-reason"), "");
    let notices: Vec<String> = run
        .commands()
        .into_iter()
        .filter(|command| command.command == "notice")
        .map(|command| command.data)
        .collect();
    assert_eq!(
        notices,
        [format!(
            "{} not deployed to prod/web: it records source sequence {live} (revision {live_revision}), newer than this run's sequence {ours} (revision {}); a newer deploy came first, so nothing was changed",
            run.output("image"),
            revision(ours)
        )],
        "{}",
        run.render()
    );
    assert!(
        run.summary.contains(&format!(
            "| source | {ours} (`{}`) |\n| newer source on the deployment | {live} (`{live_revision}`) |",
            revision(ours)
        )),
        "{}",
        run.summary
    );
}

#[test]
fn the_source_is_recorded_with_the_image_in_one_patch() {
    let sim = sim();
    let run = from(&sim, NEXT, 12).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(recorded(&sim), ("12".to_owned(), revision(12)));
    assert_eq!(patches(&sim), 1);
    assert!(
        run.summary
            .contains(&format!("| source | 12 (`{}`) |", revision(12))),
        "{}",
        run.summary
    );
}

#[test]
fn an_older_run_after_a_newer_one_is_superseded_and_writes_nothing() {
    let sim = sim();
    assert_exit(&from(&sim, NEXT, 12).run(), 0);
    let before = deployment(&sim);
    let run = from(&sim, OTHER, 10).run();
    assert_superseded(&run, 10, 12, &revision(12));
    assert_eq!(run.output("image"), OTHER);
    assert_eq!(run.output("previous-image"), NEXT);
    assert_eq!(run.output("revision"), "2");
    assert_eq!(image(&sim), NEXT);
    assert_eq!(recorded(&sim), ("12".to_owned(), revision(12)));
    assert_eq!(patches(&sim), 1, "the older run sent no write");
    assert_eq!(
        deployment(&sim).metadata.resource_version,
        before.metadata.resource_version
    );
    // A dry-run of the older commit says the same.
    let run = from(&sim, OTHER, 10).input("dry-run", "client").run();
    assert_superseded(&run, 10, 12, &revision(12));
}

#[test]
fn the_same_source_again_is_unchanged() {
    let sim = sim();
    assert_exit(&from(&sim, NEXT, 12).run(), 0);
    let run = from(&sim, NEXT, 12).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "unchanged", "{}", run.render());
    assert_eq!(patches(&sim), 1);
    assert_eq!(recorded(&sim), ("12".to_owned(), revision(12)));
}

#[test]
fn a_newer_source_of_the_running_image_is_recorded_so_an_older_one_cannot_go_back() {
    let sim = sim();
    assert_exit(&from(&sim, NEXT, 5).run(), 0);
    let generation = deployment(&sim).metadata.generation;
    // Commit 7 names the image that commit 5 deployed: no rollout, but its source is recorded.
    let run = from(&sim, NEXT, 7).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "unchanged", "{}", run.render());
    assert_eq!(recorded(&sim), ("7".to_owned(), revision(7)));
    assert_eq!(deployment(&sim).metadata.generation, generation);
    assert!(
        run.stdout.contains(&format!(
            "Recorded source sequence 7 (revision {}) on prod/web (annotations only; the pod template is unchanged)",
            revision(7)
        )),
        "{}",
        run.render()
    );
    // Commit 6, run late, would have put another image back.
    let run = from(&sim, OTHER, 6).run();
    assert_superseded(&run, 6, 7, &revision(7));
    assert_eq!(image(&sim), NEXT);
}

#[test]
fn a_newer_deploy_between_our_read_and_our_write_is_never_overwritten() {
    let sim = sim();
    assert_exit(&from(&sim, NEXT, 5).run(), 0);
    // A run of commit 9 deploys after our read of the Deployment, just before our patch.
    sim.add_fault(
        Fault::concurrent_patch(json!({
            "metadata": {"annotations": {
                "gantry.dev/source-sequence": "9",
                "gantry.dev/source-revision": revision(9),
            }},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": OTHER}]}}},
        }))
        .on(Verb::Patch)
        .resource(Resource::Deployments)
        .times(1),
    );
    let run = from(&sim, GOOD, 7).run();
    assert_superseded(&run, 7, 9, &revision(9));
    assert_eq!(image(&sim), OTHER);
    assert_eq!(recorded(&sim), ("9".to_owned(), revision(9)));
    // The first deploy, and our patch that met the other write (409); no retry.
    let statuses: Vec<u16> = sim
        .requests()
        .iter()
        .filter(|r| r.verb == Some(Verb::Patch))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 409]);
}

#[test]
fn a_rollback_keeps_the_source_so_an_older_run_still_cannot_go_back() {
    let sim = sim();
    let run = from(&sim, UNPULLABLE, 8).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(image(&sim), GOOD);
    // The template is restored; the source stays.
    assert_eq!(recorded(&sim), ("8".to_owned(), revision(8)));
    let run = from(&sim, NEXT, 7).run();
    assert_superseded(&run, 7, 8, &revision(8));
    assert_eq!(image(&sim), GOOD);
    // A newer commit deploys.
    let run = from(&sim, NEXT, 9).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(recorded(&sim), ("9".to_owned(), revision(9)));
}

#[test]
fn without_a_source_nothing_is_compared_or_recorded() {
    let sim = sim();
    assert_exit(&from(&sim, NEXT, 12).run(), 0);
    let run = action(&sim, OTHER).run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    assert_eq!(image(&sim), OTHER);
    assert_eq!(recorded(&sim), ("12".to_owned(), revision(12)));
}

#[test]
fn a_garbled_recorded_sequence_fails_the_step_and_changes_nothing() {
    let sim = sim();
    patch_deployment(
        &sim,
        json!({"metadata": {"annotations": {"gantry.dev/source-sequence": "twelve"}}}),
    );
    let run = from(&sim, NEXT, 12).run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "failed", "{}", run.render());
    assert_eq!(
        run.errors(),
        [
            "failed to deploy to prod/web: deployment prod/web has annotation gantry.dev/source-sequence=`twelve`, which is not a non-negative integer, so the order of deploys cannot be told; correct it (kubectl annotate --overwrite deployment/web -n prod gantry.dev/source-sequence=<number>) and run again"
        ]
    );
    assert_eq!(image(&sim), GOOD);
    assert_eq!(patches(&sim), 0);
}
