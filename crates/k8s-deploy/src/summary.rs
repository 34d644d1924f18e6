//! The step summary: the outcome (with the sources compared; a row per Deployment of a set), the
//! stages of a canary or blue-green rollout, the dry-run diff (labelled server-side or
//! client-side), the timeline as a mermaid gantt chart, the pods of the new replica set and the
//! Events of a failed pod.

use gantry_runner::Summary;
use gantry_runner::summary::code;

use gantry_kube::source::Source;

use crate::flow::{Conclusion, DeploymentReport, Report};
use crate::settings::DryRun;
use crate::timeline::Timeline;

/// Writes the summary of one deploy; `place` names the set (`prod/web`, or several) and
/// `recorded` says what became of the GitHub deployment record.
pub fn write(
    summary: &mut Summary,
    place: &str,
    report: &Report,
    timeline: &Timeline,
    recorded: Option<&str>,
) {
    let first = report.first();
    let several = report.deployments.len() > 1;
    let headline = match report.conclusion {
        Conclusion::Deployed => format!("Deployed {} to {place}", code(&report.image)),
        Conclusion::Unchanged => format!("{place} already runs {}", code(&report.image)),
        Conclusion::DryRun => format!("Dry run: {} on {place}", code(&report.image)),
        Conclusion::Superseded => format!(
            "{} not deployed: {} records a newer source",
            code(&report.image),
            if several { "the set" } else { place }
        ),
        Conclusion::RolledBack if several => {
            format!("Rolled back {place} after {} failed", code(&report.image))
        }
        Conclusion::RolledBack => format!(
            "Rolled back {place} to {} after {} failed",
            code(&first.previous_image),
            code(&report.image)
        ),
        Conclusion::Failed => format!("Deploy of {} to {place} failed", code(&report.image)),
        Conclusion::Cancelled => format!("Deploy of {} to {place} cancelled", code(&report.image)),
    };
    summary.heading(2, &format!("k8s-deploy: {headline}"));
    let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    // Rows of the one Deployment; with several, the Deployments table has them.
    let one =
        |name: &'static str, value: String| (name, if several { String::new() } else { value });
    let rows = [
        ("result", report.conclusion.as_str().to_owned()),
        one("container", first.container.clone()),
        one("previous image", code(&first.previous_image)),
        ("image", code(&report.image)),
        ("source", source(report.source.as_ref())),
        one(
            "newer source on the deployment",
            source(first.newer_source.as_ref()),
        ),
        one(
            "image digest",
            first.digest.as_deref().map(code).unwrap_or_default(),
        ),
        (
            "cancelled by",
            report.cancelled_by.unwrap_or_default().to_owned(),
        ),
        one("revision", optional(first.revision)),
        one("rollback revision", optional(first.rollback_revision)),
        ("failure", report.failure.clone().unwrap_or_default()),
        ("GitHub deployment", recorded.unwrap_or_default().to_owned()),
    ];
    summary.table(
        &["", ""],
        rows.iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| vec![(*name).to_owned(), value.clone()]),
    );
    if several {
        deployments(summary, report);
    }
    let of = |deployment: &DeploymentReport| {
        if several {
            format!(" of {}", deployment.target)
        } else {
            String::new()
        }
    };
    if !report.stages.is_empty() {
        summary.heading(3, "Stages");
        summary.table(
            &["stage", "outcome", "measurements"],
            report.stages.iter().map(|stage| {
                vec![
                    stage.name.clone(),
                    stage.outcome.clone(),
                    stage.measurements.join("; "),
                ]
            }),
        );
    }
    if let Some(dry_run) = report.dry_run {
        for deployment in &report.deployments {
            diff(summary, dry_run, deployment, &of(deployment));
        }
    }
    if !timeline.entries().is_empty() {
        summary.heading(3, "Timeline");
        summary.raw(&timeline.mermaid(place));
        summary.raw("\n");
    }
    for deployment in &report.deployments {
        pods(summary, deployment, &of(deployment));
    }
}

/// The table with a row per Deployment of a set.
fn deployments(summary: &mut Summary, report: &Report) {
    let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    summary.heading(3, "Deployments");
    summary.table(
        &[
            "deployment",
            "container",
            "result",
            "previous image",
            "revision",
            "rollback revision",
            "image digest",
            "newer source",
        ],
        report.deployments.iter().map(|deployment| {
            vec![
                deployment.target.to_string(),
                deployment.container.clone(),
                deployment.conclusion.as_str().to_owned(),
                code(&deployment.previous_image),
                optional(deployment.revision),
                optional(deployment.rollback_revision),
                deployment.digest.as_deref().map(code).unwrap_or_default(),
                source(deployment.newer_source.as_ref()),
            ]
        }),
    );
}

/// The dry-run diff of one Deployment (`of` names it when the set has several).
fn diff(summary: &mut Summary, dry_run: DryRun, deployment: &DeploymentReport, of: &str) {
    if !deployment.changes.is_empty() {
        summary.heading(
            3,
            &format!(
                "What the deploy would change{of} ({})",
                dry_run.diff_label()
            ),
        );
        if let Some(caveat) = dry_run.caveat() {
            summary.paragraph(&format!("The {}: {caveat}.", dry_run.diff_label()));
        }
        summary.table(
            &["field", "before", "after"],
            deployment.changes.iter().map(|change| {
                vec![
                    code(&change.field),
                    change.before.as_deref().map(code).unwrap_or_default(),
                    change.after.as_deref().map(code).unwrap_or_default(),
                ]
            }),
        );
    }
}

/// The pods and the failed pod's Events of one Deployment.
fn pods(summary: &mut Summary, deployment: &DeploymentReport, of: &str) {
    if !deployment.pods.is_empty() {
        summary.heading(3, &format!("Pods of the new replica set{of}"));
        summary.table(
            &["pod", "state", "image", "image ID", "restarts"],
            deployment.pods.iter().map(|pod| {
                vec![
                    pod.name.clone(),
                    pod.state.clone(),
                    code(&pod.image),
                    code(&pod.image_id),
                    pod.restarts.to_string(),
                ]
            }),
        );
    }
    if !deployment.events.is_empty() {
        summary.heading(3, &format!("Recent events of the failed pod{of}"));
        for event in &deployment.events {
            summary.raw(&format!(
                "- {}\n",
                gantry_runner::summary::escape_cell(event)
            ));
        }
        summary.raw("\n");
    }
}

/// A source as a cell: the sequence and the revision.
fn source(source: Option<&Source>) -> String {
    source.map_or_else(String::new, |source| {
        if source.revision.is_empty() {
            source.sequence.to_string()
        } else {
            format!("{} ({})", source.sequence, code(&source.revision))
        }
    })
}
