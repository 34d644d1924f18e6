//! The rehearsal told afterwards: a timeline in the terminal, and one self-contained HTML file
//! with the timeline as an inline SVG chart, the expectations, and each step's summary rendered
//! from its Markdown (pulldown-cmark, GitHub's table and strikethrough extensions).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::page::{STYLE, escape};
use crate::scenario::Report;
use crate::step::{Step, format_duration};

const BAR_COLUMNS: usize = 44;

/// Where `gantry rehearse` writes the HTML report unless told: under `target/`, which a checkout
/// ignores, so a rehearsal leaves `git status` clean.
pub const DEFAULT_HTML_PATH: &str = "target/gantry-rehearsal.html";

/// Writes the HTML report to `path`, creating its directory.
pub fn write_html(path: &Path, html: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, html)
}

/// The timeline as text: one row per step, a bar where it ran.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "bar positions are a few dozen non-negative columns"
)]
pub fn timeline_text(report: &Report) -> String {
    let total = report.total.as_secs_f64().max(0.001);
    let width = report
        .steps
        .iter()
        .map(|s| s.title.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = format!("timeline ({} in all)\n", format_duration(report.total));
    for step in &report.steps {
        let (from, length) = span(step, total, BAR_COLUMNS as f64);
        let from = (from as usize).min(BAR_COLUMNS - 1);
        let length = (length.ceil() as usize).clamp(1, BAR_COLUMNS - from);
        let fill = if step.succeeded() { "█" } else { "▒" };
        let _ = writeln!(
            text,
            "  {:<width$} │{}{}{}│ {:>7} +{}",
            step.title,
            " ".repeat(from),
            fill.repeat(length),
            " ".repeat(BAR_COLUMNS - from - length),
            format_duration(step.started),
            format_duration(step.duration),
        );
    }
    text
}

/// (start, length) of a step on a scale where the whole rehearsal is `width` long.
fn span(step: &Step, total: f64, width: f64) -> (f64, f64) {
    (
        step.started.as_secs_f64() / total * width,
        step.duration.as_secs_f64() / total * width,
    )
}

/// The HTML report.
pub fn html(report: &Report, title: &str) -> String {
    let mut page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    let held = report.expectations.iter().filter(|e| e.held).count();
    let _ = writeln!(
        page,
        "<p class=\"verdict {}\">{held} of {} expectations held · {} steps · {}</p>",
        if report.all_held() { "ok" } else { "failed" },
        report.expectations.len(),
        report.steps.len(),
        format_duration(report.total)
    );
    page.push_str("<h2>Timeline</h2>\n");
    page.push_str(&timeline_svg(report));
    page.push_str(
        "<h2>Expectations</h2>\n<table><tr><th></th><th>expected</th><th>found</th></tr>\n",
    );
    for e in &report.expectations {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            if e.held { "✓" } else { "✗" },
            escape(&e.what),
            escape(&e.found)
        );
    }
    page.push_str("</table>\n");
    if let Some(dora) = &report.dora {
        let _ = writeln!(page, "<h2>{}</h2>", escape(&dora.scope.title()));
        page.push_str(&crate::dora::render::html_keys(&dora.scope, &dora.keys));
    }
    page.push_str("<h2>Steps</h2>\n");
    for (index, step) in report.steps.iter().enumerate() {
        let _ = writeln!(
            page,
            "<section id=\"step-{index}\"><h3>{} {}</h3><p class=\"meta\">{} · exit {} · started at {} · took {}</p>",
            if step.succeeded() { "✓" } else { "✗" },
            escape(&step.title),
            escape(step.action),
            step.transcript.code,
            format_duration(step.started),
            format_duration(step.duration),
        );
        if step.transcript.summary.trim().is_empty() {
            page.push_str("<p class=\"meta\">(no step summary)</p>\n");
        } else {
            page.push_str("<div class=\"summary\">");
            page.push_str(&markdown(&step.transcript.summary));
            page.push_str("</div>\n");
        }
        page.push_str("</section>\n");
    }
    page.push_str("</body></html>\n");
    page
}

/// GitHub-flavoured step-summary Markdown as HTML.
pub fn markdown(text: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(text, options));
    out
}

#[expect(
    clippy::cast_precision_loss,
    reason = "rows and seconds number a few dozen, far below 2^52"
)]
fn timeline_svg(report: &Report) -> String {
    const LABEL: f64 = 340.0;
    const CHART: f64 = 560.0;
    const ROW: f64 = 22.0;
    let total = report.total.as_secs_f64().max(0.001);
    let height = ROW * report.steps.len() as f64 + 28.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n",
        LABEL + CHART + 70.0
    );
    let ticks = tick_seconds(report.total);
    for second in ticks {
        let x = LABEL + second as f64 / total * CHART;
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#666\">{second} s</text>",
            height - 18.0,
            height - 4.0
        );
    }
    for (row, step) in report.steps.iter().enumerate() {
        let y = row as f64 * ROW;
        let (from, length) = span(step, total, CHART);
        let colour = if step.succeeded() {
            "#2da44e"
        } else {
            "#cf222e"
        };
        let _ = writeln!(
            svg,
            "<a href=\"#step-{row}\"><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"2\" fill=\"{colour}\"><title>{} · {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#444\">{}</text></a>",
            LABEL - 8.0,
            y + 15.0,
            escape(&step.title),
            LABEL + from,
            y + 4.0,
            length.max(2.0),
            ROW - 8.0,
            escape(&step.title),
            escape(&step.outcome()),
            LABEL + from + length.max(2.0) + 4.0,
            y + 15.0,
            format_duration(step.duration)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Whole seconds for the axis, about six of them.
fn tick_seconds(total: Duration) -> Vec<u64> {
    let seconds = total.as_secs().max(1);
    let every = (seconds / 6).max(1);
    (0..=seconds)
        .step_by(usize::try_from(every).unwrap_or(1))
        .collect()
}
