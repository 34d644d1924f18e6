//! The client: one per identity. Reads are available to every identity; each write lives on the
//! identity allowed to make it.

use std::future::Future;
use std::marker::PhantomData;

use reqwest::Method;
use serde_json::Value;

use crate::config::ClientConfig;
use crate::error::{GithubError, RequestLine};
use crate::models::{GeneratedNotes, GitRef, GitTag, Release, ReleaseFields, RepoName, Repository};
use crate::path::{segment, segments};
use crate::token::{Identity, Token, Workflow};
use crate::transport::{Mode, Reply, Stats, Transport};

/// The most pages a list is read to: a runaway `Link` chain must not poll forever.
const MAX_PAGES: usize = 50;

/// How many annotated tags pointing at annotated tags are followed before giving up.
const MAX_TAG_DEPTH: usize = 4;

/// Where a paginated list of `T` stands: the next page's path (from the `Link` header).
pub struct Pages<T> {
    first: String,
    next: Option<String>,
    read: usize,
    items: PhantomData<T>,
}

/// A GitHub client acting as identity `I`.
pub struct Client<I: Identity> {
    transport: Transport,
    role: PhantomData<I>,
}

impl<I: Identity> Client<I> {
    pub fn new(config: ClientConfig, token: &Token<I>) -> Result<Self, GithubError> {
        Ok(Self {
            transport: Transport::new(config, token.secret())?,
            role: PhantomData,
        })
    }

    /// Requests made so far.
    pub fn stats(&self) -> Stats {
        self.transport.stats()
    }

    /// The rate-limit waits this client makes, for the caller to log (each says which limit).
    pub fn rate_limit_log(&self) -> crate::RateLimitLog {
        self.transport.rate_limit_log()
    }

    /// The API base URL in use.
    pub fn api_url(&self) -> &str {
        self.transport.base_url()
    }

