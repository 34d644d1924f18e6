//! Input resolution, phase one of two: raw strings from `--flag`, `INPUT_*` or the declared default,
//! trimmed and checked for UTF-8 and presence. Actions turn these into typed values (phase two).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::str::FromStr;

use crate::env::Env;
use crate::error::ActionError;
use crate::secret::Secret;
use crate::spec::{ActionSpec, InputSpec};

/// Every declared input of one action, resolved to a trimmed string or absent.
#[derive(Debug)]
pub struct Inputs {
    spec: &'static ActionSpec,
    values: BTreeMap<&'static str, Value>,
}

enum Value {
    Absent,
    Plain(String),
    Secret(Secret),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Absent => f.write_str("Absent"),
            Self::Plain(value) => write!(f, "{value:?}"),
            Self::Secret(secret) => write!(f, "{secret:?}"),
        }
    }
}

impl Inputs {
    /// Resolves every declared input: a command-line value wins over `INPUT_<NAME>`, which wins over
    /// the default. Values are trimmed as `@actions/core` trims them; empty means not given.
    pub(crate) fn resolve(
        spec: &'static ActionSpec,
        flags: &BTreeMap<&'static str, OsString>,
        env: &Env,
    ) -> Result<Self, ActionError> {
        let mut values = BTreeMap::new();
        for input in spec.inputs {
            let raw = match flags.get(input.name) {
                Some(flag) => Some(flag.clone()),
                None => env.raw(&input.env_name()).map(ToOwned::to_owned),
            };
            let given = match raw {
                None => None,
                Some(raw) => {
                    let text = raw.into_string().map_err(|_| {
                        ActionError::input(input.name, "is not valid UTF-8; pass text only")
                    })?;
                    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
                }
            };
            let value = given
                .or_else(|| input.cli_default().map(str::to_owned))
                .filter(|text| !text.is_empty());
            let value = match value {
                None if input.required => {
                    return Err(ActionError::input(input.name, required_message(input)));
                }
                None => Value::Absent,
                Some(text) if input.secret => Value::Secret(Secret::new(text)),
                Some(text) => Value::Plain(text),
            };
            values.insert(input.name, value);
        }
        Ok(Self { spec, values })
    }

    /// Secret values, so the harness can mask them before anything else is printed.
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &Secret> {
        self.values.values().filter_map(|value| match value {
            Value::Secret(secret) => Some(secret),
            _ => None,
        })
    }

    fn value(&self, name: &str) -> &Value {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("input `{name}` is not declared by {}", self.spec.name))
    }

    /// The trimmed value, or `None` when not given and without default.
    pub fn get(&self, name: &str) -> Option<&str> {
        match self.value(name) {
            Value::Plain(text) => Some(text),
            Value::Absent => None,
            Value::Secret(_) => panic!("input `{name}` is a secret: read it with Inputs::secret"),
        }
    }

    /// The value of a required input (resolution already rejected a missing one).
    pub fn required(&self, name: &str) -> Result<&str, ActionError> {
        self.get(name)
            .ok_or_else(|| ActionError::input(name, "is required; set it under `with:`"))
    }

    /// A secret input, already masked.
    pub fn secret(&self, name: &str) -> Option<&Secret> {
        match self.value(name) {
            Value::Secret(secret) => Some(secret),
            Value::Absent => None,
            Value::Plain(_) => panic!("input `{name}` is not declared secret"),
        }
    }

    /// A boolean: exactly `true|True|TRUE|false|False|FALSE`, the YAML 1.2 core schema spellings the
    /// toolkit accepts. `None` when not given and without default.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ActionError> {
        self.get(name)
            .map(|text| parse_bool(text).ok_or_else(|| bad_bool(name, text)))
            .transpose()
    }

    /// A boolean that has a default in the spec, so it is always present.
    pub fn flag(&self, name: &str) -> Result<bool, ActionError> {
        self.bool(name)?
            .ok_or_else(|| ActionError::input(name, "is required; use true or false"))
    }

    /// A multi-line list: split on newlines, each entry trimmed, empty entries dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name).map(split_list).unwrap_or_default()
    }

    /// A duration such as `90s`, `5m` or `1h 30m`.
    pub fn duration(&self, name: &str) -> Result<Option<std::time::Duration>, ActionError> {
        self.get(name)
            .map(|text| {
                humantime::parse_duration(text).map_err(|error| {
                    ActionError::input(
                        name,
                        format!(
                            "`{text}` is not a duration ({error}); write it like 90s, 10m or 1h"
                        ),
                    )
                })
            })
            .transpose()
    }

    /// Parses the value with `FromStr`; the error names the input and says what was expected.
    pub fn parse<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, ActionError> {
        self.get(name)
            .map(|text| {
                text.parse()
                    .map_err(|_| ActionError::input(name, format!("`{text}` is not {expected}")))
            })
            .transpose()
    }
}

/// The six spellings `core.getBooleanInput` accepts.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn bad_bool(name: &str, text: &str) -> ActionError {
    ActionError::input(
        name,
        format!("`{text}` is not a boolean; use true or false (also True, TRUE, False, FALSE)"),
    )
}

/// `core.getMultilineInput`: split on `\n`, trim each entry, drop empty entries.
pub fn split_list(text: &str) -> Vec<String> {
    text.split('\n')
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

fn required_message(input: &InputSpec) -> String {
    format!(
        "is required and was not supplied; set it under `with:` or pass --{}",
        input.name
    )
}
