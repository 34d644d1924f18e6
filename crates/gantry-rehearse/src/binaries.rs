//! Finds the real action binaries the rehearsal runs, the same ones users get: next to the
//! `gantry` binary (a release archive, or `target/<profile>/` of a build), built first with cargo
//! when `gantry` itself was built from a checkout that is still on disk.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// Every action a release goes through, as binary names.
pub const ACTIONS: [&str; 5] = [
    "ticgen",
    "required-ci-check",
    "create-prerelease",
    "auto-deploy",
    "k8s-deploy",
];

/// The directory holding the action binaries.
#[derive(Clone, Debug)]
pub struct Binaries {
    dir: PathBuf,
}

impl Binaries {
    /// The binaries in `dir`. When `dir` is a cargo profile directory of this checkout
    /// (`target/release`, `target/debug`), they are brought up to date with `cargo build` first,
    /// and `announce` is told the command.
    pub fn locate(dir: &Path, announce: &mut dyn FnMut(&str)) -> anyhow::Result<Binaries> {
        if let Some((workspace, profile)) = checkout_profile(dir) {
            let mut cargo = Command::new(env!("CARGO"));
            cargo
                .current_dir(&workspace)
                .args(["build", "--quiet", "--profile", profile, "--target-dir"])
                .arg(dir.parent().unwrap_or(dir));
            for action in ACTIONS {
                cargo.args(["-p", action]);
            }
            announce(&format!(
                "building the action binaries: cargo build --profile {profile} -p {}",
                ACTIONS.join(" -p ")
            ));
            let status = cargo
                .status()
                .with_context(|| format!("failed to run {}", env!("CARGO")))?;
            if !status.success() {
                bail!("cargo build of the action binaries failed ({status})");
            }
        }
        Binaries::in_dir(dir)
    }

    /// The binaries in `dir`, as they are (nothing is built).
    pub fn in_dir(dir: &Path) -> anyhow::Result<Binaries> {
        let missing: Vec<&str> = ACTIONS
            .into_iter()
            .filter(|action| !dir.join(action).is_file())
            .collect();
        if !missing.is_empty() {
            bail!(
                "the action binaries {} are not in {}: put them next to gantry (the release archive holds all of them)",
                missing.join(", "),
                dir.display()
            );
        }
        Ok(Binaries {
            dir: dir.to_owned(),
        })
    }

    /// The binaries next to the running executable.
    pub fn next_to_current_exe(announce: &mut dyn FnMut(&str)) -> anyhow::Result<Binaries> {
        let exe = std::env::current_exe().context("failed to find the gantry executable")?;
        let dir = exe
            .parent()
            .context("the gantry executable has no directory")?;
        Binaries::locate(dir, announce)
    }

    pub fn path(&self, action: &str) -> PathBuf {
        self.dir.join(action)
    }
}

/// (workspace root, cargo profile) when `dir` is `<this checkout>/target/{release,debug}` (or the
/// same under another target directory while the checkout this binary was built from exists).
fn checkout_profile(dir: &Path) -> Option<(PathBuf, &'static str)> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?.parent()?;
    if !workspace.join("Cargo.toml").is_file() || !workspace.join("crates/ticgen").is_dir() {
        return None;
    }
    let profile = match dir.file_name()?.to_str()? {
        "release" => "release",
        "debug" => "dev",
        _ => return None,
    };
    Some((workspace.to_owned(), profile))
}
