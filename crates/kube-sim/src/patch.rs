//! PATCH bodies: strategic merge (lists merged by their Kubernetes merge keys, as
//! `kubectl set image` sends), JSON merge patch (RFC 7386) and JSON patch (RFC 6902, with `test`).

use serde_json::{Map, Value};

use crate::error::ApiError;

/// The PATCH flavours the API server accepts, by Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Strategic,
    Merge,
    Json,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/json-patch+json" => Some(Self::Json),
            _ => None,
        }
    }
}

pub fn apply(kind: PatchType, target: &Value, patch: &Value) -> Result<Value, ApiError> {
    match kind {
        PatchType::Merge => Ok(merge_patch(target, patch)),
        PatchType::Strategic => Ok(strategic_merge(target, patch, "")),
        PatchType::Json => json_patch(target, patch),
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &Value, patch: &Value) -> Value {
    let Value::Object(p) = patch else {
        return patch.clone();
    };
    let mut out = match target {
        Value::Object(t) => t.clone(),
        _ => Map::new(),
    };
    for (k, v) in p {
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = merge_patch(out.get(k).unwrap_or(&Value::Null), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

/// The merge key of a list field, per the Kubernetes API's `patchMergeKey` tags.
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => "name",
        "ports" => "containerPort",
        "volumeMounts" | "volumeDevices" => "mountPath",
        "conditions" => "type",
        "ownerReferences" => "uid",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        _ => return None,
    })
}

/// Strategic merge patch for the fields the suite touches: maps merge recursively, lists with a
/// merge key merge element-wise by that key, other lists are replaced. Honours `$patch: delete`,
/// `$patch: replace`; `$setElementOrder/…`, `$retainKeys` are accepted and ignored.
pub fn strategic_merge(target: &Value, patch: &Value, field: &str) -> Value {
    match (target, patch) {
        (_, Value::Object(p)) => {
            if p.get("$patch").and_then(Value::as_str) == Some("replace") {
                let mut p = p.clone();
                p.remove("$patch");
                return Value::Object(p);
            }
            let mut out = match target {
                Value::Object(t) => t.clone(),
                _ => Map::new(),
            };
            for (k, v) in p {
                if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
                    continue;
                }
                if let Some(list_field) = k.strip_prefix("$deleteFromPrimitiveList/") {
                    if let (Some(Value::Array(cur)), Value::Array(del)) =
                        (out.get_mut(list_field), v)
                    {
                        cur.retain(|x| !del.contains(x));
                    }
                    continue;
                }
                if v.is_null() {
                    out.remove(k);
                    continue;
                }
                let merged = strategic_merge(out.get(k).unwrap_or(&Value::Null), v, k);
                out.insert(k.clone(), merged);
            }
            let _ = field;
            Value::Object(out)
        }
        (Value::Array(t), Value::Array(p)) => {
            let Some(key) = merge_key(field) else {
                return patch.clone();
            };
            let mut out = t.clone();
            for item in p {
                let id = item.get(key);
                let directive = item.get("$patch").and_then(Value::as_str);
                let pos = id.and_then(|id| out.iter().position(|e| e.get(key) == Some(id)));
                match (directive, pos) {
                    (Some("delete"), Some(i)) => {
                        out.remove(i);
                    }
                    (Some("delete"), None) => {}
                    (_, Some(i)) => out[i] = strategic_merge(&out[i], item, ""),
                    (_, None) => out.push(strategic_merge(&Value::Null, item, "")),
                }
            }
            Value::Array(out)
        }
        _ => patch.clone(),
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn split_pointer(path: &str) -> Result<Vec<String>, ApiError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| ApiError::bad_request(format!("invalid JSON pointer {path:?}")))?;
    Ok(rest.split('/').map(unescape).collect())
}

fn pointer_get<'a>(doc: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn parent_mut<'a>(
    doc: &'a mut Value,
    tokens: &[String],
    path: &str,
) -> Result<&'a mut Value, ApiError> {
    let missing = || {
        ApiError::new(
            422,
            "Invalid",
            format!(
                "the server rejected our request due to an error in our request: doc is missing path: {path:?}"
            ),
        )
    };
    let mut cur = doc;
    for t in &tokens[..tokens.len().saturating_sub(1)] {
        cur = match cur {
            Value::Object(m) => m.get_mut(t).ok_or_else(missing)?,
            Value::Array(a) => {
                let i = t.parse::<usize>().map_err(|_| missing())?;
                a.get_mut(i).ok_or_else(missing)?
            }
            _ => return Err(missing()),
        };
    }
    Ok(cur)
}

