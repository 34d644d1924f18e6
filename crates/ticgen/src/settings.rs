//! Phase two of input parsing: the raw input strings as typed, validated settings, each error
//! naming its input.

use std::path::PathBuf;

use gantry_runner::{ActionError, Step};

use crate::commit_time;
use crate::git_context::Overrides;

/// Phase two of input parsing: the raw strings as typed, validated settings.
pub struct Settings {
    pub path: PathBuf,
    pub manifest: Option<String>,
    pub tag_prefix: String,
    pub image: Option<String>,
    pub aliases: crate::tags::Aliases,
    pub overrides: Overrides,
    pub source_date_epoch: Option<i64>,
}

impl Settings {
    pub fn from_step(step: &Step<'_>) -> Result<Self, ActionError> {
        let inputs = &step.inputs;
        let path = PathBuf::from(inputs.get("path").unwrap_or("."));
        if !path.is_dir() {
            return Err(ActionError::input(
                "path",
                format!(
                    "`{}` is not a directory; give the project directory relative to the working directory",
                    path.display()
                ),
            ));
        }
        let image = inputs.get("image").map(str::to_owned);
        if let Some(image) = image.as_deref().filter(|image| !is_image_name(image)) {
            return Err(ActionError::input(
                "image",
                format!(
                    "`{image}` is not an image name without tag or digest; use lower-case like `ghcr.io/org/app`"
                ),
            ));
        }
        let source_date_epoch = inputs
            .get("source-date-epoch")
            .map(|text| {
                commit_time::parse_epoch(text).ok_or_else(|| {
                    ActionError::input(
                        "source-date-epoch",
                        format!("`{text}` is not a Unix time in whole seconds, e.g. 1700000000"),
                    )
                })
            })
            .transpose()?;
        Ok(Self {
            path,
            manifest: inputs.get("manifest").map(str::to_owned),
            tag_prefix: inputs.get("tag-prefix").unwrap_or_default().to_owned(),
            image,
            aliases: crate::tags::Aliases {
                versions: inputs.flag("aliases")?,
                latest: inputs.flag("latest")?,
            },
            overrides: Overrides {
                git_ref: inputs.get("ref").map(str::to_owned),
                sha: inputs.get("sha").map(str::to_owned),
            },
            source_date_epoch,
        })
    }
}

/// An image repository reference without tag or digest: lower-case path components of letters,
/// digits and `._-`, separated by `/`, after an optional registry host (with a `.` or `:`, or
/// `localhost`) such as `ghcr.io` or `localhost:5000`.
fn is_image_name(image: &str) -> bool {
    let (host, path) = match image.split_once('/') {
        Some((host, path)) if host.contains(['.', ':']) || host == "localhost" => (host, path),
        _ => ("", image),
    };
    let host_ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b));
    let component_ok = |component: &str| {
        component
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && component.starts_with(|c: char| c.is_ascii_alphanumeric())
            && component.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    host_ok && path.split('/').all(component_ok)
}

#[cfg(test)]
mod tests {
    use super::is_image_name;

    #[test]
    fn image_names() {
        for good in [
            "app",
            "octo/app",
            "ghcr.io/octo/app",
            "localhost:5000/a/b-c",
            "registry.example.com/a_b/c.d",
        ] {
            assert!(is_image_name(good), "{good}");
        }
        for bad in [
            "",
            "Octo/app",
            "octo/app:1.0",
            "octo/app@sha256:00",
            "octo//app",
            "octo/app/",
            "-app",
            "ghcr.io/",
        ] {
            assert!(!is_image_name(bad), "{bad}");
        }
    }
}
