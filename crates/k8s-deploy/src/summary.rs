//! The step summary: the outcome (with the sources compared), the dry-run diff (labelled server-side
//! or client-side), the timeline as a mermaid gantt chart, the
//! pods of the new replica set and the Events of a failed pod.

use gantry_kube::Target;
use gantry_runner::Summary;
use gantry_runner::summary::code;

use gantry_kube::source::Source;

use crate::flow::{Conclusion, Report};
use crate::timeline::Timeline;

/// Writes the summary of one deploy.
pub fn write(summary: &mut Summary, target: &Target, report: &Report, timeline: &Timeline) {
    let headline = match report.conclusion {
        Conclusion::Deployed => format!("Deployed {} to {target}", code(&report.image)),
        Conclusion::Unchanged => format!("{target} already runs {}", code(&report.image)),
        Conclusion::DryRun => format!("Dry run: {} on {target}", code(&report.image)),
        Conclusion::Superseded => format!(
            "{} not deployed: {target} records a newer source",
            code(&report.image)
        ),
        Conclusion::RolledBack => format!(
            "Rolled back {target} to {} after {} failed",
            code(&report.previous_image),
            code(&report.image)
        ),
        Conclusion::Failed => format!("Deploy of {} to {target} failed", code(&report.image)),
        Conclusion::Cancelled => format!("Deploy of {} to {target} cancelled", code(&report.image)),
    };
    summary.heading(2, &format!("k8s-deploy: {headline}"));
    let optional = |value: Option<i64>| value.map(|v| v.to_string()).unwrap_or_default();
    let rows = [
        ("result", report.conclusion.as_str().to_owned()),
        ("container", report.container.clone()),
        ("previous image", code(&report.previous_image)),
        ("image", code(&report.image)),
        ("source", source(report.source.as_ref())),
        (
            "newer source on the deployment",
            source(report.newer_source.as_ref()),
        ),
        (
            "image digest",
            report.digest.as_deref().map(code).unwrap_or_default(),
        ),
        (
            "cancelled by",
            report.cancelled_by.unwrap_or_default().to_owned(),
        ),
        ("revision", optional(report.revision)),
        ("rollback revision", optional(report.rollback_revision)),
        ("failure", report.failure.clone().unwrap_or_default()),
    ];
    summary.table(
        &["", ""],
        rows.iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| vec![(*name).to_owned(), value.clone()]),
    );
    if let Some(dry_run) = report.dry_run
        && !report.changes.is_empty()
    {
        summary.heading(
            3,
            &format!("What the deploy would change ({})", dry_run.diff_label()),
        );
        if let Some(caveat) = dry_run.caveat() {
            summary.paragraph(&format!("The {}: {caveat}.", dry_run.diff_label()));
        }
        summary.table(
            &["field", "before", "after"],
            report.changes.iter().map(|change| {
                vec![
                    code(&change.field),
                    change.before.as_deref().map(code).unwrap_or_default(),
                    change.after.as_deref().map(code).unwrap_or_default(),
                ]
            }),
        );
    }
    if !timeline.entries().is_empty() {
        summary.heading(3, "Timeline");
        summary.raw(&timeline.mermaid(&target.to_string()));
        summary.raw("\n");
    }
    if !report.pods.is_empty() {
        summary.heading(3, "Pods of the new replica set");
        summary.table(
            &["pod", "state", "image", "image ID", "restarts"],
            report.pods.iter().map(|pod| {
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
    if !report.events.is_empty() {
        summary.heading(3, "Recent events of the failed pod");
        for event in &report.events {
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
