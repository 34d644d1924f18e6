//! Everything one run decided, turned into the step outputs, the `json` output and the log lines.

use gantry_runner::{Console, Outputs};
use semver::Version as SemVer;
use serde_json::{Value, json};

use crate::commit_time::CommitTime;
use crate::git_context::{Build, GitContext};
use crate::manifest::Manifest;

/// The facts and results of one run.
pub struct Report {
    pub manifest: Manifest,
    pub git: GitContext,
    pub semver: SemVer,
    pub tic: String,
    pub tags: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub commit_time: Option<CommitTime>,
    /// The `aliases` and `latest` inputs, for the summary's explanation of `tags`.
    pub aliases: crate::tags::Aliases,
}

impl Report {
    pub fn pep440(&self) -> Option<String> {
        self.manifest
            .version
            .pep440()
            .map(|version| version.to_string())
    }

    pub fn is_release(&self) -> bool {
        matches!(self.git.build, Build::Tag { .. })
    }

    /// All outputs but `json`, typed, in declaration order.
    fn values(&self) -> Vec<(&'static str, Value)> {
        let labels: serde_json::Map<String, Value> = self
            .labels
            .iter()
            .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
            .collect();
        vec![
            ("version", json!(self.manifest.version.normalised())),
            ("pep440", json!(self.pep440())),
            ("semver", json!(self.semver.to_string())),
            ("tic", json!(self.tic)),
            ("tags", json!(self.tags)),
            ("labels", Value::Object(labels)),
            ("is-release", json!(self.is_release())),
            (
                "is-prerelease",
                json!(self.manifest.version.is_prerelease()),
            ),
            (
                "source-date-epoch",
                json!(self.commit_time.map(|time| time.epoch)),
            ),
            ("created", json!(self.commit_time.map(CommitTime::rfc3339))),
            ("sha", json!(self.git.sha)),
            ("build", json!(self.git.build.kind())),
            ("manifest", json!(self.manifest.path.display().to_string())),
        ]
    }

    /// The step outputs: arrays as lines, objects as `key=value` lines, `null` as empty, and
    /// `json` last.
    pub fn outputs(&self) -> Outputs {
        let values = self.values();
        let mut outputs = Outputs::new();
        for (name, value) in &values {
            outputs.set(name, text(value));
        }
        let object: serde_json::Map<String, Value> = values
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        outputs.set("json", Value::Object(object).to_string());
        outputs
    }

    /// A short log of the decisions, in a group.
    pub fn log(&self, console: &mut Console<'_>) {
        console.group("ticgen");
        console.info(&format!(
            "version {} from {}",
            self.manifest.version.normalised(),
            self.manifest.version_source
        ));
        let build = match &self.git.build {
            Build::Tag { tag } => format!("tag {tag}"),
            Build::PullRequest { number } => format!("pull request #{number}"),
            Build::Branch { name, .. } => format!("branch {name}"),
        };
        console.info(&format!(
            "build: {build} at {} (from {})",
            self.git.sha, self.git.sha_source
        ));
        console.info(&format!("tic: {}", self.tic));
        console.end_group();
    }
}

/// An output value as the text a workflow reads.
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| format!("{key}={}", text(value)))
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}
