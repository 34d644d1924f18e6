//! Bearer-token authentication and a minimal authorisation, so that clients' 401 and 403 paths
//! can be tested: with tokens configured, a request without a known token is 401 Unauthorized
//! (discovery included, as with anonymous access off), and each token may do only what the RBAC
//! rules of its [`Access`] allow (403 Forbidden, worded as RBAC words it). Without tokens nothing
//! is checked.

use http::HeaderMap;
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use serde::Deserialize as _;

use crate::error::ApiError;
use crate::faults::Verb;
use crate::resources::Resource;

/// What a token may do: RBAC rules (apiGroups, resources, verbs, resourceNames) as Roles and
/// ClusterRoles write them, each Role's in its namespace (as if a RoleBinding there bound it to the
/// token's user), each ClusterRole's everywhere (a ClusterRoleBinding). No rule, no access.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Access {
    rules: Vec<ScopedRule>,
}

#[derive(Debug, Clone, PartialEq)]
struct ScopedRule {
    /// `None`: every namespace and the cluster scope (a ClusterRole).
    namespace: Option<String>,
    rule: PolicyRule,
}

/// What a request asks, as the RBAC authoriser sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub verb: Verb,
    pub resource: Resource,
    pub subresource: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl Access {
    /// get, list and watch everything, subresources (pod logs) included.
    pub fn read() -> Self {
        Self::cluster([rule(&["*"], &["*"], &["get", "list", "watch"])])
    }

    /// [`Access::read`], and patch Deployments (not their subresources).
    pub fn deploy() -> Self {
        Self::cluster([
            rule(&["*"], &["*"], &["get", "list", "watch"]),
            rule(&["apps"], &["deployments"], &["patch"]),
        ])
    }

    /// Everything.
    pub fn admin() -> Self {
        Self::cluster([rule(&["*"], &["*"], &["*"])])
    }

    /// Rules that apply everywhere, as a ClusterRole's.
    pub fn cluster(rules: impl IntoIterator<Item = PolicyRule>) -> Self {
        Self {
            rules: rules
                .into_iter()
                .map(|rule| ScopedRule {
                    namespace: None,
                    rule,
                })
                .collect(),
        }
    }

    /// Rules that apply in one namespace, as a Role's there.
    pub fn in_namespace(namespace: &str, rules: impl IntoIterator<Item = PolicyRule>) -> Self {
        Self {
            rules: rules
                .into_iter()
                .map(|rule| ScopedRule {
                    namespace: Some(namespace.to_owned()),
                    rule,
                })
                .collect(),
        }
    }

    /// The rules of one or more `Role` and `ClusterRole` manifests (YAML documents separated by
    /// `---`). A Role needs its `metadata.namespace`.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let mut access = Self::default();
        for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
            let value = serde_yaml::Value::deserialize(document)
                .map_err(|e| format!("document {}: {e}", index + 1))?;
            if value.is_null() {
                continue;
            }
            let kind = value.get("kind").and_then(serde_yaml::Value::as_str);
            match kind {
                Some("ClusterRole") => {
                    let role: ClusterRole = serde_yaml::from_value(value)
                        .map_err(|e| format!("document {}: {e}", index + 1))?;
                    access
                        .rules
                        .extend(Self::cluster(role.rules.unwrap_or_default()).rules);
                }
                Some("Role") => {
                    let role: Role = serde_yaml::from_value(value)
                        .map_err(|e| format!("document {}: {e}", index + 1))?;
                    let namespace = role.metadata.namespace.ok_or_else(|| {
                        format!("document {}: a Role needs metadata.namespace", index + 1)
                    })?;
                    access.rules.extend(
                        Self::in_namespace(&namespace, role.rules.unwrap_or_default()).rules,
                    );
                }
                other => {
                    return Err(format!(
                        "document {}: expected kind Role or ClusterRole, got {}",
                        index + 1,
                        other.unwrap_or("none")
                    ));
                }
            }
        }
        Ok(access)
    }

    /// Whether a rule allows the request, as the RBAC authoriser decides: the verb, the API
    /// group, the resource (`pods/log` for a subresource, which `pods` does not cover; `*` covers
    /// all, `*/log` every resource's `log`), and, when a rule lists resourceNames, the name.
    pub fn allows(&self, request: &Request<'_>) -> bool {
        self.rules.iter().any(|scoped| {
            let in_scope = match (&scoped.namespace, request.namespace) {
                (None, _) => true,
                (Some(ours), Some(theirs)) => ours == theirs,
                (Some(_), None) => false,
            };
            in_scope && rule_allows(&scoped.rule, request)
        })
    }
}

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}

