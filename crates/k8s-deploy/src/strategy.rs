//! The rollout strategy inputs (`strategy`, `steps`, `service`, `rollback-window`) turned into a
//! typed [`Strategy`] before any request, every problem reported against its input (exit 2).

use std::time::Duration;

use gantry_runner::ActionError;
use gantry_runner::inputs::Inputs;
use serde::Deserialize;

use crate::analysis::AnalysisSpec;
use crate::names::is_dns_subdomain;

/// How the new image reaches the Deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum Strategy {
    /// The Deployment's own rolling update (the default).
    Rolling,
    /// A `<name>-canary` Deployment grown step by step, then the rolling update.
    Canary(Vec<CanaryStep>),
    /// A full-size `<name>-green` Deployment, the Service switched to it, then the rolling update.
    BlueGreen {
        /// How long the old pods stay, ready to take the traffic back.
        rollback_window: Duration,
        /// Measured once green is ready, before the switch.
        analysis: Option<AnalysisSpec>,
    },
}

/// One step of a canary.
#[derive(Debug, Clone, PartialEq)]
pub struct CanaryStep {
    /// The canary's replicas as a percentage of the main Deployment's (rounded up, at least 1).
    pub weight: u32,
    /// How long the step holds once the canary's pods are ready (and analysed).
    pub pause: Duration,
    /// Measured once the canary's pods are ready; a failed analysis fails the step.
    pub analysis: Option<AnalysisSpec>,
}

impl CanaryStep {
    /// The canary's replica count at this step for a main Deployment of `replicas`.
    pub fn replicas(&self, replicas: i32) -> i32 {
        let wanted = (i64::from(replicas) * i64::from(self.weight) + 99) / 100;
        i32::try_from(wanted).unwrap_or(i32::MAX).max(1)
    }
}

/// A step as written in the `steps` input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    weight: u32,
    #[serde(default)]
    pause: Option<String>,
    #[serde(default)]
    analysis: Option<AnalysisSpec>,
}

const STEPS_GRAMMAR: &str = "write a YAML list such as `[{weight: 25, pause: 30s}, {weight: 50}]` (weight: the canary's replicas in percent of the Deployment's, 1 to 100, increasing; pause: optional duration; analysis: optional, as the analysis input)";

impl Strategy {
    /// The strategy and the `service` input; `several` says whether the step deploys a set.
    pub fn from_step_inputs(
        inputs: &Inputs,
        several: bool,
    ) -> Result<(Self, Option<String>), ActionError> {
        let mut strategy = Self::from_inputs(
            inputs.get("strategy"),
            inputs.get("steps"),
            inputs.duration("rollback-window")?,
            several,
        )?;
        if let Some(text) = inputs.get("analysis") {
            let Self::BlueGreen { analysis, .. } = &mut strategy else {
                return Err(ActionError::input(
                    "analysis",
                    "is only read with strategy blue-green; a canary takes one per step, under steps",
                ));
            };
            *analysis = Some(AnalysisSpec::from_yaml(text).map_err(|error| {
                ActionError::input("analysis", format!("is not an analysis: {error}"))
            })?);
        }
        let service = inputs.get("service").map(str::to_owned);
        if let Some(service) = &service
            && !is_dns_subdomain(service)
        {
            return Err(ActionError::input(
                "service",
                format!("`{service}` is not a Service name (lower-case letters, digits and `-`)"),
            ));
        }
        Ok((strategy, service))
    }

    /// Reads `strategy`, `steps` and `rollback-window`; `several` says whether the step deploys
    /// a set of Deployments (only the rolling strategy does).
    pub fn from_inputs(
        strategy: Option<&str>,
        steps: Option<&str>,
        rollback_window: Option<Duration>,
        several: bool,
    ) -> Result<Self, ActionError> {
        let strategy = match strategy.unwrap_or("rolling") {
            "rolling" => Self::Rolling,
            "canary" => Self::Canary(parse_steps(steps.ok_or_else(|| {
                ActionError::input(
                    "steps",
                    format!("is required with strategy canary; {STEPS_GRAMMAR}"),
                )
            })?)?),
            "blue-green" => Self::BlueGreen {
                rollback_window: rollback_window.unwrap_or(Duration::from_secs(300)),
                analysis: None,
            },
            other => {
                return Err(ActionError::input(
                    "strategy",
                    format!("`{other}` is not a strategy; write rolling, canary or blue-green"),
                ));
            }
        };
        if strategy != Self::Rolling && several {
            return Err(ActionError::input(
                "strategy",
                "canary and blue-green take one Deployment; name one in deployment, or use strategy rolling for a set",
            ));
        }
        if steps.is_some() && !matches!(strategy, Self::Canary(_)) {
            return Err(ActionError::input(
                "steps",
                "is only read with strategy canary; remove it or set strategy: canary",
            ));
        }
        Ok(strategy)
    }
}

fn parse_steps(text: &str) -> Result<Vec<CanaryStep>, ActionError> {
    let raw: Vec<RawStep> = serde_yaml::from_str(text).map_err(|error| {
        ActionError::input(
            "steps",
            format!("is not a list of steps ({error}); {STEPS_GRAMMAR}"),
        )
    })?;
    if raw.is_empty() {
        return Err(ActionError::input(
            "steps",
            format!("is empty; {STEPS_GRAMMAR}"),
        ));
    }
    let mut steps: Vec<CanaryStep> = Vec::new();
    for (index, step) in raw.into_iter().enumerate() {
        let number = index + 1;
        let previous = steps.last().map_or(0, |s| s.weight);
        if !(1..=100).contains(&step.weight) || step.weight <= previous {
            return Err(ActionError::input(
                "steps",
                format!(
                    "step {number} has weight {}; weights are 1 to 100 and increase from step to step",
                    step.weight
                ),
            ));
        }
        let pause = match step.pause.as_deref() {
            None => Duration::ZERO,
            Some(text) => humantime::parse_duration(text).map_err(|error| {
                ActionError::input(
                    "steps",
                    format!("step {number} has pause `{text}`, not a duration ({error}); write it like 30s or 5m"),
                )
            })?,
        };
        steps.push(CanaryStep {
            weight: step.weight,
            pause,
            analysis: step.analysis,
        });
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary(steps: &str) -> Result<Strategy, ActionError> {
        Strategy::from_inputs(Some("canary"), Some(steps), None, false)
    }

    #[test]
    fn steps_parse_with_defaults() {
        let Ok(Strategy::Canary(steps)) = canary("- weight: 25\n  pause: 30s\n- weight: 100\n")
        else {
            panic!("parses");
        };
        assert_eq!(steps[0].pause, Duration::from_secs(30));
        assert_eq!(steps[1].pause, Duration::ZERO);
        assert_eq!(steps[0].replicas(3), 1);
        assert_eq!(steps[0].replicas(10), 3);
        assert_eq!(steps[1].replicas(10), 10);
    }

    #[test]
    fn bad_steps_name_the_input() {
        for bad in [
            "weight: 25",
            "[]",
            "- weight: 0",
            "- weight: 50\n- weight: 25",
            "- weight: 20\n  pause: soon",
            "- weight: 20\n  wait: 1m",
        ] {
            let error = canary(bad).expect_err(bad).to_string();
            assert!(error.contains("steps"), "{bad}: {error}");
        }
        assert!(Strategy::from_inputs(Some("canary"), None, None, false).is_err());
        assert!(Strategy::from_inputs(Some("linear"), None, None, false).is_err());
        assert!(Strategy::from_inputs(Some("blue-green"), None, None, true).is_err());
    }
}
