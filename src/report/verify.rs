//! Reading outputs back without trusting them: `merge` and `report DIR`
//! read files a user may have edited, truncated or replaced.
//!
//! - Checksums: `run.json` (and `experiment.json`) record the SHA-256 of
//!   every data file written beside them ([`checksums`]); [`verify_files`]
//!   hashes each file as a stream and names the one that changed. Outputs
//!   of versions before checksums (no `files`) are read unverified, with a
//!   warning, and their values are still checked as below.
//! - Values: every number cell is read as [`super::number_cell`] writes it
//!   ([`number`]): empty (undefined) or a plain finite decimal, so `NaN`,
//!   `inf`, `1e400` or `+5` is an error naming the file, line and column;
//!   then each value is held to the range it had when written.
//! - Size: files are read line by line ([`Lines`]), every line at most
//!   [`MAX_LINE_BYTES`], and readers stop at the first row beyond what the
//!   run's manifest says the file holds, so memory never grows with a huge
//!   file. JSON manifests are read whole, up to [`MAX_JSON_BYTES`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::number_cell;

/// The longest line any CSV file of patientflow holds, with room to spare.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// The largest `run.json` or `experiment.json` read (the resolved scenario
/// inside is at most a scenario file's size).
pub const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;
/// The largest value any metric or daily series can take (far above what a
/// 100-year run of a million beds produces); anything above was edited.
pub const MAX_VALUE: f64 = 1e15;

/// The files whose checksums a manifest may record: the data files of a
/// run, a shard and a comparison or sweep (never a path).
pub const CHECKED_FILES: [&str; 8] = [
    "summary.csv",
    "replications.csv",
    "daily.csv",
    "daily_bands.csv",
    super::DAILY_REPLICATIONS_FILE,
    super::PARTIAL_FILE,
    "comparison.csv",
    "sweep.csv",
];

/// Lowercase hex SHA-256 of `bytes`.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The checksums to record for `files` (name, text): those of
/// [`CHECKED_FILES`] among them.
pub fn checksums(files: &[(String, String)]) -> BTreeMap<String, String> {
    files
        .iter()
        .filter(|(name, _)| CHECKED_FILES.contains(&name.as_str()))
        .map(|(name, text)| (name.clone(), hex(&Sha256::digest(text.as_bytes()))))
        .collect()
}

/// SHA-256 of a file, read as a stream.
fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Whether a directory's files could be checked against its manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verified {
    /// Every file the manifest lists has the checksum it records.
    Yes,
    /// The manifest records no checksums (written before they were kept).
    NoChecksums,
}

/// Checks every file that `recorded` (from `manifest_name` in `dir`)
/// lists against its SHA-256, and that each of `needed` is listed. The
/// error names the file that changed, is missing or is not covered.
pub fn verify_files(
    dir: &Path,
    manifest_name: &str,
    recorded: &BTreeMap<String, String>,
    needed: &[&str],
) -> Result<Verified, String> {
    if recorded.is_empty() {
        return Ok(Verified::NoChecksums);
    }
    for (name, sum) in recorded {
        if !CHECKED_FILES.contains(&name.as_str()) {
            return Err(format!(
                "{}: `files` lists `{name}`, which is not a file patientflow writes",
                dir.join(manifest_name).display()
            ));
        }
        let path = dir.join(name);
        let actual = sha256_file(&path).map_err(|e| {
            format!(
                "cannot read {} (listed in {manifest_name}): {e}",
                path.display()
            )
        })?;
        if !actual.eq_ignore_ascii_case(sum) {
            return Err(format!(
                "{} has changed since patientflow wrote it: its SHA-256 is {actual}, \
                 {manifest_name} records {sum}. Restore the file or run the scenario again",
                path.display()
            ));
        }
    }
    if let Some(missing) = needed.iter().find(|n| !recorded.contains_key(**n)) {
        return Err(format!(
            "{}: `files` records no checksum for {missing}",
            dir.join(manifest_name).display()
        ));
    }
    Ok(Verified::Yes)
}

