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
//! - Size: files are read record by record through the `csv` crate
//!   ([`Records`]), every line at most [`MAX_LINE_BYTES`], and readers stop
//!   at the first row beyond what the run's manifest says the file holds,
//!   so memory never grows with a huge file.
//! - Types: a row is read into a struct by serde ([`Records::next_row`]):
//!   metrics and series by their typed ids (an unknown name is an error),
//!   numbers as [`Num`], counts by [`count`]; every error names the line
//!   and, where there is one, the column. JSON manifests are read whole, up to [`MAX_JSON_BYTES`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use serde::Deserialize;
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

/// The most bytes read of a text file that a report reads whole (such as
/// `yearly.csv`: a few hundred kilobytes for a hundred years).
pub const MAX_TEXT_BYTES: u64 = 256 * 1024 * 1024;

/// The files whose checksums a manifest may record: the data files of a
/// run, a shard and a comparison or sweep (never a path).
pub const CHECKED_FILES: [&str; 14] = [
    "summary.csv",
    "replications.csv",
    "daily.csv",
    "daily_bands.csv",
    super::DAILY_REPLICATIONS_FILE,
    super::PARTIAL_FILE,
    "comparison.csv",
    "sweep.csv",
    super::yearly::YEARLY_FILE,
    super::yearly::YEARLY_REPLICATIONS_FILE,
    super::yearly::YEARLY_COMPARISON_FILE,
    super::uncertainty::PARAMETERS_FILE,
    super::uncertainty::PLAUSIBLE_FILE,
    super::uncertainty::PLAUSIBLE_EFFECTS_FILE,
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

/// Opens a file of an output directory for reading, refusing anything but a
/// regular file: a FIFO named like `run.json` would block the read forever.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a directory, FIFO, socket or device); patientflow writes \
             regular files",
        ));
    }
    File::open(path)
}

/// SHA-256 of a file, read as a stream.
fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = open_regular(path)?;
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
    let file = open_regular(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
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

/// Opens a file for reading line by line.
pub fn open(path: &Path) -> Result<BufReader<File>, String> {
    open_regular(path)
        .map(BufReader::new)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// A number cell as [`number_cell`] writes it: empty is undefined (NaN);
/// anything else must be a plain finite decimal that writes back the same,
/// in `[lo, hi]`. The error names the line and column.
pub fn number(cell: &str, line: usize, column: &str, lo: f64, hi: f64) -> Result<f64, String> {
    let v = parse_number(cell).map_err(|e| format!("line {line}, column `{column}`: {e}"))?;
    Num(v).within(line, column, lo, hi)
}

/// A number cell as [`number_cell`] writes it, without a range: empty is
/// undefined (NaN), anything else a plain finite decimal that writes back
/// the same. The error says what was found (the caller names the place).
pub fn parse_number(cell: &str) -> Result<f64, String> {
    if cell.is_empty() {
        return Ok(f64::NAN);
    }
    let v: f64 = cell
        .parse()
        .map_err(|_| format!("expected a number, found {cell:?}"))?;
    if !v.is_finite() || number_cell(v) != cell {
        return Err(format!(
            "{cell:?} is not a finite number as patientflow writes it (an undefined value is \
             an empty cell)"
        ));
    }
    Ok(v)
}

/// A number cell of a typed row: read by [`parse_number`], so a row
/// holds only numbers as patientflow writes them; ranges are checked by
/// [`Num::within`], which names the column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Num(pub f64);

impl<'de> serde::Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        let cell = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_number(&cell)
            .map(Num)
            .map_err(serde::de::Error::custom)
    }
}

impl Num {
    /// The value, if in `[lo, hi]` (undefined passes); the error names the
    /// line and column as [`number`] does.
    pub fn within(self, line: usize, column: &str, lo: f64, hi: f64) -> Result<f64, String> {
        let v = self.0;
        if v.is_nan() || (lo..=hi).contains(&v) {
            return Ok(v);
        }
        Err(format!(
            "line {line}, column `{column}`: {} is outside the range {} to {} that this value \
             has",
            number_cell(v),
            number_cell(lo),
            number_cell(hi)
        ))
    }
}

/// A count cell (`n`, `day`, `replication`): a plain non-negative integer.
pub fn count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    let cell = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    cell.parse::<usize>()
        .ok()
        .filter(|n| n.to_string() == cell)
        .ok_or_else(|| serde::de::Error::custom(format!("expected a count, found {cell:?}")))
}

/// Counts lines as bytes pass, and refuses a line longer than
/// [`MAX_LINE_BYTES`] before the CSV reader buffers it.
pub struct Bounded<R> {
    inner: R,
    /// 1-based number of the line being read.
    line: usize,
    /// Bytes of it read so far.
    len: usize,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.len = 0;
            } else {
                self.len += 1;
                if self.len > MAX_LINE_BYTES {
                    return Err(io::Error::other(format!(
                        "line {}: longer than {MAX_LINE_BYTES} bytes, which no patientflow file \
                         has",
                        self.line
                    )));
                }
            }
        }
        Ok(n)
    }
}

