//! Pull requests: create (duplicate and empty checks), list with filters, get (with `mergeable`
//! computed lazily), update, merge (merge/squash/rebase, head pinning, protection), reviews.

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use super::{Ctx, Outcome, Reply};
use crate::error::ApiError;
use crate::git::{Files, Sha, three_way};
use crate::json;
use crate::spec::{Access, IdentityKind};
use crate::world::{Pull, PullState, Repo, Review, World};

const DOC_MERGE: &str = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request";
const DOC_REVIEW: &str =
    "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request";
const DOC_CREATE: &str = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";

/// `GET /repos/{o}/{r}/pulls?state=&head=&base=`
pub fn list(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let state = ctx.query.get("state").map_or("open", String::as_str);
    // `head` must be `owner:branch`; GitHub ignores any other value and lists every pull request.
    let head = ctx.query.get("head").and_then(|h| h.split_once(':'));
    let mut pulls: Vec<_> = r
        .pulls
        .iter()
        .filter(|p| match state {
            "all" => true,
            "closed" => p.state == PullState::Closed,
            _ => p.state == PullState::Open,
        })
        .filter(|p| {
            head.is_none_or(|(owner, branch)| {
                owner.eq_ignore_ascii_case(&r.owner) && branch == p.head_ref
            })
        })
        .filter(|p| ctx.query.get("base").is_none_or(|b| *b == p.base_ref))
        .collect();
    if ctx.query.get("direction").map(String::as_str) != Some("asc") {
        pulls.reverse();
    }
    let items = pulls
        .into_iter()
        .map(|p| json::pull(ctx.base, world, r, p, None))
        .collect();
    Ok(Reply::Page(items, None))
}

#[derive(Deserialize)]
struct CreatePull {
    title: Option<String>,
    head: Option<String>,
    base: Option<String>,
    body: Option<String>,
    #[serde(default)]
    draft: bool,
}

/// `POST /repos/{o}/{r}/pulls`
pub fn create(world: &mut World, ctx: &Ctx<'_>, repo: &str) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Write)?;
    let body: CreatePull = ctx.json()?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    if actions_refused(r, ctx) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "GitHub Actions is not permitted to create or approve pull requests.",
        )
        .doc(DOC_CREATE));
    }
    let head_label = body.head.ok_or_else(|| {
        ApiError::validation("PullRequest", "missing_field", "head").doc(DOC_CREATE)
    })?;
    let head_ref = head_label
        .split_once(':')
        .map_or(head_label.as_str(), |(_, b)| b)
        .to_owned();
    let base_ref = body.base.ok_or_else(|| {
        ApiError::validation("PullRequest", "missing_field", "base").doc(DOC_CREATE)
    })?;
    let title = body.title.ok_or_else(|| {
        ApiError::validation("PullRequest", "missing_field", "title").doc(DOC_CREATE)
    })?;
    let base_sha = r
        .branch(&base_ref)
        .ok_or_else(|| ApiError::validation("PullRequest", "invalid", "base").doc(DOC_CREATE))?;
    let head_sha = r
        .branch(&head_ref)
        .ok_or_else(|| ApiError::validation("PullRequest", "invalid", "head").doc(DOC_CREATE))?;
    if r.pulls
        .iter()
        .any(|p| p.state == PullState::Open && p.head_ref == head_ref && p.base_ref == base_ref)
    {
        let msg = format!("A pull request already exists for {}:{head_ref}.", r.owner);
        return Err(ApiError::validation_message("PullRequest", &msg).doc(DOC_CREATE));
    }
    if world.objects.is_ancestor(&head_sha, &base_sha) {
        let msg = format!("No commits between {base_ref} and {head_ref}");
        return Err(ApiError::validation_message("PullRequest", &msg).doc(DOC_CREATE));
    }
    let number = r.pulls.len() as u64 + 1;
    let id = world.next_id();
    let now = world.clock.now_secs();
    let pull = Pull {
        id,
        number,
        title,
        body: body.body,
        user: ctx.who.id,
        head_ref: head_ref.clone(),
        head_sha,
        base_ref: base_ref.clone(),
        base_sha,
        state: PullState::Open,
        draft: body.draft,
        merged: false,
        merged_at: None,
        merged_by: None,
        merge_commit_sha: None,
        created_at: now,
        updated_at: now,
        closed_at: None,
        mergeable_pending: true,
        reviews: Vec::new(),
    };
    if let Some(r) = world.repos.get_mut(repo) {
        r.pulls.push(pull);
    }
    world.record_event(
        "pull_request",
        Some("opened"),
        repo,
        ctx.who.id,
        json!({"number": number, "head_sha": head_sha.hex()}),
    );
    world.run_ci(repo, &base_ref, &head_ref, head_sha);
    get_inner(world, ctx, repo, number, StatusCode::CREATED)
}

