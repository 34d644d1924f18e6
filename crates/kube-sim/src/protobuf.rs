//! The protobuf subset the stock clients send: client-go's typed clients (behind `kubectl create
//! deployment` and `kubectl create namespace`) encode request bodies as
//! `application/vnd.kubernetes.protobuf` and do not fall back to JSON on a 415. This decodes the
//! `runtime.Unknown` envelope and the Namespace and Deployment messages (field numbers from
//! k8s.io/api `generated.proto`) into the JSON the rest of the simulator speaks. A field outside
//! the subset that carries a value is refused with 415 naming it, never silently dropped.

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::resources::Resource;

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

/// How one field's bytes become JSON.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// An integer Go keeps as a pointer: an explicit 0 is kept.
    IntPtr,
    /// A plain integer: 0 is Go's zero value and is omitted, as `omitempty` JSON does.
    Int,
    Bool,
    Map,
    Strs,
    Msg(&'static Schema),
    Msgs(&'static Schema),
    IntOrString,
    /// Read-only on writes (status): accepted and dropped.
    Ignored,
}

struct Schema {
    name: &'static str,
    fields: &'static [(u64, &'static str, Kind)],
}

static TYPE_META: Schema = Schema {
    name: "TypeMeta",
    fields: &[(1, "apiVersion", Kind::Str), (2, "kind", Kind::Str)],
};

static OBJECT_META: Schema = Schema {
    name: "ObjectMeta",
    fields: &[
        (1, "name", Kind::Str),
        (2, "generateName", Kind::Str),
        (3, "namespace", Kind::Str),
        (5, "uid", Kind::Str),
        (6, "resourceVersion", Kind::Str),
        (7, "generation", Kind::Int),
        (11, "labels", Kind::Map),
        (12, "annotations", Kind::Map),
        (14, "finalizers", Kind::Strs),
    ],
};

static REQUIREMENT: Schema = Schema {
    name: "LabelSelectorRequirement",
    fields: &[
        (1, "key", Kind::Str),
        (2, "operator", Kind::Str),
        (3, "values", Kind::Strs),
    ],
};

static LABEL_SELECTOR: Schema = Schema {
    name: "LabelSelector",
    fields: &[
        (1, "matchLabels", Kind::Map),
        (2, "matchExpressions", Kind::Msgs(&REQUIREMENT)),
    ],
};

static CONTAINER_PORT: Schema = Schema {
    name: "ContainerPort",
    fields: &[
        (1, "name", Kind::Str),
        (2, "hostPort", Kind::Int),
        (3, "containerPort", Kind::Int),
        (4, "protocol", Kind::Str),
        (5, "hostIP", Kind::Str),
    ],
};

static ENV_VAR: Schema = Schema {
    name: "EnvVar",
    fields: &[(1, "name", Kind::Str), (2, "value", Kind::Str)],
};

static CONTAINER: Schema = Schema {
    name: "Container",
    fields: &[
        (1, "name", Kind::Str),
        (2, "image", Kind::Str),
        (3, "command", Kind::Strs),
        (4, "args", Kind::Strs),
        (5, "workingDir", Kind::Str),
        (6, "ports", Kind::Msgs(&CONTAINER_PORT)),
        (7, "env", Kind::Msgs(&ENV_VAR)),
        (13, "terminationMessagePath", Kind::Str),
        (14, "imagePullPolicy", Kind::Str),
        (16, "stdin", Kind::Bool),
        (17, "stdinOnce", Kind::Bool),
        (18, "tty", Kind::Bool),
        (20, "terminationMessagePolicy", Kind::Str),
    ],
};

static POD_SPEC: Schema = Schema {
    name: "PodSpec",
    fields: &[
        (2, "containers", Kind::Msgs(&CONTAINER)),
        (3, "restartPolicy", Kind::Str),
        (4, "terminationGracePeriodSeconds", Kind::IntPtr),
        (6, "dnsPolicy", Kind::Str),
        (7, "nodeSelector", Kind::Map),
        (8, "serviceAccountName", Kind::Str),
        (9, "serviceAccount", Kind::Str),
        (10, "nodeName", Kind::Str),
        (11, "hostNetwork", Kind::Bool),
        (12, "hostPID", Kind::Bool),
        (13, "hostIPC", Kind::Bool),
        (16, "hostname", Kind::Str),
        (17, "subdomain", Kind::Str),
        (19, "schedulerName", Kind::Str),
        (24, "priorityClassName", Kind::Str),
    ],
};

static POD_TEMPLATE: Schema = Schema {
    name: "PodTemplateSpec",
    fields: &[
        (1, "metadata", Kind::Msg(&OBJECT_META)),
        (2, "spec", Kind::Msg(&POD_SPEC)),
    ],
};

static ROLLING_UPDATE: Schema = Schema {
    name: "RollingUpdateDeployment",
    fields: &[
        (1, "maxUnavailable", Kind::IntOrString),
        (2, "maxSurge", Kind::IntOrString),
    ],
};

