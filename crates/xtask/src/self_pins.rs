//! This repository's own pins (`gantry-actions/gantry/.github/workflows/<name>.yml@<sha>` in the
//! examples, `gantry-actions/gantry/actions/<name>@<sha>` in the reusable workflows): the commit
//! must be in this repository's history and hold the file, the caller may pass only what that
//! file declares and must pass what it requires, and the comment must say what the commit is (its
//! release tag, or that it is a development commit). A pinned reusable workflow's own pins, as
//! they are at that commit, must hold too: a caller runs them, not today's. `cargo xtask pin`
//! moves them all at once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

use crate::third_party::{SELF_REPOSITORY, is_full_sha, repository_of};
use crate::uses::{Secrets, Use, files_under, uses_in, uses_line};

/// The comment of a pin to a commit that is no release.
pub const DEVELOPMENT_COMMENT: &str = "development commit (no release yet)";

/// Read-only git in one repository.
pub struct Git {
    root: PathBuf,
}

impl Git {
    pub fn new(root: &Path) -> Git {
        Git {
            root: root.to_path_buf(),
        }
    }

    /// `git ARGS` in the repository: stdout, or `None` when git fails.
    fn run(&self, args: &[&str]) -> Option<String> {
        let mut command = Command::new("git");
        command.arg("-C").arg(&self.root).args(args);
        // A hook or another git process must not point this one at a different repository.
        for variable in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_COMMON_DIR",
        ] {
            command.env_remove(variable);
        }
        let output = command.output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// The full SHA of a commit-ish.
    pub fn resolve(&self, revision: &str) -> Option<String> {
        self.run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{revision}^{{commit}}"),
        ])
        .map(|sha| sha.trim().to_owned())
    }

    /// A file's text at a commit.
    pub fn show(&self, commit: &str, path: &str) -> Option<String> {
        self.run(&["show", &format!("{commit}:{path}")])
    }

    fn is_shallow(&self) -> bool {
        self.run(&["rev-parse", "--is-shallow-repository"])
            .is_some_and(|answer| answer.trim() == "true")
    }

    fn is_ancestor_of_head(&self, commit: &str) -> bool {
        self.run(&["merge-base", "--is-ancestor", commit, "HEAD"])
            .is_some()
    }

    /// The release a commit belongs to (`actions/RELEASE`), if any.
    pub fn release_of(&self, commit: &str) -> Option<String> {
        self.show(commit, "actions/RELEASE")
            .map(|tag| tag.trim().to_owned())
            .filter(|tag| !tag.is_empty())
    }

    /// The comment a pin to `commit` carries: its release tag, or [`DEVELOPMENT_COMMENT`].
    pub fn pin_comment(&self, commit: &str) -> String {
        self.release_of(commit)
            .unwrap_or_else(|| DEVELOPMENT_COMMENT.to_owned())
    }
}

/// What is wrong with this repository's pins among `uses`, read against `git`; empty when nothing is.
pub fn problems(uses: &[Use], git: &Git) -> Vec<String> {
    uses.iter()
        .filter(|found| repository_of(&found.value) == SELF_REPOSITORY)
        .flat_map(|found| {
            check(found, git)
                .into_iter()
                .map(move |problem| format!("{}: {problem}", found.place()))
        })
        .collect()
}

/// The declarations a pinned file makes: inputs (with whether each must be passed) and secrets.
struct Interface {
    inputs: Vec<(String, bool)>,
    secrets: Option<Vec<(String, bool)>>,
}

