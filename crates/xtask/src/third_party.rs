//! Third-party actions are pinned as `owner/repo[/path]@<40-hex SHA> # <tag>`, and the table of
//! upstream tags (`../shared/reference/actions/tags.tsv` beside the checkout) must hold that
//! repository, tag and commit on one line: a SHA from memory, a tag comment that lies, or an
//! action nobody looked up upstream fails the check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::uses::Use;

/// This repository's own name in `uses:`; its pins are checked against git, not the table.
pub const SELF_REPOSITORY: &str = "gantry-actions/gantry";

/// The name the tests publish this repository under in github-sim (`tests/act`); not an action
/// of anyone else.
pub const TEST_STAND_IN: &str = "acme/gantry";

/// Where the table lives: `shared/` is checked out beside the repository.
pub fn table_path(root: &Path) -> PathBuf {
    root.join("../shared/reference/actions/tags.tsv")
}

/// The upstream tags: repository → tag → commit.
#[derive(Debug, Default)]
pub struct TagTable {
    path: PathBuf,
    tags: BTreeMap<String, BTreeMap<String, String>>,
}

impl TagTable {
    /// Reads `repository<TAB>tag<TAB>commit` lines; `#` lines are comments.
    pub fn parse(path: &Path, text: &str) -> Result<TagTable, String> {
        let mut tags: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let [repository, tag, commit] = fields[..] else {
                return Err(format!(
                    "{}:{}: not `repository<TAB>tag<TAB>commit`",
                    path.display(),
                    index + 1
                ));
            };
            tags.entry(repository.to_owned())
                .or_default()
                .insert(tag.to_owned(), commit.to_owned());
        }
        Ok(TagTable {
            path: path.to_path_buf(),
            tags,
        })
    }

    /// Reads the table at `path`.
    pub fn read(path: &Path) -> Result<TagTable, String> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            format!(
                "cannot read the table of upstream action tags {}: {error} (the repository is checked out beside shared/)",
                path.display()
            )
        })?;
        TagTable::parse(path, &text)
    }

    fn extend_hint(&self) -> String {
        format!(
            "the table ({}, read upstream again) must be extended",
            self.path.display()
        )
    }
}

/// Whether a `uses:` is someone else's action: not local (`./`), not this repository, not the
/// tests' stand-in for it.
pub fn is_third_party(found: &Use) -> bool {
    let repository = repository_of(&found.value);
    !(found.value.starts_with("./")
        || repository == SELF_REPOSITORY
        || (repository == TEST_STAND_IN && found.file.starts_with("tests")))
}

/// `owner/repo` of `owner/repo[/path]@ref`.
pub fn repository_of(value: &str) -> &str {
    let name = value.split('@').next().unwrap_or_default();
    let mut slashes = name.match_indices('/');
    match (slashes.next(), slashes.next()) {
        (Some(_), Some((second, _))) => &name[..second],
        _ => name,
    }
}

/// Whether `text` is a full commit SHA.
pub fn is_full_sha(text: &str) -> bool {
    text.len() == 40
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// What is wrong with the third-party pins among `uses`; empty when nothing is.
pub fn problems(uses: &[Use], table: &TagTable) -> Vec<String> {
    uses.iter()
        .filter(|found| is_third_party(found))
        .filter_map(|found| {
            problem(found, table).map(|problem| format!("{}: {problem}", found.place()))
        })
        .collect()
}

fn problem(found: &Use, table: &TagTable) -> Option<String> {
    let value = &found.value;
    if value.starts_with("docker://") {
        return Some(format!(
            "{value}: a docker:// action is not covered by the table of upstream tags; use a repository action pinned by SHA"
        ));
    }
    let Some((name, sha)) = value.split_once('@') else {
        return Some(format!("{value} has no @<SHA>"));
    };
    let repository = repository_of(value);
    if repository == name && !name.contains('/') {
        return Some(format!("{value} is not owner/repo[/path]@<SHA>"));
    }
    if !is_full_sha(sha) {
        return Some(format!(
            "{value} is not pinned by a full 40-character commit SHA"
        ));
    }
    let Some(tags) = table.tags.get(repository) else {
        return Some(format!(
            "{repository} is not in the table of upstream tags: {}",
            table.extend_hint()
        ));
    };
    let Some(tag) = found.comment.as_deref() else {
        return Some(format!(
            "{value} has no `# <tag>` comment naming the release it pins"
        ));
    };
    match tags.get(tag) {
        None => Some(format!(
            "{repository} has no tag {tag} in the table: {}",
            table.extend_hint()
        )),
        Some(commit) if commit == sha => None,
        Some(commit) => {
            let known: Vec<&str> = tags
                .iter()
                .filter(|(_, other)| *other == sha)
                .map(|(name, _)| name.as_str())
                .collect();
            let actual = if known.is_empty() {
                format!("{sha} is no tag of {repository} in the table")
            } else {
                format!("{sha} is {repository} {}", known.join(", "))
            };
            Some(format!(
                "{value} # {tag}: {tag} is {commit} upstream, and {actual}"
            ))
        }
    }
}
