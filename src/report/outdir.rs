//! Output directories: which are patientflow's to replace, and writing one
//! with its lock held from before the run to the end of the write.
//!
//! A directory is patientflow's output when its manifest says so: `run.json`
//! or `experiment.json` parsed, with the `format` field only patientflow
//! writes ([`RUN_FORMAT`], [`EXPERIMENT_FORMAT`]), or, for directories
//! written before that field existed, the fields every earlier version
//! wrote (see [`is_patientflow_output`]). A file name alone proves nothing:
//! another program's `run.json` is not ours.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::notice::{Notice, Notices};

use serde::Deserialize;

use super::atomic::{self, Lock, interrupted_error, refuse_file, replace_dir_with};
use super::experiment_outputs::EXPERIMENT_FILE;

/// The `format` of `run.json` (a run, a shard, a warm-up analysis).
pub const RUN_FORMAT: &str = "patientflow-run/1";
/// The `format` of `experiment.json` (a comparison or sweep).
pub const EXPERIMENT_FORMAT: &str = "patientflow-experiment/1";

/// A manifest larger than this is not one of ours (ours are kilobytes; the
/// resolved scenario is the largest part).
const MANIFEST_LIMIT: u64 = 64 << 20;

/// True if `dir` holds a manifest patientflow wrote: a `run.json` or
/// `experiment.json` whose `format` starts with `patientflow-run/` or
/// `patientflow-experiment/`, or one with every field that version 0.1.0
/// wrote before the format field existed (for `run.json`: the software
/// version, the resolved scenario, its SHA-256, seed, replications,
/// generator and stream allocation; for `experiment.json`: kind `compare`
/// or `sweep`, the software version, seed, replications and at least one
/// arm, each with a name, a role and a SHA-256).
pub fn is_patientflow_output(dir: &Path) -> bool {
    read_manifest(&dir.join("run.json")).is_some_and(|t| is_run_manifest(&t))
        || read_manifest(&dir.join(EXPERIMENT_FILE)).is_some_and(|t| is_experiment_manifest(&t))
}

