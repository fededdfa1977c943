//! The starting state (`[start]` and its census CSV): the patients already
//! in the services at time zero (`docs/model.md`, "Starting state";
//! `docs/scenario-format.md`, "`[start]`" and "The census CSV").

use std::path::{Path, PathBuf};

use super::doc::Origin;
use super::error::{Details, ErrorKind, ErrorOrigin, ScenarioError, Snippet, truncate_token};
use super::raw::{Count, RawStart};
use super::types::{Pathway, ReferralClass};
use toml::Spanned;

/// The most starting patients a scenario may hold (counts and census rows
/// together): every one is simulated from time zero.
pub const MAX_START_PATIENTS: u64 = 1_000_000;

/// The patients in the services at time zero, in the order of their index
/// (the counts of `[start]` in the order of the format, then the census
/// rows in file order). Empty: the run starts empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartState {
    /// Every starting patient; patient `i` draws from stream `i` of the
    /// starting patients' source.
    pub patients: Vec<StartPatient>,
}

impl StartState {
    /// Whether the run starts empty (no `[start]`, or nothing in it).
    pub fn is_empty(&self) -> bool {
        self.patients.is_empty()
    }

    /// Starting patients in `place`s that match `f`.
    pub fn count(&self, f: impl Fn(&StartPlace) -> bool) -> usize {
        self.patients.iter().filter(|p| f(&p.place)).count()
    }
}

/// One patient of the starting state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StartPatient {
    /// Where they are at time zero.
    pub place: StartPlace,
    /// How long they have been there, in hours; `None` when not known (the
    /// time left is then the equilibrium residual).
    pub elapsed_hours: Option<f64>,
}

/// Where a starting patient is at time zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StartPlace {
    /// In an acute bed.
    Acute {
        /// Group `frail` (else `other`).
        frail: bool,
        /// Not yet medically fit, or fit (with the pathway, when known).
        state: AcuteState,
    },
    /// Admitted and waiting in the ED for an acute bed.
    EdWaiting {
        /// Group `frail` (else `other`).
        frail: bool,
    },
    /// In a rehab bed.
    Rehab,
    /// On the community nursing caseload, with a referral of this class.
    Community(ReferralClass),
    /// On the community nursing waiting list, a referral of this class.
    CommunityWaiting(ReferralClass),
    /// In a local mental health bed.
    MhBed,
    /// A mental health patient placed out of area.
    MhOutOfArea,
}

/// An acute patient's state at time zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AcuteState {
    /// Not yet medically fit: the rest of the length of stay is drawn.
    InStay,
    /// Medically fit, on this pathway (`None`: drawn from the shares).
    Fit(Option<Pathway>),
}

