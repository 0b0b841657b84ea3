//! Writing output files: atomically (a temporary file in the same folder, then a rename), so a
//! failed run never leaves a partial file behind.

use crate::error::{CliError, CliResult};

/// Writes `contents` to `path` atomically: a temporary file in the same folder, then a rename; on
/// any error the temporary file is removed and `path` is left as it was.
pub fn write_atomic(path: &str, contents: &[u8]) -> CliResult<()> {
    write_atomic_with(path, |tmp| {
        use std::io::Write;
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(contents)?;
        f.sync_all()
    })
}

/// A usage error where an output file `path`, given as `option`, is `-`: standard output carries
/// the command's summary, and a file there would be mixed into it.
pub fn refuse_stdout(option: &str, path: &str) -> CliResult<()> {
    if path == "-" {
        return Err(CliError::Usage(format!(
            "{option} cannot be `-`: standard output carries the summary; give a path"
        )));
    }
    Ok(())
}

/// Runs `write` on a temporary path beside `path` (same extension, so writers that choose the
/// format by extension still work), then renames it over `path`; on any error the temporary file
/// is removed, `path` is left as it was, and the error names `path`. `-` is refused as a usage
/// error (it would otherwise create a file named `-`).
pub fn write_atomic_with(
    path: &str,
    write: impl FnOnce(&std::path::Path) -> std::io::Result<()>,
) -> CliResult<()> {
    refuse_stdout("the output file", path)?;
    let target = std::path::Path::new(path);
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let ext = target.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}{ext}", std::process::id()));
    let result = write(&tmp).and_then(|()| std::fs::rename(&tmp, target));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(CliError::Io { file: path.to_string(), source: e });
    }
    Ok(())
}
