//! The landing-zone env file: `export NAME=value` lines (the `export` is optional), values bare or
//! in single or double quotes, `#` comments on their own line or after a bare value.

use std::collections::BTreeMap;

/// Parses the file; the error names the 1-based line and never quotes its value.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export")
            .filter(|rest| rest.starts_with([' ', '\t']))
            .map_or(line, str::trim_start);
        let Some((name, raw)) = line.split_once('=') else {
            return Err(format!("line {number} is not `export NAME=value`"));
        };
        let name = name.trim();
        if !is_name(name) {
            return Err(format!("line {number}: `{name}` is not a variable name"));
        }
        let value = unquote(raw.trim())
            .ok_or_else(|| format!("line {number}: the value of {name} has an unclosed quote"))?;
        values.insert(name.to_owned(), value);
    }
    Ok(values)
}

/// A shell variable name: letters, digits and `_`, not starting with a digit.
pub fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

fn unquote(raw: &str) -> Option<String> {
    for quote in ['"', '\''] {
        if let Some(rest) = raw.strip_prefix(quote) {
            let end = rest.find(quote)?;
            let after = rest[end + 1..].trim();
            return (after.is_empty() || after.starts_with('#')).then(|| rest[..end].to_owned());
        }
    }
    let bare = match raw.find(" #") {
        Some(comment) => &raw[..comment],
        None => raw,
    };
    Some(bare.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_format_with_quotes_and_comments() {
        let text = "# landing zone: pre-prod\nexport IMAGE_NAME=\"registry.example/app\"\nexport IMAGE_VERSION='1.4.0' # bumped by auto-deploy\n\nNAME=web # the app\nexport DEPLOYMENT_NAME=web\n";
        let values = parse(text).unwrap();
        assert_eq!(values["IMAGE_NAME"], "registry.example/app");
        assert_eq!(values["IMAGE_VERSION"], "1.4.0");
        assert_eq!(values["NAME"], "web");
        assert_eq!(values["DEPLOYMENT_NAME"], "web");
    }

    #[test]
    fn export_is_optional_and_may_be_followed_by_a_tab() {
        let values = parse("IMAGE_TAG=1.2\nexport\tNAMESPACE=prod\nexported=x\n").unwrap();
        assert_eq!(values["IMAGE_TAG"], "1.2");
        assert_eq!(values["NAMESPACE"], "prod");
        assert_eq!(values["exported"], "x");
    }

    #[test]
    fn broken_lines_are_named() {
        assert_eq!(
            parse("export IMAGE_NAME=a\nexport oops\n").unwrap_err(),
            "line 2 is not `export NAME=value`"
        );
        assert_eq!(
            parse("export IMAGE_VERSION=\"1.0\n").unwrap_err(),
            "line 1: the value of IMAGE_VERSION has an unclosed quote"
        );
        assert_eq!(
            parse("export 1X=2\n").unwrap_err(),
            "line 1: `1X` is not a variable name"
        );
    }
}