/// A workflow's `GITHUB_TOKEN` may only open or approve pull requests where the repository
/// allows it (Settings → Actions → "Allow GitHub Actions to create and approve pull requests").
fn actions_refused(r: &Repo, ctx: &Ctx<'_>) -> bool {
    ctx.who.kind == IdentityKind::GithubToken && !r.actions.can_approve_pull_request_reviews
}

/// `GET /repos/{o}/{r}/pulls/{n}`
pub fn get(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Read)?;
    get_inner(world, ctx, repo, number, StatusCode::OK)
}

fn get_inner(
    world: &mut World,
    ctx: &Ctx<'_>,
    repo: &str,
    number: u64,
    status: StatusCode,
) -> Outcome {
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let p = r.pull(number).ok_or_else(ApiError::not_found)?;
    let (mergeable, state) = if p.state == PullState::Closed || p.mergeable_pending {
        (None, "unknown".to_owned())
    } else {
        let m = world.mergeability(r, p);
        (Some(!m.conflict), m.state().to_owned())
    };
    let detail = json::PullDetail { mergeable, state };
    let v = json::pull(ctx.base, world, r, p, Some(&detail));
    if status == StatusCode::OK
        && let Some(p) = world
            .repos
            .get_mut(repo)
            .and_then(|r| r.pulls.iter_mut().find(|p| p.number == number))
        && p.mergeable_pending
    {
        p.mergeable_pending = false;
        world.touch();
    }
    Ok(Reply::Json(status, v))
}

#[derive(Deserialize)]
struct UpdatePull {
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
    base: Option<String>,
}

/// `PATCH /repos/{o}/{r}/pulls/{n}`
pub fn update(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Write)?;
    let body: UpdatePull = ctx.json()?;
    let now = world.clock.now_secs();
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    if let Some(b) = &body.base
        && r.branch(b).is_none()
    {
        return Err(ApiError::validation("PullRequest", "invalid", "base"));
    }
    let base_sha = body.base.as_ref().and_then(|b| r.branch(b));
    let Some(p) = world
        .repos
        .get_mut(repo)
        .and_then(|r| r.pulls.iter_mut().find(|p| p.number == number))
    else {
        return Err(ApiError::not_found());
    };
    if let Some(t) = body.title {
        p.title = t;
    }
    if body.body.is_some() {
        p.body = body.body;
    }
    if let (Some(b), Some(sha)) = (body.base, base_sha) {
        p.base_ref = b;
        p.base_sha = sha;
        p.mergeable_pending = true;
    }
    p.updated_at = now;
    let mut action = None;
    match body.state.as_deref() {
        Some("closed") if p.state == PullState::Open && !p.merged => {
            p.state = PullState::Closed;
            p.closed_at = Some(now);
            action = Some("closed");
        }
        Some("open") if p.state == PullState::Closed && !p.merged => {
            p.state = PullState::Open;
            p.closed_at = None;
            p.mergeable_pending = true;
            action = Some("reopened");
        }
        Some("open" | "closed") | None => {}
        Some(_) => return Err(ApiError::validation("PullRequest", "invalid", "state")),
    }
    let (base_ref, head_ref, head_sha) = (p.base_ref.clone(), p.head_ref.clone(), p.head_sha);
    if let Some(action) = action {
        world.record_event(
            "pull_request",
            Some(action),
            repo,
            ctx.who.id,
            json!({"number": number}),
        );
        if action == "reopened" {
            world.run_ci(repo, &base_ref, &head_ref, head_sha);
        }
    }
    get_inner(world, ctx, repo, number, StatusCode::OK)
}

