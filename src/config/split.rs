//! `[split]` and `[split.outer]`: which rows train and which test, per fold.

use super::key::Key;
use super::reader::{float_of, int_of, keys, type_name, Cx, Reader, Section, Ty, Value};
use super::{SplitConfig, SplitMethod, TestSize};
use toml::de::DeValue;

keys! {
    /// The keys of `[split]` (and of `[split.outer]`).
    pub enum SplitKey {
        Method = "method": Choice(words::<SplitMethod>), Word("holdout"), "";
        TestSize = "test_size": TestSize, Absent,
            "holdout: a fraction in (0, 1) or a row count; timeseries: rows per test fold.";
        Folds = "folds": Int { min: 2, max: 1_000_000 }, Num(5), "";
        Shuffle = "shuffle": Bool, Absent, "";
        Stratify = "stratify": Bool, Flag(false), "";
        Repeats = "repeats": Int { min: 1, max: 10_000 }, Num(1), "";
        Group = "group": Str, Absent, "group_kfold: the group column.";
        Column = "column": Str, Absent, "column: train/test or fold ids.";
        MaxTrainSize = "max_train_size": Int { min: 1, max: i64::MAX }, Absent, "";
        Gap = "gap": Int { min: 0, max: i64::MAX }, Num(0), "";
        Outer = "outer": Table, Absent, "";
    }
}

/// A holdout's `test_size` when the file does not give one.
const HOLDOUT_TEST_SIZE: f64 = 0.25;

/// `[split]` (`None` when the file has none: a holdout) and its `[split.outer]`.
pub(super) fn splits(cx: &Cx<'_>, v: &Value<'_>) -> (Option<SplitConfig>, Option<Option<SplitConfig>>) {
    let Some(mut r) = Reader::of(cx, v, "[split]", Key::Split) else { return (None, Some(None)) };
    let outer = match r.value(SplitKey::Outer) {
        Some(o) => outer_split(cx, o).map(Some),
        None => Some(None),
    };
    (split(&mut r), outer)
}

/// `[split.outer]`: the outer split of a nested cross-validation, around the inner split
/// (`[split]`) and the search. Holdout, k-fold variants or time series.
fn outer_split(cx: &Cx<'_>, v: &Value<'_>) -> Option<SplitConfig> {
    let mut r = Reader::of(cx, v, "[split.outer]", Key::Outer)?;
    if let Some(inner) = r.value(SplitKey::Outer) {
        cx.err(&inner.span(), "[split.outer] cannot have an outer split of its own");
        r.skip_all();
        return None;
    }
    // Refused by name first, so that such a method's own keys (`group`) are not asked for.
    if let Some(m) = r.value(SplitKey::Method) {
        let refused = [SplitMethod::Column, SplitMethod::GroupKfold, SplitMethod::None].map(SplitMethod::name);
        if let Some(method) = m.get_ref().as_str().filter(|name| refused.contains(name)) {
            cx.err(
                &m.span(),
                format!("[split.outer] takes holdout, kfold, stratified_kfold or timeseries, not `{method}`"),
            );
            r.skip_all();
            return None;
        }
    }
    split(&mut r)
}

/// The keys each method takes, in the order its error lists them.
fn applicable(method: SplitMethod) -> &'static [SplitKey] {
    use SplitKey::*;
    match method {
        SplitMethod::Holdout => &[Method, TestSize, Shuffle, Stratify, Outer],
        SplitMethod::Kfold | SplitMethod::StratifiedKfold => &[Method, Folds, Shuffle, Repeats, Outer],
        SplitMethod::GroupKfold => &[Method, Folds, Group, Shuffle],
        SplitMethod::Timeseries => &[Method, Folds, TestSize, MaxTrainSize, Gap, Outer],
        SplitMethod::Column => &[Method, Column],
        SplitMethod::None => &[Method],
    }
}

fn split(r: &mut Reader<'_, '_, SplitKey>) -> Option<SplitConfig> {
    let method = r.choice::<SplitMethod>(SplitKey::Method)?;
    let allowed = applicable(method);
    let takes: Vec<&str> = allowed[1..].iter().map(|k| k.decl().name).collect();
    let takes = if takes.is_empty() { "no other key".to_string() } else { takes.join(", ") };
    let message = format!("does not apply to method = \"{}\" (it takes {takes})", method.name());
    for (key, _) in r.table().iter() {
        let name: &str = key.get_ref();
        if let Some(&k) = SplitKey::ALL.iter().find(|k| k.decl().name == name && !allowed.contains(k)) {
            r.err(k, &key.span(), &message);
        }
    }
    match method {
        SplitMethod::Holdout => holdout(r),
        SplitMethod::Kfold | SplitMethod::StratifiedKfold => kfold(r, method),
        SplitMethod::GroupKfold => {
            let folds = folds(r);
            let group = r.required::<String>(SplitKey::Group);
            let shuffle = r.optional::<bool>(SplitKey::Shuffle);
            Some(SplitConfig::GroupKFold { folds: folds?, group: group?, shuffle: shuffle?.unwrap_or(false) })
        }
        SplitMethod::Timeseries => timeseries(r),
        SplitMethod::Column => Some(SplitConfig::Column { column: r.required::<String>(SplitKey::Column)? }),
        SplitMethod::None => Some(SplitConfig::None),
    }
}

