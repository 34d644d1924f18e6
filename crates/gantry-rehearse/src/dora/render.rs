//! The keys as a person or a program reads them: a text table, JSON, and a self-contained HTML
//! page in the rehearsal report's style with the deployments per day (or week) as an inline SVG
//! chart.

use std::fmt::Write as _;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::keys::{Keys, Row};
use super::period::{Period, format_time};
use crate::page::{STYLE, escape};

/// What the keys were computed for.
#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    pub repository: String,
    pub environment: String,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    pub days: f64,
}

impl Scope {
    pub fn new(repository: String, environment: String, period: &Period) -> Scope {
        Scope {
            repository,
            environment,
            since: period.since,
            until: period.until,
            days: period.days(),
        }
    }

    /// `DORA keys of <repository> in <environment>, <since> to <until> (<n> days)`.
    pub fn title(&self) -> String {
        format!(
            "DORA keys of {} in {}, {} to {} ({} days)",
            self.repository,
            self.environment,
            format_time(self.since),
            format_time(self.until),
            number(self.days)
        )
    }
}

/// The four keys, one per line, as the table and the HTML page word them.
#[expect(
    clippy::cast_precision_loss,
    reason = "durations in seconds are far below 2^52"
)]
fn key_lines(keys: &Keys) -> [(&'static str, String); 4] {
    let f = &keys.deployment_frequency;
    let l = &keys.lead_time;
    let c = &keys.change_failure_rate;
    let r = &keys.time_to_restore;
    [
        (
            "deployment frequency",
            format!(
                "{} successful · {:.2} a day · {:.2} a week",
                f.successful, f.per_day, f.per_week
            ),
        ),
        (
            "lead time for changes",
            match (l.median_seconds, l.p90_seconds) {
                (Some(median), Some(p90)) => format!(
                    "median {} · p90 {} ({} commits)",
                    duration(median),
                    duration(p90 as f64),
                    l.commits
                ),
                _ => "no commits delivered".to_owned(),
            },
        ),
        (
            "change failure rate",
            match c.rate {
                Some(rate) => format!(
                    "{:.1}% ({} of {} finished deployments failed{})",
                    rate * 100.0,
                    c.failed,
                    c.finished,
                    pending(c.pending)
                ),
                None => format!("no finished deployments{}", pending(c.pending)),
            },
        ),
        (
            "time to restore",
            match r.median_seconds {
                Some(median) => format!(
                    "median {} ({} of {} failures restored)",
                    duration(median),
                    r.restored,
                    r.failures
                ),
                None if r.failures == 0 => "no failures".to_owned(),
                None => format!("none of {} failures restored", r.failures),
            },
        ),
    ]
}

fn pending(count: usize) -> String {
    if count == 0 {
        String::new()
    } else {
        format!("; {count} pending")
    }
}

/// The text table.
pub fn text(scope: &Scope, keys: &Keys) -> String {
    let mut out = format!("{}\n\n", scope.title());
    for (name, value) in key_lines(keys) {
        let _ = writeln!(out, "  {name:<22} {value}");
    }
    if keys.deployments.is_empty() {
        out.push_str("\n  no deployments in the period\n");
        return out;
    }
    let _ = writeln!(
        out,
        "\n  {:<10} {:<16} {:<8} {:<11} {:<21} {:>7}  restored",
        "deployment", "ref", "sha", "state", "finished", "commits"
    );
    for row in &keys.deployments {
        let _ = write!(
            out,
            "  {:<10} {:<16} {:<8} {:<11} {:<21} {:>7}  {}",
            row.id,
            short_ref(row),
            row.sha.get(..7).unwrap_or(&row.sha),
            state(row),
            row.finished_at.map_or_else(|| "-".to_owned(), format_time),
            row.commits
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            row.restored_at.map_or_else(String::new, format_time),
        );
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

/// The ref as the table shows it: a SHA as its first seven characters, anything longer than the
/// column cut short.
fn short_ref(row: &Row) -> String {
    let is_sha = row.reference.len() == 40 && row.reference.bytes().all(|b| b.is_ascii_hexdigit());
    if is_sha {
        row.reference[..7].to_owned()
    } else if row.reference.chars().count() > 16 {
        row.reference.chars().take(15).chain(['…']).collect()
    } else {
        row.reference.clone()
    }
}

fn state(row: &Row) -> &'static str {
    if row.rolled_back {
        "rolled back"
    } else {
        row.state
    }
}

/// The JSON document: the scope's fields, the four keys, the deployments.
pub fn json(scope: &Scope, keys: &Keys) -> String {
    #[derive(Serialize)]
    struct Document<'a> {
        #[serde(flatten)]
        scope: &'a Scope,
        #[serde(flatten)]
        keys: &'a Keys,
    }
    let text = serde_json::to_string_pretty(&Document { scope, keys })
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"));
    // `##[` can only occur inside a string here; `\u005b` keeps the JSON and breaks the runner's
    // legacy command syntax.
    text.replace("##[", "##\\u005b") + "\n"
}

/// The HTML page.
pub fn html(scope: &Scope, keys: &Keys) -> String {
    let title = scope.title();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style></head><body>\n<h1>{}</h1>\n{}</body></html>\n",
        escape(&title),
        escape(&title),
        html_keys(scope, keys)
    )
}

