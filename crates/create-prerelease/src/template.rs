//! Name and body templates with `{placeholder}`s, checked when parsed so a typo is an input error.

use gantry_runner::ActionError;

const PLACEHOLDERS: &[&str] = &["tag", "version", "repository", "sha"];

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    text: String,
}

/// The values a template can use.
pub struct Values<'a> {
    pub tag: &'a str,
    pub version: &'a str,
    pub repository: &'a str,
    pub sha: &'a str,
}

impl Template {
    /// Checks that every `{…}` names a known placeholder (`{{` and `}}` are literal braces).
    pub fn parse(input: &str, text: &str) -> Result<Self, ActionError> {
        let mut rest = text.replace("{{", "").replace("}}", "");
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                return Err(ActionError::input(
                    input,
                    "has an unclosed `{`; write {{ for a literal brace",
                ));
            };
            let name = &rest[open + 1..open + close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(ActionError::input(
                    input,
                    format!(
                        "uses unknown placeholder {{{name}}}; known: {{tag}}, {{version}}, {{repository}}, {{sha}}"
                    ),
                ));
            }
            rest = rest[open + close + 1..].to_owned();
        }
        Ok(Self {
            text: text.to_owned(),
        })
    }

    pub fn render(&self, values: &Values<'_>) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut rest = self.text.as_str();
        while let Some(index) = rest.find(['{', '}']) {
            out.push_str(&rest[..index]);
            let tail = &rest[index..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                out.push_str(&tail[..1]);
                rest = &tail[2..];
            } else if let Some(close) = tail.find('}').filter(|_| tail.starts_with('{')) {
                out.push_str(match &tail[1..close] {
                    "tag" => values.tag,
                    "version" => values.version,
                    "repository" => values.repository,
                    _ => values.sha,
                });
                rest = &tail[close + 1..];
            } else {
                out.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values<'static> {
        Values {
            tag: "v1.2.3-rc.1",
            version: "1.2.3-rc.1",
            repository: "o/r",
            sha: "abc",
        }
    }

    #[test]
    fn renders_placeholders_and_literal_braces() {
        let template =
            Template::parse("name", "Release {version} of {repository} ({{sha}}: {sha})").unwrap();
        assert_eq!(
            template.render(&values()),
            "Release 1.2.3-rc.1 of o/r ({sha}: abc)"
        );
    }

    #[test]
    fn rejects_unknown_and_unclosed_placeholders() {
        let unknown = Template::parse("body", "{tga}").unwrap_err().to_string();
        assert!(
            unknown.contains("input `body`: uses unknown placeholder {tga}"),
            "{unknown}"
        );
        let unclosed = Template::parse("name", "v{tag").unwrap_err().to_string();
        assert!(unclosed.contains("unclosed"), "{unclosed}");
    }
}
