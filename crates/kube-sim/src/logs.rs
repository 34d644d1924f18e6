//! `GET …/pods/{name}/log`: what a container printed, from the image catalogue (`logs` when it
//! starts, `last_words` before a crash), chosen from the pod's container statuses the way the
//! kubelet's `validateContainerLogStatus` does, with its errors for containers that never ran.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::ApiError;
use crate::images::ImageCatalogue;

/// One log line and when it was written (RFC 3339, for `timestamps=true`).
struct Line {
    at: String,
    text: String,
}

fn container_names(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Which container: the `container` parameter, or the only one (the default-container
/// annotation kubectl reads is a client-side choice).
fn pick_container(pod: &Value, pod_name: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let names = container_names(pod);
    match asked {
        Some(c) if names.iter().any(|n| n == c) => Ok(c.to_owned()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {pod_name}"
        ))),
        None if names.len() == 1 => Ok(names[0].clone()),
        None => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {pod_name}, choose one of: [{}]",
            names.join(" ")
        ))),
    }
}

/// The lines of one run of `image`: what it prints at start, and its last words if it crashed.
fn run_lines(
    images: &ImageCatalogue,
    image: &str,
    started: &str,
    ended: Option<&str>,
) -> Vec<Line> {
    let Some(spec) = images.lookup(image) else {
        return Vec::new();
    };
    let mut lines: Vec<Line> = spec
        .logs
        .iter()
        .map(|t| Line {
            at: started.to_owned(),
            text: t.clone(),
        })
        .collect();
    if let Some(end) = ended {
        lines.extend(spec.last_words.iter().map(|t| Line {
            at: end.to_owned(),
            text: t.clone(),
        }));
    }
    lines
}

fn waiting_error(container: &str, pod_name: &str, reason: &str) -> ApiError {
    let why = match reason {
        "ErrImagePull" => "image can't be pulled",
        "ImagePullBackOff" => "trying and failing to pull image",
        other => other,
    };
    ApiError::bad_request(format!(
        "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {why}"
    ))
}

/// The body of a log request for `pod`.
pub fn read<S: std::hash::BuildHasher>(
    pod: &Value,
    images: &ImageCatalogue,
    query: &HashMap<String, String, S>,
) -> Result<String, ApiError> {
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let container = pick_container(pod, pod_name, query.get("container").map(String::as_str))?;
    let previous = query.get("previous").is_some_and(|v| v == "true");
    let image = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["name"] == container.as_str()))
        .and_then(|c| c["image"].as_str())
        .unwrap_or_default();
    let status = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["name"] == container.as_str()));
    let last = status.and_then(|s| s.pointer("/lastState/terminated"));
    let last_run = |t: &Value| {
        let field = |f: &str| t.get(f).and_then(Value::as_str).unwrap_or_default();
        run_lines(images, image, field("startedAt"), Some(field("finishedAt")))
    };
    let lines = if previous {
        let t = last.ok_or_else(|| {
            ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            ))
        })?;
        last_run(t)
    } else if let Some(started) = status
        .and_then(|s| s.pointer("/state/running/startedAt"))
        .and_then(Value::as_str)
    {
        run_lines(images, image, started, None)
    } else if let Some(t) = last {
        last_run(t)
    } else {
        let reason = status
            .and_then(|s| s.pointer("/state/waiting/reason"))
            .and_then(Value::as_str)
            .unwrap_or("ContainerCreating");
        return Err(waiting_error(&container, pod_name, reason));
    };
    let timestamps = query.get("timestamps").is_some_and(|v| v == "true");
    let tail = query
        .get("tailLines")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let skip = lines.len().saturating_sub(tail);
    Ok(lines
        .iter()
        .skip(skip)
        .map(|l| {
            if timestamps {
                format!("{} {}\n", l.at, l.text)
            } else {
                format!("{}\n", l.text)
            }
        })
        .collect())
}
