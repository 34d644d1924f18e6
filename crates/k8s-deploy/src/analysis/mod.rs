//! Analysis gates, like Argo Rollouts' `AnalysisTemplate` without a controller: measure the new
//! version `count` times, `interval` apart (a Prometheus instant query or an HTTP probe), judge
//! each measurement with `success-condition`, and fail as soon as the failures (or the
//! inconclusive measurements, or the errors in a row) pass their limit. The rollout strategies
//! gate their steps on it; the measurements go into the summary.
//!
//! Counting, as Argo does: a measurement is successful, failed, inconclusive (no data: an empty
//! vector or NaN) or an error (not taken). The analysis fails once failed measurements exceed
//! `failure-limit`, inconclusive ones exceed `inconclusive-limit` (Argo would pause for a human;
//! there is none here, so it fails), or errors in a row exceed `consecutive-error-limit`; it
//! passes when `count` measurements are taken without that. An error is not one of the `count`
//! (it is taken again after the interval), so an analysis never passes on errors.

mod condition;
mod measure;
mod spec;
mod vars;

use std::time::Duration;

use gantry_github::ClientConfig;
use gantry_runner::NetworkSettings;
use gantry_runner::cancel::Cancellation;
use tokio::time::Instant;

pub use condition::{Condition, Value};
pub use measure::Phase;
pub use spec::{AnalysisSpec, Provider};
pub use vars::{NAMES as PLACEHOLDERS, Substitutions};

/// One measurement, for the observer and the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Since the analysis started (initial delay included).
    pub at: Duration,
    /// What was seen: the value(s), or why there is none.
    pub value: String,
    pub phase: Phase,
    /// The measurement was successful.
    pub ok: bool,
}

/// How an analysis ended.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisOutcome {
    pub passed: bool,
    /// Why it failed (which limit), `None` when it passed.
    pub reason: Option<String>,
    pub measurements: Vec<Measurement>,
    /// When the first measurement that was not successful was taken.
    pub first_failure_at: Option<Duration>,
    /// When the verdict was reached.
    pub ended_at: Duration,
}

/// Why an analysis could not run to a verdict.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("cannot build the HTTP client for the analysis: {0}")]
    Client(String),
    #[error("the analysis was cancelled ({0})")]
    Cancelled(&'static str),
}

/// The HTTP client the analyses use: the runner's proxy, `NO_PROXY` and CA bundle, through the
/// suite's one builder; one request takes at most 10 s.
pub fn http_client(network: NetworkSettings) -> Result<reqwest::Client, AnalysisError> {
    let config = ClientConfig {
        request_timeout: Duration::from_secs(10),
        ..ClientConfig::for_step("", network, "k8s-deploy", Duration::from_secs(10))
    };
    gantry_github::http::client(&config).map_err(|e| AnalysisError::Client(e.to_string()))
}

impl AnalysisSpec {
    /// Measures until a verdict, reporting each measurement to `observe` as it is taken. Waits
    /// use tokio's clock; cancellation ends the run with [`AnalysisError::Cancelled`] at once.
    pub async fn run(
        &self,
        client: &reqwest::Client,
        vars: &Substitutions,
        cancel: &Cancellation,
        observe: &mut (dyn FnMut(&Measurement) + Send),
    ) -> Result<AnalysisOutcome, AnalysisError> {
        let start = Instant::now();
        sleep(self.initial_delay, cancel).await?;
        let mut outcome = AnalysisOutcome {
            passed: false,
            reason: None,
            measurements: Vec::new(),
            first_failure_at: None,
            ended_at: Duration::ZERO,
        };
        let (mut failed, mut inconclusive, mut errors_in_a_row) = (0u32, 0u32, 0u32);
        let mut taken = 0;
        while taken < self.count {
            let measured = measure::measure(
                client,
                &self.provider,
                self.success_condition.as_ref(),
                |t| vars.apply(t),
            );
            let (phase, value) = tokio::select! {
                seen = measured => seen,
                () = cancel.cancelled() => return Err(cancelled(cancel)),
            };
            let m = Measurement {
                at: start.elapsed(),
                value,
                phase,
                ok: phase == Phase::Successful,
            };
            observe(&m);
            if !m.ok && outcome.first_failure_at.is_none() {
                outcome.first_failure_at = Some(m.at);
            }
            outcome.measurements.push(m);
            if phase != Phase::Error {
                taken += 1;
            }
            match phase {
                Phase::Successful => errors_in_a_row = 0,
                Phase::Failed => (failed, errors_in_a_row) = (failed + 1, 0),
                Phase::Inconclusive => (inconclusive, errors_in_a_row) = (inconclusive + 1, 0),
                Phase::Error => errors_in_a_row += 1,
            }
            let reason = if failed > self.failure_limit {
                Some(format!(
                    "{failed} failed measurement(s), more than the failure-limit of {}",
                    self.failure_limit
                ))
            } else if inconclusive > self.inconclusive_limit {
                Some(format!(
                    "{inconclusive} inconclusive measurement(s) (no data), more than the inconclusive-limit of {}",
                    self.inconclusive_limit
                ))
            } else if errors_in_a_row > self.consecutive_error_limit {
                Some(format!(
                    "{errors_in_a_row} measurement errors in a row, more than the consecutive-error-limit of {}",
                    self.consecutive_error_limit
                ))
            } else {
                None
            };
            if reason.is_some() {
                outcome.reason = reason;
                outcome.ended_at = start.elapsed();
                return Ok(outcome);
            }
            if taken < self.count {
                // An error is retried after the interval, at least a second later.
                let wait = if phase == Phase::Error {
                    self.interval.max(Duration::from_secs(1))
                } else {
                    self.interval
                };
                sleep(wait, cancel).await?;
            }
        }
        outcome.passed = true;
        outcome.ended_at = start.elapsed();
        Ok(outcome)
    }
}

fn cancelled(cancel: &Cancellation) -> AnalysisError {
    AnalysisError::Cancelled(cancel.received().map_or("cancelled", |r| r.signal))
}

async fn sleep(duration: Duration, cancel: &Cancellation) -> Result<(), AnalysisError> {
    if duration.is_zero() {
        return Ok(());
    }
    tokio::select! {
        () = tokio::time::sleep(duration) => Ok(()),
        () = cancel.cancelled() => Err(cancelled(cancel)),
    }
}
