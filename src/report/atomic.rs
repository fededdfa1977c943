//! Replacing an output directory all at once, one writer at a time.
//!
//! A planner who opens `summary.csv` must never see a mix of this run's
//! files and the last run's, nor a half-written file after a crash, a full
//! disk or an interrupt. So the outputs are written into a temporary
//! directory beside the target (same parent, hence same file system, so
//! `rename` is atomic) and swapped in only once every file is complete.
//!
//! Two runs writing the same target are kept apart by a [`Lock`]; a run
//! killed mid-write (SIGKILL, a power cut) leaves its temporary directory,
//! which the next holder of the target's lock removes ([`sweep_leftovers`]).

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Distinguishes temporary directories of the same process (two writers in
/// one process, e.g. tests running in parallel).
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The file inside a temporary directory that says it is patientflow's and
/// which process fills it; removed just before the directory is swapped in.
pub const TEMP_MARKER: &str = ".patientflow-temp";

/// The first line of [`TEMP_MARKER`] and of a lock file.
const TEMP_FORMAT: &str = "patientflow-temp/1";
const LOCK_FORMAT: &str = "patientflow-lock/1";

/// The error of a write stopped by an interrupt (see [`is_interrupted`]).
#[derive(Debug)]
pub struct WriteInterrupted;

impl std::fmt::Display for WriteInterrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted while writing the outputs")
    }
}

impl std::error::Error for WriteInterrupted {}

/// An I/O error saying the write was interrupted.
pub fn interrupted_error() -> io::Error {
    io::Error::other(WriteInterrupted)
}

/// True if `e` is the error of a write stopped by a signal (see
/// `interrupted_error`).
pub fn is_interrupted(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<WriteInterrupted>())
}