/// The keys table, the chart and the deployments table, for a page of its own or the
/// rehearsal's report.
pub fn html_keys(scope: &Scope, keys: &Keys) -> String {
    let mut page = "<table class=\"keys\">\n".to_owned();
    for (name, value) in key_lines(keys) {
        let _ = writeln!(
            page,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name),
            escape(&value)
        );
    }
    page.push_str("</table>\n<h2>Deployments</h2>\n");
    page.push_str(&chart(scope, keys));
    page.push_str("<table><tr><th>deployment</th><th>ref</th><th>release</th><th>sha</th><th>state</th><th>finished</th><th>commits</th><th>restored</th></tr>\n");
    for row in &keys.deployments {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            row.id,
            escape(&row.reference),
            escape(row.release.as_deref().unwrap_or("")),
            escape(row.sha.get(..7).unwrap_or(&row.sha)),
            state(row),
            row.finished_at.map_or_else(|| "-".to_owned(), format_time),
            row.commits
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            row.restored_at.map_or_else(String::new, format_time),
        );
    }
    page.push_str("</table>\n");
    page
}

/// One bucket of the chart: a day, or a week for periods longer than 60 days.
struct Bucket {
    start: OffsetDateTime,
    succeeded: usize,
    failed: usize,
}

/// Successful (green) and failed (red) deployments per bucket, stacked, as an inline SVG.
#[expect(
    clippy::cast_precision_loss,
    reason = "bucket counts and indexes are small"
)]
fn chart(scope: &Scope, keys: &Keys) -> String {
    const WIDTH: f64 = 900.0;
    const HEIGHT: f64 = 160.0;
    const AXIS: f64 = 20.0;
    let step = if scope.days > 60.0 {
        Duration::weeks(1)
    } else {
        Duration::days(1)
    };
    let mut buckets = Vec::new();
    let mut start = scope.since;
    while start < scope.until {
        buckets.push(Bucket {
            start,
            succeeded: 0,
            failed: 0,
        });
        start += step;
    }
    for row in &keys.deployments {
        let Some(at) = row.finished_at else { continue };
        let index = usize::try_from((at - scope.since).whole_seconds() / step.whole_seconds());
        if let Some(bucket) = index.ok().and_then(|index| buckets.get_mut(index)) {
            if row.state == "success" && !row.rolled_back {
                bucket.succeeded += 1;
            } else {
                bucket.failed += 1;
            }
        }
    }
    let most = buckets
        .iter()
        .map(|b| b.succeeded + b.failed)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = WIDTH / buckets.len().max(1) as f64;
    let unit = (HEIGHT - AXIS) / most;
    let mut svg = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" font-family=\"sans-serif\" font-size=\"11\">\n"
    );
    let label_every = (buckets.len() / 8).max(1);
    for (index, bucket) in buckets.iter().enumerate() {
        let x = index as f64 * slot;
        let ok = bucket.succeeded as f64 * unit;
        let bad = bucket.failed as f64 * unit;
        let base = HEIGHT - AXIS;
        let day = format_time(bucket.start);
        let day = day.get(..10).unwrap_or(&day);
        let _ = writeln!(
            svg,
            "<g><title>{day}: {} succeeded, {} failed</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{ok:.1}\" fill=\"#2da44e\"/><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bad:.1}\" fill=\"#cf222e\"/></g>",
            bucket.succeeded,
            bucket.failed,
            x + 1.0,
            base - ok,
            (slot - 2.0).max(1.0),
            x + 1.0,
            base - ok - bad,
            (slot - 2.0).max(1.0),
        );
        if index % label_every == 0 {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#666\">{day}</text>",
                x + 1.0,
                HEIGHT - 5.0
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Seconds as days, hours, minutes and seconds, rounded to the second: `1d 2h 0m 5s` drops the
/// zero parts (`1d 2h 5s`), `0s` for nothing.
#[expect(
    clippy::cast_possible_truncation,
    reason = "durations are far below i64::MAX seconds"
)]
pub fn duration(seconds: f64) -> String {
    let total = seconds.round() as i64;
    let parts = [
        (total / 86_400, "d"),
        (total % 86_400 / 3600, "h"),
        (total % 3600 / 60, "m"),
        (total % 60, "s"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n != 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() {
        "0s".to_owned()
    } else {
        text.join(" ")
    }
}

/// A number without a needless fraction (`14`, `2.5`).
fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use time::macros::datetime;

    use super::{Scope, duration, html, json, text};
    use crate::dora::history::{Deployment, History, Status};
    use crate::dora::keys::compute;
    use crate::dora::period::Period;

    #[test]
    fn durations_read_as_days_hours_minutes_seconds() {
        assert_eq!(duration(0.0), "0s");
        assert_eq!(duration(0.4), "0s");
        assert_eq!(duration(59.5), "1m");
        assert_eq!(duration(5400.0), "1h 30m");
        assert_eq!(duration(79_800.0), "22h 10m");
        assert_eq!(duration(86_461.0), "1d 1m 1s");
    }

    /// One deployment whose ref carries the runner's legacy command syntax.
    fn hostile() -> (Scope, crate::dora::keys::Keys) {
        let at = datetime!(2026-11-02 10:00 UTC);
        let history = History {
            deployments: vec![Deployment {
                id: 7,
                sha: "0123456789abcdef".to_owned(),
                reference: "##[error]v1<b>".to_owned(),
                created_at: at,
                statuses: vec![Status {
                    id: 1,
                    state: "success".to_owned(),
                    at,
                }],
            }],
            delivered: HashMap::new(),
            releases: HashMap::new(),
        };
        let period = Period {
            since: datetime!(2026-11-01 00:00 UTC),
            until: datetime!(2026-11-03 00:00 UTC),
        };
        let scope = Scope::new("acme/service".to_owned(), "production".to_owned(), &period);
        let keys = compute(&history, &period);
        (scope, keys)
    }

    #[test]
    fn no_output_form_carries_a_workflow_command_or_markup() {
        let (scope, keys) = hostile();
        let json = json(&scope, &keys);
        assert!(!json.contains("##["), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value["deployments"][0]["ref"], "##[error]v1<b>",
            "still the same JSON"
        );
        assert_eq!(value["days"], 2.0);
        let page = html(&scope, &keys);
        assert!(page.contains("##[error]v1&lt;b&gt;") && !page.contains("<b>"));
        assert!(page.contains("<svg class=\"chart\""));
        assert!(page.contains("<title>2026-11-02: 1 succeeded, 0 failed</title>"));
        let table = crate::progress::plain_text(&text(&scope, &keys));
        assert!(gantry_runner::command::obeyed(&table).is_empty(), "{table}");
    }
}