/// The counts of `[start]`, in the format's (and the index's) order: the
/// key and the place each counts.
pub(crate) fn counted(raw: &RawStart) -> [(&'static str, Option<&Spanned<Count>>, StartPlace); 17] {
    use ReferralClass::{Avoidance, Community, Discharge};
    use StartPlace as S;
    let acute = |frail, state| S::Acute { frail, state };
    let fit = |p| acute(true, AcuteState::Fit(Some(p)));
    // Each key is its field's name.
    macro_rules! counts {
        ($($key:ident: $place:expr),* $(,)?) => {
            [$((stringify!($key), raw.$key.as_ref(), $place)),*]
        };
    }
    counts![
        acute_frail: acute(true, AcuteState::InStay),
        acute_other: acute(false, AcuteState::InStay),
        fit_p0: fit(Pathway::P0),
        fit_p1: fit(Pathway::P1),
        fit_p2: fit(Pathway::P2),
        fit_p3: fit(Pathway::P3),
        ed_frail: S::EdWaiting { frail: true },
        ed_other: S::EdWaiting { frail: false },
        rehab: S::Rehab,
        community_discharge: S::Community(Discharge),
        community_avoidance: S::Community(Avoidance),
        community_community: S::Community(Community),
        waiting_discharge: S::CommunityWaiting(Discharge),
        waiting_avoidance: S::CommunityWaiting(Avoidance),
        waiting_community: S::CommunityWaiting(Community),
        mh_beds: S::MhBed,
        mh_out_of_area: S::MhOutOfArea,
    ]
}

/// Where a census file written at `key_origin` in `file` (`None`: a
/// `--set`) is: relative to that file's folder, or to the current folder
/// for a `--set`.
pub(crate) fn census_path(file: Option<&Path>, written: &str) -> PathBuf {
    let p = Path::new(written);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match file.and_then(Path::parent) {
        Some(dir) => dir.join(p),
        None => p.to_path_buf(),
    }
}

/// The census CSV's columns, in the order the header usually gives them.
pub const CENSUS_COLUMNS: [&str; 4] = ["service", "group", "days", "state"];

/// A located error in the census file `path`.
fn csv_error(
    path: &Path,
    line_no: usize,
    line: &str,
    col: usize,
    message: String,
) -> ScenarioError {
    let width = line[col.min(line.len())..]
        .split(',')
        .next()
        .map_or(1, |f| f.chars().count().max(1));
    let start_col = line[..col.min(line.len())].chars().count();
    ScenarioError(Box::new(Details {
        kind: ErrorKind::InvalidValue,
        origin: ErrorOrigin::File(path.to_path_buf()),
        line: Some(line_no),
        column: Some(start_col + 1),
        key: None,
        message,
        snippet: Some(Snippet {
            line_no: Some(line_no),
            text: truncate_token(&line.replace('\t', " ")).into_owned(),
            start_col: start_col.min(80),
            width: width.min(80),
        }),
    }))
}

/// Reads the census file at `path` (`docs/scenario-format.md`, "The census
/// CSV") into starting patients, appended to `out`. `origin` is where the
/// file was named, for an error reading it.
pub(crate) fn read_census(
    path: &Path,
    mental_health: bool,
    out: &mut Vec<StartPatient>,
) -> Result<(), ScenarioError> {
    let io = |message: String| {
        ScenarioError::unlocated(
            ErrorKind::Io,
            ErrorOrigin::File(path.to_path_buf()),
            message,
        )
    };
    let meta = std::fs::metadata(path).map_err(|e| io(format!("cannot read the census: {e}")))?;
    if !meta.is_file() {
        return Err(io(
            "the census is not a regular file; it is a CSV text file".into(),
        ));
    }
    if meta.len() > super::MAX_FILE_BYTES {
        return Err(io(format!(
            "the census is larger than {} MiB",
            super::MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| io(format!("cannot read the census: {e}")))?;
    let text =
        String::from_utf8(bytes).map_err(|_| io("the census is not UTF-8 text".to_string()))?;
    parse_census(path, &text, mental_health, out)
}

/// Parses census text (see [`read_census`]).
pub(crate) fn parse_census(
    path: &Path,
    text: &str,
    mental_health: bool,
    out: &mut Vec<StartPatient>,
) -> Result<(), ScenarioError> {
    let mut columns: Option<[usize; 4]> = None;
    for (i, raw_line) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let line = line.strip_prefix('\u{feff}').unwrap_or(line);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let error_at = |at: usize, message: String| csv_error(path, line_no, line, at, message);
        // Each field with the byte where it starts.
        let mut fields: Vec<(usize, &str)> = Vec::with_capacity(4);
        let mut start = 0;
        for f in line.split(',') {
            fields.push((start, f));
            start += f.len() + 1;
        }
        let Some(cols) = columns else {
            let mut found = [usize::MAX; 4];
            for (k, &(at, f)) in fields.iter().enumerate() {
                let name = f.trim();
                match CENSUS_COLUMNS.iter().position(|c| *c == name) {
                    Some(c) if found[c] == usize::MAX => found[c] = k,
                    Some(_) => {
                        return Err(error_at(
                            at,
                            format!("column `{name}` appears twice in the header"),
                        ));
                    }
                    None => {
                        return Err(error_at(
                            at,
                            format!(
                                "header: unknown column `{}`; expected the columns `service`, \
                                 `group`, `days` and `state`",
                                truncate_token(name)
                            ),
                        ));
                    }
                }
            }
            if let Some(c) = found.iter().position(|&k| k == usize::MAX) {
                return Err(error_at(
                    line.len(),
                    format!(
                        "header: missing column `{}`; expected the columns `service`, `group`, \
                         `days` and `state` (a field may be empty, the column may not be missing)",
                        CENSUS_COLUMNS[c]
                    ),
                ));
            }
            columns = Some(found);
            continue;
        };
        if fields.len() != CENSUS_COLUMNS.len() {
            let at = fields.get(CENSUS_COLUMNS.len()).map_or(line.len(), |f| f.0);
            return Err(error_at(
                at,
                format!(
                    "{} fields; expected 4 (service, group, days, state), separated by commas \
                     (no quoting)",
                    fields.len()
                ),
            ));
        }
        let field = |c: usize| {
            let (at, f) = fields[cols[c]];
            let lead = f.len() - f.trim_start().len();
            (at + lead, f.trim())
        };
        let bad = |c: usize, expected: &str| {
            let (at, v) = field(c);
            let found = if v.is_empty() {
                "nothing".to_string()
            } else {
                format!("`{}`", truncate_token(v))
            };
            error_at(
                at,
                format!(
                    "field `{}`: found {found}; expected {expected}",
                    CENSUS_COLUMNS[c]
                ),
            )
        };
        let (_, service) = field(0);
        let (_, group) = field(1);
        let (_, days) = field(2);
        let (_, state) = field(3);
        let elapsed_hours = if days.is_empty() {
            None
        } else {
            match days.parse::<f64>() {
                Ok(d) if d.is_finite() && (0.0..=36_500.0).contains(&d) => Some(d * 24.0),
                _ => {
                    return Err(bad(
                        2,
                        "the days so far, a number from 0 to 36500 (decimals allowed), or \
                         nothing when not known",
                    ));
                }
            }
        };
        let frail = || match group {
            "frail" => Ok(true),
            "other" => Ok(false),
            _ => Err(bad(
                1,
                "`frail` or `other` (the group, for `acute` and `ed`)",
            )),
        };
        let no_group = |what: &str| {
            if group.is_empty() {
                Ok(())
            } else {
                Err(bad(
                    1,
                    &format!("nothing (a group is given for `acute` and `ed` only, not `{what}`)"),
                ))
            }
        };
        let no_state = |what: &str| {
            if state.is_empty() {
                Ok(())
            } else {
                Err(bad(3, &format!("nothing (`{what}` has no state)")))
            }
        };
        let class = || {
            ReferralClass::ALL
                .into_iter()
                .find(|c| c.name() == state)
                .ok_or_else(|| {
                    bad(
                        3,
                        "the referral class: `discharge`, `avoidance` or `community`",
                    )
                })
        };
        let place = match service {
            "acute" => {
                let state = match state {
                    "" | "in_stay" => AcuteState::InStay,
                    "fit" => AcuteState::Fit(None),
                    "fit_p0" => AcuteState::Fit(Some(Pathway::P0)),
                    "fit_p1" => AcuteState::Fit(Some(Pathway::P1)),
                    "fit_p2" => AcuteState::Fit(Some(Pathway::P2)),
                    "fit_p3" => AcuteState::Fit(Some(Pathway::P3)),
                    _ => {
                        return Err(bad(
                            3,
                            "`in_stay` (or nothing), `fit`, `fit_p0`, `fit_p1`, `fit_p2` or \
                             `fit_p3`",
                        ));
                    }
                };
                StartPlace::Acute {
                    frail: frail()?,
                    state,
                }
            }
            "ed" => {
                if !matches!(state, "" | "waiting") {
                    return Err(bad(3, "`waiting` or nothing"));
                }
                StartPlace::EdWaiting { frail: frail()? }
            }
            "rehab" => {
                no_group("rehab")?;
                no_state("rehab")?;
                StartPlace::Rehab
            }
            "community" => {
                no_group("community")?;
                StartPlace::Community(class()?)
            }
            "community_waiting" => {
                no_group("community_waiting")?;
                StartPlace::CommunityWaiting(class()?)
            }
            "mh_bed" => {
                no_group("mh_bed")?;
                no_state("mh_bed")?;
                StartPlace::MhBed
            }
            "mh_out_of_area" => {
                no_group("mh_out_of_area")?;
                no_state("mh_out_of_area")?;
                StartPlace::MhOutOfArea
            }
            _ => {
                return Err(bad(
                    0,
                    "`acute`, `ed`, `rehab`, `community`, `community_waiting`, `mh_bed` or \
                     `mh_out_of_area`",
                ));
            }
        };
        if !mental_health && matches!(place, StartPlace::MhBed | StartPlace::MhOutOfArea) {
            return Err(bad(
                0,
                "a service the scenario has: it has no `[mental_health]` table for this \
                 mental health patient",
            ));
        }
        if out.len() as u64 >= MAX_START_PATIENTS {
            return Err(error_at(
                0,
                format!("more than {MAX_START_PATIENTS} starting patients"),
            ));
        }
        out.push(StartPatient {
            place,
            elapsed_hours,
        });
    }
    if columns.is_none() {
        return Err(ScenarioError::unlocated(
            ErrorKind::InvalidValue,
            ErrorOrigin::File(path.to_path_buf()),
            "the census has no header line; expected `service,group,days,state`".to_string(),
        ));
    }
    Ok(())
}

/// Where a count was written, for its errors.
pub(crate) fn origin_of(c: &Spanned<Count>) -> Origin {
    Origin::of(c.span())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<StartPatient>, String> {
        let mut out = Vec::new();
        parse_census(Path::new("c.csv"), text, true, &mut out)
            .map(|()| out)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn rows_become_patients_in_file_order() {
        let p = parse(
            "# synthetic\nservice,group,days,state\nacute,frail,2.5,\nacute,other,,fit_p3\n\
             ed,frail,0.25,waiting\nrehab,,10,\ncommunity,,,avoidance\n\
             community_waiting,,3,discharge\nmh_bed,,,\nmh_out_of_area,,4,\n",
        )
        .unwrap();
        assert_eq!(p.len(), 8);
        assert_eq!(
            p[0],
            StartPatient {
                place: StartPlace::Acute {
                    frail: true,
                    state: AcuteState::InStay
                },
                elapsed_hours: Some(60.0)
            }
        );
        assert_eq!(
            p[1].place,
            StartPlace::Acute {
                frail: false,
                state: AcuteState::Fit(Some(Pathway::P3))
            }
        );
        assert_eq!(p[1].elapsed_hours, None);
        assert_eq!(p[4].place, StartPlace::Community(ReferralClass::Avoidance));
        assert_eq!(
            p[5].place,
            StartPlace::CommunityWaiting(ReferralClass::Discharge)
        );
    }

    #[test]
    fn columns_may_come_in_any_order() {
        let p = parse("state,days,group,service\nfit,1,other,acute\n").unwrap();
        assert_eq!(
            p[0].place,
            StartPlace::Acute {
                frail: false,
                state: AcuteState::Fit(None)
            }
        );
    }

    #[test]
    fn errors_name_line_column_and_field() {
        let e = parse("service,group,days,state\nacute,frail,1,\nacutee,frail,1,\n").unwrap_err();
        assert!(
            e.starts_with("error: c.csv:3:1: field `service`: found `acutee`"),
            "{e}"
        );
        let e = parse("service,group,days,state\nacute,frail,x1,\n").unwrap_err();
        assert!(
            e.starts_with("error: c.csv:2:13: field `days`: found `x1`"),
            "{e}"
        );
        let e = parse("service,group,days\nacute,frail,1\n").unwrap_err();
        assert!(
            e.contains("c.csv:1:") && e.contains("missing column `state`"),
            "{e}"
        );
        let e = parse("service,group,days,state\nrehab,frail,1,\n").unwrap_err();
        assert!(e.contains("c.csv:2:7: field `group`"), "{e}");
        let e = parse("service,group,days,state\nacute,frail,-1,\n").unwrap_err();
        assert!(e.contains("c.csv:2:13"), "{e}");
        let e = parse("service,group,days,state\nacute,frail,1\n").unwrap_err();
        assert!(e.contains("c.csv:2:") && e.contains("3 fields"), "{e}");
        let e = parse("").unwrap_err();
        assert!(e.contains("no header"), "{e}");
    }
}
