//! Bearer-token authentication and a minimal authorisation, so that clients' 401 and 403 paths
//! can be tested: with tokens configured, a request without a known token is 401 Unauthorized
//! (discovery included, as with anonymous access off), and each token may do only what its
//! [`Access`] allows (403 Forbidden, worded as RBAC words it). Without tokens nothing is checked.

use http::HeaderMap;

use crate::error::ApiError;
use crate::faults::Verb;
use crate::resources::Resource;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// get, list and watch everything (pod logs included), as the `view` role.
    Read,
    /// [`Access::Read`], and patch Deployments: what a deploy tool needs.
    PatchDeployments,
    /// Everything.
    Admin,
}

impl Access {
    /// Whether this access covers `verb` on `resource` (`subresource` is its own RBAC resource,
    /// `deployments/scale`, except `pods/log`, which reading covers).
    pub fn allows(self, verb: Verb, resource: Resource, subresource: Option<&str>) -> bool {
        let read = matches!(verb, Verb::Get | Verb::List | Verb::Watch)
            && matches!(subresource, None | Some("log" | "status" | "scale"));
        match self {
            Access::Admin => true,
            Access::Read => read,
            Access::PatchDeployments => {
                read || (verb == Verb::Patch
                    && resource == Resource::Deployments
                    && subresource.is_none())
            }
        }
    }
}

/// A bearer token the server accepts, the user it authenticates as, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub token: String,
    pub user: String,
    pub access: Access,
}

impl TokenGrant {
    pub fn new(token: &str, user: &str, access: Access) -> Self {
        Self {
            token: token.to_owned(),
            user: user.to_owned(),
            access,
        }
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(401, "Unauthorized", "Unauthorized")
}

/// The grant a request authenticates as; `Ok(None)` when no tokens are configured.
pub fn authenticate<'a>(
    grants: &'a [TokenGrant],
    headers: &HeaderMap,
) -> Result<Option<&'a TokenGrant>, ApiError> {
    if grants.is_empty() {
        return Ok(None);
    }
    let token = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(unauthorized)?;
    grants
        .iter()
        .find(|g| g.token == token)
        .map(Some)
        .ok_or_else(unauthorized)
}

/// 403 as the RBAC authoriser words it.
pub fn forbidden(
    user: &str,
    verb: Verb,
    resource: Resource,
    subresource: Option<&str>,
    namespace: Option<&str>,
    name: Option<&str>,
) -> ApiError {
    let plural = resource.plural();
    let group = resource.group();
    let qualified = if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    };
    let rbac_resource = subresource.map_or_else(|| plural.to_owned(), |s| format!("{plural}/{s}"));
    let object = name.map_or_else(|| qualified.clone(), |n| format!("{qualified} \"{n}\""));
    let scope = namespace.map_or_else(
        || "at the cluster scope".to_owned(),
        |ns| format!("in the namespace \"{ns}\""),
    );
    ApiError::new(
        403,
        "Forbidden",
        format!(
            "{object} is forbidden: User \"{user}\" cannot {} resource \"{rbac_resource}\" in API group \"{group}\" {scope}",
            verb.as_str()
        ),
    )
    .with_details(serde_json::json!({"name": name.unwrap_or_default(), "group": group, "kind": plural}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels() {
        let read = Access::Read;
        assert!(read.allows(Verb::Watch, Resource::Deployments, None));
        assert!(read.allows(Verb::Get, Resource::Pods, Some("log")));
        assert!(!read.allows(Verb::Patch, Resource::Deployments, None));
        let deployer = Access::PatchDeployments;
        assert!(deployer.allows(Verb::Patch, Resource::Deployments, None));
        assert!(!deployer.allows(Verb::Patch, Resource::Deployments, Some("scale")));
        assert!(!deployer.allows(Verb::Delete, Resource::Pods, None));
        assert!(Access::Admin.allows(Verb::Delete, Resource::Namespaces, None));
    }

    #[test]
    fn forbidden_reads_like_rbac() {
        let e = forbidden(
            "reader",
            Verb::Patch,
            Resource::Deployments,
            None,
            Some("prod"),
            Some("web"),
        );
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "deployments.apps \"web\" is forbidden: User \"reader\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"prod\""
        );
    }
}
