//! The step summary: one table row per output, its value and the facts that produced it.

use gantry_runner::Summary;
use gantry_runner::summary::code;

use crate::commit_time::CommitTime;
use crate::git_context::{Build, GitContext};
use crate::report::Report;
use crate::tags;
use crate::version::ProjectVersion;

/// Writes the summary table for `report`.
pub fn write(report: &Report, summary: &mut Summary) {
    let version = &report.manifest.version;
    let git = &report.git;
    let (scheme, pep440_why, semver_why) = scheme_facts(report);
    let (epoch, epoch_why) = match report.commit_time {
        Some(time) => (time.epoch.to_string(), time.source.describe().to_owned()),
        None => (
            String::new(),
            "unknown: no source had the commit time (see the warning)".to_owned(),
        ),
    };
    let created = report
        .commit_time
        .map(CommitTime::rfc3339)
        .unwrap_or_default();
    let is_release = report.is_release();
    let is_prerelease = version.is_prerelease();
    let list = |items: Vec<String>| {
        items
            .iter()
            .map(|item| code(item))
            .collect::<Vec<_>>()
            .join("<br>")
    };
    let rows: Vec<[String; 3]> = vec![
        [
            "version".into(),
            code(&version.normalised()),
            format!("{}, normalised as {scheme}", report.manifest.version_source),
        ],
        ["pep440".into(), code(&report.pep440().unwrap_or_default()), pep440_why.into()],
        ["semver".into(), code(&report.semver.to_string()), semver_why.into()],
        ["tic".into(), code(&report.tic), tic_why(git)],
        ["tags".into(), list(report.tags.clone()), tags_why(report)],
        [
            "labels".into(),
            list(report.labels.iter().map(|(key, value)| format!("{key}={value}")).collect()),
            "the manifest's name, description and licence, the commit, the repository and `created`".into(),
        ],
        [
            "is-release".into(),
            code(&is_release.to_string()),
            if is_release { "a tag push naming the version" } else { "not a tag push" }.into(),
        ],
        [
            "is-prerelease".into(),
            code(&is_prerelease.to_string()),
            if is_prerelease { "the version has a pre-release part" } else { "the version has no pre-release part" }
                .into(),
        ],
        ["source-date-epoch".into(), code(&epoch), epoch_why],
        ["created".into(), code(&created), "`source-date-epoch` in RFC 3339 UTC".into()],
        ["sha".into(), code(&git.sha), git.sha_source.into()],
        ["build".into(), code(git.build.kind()), trigger(git)],
        [
            "manifest".into(),
            code(&report.manifest.path.display().to_string()),
            "the `manifest` input, or the first manifest found in `path`".into(),
        ],
    ];
    summary
        .heading(2, &format!("ticgen: {}", code(&report.tic)))
        .table(&["Output", "Value", "Why"], rows);
}

/// The version's scheme, and why `pep440` and `semver` hold what they hold.
fn scheme_facts(report: &Report) -> (&'static str, &'static str, &'static str) {
    match report.manifest.version {
        ProjectVersion::Pep440(_) => (
            "PEP 440",
            "the manifest version",
            "mapped from PEP 440 by ticgen's documented rules (MAPPING.md)",
        ),
        ProjectVersion::SemVer(_) if report.pep440().is_some() => (
            "SemVer",
            "read from the SemVer version (MAPPING.md)",
            "the manifest version",
        ),
        ProjectVersion::SemVer(_) => (
            "SemVer",
            "none: this SemVer prerelease has no PEP 440 spelling",
            "the manifest version",
        ),
    }
}

fn tic_why(git: &GitContext) -> String {
    let short = git.short_sha();
    match &git.build {
        Build::Tag { tag } => format!(
            "tag {} names the manifest version: a release, so the SemVer form",
            code(tag)
        ),
        Build::PullRequest { number } => {
            format!(
                "pull request #{number} at its head commit {}: `pr.{number}.g{short}` appended",
                code(short)
            )
        }
        Build::Branch {
            name,
            slug,
            default,
        } => format!(
            "{}branch {} (slug {}) at {}: `{slug}.g{short}` appended",
            if *default { "default " } else { "" },
            code(name),
            code(slug),
            code(short)
        ),
    }
}

fn tags_why(report: &Report) -> String {
    if tags::gets_aliases(&report.manifest.version, &report.git.build) {
        let versions = if report.aliases.versions {
            ", `major.minor`, `major`"
        } else {
            " (`major.minor`, `major`: aliases is off)"
        };
        let latest = if report.aliases.latest {
            ", `latest`"
        } else {
            " (`latest` is off)"
        };
        format!("final release: `tic`{versions}{latest}")
    } else if report.is_release() {
        "a pre-release, local or epoch version: only `tic`, no aliases".to_owned()
    } else {
        "not a release build: only `tic`".to_owned()
    }
}

fn trigger(git: &GitContext) -> String {
    let event = git.event.as_deref().unwrap_or("(none)");
    let git_ref = git.git_ref.as_deref().unwrap_or("(none)");
    format!("event {}, ref {}", code(event), code(git_ref))
}
