//! The `{{placeholders}}` of a query or URL: the new version's labels, substituted before each
//! measurement. The names are a closed set, checked when the spec is read, so a misspelt one is
//! exit 2 rather than a query that silently matches nothing.

use std::collections::BTreeMap;

/// Every placeholder a query or URL may use.
pub const NAMES: [&str; 5] = ["image", "version", "namespace", "deployment", "canary"];

/// The values of the placeholders for one analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Substitutions {
    values: BTreeMap<&'static str, String>,
}

impl Substitutions {
    /// The new version's labels: its `image` reference, its `version` (the image tag, or what
    /// the caller calls it), the `namespace`, the main `deployment` and the `canary` (or green)
    /// Deployment running it.
    pub fn new(
        image: &str,
        version: &str,
        namespace: &str,
        deployment: &str,
        canary: &str,
    ) -> Self {
        let values = NAMES
            .into_iter()
            .zip([image, version, namespace, deployment, canary])
            .map(|(name, value)| (name, value.to_owned()))
            .collect();
        Self { values }
    }

    /// `template` with every `{{ name }}` replaced by its value.
    pub fn apply(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some((before, after)) = rest.split_once("{{") {
            out.push_str(before);
            match after.split_once("}}") {
                Some((name, tail)) => {
                    match self.values.get(name.trim()) {
                        Some(value) => out.push_str(value),
                        None => {
                            out.push_str("{{");
                            out.push_str(name);
                            out.push_str("}}");
                        }
                    }
                    rest = tail;
                }
                None => {
                    out.push_str("{{");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// The first placeholder in `template` that is not one of [`NAMES`], or an unclosed `{{`.
pub fn check(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some((_, after)) = rest.split_once("{{") {
        let Some((name, tail)) = after.split_once("}}") else {
            return Err("has a `{{` without its `}}`".to_owned());
        };
        if !NAMES.contains(&name.trim()) {
            return Err(format!(
                "has an unknown placeholder {{{{{}}}}}; use one of {}",
                name.trim(),
                NAMES.map(|n| format!("{{{{{n}}}}}")).join(", ")
            ));
        }
        rest = tail;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_every_placeholder() {
        let vars = Substitutions::new("reg/app:2.0", "2.0", "prod", "web", "web-canary");
        assert_eq!(
            vars.apply(r#"rate(x{deployment="{{canary}}",image="{{ image }}"}[1m]) # {{version}} {{namespace}}/{{deployment}}"#),
            r#"rate(x{deployment="web-canary",image="reg/app:2.0"}[1m]) # 2.0 prod/web"#
        );
        assert_eq!(vars.apply("no placeholders"), "no placeholders");
    }

    #[test]
    fn unknown_placeholders_are_named() {
        assert!(check("{{canary}} and {{ version }}").is_ok());
        let error = check("x{pod=\"{{pod}}\"}").unwrap_err();
        assert!(
            error.contains("{{pod}}") && error.contains("{{canary}}"),
            "{error}"
        );
        assert!(check("{{canary").is_err());
    }
}
