//! "Did you mean" hints for misspelt names: config keys, columns, parameters and choices.

/// The closest candidate to a misspelt name, if any is close enough to be a likely typo.
pub fn did_you_mean<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `", did you mean `x`?"` or nothing.
pub fn suggestion<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> String {
    match did_you_mean(name, candidates) {
        Some(c) => format!(", did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_key() {
        assert_eq!(did_you_mean("learning_rat", ["learning_rate", "l2", "epochs"]), Some("learning_rate"));
        assert_eq!(did_you_mean("zzz", ["learning_rate", "l2"]), None);
    }
}
