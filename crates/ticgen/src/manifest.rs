//! Finds the project manifest (`pyproject.toml`, `Cargo.toml` or `package.json`) and reads its
//! version, resolving Cargo workspace inheritance, plus the name, description and licence for labels.

use std::path::{Component, Path, PathBuf};

use crate::version::{self, ProjectVersion, VersionError};

/// Manifest file names in the order auto-detection tries them.
pub const DETECTED: [&str; 3] = ["pyproject.toml", "Cargo.toml", "package.json"];

/// A manifest read successfully.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file, relative to the working directory, as the user would write it.
    pub path: PathBuf,
    pub version: ProjectVersion,
    /// Where the version came from, e.g. ``[project].version in `pyproject.toml` ``.
    pub version_source: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub license: Option<String>,
}

/// Why no version could be read. Every case is bad input: [`ManifestError::input`] names it.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error(
        "no pyproject.toml, Cargo.toml or package.json in `{dir}`; point `path` at the project directory or name the file with `manifest`"
    )]
    NotFound { dir: String },
    #[error(
        "`{path}` is not a pyproject.toml, Cargo.toml or package.json; name one of those files"
    )]
    UnknownKind { path: String },
    #[error("cannot read `{path}`: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("`{path}` is not valid {format}: {reason}")]
    Malformed {
        path: String,
        format: &'static str,
        reason: String,
    },
    #[error("`{path}` has no version: {hint}")]
    NoVersion { path: String, hint: String },
    #[error(
        "`{path}` declares the version dynamic (`dynamic = [\"version\"]`) without taking it from git (hatch-vcs, setuptools-scm), so it is computed at build time; set a static `[project].version`, or name the file that holds the version with `manifest`"
    )]
    Dynamic { path: String },
    #[error("`{path}` takes its version from git ({tool}), but {reason}")]
    Vcs {
        path: String,
        tool: &'static str,
        reason: String,
    },
    #[error("`{path}`: `{key}` must be {expected}")]
    WrongType {
        path: String,
        key: String,
        expected: &'static str,
    },
    #[error("`{path}`: {source}")]
    Version { path: String, source: VersionError },
}

impl ManifestError {
    /// The input to blame: `path` when nothing was found, `manifest` for everything else.
    pub fn input(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "path",
            _ => "manifest",
        }
    }
}

/// The version of a project that takes it from git, or why there is none (see [`crate::vcs`]).
pub type VcsVersion<'a> = &'a dyn Fn() -> Result<(ProjectVersion, String), String>;

/// Reads the manifest named by `file` (relative to `dir`), or the first of [`DETECTED`] in `dir`;
/// a `pyproject.toml` whose version comes from git asks `vcs`.
pub fn read(
    dir: &Path,
    file: Option<&str>,
    vcs: VcsVersion<'_>,
) -> Result<Manifest, ManifestError> {
    let path = match file {
        Some(file) => join(dir, Path::new(file)),
        None => DETECTED
            .iter()
            .map(|name| join(dir, Path::new(name)))
            .find(|path| path.is_file())
            .ok_or_else(|| ManifestError::NotFound {
                dir: dir.display().to_string(),
            })?,
    };
    let display = path.display().to_string();
    let kind = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    match kind {
        "pyproject.toml" => pyproject(&path, &toml_table(&path)?, vcs),
        "Cargo.toml" => cargo(&path, &toml_table(&path)?),
        "package.json" => package_json(&path, &json_value(&path)?),
        _ => Err(ManifestError::UnknownKind { path: display }),
    }
}

/// `dir/file`, without a leading `./` when `dir` is `.`, so paths print as users write them.
fn join(dir: &Path, file: &Path) -> PathBuf {
    if dir == Path::new(".") {
        file.to_path_buf()
    } else {
        dir.join(file)
    }
}

fn text(path: &Path) -> Result<String, ManifestError> {
    std::fs::read_to_string(path).map_err(|error| ManifestError::Unreadable {
        path: path.display().to_string(),
        reason: error.to_string(),
    })
}

fn toml_table(path: &Path) -> Result<toml::Table, ManifestError> {
    let text = text(path)?;
    text.parse::<toml::Table>().map_err(|error| {
        let line = error
            .span()
            .map(|span| text[..span.start].matches('\n').count() + 1);
        let at = line
            .map(|line| format!(" (line {line})"))
            .unwrap_or_default();
        ManifestError::Malformed {
            path: path.display().to_string(),
            format: "TOML",
            reason: format!("{}{at}", error.message().trim_end()),
        }
    })
}

