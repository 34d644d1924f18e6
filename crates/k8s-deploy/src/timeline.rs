//! The deploy's timeline: phases with start and end offsets from the start of the step, and
//! moments (failure detected), rendered as a mermaid gantt chart for the step summary.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One phase or moment; a moment has no length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub label: String,
    pub start: Duration,
    pub end: Duration,
    /// Drawn in red (a failure, a rollback).
    pub critical: bool,
}

/// Phases in the order they started.
#[derive(Debug)]
pub struct Timeline {
    origin: Instant,
    entries: Vec<Entry>,
}

impl Timeline {
    pub fn starting_at(origin: Instant) -> Self {
        Self {
            origin,
            entries: Vec::new(),
        }
    }

    /// Time since the step started.
    pub fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Records a phase that started at `start` (an [`Timeline::elapsed`] value) and ends now.
    pub fn phase(&mut self, label: &str, start: Duration, critical: bool) {
        let end = self.elapsed();
        self.entries.push(Entry {
            label: label.to_owned(),
            start,
            end,
            critical,
        });
    }

    /// Records a moment (now).
    pub fn moment(&mut self, label: &str) {
        let now = self.elapsed();
        self.entries.push(Entry {
            label: label.to_owned(),
            start: now,
            end: now,
            critical: true,
        });
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// A mermaid gantt chart (milliseconds since the start of the step).
    pub fn mermaid(&self, title: &str) -> String {
        let mut chart = format!(
            "```mermaid\ngantt\n    title {}\n    dateFormat x\n    axisFormat %M:%S.%L\n",
            sanitize(title)
        );
        for (index, entry) in self.entries.iter().enumerate() {
            let start = entry.start.as_millis();
            let (tags, end) = if entry.start == entry.end {
                ("milestone, crit, ", start)
            } else if entry.critical {
                ("crit, ", entry.end.as_millis().max(start + 1))
            } else {
                ("", entry.end.as_millis().max(start + 1))
            };
            let _ = writeln!(
                chart,
                "    {} :{tags}e{index}, {start}, {end}",
                sanitize(&entry.label)
            );
        }
        chart.push_str("```\n");
        chart
    }
}

/// Mermaid task names end at `:` and lines end at `#` or a newline.
fn sanitize(text: &str) -> String {
    text.replace([':', '#', ';', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_and_moments_render_as_gantt_tasks() {
        let origin = Instant::now();
        let timeline = Timeline {
            origin,
            entries: vec![
                Entry {
                    label: "patch".into(),
                    start: Duration::from_millis(5),
                    end: Duration::from_millis(20),
                    critical: false,
                },
                Entry {
                    label: "failure: ImagePullBackOff".into(),
                    start: Duration::from_millis(900),
                    end: Duration::from_millis(900),
                    critical: true,
                },
                Entry {
                    label: "rollback".into(),
                    start: Duration::from_millis(900),
                    end: Duration::from_millis(900),
                    critical: true,
                },
            ],
        };
        assert_eq!(
            timeline.mermaid("prod/web"),
            "```mermaid\ngantt\n    title prod/web\n    dateFormat x\n    axisFormat %M:%S.%L\n    patch :e0, 5, 20\n    failure  ImagePullBackOff :milestone, crit, e1, 900, 900\n    rollback :milestone, crit, e2, 900, 900\n```\n"
        );
    }
}