/// `GET /repos/{o}/{r}/pulls/{n}/merge`: 204 when merged, 404 otherwise.
pub fn is_merged(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    match r.pull(number) {
        Some(p) if p.merged => Ok(Reply::NoContent),
        _ => Err(ApiError::not_found()),
    }
}

#[derive(Deserialize)]
struct MergeBody {
    commit_title: Option<String>,
    commit_message: Option<String>,
    sha: Option<String>,
    merge_method: Option<String>,
}

fn not_mergeable() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Pull Request is not mergeable",
    )
    .doc(DOC_MERGE)
}

/// Why GitHub would refuse to merge this pull request now, if it would.
fn refuse_merge(world: &World, r: &Repo, p: &Pull, sha: Option<&str>) -> Result<(), ApiError> {
    if p.state != PullState::Open {
        return Err(not_mergeable());
    }
    if p.draft {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Pull Request is still a draft",
        )
        .doc(DOC_MERGE));
    }
    if let Some(sha) = sha
        && sha.parse::<Sha>().ok() != Some(p.head_sha)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "Head branch was modified. Review and try the merge again.",
        )
        .doc(DOC_MERGE));
    }
    // A base that requires a merge queue takes pull requests only through the queue; GitHub
    // refuses the REST merge with this message (reported by users of pascalgn/automerge-action,
    // issue #235, "Failed to merge PR: Changes must be made through the merge queue").
    if r.protection
        .get(&p.base_ref)
        .is_some_and(|pr| pr.merge_queue.is_some())
    {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Changes must be made through the merge queue",
        )
        .doc(DOC_MERGE));
    }
    let m = world.mergeability(r, p);
    if m.conflict {
        return Err(not_mergeable());
    }
    if m.behind {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Head branch is not up to date with the base branch",
        )
        .doc(DOC_MERGE));
    }
    if let Some(reason) = m.blocked.first() {
        return Err(ApiError::new(StatusCode::METHOD_NOT_ALLOWED, reason.clone()).doc(DOC_MERGE));
    }
    Ok(())
}

/// `PUT /repos/{o}/{r}/pulls/{n}/merge`
pub fn merge(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: MergeBody = ctx.json()?;
    let method = body.merge_method.as_deref().unwrap_or("merge");
    if !matches!(method, "merge" | "squash" | "rebase") {
        return Err(ApiError::validation("PullRequest", "invalid", "merge_method").doc(DOC_MERGE));
    }
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let p = r.pull(number).ok_or_else(ApiError::not_found)?;
    refuse_merge(world, r, p, body.sha.as_deref())?;
    let base_head = r.branch(&p.base_ref).unwrap_or(p.base_sha);
    let head = p.head_sha;
    let merge_base = world.objects.merge_base(&base_head, &head);
    let merged = world
        .objects
        .merge_files(merge_base.as_ref(), &base_head, &head)
        .ok_or_else(not_mergeable)?;
    let title = body.commit_title.unwrap_or_else(|| match method {
        "squash" => format!("{} (#{number})", p.title),
        _ => format!(
            "Merge pull request #{number} from {}/{}",
            r.owner, p.head_ref
        ),
    });
    let message = match (method, body.commit_message) {
        (_, Some(m)) => format!("{title}\n\n{m}"),
        ("merge", None) => format!("{title}\n\n{}", p.title),
        (_, None) => title,
    };
    let base_ref = p.base_ref.clone();
    let sig = world.signature_of(Some(ctx.who.id));
    let new_head = match method {
        "merge" => world.commit_tree(&merged, vec![base_head, head], &message, &sig),
        "squash" => world.commit_tree(&merged, vec![base_head], &message, &sig),
        _ => rebase(world, merge_base, base_head, head, &sig)?,
    };
    world.set_ref(
        repo,
        &format!("refs/heads/{base_ref}"),
        Some(new_head),
        ctx.who.id,
    );
    let now = world.clock.now_secs();
    if let Some(p) = world
        .repos
        .get_mut(repo)
        .and_then(|r| r.pulls.iter_mut().find(|p| p.number == number))
    {
        p.state = PullState::Closed;
        p.merged = true;
        p.merged_at = Some(now);
        p.closed_at = Some(now);
        p.updated_at = now;
        p.merged_by = Some(ctx.who.id);
        p.merge_commit_sha = Some(new_head);
    }
    world.record_event(
        "pull_request",
        Some("closed"),
        repo,
        ctx.who.id,
        json!({"number": number, "merged": true, "merge_commit_sha": new_head.hex()}),
    );
    Ok(Reply::Json(
        StatusCode::OK,
        json!({"sha": new_head.hex(), "merged": true, "message": "Pull Request successfully merged"}),
    ))
}