fn read_manifest(path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MANIFEST_LIMIT {
        return None;
    }
    let mut text = String::new();
    fs::File::open(path)
        .ok()?
        .take(MANIFEST_LIMIT)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

#[derive(Deserialize)]
struct Format {
    format: String,
}

/// The fields of `run.json` every version wrote.
#[derive(Deserialize)]
#[allow(dead_code)] // parsed to prove they are there
struct RunFields {
    software_version: String,
    resolved_toml: String,
    sha256: String,
    seed: u64,
    replications: u32,
    generator: String,
    stream_allocation: String,
}

/// The fields of `experiment.json` every version wrote.
#[derive(Deserialize)]
#[allow(dead_code)]
struct ExperimentFields {
    kind: String,
    software_version: String,
    seed: u64,
    replications: u32,
    arms: Vec<ArmFields>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct ArmFields {
    name: String,
    role: String,
    sha256: String,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn has_format(text: &str, prefix: &str) -> bool {
    serde_json::from_str::<Format>(text).is_ok_and(|f| f.format.starts_with(prefix))
}

fn is_run_manifest(text: &str) -> bool {
    has_format(text, "patientflow-run/")
        || serde_json::from_str::<RunFields>(text).is_ok_and(|m| is_sha256(&m.sha256))
}

fn is_experiment_manifest(text: &str) -> bool {
    has_format(text, "patientflow-experiment/")
        || serde_json::from_str::<ExperimentFields>(text).is_ok_and(|m| {
            matches!(m.kind.as_str(), "compare" | "sweep")
                && !m.arms.is_empty()
                && m.arms
                    .iter()
                    .all(|a| matches!(a.role.as_str(), "baseline" | "plan") && is_sha256(&a.sha256))
        })
}

/// The files patientflow writes into an output directory (beside `charts/`
/// with its SVG files, and, in a comparison or sweep, one run directory per
/// scenario).
const OUTPUT_FILES: &[&str] = &[
    "run.json",
    "experiment.json",
    "summary.csv",
    "replications.csv",
    "daily.csv",
    "daily_bands.csv",
    "daily_replications.csv",
    "comparison.csv",
    "sweep.csv",
    "warmup.csv",
    "report.html",
    "report.md",
    "PARTIAL.txt",
    "yearly.csv",
    "yearly_replications.csv",
    "yearly_comparison.csv",
    "backtest.csv",
    "backtest_daily.csv",
    super::uncertainty::PARAMETERS_FILE,
    super::uncertainty::PLAUSIBLE_FILE,
    super::uncertainty::PLAUSIBLE_EFFECTS_FILE,
];

/// The entries of `dir` (a directory with a manifest of ours) that
/// patientflow did not write, as paths relative to it: anything but the
/// output files, `charts/` holding SVG files only, and, beside an
/// `experiment.json`, run directories that are themselves patientflow's
/// outputs holding only what patientflow writes.
fn foreign_entries(dir: &Path) -> io::Result<Vec<String>> {
    let experiment = dir.join(EXPERIMENT_FILE).is_file();
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        if kind.is_file() && OUTPUT_FILES.contains(&name.as_str()) {
            continue;
        }
        if kind.is_dir() && name == "charts" {
            for chart in fs::read_dir(entry.path())? {
                let chart = chart?;
                let chart_name = chart.file_name().to_string_lossy().into_owned();
                if !(chart.file_type()?.is_file() && chart_name.ends_with(".svg")) {
                    foreign.push(format!("charts/{chart_name}"));
                }
            }
            continue;
        }
        if kind.is_dir()
            && experiment
            && fs::read_dir(entry.path())?.next().is_some()
            && is_patientflow_output(&entry.path())
            && !entry.path().join(EXPERIMENT_FILE).exists()
        {
            foreign.extend(
                foreign_entries(&entry.path())?
                    .into_iter()
                    .map(|inner| format!("{name}/{inner}")),
            );
            continue;
        }
        foreign.push(name);
    }
    foreign.sort();
    Ok(foreign)
}

/// Up to ten names, then how many more.
fn listed(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut list = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    list
}

/// What replacing an existing directory would delete, when it is not
/// patientflow's: `None` if it is absent, empty or patientflow's output
/// holding only what patientflow writes; otherwise a description of its
/// entries, if `force`, or an error. A symbolic link at the target (even
/// one to nothing) is not provably patientflow's either.
///
/// Never, even with `force`, the current directory or one that contains it:
/// that would delete the scenarios being run.
fn check_replaceable(out_dir: &Path, force: bool) -> io::Result<Option<String>> {
    let is_link = fs::symlink_metadata(out_dir).is_ok_and(|m| m.file_type().is_symlink());
    match fs::metadata(out_dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && !is_link => return Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A link to nothing: replacing it deletes nothing but the link.
            if force {
                return Ok(Some("which was a symbolic link to nothing".to_string()));
            }
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} is a symbolic link to nothing; refusing to replace it (use --force to \
                     replace the link with the outputs)",
                    out_dir.display()
                ),
            ));
        }
        Err(e) => return Err(e),
        Ok(m) if !m.is_dir() => return refuse_file(out_dir).map(|()| None),
        Ok(_) => {}
    }
    let mut names: Vec<String> = fs::read_dir(out_dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<_>>()?;
    if names.is_empty() && !is_link {
        return Ok(None);
    }
    let target = fs::canonicalize(out_dir)?;
    let here = std::env::current_dir().and_then(fs::canonicalize)?;
    if here.starts_with(&target) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is the current directory or contains it; refusing to replace it, \
                 even with --force",
                out_dir.display()
            ),
        ));
    }
    let ours = !is_link && is_patientflow_output(out_dir);
    let foreign = if ours {
        foreign_entries(out_dir)?
    } else {
        Vec::new()
    };
    if ours && foreign.is_empty() {
        return Ok(None);
    }
    if !force {
        let why = if ours {
            format!(
                "{} is a patientflow output directory but also holds what patientflow did not \
                 write ({}); refusing to replace it (move those elsewhere, or use --force to \
                 replace it anyway: everything in it is deleted)",
                out_dir.display(),
                listed(&foreign)
            )
        } else if is_link {
            format!(
                "{} is a symbolic link; refusing to replace it (use --force to replace the link \
                 with the outputs; what it points to is left as it is)",
                out_dir.display()
            )
        } else {
            format!(
                "{} exists and is not a patientflow output directory (no run.json or \
                 {EXPERIMENT_FILE} written by patientflow); refusing to replace it (use --force \
                 to replace it anyway: everything in it is deleted)",
                out_dir.display()
            )
        };
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, why));
    }
    if is_link {
        return Ok(Some(
            "which was a symbolic link (only the link was replaced; what it points to is left \
             as it was)"
                .to_string(),
        ));
    }
    names.sort();
    let list = if ours {
        listed(&foreign)
    } else {
        listed(&names)
    };
    let count = if ours { foreign.len() } else { names.len() };
    let entries = format!(
        "{count} entr{} ({list})",
        if count == 1 { "y" } else { "ies" }
    );
    Ok(Some(if ours {
        format!("which held {entries} that patientflow did not write")
    } else {
        format!("which was not a patientflow output; it held {entries}")
    }))
}

/// An output directory claimed for writing: its [`Lock`] held (no other
/// patientflow run writes it meanwhile), leftovers of dead writers swept,
/// and checked to be replaceable, all before anything runs, so a run that
/// could not write its outputs fails before it spends its time.
///
/// Dropped without a successful [`OutputDir::write`], it removes the lock
/// file and the parent directories it created (if still empty), so an
/// interrupted or failed run leaves nothing behind.
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    force: bool,
    lock: Option<Lock>,
    /// Parent directories created for the lock, deepest first.
    created: Vec<PathBuf>,
    written: bool,
    /// Told what `--force` replaced.
    notices: Notices,
}

