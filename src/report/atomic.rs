//! Replacing an output directory all at once.
//!
//! A planner who opens `summary.csv` must never see a mix of this run's
//! files and the last run's, nor a half-written file after a crash or a full
//! disk. So the outputs are written into a temporary directory beside the
//! target (same parent, hence same file system, so `rename` is atomic) and
//! swapped in only once every file is complete.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Distinguishes temporary directories of the same process (two writers in
/// one process, e.g. tests running in parallel).
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Fills a fresh directory with `fill`, then makes it `target`.
///
/// 1. Creates `target`'s parent directories if missing.
/// 2. Creates `.<name>.partial-<pid>-<k>` beside `target` and calls `fill`
///    with its path.
/// 3. If `fill` fails, removes the temporary directory and returns the
///    error; `target` is untouched.
/// 4. Otherwise, if `target` exists, renames it aside to
///    `.<name>.old-<pid>-<k>`, renames the new directory to `target`, then
///    removes the old one. If the second rename fails, the old directory is
///    renamed back.
///
/// Removing the old directory is best effort: the new outputs are already
/// in place and complete, so a failure there is not reported as an error
/// (the leftover is a dot-directory named after the target).
///
/// An existing `target` that is not a directory is an error (nothing is
/// written): replacing a file with a directory is never what was meant.
pub fn replace_dir_with<F>(target: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&Path) -> io::Result<()>,
{
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("output path {} has no directory name", target.display()),
        )
    })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Ok(meta) = fs::metadata(target)
        && !meta.is_dir()
    {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "output path {} exists and is not a directory",
                target.display()
            ),
        ));
    }
    fs::create_dir_all(&parent)?;

    let tag = format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let side = |kind: &str| {
        let mut n = std::ffi::OsString::from(".");
        n.push(name);
        n.push(format!(".{kind}-{tag}"));
        parent.join(n)
    };
    let tmp = side("partial");
    let old = side("old");

    // A leftover from a crashed run that had the same pid: clear it.
    remove_if_exists(&tmp)?;
    fs::create_dir(&tmp)?;

    if let Err(e) = fill(&tmp) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if let Err(e) = swap_in(&tmp, target, &old) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Moves `new` to `target`, moving an existing `target` to `old` first and
/// removing it afterwards.
fn swap_in(new: &Path, target: &Path, old: &Path) -> io::Result<()> {
    if fs::symlink_metadata(target).is_err() {
        return fs::rename(new, target);
    }
    remove_if_exists(old)?;
    fs::rename(target, old)?;
    if let Err(e) = fs::rename(new, target) {
        // Put the previous outputs back so the target is as it was.
        let _ = fs::rename(old, target);
        return Err(e);
    }
    let _ = remove_any(old);
    Ok(())
}

fn remove_if_exists(p: &Path) -> io::Result<()> {
    match remove_any(p) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// Removes a directory tree, or a symlink itself (never what it points to).
fn remove_any(p: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(p)?;
    if meta.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    }
}
