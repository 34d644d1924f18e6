//! The canary strategy: a `<name>-canary` Deployment with the new image, grown through the steps
//! (each waited until its pods are ready, analysed when it has an analysis, then held for its
//! pause); when every step passed, the
//! main Deployment takes the image through the ordinary guarded rolling update ([`Deploy`]) and
//! the canary is removed. A failed step, or a cancellation, removes the canary and changes
//! nothing else. A re-run takes over the canary an earlier run left.

use gantry_kube::watch::Outcome;
use gantry_runner::ActionError;

use crate::derived::{self, Context, Plan};
use crate::flow::{Conclusion, Report, Stage};
use crate::strategy::CanaryStep;

/// Why a step failed: its stage (for the summary) and the message naming it.
struct StepFailed {
    message: String,
}

/// Runs the canary. `Err` only for what is refused before any write (exit 2) or cannot be read.
pub async fn run(
    mut cx: Context<'_, '_>,
    steps: &[CanaryStep],
) -> Result<Result<Report, gantry_kube::Error>, ActionError> {
    let mut plan = derived::plan(cx.client, cx.namespace, cx.settings, "canary", false).await?;
    if let Some(tried) = cx.dry_run_only("canary", "canary").await {
        return Ok(tried);
    }
    if let Some(image) = plan.existing_image() {
        cx.console.info(&format!(
            "Deployment {} from an earlier run (running {image}) is taken over",
            plan.derived
        ));
    }
    let replicas = plan
        .main
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let mut stages = Vec::new();
    let cancellation = cx.cancellation.clone();
    let walked = tokio::select! {
        result = walk(&mut cx, &mut plan, steps, replicas, &mut stages) => Some(result),
        () = cancellation.cancelled() => None,
    };
    let mut report = match walked {
        Some(Ok(())) => {
            cx.console.info(&format!(
                "Every canary step passed; {} takes {}",
                plan.target, cx.settings.image
            ));
            let result = cx.rolling().await;
            let removed = plan.remove(cx.client).await;
            match derived::promoted(
                result,
                &plan,
                &mut stages,
                removed.err().into_iter().collect(),
            ) {
                Ok(report) => report,
                Err(error) => return Ok(Err(error)),
            }
        }
        Some(Err(StepFailed { message })) => {
            let left = plan.removal(cx.client).await;
            cx.untouched(&plan, Conclusion::Failed, format!("{message}; {left}"))
        }
        None => {
            let left = plan.removal(cx.client).await;
            let stage = stages.len() + 1;
            cx.untouched(
                &plan,
                Conclusion::Cancelled,
                format!("cancelled during canary step {stage}; {left}"),
            )
        }
    };
    report.stages = stages;
    Ok(Ok(report))
}

/// Walks the steps: each writes the canary at its size, waits for its pods and holds its pause.
async fn walk(
    cx: &mut Context<'_, '_>,
    plan: &mut Plan,
    steps: &[CanaryStep],
    main_replicas: i32,
    stages: &mut Vec<Stage>,
) -> Result<(), StepFailed> {
    for (index, step) in steps.iter().enumerate() {
        let number = index + 1;
        let pods = step.replicas(main_replicas);
        let name = format!(
            "step {number} (weight {}%: {pods} of {main_replicas} pods)",
            step.weight
        );
        let start = cx.timeline.elapsed();
        cx.console.info(&format!(
            "Canary {name}: {} runs {}",
            plan.derived, cx.settings.image
        ));
        let fail = |stages: &mut Vec<Stage>, measurements: Vec<String>, why: String| {
            stages.push(Stage {
                name: name.clone(),
                outcome: format!("failed: {why}"),
                measurements,
            });
            StepFailed {
                message: format!("canary {name} failed: {why}"),
            }
        };
        let written = match plan.write(cx.client, cx.settings, pods).await {
            Ok(written) => written,
            Err(why) => return Err(fail(stages, Vec::new(), why)),
        };
        let outcome = plan
            .wait(cx.client, cx.settings, &written, cx.console)
            .await;
        cx.timeline
            .phase(&format!("canary step {number}"), start, false);
        let measured = match outcome {
            Outcome::Complete(snapshot) => format!(
                "{} of {} canary pods ready and running the image",
                snapshot.verified, snapshot.desired
            ),
            Outcome::Failed(failure, snapshot) => {
                let seen = format!(
                    "{} of {} canary pods ready",
                    snapshot.verified, snapshot.desired
                );
                return Err(fail(stages, vec![seen], failure.message));
            }
        };
        let mut measurements = vec![measured];
        if let Some(spec) = &step.analysis {
            match cx.analyse(plan, spec).await {
                Ok(seen) => measurements.extend(seen),
                Err((seen, why)) => {
                    measurements.extend(seen);
                    return Err(fail(stages, measurements, why));
                }
            }
        }
        if !step.pause.is_zero() {
            cx.console.info(&format!(
                "Canary {name}: holding for {}",
                humantime::format_duration(step.pause)
            ));
            tokio::time::sleep(step.pause).await;
        }
        stages.push(Stage {
            name,
            outcome: "passed".to_owned(),
            measurements,
        });
    }
    Ok(())
}