fn folds(r: &mut Reader<'_, '_, SplitKey>) -> Option<usize> {
    r.or_default::<i64>(SplitKey::Folds).map(|f| f as usize)
}

fn holdout(r: &mut Reader<'_, '_, SplitKey>) -> Option<SplitConfig> {
    let shuffle = r.optional::<bool>(SplitKey::Shuffle).map(|s| s.unwrap_or(true));
    let test_size = test_size(r);
    let stratify = r.or_default::<bool>(SplitKey::Stratify);
    if let (Some(true), Some(false)) = (stratify, shuffle) {
        let span = r.value(SplitKey::Stratify).map_or(r.span.clone(), |v| v.span());
        r.cx().err(&span, format!("`stratify = true` in {} needs `shuffle = true` (as in scikit-learn)", r.label));
        return None;
    }
    Some(SplitConfig::Holdout { test_size: test_size?, shuffle: shuffle?, stratify: stratify? })
}

/// k-fold and stratified k-fold; `repeats` > 1 makes them RepeatedKFold and
/// RepeatedStratifiedKFold, which always shuffle.
fn kfold(r: &mut Reader<'_, '_, SplitKey>, method: SplitMethod) -> Option<SplitConfig> {
    let folds = folds(r);
    let repeats = r.or_default::<i64>(SplitKey::Repeats);
    let repeated = repeats.is_some_and(|r| r > 1);
    let shuffle = r.optional::<bool>(SplitKey::Shuffle).map(|s| s.unwrap_or(repeated));
    if let (true, Some(false)) = (repeated, shuffle) {
        let span = r.value(SplitKey::Shuffle).map_or(r.span.clone(), |v| v.span());
        r.cx().err(&span, "`repeats` above 1 reshuffles each repeat (as RepeatedKFold): remove `shuffle = false`");
        return None;
    }
    let (folds, shuffle, repeats) = (folds?, shuffle?, repeats? as usize);
    Some(if method == SplitMethod::Kfold {
        SplitConfig::KFold { folds, shuffle, repeats }
    } else {
        SplitConfig::StratifiedKFold { folds, shuffle, repeats }
    })
}

/// TimeSeriesSplit: `folds` (n_splits), `test_size` and `max_train_size` (row counts,
/// optional), `gap` (rows, default 0).
fn timeseries(r: &mut Reader<'_, '_, SplitKey>) -> Option<SplitConfig> {
    let folds = folds(r);
    let rows = Ty::Int { min: 1, max: i64::MAX };
    let test_size = r.optional_as::<i64>(SplitKey::TestSize, rows);
    let max_train_size = r.optional::<i64>(SplitKey::MaxTrainSize);
    let gap = r.or_default::<i64>(SplitKey::Gap);
    Some(SplitConfig::TimeSeries {
        folds: folds?,
        test_size: test_size?.map(|n| n as usize),
        max_train_size: max_train_size?.map(|n| n as usize),
        gap: gap? as usize,
    })
}

