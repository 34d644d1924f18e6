//! The person in the story: opens the service's release pull request, merges it and pushes the
//! tag, through github-sim's REST API with their own token, so every event (and the workflows it
//! would start) comes from the simulator as it would from GitHub.

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

/// A person's REST client.
pub struct Developer<'a> {
    pub api_url: &'a str,
    pub token: &'a str,
    pub runtime: &'a tokio::runtime::Runtime,
}

impl Developer<'_> {
    /// Opens a pull request of `head` into `base`; returns its number.
    pub fn open_pull(
        &self,
        repo: &str,
        head: &str,
        base: &str,
        title: &str,
    ) -> anyhow::Result<u64> {
        let pull = self.send(
            &reqwest::Method::POST,
            &format!("/repos/{repo}/pulls"),
            &json!({ "title": title, "head": head, "base": base }),
        )?;
        pull["number"]
            .as_u64()
            .context("the created pull request has no number")
    }

    /// Squash-merges a pull request; returns the merge commit.
    pub fn merge_pull(&self, repo: &str, number: u64) -> anyhow::Result<String> {
        let merge = self.send(
            &reqwest::Method::PUT,
            &format!("/repos/{repo}/pulls/{number}/merge"),
            &json!({ "merge_method": "squash" }),
        )?;
        merge["sha"]
            .as_str()
            .map(str::to_owned)
            .context("the merge answer has no sha")
    }

    /// Pushes a lightweight tag on `sha`.
    pub fn push_tag(&self, repo: &str, tag: &str, sha: &str) -> anyhow::Result<()> {
        self.send(
            &reqwest::Method::POST,
            &format!("/repos/{repo}/git/refs"),
            &json!({ "ref": format!("refs/tags/{tag}"), "sha": sha }),
        )
        .map(drop)
    }

    fn send(&self, method: &reqwest::Method, path: &str, body: &Value) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.api_url);
        self.runtime.block_on(async {
            let response = reqwest::Client::new()
                .request(method.clone(), &url)
                .header("authorization", format!("token {}", self.token))
                .header("accept", "application/vnd.github+json")
                .header("user-agent", "gantry-rehearse")
                .json(body)
                .send()
                .await
                .with_context(|| format!("failed to send {method} {path}"))?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if !status.is_success() {
                bail!("{method} {path} answered {status}: {text}");
            }
            serde_json::from_str(&text).with_context(|| format!("{method} {path} answered no JSON"))
        })
    }
}
