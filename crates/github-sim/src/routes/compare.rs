//! What changed between commits, as GitHub serves it: `GET compare/{base}...{head}`,
//! `GET pulls/{n}/files` and the `stats` and `files` of `GET commits/{ref}`. Changes are computed
//! file by file from the git objects (exact renames detected, unified-diff `patch` with three lines
//! of context, no patch for binary files).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use http::StatusCode;
use serde_json::{Value, json};

use super::{Ctx, Outcome, Reply, pulls};
use crate::error::ApiError;
use crate::git::{Files, ObjectStore, Sha};
use crate::json;
use crate::paginate::paginate;
use crate::spec::Access;
use crate::world::{Repo, World};

/// Commits a compare lists when no page is asked for (the most recent ones).
const UNPAGED_COMMITS: usize = 250;
/// Files a compare or a commit lists.
const MAX_FILES: usize = 300;
/// Files a pull request lists, over all pages.
const MAX_PULL_FILES: usize = 3000;

/// `GET /repos/{o}/{r}/compare/{base}...{head}`
pub fn compare(world: &mut World, ctx: &Ctx<'_>, repo: &str, basehead: &str) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let (base_rev, head_rev) = basehead.split_once("...").ok_or_else(ApiError::not_found)?;
    let resolve = |rev: &str| {
        r.resolve(&world.objects, rev)
            .ok_or_else(ApiError::not_found)
    };
    let (base, head) = (resolve(base_rev)?, resolve(head_rev)?);
    let merge_base = world.objects.merge_base(&base, &head).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("No common ancestor between {base_rev} and {head_rev}."),
        )
    })?;
    let ahead = only_in(&world.objects, &head, &base);
    let behind_by = only_in(&world.objects, &base, &head).len();
    let status = match (ahead.len(), behind_by) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let api = format!("{}/repos/{}", ctx.base, r.full_name());
    let html = format!("{}/{}", ctx.base, r.full_name());
    let short = |sha: &Sha| sha.hex()[..7].to_owned();
    let paged = ctx.query.contains_key("page") || ctx.query.contains_key("per_page");
    let total = ahead.len();
    let (commits, link) = if paged {
        let page = paginate(ahead, &format!("{api}/compare/{basehead}"), ctx.query);
        (page.items, page.link)
    } else {
        (
            ahead[total.saturating_sub(UNPAGED_COMMITS)..].to_vec(),
            None,
        )
    };
    let first_page = ctx.query.get("page").is_none_or(|page| page == "1");
    let mut body = json!({
        "url": format!("{api}/compare/{basehead}"),
        "html_url": format!("{html}/compare/{basehead}"),
        "permalink_url": format!("{html}/compare/{owner}:{}...{owner}:{}", short(&base), short(&head), owner = r.owner),
        "diff_url": format!("{html}/compare/{basehead}.diff"),
        "patch_url": format!("{html}/compare/{basehead}.patch"),
        "base_commit": json::commit(ctx.base, world, r, &base),
        "merge_base_commit": json::commit(ctx.base, world, r, &merge_base),
        "status": status,
        "ahead_by": total,
        "behind_by": behind_by,
        "total_commits": total,
        "commits": commits.iter().map(|sha| json::commit(ctx.base, world, r, sha)).collect::<Vec<_>>(),
    });
    if first_page {
        let mut files = changes(ctx.base, world, r, &merge_base, &head);
        files.truncate(MAX_FILES);
        body["files"] = Value::Array(files);
    }
    Ok(Reply::Linked(body, link))
}

/// `GET /repos/{o}/{r}/pulls/{n}/files`
pub fn pull_files(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let p = r.pull(number).ok_or_else(ApiError::not_found)?;
    let base = pulls::diff_base(world, p);
    let mut files = changes(ctx.base, world, r, &base, &p.head_sha);
    files.truncate(MAX_PULL_FILES);
    Ok(Reply::Page(files, None))
}

/// Adds `stats` and `files` (against the first parent) to a commit as `GET commits/{ref}` shows it.
pub fn add_changes(commit: &mut Value, base: &str, world: &World, r: &Repo, sha: &Sha) {
    let parent = world
        .objects
        .commit(sha)
        .and_then(|c| c.parents.first().copied());
    let old = parent
        .map(|p| world.objects.commit_files(&p))
        .unwrap_or_default();
    let mut files = entries(base, world, r, &old, &world.objects.commit_files(sha), sha);
    let count = |key: &str| files.iter().filter_map(|f| f[key].as_u64()).sum::<u64>();
    let (additions, deletions) = (count("additions"), count("deletions"));
    files.truncate(MAX_FILES);
    commit["stats"] =
        json!({"total": additions + deletions, "additions": additions, "deletions": deletions});
    commit["files"] = Value::Array(files);
}

/// The file changes from commit `from` to commit `to`.
fn changes(base: &str, world: &World, r: &Repo, from: &Sha, to: &Sha) -> Vec<Value> {
    let old = world.objects.commit_files(from);
    let new = world.objects.commit_files(to);
    entries(base, world, r, &old, &new, to)
}

