//! Every `uses:` of a workflow or `action.yml`, found twice: by parsing the YAML (steps and
//! job-level reusable-workflow calls, with the keys the caller passes) and by reading the lines (a
//! parser drops comments, and the pin's `# <tag>` comment is part of what the pin checks read).
//! The two must agree, so a `uses:` the line reading cannot see is an error, not a silent pass.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

/// One `uses:` and what its caller passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// The file, as given to [`uses_in`].
    pub file: PathBuf,
    /// 1-based line of the `uses:` key.
    pub line: usize,
    /// The action or reusable workflow, e.g. `actions/checkout@<sha>`.
    pub value: String,
    /// The text after `#` on the same line, trimmed; `None` without a comment.
    pub comment: Option<String>,
    /// The keys of the sibling `with:` mapping.
    pub with: Vec<String>,
    /// The sibling `secrets:`.
    pub secrets: Secrets,
}

/// What a reusable-workflow call passes as `secrets:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secrets {
    /// These keys (none without a `secrets:`).
    Keys(Vec<String>),
    /// `secrets: inherit`: every secret of the caller.
    Inherit,
}

impl Use {
    /// `file:line` for messages.
    pub fn place(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

/// A `uses:` line: the value (quotes removed) and the comment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UsesLine<'a> {
    /// Everything before the value (indentation, `- `, `uses:` and the spaces after it).
    pub prefix: &'a str,
    pub value: &'a str,
    pub comment: Option<&'a str>,
}

/// Reads a line as `[- ]uses: VALUE [# COMMENT]`; `None` for any other line (comment lines too).
pub(crate) fn uses_line(line: &str) -> Option<UsesLine<'_>> {
    let body = line.trim_start();
    let body = body.strip_prefix("- ").map_or(body, str::trim_start);
    let after_key = body.strip_prefix("uses:")?;
    let rest = after_key.trim_start();
    let prefix = &line[..line.len() - rest.len()];
    let (value, tail) = match rest.chars().next() {
        Some(quote @ ('"' | '\'')) => {
            let close = rest[1..].find(quote)? + 1;
            (&rest[1..close], &rest[close + 1..])
        }
        _ => {
            let end = rest.find(" #").unwrap_or(rest.len());
            (rest[..end].trim_end(), &rest[end..])
        }
    };
    let comment = tail
        .trim_start()
        .strip_prefix('#')
        .map(str::trim)
        .filter(|comment| !comment.is_empty());
    Some(UsesLine {
        prefix,
        value,
        comment,
    })
}

