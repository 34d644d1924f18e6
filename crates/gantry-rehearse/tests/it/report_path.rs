//! Where the HTML report goes unless told: under `target/`, so a rehearsal in a checkout leaves
//! nothing for `git status` to show.

use std::process::Command;

use gantry_rehearse::report;

#[test]
fn the_report_goes_under_target_by_default() {
    let mut gantry = Command::new(env!("CARGO_BIN_EXE_gantry"));
    gantry_testkit::hermetic(&mut gantry).args(["rehearse", "--help"]);
    let output = gantry.output().expect("gantry runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("[default: target/gantry-rehearsal.html]"),
        "{help}"
    );
}

#[test]
fn the_report_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(report::DEFAULT_HTML_PATH);
    report::write_html(&path, "<html></html>").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "<html></html>");
    assert!(dir.path().join("target").is_dir());
}
