//! Every `actions/*/action.yml` matches its binary's spec and never interpolates inputs into scripts.

use std::collections::BTreeSet;

use serde_yaml::Value;
use xtask::{ACTIONS, BIN_DIR_INPUT, generated_files, repo_root};

fn action_ymls() -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(repo_root().join("actions")).unwrap() {
        let path = entry.unwrap().path().join("action.yml");
        if path.exists() {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            found.push((name, serde_yaml::from_str(&text).unwrap()));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

#[test]
fn generated_files_are_up_to_date() {
    for (path, wanted) in generated_files(&repo_root()).unwrap() {
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == wanted,
            "{} is stale: run `cargo xtask codegen`",
            path.display()
        );
    }
}

#[test]
fn every_action_directory_belongs_to_a_spec_and_back() {
    let dirs: BTreeSet<String> = action_ymls().into_iter().map(|(name, _)| name).collect();
    let specs: BTreeSet<String> = ACTIONS.iter().map(|spec| spec.name.to_owned()).collect();
    assert_eq!(dirs, specs);
}

#[test]
fn action_yml_inputs_and_outputs_match_the_binary_spec() {
    for spec in ACTIONS {
        let (_, yml) = action_ymls()
            .into_iter()
            .find(|(name, _)| name == spec.name)
            .unwrap();
        let inputs = yml["inputs"].as_mapping().unwrap();
        assert_eq!(
            inputs.len(),
            spec.inputs.len() + 1,
            "{}: spec inputs plus {BIN_DIR_INPUT}",
            spec.name
        );
        for input in spec.inputs {
            let entry = &inputs[input.name];
            assert_eq!(
                entry["description"].as_str(),
                Some(input.description),
                "{}.{}",
                spec.name,
                input.name
            );
            assert_eq!(
                entry["required"].as_bool(),
                Some(input.required),
                "{}.{}",
                spec.name,
                input.name
            );
            assert_eq!(
                entry["default"].as_str(),
                input.default,
                "{}.{}",
                spec.name,
                input.name
            );
        }
        let outputs = yml["outputs"].as_mapping().unwrap();
        assert_eq!(outputs.len(), spec.outputs.len());
        for output in spec.outputs {
            assert_eq!(
                outputs[output.name]["description"].as_str(),
                Some(output.description)
            );
            let value = format!("${{{{ steps.run.outputs.{} }}}}", output.name);
            assert_eq!(outputs[output.name]["value"].as_str(), Some(value.as_str()));
        }
    }
}

/// What is wrong with a composite action's way of passing inputs; empty when nothing is.
fn env_only_violations(yml: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if yml["runs"]["using"].as_str() != Some("composite") {
        problems.push("not a composite action".to_owned());
    }
    let mut passed = BTreeSet::new();
    for step in yml["runs"]["steps"].as_sequence().into_iter().flatten() {
        if let Some(script) = step["run"].as_str().filter(|script| script.contains("${{")) {
            problems.push(format!("expression inside a run script: {script}"));
        }
        for (key, value) in step["env"].as_mapping().into_iter().flatten() {
            let (key, value) = (
                key.as_str().unwrap_or_default(),
                value.as_str().unwrap_or_default(),
            );
            if let Some(input) = value
                .strip_prefix("${{ inputs.")
                .and_then(|v| v.strip_suffix(" }}"))
            {
                passed.insert(input.to_owned());
                if key.starts_with("INPUT_") && key != gantry_runner::spec::input_env_name(input) {
                    problems.push(format!("{key} carries input {input}"));
                }
            }
        }
    }
    for (input, _) in yml["inputs"].as_mapping().into_iter().flatten() {
        let input = input.as_str().unwrap_or_default();
        if !passed.contains(input) {
            problems.push(format!("input {input} reaches no step through env"));
        }
    }
    problems
}

#[test]
fn composite_steps_pass_inputs_through_env_only() {
    let ymls = action_ymls();
    assert!(!ymls.is_empty());
    for (name, yml) in ymls {
        assert_eq!(env_only_violations(&yml), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn the_env_only_check_catches_interpolation_and_unpassed_inputs() {
    let bad: Value = serde_yaml::from_str(
        "inputs: {tag: {}, other: {}}\nruns:\n  using: composite\n  steps:\n    - run: echo ${{ inputs.tag }}\n      env: {INPUT_TAGS: '${{ inputs.tag }}'}\n",
    )
    .unwrap();
    assert_eq!(
        env_only_violations(&bad),
        [
            "expression inside a run script: echo ${{ inputs.tag }}",
            "INPUT_TAGS carries input tag",
            "input other reaches no step through env"
        ]
    );
}

#[test]
fn no_description_holds_an_expression() {
    // GitHub evaluates `${{ }}` in action.yml descriptions when loading the action and rejects it.
    for spec in ACTIONS {
        let texts = std::iter::once(spec.title)
            .chain(std::iter::once(spec.description))
            .chain(spec.inputs.iter().map(|input| input.description))
            .chain(spec.outputs.iter().map(|output| output.description));
        for text in texts {
            assert!(!text.contains("${{"), "{}: {text}", spec.name);
        }
    }
}