    pub(crate) async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        mode: Mode,
    ) -> Result<T, GithubError> {
        let reply = self.transport.send(Method::GET, path, None, mode).await?;
        reply.json(&request_line(&Method::GET, path))
    }

    /// Every item of a paginated list: follows `Link: rel="next"` page by page. `field` names the
    /// array inside a wrapping object (`check_runs`); `None` when the page is the array itself.
    /// `path` must not carry `per_page`: the configured page size is added here.
    pub(crate) async fn get_all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        mode: Mode,
        field: Option<&str>,
    ) -> Result<Vec<T>, GithubError> {
        let mut items = Vec::new();
        self.pages(path, mode, |mut value, request| {
            let list = match field {
                Some(field) => value.get_mut(field).map(Value::take).unwrap_or_default(),
                None => value,
            };
            items.extend(decode::<Vec<T>>(list, request)?);
            Ok(true)
        })
        .await?;
        Ok(items)
    }

    /// Reads a paginated list page by page, following `Link: rel="next"`, and hands each page's
    /// JSON to `on_page`, which says whether to read the next one. `path` must not carry
    /// `per_page`: the configured page size is added here.
    pub(crate) async fn pages(
        &self,
        path: &str,
        mode: Mode,
        mut on_page: impl FnMut(Value, &RequestLine) -> Result<bool, GithubError>,
    ) -> Result<(), GithubError> {
        let mut pages = self.list::<Value>(path);
        while let Some((page, request)) = self.next_json(&mut pages, mode).await? {
            if !on_page(page, &request)? {
                break;
            }
        }
        Ok(())
    }

    /// A paginated list, to be read one page at a time with [`Client::next_page`].
    pub(crate) fn list<T>(&self, path: &str) -> Pages<T> {
        let separator = if path.contains('?') { '&' } else { '?' };
        Pages {
            first: path.to_owned(),
            next: Some(format!(
                "{path}{separator}per_page={}",
                self.transport.page_size()
            )),
            read: 0,
            items: PhantomData,
        }
    }

    /// The next page of a list, `None` after the last one.
    pub async fn next_page<T: serde::de::DeserializeOwned>(
        &self,
        pages: &mut Pages<T>,
    ) -> Result<Option<Vec<T>>, GithubError> {
        match self.next_json(pages, Mode::Read).await? {
            Some((page, request)) => decode(page, &request).map(Some),
            None => Ok(None),
        }
    }

    async fn next_json<T>(
        &self,
        pages: &mut Pages<T>,
        mode: Mode,
    ) -> Result<Option<(Value, RequestLine)>, GithubError> {
        let Some(page) = pages.next.take() else {
            return Ok(None);
        };
        if pages.read == MAX_PAGES {
            return Err(GithubError::Decode {
                request: request_line(&Method::GET, &pages.first),
                message: format!("the list has more than {MAX_PAGES} pages"),
            });
        }
        pages.read += 1;
        let reply = self.transport.send(Method::GET, &page, None, mode).await?;
        let request = request_line(&Method::GET, &page);
        if let Some(next) = &reply.next {
            let path = self
                .transport
                .path_of(next)
                .ok_or_else(|| GithubError::Decode {
                    request: request.clone(),
                    message: format!(
                        "the next-page link {next} leaves the API at {}",
                        self.api_url()
                    ),
                })?;
            pages.next = Some(path.to_owned());
        }
        Ok(Some((reply.json(&request)?, request)))
    }

    /// A GET where 404 means "there is none".
    pub(crate) async fn find<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, GithubError> {
        match self.get(path, Mode::Read).await {
            Ok(value) => Ok(Some(value)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// A create (POST) whose unknown outcome is settled by `reconcile` before any re-send.
    pub(crate) async fn create<T, F, Fut>(
        &self,
        path: &str,
        body: &Value,
        reconcile: F,
    ) -> Result<T, GithubError>
    where
        T: serde::de::DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>, GithubError>>,
    {
        self.transport.create(path, body, reconcile).await
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        mode: Mode,
    ) -> Result<Reply, GithubError> {
        self.transport.send(method, path, body, mode).await
    }

    /// The repository itself (its default branch).
    pub async fn repository(&self, repo: &RepoName) -> Result<Repository, GithubError> {
        self.get(&repo.path(), Mode::Read).await
    }

    /// The release for a tag, if there is one (drafts have no tag yet and are not found).
    pub async fn release_by_tag(
        &self,
        repo: &RepoName,
        tag: &str,
    ) -> Result<Option<Release>, GithubError> {
        self.find(&format!("{}/releases/tags/{}", repo.path(), segment(tag)?))
            .await
    }

    /// The commit a tag points at, following annotated tags; `None` when the tag does not exist.
    /// Errors when the tag points at something other than a commit.
    pub async fn tag_commit(
        &self,
        repo: &RepoName,
        tag: &str,
    ) -> Result<Option<String>, GithubError> {
        let path = format!("{}/git/ref/tags/{}", repo.path(), segments(tag)?);
        let Some(reference) = self.find::<GitRef>(&path).await? else {
            return Ok(None);
        };
        let mut object = reference.object;
        for _ in 0..MAX_TAG_DEPTH {
            match object.kind.as_str() {
                "commit" => return Ok(Some(object.sha)),
                "tag" => {
                    let tag_path = format!("{}/git/tags/{}", repo.path(), object.sha);
                    object = self.get::<GitTag>(&tag_path, Mode::Read).await?.object;
                }
                other => {
                    return Err(GithubError::Decode {
                        request: request_line(&Method::GET, &path),
                        message: format!("tag `{tag}` points at a {other}, not a commit"),
                    });
                }
            }
        }
        Err(GithubError::Decode {
            request: request_line(&Method::GET, &path),
            message: format!("tag `{tag}` is nested more than {MAX_TAG_DEPTH} annotated tags deep"),
        })
    }
}

impl Client<Workflow> {
    /// Creates a release. If the outcome of the create is unknown (a 5xx or a reset), the release
    /// is looked up by tag before anything is re-sent, so a tag never gets two releases.
    pub async fn create_release(
        &self,
        repo: &RepoName,
        fields: &ReleaseFields,
    ) -> Result<Release, GithubError> {
        let tag = fields.tag_name.clone().unwrap_or_default();
        let body = serde_json::to_value(fields).expect("release fields serialise");
        let path = format!("{}/releases", repo.path());
        self.create(&path, &body, || self.release_by_tag(repo, &tag))
            .await
    }

    /// Changes a release (PATCH: repeating it is harmless).
    pub async fn update_release(
        &self,
        repo: &RepoName,
        id: u64,
        fields: &ReleaseFields,
    ) -> Result<Release, GithubError> {
        let body = serde_json::to_value(fields).expect("release fields serialise");
        let path = format!("{}/releases/{id}", repo.path());
        let reply = self
            .send(Method::PATCH, &path, Some(&body), Mode::Idempotent)
            .await?;
        reply.json(&request_line(&Method::PATCH, &path))
    }

    /// Release notes as GitHub would generate them for a tag (a POST without side effects).
    pub async fn generate_notes(
        &self,
        repo: &RepoName,
        tag: &str,
        target: Option<&str>,
    ) -> Result<GeneratedNotes, GithubError> {
        let mut body = serde_json::json!({ "tag_name": tag });
        if let Some(target) = target {
            body["target_commitish"] = Value::from(target);
        }
        let path = format!("{}/releases/generate-notes", repo.path());
        let reply = self
            .send(Method::POST, &path, Some(&body), Mode::Read)
            .await?;
        reply.json(&request_line(&Method::POST, &path))
    }
}

/// A page's JSON (or part of it) as `T`; a mismatch names the request.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    value: Value,
    request: &RequestLine,
) -> Result<T, GithubError> {
    serde_json::from_value(value).map_err(|error| GithubError::Decode {
        request: request.clone(),
        message: error.to_string(),
    })
}

pub(crate) fn request_line(method: &Method, path: &str) -> RequestLine {
    RequestLine {
        method: method.to_string(),
        path: path.to_owned(),
    }
}
