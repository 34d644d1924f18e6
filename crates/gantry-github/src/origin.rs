//! The origin marker: a line `create-prerelease` writes into a release body saying which workflow
//! run made it, so a later step (auto-deploy) can tell a pipeline release from one typed by hand.

use serde::{Deserialize, Serialize};

const PREFIX: &str = "<!-- gantry-origin ";
const SUFFIX: &str = " -->";

/// Who made a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The tool that wrote the marker, `create-prerelease`.
    pub tool: String,
    /// `owner/name` of the repository whose workflow made the release.
    pub repository: String,
    /// The tag's commit.
    pub sha: String,
    /// The workflow run; the same across re-run attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The workflow file or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
}

impl Origin {
    /// The marker line: an HTML comment, invisible on the release page.
    pub fn marker(&self) -> String {
        let json = serde_json::to_string(self).expect("origin serialises");
        format!("{PREFIX}{json}{SUFFIX}")
    }

    /// Finds the marker in a release body; `None` when absent or malformed.
    pub fn find(body: &str) -> Option<Self> {
        body.lines().rev().find_map(|line| {
            let json = line.trim().strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
            serde_json::from_str(json).ok()
        })
    }

    /// The body without any marker line, for comparing what a person reads.
    pub fn strip(body: &str) -> String {
        let kept: Vec<&str> = body
            .lines()
            .filter(|line| !line.trim().starts_with(PREFIX))
            .collect();
        kept.join("\n").trim_end().to_owned()
    }

    /// `body` with this marker as its last line (replacing any earlier marker).
    pub fn append_to(&self, body: &str) -> String {
        let visible = Self::strip(body);
        if visible.is_empty() {
            self.marker()
        } else {
            format!("{visible}\n\n{}", self.marker())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            tool: "create-prerelease".to_owned(),
            repository: "o/r".to_owned(),
            sha: "a".repeat(40),
            run_id: Some("42".to_owned()),
            workflow: None,
        }
    }

    #[test]
    fn the_marker_round_trips_through_a_release_body() {
        let body = origin().append_to("## Notes\n\n* fix");
        assert!(body.starts_with(
            "## Notes\n\n* fix\n\n<!-- gantry-origin {\"tool\":\"create-prerelease\""
        ));
        assert_eq!(Origin::find(&body), Some(origin()));
        assert_eq!(Origin::strip(&body), "## Notes\n\n* fix");
    }

    #[test]
    fn appending_replaces_an_old_marker_and_hand_made_bodies_have_none() {
        let once = origin().append_to("notes");
        let twice = origin().append_to(&once);
        assert_eq!(once, twice);
        assert_eq!(Origin::find("typed by hand"), None);
        assert_eq!(Origin::find("<!-- gantry-origin {not json} -->"), None);
        assert_eq!(origin().append_to(""), origin().marker());
    }
}
