//! The landing-zone checks of one commit, check runs and commit statuses together: their
//! states, the verdict (waiting, passed, or which one failed) and the progress line.

use gantry_github::models::{CheckRuns, CombinedStatus};
use gantry_github::{Client, GithubError, RepoName, Workflow};
use serde_json::json;

/// Where a check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Passed,
    Failed,
}

/// One check: a check run or a commit-status context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    pub conclusion: Option<String>,
    pub url: String,
}

impl Check {
    pub fn state(&self) -> State {
        match (self.status.as_str(), self.conclusion.as_deref()) {
            ("completed", Some("success" | "neutral" | "skipped")) => State::Passed,
            ("completed", _) => State::Failed,
            _ => State::Pending,
        }
    }

    fn symbol(&self) -> &'static str {
        match self.state() {
            State::Passed => "✓",
            State::Failed => "✗",
            State::Pending => "…",
        }
    }

    /// `conclusion` or `status`, for people.
    pub fn outcome(&self) -> &str {
        self.conclusion.as_deref().unwrap_or(&self.status)
    }
}

/// The checks of a commit, sorted by name.
pub fn collect(runs: &CheckRuns, statuses: &CombinedStatus) -> Vec<Check> {
    let mut checks: Vec<Check> = runs
        .check_runs
        .iter()
        .map(|run| Check {
            name: run.name.clone(),
            status: run.status.clone(),
            conclusion: run.conclusion.clone(),
            url: run
                .html_url
                .clone()
                .or_else(|| run.details_url.clone())
                .unwrap_or_default(),
        })
        .collect();
    checks.extend(statuses.statuses.iter().map(|status| {
        let (state, conclusion) = match status.state.as_str() {
            "pending" => ("in_progress", None),
            "success" => ("completed", Some("success")),
            _ => ("completed", Some("failure")),
        };
        Check {
            name: status.context.clone(),
            status: state.to_owned(),
            conclusion: conclusion.map(str::to_owned),
            url: status.target_url.clone().unwrap_or_default(),
        }
    }));
    checks.sort_by(|a, b| a.name.cmp(&b.name));
    checks
}

/// The checks of `sha` as they are now (polled: an unchanged answer is a free 304).
pub async fn read(
    client: &Client<Workflow>,
    repo: &RepoName,
    sha: &str,
) -> Result<Vec<Check>, GithubError> {
    let runs = client.check_runs(repo, sha).await?;
    let statuses = client.combined_status(repo, sha).await?;
    Ok(collect(&runs, &statuses))
}

/// What the checks say.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    Waiting,
    Passed,
    Failed(&'a Check),
}

/// Failed as soon as one check failed; passed when at least one check exists, every required
/// one is present and all are done.
pub fn verdict<'a>(checks: &'a [Check], required: &[String]) -> Verdict<'a> {
    if let Some(failed) = checks.iter().find(|c| c.state() == State::Failed) {
        return Verdict::Failed(failed);
    }
    let all_present = required
        .iter()
        .all(|name| checks.iter().any(|c| &c.name == name));
    if !checks.is_empty() && all_present && checks.iter().all(|c| c.state() == State::Passed) {
        Verdict::Passed
    } else {
        Verdict::Waiting
    }
}

/// `3/5 checks done: lint ✓ test … build ✗`
pub fn progress(checks: &[Check], required: &[String]) -> String {
    let done = checks
        .iter()
        .filter(|c| c.state() != State::Pending)
        .count();
    let missing: Vec<&str> = required
        .iter()
        .filter(|name| !checks.iter().any(|c| &&c.name == name))
        .map(String::as_str)
        .collect();
    let total = checks.len() + missing.len();
    let mut parts: Vec<String> = checks
        .iter()
        .map(|c| format!("{} {}", c.name, c.symbol()))
        .collect();
    parts.extend(missing.iter().map(|name| format!("{name} (not started)")));
    if parts.is_empty() {
        return "no checks reported yet".to_owned();
    }
    format!("{done}/{total} checks done: {}", parts.join(" "))
}

/// The `checks` output.
pub fn to_json(checks: &[Check]) -> String {
    let items: Vec<_> = checks
        .iter()
        .map(|c| json!({"name": c.name, "status": c.status, "conclusion": c.conclusion, "url": c.url}))
        .collect();
    serde_json::Value::from(items).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, status: &str, conclusion: Option<&str>) -> Check {
        Check {
            name: name.into(),
            status: status.into(),
            conclusion: conclusion.map(Into::into),
            url: format!("https://ci/{name}"),
        }
    }

    #[test]
    fn progress_and_verdict() {
        let checks = vec![
            check("build", "in_progress", None),
            check("lint", "completed", Some("success")),
            check("test", "completed", Some("skipped")),
        ];
        assert_eq!(
            progress(&checks, &["deploy".into()]),
            "2/4 checks done: build … lint ✓ test ✓ deploy (not started)"
        );
        assert_eq!(verdict(&checks, &[]), Verdict::Waiting);
        let done: Vec<Check> = checks
            .iter()
            .cloned()
            .map(|c| Check {
                status: "completed".into(),
                conclusion: Some("success".into()),
                ..c
            })
            .collect();
        assert_eq!(verdict(&done, &[]), Verdict::Passed);
        assert_eq!(verdict(&done, &["deploy".into()]), Verdict::Waiting);
        assert_eq!(verdict(&[], &[]), Verdict::Waiting);
    }

    #[test]
    fn commit_statuses_count_as_checks() {
        let runs: CheckRuns = serde_json::from_value(json!({
            "total_count": 1,
            "check_runs": [{"id": 1, "name": "lint", "head_sha": "a", "status": "completed",
                "conclusion": "success", "html_url": "https://ci/1", "details_url": null, "external_id": ""}]
        }))
        .unwrap();
        let statuses: CombinedStatus = serde_json::from_value(json!({
            "state": "pending",
            "statuses": [
                {"context": "deploy/preview", "state": "pending", "target_url": "https://preview", "description": null},
                {"context": "security", "state": "error", "target_url": null, "description": "scanner down"}
            ]
        }))
        .unwrap();
        let checks = collect(&runs, &statuses);
        let names: Vec<(&str, State)> = checks
            .iter()
            .map(|c| (c.name.as_str(), c.state()))
            .collect();
        assert_eq!(
            names,
            [
                ("deploy/preview", State::Pending),
                ("lint", State::Passed),
                ("security", State::Failed)
            ]
        );
        assert_eq!(checks[0].url, "https://preview");
    }

    #[test]
    fn one_failure_or_cancellation_decides_at_once() {
        let checks = vec![
            check("a", "in_progress", None),
            check("b", "completed", Some("cancelled")),
        ];
        assert_eq!(verdict(&checks, &[]), Verdict::Failed(&checks[1]));
    }
}
