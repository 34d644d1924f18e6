//! The blue-green strategy: a `<name>-green` Deployment with the new image at the main one's size,
//! waited until ready (and analysed, with an analysis), then the Service's selector switched to its pods (a compare-and-swap on the
//! Service). The old pods stay ready for the rollback window; then the main Deployment takes the
//! image through the ordinary guarded rolling update ([`crate::flow::Deploy`]) while the traffic
//! is on green, the selector is switched back and green removed. A failure before the switch
//! removes green and leaves the selector alone; a cancellation switches back and removes green.
//! A re-run finds green: switched with this image, it carries on after the switch; otherwise it
//! switches back and starts again.

use std::time::Duration;

use gantry_kube::watch::Outcome;
use gantry_runner::ActionError;

use crate::analysis::AnalysisSpec;
use crate::derived::{self, Context, Plan};
use crate::flow::{Conclusion, Report, Stage};

/// How the part before the promotion ended badly.
enum Stopped {
    /// Green never got ready, or the switch was refused: the message names it.
    Failed(String),
    Cancelled,
}

/// Runs blue-green. `Err` only for what is refused before any write (exit 2) or cannot be read.
pub async fn run(
    mut cx: Context<'_, '_>,
    window: Duration,
    analysis: Option<&AnalysisSpec>,
) -> Result<Result<Report, gantry_kube::Error>, ActionError> {
    let mut plan = derived::plan(cx.client, cx.namespace, cx.settings, "green", true).await?;
    if let Some(tried) = cx.dry_run_only("blue-green", "green Deployment").await {
        return Ok(tried);
    }
    let service = plan.service_name();
    let mut stages = Vec::new();
    let resumed = plan.switched() && plan.existing_image().as_deref() == Some(&cx.settings.image);
    if resumed {
        cx.console.info(&format!(
            "Service {service} already sends traffic to {} running {} (an earlier run switched it); carrying on after the switch",
            plan.derived, cx.settings.image
        ));
    } else if plan.switched() {
        cx.console.info(&format!(
            "Service {service} sends traffic to {} from an earlier run of another image; switching back to {} first",
            plan.derived, plan.target
        ));
        if let Err(message) = plan.switch(cx.client, false).await {
            let report = cx.untouched(&plan, Conclusion::Failed, message);
            return Ok(Ok(report));
        }
    }
    let cancellation = cx.cancellation.clone();
    let prepared = tokio::select! {
        result = prepare(&mut cx, &mut plan, resumed, (window, analysis), &mut stages) => result,
        () = cancellation.cancelled() => Err(Stopped::Cancelled),
    };
    let mut report = match prepared {
        Ok(()) => {
            let result = cx.rolling().await;
            let back = plan.switch(cx.client, false).await;
            let removed = plan.remove(cx.client).await;
            let problems = [back.clone().err(), removed.err()]
                .into_iter()
                .flatten()
                .collect();
            let report = match derived::promoted(result, &plan, &mut stages, problems) {
                Ok(report) => report,
                Err(error) => return Ok(Err(error)),
            };
            stages.push(Stage {
                name: format!("switch {service} back to {}", plan.target),
                outcome: back.err().unwrap_or_else(|| "done".to_owned()),
                measurements: Vec::new(),
            });
            report
        }
        Err(stopped) => {
            let mut left = Vec::new();
            if plan.switched() {
                left.push(match plan.switch(cx.client, false).await {
                    Ok(()) => format!("service {service} was switched back to {}", plan.target),
                    Err(message) => message,
                });
            } else {
                left.push(format!("service {service} was not switched"));
            }
            left.push(plan.removal(cx.client).await);
            let left = left.join("; ");
            match stopped {
                Stopped::Failed(message) => {
                    cx.untouched(&plan, Conclusion::Failed, format!("{message}; {left}"))
                }
                Stopped::Cancelled => cx.untouched(
                    &plan,
                    Conclusion::Cancelled,
                    format!("cancelled before {} took the image; {left}", plan.target),
                ),
            }
        }
    };
    report.stages = stages;
    Ok(Ok(report))
}