fn rule_allows(rule: &PolicyRule, request: &Request<'_>) -> bool {
    let has = |items: &Option<Vec<String>>, wanted: &str| {
        items
            .iter()
            .flatten()
            .any(|item| item == "*" || item == wanted)
    };
    let verb = rule
        .verbs
        .iter()
        .any(|verb| verb == "*" || verb == request.verb.as_str());
    let plural = request.resource.plural();
    let resource = match request.subresource {
        None => has(&rule.resources, plural),
        Some(sub) => rule.resources.iter().flatten().any(|item| {
            item == "*" || *item == format!("{plural}/{sub}") || *item == format!("*/{sub}")
        }),
    };
    let name = match rule.resource_names.as_deref() {
        None | Some([]) => true,
        Some(names) => request
            .name
            .is_some_and(|name| names.iter().any(|n| n == name)),
    };
    verb && has(&rule.api_groups, request.resource.group()) && resource && name
}

/// A bearer token the server accepts, the user it authenticates as, and what it may do.
#[derive(Debug, Clone, PartialEq)]
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

    fn request(verb: Verb, resource: Resource, subresource: Option<&str>) -> Request<'_> {
        Request {
            verb,
            resource,
            subresource,
            namespace: Some("prod"),
            name: Some("web"),
        }
    }

    #[test]
    fn access_levels() {
        let read = Access::read();
        assert!(read.allows(&request(Verb::Watch, Resource::Deployments, None)));
        assert!(read.allows(&request(Verb::Get, Resource::Pods, Some("log"))));
        assert!(!read.allows(&request(Verb::Patch, Resource::Deployments, None)));
        let deployer = Access::deploy();
        assert!(deployer.allows(&request(Verb::Patch, Resource::Deployments, None)));
        assert!(!deployer.allows(&request(Verb::Patch, Resource::Deployments, Some("scale"))));
        assert!(!deployer.allows(&request(Verb::Delete, Resource::Pods, None)));
        assert!(Access::admin().allows(&request(Verb::Delete, Resource::Namespaces, None)));
    }

    #[test]
    fn roles_match_groups_resources_subresources_verbs_names_and_namespaces() {
        let access = Access::from_yaml(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: prod}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, patch]
- apiGroups: [\"\"]
  resources: [pods/log]
  verbs: [get]
---
kind: ClusterRole
metadata: {name: scaler}
rules:
- apiGroups: [apps]
  resources: [\"*/scale\"]
  resourceNames: [web]
  verbs: [update]
",
        )
        .unwrap();
        assert!(access.allows(&request(Verb::Patch, Resource::Deployments, None)));
        assert!(!access.allows(&request(Verb::List, Resource::Deployments, None)));
        // `deployments` does not cover its subresources, nor `pods/log` the pods.
        assert!(!access.allows(&request(Verb::Patch, Resource::Deployments, Some("status"))));
        assert!(access.allows(&request(Verb::Get, Resource::Pods, Some("log"))));
        assert!(!access.allows(&request(Verb::Get, Resource::Pods, None)));
        // A group is matched exactly: ReplicaSets are in apps, but not listed.
        assert!(!access.allows(&request(Verb::Get, Resource::ReplicaSets, None)));
        // The Role applies in its namespace only.
        let elsewhere = Request {
            namespace: Some("staging"),
            ..request(Verb::Patch, Resource::Deployments, None)
        };
        assert!(!access.allows(&elsewhere));
        // The ClusterRole everywhere, for the names it lists.
        let scale = Request {
            namespace: Some("staging"),
            ..request(Verb::Update, Resource::Deployments, Some("scale"))
        };
        assert!(access.allows(&scale));
        assert!(!access.allows(&Request {
            name: Some("api"),
            ..scale
        }));
        assert!(Access::from_yaml("kind: RoleBinding\n").is_err());
        assert!(Access::from_yaml("kind: Role\nmetadata: {name: x}\nrules: []\n").is_err());
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
