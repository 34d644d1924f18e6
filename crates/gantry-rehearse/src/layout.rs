//! What is rehearsed: the repositories, env file, tokens, Deployment and releases of a team's
//! layout (`--world`), with the cluster's manifests (`--manifests`) and image catalogue
//! (`--images`). The embedded default is a small Python service and its landing zone.

use std::path::Path;

use serde::Deserialize;

const DEFAULT_WORLD: &str = include_str!("../default/world.yaml");
const DEFAULT_MANIFESTS: &str = include_str!("../default/manifests.yaml");
const DEFAULT_IMAGES: &str = include_str!("../default/images.yaml");

/// A layout that cannot be rehearsed, naming the file and what to change.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("failed to read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is not valid: {reason}")]
    Invalid { what: String, reason: String },
}

/// The tokens of the four identities a release involves.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tokens {
    /// auto-deploy's `token`: a GitHub App installation token for the service and the landing zone
    /// (what the deploy workflows mint; a service's own `GITHUB_TOKEN` cannot write to another
    /// repository, and only an app can create the mirrored check runs).
    pub deploy: String,
    /// create-prerelease's token; a release made with it must start the deploy workflow.
    pub release: String,
    /// auto-deploy's `bot-token`: approves and merges.
    pub bot: String,
    /// A person who opens and merges the service's release pull request and pushes the tag.
    pub developer: String,
}

/// The rehearsal file: the layout fields plus the github-sim world under `github`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub service: String,
    pub manifest: String,
    pub image: String,
    pub landing_zone: String,
    pub env_file: String,
    pub namespace: String,
    pub deployment: String,
    pub good_version: String,
    pub bad_version: String,
    /// A release whose image starts but answers a fifth of its requests with 500, rolled out as
    /// a canary gated on its error ratio; no canary act without it.
    #[serde(default)]
    pub canary_version: Option<String>,
    pub verify_timeout: String,
    pub tokens: Tokens,
    /// The github-sim world, passed to it unchanged (apart from `--time-scale`).
    pub github: serde_yaml::Value,
    /// Multi-document YAML for kube-sim (not part of the file; from `--manifests`).
    #[serde(skip)]
    pub manifests: String,
    /// kube-sim's image catalogue (not part of the file; from `--images`).
    #[serde(skip)]
    pub images: String,
}

/// Which files replace the embedded defaults.
#[derive(Clone, Debug, Default)]
pub struct Sources<'a> {
    pub world: Option<&'a Path>,
    pub manifests: Option<&'a Path>,
    pub images: Option<&'a Path>,
}

impl Layout {
    /// The embedded default layout.
    pub fn embedded() -> Result<Layout, LayoutError> {
        Layout::load(&Sources::default())
    }

    /// Reads each file given, the embedded default for the others, and checks they fit together.
    pub fn load(sources: &Sources<'_>) -> Result<Layout, LayoutError> {
        let (world_name, world) = read_or(sources.world, "the embedded world", DEFAULT_WORLD)?;
        let mut layout: Layout =
            serde_yaml::from_str(&world).map_err(|error| LayoutError::Invalid {
                what: world_name.clone(),
                reason: error.to_string(),
            })?;
        layout.manifests = read_or(sources.manifests, "", DEFAULT_MANIFESTS)?.1;
        layout.images = read_or(sources.images, "", DEFAULT_IMAGES)?.1;
        layout.check(&world_name)?;
        Ok(layout)
    }

    /// The github-sim world with simulated time running `time_scale` times faster than real
    /// time, when given.
    pub fn github_world(&self, time_scale: Option<f64>) -> Result<String, LayoutError> {
        let mut world = self.github.clone();
        if let Some(scale) = time_scale {
            let map = world
                .as_mapping_mut()
                .ok_or_else(|| Layout::invalid("`github` must be a mapping"))?;
            if !map.contains_key("clock") {
                map.insert("clock".into(), serde_yaml::Mapping::new().into());
            }
            map.get_mut("clock")
                .and_then(serde_yaml::Value::as_mapping_mut)
                .ok_or_else(|| Layout::invalid("`github.clock` must be a mapping"))?
                .insert("scale".into(), scale.into());
        }
        serde_yaml::to_string(&world).map_err(|error| Layout::invalid(&error.to_string()))
    }

    /// The simulated seconds per real second of the github world (kube-sim runs at the same pace).
    pub fn time_scale(&self) -> f64 {
        self.github
            .get("clock")
            .and_then(|clock| clock.get("scale"))
            .and_then(serde_yaml::Value::as_f64)
            .unwrap_or(1.0)
    }

    /// The environment the deploys are recorded in: the env file's name without its extension
    /// (`deploy/preprod.env` → `preprod`), passed to auto-deploy as `deployment-environment`.
    pub fn environment(&self) -> &str {
        let name = self.env_file.rsplit('/').next().unwrap_or(&self.env_file);
        name.split_once('.').map_or(name, |(stem, _)| stem)
    }

    /// The image reference of `version`, as the env file and k8s-deploy build it.
    pub fn image_of(&self, version: &str) -> String {
        format!("{}:{version}", self.image)
    }

    fn check(&self, world_name: &str) -> Result<(), LayoutError> {
        let problems: Vec<String> = [
            (self.good_version == self.bad_version)
                .then(|| "good_version and bad_version must differ".to_owned()),
            self.canary_version
                .as_ref()
                .filter(|v| **v == self.good_version || **v == self.bad_version)
                .map(|_| "canary_version must differ from good_version and bad_version".to_owned()),
            (self.service == self.landing_zone)
                .then(|| "service and landing_zone must be different repositories".to_owned()),
            (!is_duration(&self.verify_timeout)).then(|| format!("verify_timeout `{}` is not a duration such as 5s", self.verify_timeout)),
            (!self.manifests.contains(&format!("name: {}", self.deployment))).then(|| {
                format!(
                    "the manifests define no Deployment named `{}` (set `deployment` or pass --manifests)",
                    self.deployment
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LayoutError::Invalid {
                what: world_name.to_owned(),
                reason: problems.join("; "),
            })
        }
    }

    fn invalid(reason: &str) -> LayoutError {
        LayoutError::Invalid {
            what: "the world's `github` section".to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// Whether `text` is a number followed by `ms`, `s` or `m` (the forms auto-deploy accepts here).
fn is_duration(text: &str) -> bool {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && ["ms", "s", "m"].contains(&unit)
}

fn read_or(
    path: Option<&Path>,
    default_name: &str,
    default: &str,
) -> Result<(String, String), LayoutError> {
    match path {
        None => Ok((default_name.to_owned(), default.to_owned())),
        Some(path) => std::fs::read_to_string(path)
            .map(|text| (path.display().to_string(), text))
            .map_err(|source| LayoutError::Read {
                path: path.display().to_string(),
                source,
            }),
    }
}
