//! The step summary: what was released, what this run did, and why.

use gantry_github::Stats;
use gantry_runner::Step;
use gantry_runner::summary::code;

use crate::plan::{Action, Outcome};
use crate::settings::Settings;

/// Why a release made with the workflow's own token is a problem downstream.
pub const GITHUB_TOKEN_WARNING: &str = "the release was made with the workflow's own GITHUB_TOKEN (author github-actions[bot]): \
     it triggers no on: release workflows, so a deploy listening for prereleased will not start; pass a GitHub App or bot token as token";

pub fn write(step: &mut Step<'_>, settings: &Settings, outcome: &Outcome, stats: Stats) {
    let release = &outcome.release;
    let verdict = match outcome.action {
        Action::Created => "created",
        Action::Unchanged => "already existed, identical: left unchanged",
        Action::Updated => "existed and differed: updated",
    };
    let kind = if release.prerelease {
        "Prerelease"
    } else {
        "Release"
    };
    let summary = &mut step.summary;
    summary.heading(2, &format!("{kind} {} {verdict}", code(&release.tag_name)));
    let rows = vec![
        vec![
            "release".to_owned(),
            format!(
                "[{}]({})",
                release.name.as_deref().unwrap_or(&release.tag_name),
                release.html_url
            ),
        ],
        vec!["repository".to_owned(), settings.repo.to_string()],
        vec!["prerelease".to_owned(), release.prerelease.to_string()],
        vec!["release id".to_owned(), release.id.to_string()],
        vec![
            "author".to_owned(),
            release
                .author
                .as_ref()
                .map(|a| a.login.clone())
                .unwrap_or_default(),
        ],
        vec!["API requests".to_owned(), stats.requests.to_string()],
    ];
    summary.table(&["", ""], rows);
    if !outcome.differences.is_empty() {
        summary.paragraph(&format!(
            "Differences fixed: {}",
            outcome.differences.join("; ")
        ));
    }
    if release
        .author
        .as_ref()
        .is_some_and(|author| author.login == "github-actions[bot]")
    {
        summary.raw(&format!("> [!WARNING]\n> {GITHUB_TOKEN_WARNING}\n\n"));
    }
}
