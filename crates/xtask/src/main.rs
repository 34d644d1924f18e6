//! `cargo xtask codegen` writes the generated files; `cargo xtask check` fails if any is stale;
//! `cargo xtask pin actions|workflows <commit>` moves the pins of this repository of one kind in the workflows and examples.

use anyhow::{Context as _, bail};

const USAGE: &str = "usage: cargo xtask codegen|check|pin actions|workflows <commit>";

fn main() -> anyhow::Result<()> {
    let root = xtask::repo_root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["codegen"] => {
            for (path, content) in xtask::generated_files(&root)? {
                std::fs::create_dir_all(
                    path.parent().expect("generated files live in a directory"),
                )?;
                std::fs::write(&path, content)
                    .with_context(|| format!("write {}", path.display()))?;
            }
            Ok(())
        }
        ["check"] => {
            let stale: Vec<String> = xtask::generated_files(&root)?
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
        ["pin", kind, commit] => {
            let kind =
                xtask::self_pins::PinKind::parse(kind).ok_or_else(|| anyhow::anyhow!(USAGE))?;
            xtask::self_pins::pin(&root, kind, commit).map(drop)
        }
        _ => bail!(USAGE),
    }
}