fn op_add(doc: &mut Value, path: &str, value: Value) -> Result<(), ApiError> {
    let tokens = split_pointer(path)?;
    let Some(last) = tokens.last().cloned() else {
        *doc = value;
        return Ok(());
    };
    let parent = parent_mut(doc, &tokens, path)?;
    match parent {
        Value::Object(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>()
                    .map_err(|_| ApiError::bad_request("bad array index"))?
            };
            if i > a.len() {
                return Err(ApiError::new(
                    422,
                    "Invalid",
                    format!("add operation index out of bounds: {path}"),
                ));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(ApiError::new(
            422,
            "Invalid",
            format!("doc is missing path: {path:?}"),
        )),
    }
}

fn op_remove(doc: &mut Value, path: &str) -> Result<Value, ApiError> {
    let tokens = split_pointer(path)?;
    let missing = || {
        ApiError::new(
            422,
            "Invalid",
            format!(
                "the server rejected our request due to an error in our request: doc is missing path: {path:?}"
            ),
        )
    };
    let last = tokens.last().cloned().ok_or_else(missing)?;
    let parent = parent_mut(doc, &tokens, path)?;
    match parent {
        Value::Object(m) => m.remove(&last).ok_or_else(missing),
        Value::Array(a) => {
            let i = last.parse::<usize>().map_err(|_| missing())?;
            if i < a.len() {
                Ok(a.remove(i))
            } else {
                Err(missing())
            }
        }
        _ => Err(missing()),
    }
}

/// RFC 6902 JSON patch, all six operations.
pub fn json_patch(target: &Value, patch: &Value) -> Result<Value, ApiError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| ApiError::bad_request("json patch must be an array of operations"))?;
    let mut doc = target.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("json patch operation without a path"))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| ApiError::bad_request(format!("json patch {name} without a value")))
        };
        match name {
            "add" => op_add(&mut doc, path, value()?)?,
            "remove" => {
                op_remove(&mut doc, path)?;
            }
            "replace" => {
                op_remove(&mut doc, path)?;
                op_add(&mut doc, path, value()?)?;
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::bad_request("json patch move/copy without from"))?;
                let v = if name == "move" {
                    op_remove(&mut doc, from)?
                } else {
                    pointer_get(&doc, &split_pointer(from)?)
                        .cloned()
                        .ok_or_else(|| {
                            ApiError::new(
                                422,
                                "Invalid",
                                format!("doc is missing from path: {from:?}"),
                            )
                        })?
                };
                op_add(&mut doc, path, v)?;
            }
            "test" => {
                let want = value()?;
                let got = pointer_get(&doc, &split_pointer(path)?);
                if got != Some(&want) {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        format!(
                            "the server rejected our request due to an error in our request: testing value {path} failed: test failed"
                        ),
                    ));
                }
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unexpected json patch operation {other:?}"
                )));
            }
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name() {
        let target = json!({"spec": {"containers": [{"name": "a", "image": "x:1", "ports": [{"containerPort": 80}]}, {"name": "b", "image": "y:1"}]}});
        let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "b"}], "containers": [{"name": "b", "image": "y:2"}]}});
        let out = strategic_merge(&target, &patch, "");
        assert_eq!(out["spec"]["containers"][0]["image"], "x:1");
        assert_eq!(out["spec"]["containers"][1]["image"], "y:2");
        let del = json!({"spec": {"containers": [{"name": "a", "$patch": "delete"}]}});
        let out = strategic_merge(&out, &del, "");
        assert_eq!(out["spec"]["containers"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn merge_patch_replaces_lists_and_deletes_nulls() {
        let out = merge_patch(
            &json!({"a": [1, 2], "b": 1, "c": {"d": 1}}),
            &json!({"a": [3], "b": null, "c": {"e": 2}}),
        );
        assert_eq!(out, json!({"a": [3], "c": {"d": 1, "e": 2}}));
    }

    #[test]
    fn json_patch_ops_and_test() {
        let doc = json!({"a": {"b": [1, 2]}, "s": "x"});
        let p = json!([{"op": "test", "path": "/s", "value": "x"}, {"op": "add", "path": "/a/b/-", "value": 3}, {"op": "replace", "path": "/s", "value": "y"}, {"op": "copy", "from": "/s", "path": "/t"}, {"op": "move", "from": "/t", "path": "/u"}, {"op": "remove", "path": "/a/b/0"}]);
        assert_eq!(
            json_patch(&doc, &p).unwrap(),
            json!({"a": {"b": [2, 3]}, "s": "y", "u": "y"})
        );
        let err = json_patch(
            &doc,
            &json!([{"op": "test", "path": "/s", "value": "nope"}]),
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
        let err = json_patch(
            &doc,
            &json!([{"op": "replace", "path": "/missing", "value": 1}]),
        )
        .unwrap_err();
        assert_eq!(err.code, 422);
    }
}
