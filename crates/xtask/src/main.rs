//! `cargo xtask codegen` writes the generated files; `cargo xtask check` fails if any is stale.

use anyhow::{Context as _, bail};

fn main() -> anyhow::Result<()> {
    let root = xtask::repo_root();
    let command = std::env::args().nth(1).unwrap_or_default();
    let files = xtask::generated_files(&root)?;
    match command.as_str() {
        "codegen" => {
            for (path, content) in files {
                std::fs::create_dir_all(
                    path.parent().expect("generated files live in a directory"),
                )?;
                std::fs::write(&path, content)
                    .with_context(|| format!("write {}", path.display()))?;
            }
            Ok(())
        }
        "check" => {
            let stale: Vec<String> = files
                .iter()
                .filter(|(path, content)| {
                    std::fs::read_to_string(path).ok().as_deref() != Some(content.as_str())
                })
                .map(|(path, _)| path.display().to_string())
                .collect();
            if stale.is_empty() {
                Ok(())
            } else {
                bail!(
                    "stale generated files (run `cargo xtask codegen`): {}",
                    stale.join(", ")
                )
            }
        }
        _ => bail!("usage: cargo xtask codegen|check"),
    }
}
