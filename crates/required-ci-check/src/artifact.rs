//! The decision file: replaced atomically (temp file in the same directory, then rename), so an
//! artifact upload or a concurrent reader never sees half a decision. No fsync: runners are
//! ephemeral, so surviving a power cut is worth nothing and the fsync cost ~7 ms of a ~1 ms run.

use std::io::Write as _;
use std::path::Path;

/// Writes `contents` to `path`, creating missing parent directories.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".required-ci-check-")
        .tempfile_in(dir)?;
    file.write_all(contents.as_bytes())?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}
