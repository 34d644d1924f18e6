//! After a cancellation (the runner's SIGINT): undoes what this run changed in each Deployment of
//! the set within the runner's window (the rollbacks sent first, then verified together), and
//! reports exactly what state each Deployment was left in.

use gantry_kube::deployment;
use gantry_kube::rollback::Restore;
use gantry_kube::watch::Expectation;

use super::report::Next;
use super::wait::Rolling;
use super::{Conclusion, Deploy, chain, describe};

impl Deploy<'_, '_> {
    /// Undoes what it can and records each Deployment's state; returns the signal's name.
    pub(super) async fn cancelled(&mut self) -> &'static str {
        let received = self.cancellation.received();
        let signal = received.map_or("cancellation", |received| received.signal);
        self.timeline.moment("cancelled");
        let left = self
            .cancellation
            .deadline()
            .map(|deadline| deadline.saturating_duration_since(std::time::Instant::now()));
        self.console.info(&format!(
            "Cancelled by {signal}; {:.1}s left to clean up before the runner ends the step",
            left.unwrap_or_default().as_secs_f64()
        ));
        let deadline = self
            .cancellation
            .deadline()
            .map_or_else(tokio::time::Instant::now, tokio::time::Instant::from_std);
        let mut nexts: Vec<Option<Next>> = vec![None; self.units.len()];
        // The verifications run last; on timeout, what is not settled yet is described as left.
        let _ = tokio::time::timeout_at(deadline, self.undo_all(&mut nexts)).await;
        for (unit, next) in nexts.into_iter().enumerate() {
            let next = next.unwrap_or_else(|| Next::failed(self.unfinished_undo(unit)));
            let report = &mut self.units[unit].report;
            report.conclusion = Conclusion::Cancelled;
            report.record(&next, None);
        }
        signal
    }

    async fn undo_all(&mut self, nexts: &mut [Option<Next>]) {
        let mut rolling = Vec::new();
        for (unit, settled) in nexts.iter_mut().enumerate() {
            match self.undo(unit).await {
                Ok(started) => rolling.push(started),
                Err(next) => *settled = Some(next),
            }
        }
        let verified = self.verify_rollbacks(&rolling).await;
        for (rolling, next) in rolling.iter().zip(verified) {
            nexts[rolling.unit] = Some(next);
        }
    }

    /// What an undo that ran out of time leaves behind.
    fn unfinished_undo(&self, unit: usize) -> String {
        let unit = &self.units[unit];
        let Some(found) = &unit.found else {
            return format!("{} was not read yet; nothing was changed", unit.target);
        };
        match (&unit.rolling_back_to, unit.patch_sent) {
            (Some(restore), _) => format!(
                "a rollback to revision {} ({}) was started but not verified before the cancellation window closed; check `kubectl rollout status deployment/{}`",
                restore.revision, restore.image, unit.target.name
            ),
            (None, true) => format!(
                "the patch to {} was sent and could not be undone before the cancellation window closed; container {} may run it",
                self.settings.image, found.container
            ),
            (None, false) => "nothing was changed by this run".to_owned(),
        }
    }

    /// Rolls back our patch of one Deployment if it is in the cluster (or verifies a rollback
    /// already sent): `Ok` when a rollback is to be verified.
    async fn undo(&mut self, unit: usize) -> Result<Rolling, Next> {
        let Some(found) = self.units[unit].found.clone() else {
            return Err(Next::failed(self.unfinished_undo(unit)));
        };
        let target = self.units[unit].target.clone();
        let current = match deployment::read(self.client, &target).await {
            Ok(current) => current,
            Err(error) => {
                return Err(Next::failed(format!(
                    "{}; and reading the deployment failed: {}",
                    self.unfinished_undo(unit),
                    chain(&error)
                )));
            }
        };
        let container = found.container.as_str();
        let now = deployment::image_of(&current, container).unwrap_or_default();
        if let Some(restore) = self.units[unit].rolling_back_to.clone()
            && now == restore.image
        {
            let expect = Expectation::after(&current, container, &restore.image);
            return Ok(Rolling {
                unit,
                restore,
                expect,
            });
        }
        let patch_sent = self.units[unit].patch_sent;
        let ours =
            patch_sent && now == self.settings.image && found.previous_image != self.settings.image;
        if ours {
            let expect = Expectation::after(&current, container, &now);
            let refusal = match found.recorded {
                _ if !self.settings.rollback => "rollback is false",
                None => "the deployment had no revision before the patch",
                Some(revision) => {
                    let restore = Restore {
                        revision,
                        image: found.previous_image.clone(),
                    };
                    return self.roll_back(unit, restore, &expect).await;
                }
            };
            return Err(Next::failed(format!(
                "our patch is applied and left in place ({refusal}): container {container} runs {now}, {}",
                describe(&current)
            )));
        }
        Err(Next::failed(format!(
            "{}: container {container} runs {now}, {}",
            if patch_sent {
                "left as found after our patch"
            } else {
                "nothing was changed by this run"
            },
            describe(&current)
        )))
    }
}