/// The records of a CSV file, read through the `csv` crate one at a time
/// (never the whole file) into typed rows, and no more than `max_rows` of
/// them. Every error names the line, and the column where there is one.
pub struct Records<R> {
    reader: csv::Reader<Bounded<R>>,
    header: csv::StringRecord,
    record: csv::StringRecord,
    max_rows: usize,
    /// What `max_rows` is, after "more rows than".
    limit: String,
}

/// A record's line, for errors.
fn record_line(pos: Option<&csv::Position>) -> u64 {
    pos.map_or(0, csv::Position::line)
}

impl<R: Read> Records<R> {
    /// Reads the header of `reader`; `max_rows` bounds the records after it.
    pub fn new(reader: R, max_rows: usize) -> Result<Records<R>, String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(Bounded {
                inner: reader,
                line: 1,
                len: 0,
            });
        let mut header = csv::StringRecord::new();
        if !reader.read_record(&mut header).map_err(csv_error)? {
            return Err("the file is empty".to_string());
        }
        Ok(Records {
            reader,
            header,
            record: csv::StringRecord::new(),
            max_rows,
            limit: format!("the {max_rows} this run wrote"),
        })
    }

    /// Says what the row limit is in the error past it ("the 4
    /// replications its run.json lists").
    pub fn limit_says(mut self, words: String) -> Records<R> {
        self.limit = words;
        self
    }

    /// The header's cells.
    pub fn header(&self) -> &csv::StringRecord {
        &self.header
    }

    /// An error unless the header has every column of `names`.
    pub fn require(&self, names: &[&str]) -> Result<(), String> {
        match names.iter().find(|n| !self.header.iter().any(|h| h == **n)) {
            None => Ok(()),
            Some(name) => Err(format!(
                "no `{name}` column (header: {}); was it written by an older patientflow? Run \
                 the scenario again",
                self.header.iter().collect::<Vec<_>>().join(",")
            )),
        }
    }

    /// The next record as its cells and its 1-based line, or `None` at the
    /// end of the file.
    pub fn next_record(&mut self) -> Result<Option<(usize, &csv::StringRecord)>, String> {
        if !self
            .reader
            .read_record(&mut self.record)
            .map_err(csv_error)?
        {
            return Ok(None);
        }
        let line = record_line(self.record.position()) as usize;
        // The header is record 1.
        if self.reader.position().record().saturating_sub(1) > self.max_rows as u64 {
            return Err(format!("line {line}: more rows than {}", self.limit));
        }
        Ok(Some((line, &self.record)))
    }

    /// The next record as a `T` (every field read from its cell's text,
    /// found by the header's name; columns `T` has no field for are
    /// skipped) and its line; `None` at the end of the file. An error
    /// names the line and the column.
    pub fn next_row<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Result<Option<(usize, T)>, String> {
        let Some((line, _)) = self.next_record()? else {
            return Ok(None);
        };
        let failed = std::cell::Cell::new(None);
        let access = RowAccess {
            header: &self.header,
            record: &self.record,
            next: 0,
            failed: &failed,
        };
        T::deserialize(serde::de::value::MapAccessDeserializer::new(access))
            .map(|row| Some((line, row)))
            .map_err(|e| match failed.get().and_then(|i| self.header.get(i)) {
                Some(column) => format!("line {line}, column `{column}`: {e}"),
                None => format!("line {line}: {e}"),
            })
    }
}

/// A record as a map from its header's names to its cells, for serde;
/// `failed` is set to the column whose value could not be read.
struct RowAccess<'a> {
    header: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
    next: usize,
    failed: &'a std::cell::Cell<Option<usize>>,
}

impl<'de, 'a: 'de> serde::de::MapAccess<'de> for RowAccess<'a> {
    type Error = serde::de::value::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.header.get(self.next) {
            Some(name) => seed
                .deserialize(serde::de::value::BorrowedStrDeserializer::new(name))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let i = self.next;
        self.next += 1;
        let cell = self.record.get(i).unwrap_or("");
        seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(cell))
            .inspect_err(|_| self.failed.set(Some(i)))
    }
}