fn json_value(path: &Path) -> Result<serde_json::Value, ManifestError> {
    serde_json::from_str(&text(path)?).map_err(|error| ManifestError::Malformed {
        path: path.display().to_string(),
        format: "JSON",
        reason: error.to_string(),
    })
}

/// A string at a dotted key path, `None` when absent, an error when present with another type.
fn toml_str<'a>(
    path: &Path,
    table: &'a toml::Table,
    key: &str,
) -> Result<Option<&'a str>, ManifestError> {
    match toml_get(table, key) {
        None => Ok(None),
        Some(toml::Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(wrong_type(path, key, "a string")),
    }
}

fn toml_get<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut parts = key.split('.');
    let first = table.get(parts.next()?)?;
    parts.try_fold(first, |value, part| value.as_table()?.get(part))
}

fn wrong_type(path: &Path, key: &str, expected: &'static str) -> ManifestError {
    ManifestError::WrongType {
        path: path.display().to_string(),
        key: key.to_owned(),
        expected,
    }
}

fn pep440(path: &Path, text: &str) -> Result<ProjectVersion, ManifestError> {
    version::parse_pep440(text)
        .map(ProjectVersion::Pep440)
        .map_err(|source| ManifestError::Version {
            path: path.display().to_string(),
            source,
        })
}

fn semver(path: &Path, text: &str) -> Result<ProjectVersion, ManifestError> {
    version::parse_semver(text)
        .map(ProjectVersion::SemVer)
        .map_err(|source| ManifestError::Version {
            path: path.display().to_string(),
            source,
        })
}

/// The tool that gives a `dynamic = ["version"]` project its version from git, if one does.
fn vcs_tool(table: &toml::Table) -> Option<&'static str> {
    if toml_get(table, "tool.hatch.version.source").and_then(toml::Value::as_str) == Some("vcs") {
        Some("hatch-vcs")
    } else if toml_get(table, "tool.setuptools_scm").is_some() {
        Some("setuptools-scm")
    } else {
        None
    }
}

fn pyproject(
    path: &Path,
    table: &toml::Table,
    vcs: VcsVersion<'_>,
) -> Result<Manifest, ManifestError> {
    let display = path.display().to_string();
    let (version, version_source) = if let Some(text) = toml_str(path, table, "project.version")? {
        (
            pep440(path, text)?,
            format!("[project].version in `{display}`"),
        )
    } else if let Some(text) = toml_str(path, table, "tool.poetry.version")? {
        (
            pep440(path, text)?,
            format!("[tool.poetry].version in `{display}`"),
        )
    } else {
        let dynamic = toml_get(table, "project.dynamic").and_then(toml::Value::as_array);
        if !dynamic.is_some_and(|items| items.iter().any(|item| item.as_str() == Some("version"))) {
            return Err(ManifestError::NoVersion {
                path: display,
                hint: "set `[project].version` (or `[tool.poetry].version` for Poetry 1)"
                    .to_owned(),
            });
        }
        let Some(tool) = vcs_tool(table) else {
            return Err(ManifestError::Dynamic { path: display });
        };
        let (version, from) = vcs().map_err(|reason| ManifestError::Vcs {
            path: display.clone(),
            tool,
            reason,
        })?;
        (version, format!("{from} ({tool}, `{display}`)"))
    };
    let either = |a: &str, b: &str| -> Result<Option<String>, ManifestError> {
        Ok(toml_str(path, table, a)?
            .or(toml_str(path, table, b)?)
            .map(str::to_owned))
    };
    let license = match toml_get(table, "project.license") {
        Some(toml::Value::String(expression)) => Some(expression.clone()),
        Some(toml::Value::Table(license)) => license
            .get("text")
            .and_then(toml::Value::as_str)
            .map(str::to_owned),
        Some(_) => return Err(wrong_type(path, "project.license", "a string or a table")),
        None => toml_str(path, table, "tool.poetry.license")?.map(str::to_owned),
    };
    Ok(Manifest {
        version,
        version_source,
        name: either("project.name", "tool.poetry.name")?,
        description: either("project.description", "tool.poetry.description")?,
        license,
        path: path.to_path_buf(),
    })
}

