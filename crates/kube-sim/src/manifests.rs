//! Loads ordinary multi-document Kubernetes YAML (Namespaces, Deployments, …) into the world.

use serde::Deserialize;
use serde_json::Value;

use crate::resources::Resource;

/// One object from a manifest, resolved to a served resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestObject {
    pub resource: Resource,
    pub namespace: String,
    pub object: Value,
}

/// Parses multi-document YAML; `List` documents are flattened; empty documents are skipped.
/// Namespaces come first so that the objects in them can be created.
pub fn parse(text: &str) -> Result<Vec<ManifestObject>, String> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value =
            Value::deserialize(doc).map_err(|e| format!("manifest document {}: {e}", i + 1))?;
        if value.is_null() {
            continue;
        }
        let items = if value
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k == "List" || k.ends_with("List"))
        {
            value
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        } else {
            vec![value]
        };
        for obj in items {
            let api_version = obj
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
            let resource = Resource::from_kind(api_version, kind).ok_or_else(|| {
                format!(
                    "manifest document {}: kube-sim does not serve {kind} ({api_version})",
                    i + 1
                )
            })?;
            let namespace = obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned();
            out.push(ManifestObject {
                resource,
                namespace,
                object: obj,
            });
        }
    }
    out.sort_by_key(|m| m.resource != Resource::Namespaces);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_multi_doc_yaml() {
        let objs = parse("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n").unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].resource, Resource::Namespaces);
        assert_eq!(objs[1].namespace, "prod");
        assert!(
            parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
                .unwrap_err()
                .contains("does not serve ConfigMap")
        );
    }
}