/// Green written and ready, the Service switched, the window held.
async fn prepare(
    cx: &mut Context<'_, '_>,
    plan: &mut Plan,
    resumed: bool,
    (window, analysis): (Duration, Option<&AnalysisSpec>),
    stages: &mut Vec<Stage>,
) -> Result<(), Stopped> {
    let service = plan.service_name();
    let start = cx.timeline.elapsed();
    // A resumed green already has the traffic: it is only checked to be ready still.
    let written = match plan.existing.clone().filter(|_| resumed) {
        Some(existing) => existing,
        None => {
            let replicas = plan
                .main
                .spec
                .as_ref()
                .and_then(|s| s.replicas)
                .unwrap_or(1);
            cx.console.info(&format!(
                "Green: {} runs {} at {replicas} pods",
                plan.derived, cx.settings.image
            ));
            plan.write(cx.client, cx.settings, replicas)
                .await
                .map_err(Stopped::Failed)?
        }
    };
    let outcome = plan
        .wait(cx.client, cx.settings, &written, cx.console)
        .await;
    cx.timeline.phase("green rollout", start, false);
    let name = format!("{} ready", plan.derived);
    match outcome {
        Outcome::Complete(snapshot) => stages.push(Stage {
            name,
            outcome: "passed".to_owned(),
            measurements: vec![format!(
                "{} of {} pods ready and running the image",
                snapshot.verified, snapshot.desired
            )],
        }),
        Outcome::Failed(failure, snapshot) => {
            stages.push(Stage {
                name,
                outcome: format!("failed: {}", failure.message),
                measurements: vec![format!(
                    "{} of {} pods ready",
                    snapshot.verified, snapshot.desired
                )],
            });
            return Err(Stopped::Failed(format!(
                "green {} did not get ready: {}",
                plan.derived, failure.message
            )));
        }
    }
    if !resumed {
        if let Some(spec) = analysis {
            analysed(cx, plan, spec, stages).await?;
        }
        plan.switch(cx.client, true).await.map_err(|message| {
            stages.push(Stage {
                name: format!("switch {service} to {}", plan.derived),
                outcome: format!("failed: {message}"),
                measurements: Vec::new(),
            });
            Stopped::Failed(message)
        })?;
        cx.timeline.moment("service switched");
        cx.console.info(&format!(
            "Service {service} now sends traffic to {}",
            plan.derived
        ));
        stages.push(Stage {
            name: format!("switch {service} to {}", plan.derived),
            outcome: "done".to_owned(),
            measurements: Vec::new(),
        });
    }
    cx.console.info(&format!(
        "Keeping {} ready to take the traffic back for {}",
        plan.target,
        humantime::format_duration(window)
    ));
    let start = cx.timeline.elapsed();
    tokio::time::sleep(window).await;
    cx.timeline.phase("rollback window", start, false);
    stages.push(Stage {
        name: format!("rollback window ({})", humantime::format_duration(window)),
        outcome: "passed".to_owned(),
        measurements: Vec::new(),
    });
    Ok(())
}

/// Green's analysis, recorded as a stage; `Err` when it failed.
async fn analysed(
    cx: &mut Context<'_, '_>,
    plan: &Plan,
    spec: &AnalysisSpec,
    stages: &mut Vec<Stage>,
) -> Result<(), Stopped> {
    let name = format!("analysis of {}", plan.derived);
    match cx.analyse(plan, spec).await {
        Ok(measurements) => {
            stages.push(Stage {
                name,
                outcome: "passed".to_owned(),
                measurements,
            });
            Ok(())
        }
        Err((measurements, why)) => {
            stages.push(Stage {
                name,
                outcome: format!("failed: {why}"),
                measurements,
            });
            Err(Stopped::Failed(format!("green {}: {why}", plan.derived)))
        }
    }
}