fn cargo(path: &Path, table: &toml::Table) -> Result<Manifest, ManifestError> {
    let display = path.display().to_string();
    let mut workspace: Option<(PathBuf, toml::Table)> = None;
    // A `[package]` field, or the `[workspace.package]` one it inherits with `field.workspace = true`.
    let mut field = |key: &str| -> Result<Option<(String, String)>, ManifestError> {
        let own = format!("package.{key}");
        match toml_get(table, &own) {
            None => Ok(None),
            Some(toml::Value::String(value)) => Ok(Some((
                value.clone(),
                format!("[package].{key} in `{display}`"),
            ))),
            Some(toml::Value::Table(inherit))
                if inherit.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
            {
                if workspace.is_none() {
                    workspace = Some(workspace_root(path, table)?);
                }
                let (root, root_table) = workspace.as_ref().expect("just found");
                let inherited = format!("workspace.package.{key}");
                match toml_str(root, root_table, &inherited)? {
                    Some(value) => Ok(Some((
                        value.to_owned(),
                        format!("[workspace.package].{key} in `{}`", root.display()),
                    ))),
                    None => Err(ManifestError::NoVersion {
                        path: root.display().to_string(),
                        hint: format!(
                            "`{display}` inherits `{key}` from it, but it has no `[workspace.package].{key}`"
                        ),
                    }),
                }
            }
            Some(_) => Err(wrong_type(path, &own, "a string or `{ workspace = true }`")),
        }
    };
    let (text, version_source) = match field("version")? {
        Some(found) => found,
        None => match toml_str(path, table, "workspace.package.version")? {
            Some(text) => (
                text.to_owned(),
                format!("[workspace.package].version in `{display}`"),
            ),
            None => {
                return Err(ManifestError::NoVersion {
                    path: display,
                    hint: "set `[package].version` or `[workspace.package].version`".to_owned(),
                });
            }
        },
    };
    let description = field("description")?.map(|(value, _)| value);
    let license = field("license")?.map(|(value, _)| value);
    Ok(Manifest {
        version: semver(path, &text)?,
        version_source,
        name: toml_str(path, table, "package.name")?.map(str::to_owned),
        description,
        license,
        path: path.to_path_buf(),
    })
}

/// The workspace root of a member: the manifest itself when it has `[workspace]`, else the first
/// `Cargo.toml` with `[workspace]` in the directories above it.
fn workspace_root(
    path: &Path,
    table: &toml::Table,
) -> Result<(PathBuf, toml::Table), ManifestError> {
    if table.contains_key("workspace") {
        return Ok((path.to_path_buf(), table.clone()));
    }
    let absolute = std::path::absolute(path).map_err(|error| ManifestError::Unreadable {
        path: path.display().to_string(),
        reason: error.to_string(),
    })?;
    let mut relative = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for dir in absolute.ancestors().skip(2) {
        if matches!(
            relative.components().next_back(),
            Some(Component::Normal(_))
        ) {
            relative.pop();
        } else {
            relative.push("..");
        }
        let candidate = dir.join("Cargo.toml");
        if candidate.is_file() {
            let shown = relative.join("Cargo.toml");
            let root = toml_table(&candidate).map_err(|error| match error {
                ManifestError::Malformed { format, reason, .. } => ManifestError::Malformed {
                    path: shown.display().to_string(),
                    format,
                    reason,
                },
                other => other,
            })?;
            if root.contains_key("workspace") {
                return Ok((shown, root));
            }
        }
    }
    Err(ManifestError::NoVersion {
        path: path.display().to_string(),
        hint: "it inherits from the workspace (`workspace = true`) but no Cargo.toml with `[workspace]` is above it".to_owned(),
    })
}

fn package_json(path: &Path, value: &serde_json::Value) -> Result<Manifest, ManifestError> {
    let display = path.display().to_string();
    let string = |key: &str| -> Result<Option<String>, ManifestError> {
        match value.get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(wrong_type(path, key, "a string")),
        }
    };
    if !value.is_object() {
        return Err(ManifestError::Malformed {
            path: display,
            format: "package.json",
            reason: "not a JSON object".to_owned(),
        });
    }
    let Some(text) = string("version")? else {
        return Err(ManifestError::NoVersion {
            path: display,
            hint: "set `\"version\"`".to_owned(),
        });
    };
    let license = match value.get("license") {
        Some(serde_json::Value::Object(license)) => license
            .get("type")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        _ => string("license")?,
    };
    Ok(Manifest {
        version: semver(path, &text)?,
        version_source: format!("\"version\" in `{display}`"),
        name: string("name")?,
        description: string("description")?,
        license,
        path: path.to_path_buf(),
    })
}