static STRATEGY: Schema = Schema {
    name: "DeploymentStrategy",
    fields: &[
        (1, "type", Kind::Str),
        (2, "rollingUpdate", Kind::Msg(&ROLLING_UPDATE)),
    ],
};

static DEPLOYMENT_SPEC: Schema = Schema {
    name: "DeploymentSpec",
    fields: &[
        (1, "replicas", Kind::IntPtr),
        (2, "selector", Kind::Msg(&LABEL_SELECTOR)),
        (3, "template", Kind::Msg(&POD_TEMPLATE)),
        (4, "strategy", Kind::Msg(&STRATEGY)),
        (5, "minReadySeconds", Kind::Int),
        (6, "revisionHistoryLimit", Kind::IntPtr),
        (7, "paused", Kind::Bool),
        (9, "progressDeadlineSeconds", Kind::IntPtr),
    ],
};

static DEPLOYMENT: Schema = Schema {
    name: "Deployment",
    fields: &[
        (1, "metadata", Kind::Msg(&OBJECT_META)),
        (2, "spec", Kind::Msg(&DEPLOYMENT_SPEC)),
        (3, "status", Kind::Ignored),
    ],
};

static NAMESPACE_SPEC: Schema = Schema {
    name: "NamespaceSpec",
    fields: &[(1, "finalizers", Kind::Strs)],
};

static NAMESPACE: Schema = Schema {
    name: "Namespace",
    fields: &[
        (1, "metadata", Kind::Msg(&OBJECT_META)),
        (2, "spec", Kind::Msg(&NAMESPACE_SPEC)),
        (3, "status", Kind::Ignored),
    ],
};

fn unsupported(what: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        415,
        "UnsupportedMediaType",
        format!("kube-sim decodes only a subset of {MEDIA_TYPE} ({what}); send application/json"),
    )
}

fn malformed() -> ApiError {
    ApiError::bad_request(format!(
        "the body of the request was in an unknown format: malformed {MEDIA_TYPE}"
    ))
}

/// One wire-format field.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

impl Wire<'_> {
    fn is_zero(&self) -> bool {
        match self {
            Wire::Varint(v) => *v == 0,
            Wire::Bytes(b) => b.is_empty(),
        }
    }
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, ApiError> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or_else(malformed)?;
        *pos += 1;
        out |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Ok(out);
        }
    }
    Err(malformed())
}

/// The fields of one message, in wire order.
fn fields(buf: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, ApiError> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let value = match key & 7 {
            0 => Wire::Varint(varint(buf, &mut pos)?),
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| malformed())?;
                let end = pos.checked_add(len).filter(|e| *e <= buf.len());
                let end = end.ok_or_else(malformed)?;
                let bytes = &buf[pos..end];
                pos = end;
                Wire::Bytes(bytes)
            }
            other => return Err(unsupported(format_args!("wire type {other}"))),
        };
        out.push((key >> 3, value));
    }
    Ok(out)
}

fn text(b: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(b.to_vec()).map_err(|_| malformed())
}

fn as_i64(v: u64) -> i64 {
    // Protobuf int32/int64 are two's complement in a 64-bit varint.
    i64::from_ne_bytes(v.to_ne_bytes())
}

fn decode_message(schema: &Schema, buf: &[u8]) -> Result<Value, ApiError> {
    let mut out = Map::new();
    for (number, wire) in fields(buf)? {
        let Some((_, name, kind)) = schema.fields.iter().find(|(n, _, _)| *n == number) else {
            if wire.is_zero() {
                continue;
            }
            return Err(unsupported(format_args!(
                "field {number} of {} is outside it",
                schema.name
            )));
        };
        let name = (*name).to_owned();
        match (*kind, wire) {
            (Kind::Ignored, _) => {}
            (Kind::Str, Wire::Bytes(b)) => {
                if !b.is_empty() {
                    out.insert(name, json!(text(b)?));
                }
            }
            (Kind::Int, Wire::Varint(v)) => {
                if v != 0 {
                    out.insert(name, json!(as_i64(v)));
                }
            }
            (Kind::IntPtr, Wire::Varint(v)) => {
                out.insert(name, json!(as_i64(v)));
            }
            (Kind::Bool, Wire::Varint(v)) => {
                if v != 0 {
                    out.insert(name, json!(true));
                }
            }
            (Kind::Map, Wire::Bytes(b)) => {
                let entry = decode_message(&MAP_ENTRY, b)?;
                let key = entry["key"].as_str().unwrap_or_default().to_owned();
                let value = entry.get("value").cloned().unwrap_or_else(|| json!(""));
                let map = out.entry(name).or_insert_with(|| json!({}));
                map[key] = value;
            }
            (Kind::Strs, Wire::Bytes(b)) => {
                let list = out.entry(name).or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(json!(text(b)?));
                }
            }
            (Kind::Msg(inner), Wire::Bytes(b)) => {
                let v = decode_message(inner, b)?;
                if v.as_object().is_some_and(|m| !m.is_empty()) {
                    out.insert(name, v);
                }
            }
            (Kind::Msgs(inner), Wire::Bytes(b)) => {
                let v = decode_message(inner, b)?;
                let list = out.entry(name).or_insert_with(|| json!([]));
                if let Some(a) = list.as_array_mut() {
                    a.push(v);
                }
            }
            (Kind::IntOrString, Wire::Bytes(b)) => {
                let v = decode_message(&INT_OR_STRING, b)?;
                let value = if v["type"] == 1 {
                    v.get("strVal").cloned().unwrap_or_else(|| json!(""))
                } else {
                    v.get("intVal").cloned().unwrap_or_else(|| json!(0))
                };
                out.insert(name, value);
            }
            _ => {
                return Err(unsupported(format_args!(
                    "field {number} of {} has an unexpected wire type",
                    schema.name
                )));
            }
        }
    }
    Ok(Value::Object(out))
}

