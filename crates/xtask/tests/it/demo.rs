//! The quick-start demo runs the three steps successfully and shows what they decided.

#[test]
fn the_demo_job_passes_and_explains_itself() {
    let mut out = Vec::new();
    let codes = xtask::demo::run(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(codes, [0, 0, 0], "{text}");
    for needle in [
        "tic=1.4.0-rc.2.pr.42.g5e6f7a8",
        "tic=1.4.0-rc.2\n",
        "is-release=true",
        "result=success",
        "| `docs-preview` | failure | allowed-failure |",
    ] {
        assert!(
            text.contains(needle),
            "demo output lacks {needle:?}:\n{text}"
        );
    }
}
