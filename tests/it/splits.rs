//! Split indices equal scikit-learn's for holdout, KFold(shuffle), StratifiedKFold and
//! stratified holdout, over several seeds and sizes.

use crate::common::fixture;
use runner::config::{SplitConfig, TestSize};
use runner::data::SplitColumn;
use runner::split::plan_split;
use serde_json::Value;

fn indices(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

#[test]
fn split_indices_match_scikit_learn() {
    let f = fixture("splits.json");
    let cases = f["cases"].as_array().unwrap();
    assert!(cases.len() >= 12);
    for case in cases {
        let n = case["n"].as_u64().unwrap() as usize;
        let seed = case["seed"].as_u64().unwrap() as u32;
        let test_size = || match &case["test_size"] {
            v if v.is_u64() => TestSize::Count(v.as_u64().unwrap() as usize),
            v => TestSize::Fraction(v.as_f64().unwrap()),
        };
        let labels: Vec<usize> = case.get("labels").map(indices).unwrap_or_default();
        let names: Vec<String> = (0..3).map(|c| c.to_string()).collect();
        let classes = (!labels.is_empty()).then_some((labels.as_slice(), names.as_slice()));
        let kind = case["kind"].as_str().unwrap();
        let cfg = match kind {
            "holdout" => SplitConfig::Holdout { test_size: test_size(), shuffle: true, stratify: false },
            "stratified_holdout" => SplitConfig::Holdout { test_size: test_size(), shuffle: true, stratify: true },
            "kfold" => {
                SplitConfig::KFold { folds: case["folds_k"].as_u64().unwrap() as usize, shuffle: true, repeats: 1 }
            }
            _ => SplitConfig::StratifiedKFold {
                folds: case["folds_k"].as_u64().unwrap() as usize,
                shuffle: case["shuffle"].as_bool().unwrap(),
                repeats: 1,
            },
        };
        let plan = plan_split(&cfg, n, classes, None, seed).unwrap();
        if kind.ends_with("holdout") {
            assert_eq!(plan.folds[0].test, indices(&case["test"]), "{kind} n={n} seed={seed}: test rows");
            assert_eq!(plan.folds[0].train, indices(&case["train"]), "{kind} n={n} seed={seed}: train rows");
        } else {
            let folds = case["folds"].as_array().unwrap();
            assert_eq!(plan.folds.len(), folds.len());
            for (ours, theirs) in plan.folds.iter().zip(folds) {
                assert_eq!(ours.test, indices(&theirs["test"]), "{kind} n={n} seed={seed}: test rows");
                assert_eq!(ours.train, indices(&theirs["train"]), "{kind} n={n} seed={seed}: train rows");
            }
        }
    }
}

/// RepeatedKFold, RepeatedStratifiedKFold, GroupKFold (shuffled or not) and TimeSeriesSplit
/// (test_size, max_train_size, gap) give scikit-learn's indices (splits_more.json).
#[test]
fn repeated_grouped_and_time_series_indices_match_scikit_learn() {
    let f = fixture("splits_more.json");
    let cases = f["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    let count = |v: &Value| v.as_u64().map(|x| x as usize);
    for case in cases {
        let n = count(&case["n"]).unwrap();
        let k = count(&case["folds_k"]).unwrap();
        let seed = case["seed"].as_u64().unwrap_or(0) as u32;
        let labels: Vec<usize> = case.get("labels").map(indices).unwrap_or_default();
        let names: Vec<String> = (0..3).map(|c| c.to_string()).collect();
        let classes = (!labels.is_empty()).then_some((labels.as_slice(), names.as_slice()));
        let groups = case.get("groups").map(|g| SplitColumn::Groups(indices(g)));
        let kind = case["kind"].as_str().unwrap();
        let cfg = match kind {
            "repeated_kfold" => {
                SplitConfig::KFold { folds: k, shuffle: true, repeats: count(&case["repeats"]).unwrap() }
            }
            "repeated_stratified_kfold" => {
                SplitConfig::StratifiedKFold { folds: k, shuffle: true, repeats: count(&case["repeats"]).unwrap() }
            }
            "group_kfold" => {
                SplitConfig::GroupKFold { folds: k, group: "g".into(), shuffle: case["shuffle"].as_bool().unwrap() }
            }
            _ => SplitConfig::TimeSeries {
                folds: k,
                test_size: count(&case["test_size"]),
                max_train_size: count(&case["max_train_size"]),
                gap: count(&case["gap"]).unwrap(),
            },
        };
        let plan = plan_split(&cfg, n, classes, groups.as_ref(), seed).unwrap();
        let folds = case["folds"].as_array().unwrap();
        assert_eq!(plan.folds.len(), folds.len(), "{kind} n={n}");
        for (i, (ours, theirs)) in plan.folds.iter().zip(folds).enumerate() {
            assert_eq!(ours.test, indices(&theirs["test"]), "{kind} n={n} seed={seed} fold {i}: test rows");
            assert_eq!(ours.train, indices(&theirs["train"]), "{kind} n={n} seed={seed} fold {i}: train rows");
        }
    }
}