/// Fills a fresh directory with `fill`, then makes it `target`.
///
/// 1. Creates `target`'s parent directories if missing.
/// 2. Creates `.<name>.partial-<pid>-<k>` beside `target`, holding a
///    [`TEMP_MARKER`] file (this process's id and host), and calls `fill`
///    with its path.
/// 3. If `fill` fails, removes the temporary directory and returns the
///    error; `target` is untouched.
/// 4. Otherwise removes the marker and, if `target` exists, renames it aside
///    to `.<name>.old-<pid>-<k>`, renames the new directory to `target`, then
///    removes the old one. If the second rename fails, the old directory is
///    renamed back.
///
/// Removing the old directory is best effort: the new outputs are already
/// in place and complete, so a failure there is not reported as an error
/// (the leftover is a dot-directory named after the target, swept by the
/// next writer that holds the target's [`Lock`]).
///
/// An existing `target` that is not a directory is an error (nothing is
/// written): replacing a file with a directory is never what was meant.
pub fn replace_dir_with<F>(target: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&Path) -> io::Result<()>,
{
    let (parent, name) = split(target)?;
    refuse_file(target)?;
    fs::create_dir_all(&parent)?;

    let tag = format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = side(&parent, name, "partial", &tag);
    let old = side(&parent, name, "old", &tag);

    // A leftover from a crashed run that had the same pid: clear it.
    remove_if_exists(&tmp)?;
    fs::create_dir(&tmp)?;
    let filled = fs::write(tmp.join(TEMP_MARKER), marker_text(TEMP_FORMAT))
        .and_then(|()| fill(&tmp))
        .and_then(|()| fs::remove_file(tmp.join(TEMP_MARKER)))
        .and_then(|()| swap_in(&tmp, target, &old));
    if let Err(e) = filled {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(())
}

/// `target`'s parent (`.` when it has none) and file name.
fn split(target: &Path) -> io::Result<(PathBuf, &OsStr)> {
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
    Ok((parent, name))
}

/// An error if `target` exists and is not a directory.
pub(crate) fn refuse_file(target: &Path) -> io::Result<()> {
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
    Ok(())
}

/// `.<name>.<kind>-<tag>` in `parent`.
fn side(parent: &Path, name: &OsStr, kind: &str, tag: &str) -> PathBuf {
    let mut n = OsString::from(".");
    n.push(name);
    n.push(format!(".{kind}-{tag}"));
    parent.join(n)
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

// ---------------------------------------------------------------------------
// Who wrote what: process id and host.

/// This machine's host name, if it can be read (Linux); "" otherwise.
fn host_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// The text of a marker or lock file: its format, then `pid=` and `host=`.
fn marker_text(format: &str) -> String {
    format!(
        "{format}\npid={}\nhost={}\n",
        std::process::id(),
        host_name()
    )
}

/// The process a marker or lock file names.
#[derive(Debug, PartialEq, Eq)]
struct Writer {
    pid: u32,
    host: String,
}

impl Writer {
    /// Parses [`marker_text`]; `None` unless its first line is `format`.
    fn parse(text: &str, format: &str) -> Option<Writer> {
        let mut lines = text.lines();
        if lines.next()? != format {
            return None;
        }
        let (mut pid, mut host) = (None, None);
        for line in lines {
            match line.split_once('=') {
                Some(("pid", v)) => pid = v.parse().ok(),
                Some(("host", v)) => host = Some(v.to_string()),
                _ => {}
            }
        }
        Some(Writer {
            pid: pid?,
            host: host?,
        })
    }

    fn read(path: &Path, format: &str) -> Option<Writer> {
        let mut text = String::new();
        fs::File::open(path)
            .ok()?
            .take(4096)
            .read_to_string(&mut text)
            .ok()?;
        Writer::parse(&text, format)
    }

    /// True only when this process is provably gone: it ran on this host,
    /// and this host has no process with its id (`/proc`, Linux).
    fn is_gone_from_this_host(&self) -> bool {
        self.is_this_host()
            && self.pid != std::process::id()
            && Path::new("/proc/self").exists()
            && !Path::new("/proc").join(self.pid.to_string()).exists()
    }

    fn is_this_host(&self) -> bool {
        let host = host_name();
        !host.is_empty() && self.host == host
    }

    fn describe(&self) -> String {
        if self.host.is_empty() {
            format!("process {}", self.pid)
        } else {
            format!("process {} on host {}", self.pid, self.host)
        }
    }
}

// ---------------------------------------------------------------------------
// One writer per target.

/// The exclusive right to write `target`: an advisory lock (`flock`) on
/// `.<name>.lock` beside it, which the kernel releases when the process
/// ends however it ends (SIGKILL included), so a lock is never stale. The
/// file holds the pid and host for the message another run gets; it is
/// removed when the lock is dropped.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    file: fs::File,
    /// False when the file system does not support locks (some network
    /// file systems): the run goes on without exclusion.
    exclusive: bool,
}

impl Lock {
    /// Takes the lock of `target`, creating its parent directories. Fails
    /// with [`io::ErrorKind::ResourceBusy`] and "another patientflow run is
    /// writing here" if another run (or another writer in this process)
    /// holds it.
    pub fn acquire(target: &Path) -> io::Result<Lock> {
        let (parent, name) = split(target)?;
        fs::create_dir_all(&parent)?;
        let mut file_name = OsString::from(".");
        file_name.push(name);
        file_name.push(".lock");
        let path = parent.join(file_name);
        // A holder removes the file when done; a file taken just as it was
        // removed is not the lock any more: open it again.
        for _ in 0..16 {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            let exclusive = match file.try_lock() {
                Ok(()) => true,
                Err(fs::TryLockError::WouldBlock) => {
                    let holder = Writer::read(&path, LOCK_FORMAT)
                        .map_or_else(String::new, |w| format!(" ({})", w.describe()));
                    return Err(io::Error::new(
                        io::ErrorKind::ResourceBusy,
                        format!(
                            "another patientflow run is writing here{holder}; wait for it to \
                             finish or choose another --out (its lock, {}, is released when \
                             that run ends, even if it is killed)",
                            path.display()
                        ),
                    ));
                }
                Err(fs::TryLockError::Error(e)) if locks_unsupported(&e) => false,
                Err(fs::TryLockError::Error(e)) => return Err(e),
            };
            if !exclusive || is_same_file(&file, &path) {
                file.set_len(0)?;
                file.write_all(marker_text(LOCK_FORMAT).as_bytes())?;
                crate::signals::hold_lock(path.clone());
                return Ok(Lock {
                    path,
                    file,
                    exclusive,
                });
            }
        }
        Err(io::Error::other(format!(
            "could not take the lock {}: it keeps being replaced",
            path.display()
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        crate::signals::release_lock(&self.path);
        // Removed while still held, so no other run can have it yet.
        if !self.exclusive || is_same_file(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Errors of `flock` on a file system that does not support it.
fn locks_unsupported(e: &io::Error) -> bool {
    // ENOLCK (37) and EOPNOTSUPP (95) on Linux.
    e.kind() == io::ErrorKind::Unsupported || matches!(e.raw_os_error(), Some(37 | 95))
}

#[cfg(unix)]
fn is_same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_same_file(_file: &fs::File, path: &Path) -> bool {
    path.exists()
}

/// Removes what writers of `target` that are gone left beside it (see
/// [`replace_dir_with`]), given its lock:
///
/// - `.<name>.partial-<pid>-<k>`: removed if empty, or if it holds a
///   [`TEMP_MARKER`] naming that pid (a directory with other contents and no
///   marker is not provably ours and is left alone) and that process is gone: no process of this host has its
///   id (a live one, even with a reused pid, keeps it), or, for a writer of
///   another host, the marker is over an hour old.
/// - `.<name>.old-<pid>-<k>`: the previous outputs, moved aside by a writer
///   killed between its two renames. Renamed back to `target` if `target`
///   is missing; otherwise removed if `is_output` says it is a patientflow
///   output, or if it is empty (anything else is left alone).
///
/// Without an exclusive lock (a file system without locks) only temporary
/// directories of processes provably gone from this host are removed, and
/// `.old` directories are left alone.
pub fn sweep_leftovers(
    target: &Path,
    lock: &Lock,
    is_output: impl Fn(&Path) -> bool,
) -> io::Result<()> {
    let (parent, name) = split(target)?;
    let name = name.to_string_lossy();
    let partial = format!(".{name}.partial-");
    let old = format!(".{name}.old-");
    let entries = match fs::read_dir(&parent) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let path = entry.path();
        let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if !is_dir {
            continue;
        }
        if let Some(pid) = file_name.strip_prefix(&partial).and_then(tag_pid) {
            let Some(writer) = Writer::read(&path.join(TEMP_MARKER), TEMP_FORMAT) else {
                // A writer killed before its marker was written leaves an
                // empty directory: removing an empty directory loses nothing,
                // whoever made it (`remove_dir` refuses a non-empty one).
                if lock.exclusive {
                    let _ = fs::remove_dir(&path);
                }
                continue;
            };
            // Under the lock no other writer of this target can be at work,
            // but a file system whose locks are local to each host (some
            // network mounts) cannot promise that across hosts: a writer of
            // another host must also have started over an hour ago.
            // This process's own leftover (an earlier write that could not
            // clean up) is abandoned too, given the lock.
            let abandoned = writer.is_gone_from_this_host()
                || (lock.exclusive
                    && if writer.is_this_host() {
                        writer.pid == std::process::id()
                    } else {
                        older_than(&path.join(TEMP_MARKER), ABANDONED_AFTER)
                    });
            if writer.pid == pid && abandoned {
                let _ = fs::remove_dir_all(&path);
            }
        } else if lock.exclusive
            && let Some(_pid) = file_name.strip_prefix(&old).and_then(tag_pid)
        {
            if fs::symlink_metadata(target).is_err() {
                fs::rename(&path, target)?;
            } else if is_output(&path) {
                let _ = fs::remove_dir_all(&path);
            } else {
                // A kill during the removal of the previous outputs can
                // leave the directory empty: removing an empty directory
                // loses nothing (`remove_dir` refuses a non-empty one).
                let _ = fs::remove_dir(&path);
            }
        }
    }
    Ok(())
}

/// How old another host's temporary directory must be to count as
/// abandoned.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// True if `path` was last modified more than `age` ago.
fn older_than(path: &Path, age: std::time::Duration) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|e| e > age)
}

/// The pid of a `<pid>-<k>` tag.
fn tag_pid(tag: &str) -> Option<u32> {
    let (pid, k) = tag.split_once('-')?;
    (!k.is_empty() && k.bytes().all(|b| b.is_ascii_digit())).then_some(())?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_parse_only_in_their_own_format() {
        let w = Writer::parse("patientflow-temp/1\npid=42\nhost=node7\n", TEMP_FORMAT);
        assert_eq!(
            w,
            Some(Writer {
                pid: 42,
                host: "node7".into()
            })
        );
        assert!(Writer::parse("patientflow-temp/1\npid=42\nhost=n\n", LOCK_FORMAT).is_none());
        assert!(Writer::parse("something else\npid=42\nhost=n\n", TEMP_FORMAT).is_none());
        assert!(Writer::parse("patientflow-temp/1\npid=x\nhost=n\n", TEMP_FORMAT).is_none());
        assert_eq!(tag_pid("123-0"), Some(123));
        assert_eq!(tag_pid("123"), None);
        assert_eq!(tag_pid("abc-1"), None);
    }

    #[test]
    fn a_second_lock_on_the_same_target_is_refused_until_the_first_is_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        let first = Lock::acquire(&target).unwrap();
        let err = Lock::acquire(&target).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ResourceBusy);
        assert!(
            err.to_string()
                .contains("another patientflow run is writing here")
        );
        drop(first);
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "lock file removed"
        );
        let again = Lock::acquire(&target).unwrap();
        drop(again);
    }

    #[test]
    fn a_dead_writers_temporary_directory_is_swept_and_a_foreign_one_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("out");
        // Ours, of a process that is gone (pid far above pid_max's default).
        let dead = tmp.path().join(".out.partial-4000000-0");
        fs::create_dir(&dead).unwrap();
        fs::write(
            dead.join(TEMP_MARKER),
            format!("{TEMP_FORMAT}\npid=4000000\nhost={}\n", host_name()),
        )
        .unwrap();
        // Same name pattern, no marker: not provably ours.
        let foreign = tmp.path().join(".out.partial-4000001-0");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("data"), "someone else's").unwrap();
        // Empty: removing it loses nothing.
        let empty = tmp.path().join(".out.partial-4000002-0");
        fs::create_dir(&empty).unwrap();
        // Ours, of a live process on this host (this test's parent, pid 1 or
        // the harness): kept.
        let alive_pid = std::os::unix::process::parent_id();
        let alive = tmp.path().join(format!(".out.partial-{alive_pid}-0"));
        fs::create_dir(&alive).unwrap();
        fs::write(
            alive.join(TEMP_MARKER),
            format!("{TEMP_FORMAT}\npid={alive_pid}\nhost={}\n", host_name()),
        )
        .unwrap();
        let lock = Lock::acquire(&target).unwrap();
        sweep_leftovers(&target, &lock, |_| false).unwrap();
        assert!(!dead.exists());
        assert!(foreign.exists());
        assert!(!empty.exists());
        assert!(alive.exists() || host_name().is_empty());
    }
}