fn check(found: &Use, git: &Git) -> Vec<String> {
    let value = &found.value;
    let Some((name, sha)) = value.split_once('@') else {
        return vec![format!("{value} has no @<SHA>")];
    };
    let path = name
        .strip_prefix(SELF_REPOSITORY)
        .and_then(|path| path.strip_prefix('/'))
        .unwrap_or_default();
    if !is_full_sha(sha) {
        return vec![format!(
            "{value} is not pinned by a full 40-character commit SHA (`cargo xtask pin actions|workflows <commit>` writes them)"
        )];
    }
    if git.resolve(sha).as_deref() != Some(sha) {
        return vec![if git.is_shallow() {
            format!(
                "{sha} is not in this clone, which is shallow: fetch the full history (`git fetch --unshallow`, or actions/checkout with fetch-depth: 0) and check again"
            )
        } else {
            format!("{sha} is no commit of this repository")
        }];
    }
    if !git.is_ancestor_of_head(sha) {
        return vec![if git.is_shallow() {
            format!(
                "cannot tell whether {sha} is in HEAD's history in this shallow clone: fetch the full history (`git fetch --unshallow`, or actions/checkout with fetch-depth: 0)"
            )
        } else {
            format!("{sha} is not in HEAD's history (a commit of another branch, or rewritten)")
        }];
    }
    let mut problems = Vec::new();
    let wanted = git.pin_comment(sha);
    if found.comment.as_deref() != Some(wanted.as_str()) {
        problems.push(format!(
            "{value}: the comment must be `# {wanted}`, not {}",
            found
                .comment
                .as_deref()
                .map_or("missing".to_owned(), |comment| format!("`# {comment}`"))
        ));
    }
    let interface = match interface(git, sha, path) {
        Ok(interface) => interface,
        Err(problem) => {
            problems.push(problem);
            return problems;
        }
    };
    let declared: BTreeSet<&str> = interface
        .inputs
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    for key in &found.with {
        if !declared.contains(key.as_str()) {
            problems.push(format!(
                "passes input {key}, which {path} at {sha} does not declare (declared: {})",
                join(&declared)
            ));
        }
    }
    for (input, required) in &interface.inputs {
        if *required && !found.with.contains(input) {
            problems.push(format!(
                "does not pass input {input}, which {path} at {sha} requires"
            ));
        }
    }
    problems.extend(secret_problems(found, &interface, path, sha));
    if path.starts_with(".github/workflows/") {
        problems.extend(nested_problems(git, sha, path));
    }
    problems
}

/// What is wrong with the secrets `found` passes to the file at `path` in `sha`.
fn secret_problems(found: &Use, interface: &Interface, path: &str, sha: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match (&found.secrets, &interface.secrets) {
        (Secrets::Inherit, _) => {}
        (Secrets::Keys(keys), None) => {
            if !keys.is_empty() {
                problems.push(format!(
                    "passes secrets to {path}, an action, which takes none"
                ));
            }
        }
        (Secrets::Keys(keys), Some(secrets)) => {
            let declared: BTreeSet<&str> = secrets.iter().map(|(name, _)| name.as_str()).collect();
            for key in keys {
                if !declared.contains(key.as_str()) {
                    problems.push(format!(
                        "passes secret {key}, which {path} at {sha} does not declare (declared: {})",
                        join(&declared)
                    ));
                }
            }
            for (secret, required) in secrets {
                if *required && !keys.contains(secret) {
                    problems.push(format!(
                        "does not pass secret {secret}, which {path} at {sha} requires"
                    ));
                }
            }
        }
    }
    problems
}

/// The pins inside a pinned reusable workflow, as they are at `sha`: a caller pinned to `sha`
/// runs those, so a stale one there breaks the caller as surely as its own.
fn nested_problems(git: &Git, sha: &str, path: &str) -> Vec<String> {
    let Some(text) = git.show(sha, path) else {
        return Vec::new(); // `interface` said so already
    };
    match uses_in(Path::new(path), &text) {
        Ok(inner) => problems(&inner, git)
            .into_iter()
            .map(|problem| format!("through {path} at {sha}: {problem}"))
            .collect(),
        Err(problem) => vec![format!("{path} at {sha}: {problem}")],
    }
}

fn join(names: &BTreeSet<&str>) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.iter().copied().collect::<Vec<_>>().join(", ")
    }
}

/// The inputs and secrets of the file a pin names: a reusable workflow
/// (`.github/workflows/<name>.yml`, its `on.workflow_call`) or an action directory (its
/// `action.yml`).
fn interface(git: &Git, sha: &str, path: &str) -> Result<Interface, String> {
    if path.starts_with(".github/workflows/") {
        let text = git
            .show(sha, path)
            .ok_or_else(|| format!("{sha} holds no {path} (\"workflow was not found\")"))?;
        let document: Value = serde_yaml::from_str(&text)
            .map_err(|error| format!("{path} at {sha} is not YAML: {error}"))?;
        let on = document.get("on");
        let call = on.and_then(|on| on.get("workflow_call"));
        let called = call.is_some()
            || on.is_some_and(|on| {
                on.as_str() == Some("workflow_call")
                    || on.as_sequence().is_some_and(|events| {
                        events
                            .iter()
                            .any(|event| event.as_str() == Some("workflow_call"))
                    })
            });
        if !called {
            return Err(format!(
                "{path} at {sha} is not a reusable workflow (no on.workflow_call)"
            ));
        }
        Ok(Interface {
            inputs: declarations(call.and_then(|call| call.get("inputs"))),
            secrets: Some(declarations(call.and_then(|call| call.get("secrets")))),
        })
    } else {
        let (file, text) = ["action.yml", "action.yaml"]
            .iter()
            .find_map(|name| {
                let file = format!("{path}/{name}");
                git.show(sha, &file).map(|text| (file, text))
            })
            .ok_or_else(|| format!("{sha} holds no {path}/action.yml"))?;
        let document: Value = serde_yaml::from_str(&text)
            .map_err(|error| format!("{file} at {sha} is not YAML: {error}"))?;
        Ok(Interface {
            inputs: declarations(document.get("inputs")),
            secrets: None,
        })
    }
}