/// Every `uses:` of one YAML document, in document order.
pub fn uses_in(file: &Path, text: &str) -> Result<Vec<Use>, String> {
    let document: Value = serde_yaml::from_str(text)
        .map_err(|error| format!("{}: not YAML: {error}", file.display()))?;
    let mut parsed = Vec::new();
    collect(&document, &mut parsed);
    let lines: Vec<(usize, UsesLine<'_>)> = text
        .lines()
        .enumerate()
        .filter_map(|(index, line)| uses_line(line).map(|found| (index + 1, found)))
        .collect();
    if parsed.len() != lines.len()
        || parsed
            .iter()
            .zip(&lines)
            .any(|((value, _, _), (_, line))| value != line.value)
    {
        return Err(format!(
            "{}: the YAML holds {} `uses:` ({}) but {} `uses:` lines were read ({}); write each `uses:` as a block mapping key on its own line",
            file.display(),
            parsed.len(),
            parsed
                .iter()
                .map(|(value, _, _)| value.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            lines.len(),
            lines
                .iter()
                .map(|(_, line)| line.value)
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    Ok(parsed
        .into_iter()
        .zip(lines)
        .map(|((value, with, secrets), (line, found))| Use {
            file: file.to_path_buf(),
            line,
            value,
            comment: found.comment.map(str::to_owned),
            with,
            secrets,
        })
        .collect())
}

/// Pre-order walk: a mapping's `uses` is met in key order, before later siblings' nested ones.
fn collect(node: &Value, found: &mut Vec<(String, Vec<String>, Secrets)>) {
    match node {
        Value::Mapping(mapping) => {
            for (key, value) in mapping {
                if key.as_str() == Some("uses") {
                    let keys = |name: &str| -> Vec<String> {
                        mapping
                            .get(name)
                            .and_then(Value::as_mapping)
                            .into_iter()
                            .flatten()
                            .filter_map(|(key, _)| key.as_str().map(str::to_owned))
                            .collect()
                    };
                    let secrets =
                        if mapping.get("secrets").and_then(Value::as_str) == Some("inherit") {
                            Secrets::Inherit
                        } else {
                            Secrets::Keys(keys("secrets"))
                        };
                    let value = match value {
                        Value::String(text) => text.clone(),
                        other => serde_yaml::to_string(other)
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                    };
                    found.push((value, keys("with"), secrets));
                } else {
                    collect(value, found);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| collect(item, found)),
        Value::Tagged(tagged) => collect(&tagged.value, found),
        _ => {}
    }
}

/// The files whose `uses:` the pin checks read, under `root`: the workflows, the examples
/// (recursively), every `action.yml`, and the workflows and actions of the tests.
pub fn pinned_files(root: &Path) -> Vec<PathBuf> {
    let yaml = |path: &Path| {
        path.extension()
            .is_some_and(|extension| extension == "yml" || extension == "yaml")
    };
    let action = |path: &Path| {
        path.file_name()
            .is_some_and(|name| name == "action.yml" || name == "action.yaml")
    };
    let mut files = Vec::new();
    files.extend(files_under(&root.join(".github/workflows"), false, &yaml));
    files.extend(files_under(&root.join("examples"), true, &yaml));
    files.extend(files_under(&root.join("actions"), true, &action));
    files.extend(files_under(&root.join("tests/act"), false, &yaml));
    files.extend(files_under(&root.join("tests"), true, &action));
    files.sort();
    files.dedup();
    files
}

/// The files under `dir` (below it too with `deep`) that `keep` accepts.
pub fn files_under(dir: &Path, deep: bool, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if deep {
                found.extend(files_under(&path, true, keep));
            }
        } else if keep(&path) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Every `uses:` of every file [`pinned_files`] lists; files named relative to `root`.
pub fn uses_under(root: &Path) -> Result<Vec<Use>, String> {
    let mut all = Vec::new();
    for path in pinned_files(root) {
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let relative = path.strip_prefix(root).unwrap_or(&path);
        all.extend(uses_in(relative, &text)?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uses_line_keeps_its_comment_and_prefix() {
        let line = uses_line("      - uses: actions/checkout@abc # v4.2.2").unwrap();
        assert_eq!(
            line,
            UsesLine {
                prefix: "      - uses: ",
                value: "actions/checkout@abc",
                comment: Some("v4.2.2")
            }
        );
        let quoted = uses_line("    uses: 'a/b@c' #tag ").unwrap();
        assert_eq!((quoted.value, quoted.comment), ("a/b@c", Some("tag")));
        assert_eq!(uses_line("    uses: a/b@c").unwrap().comment, None);
        assert_eq!(uses_line("#   uses: a/b@c # v1"), None);
        assert_eq!(uses_line("    run: echo uses: x"), None);
    }

    #[test]
    fn steps_and_job_calls_are_found_with_what_they_pass() {
        let text = "jobs:\n  call:\n    uses: o/r/.github/workflows/w.yml@s # t\n    with: {a: 1}\n    secrets: inherit\n  steps:\n    steps:\n      - uses: o/r@s\n        with:\n          b: x\n      - run: echo\n";
        let found = uses_in(Path::new("w.yml"), text).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].line, found[0].comment.as_deref(), &found[0].with),
            (3, Some("t"), &vec!["a".to_owned()])
        );
        assert_eq!(found[0].secrets, Secrets::Inherit);
        assert_eq!((found[1].line, &found[1].with), (8, &vec!["b".to_owned()]));
        assert_eq!(found[1].secrets, Secrets::Keys(Vec::new()));
    }

    #[test]
    fn a_uses_the_lines_do_not_show_is_an_error() {
        let text = "jobs:\n  j:\n    steps:\n      - {uses: o/r@s}\n";
        let error = uses_in(Path::new("w.yml"), text).unwrap_err();
        assert!(error.contains("holds 1 `uses:` (o/r@s) but 0"), "{error}");
    }
}