/// The warning printed when a directory's files cannot be checked.
pub fn unverified_warning(dir: &Path, manifest_name: &str) -> String {
    format!(
        "warning: {} records no checksums (written by a patientflow that did not keep \
         them): its files are read unverified, their values checked only for range",
        dir.join(manifest_name).display()
    )
}

/// Reads a JSON manifest whole, refusing one larger than [`MAX_JSON_BYTES`].
pub fn read_json(path: &Path) -> Result<String, String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_JSON_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if text.len() as u64 > MAX_JSON_BYTES {
        return Err(format!(
            "{}: larger than {} MB, more than patientflow writes",
            path.display(),
            MAX_JSON_BYTES / (1024 * 1024)
        ));
    }
    Ok(text)
}

/// Opens a file for [`Lines`].
pub fn open(path: &Path) -> Result<BufReader<File>, String> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The lines of a CSV file, read one at a time, each at most
/// [`MAX_LINE_BYTES`]; errors say `line N`.
pub struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    /// 1-based number of the line last returned.
    pub line: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            buf: Vec::new(),
            line: 0,
        }
    }

    /// The next line without its `\n` and its 1-based number, or `None`
    /// at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<(usize, &str)>, String> {
        self.buf.clear();
        let n = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| format!("line {}: {e}", self.line + 1))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        } else if self.buf.len() > MAX_LINE_BYTES {
            return Err(format!(
                "line {}: longer than {MAX_LINE_BYTES} bytes, which no patientflow file has",
                self.line
            ));
        }
        let line = self.line;
        std::str::from_utf8(&self.buf)
            .map(|text| Some((line, text)))
            .map_err(|_| format!("line {}: not UTF-8 text", self.line))
    }
}