/// The names of a mapping of declarations, each with whether it must be given (`required: true`
/// and no `default`).
fn declarations(node: Option<&Value>) -> Vec<(String, bool)> {
    node.and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(name, declaration)| {
            let required = declaration.get("required").and_then(Value::as_bool) == Some(true)
                && declaration.get("default").is_none_or(Value::is_null);
            name.as_str().map(|name| (name.to_owned(), required))
        })
        .collect()
}

/// Which of this repository's pins `cargo xtask pin` moves. A caller runs a reusable workflow's
/// pins as they are at the commit it pinned, so the two move in two commits, as
/// `release/commit.sh` moves them: first the workflows' action pins to a commit C, then, once that
/// is committed as W, the workflow pins (the examples') to W, whose workflows call C's actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinKind {
    /// `gantry-actions/gantry/actions/<name>@…`, in the reusable workflows.
    Actions,
    /// `gantry-actions/gantry/.github/workflows/<name>.yml@…`, in the examples.
    Workflows,
}

impl PinKind {
    pub fn parse(word: &str) -> Option<PinKind> {
        match word {
            "actions" => Some(PinKind::Actions),
            "workflows" => Some(PinKind::Workflows),
            _ => None,
        }
    }

    fn names(self, path: &str) -> bool {
        match self {
            PinKind::Actions => path.starts_with("actions/"),
            PinKind::Workflows => path.starts_with(".github/workflows/"),
        }
    }
}

/// The files whose pins `cargo xtask pin` moves: the workflows and the examples.
fn rewritten_files(root: &Path) -> Vec<PathBuf> {
    let yaml = |path: &Path| {
        path.extension()
            .is_some_and(|extension| extension == "yml" || extension == "yaml")
    };
    let mut files = files_under(&root.join(".github/workflows"), false, &yaml);
    files.extend(files_under(&root.join("examples"), true, &yaml));
    files
}

/// `text` with every pin of this repository of `kind` moved to `sha` with `comment`; other lines
/// as they were.
pub fn repin(text: &str, kind: PinKind, sha: &str, comment: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (content, ending) = match line.strip_suffix('\n') {
            Some(content) => (content, "\n"),
            None => (line, ""),
        };
        let pinned = uses_line(content).and_then(|found| {
            let (name, _) = found.value.split_once('@')?;
            let path = name.strip_prefix(SELF_REPOSITORY)?.strip_prefix('/')?;
            kind.names(path)
                .then(|| format!("{}{name}@{sha} # {comment}", found.prefix))
        });
        out.push_str(pinned.as_deref().unwrap_or(content));
        out.push_str(ending);
    }
    out
}

/// `cargo xtask pin actions|workflows REVISION`: every pin of this repository of that kind in
/// `.github/workflows/` and `examples/` moved to the commit `revision` names, with its release tag
/// or [`DEVELOPMENT_COMMENT`] as comment. Returns the files it changed.
pub fn pin(root: &Path, kind: PinKind, revision: &str) -> anyhow::Result<Vec<PathBuf>> {
    let git = Git::new(root);
    let sha = git
        .resolve(revision)
        .ok_or_else(|| anyhow::anyhow!("{revision} names no commit of this repository"))?;
    let comment = git.pin_comment(&sha);
    let mut changed = Vec::new();
    for path in rewritten_files(root) {
        let text = std::fs::read_to_string(&path)
            .map_err(|error| anyhow::anyhow!("failed to read {}: {error}", path.display()))?;
        let pinned = repin(&text, kind, &sha, &comment);
        if pinned != text {
            std::fs::write(&path, pinned)
                .map_err(|error| anyhow::anyhow!("failed to write {}: {error}", path.display()))?;
            changed.push(path);
        }
    }
    Ok(changed)
}
