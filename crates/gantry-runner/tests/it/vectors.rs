//! Every vector from actions/runner and actions/toolkit in tests/data, run against this crate.

use gantry_runner::command;
use gantry_runner::file_command;
use gantry_runner::inputs::{parse_bool, split_list};
use gantry_runner::spec::input_env_name;
use serde_json::Value;

fn vectors() -> Value {
    let text = include_str!("../data/workflow-commands-and-file-commands-vectors.json");
    serde_json::from_str(text).expect("vectors parse")
}

fn cases<'a>(vectors: &'a Value, section: &str) -> &'a Vec<Value> {
    vectors[section]["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("section {section} has cases"))
}

/// The toolkit stringifies non-string values with JSON; strings stay as they are.
fn stringify(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[test]
fn input_names_map_to_the_runner_env_names() {
    let vectors = vectors();
    let cases = cases(&vectors, "input_env_names");
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["input_name"].as_str().unwrap();
        assert_eq!(
            input_env_name(name),
            case["env"].as_str().unwrap(),
            "input {name:?}"
        );
        if let Some(value) = case["env_value"].as_str() {
            assert_eq!(
                value.trim(),
                case["getInput"].as_str().unwrap(),
                "trimmed value of {name:?}"
            );
        }
    }
}

#[test]
fn booleans_accept_exactly_the_six_yaml_core_spellings() {
    let rule = vectors()["input_env_names"]["getBooleanInput"]
        .as_str()
        .unwrap()
        .to_owned();
    for spelling in ["true", "True", "TRUE"] {
        assert!(rule.contains(spelling));
        assert_eq!(parse_bool(spelling), Some(true));
    }
    for spelling in ["false", "False", "FALSE"] {
        assert!(rule.contains(spelling));
        assert_eq!(parse_bool(spelling), Some(false));
    }
    for wrong in ["yes", "on", "1", "tRue", "", " true", "false "] {
        assert_eq!(parse_bool(wrong), None, "{wrong:?} must be rejected");
    }
}

#[test]
fn multiline_inputs_split_trim_and_drop_empty_lines() {
    assert_eq!(split_list("val1\nval2\nval3"), ["val1", "val2", "val3"]);
    assert_eq!(split_list("  a \n\n b\r\n"), ["a", "b"]);
    assert!(split_list("\n \n").is_empty());
}

#[test]
fn commands_are_escaped_exactly_as_the_toolkit_does() {
    let vectors = vectors();
    let cases = cases(&vectors, "command_escape_toolkit");
    assert!(cases.len() >= 12);
    for case in cases {
        let props: Vec<(String, String)> = case["props"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(key, value)| (key.clone(), stringify(value)))
            .collect();
        let props: Vec<(&str, &str)> = props
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let line = command::format(
            case["cmd"].as_str().unwrap(),
            &props,
            &stringify(&case["msg"]),
        );
        assert_eq!(line, case["out"].as_str().unwrap(), "case {case}");
    }
}

#[test]
fn commands_parse_exactly_as_the_runner_parses_them() {
    let vectors = vectors();
    let cases = cases(&vectors, "command_parse_v2_runner");
    assert!(cases.len() >= 8);
    for case in cases {
        let line = case["line"].as_str().unwrap();
        let parsed = command::parse(line);
        if case["parsed"] == Value::Bool(false) {
            assert_eq!(parsed, None, "{line:?} is no command");
            continue;
        }
        let parsed = parsed.unwrap_or_else(|| panic!("{line:?} parses"));
        assert_eq!(
            parsed.command,
            case["command"].as_str().unwrap(),
            "{line:?}"
        );
        assert_eq!(parsed.data, case["data"].as_str().unwrap(), "{line:?}");
        let expected: std::collections::BTreeMap<String, String> =
            serde_json::from_value(case["properties"].clone()).unwrap();
        assert_eq!(parsed.properties, expected, "{line:?}");
    }
}

#[test]
fn formatted_commands_round_trip_through_the_runner_parser() {
    let tricky = "50% done\r\nnext: a, b :: c %0A";
    let line = command::format(
        "warning",
        &[("title", tricky), ("file", "a,b:c.txt")],
        tricky,
    );
    let parsed = command::parse(&line).unwrap();
    assert_eq!(parsed.data, tricky);
    assert_eq!(parsed.properties["title"], tricky);
    assert_eq!(parsed.properties["file"], "a,b:c.txt");
}

#[test]
fn output_files_parse_exactly_as_the_runner_parses_them() {
    let vectors = vectors();
    let cases = cases(&vectors, "file_commands_GITHUB_OUTPUT_runner");
    assert!(cases.len() >= 12);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let text = match case["file_exact"].as_str() {
            Some(text) => text.to_owned(),
            None => {
                let join = match case["join"].as_str().unwrap() {
                    "\\n" => "\n",
                    other => other,
                };
                let lines: Vec<&str> = case["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap())
                    .collect();
                lines.join(join)
            }
        };
        match case["error_contains"].as_str() {
            Some(expected) => {
                let error = file_command::parse(&text).expect_err(id).to_string();
                assert!(
                    error.contains(expected),
                    "{id}: {error:?} should contain {expected:?}"
                );
            }
            None => {
                let expected: std::collections::BTreeMap<String, String> =
                    serde_json::from_value(case["outputs"].clone()).unwrap();
                assert_eq!(file_command::parse(&text).expect(id), expected, "{id}");
                let with_bom = format!("\u{feff}{text}");
                assert_eq!(
                    file_command::parse(&with_bom).expect(id),
                    expected,
                    "{id} with BOM"
                );
                let crlf = text.replace('\n', "\r\n");
                let expected_crlf: std::collections::BTreeMap<String, String> = expected
                    .iter()
                    .map(|(k, v)| (k.clone(), v.replace('\n', "\r\n")))
                    .collect();
                assert_eq!(
                    file_command::parse(&crlf).expect(id),
                    expected_crlf,
                    "{id} with CRLF"
                );
            }
        }
    }
}

#[test]
fn rendered_outputs_read_back_unchanged_whatever_the_values() {
    let nasty = [
        ("plain", "value"),
        ("empty", ""),
        ("multi", "line one\nline two\n"),
        ("lookalike", "ghadelimiter_0123\nEOF\n=x\n<<y"),
        ("equals", "a=b"),
        ("unicode", "déploiement ✓"),
    ];
    let outputs: Vec<(String, String)> = nasty
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let block = file_command::render(&outputs);
    let parsed = file_command::parse(&block).unwrap();
    for (name, value) in nasty {
        assert_eq!(parsed[name], value, "{name}");
    }
    let delimiter = block.lines().next().unwrap().split_once("<<").unwrap().1;
    assert!(
        delimiter.starts_with("ghadelimiter_") && delimiter.len() > 40,
        "random delimiter {delimiter}"
    );
    assert_ne!(
        block,
        file_command::render(&outputs),
        "each render draws a new delimiter"
    );
}
