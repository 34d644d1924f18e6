//! Step 9: polls the service until it reports the deployed version a number of times in a row.
//! Connection errors and 5xx are retried (an untrusted certificate is not: it fails at once);
//! the failure says what the service showed last. The endpoint is the team's own (no GitHub rate
//! limit), so it is polled every half second at first and never less often than every two: the
//! deploy is reported within moments of the rollout.

use std::time::{Duration, Instant};

use anyhow::anyhow;
use gantry_github::ClientConfig;

use crate::journal::{Journal, Stage};
use crate::settings::{Matcher, Verify};

const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(2);
/// How much of a body a message quotes.
const QUOTE_LIMIT: usize = 200;

/// Polls until `version` shows `verify.consecutive` times in a row, or fails at the deadline.
pub async fn verify(
    verify: &Verify,
    network: &ClientConfig,
    version: &str,
    deadline: Instant,
    journal: &mut Journal<'_, '_>,
) -> anyhow::Result<u32> {
    // The runner's proxy and CA bundle, as for GitHub; one probe takes at most 10 s.
    let config = ClientConfig {
        request_timeout: Duration::from_secs(10),
        ..network.clone()
    };
    let client = gantry_github::http::client(&config)
        .map_err(|error| anyhow!("cannot build the HTTP client for verify-url: {error}"))?;
    let deadline = deadline.min(Instant::now() + verify.timeout);
    let (mut streak, mut polls, mut wait) = (0, 0, FIRST_WAIT);
    let mut last_seen = String::new();
    loop {
        polls += 1;
        let seen = match probe(&client, &config, &verify.url, &verify.matcher).await {
            Err(Probe::Refused(message)) => return Err(anyhow!("{}: {message}", verify.url)),
            Err(Probe::Failed(error)) => Err(error),
            Ok(found) => Ok(found),
        };
        let (shows, description) = match &seen {
            Ok(found) => compared(found, version),
            Err(error) => (false, error.clone()),
        };
        if shows {
            streak += 1;
        } else {
            streak = 0;
        }
        if description != last_seen {
            journal.note(Stage::Verify, format!("{} shows {description}", verify.url));
            last_seen = description;
        }
        if streak >= verify.consecutive {
            return Ok(polls);
        }
        wait = if shows { FIRST_WAIT } else { wait };
        if Instant::now() + wait >= deadline {
            return Err(anyhow!(
                "{} did not show version {version} {} times in a row within {}s; it last showed {last_seen}",
                verify.url,
                verify.consecutive,
                verify.timeout.as_secs()
            ));
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 3 / 2).min(LONGEST_WAIT);
    }
}

/// Why a probe saw no version.
enum Probe {
    /// Worth polling again: what the service showed instead.
    Failed(String),
    /// The server's certificate is not trusted; polling again would not change that.
    Refused(String),
}

/// The version the service reports, or what went wrong instead.
async fn probe(
    client: &reqwest::Client,
    config: &ClientConfig,
    url: &str,
    matcher: &Matcher,
) -> Result<String, Probe> {
    let response = client.get(url).send().await.map_err(|error| {
        gantry_github::http::certificate_refused(&error, config).map_or_else(
            || Probe::Failed(format!("a connection error ({})", error.without_url())),
            Probe::Refused,
        )
    })?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|error| Probe::Failed(format!("a broken response ({})", error.without_url())))?;
    if !status.is_success() {
        return Err(Probe::Failed(format!("HTTP {status}: {}", quote(&body))));
    }
    extract(matcher, &body)
        .ok_or_else(|| Probe::Failed(format!("no version in the body: {}", quote(&body))))
}

/// The version in a body, as the matcher finds it.
pub fn extract(matcher: &Matcher, body: &str) -> Option<String> {
    match matcher {
        Matcher::Pointer(pointer) => {
            let value: serde_json::Value = serde_json::from_str(body).ok()?;
            match value.pointer(pointer)? {
                serde_json::Value::String(text) => Some(text.clone()),
                other @ serde_json::Value::Number(_) => Some(other.to_string()),
                _ => None,
            }
        }
        Matcher::Pattern(pattern) => {
            let captures = pattern.captures(body)?;
            captures
                .get(1)
                .or_else(|| captures.get(0))
                .map(|m| m.as_str().to_owned())
        }
    }
}

/// Equal, ignoring a leading `v` on either side.
/// Whether the served `found` names the deployed `version`, compared as versions (PEP 440,
/// SemVer and OCI tag spellings of one version are equal: a Python service reports `2.4.0rc1`
/// for the image `2.4.0-rc.1`), and how it reads in the log: with both forms when they differ.
fn compared(found: &str, version: &str) -> (bool, String) {
    let (same, forms) = gantry_version::same_version(found, version);
    let description = match (forms, gantry_version::read_any(found)) {
        (Some((served, deployed)), Some((key, _))) if served != deployed => format!(
            "version {found:?} ({}, which is {key} in SemVer; compared with {version} ({}) as versions)",
            served.name(),
            deployed.name()
        ),
        _ => format!("version {found:?}"),
    };
    (same, description)
}

fn quote(body: &str) -> String {
    let mut cut = body.len().min(QUOTE_LIMIT);
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    let ellipsis = if cut < body.len() { "…" } else { "" };
    format!("{:?}{ellipsis}", &body[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_and_pattern_find_the_version() {
        let pointer = Matcher::Pointer("/build/version".into());
        assert_eq!(
            extract(&pointer, r#"{"build":{"version":"1.2.3"}}"#).as_deref(),
            Some("1.2.3")
        );
        assert_eq!(extract(&pointer, "not json"), None);
        let pattern = Matcher::Pattern(regex::Regex::new(r"version: (\S+)").unwrap());
        assert_eq!(
            extract(&pattern, "ok\nversion: v2.0.0\n").as_deref(),
            Some("v2.0.0")
        );
    }

    #[test]
    fn served_versions_are_compared_as_versions_and_the_forms_are_named() {
        assert_eq!(
            compared("v2.0.0", "2.0.0"),
            (true, "version \"v2.0.0\"".to_owned())
        );
        assert!(!compared("2.0.01", "2.0.0").0);
        assert_eq!(
            compared("2.4.0rc1", "2.4.0-rc.1"),
            (
                true,
                "version \"2.4.0rc1\" (PEP 440, which is 2.4.0-rc.1 in SemVer; compared with 2.4.0-rc.1 (SemVer) as versions)".to_owned()
            )
        );
        assert_eq!(
            compared("2.4.0rc2", "2.4.0-rc.1"),
            (
                false,
                "version \"2.4.0rc2\" (PEP 440, which is 2.4.0-rc.2 in SemVer; compared with 2.4.0-rc.1 (SemVer) as versions)".to_owned()
            )
        );
    }
}
