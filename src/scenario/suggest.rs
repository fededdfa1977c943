//! "Did you mean" suggestions for misspelt keys and names.

/// Edit distance in characters where swapping two neighbours counts as one
/// edit ("maen" for "mean"), the commonest typing slip: optimal string
/// alignment, three-row dynamic programme.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let substitute = prev[j] + usize::from(a[i] != b[j]);
            let mut d = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                d = d.min(before[j - 1] + 1);
            }
            cur[j + 1] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate, if it is close enough to be a plausible typo: at
/// most a third of the longer name's length, and at least one edit allowed.
/// Ties go to the earlier candidate, so the answer is deterministic.
pub(crate) fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    // Very long input is not a typo of a short key; also bounds the work.
    if word.chars().count() > 200 {
        return None;
    }
    let mut best: Option<(&str, usize)> = None;
    for &c in candidates {
        let d = edit_distance(word, c);
        let limit = (word.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((c, d));
        }
    }
    // A shortened name ("frailty" for "frailty_unit"): the only candidate
    // it starts, when it is long enough to mean something.
    best.map(|(c, _)| c).or_else(|| {
        let mut starting = candidates
            .iter()
            .filter(|c| word.chars().count() >= 4 && c.starts_with(word));
        match (starting.next(), starting.next()) {
            (Some(c), None) => Some(*c),
            _ => None,
        }
    })
}

/// `"; did you mean `x`?"`, or nothing when no candidate is close.
pub(crate) fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    match closest(word, candidates) {
        Some(c) => format!(", did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("cars", "cars"), 0);
        assert_eq!(edit_distance("carz", "cars"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("maen", "mean"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
    }

    #[test]
    fn suggests_only_plausible_typos() {
        let keys = ["cars", "open", "days", "eligible_share"];
        assert_eq!(closest("car", &keys), Some("cars"));
        assert_eq!(closest("eligable_share", &keys), Some("eligible_share"));
        assert_eq!(closest("zzzzzz", &keys), None);
        assert_eq!(closest("maen", &["mean", "sd"]), Some("mean"));
        assert_eq!(
            closest("frailty", &["frailty_unit", "pru"]),
            Some("frailty_unit")
        );
        assert_eq!(closest("da", &["days", "dates"]), None);
    }
}
