//! The step summary: the verdict, what happened at each step with links, the checks, and a
//! timeline.

use gantry_runner::Summary;
use gantry_runner::summary::code;

use crate::flow::{Failure, Outcome};
use crate::journal::Stage;
use crate::settings::Settings;

pub fn write(
    summary: &mut Summary,
    settings: &Settings,
    outcome: &Outcome,
    failure: Option<&Failure>,
    timeline: &[(std::time::Duration, Stage, String)],
) {
    let verdict = match (failure, outcome.result) {
        (Some(failure), _) => format!("failed at {}", failure.stage.label()),
        (None, "deployed") => "deployed".to_owned(),
        (None, "unchanged") => "unchanged (already at this version)".to_owned(),
        (None, "pr-open") => "pull request open (skip-merge)".to_owned(),
        (None, "closed") => "not deployed: its pull request was closed without a merge".to_owned(),
        (None, other) => other.to_owned(),
    };
    summary.heading(
        2,
        &format!(
            "auto-deploy {} → {}: {verdict}",
            code(&settings.tag),
            code(&settings.env_file)
        ),
    );
    if let Some(failure) = failure {
        summary.raw(&format!(
            "> [!CAUTION]\n> {}\n\n",
            format!("{:#}", failure.error).replace('\n', " ")
        ));
    }
    let link = |text: &str, url: &str| format!("[{text}]({url})");
    let mut rows = vec![
        vec![
            "release".to_owned(),
            outcome.release_url.as_deref().map_or_else(
                || format!("{} {}", settings.source, settings.tag),
                |url| link(&format!("{} {}", settings.source, settings.tag), url),
            ),
        ],
        vec![
            "landing zone".to_owned(),
            format!(
                "{} `{}` on `{}`",
                settings.landing_zone, settings.env_file, settings.base
            ),
        ],
        vec![
            "version".to_owned(),
            format!(
                "{} → {}",
                outcome.previous.as_deref().unwrap_or("?"),
                outcome.deployed.as_deref().unwrap_or(&settings.version)
            ),
        ],
    ];
    if let Some((number, url)) = &outcome.pr {
        rows.push(vec![
            "pull request".to_owned(),
            link(&format!("#{number}"), url),
        ]);
    }
    if let Some(sha) = &outcome.merge_sha {
        rows.push(vec!["merge commit".to_owned(), code(sha)]);
    }
    let verified = match outcome.verified {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not checked",
    };
    rows.push(vec!["verified".to_owned(), verified.to_owned()]);
    rows.push(vec![
        "branch deleted".to_owned(),
        outcome.branch_deleted.to_string(),
    ]);
    rows.push(vec![
        "release promoted".to_owned(),
        outcome.promoted.to_string(),
    ]);
    summary.table(&["", ""], rows);
    if !outcome.checks.is_empty() {
        summary.heading(3, "Landing-zone checks");
        summary.table(
            &["check", "result"],
            outcome.checks.iter().map(|check| {
                vec![
                    if check.url.is_empty() {
                        check.name.clone()
                    } else {
                        link(&check.name, &check.url)
                    },
                    check.outcome().to_owned(),
                ]
            }),
        );
    }
    summary.heading(3, "Timeline");
    summary.table(
        &["t", "step", "event"],
        timeline.iter().map(|(at, stage, message)| {
            vec![
                format!("{:.1}s", at.as_secs_f64()),
                stage.label().to_owned(),
                message.clone(),
            ]
        }),
    );
}