/// Replays each commit of the pull request onto the base, one new commit per original.
pub(crate) fn rebase(
    world: &mut World,
    merge_base: Option<Sha>,
    base_head: Sha,
    head: Sha,
    sig: &crate::git::Signature,
) -> Result<Sha, ApiError> {
    let stop = merge_base.unwrap_or(base_head);
    let mut current = base_head;
    for sha in world.objects.commits_between(&stop, &head) {
        let Some(c) = world.objects.commit(&sha).cloned() else {
            continue;
        };
        let parent_files: Files = c
            .parents
            .first()
            .map(|p| world.objects.commit_files(p))
            .unwrap_or_default();
        let these = world.objects.files(&c.tree);
        let onto = world.objects.commit_files(&current);
        let files = three_way(&parent_files, &onto, &these).ok_or_else(|| {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "This branch can't be rebased",
            )
            .doc(DOC_MERGE)
        })?;
        let author = c.author.clone();
        let tree = world.objects.write_tree(&files);
        current = world.objects.put_commit(crate::git::Commit {
            tree,
            parents: vec![current],
            author,
            committer: sig.clone(),
            message: c.message.clone(),
        });
    }
    Ok(current)
}

/// Where a pull request's commits and files are counted from: the merge base of its base and head
/// (the base itself when they share no history).
pub(super) fn diff_base(world: &World, p: &Pull) -> Sha {
    world
        .objects
        .merge_base(&p.base_sha, &p.head_sha)
        .unwrap_or(p.base_sha)
}

/// `GET /repos/{o}/{r}/pulls/{n}/commits`
pub fn commits(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let p = r.pull(number).ok_or_else(ApiError::not_found)?;
    let base = diff_base(world, p);
    let items = world
        .objects
        .commits_between(&base, &p.head_sha)
        .iter()
        .map(|c| json::commit(ctx.base, world, r, c))
        .collect();
    Ok(Reply::Page(items, None))
}

/// `GET /repos/{o}/{r}/pulls/{n}/reviews`
pub fn list_reviews(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Read)?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let p = r.pull(number).ok_or_else(ApiError::not_found)?;
    let items = p
        .reviews
        .iter()
        .map(|rv| json::review(ctx.base, world, r, p, rv))
        .collect();
    Ok(Reply::Page(items, None))
}

#[derive(Deserialize)]
struct CreateReview {
    event: Option<String>,
    body: Option<String>,
    commit_id: Option<String>,
}

