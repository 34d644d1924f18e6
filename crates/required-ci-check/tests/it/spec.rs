//! The SPEC the lead generates `action.yml` and the README tables from.

/// GitHub evaluates `${{ }}` inside an action.yml's descriptions while loading the action, where
/// no context exists: one example expression in a description would break every workflow using it.
#[test]
fn no_spec_text_holds_an_expression() {
    let spec = &required_ci_check::SPEC;
    let texts = [spec.title, spec.description]
        .into_iter()
        .chain(spec.inputs.iter().flat_map(|input| {
            [
                input.name,
                input.description,
                input.default.unwrap_or_default(),
            ]
        }))
        .chain(
            spec.outputs
                .iter()
                .flat_map(|output| [output.name, output.description]),
        );
    for text in texts {
        assert!(!text.contains("${{"), "{text}");
    }
}