/// A number cell as [`number_cell`] writes it: empty is undefined (NaN);
/// anything else must be a plain finite decimal that writes back the same,
/// in `[lo, hi]`. The error names the line and column.
pub fn number(cell: &str, line: usize, column: &str, lo: f64, hi: f64) -> Result<f64, String> {
    if cell.is_empty() {
        return Ok(f64::NAN);
    }
    let v: f64 = cell.parse().map_err(|_| {
        format!("line {line}, column `{column}`: expected a number, found {cell:?}")
    })?;
    if !v.is_finite() || number_cell(v) != cell {
        return Err(format!(
            "line {line}, column `{column}`: {cell:?} is not a finite number as patientflow \
             writes it (an undefined value is an empty cell)"
        ));
    }
    if !(lo..=hi).contains(&v) {
        return Err(format!(
            "line {line}, column `{column}`: {cell} is outside the range {} to {} that this \
             value has",
            number_cell(lo),
            number_cell(hi)
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_as_written() {
        assert_eq!(number("1.5", 2, "x", 0.0, 10.0), Ok(1.5));
        assert!(number("", 2, "x", 0.0, 10.0).unwrap().is_nan());
        for bad in [
            "NaN", "nan", "inf", "1e400", "1e3", "+5", "1.50", " 1", "-0",
        ] {
            let e = number(bad, 7, "admissions", -1e15, 1e15).unwrap_err();
            assert!(e.contains("line 7, column `admissions`"), "{bad}: {e}");
        }
        let e = number("11", 3, "x", 0.0, 10.0).unwrap_err();
        assert!(e.contains("outside the range 0 to 10"), "{e}");
    }

    #[test]
    fn lines_are_bounded() {
        let text = format!("a,b\n{}\nc", "x".repeat(MAX_LINE_BYTES + 10));
        let mut lines = Lines::new(text.as_bytes());
        assert_eq!(lines.next_line(), Ok(Some((1, "a,b"))));
        let e = lines.next_line().unwrap_err();
        assert!(e.starts_with("line 2: longer than"), "{e}");
        let mut lines = Lines::new(&b"a\nb"[..]);
        assert_eq!(lines.next_line(), Ok(Some((1, "a"))));
        assert_eq!(lines.next_line(), Ok(Some((2, "b"))));
        assert_eq!(lines.next_line(), Ok(None));
    }
}

/// What a run's manifest says its files hold, once checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Day 0 of the daily series.
    pub first_day: crate::scenario::calendar::Date,
    /// Days in every daily series.
    pub days: usize,
}

/// Holds a run's `run.json` to what patientflow writes: its figures agree
/// with the resolved scenario it records (loaded as `scenario`), its
/// SHA-256 is that scenario's, its dates are dates, and the run is within
/// the limits a run is refused beyond. Returns the window its files cover.
pub fn check_run_manifest(
    m: &super::RunManifest,
    scenario: &crate::scenario::Scenario,
) -> Result<Window, String> {
    use crate::experiment::check::MAX_SIMULATED_DAYS;
    use crate::scenario::calendar::Date;
    let bad = |what: String| Err(format!("{what}; was run.json edited?"));
    if !m.sha256.is_empty() && m.sha256 != crate::scenario::sha256_hex(m.resolved_toml.as_bytes()) {
        return bad("`sha256` is not the SHA-256 of `resolved_toml`".to_string());
    }
    for (key, hours, own) in [
        ("warm_up_hours", m.warm_up_hours, scenario.warm_up_hours),
        ("horizon_hours", m.horizon_hours, scenario.horizon_hours),
    ] {
        if !(hours.is_finite() && hours >= 0.0) {
            return bad(format!("`{key}` is {hours:?}, not a duration"));
        }
        if hours != own {
            return bad(format!(
                "`{key}` is {hours:?} but the resolved scenario has {own:?}"
            ));
        }
    }
    let days = (m.warm_up_hours + m.horizon_hours) / 24.0;
    if days > MAX_SIMULATED_DAYS {
        return bad(format!(
            "warm-up and horizon are {days:.0} days; a run simulates at most \
             {MAX_SIMULATED_DAYS:.0} days (100 years)"
        ));
    }
    let date = |key: &str, text: &str| {
        Date::parse(text).ok_or_else(|| format!("`{key}` is not a YYYY-MM-DD date: {text:?}"))
    };
    let start = date("start_date", &m.start_date)?;
    if start != scenario.start_date {
        return bad(format!(
            "`start_date` is {start} but the resolved scenario has {}",
            scenario.start_date
        ));
    }
    if m.seed != scenario.seed {
        return bad(format!(
            "`seed` is {} but the resolved scenario has {}",
            m.seed, scenario.seed
        ));
    }
    if m.replications == 0 || (m.precision.is_none() && m.replications != scenario.replications) {
        return bad(format!(
            "`replications` is {} but the resolved scenario has {}",
            m.replications, scenario.replications
        ));
    }
    if !(m.wall_time_seconds.is_finite() && (0.0..1e10).contains(&m.wall_time_seconds)) {
        return bad(format!(
            "`wall_time_seconds` is {:?}, not a time",
            m.wall_time_seconds
        ));
    }
    if let Some(s) = &m.shard {
        let shard = crate::experiment::Shard {
            index: s.index,
            count: s.count,
        };
        if s.count == 0
            || s.index >= s.count
            || s.replications != shard.replications(m.replications)
        {
            return bad(format!(
                "`shard` {}/{} does not list the replications of that shard of {}",
                s.index, s.count, m.replications
            ));
        }
    }
    let prepared = crate::model::Prepared::new(scenario.clone());
    let first_day = date("first_day_date", &m.first_day_date)?;
    if first_day != prepared.first_day() {
        return bad(format!(
            "`first_day_date` is {first_day} but the scenario's window starts on {}",
            prepared.first_day()
        ));
    }
    Ok(Window {
        first_day,
        days: prepared.days_in_window(),
    })
}