/// `POST /repos/{o}/{r}/pulls/{n}/reviews`
pub fn create_review(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.pull_requests, Access::Write)?;
    let body: CreateReview = ctx.json()?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let p = r.pull(number).ok_or_else(ApiError::not_found)?;
    let own = |what: &str| ApiError {
        errors: Some(json!([what])),
        ..ApiError::unprocessable("Unprocessable Entity").doc(DOC_REVIEW)
    };
    let state = match body.event.as_deref() {
        Some("APPROVE") if p.user == ctx.who.id => {
            return Err(own("Can not approve your own pull request"));
        }
        Some("REQUEST_CHANGES") if p.user == ctx.who.id => {
            return Err(own("Can not request changes on your own pull request"));
        }
        Some("APPROVE") if actions_refused(r, ctx) => {
            return Err(ApiError::unprocessable(
                "GitHub Actions is not permitted to approve pull requests.",
            )
            .doc(DOC_REVIEW));
        }
        Some("APPROVE") => "APPROVED",
        Some("REQUEST_CHANGES") => "CHANGES_REQUESTED",
        Some("COMMENT") => "COMMENTED",
        None if p
            .reviews
            .iter()
            .any(|rv| rv.user == ctx.who.id && rv.state == "PENDING") =>
        {
            return Err(own(
                "User can only have one pending review per pull request",
            ));
        }
        None => "PENDING",
        Some(_) => {
            return Err(
                ApiError::validation("PullRequestReview", "invalid", "event").doc(DOC_REVIEW),
            );
        }
    };
    if p.state != PullState::Open {
        return Err(own("Can not review a closed pull request"));
    }
    let commit_id = match body.commit_id {
        Some(c) => c
            .parse::<Sha>()
            .map_err(|_| ApiError::validation("PullRequestReview", "invalid", "commit_id"))?,
        None => p.head_sha,
    };
    let id = world.next_id();
    let now = world.clock.now_secs();
    let review = Review {
        id,
        user: ctx.who.id,
        state: state.to_owned(),
        body: body.body.unwrap_or_default(),
        commit_id,
        submitted_at: now,
    };
    let Some(p) = world
        .repos
        .get_mut(repo)
        .and_then(|r| r.pulls.iter_mut().find(|p| p.number == number))
    else {
        return Err(ApiError::not_found());
    };
    p.reviews.push(review);
    p.mergeable_pending = true;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let p = r.pull(number).ok_or_else(ApiError::not_found)?;
    let rv = p.reviews.last().ok_or_else(ApiError::not_found)?;
    Ok(Reply::Json(
        StatusCode::OK,
        json::review(ctx.base, world, r, p, rv),
    ))
}

#[derive(Deserialize)]
struct UpdateBranch {
    expected_head_sha: Option<String>,
}

/// `PUT /repos/{o}/{r}/pulls/{n}/update-branch`: merges the base into the head branch.
pub fn update_branch(world: &mut World, ctx: &Ctx<'_>, repo: &str, number: u64) -> Outcome {
    ctx.need(world, repo, |p| p.contents, Access::Write)?;
    let body: UpdateBranch = ctx.json()?;
    let r = world.repos.get(repo).ok_or_else(ApiError::not_found)?;
    let p = r.pull(number).ok_or_else(ApiError::not_found)?;
    if let Some(e) = &body.expected_head_sha
        && e.parse::<Sha>().ok() != Some(p.head_sha)
    {
        return Err(ApiError::unprocessable(
            "expected_head_sha does not match the pull request's HEAD",
        ));
    }
    let base_head = r.branch(&p.base_ref).unwrap_or(p.base_sha);
    let url = format!("{}/{repo}/pull/{number}", ctx.base);
    if world.objects.is_ancestor(&base_head, &p.head_sha) {
        return Ok(Reply::Json(
            StatusCode::ACCEPTED,
            json!({"message": "Updating pull request branch.", "url": url}),
        ));
    }
    let mb = world.objects.merge_base(&base_head, &p.head_sha);
    let merged = world
        .objects
        .merge_files(mb.as_ref(), &p.head_sha, &base_head)
        .ok_or_else(|| ApiError::unprocessable("merge conflict between base and head"))?;
    let message = format!("Merge branch '{}' into {}", p.base_ref, p.head_ref);
    let (head_ref, head) = (p.head_ref.clone(), p.head_sha);
    let sig = world.signature_of(Some(ctx.who.id));
    let commit = world.commit_tree(&merged, vec![head, base_head], &message, &sig);
    world.set_ref(
        repo,
        &format!("refs/heads/{head_ref}"),
        Some(commit),
        ctx.who.id,
    );
    Ok(Reply::Json(
        StatusCode::ACCEPTED,
        json!({"message": "Updating pull request branch.", "url": url}),
    ))
}