static MAP_ENTRY: Schema = Schema {
    name: "map entry",
    fields: &[(1, "key", Kind::Str), (2, "value", Kind::Str)],
};

static INT_OR_STRING: Schema = Schema {
    name: "IntOrString",
    fields: &[
        (1, "type", Kind::Int),
        (2, "intVal", Kind::Int),
        (3, "strVal", Kind::Str),
    ],
};

/// Decodes a protobuf request body for `resource` into its JSON form.
pub fn decode(resource: Resource, body: &[u8]) -> Result<Value, ApiError> {
    let schema = match resource {
        Resource::Deployments => &DEPLOYMENT,
        Resource::Namespaces => &NAMESPACE,
        other => {
            return Err(unsupported(format_args!(
                "{} bodies are not in it",
                other.plural()
            )));
        }
    };
    let envelope = body.strip_prefix(MAGIC).ok_or_else(malformed)?;
    let mut type_meta = json!({});
    let mut raw: &[u8] = &[];
    for (number, wire) in fields(envelope)? {
        match (number, wire) {
            (1, Wire::Bytes(b)) => type_meta = decode_message(&TYPE_META, b)?,
            (2, Wire::Bytes(b)) => raw = b,
            (3 | 4, w) if w.is_zero() => {}
            (n, _) => {
                return Err(unsupported(format_args!(
                    "field {n} of the runtime.Unknown envelope"
                )));
            }
        }
    }
    let mut obj = decode_message(schema, raw)?;
    for f in ["apiVersion", "kind"] {
        if let Some(v) = type_meta.get(f) {
            obj[f] = v.clone();
        }
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What kubectl 1.32 sends for `kubectl create namespace foo` (captured on the wire).
    const CREATE_NAMESPACE: &str = "6b3873000a0f0a02763112094e616d657370616365121b0a130a03666f6f12001a0022002a0032003800420012001a020a001a002200";

    /// `kubectl create deployment web --image=registry.example/app:1.0 --replicas=3 --port=8080
    /// -- sleep 10` (kubectl 1.32, captured on the wire).
    const CREATE_DEPLOYMENT: &str = concat!(
        "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412d6010a1f0a0377656212001a0022002a",
        "003200380042005a0a0a03617070120377656212a4010803120c0a0a0a0361707012037765621a89010a1c0a",
        "0012001a0022002a003200380042005a0a0a0361707012037765621269124b0a036170701218726567697374",
        "72792e6578616d706c652f6170703a312e301a05736c6565701a0231302a00320b0a00100018903f22002a00",
        "42006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2",
        "010022020a00280038001a0c0800100018002000280038001a002200",
    );

    #[test]
    fn decodes_the_deployment_kubectl_creates() {
        let d = decode(Resource::Deployments, &unhex(CREATE_DEPLOYMENT)).unwrap();
        let labels = json!({"app": "web"});
        assert_eq!(
            d,
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "labels": labels},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{
                            "name": "app", "image": "registry.example/app:1.0",
                            "command": ["sleep", "10"], "ports": [{"containerPort": 8080}],
                        }]},
                    },
                },
            })
        );
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_the_namespace_kubectl_creates() {
        let ns = decode(Resource::Namespaces, &unhex(CREATE_NAMESPACE)).unwrap();
        assert_eq!(
            ns,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "foo"}})
        );
    }

    #[test]
    fn refuses_what_it_cannot_decode() {
        let mut body = unhex(CREATE_NAMESPACE);
        assert_eq!(decode(Resource::Pods, &body).unwrap_err().code, 415);
        body[0] = b'x';
        assert_eq!(decode(Resource::Namespaces, &body).unwrap_err().code, 400);
        // ObjectMeta field 13 (ownerReferences) with a value is outside the subset.
        let body = unhex("6b3873001206 0a04 6a02 0a00".replace(' ', "").as_str());
        let err = decode(Resource::Namespaces, &body).unwrap_err();
        assert_eq!(err.code, 415);
        assert!(
            err.message.contains("field 13 of ObjectMeta"),
            "{}",
            err.message
        );
    }
}
