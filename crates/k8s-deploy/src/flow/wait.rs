//! Waiting for the rollouts of the set together: one deadline for all, progress lines of each in
//! one log group (prefixed with the Deployment when there are several), and, for the deploy, the
//! first failure ending the wait for all; the rollbacks are each waited for to their end.

use std::cell::RefCell;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use gantry_kube::rollback::Restore;
use gantry_kube::watch::{self, Expectation, Outcome, WaitOptions};

use super::report::Next;
use super::{Deploy, Watch};

/// A rollback sent, to be verified.
pub(super) struct Rolling {
    pub unit: usize,
    pub restore: Restore,
    pub expect: Expectation,
}

impl Deploy<'_, '_> {
    /// Waits for the rollouts of `watches` together; `None` for those the first failure cut short.
    pub(super) async fn wait_all(
        &mut self,
        watches: &[Watch],
        stop_at_failure: bool,
    ) -> Vec<Option<Outcome>> {
        let label = if watches.iter().any(|watch| watch.label == "rollout") {
            "rollout"
        } else {
            "verify"
        };
        let expects: Vec<_> = watches
            .iter()
            .map(|watch| (watch.unit, &watch.expect, watch.soak))
            .collect();
        self.wait_for(label, &expects, stop_at_failure).await
    }

    /// Waits for the rollbacks' rollouts, each to its end, and says how each ended.
    pub(super) async fn verify_rollbacks(&mut self, rolling: &[Rolling]) -> Vec<Next> {
        let expects: Vec<_> = rolling
            .iter()
            .map(|rolling| (rolling.unit, &rolling.expect, None))
            .collect();
        let outcomes = self.wait_for("rollback rollout", &expects, false).await;
        let mut nexts = Vec::new();
        for (rolling, outcome) in rolling.iter().zip(outcomes) {
            let Restore { revision, image } = &rolling.restore;
            nexts.push(match outcome {
                Some(Outcome::Complete(snapshot)) => {
                    self.console.info(&format!(
                        "{}Rolled back to revision {revision}: {} of {} pods ready and running {image}",
                        self.about(rolling.unit),
                        snapshot.verified,
                        snapshot.desired
                    ));
                    Next {
                        message: format!("rolled back to revision {revision} ({image}) and verified"),
                        revision: Some(snapshot.revision.unwrap_or(*revision)),
                        restored: Some(*revision),
                    }
                }
                Some(Outcome::Failed(failure, _)) => Next::failed(format!(
                    "the rollback to revision {revision} did not complete: {}",
                    failure.message
                )),
                None => unreachable!("rollbacks are waited for to their end"),
            });
        }
        nexts
    }

    /// Waits for the rollouts of `(unit, expectation, soak)`, logging progress in a group; one
    /// timeline phase.
    async fn wait_for(
        &mut self,
        label: &str,
        expects: &[(usize, &Expectation, Option<std::time::Duration>)],
        stop_at_failure: bool,
    ) -> Vec<Option<Outcome>> {
        if expects.is_empty() {
            return Vec::new();
        }
        // One deadline for the set; after a cancellation, only the runner's window is left.
        let timeout = self
            .cancellation
            .deadline()
            .map_or(self.settings.timeout, |deadline| {
                deadline
                    .saturating_duration_since(std::time::Instant::now())
                    .min(self.settings.timeout)
            });
        let start = self.timeline.elapsed();
        let targets: Vec<String> = expects
            .iter()
            .map(|(unit, _, _)| self.units[*unit].target.to_string())
            .collect();
        self.console.group(&format!(
            "{label} of {} to {}",
            targets.join(", "),
            expects[0].1.image
        ));
        let several = self.units.len() > 1;
        let (client, settings) = (self.client, self.settings);
        let console = RefCell::new(&mut *self.console);
        let mut outcomes = vec![None; expects.len()];
        {
            let mut pending: FuturesUnordered<_> = expects
                .iter()
                .enumerate()
                .map(|(index, (unit, expect, soak))| {
                    let (console, target) = (&console, &self.units[*unit].target);
                    let options = WaitOptions {
                        timeout,
                        fail_fast: settings.fail_fast,
                        pods: settings.pods,
                        soak: *soak,
                    };
                    async move {
                        let mut progress = |line: &str| {
                            let mut console = console.borrow_mut();
                            if several {
                                console.info(&format!("{target}: {line}"));
                            } else {
                                console.info(line);
                            }
                        };
                        let outcome =
                            watch::wait(client, target, expect, options, &mut progress).await;
                        (index, outcome)
                    }
                })
                .collect();
            while let Some((index, outcome)) = pending.next().await {
                let failed = matches!(outcome, Outcome::Failed(..));
                outcomes[index] = Some(outcome);
                if failed && stop_at_failure {
                    break;
                }
            }
        }
        self.console.end_group();
        let critical = outcomes
            .iter()
            .any(|outcome| !matches!(outcome, Some(Outcome::Complete(_))));
        self.timeline.phase(label, start, critical);
        outcomes
    }
}
