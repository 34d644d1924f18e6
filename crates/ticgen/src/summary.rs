//! The step summary: one table row per output, its value and the facts that produced it.

use gantry_runner::Summary;
use gantry_runner::summary::code;

use crate::git_context::Build;
use crate::report::Report;
use crate::tags;
use crate::version::ProjectVersion;

/// Writes the summary table for `report`.
pub fn write(report: &Report, summary: &mut Summary) {
    let version = &report.manifest.version;
    let git = &report.git;
    let (scheme, pep440_why, semver_why) = match version {
        ProjectVersion::Pep440(_) => (
            "PEP 440",
            "the manifest version".to_owned(),
            "mapped from PEP 440 by ticgen's documented rules (MAPPING.md)".to_owned(),
        ),
        ProjectVersion::SemVer(_) => (
            "SemVer",
            if report.pep440().is_some() {
                "read from the SemVer version (MAPPING.md)".to_owned()
            } else {
                "none: this SemVer prerelease has no PEP 440 spelling".to_owned()
            },
            "the manifest version".to_owned(),
        ),
    };
    let short = git.short_sha();
    let tic_why = match &git.build {
        Build::Tag { tag } => format!(
            "tag {} names the manifest version: a release, so the SemVer form",
            code(tag)
        ),
        Build::PullRequest { number } => format!(
            "pull request #{number} at its head commit {}: `pr.{number}.g{short}` appended",
            code(short)
        ),
        Build::Branch {
            name,
            slug,
            default,
        } => {
            format!(
                "{}branch {} (slug {}) at {}: `{slug}.g{short}` appended",
                if *default { "default " } else { "" },
                code(name),
                code(slug),
                code(short)
            )
        }
    };
    let tags_why = if tags::gets_aliases(version, &git.build) {
        let latest = if report.latest {
            ", `latest`"
        } else {
            " (`latest` is off)"
        };
        format!("final release: `tic`, `major.minor`, `major`{latest}")
    } else if report.is_release() {
        "pre-release or non-final version: only `tic`, no aliases".to_owned()
    } else {
        "not a release build: only `tic`".to_owned()
    };
    let (epoch, epoch_why) = match report.commit_time {
        Some(time) => (time.epoch.to_string(), time.source.describe().to_owned()),
        None => (
            String::new(),
            "unknown: no source had the commit time (see the warning)".to_owned(),
        ),
    };
    let trigger = format!(
        "event {}, ref {}",
        code(git.event.as_deref().unwrap_or("(none)")),
        code(git.git_ref.as_deref().unwrap_or("(none)"))
    );
    let created = report
        .commit_time
        .map(crate::commit_time::CommitTime::rfc3339)
        .unwrap_or_default();
    let is_release = report.is_release();
    let is_prerelease = version.is_prerelease();
    let rows: Vec<[String; 3]> = vec![
        [
            "version".into(),
            code(&version.normalised()),
            format!("{}, normalised as {scheme}", report.manifest.version_source),
        ],
        ["pep440".into(), code(&report.pep440().unwrap_or_default()), pep440_why],
        ["semver".into(), code(&report.semver.to_string()), semver_why],
        ["tic".into(), code(&report.tic), tic_why],
        ["tags".into(), report.tags.iter().map(|tag| code(tag)).collect::<Vec<_>>().join("<br>"), tags_why],
        [
            "labels".into(),
            report.labels.iter().map(|(key, value)| code(&format!("{key}={value}"))).collect::<Vec<_>>().join("<br>"),
            "from the manifest's name, description and licence, the commit, the repository and `created`".to_owned(),
        ],
        [
            "is-release".into(),
            code(&is_release.to_string()),
            if is_release { "a tag push matching the version" } else { "not a tag push" }.to_owned(),
        ],
        [
            "is-prerelease".into(),
            code(&is_prerelease.to_string()),
            if is_prerelease { "the version has a pre-release part" } else { "the version has no pre-release part" }.to_owned(),
        ],
        ["source-date-epoch".into(), code(&epoch), epoch_why],
        ["created".into(), code(&created), "`source-date-epoch` in RFC 3339 UTC".to_owned()],
        ["sha".into(), code(&git.sha), git.sha_source.to_owned()],
        ["build".into(), code(git.build.kind()), trigger],
        ["manifest".into(), code(&report.manifest.path.display().to_string()), "the `manifest` input, or the first manifest found in `path`".to_owned()],
    ];
    summary
        .heading(2, &format!("ticgen: {}", code(&report.tic)))
        .table(&["Output", "Value", "Why"], rows);
}
