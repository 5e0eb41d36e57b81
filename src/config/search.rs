//! `[search]`: how each model's trials are chosen.

use super::key::Key;
use super::reader::{choice_of, declared, declared_choice, int_of, keys, words, Cx, Reader, Value};
use super::{MinResources, SearchConfig};
use crate::suggest::suggestion;
use toml::de::DeValue;

/// `[search] method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum SearchMethod {
    Grid,
    Random,
    Halving,
}

keys! {
    /// The keys of `[search]`.
    pub enum SearchKey {
        Method = "method": Choice(words::<SearchMethod>), Word("grid"), "";
        NTrials = "n_trials": Int { min: 1, max: 1_000_000 }, Num(10), "";
        Factor = "factor": Int { min: 2, max: 1000 }, Num(3), "";
        MinResources = "min_resources": MinResources, Word("exhaust"), "";
    }
}

/// `[search]`: `method = "grid"` (the default), `"random"` with `n_trials` (scikit-learn's
/// n_iter), or `"halving"` with `factor` and `min_resources`.
pub(super) fn search(cx: &Cx<'_>, v: &Value<'_>) -> Option<SearchConfig> {
    let mut r = Reader::of(cx, v, "[search]", Key::Search)?;
    let method = method(&mut r)?;
    for (k, only) in [
        (SearchKey::Factor, SearchMethod::Halving),
        (SearchKey::MinResources, SearchMethod::Halving),
        (SearchKey::NTrials, SearchMethod::Random),
    ] {
        if let (Some(v), true) = (r.value(k), method != only) {
            let only: &str = only.into();
            r.err(k, &v.span(), &format!("applies to method = \"{only}\" only"));
            return None;
        }
    }
    match method {
        SearchMethod::Halving => halving(&mut r),
        SearchMethod::Random => {
            Some(SearchConfig::Random { n_trials: r.or_default::<i64>(SearchKey::NTrials)? as usize })
        }
        SearchMethod::Grid => Some(SearchConfig::Grid),
    }
}

/// The method, with its own wording for an unknown one.
fn method(r: &mut Reader<'_, '_, SearchKey>) -> Option<SearchMethod> {
    let Some(word) = r.optional::<String>(SearchKey::Method)? else { return declared_choice(SearchKey::Method) };
    let found = choice_of::<SearchMethod>(&word);
    if found.is_none() {
        let span = r.value(SearchKey::Method).map_or(r.span.clone(), |v| v.span());
        let hint = suggestion(&word, words::<SearchMethod>());
        r.cx().err(&span, format!("unknown search method `{word}` in [search]{hint}"));
    }
    found
}

/// `method = "halving"`: `factor` and `min_resources` (`"exhaust"`, `"smallest"` or a row
/// count), as HalvingGridSearchCV.
fn halving(r: &mut Reader<'_, '_, SearchKey>) -> Option<SearchConfig> {
    let factor = r.or_default::<i64>(SearchKey::Factor);
    let min_resources = match r.value(SearchKey::MinResources) {
        None => declared::<String, _>(SearchKey::MinResources).as_deref().and_then(min_resources_word),
        Some(v) => {
            let read = match v.get_ref() {
                DeValue::String(s) => min_resources_word(s),
                DeValue::Integer(_) => int_of(v.get_ref()).filter(|&n| n >= 1).map(|n| MinResources::Rows(n as usize)),
                _ => None,
            };
            if read.is_none() {
                r.err(SearchKey::MinResources, &v.span(), "must be \"exhaust\", \"smallest\" or a row count >= 1");
            }
            read
        }
    };
    Some(SearchConfig::Halving { factor: factor? as u32, min_resources: min_resources? })
}

fn min_resources_word(word: &str) -> Option<MinResources> {
    match word {
        "exhaust" => Some(MinResources::Exhaust),
        "smallest" => Some(MinResources::Smallest),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{errors, parse, HEAD, MODEL};
    use super::*;

    fn search_of(table: &str) -> SearchConfig {
        parse(&format!("{HEAD}{table}{MODEL}")).unwrap().search
    }

    #[test]
    fn each_method_takes_its_defaults() {
        assert_eq!(search_of(""), SearchConfig::Grid);
        assert_eq!(search_of("[search]\n"), SearchConfig::Grid);
        assert_eq!(search_of("[search]\nmethod = \"random\"\n"), SearchConfig::Random { n_trials: 10 });
        let halving = SearchConfig::Halving { factor: 3, min_resources: MinResources::Exhaust };
        assert_eq!(search_of("[search]\nmethod = \"halving\"\n"), halving);
        let halving = SearchConfig::Halving { factor: 2, min_resources: MinResources::Rows(40) };
        assert_eq!(search_of("[search]\nmethod = \"halving\"\nfactor = 2\nmin_resources = 40\n"), halving);
    }

    #[test]
    fn the_method_is_located() {
        let e = parse(&format!("{HEAD}[search]\nmethod = \"halving\"\n{MODEL}")).unwrap();
        assert_eq!(e.location(SearchKey::Method), "exp.toml:6:10");
        // Left out: located at its table, and not given.
        assert_eq!(e.location(SearchKey::MinResources), "exp.toml:5:1");
        assert_eq!(e.given_at(SearchKey::MinResources), None);
    }

    #[test]
    fn an_unknown_method_gets_a_did_you_mean() {
        let e = errors(&format!("{HEAD}[search]\nmethod = \"randm\"\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:10: unknown search method `randm` in [search], did you mean `random`?"]);
    }

    #[test]
    fn a_key_of_another_method_is_refused() {
        let e = errors(&format!("{HEAD}[search]\nn_trials = 5\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:12: `n_trials` in [search] applies to method = \"random\" only"]);
    }

    #[test]
    fn min_resources_is_a_word_or_a_count() {
        let e = errors(&format!("{HEAD}[search]\nmethod = \"halving\"\nmin_resources = \"all\"\n{MODEL}"));
        assert_eq!(
            e,
            ["exp.toml:7:17: `min_resources` in [search] must be \"exhaust\", \"smallest\" or a row count >= 1"]
        );
    }
}