impl OutputDir {
    /// Claims `path` (see [`OutputDir`]). `force`: replace a directory that
    /// is not a patientflow output (never the current directory or one
    /// containing it).
    pub fn claim(path: &Path, force: bool) -> io::Result<OutputDir> {
        refuse_file(path)?;
        let mut created = Vec::new();
        let mut up = path.parent();
        while let Some(p) = up {
            if p.as_os_str().is_empty() || fs::symlink_metadata(p).is_ok() {
                break;
            }
            created.push(p.to_path_buf());
            up = p.parent();
        }
        let mut dir = OutputDir {
            path: path.to_path_buf(),
            force,
            lock: None,
            created,
            written: false,
            notices: Notices::none(),
        };
        let lock = Lock::acquire(path)?;
        atomic::sweep_leftovers(path, &lock, is_patientflow_output)?;
        dir.lock = Some(lock);
        check_replaceable(path, force)?;
        Ok(dir)
    }

    /// The directory the outputs go to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same claim, telling `notices` what a `--force` write replaced.
    pub fn with_notices(mut self, notices: Notices) -> OutputDir {
        self.notices = notices;
        self
    }

    /// Writes rendered files (paths relative to the directory,
    /// `/`-separated, subdirectories created), replacing the directory whole
    /// and atomically (see [`replace_dir_with`]). Checked again to be
    /// replaceable; with `--force`, tells its notices what it replaced.
    ///
    /// `stop` is asked before each file and every mebibyte written: when it
    /// says stop (an interrupt), the write ends with the error that
    /// [`is_interrupted`](super::is_interrupted) recognises,
    /// the temporary directory is removed and the directory is as it was.
    pub fn write(&mut self, files: &[(String, String)], stop: &dyn Fn() -> bool) -> io::Result<()> {
        let replacing = check_replaceable(&self.path, self.force)?;
        let _writing = crate::signals::Writing::start();
        let check = || {
            if stop() {
                Err(interrupted_error())
            } else {
                Ok(())
            }
        };
        check()?;
        replace_dir_with(&self.path, |tmp| {
            for (name, text) in files {
                check()?;
                let path = tmp.join(name);
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)?;
                }
                let mut file = fs::File::create(&path)?;
                for chunk in text.as_bytes().chunks(1 << 20) {
                    check()?;
                    file.write_all(chunk)?;
                }
            }
            check()
        })?;
        self.written = true;
        if let Some(what) = replacing {
            self.notices.send(Notice::Replaced {
                dir: self.path.clone(),
                what,
            });
        }
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        // The lock file first: it is in the deepest created directory.
        self.lock = None;
        if !self.written {
            for dir in &self.created {
                if fs::remove_dir(dir).is_err() {
                    break;
                }
            }
        }
    }
}

/// Writes `files` into `out_dir` as [`OutputDir::write`] does, claiming it
/// first (without a stop).
pub fn write_output_files_with(
    out_dir: &Path,
    files: &[(String, String)],
    force: bool,
) -> io::Result<()> {
    OutputDir::claim(out_dir, force)?.write(files, &|| false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_manifests_patientflow_wrote_are_recognised() {
        let run_fields = r#"{"software_version":"0.1.0","resolved_toml":"","sha256":
            "5071a4db0f8ef68789ddf62da376630de70bcce0ebe3b95dff10ca552ba49c08","seed":1,
            "replications":2,"generator":"g","stream_allocation":"s"}"#;
        assert!(is_run_manifest(run_fields));
        assert!(is_run_manifest(r#"{"format":"patientflow-run/1"}"#));
        assert!(is_run_manifest(r#"{"format":"patientflow-run/2","x":1}"#));
        for foreign in [
            "",
            "{}",
            "[]",
            "not json",
            r#"{"format":"other-run/1"}"#,
            r#"{"format":1}"#,
            r#"{"software_version":"1.0","seed":1}"#,
            &run_fields.replace("5071a4db", "zz71a4db"),
        ] {
            assert!(!is_run_manifest(foreign), "{foreign}");
        }
        let exp = r#"{"kind":"sweep","software_version":"0.1.0","seed":1,"replications":2,
            "arms":[{"name":"b","role":"baseline","sha256":
            "5071a4db0f8ef68789ddf62da376630de70bcce0ebe3b95dff10ca552ba49c08"}]}"#;
        assert!(is_experiment_manifest(exp));
        assert!(is_experiment_manifest(
            r#"{"format":"patientflow-experiment/1"}"#
        ));
        for foreign in [
            "",
            "{}",
            &exp.replace("sweep", "other"),
            &exp.replace("baseline", "control"),
            r#"{"kind":"compare","software_version":"0.1.0","seed":1,"replications":2,"arms":[]}"#,
            r#"{"format":"patientflow-run/1"}"#,
        ] {
            assert!(!is_experiment_manifest(foreign), "{foreign}");
        }
    }
}