/// A reading error of the `csv` crate, as this module words errors.
fn csv_error(e: csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { pos, .. } => {
            format!("line {}: not UTF-8 text", record_line(pos.as_ref()))
        }
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => format!(
            "line {}: expected {expected_len} cells, found {len}",
            record_line(pos.as_ref())
        ),
        _ => e.to_string(),
    }
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

    #[derive(serde::Deserialize, Debug)]
    struct Row {
        metric: crate::model::metrics::Metric,
        mean: Num,
    }

    #[test]
    fn records_are_typed_bounded_and_located() {
        let read = |text: &str, max_rows: usize| -> Result<Vec<(usize, Row)>, String> {
            let mut records = Records::new(text.as_bytes(), max_rows)?;
            let mut out = Vec::new();
            while let Some(row) = records.next_row::<Row>()? {
                out.push(row);
            }
            Ok(out)
        };
        let rows = read("x,metric,mean\n\"a,b\",admissions,1.5\n1,crises,\n", 2).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.metric, crate::model::metrics::Metric::Admissions);
        assert!(rows[1].1.mean.0.is_nan());
        for (text, says) in [
            (
                "metric,mean\nadmissions,1\nadmission,2\n",
                "line 3, column `metric`: \"admission\" is not a metric of this version",
            ),
            (
                "metric,mean\nadmissions,NaN\n",
                "line 2, column `mean`: \"NaN\" is not",
            ),
            (
                "metric,mean\nadmissions,1,2\n",
                "line 2: expected 2 cells, found 3",
            ),
            (
                "metric,mean\ncrises,1\ncrises,1\ncrises,1\n",
                "line 4: more rows than the 2",
            ),
            ("", "the file is empty"),
        ] {
            let e = read(text, 2).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        let long = format!("metric,mean\n{}\n", "x".repeat(MAX_LINE_BYTES + 10));
        let e = read(&long, 2).unwrap_err();
        assert!(e.starts_with("line 2: longer than"), "{e}");
        let records = Records::new(&b"metric\n"[..], 1).unwrap();
        let e = records.require(&["metric", "p25"]).unwrap_err();
        assert!(e.starts_with("no `p25` column (header: metric)"), "{e}");
    }
}

/// The days a run's daily series cover (its statistics window, in whole
/// days), as its manifest says once checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesDays {
    /// Day 0 of the daily series.
    pub first_day: crate::scenario::calendar::Date,
    /// Days in every daily series.
    pub days: usize,
}

/// Holds a run's `run.json` to what patientflow writes: its figures agree
/// with the run settings of the scenario it records (`timing`: recorded in
/// its `scenario_facts`, or from the resolved scenario loaded again), its
/// `sha256` is that of its `resolved_toml`, its dates are dates, and the run
/// is within the limits a run is refused beyond. Returns the window its
/// files cover.
pub fn check_run_manifest(
    m: &super::RunManifest,
    timing: &super::facts::Timing,
) -> Result<SeriesDays, String> {
    use crate::model::MAX_SIMULATED_DAYS;
    use crate::scenario::calendar::Date;
    let bad = |what: String| Err(format!("{what}; was run.json edited?"));
    if !m.sha256.is_empty() && m.sha256 != crate::scenario::sha256_hex(m.resolved_toml.as_bytes()) {
        return bad("`sha256` is not the SHA-256 of `resolved_toml`".to_string());
    }
    for (key, hours, own) in [
        ("warm_up_hours", m.warm_up_hours, timing.warm_up_hours),
        ("horizon_hours", m.horizon_hours, timing.horizon_hours),
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
    if timing.days as f64 > MAX_SIMULATED_DAYS {
        return bad(format!(
            "the window has {} days; a run simulates at most {MAX_SIMULATED_DAYS:.0} days",
            timing.days
        ));
    }
    let date = |key: &str, text: &str| {
        Date::parse(text).ok_or_else(|| format!("`{key}` is not a YYYY-MM-DD date: {text:?}"))
    };
    let start = date("start_date", &m.start_date)?;
    if start != timing.start_date {
        return bad(format!(
            "`start_date` is {start} but the resolved scenario has {}",
            timing.start_date
        ));
    }
    if m.seed != timing.seed {
        return bad(format!(
            "`seed` is {} but the resolved scenario has {}",
            m.seed, timing.seed
        ));
    }
    if let Some((service, r)) = m
        .overloaded_draws
        .iter()
        .find_map(|(s, reps)| reps.iter().find(|&&r| r >= m.replications).map(|r| (s, r)))
    {
        return bad(format!(
            "`overloaded_draws` lists replication {r} for {service}, beyond the run's {}",
            m.replications
        ));
    }
    if m.replications == 0 || (m.precision.is_none() && m.replications != timing.replications) {
        return bad(format!(
            "`replications` is {} but the resolved scenario has {}",
            m.replications, timing.replications
        ));
    }
    if !(m.wall_time_seconds.is_finite() && (0.0..1e10).contains(&m.wall_time_seconds)) {
        return bad(format!(
            "`wall_time_seconds` is {:?}, not a time",
            m.wall_time_seconds
        ));
    }
    if let Some(s) = &m.shard
        && (s.count == 0
            || s.index >= s.count
            || s.replications
                != super::ShardRecord::replications_of(s.index, s.count, m.replications))
    {
        return bad(format!(
            "`shard` {}/{} does not list the replications of that shard of {}",
            s.index, s.count, m.replications
        ));
    }
    let first_day = date("first_day_date", &m.first_day_date)?;
    if first_day != timing.first_day {
        return bad(format!(
            "`first_day_date` is {first_day} but the scenario's window starts on {}",
            timing.first_day
        ));
    }
    Ok(SeriesDays {
        first_day,
        days: timing.days,
    })
}