/// A holdout's `test_size`: a fraction in (0, 1) or a whole row count.
fn test_size(r: &mut Reader<'_, '_, SplitKey>) -> Option<TestSize> {
    let Some(v) = r.value(SplitKey::TestSize) else { return Some(TestSize::Fraction(HOLDOUT_TEST_SIZE)) };
    let tail = match v.get_ref() {
        DeValue::Integer(_) => match int_of(v.get_ref()) {
            Some(n) if n >= 1 => return Some(TestSize::Count(n as usize)),
            _ => "must be a fraction in (0, 1) or a row count >= 1".to_string(),
        },
        DeValue::Float(_) => match float_of(v.get_ref()) {
            Some(x) if x > 0.0 && x < 1.0 => return Some(TestSize::Fraction(x)),
            x => {
                let shown = x.map_or("?".to_string(), |x| format!("{x:?}"));
                format!("must be a fraction strictly between 0 and 1, or a whole row count written without a decimal point (such as 30); found {shown}")
            }
        },
        other => format!("must be a number, found {}", type_name(other)),
    };
    r.err(SplitKey::TestSize, &v.span(), &tail);
    None
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{errors, parse, HEAD, MODEL};
    use super::*;

    fn split_of(table: &str) -> (SplitConfig, Option<SplitConfig>) {
        let e = parse(&format!("{HEAD}{table}{MODEL}")).unwrap();
        (e.split, e.outer)
    }

    #[test]
    fn no_split_table_is_a_shuffled_quarter_holdout() {
        let holdout = SplitConfig::Holdout { test_size: TestSize::Fraction(0.25), shuffle: true, stratify: false };
        assert_eq!(split_of(""), (holdout.clone(), None));
        assert_eq!(split_of("[split]\n"), (holdout, None));
    }

    #[test]
    fn each_method_takes_its_defaults() {
        let kfold = SplitConfig::KFold { folds: 5, shuffle: false, repeats: 1 };
        assert_eq!(split_of("[split]\nmethod = \"kfold\"\n").0, kfold);
        let repeated = SplitConfig::StratifiedKFold { folds: 3, shuffle: true, repeats: 2 };
        assert_eq!(split_of("[split]\nmethod = \"stratified_kfold\"\nfolds = 3\nrepeats = 2\n").0, repeated);
        let ts = SplitConfig::TimeSeries { folds: 5, test_size: Some(2), max_train_size: None, gap: 0 };
        assert_eq!(split_of("[split]\nmethod = \"timeseries\"\ntest_size = 2\n").0, ts);
        let group = SplitConfig::GroupKFold { folds: 5, group: "g".into(), shuffle: false };
        assert_eq!(split_of("[split]\nmethod = \"group_kfold\"\ngroup = \"g\"\n").0, group);
        assert_eq!(
            split_of("[split]\nmethod = \"holdout\"\ntest_size = 30\n").0,
            SplitConfig::Holdout { test_size: TestSize::Count(30), shuffle: true, stratify: false }
        );
    }

    #[test]
    fn an_outer_split_is_read_and_located() {
        let text = "[split]\nmethod = \"kfold\"\n[split.outer]\nmethod = \"kfold\"\nfolds = 3\n";
        let e = parse(&format!("{HEAD}{text}{MODEL}")).unwrap();
        assert_eq!(e.outer, Some(SplitConfig::KFold { folds: 3, shuffle: false, repeats: 1 }));
        assert_eq!(e.location(SplitKey::Method), "exp.toml:6:10");
        assert_eq!(e.location(Key::Outer(SplitKey::Method)), "exp.toml:8:10");
        assert_eq!(e.location(SplitKey::Outer), "exp.toml:7:1");
    }

    #[test]
    fn a_key_of_another_method_names_those_this_one_takes() {
        let e = errors(&format!("{HEAD}[split]\nmethod = \"column\"\ncolumn = \"c\"\nfolds = 3\n{MODEL}"));
        assert_eq!(e, ["exp.toml:8:1: `folds` in [split] does not apply to method = \"column\" (it takes column)"]);
    }

    #[test]
    fn folds_are_at_least_two() {
        let e = errors(&format!("{HEAD}[split]\nmethod = \"kfold\"\nfolds = 1\n{MODEL}"));
        assert_eq!(e, ["exp.toml:7:9: `folds` in [split] must be between 2 and 1000000, found 1"]);
    }

    #[test]
    fn a_fractional_test_size_is_below_one() {
        let e = errors(&format!("{HEAD}[split]\ntest_size = 1.5\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:13: `test_size` in [split] must be a fraction strictly between 0 and 1, or a whole row count written without a decimal point (such as 30); found 1.5"]);
    }

    #[test]
    fn stratify_needs_shuffle() {
        let e = errors(&format!("{HEAD}[split]\nshuffle = false\nstratify = true\n{MODEL}"));
        assert_eq!(e, ["exp.toml:7:12: `stratify = true` in [split] needs `shuffle = true` (as in scikit-learn)"]);
    }

    #[test]
    fn repeats_reshuffle() {
        let e = errors(&format!("{HEAD}[split]\nmethod = \"kfold\"\nrepeats = 2\nshuffle = false\n{MODEL}"));
        assert_eq!(
            e,
            ["exp.toml:8:11: `repeats` above 1 reshuffles each repeat (as RepeatedKFold): remove `shuffle = false`"]
        );
    }

    #[test]
    fn an_outer_split_refuses_a_method_by_name() {
        let e = errors(&format!("{HEAD}[split.outer]\nmethod = \"group_kfold\"\n{MODEL}"));
        assert_eq!(
            e,
            ["exp.toml:6:10: [split.outer] takes holdout, kfold, stratified_kfold or timeseries, not `group_kfold`"]
        );
    }

    #[test]
    fn an_outer_split_has_no_outer_split() {
        let e = errors(&format!("{HEAD}[split.outer.outer]\nmethod = \"kfold\"\n{MODEL}"));
        assert_eq!(e, ["exp.toml:5:1: [split.outer] cannot have an outer split of its own"]);
    }
}