/// Commits reachable from `tip` but not from `other`, parents before children.
fn only_in(objects: &ObjectStore, tip: &Sha, other: &Sha) -> Vec<Sha> {
    let excluded = reachable(objects, other);
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    // Iterative post-order: a commit is listed after all of its (included) parents.
    let mut stack = vec![(*tip, false)];
    while let Some((sha, expanded)) = stack.pop() {
        if expanded {
            order.push(sha);
            continue;
        }
        if excluded.contains(&sha) || !seen.insert(sha) {
            continue;
        }
        stack.push((sha, true));
        if let Some(commit) = objects.commit(&sha) {
            stack.extend(commit.parents.iter().rev().map(|p| (*p, false)));
        }
    }
    order
}

fn reachable(objects: &ObjectStore, tip: &Sha) -> HashSet<Sha> {
    let mut seen = HashSet::new();
    let mut queue = vec![*tip];
    while let Some(sha) = queue.pop() {
        if seen.insert(sha)
            && let Some(commit) = objects.commit(&sha)
        {
            queue.extend(commit.parents.iter().copied());
        }
    }
    seen
}

/// One diff entry per changed path, in path order; a file removed and added elsewhere with the
/// same content is one `renamed` entry.
fn entries(base: &str, world: &World, r: &Repo, old: &Files, new: &Files, at: &Sha) -> Vec<Value> {
    let removed: BTreeMap<&Sha, &String> = old
        .iter()
        .filter(|(path, _)| !new.contains_key(*path))
        .map(|(path, blob)| (blob, path))
        .collect();
    let mut renamed_from = BTreeSet::new();
    let mut out: Vec<(String, Value)> = Vec::new();
    for (path, blob) in new {
        let before = old.get(path);
        if before == Some(blob) {
            continue;
        }
        let entry = Entry {
            base,
            world,
            r,
            at,
            path,
        };
        let value = match (before, removed.get(blob)) {
            (Some(before), _) => entry.value("modified", Some(before), Some(blob), None),
            (None, Some(from)) if renamed_from.insert((*from).clone()) => {
                entry.value("renamed", None, Some(blob), Some(from))
            }
            (None, _) => entry.value("added", None, Some(blob), None),
        };
        out.push((path.clone(), value));
    }
    for (path, blob) in old {
        if !new.contains_key(path) && !renamed_from.contains(path) {
            let entry = Entry {
                base,
                world,
                r,
                at,
                path,
            };
            out.push((path.clone(), entry.value("removed", Some(blob), None, None)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, value)| value).collect()
}

/// Where one diff entry lives.
struct Entry<'a> {
    base: &'a str,
    world: &'a World,
    r: &'a Repo,
    at: &'a Sha,
    path: &'a str,
}

impl Entry<'_> {
    fn value(
        &self,
        status: &str,
        before: Option<&Sha>,
        after: Option<&Sha>,
        previous: Option<&str>,
    ) -> Value {
        let objects = &self.world.objects;
        let text = |blob: Option<&Sha>| -> Option<String> {
            match blob {
                None => Some(String::new()),
                Some(blob) => String::from_utf8(objects.blob(blob)?.to_vec()).ok(),
            }
        };
        let (additions, deletions, patch) = match (text(before), text(after)) {
            _ if status == "renamed" => (0, 0, None),
            (Some(old), Some(new)) => {
                let (additions, deletions, patch) = unified(&old, &new);
                (additions, deletions, Some(patch))
            }
            _ => (0, 0, None),
        };
        let full = self.r.full_name();
        let at = self.at.hex();
        let path = self.path;
        let mut value = json!({
            "sha": after.or(before).map(Sha::hex),
            "filename": path,
            "status": status,
            "additions": additions,
            "deletions": deletions,
            "changes": additions + deletions,
            "blob_url": format!("{}/{full}/blob/{at}/{path}", self.base),
            "raw_url": format!("{}/{full}/raw/{at}/{path}", self.base),
            "contents_url": format!("{}/repos/{full}/contents/{path}?ref={at}", self.base),
        });
        if let Some(patch) = patch.filter(|patch| !patch.is_empty()) {
            value["patch"] = Value::from(patch);
        }
        if let Some(previous) = previous {
            value["previous_filename"] = Value::from(previous);
        }
        value
    }
}

/// Lines added, lines removed and the hunks (`@@ … @@` headers, no file header) of a text change.
fn unified(old: &str, new: &str) -> (u64, u64, String) {
    let diff = similar::TextDiff::from_lines(old, new);
    let (mut additions, mut deletions) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => additions += 1,
            similar::ChangeTag::Delete => deletions += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let patch = diff
        .unified_diff()
        .context_radius(3)
        .iter_hunks()
        .map(|hunk| hunk.to_string())
        .collect::<String>();
    (
        additions,
        deletions,
        patch.strip_suffix('\n').unwrap_or(&patch).to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn patches_are_hunks_as_git_writes_them() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified(old, new),
            (
                1,
                1,
                "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h".to_owned()
            )
        );
        assert_eq!(
            unified("", "one\ntwo\n"),
            (2, 0, "@@ -0,0 +1,2 @@\n+one\n+two".to_owned())
        );
        assert_eq!(
            unified("x", "y"),
            (
                1,
                1,
                "@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file"
                    .to_owned()
            )
        );
    }
}
