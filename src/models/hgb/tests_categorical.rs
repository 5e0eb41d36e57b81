//! Native categorical features against scikit-learn 1.9.1: tests/fixtures/sklearn/hgb_categorical.json,
//! written by hgb_categorical_generate.py beside it. scikit-learn, given a bool mask, moves the
//! categorical columns first: the fixture's rows are already in that order, the one runner is
//! given, so tree features compare as they are.

use super::binning::{check_categories, BinMapper};
use super::tests::{bits, floats, matrix, params};
use super::*;
use serde_json::Value;
use std::sync::OnceLock;

fn fixture() -> &'static Value {
    static FIXTURE: OnceLock<Value> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sklearn/hgb_categorical.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
    })
}

fn named(name: &str) -> &'static Value {
    let cases = fixture()["cases"].as_array().expect("cases");
    cases.iter().find(|c| c["name"] == name).expect("a fixture case")
}

fn categories(case: &Value) -> Vec<Option<usize>> {
    case["categories"].as_array().expect("categories").iter().map(|k| k.as_u64().map(|k| k as usize)).collect()
}

/// The case fitted by runner, through `fit_regressor` / `fit_classifier`'s steps.
fn fit(case: &Value) -> HgbModel {
    let (x, y, p) = (matrix(&case["x_train"]), floats(&case["y_train"]), params(case));
    let sw = case["sample_weight"].as_array().map(|_| floats(&case["sample_weight"]));
    let s = settings(&p).expect("settings");
    let cats = categories(case);
    let (classes, b) = if case["task"] == "regression" {
        (0, boosting::fit(&s, &x, &y, Loss::SquaredError, sw.as_deref(), None, &cats))
    } else {
        let classes: Vec<usize> = y.iter().map(|&v| v as usize).collect();
        let k = classes.iter().max().map_or(0, |m| m + 1);
        let loss = if k == 2 { Loss::Binomial } else { Loss::Multinomial(k) };
        (k, boosting::fit(&s, &x, &y, loss, sw.as_deref(), Some(&classes), &cats))
    };
    let b = b.expect("fit");
    let coded = Coded::new(classes, &b.trees, &b.baseline, x.ncols());
    let fitted_raw = Some(b.fitted_raw);
    HgbModel { classes, baseline: b.baseline, trees: b.trees, losses: b.losses, coded, fitted_raw }
}

/// Where runner's node differs from scikit-learn's `["leaf", value] | ["num", feature, bin,
/// missing_left] | ["cat", feature, codes, missing_left]`, if it does.
fn node_difference(got: &HgbNode, want: &Value) -> Option<String> {
    let usize_of = |v: &Value| v.as_u64().unwrap_or(u64::MAX) as usize;
    let same = match (got, want[0].as_str().unwrap_or("")) {
        (HgbNode::Leaf(v), "leaf") => {
            let w = want[1].as_f64().unwrap_or(f64::NAN);
            (v - w).abs() <= 1e-9 * w.abs().max(1e-6)
        }
        (HgbNode::Split { feature, bin, missing_left, .. }, "num") => {
            *feature == usize_of(&want[1])
                && usize::from(*bin) == usize_of(&want[2])
                && Some(*missing_left) == want[3].as_bool()
        }
        (HgbNode::Category { feature, left_codes, missing_left, .. }, "cat") => {
            let codes: Vec<usize> = want[2].as_array().expect("codes").iter().map(usize_of).collect();
            *feature == usize_of(&want[1]) && *left_codes == codes && Some(*missing_left) == want[3].as_bool()
        }
        _ => false,
    };
    (!same).then(|| format!("runner {got:?}, scikit-learn {want}"))
}

/// The case's trees (the first iterations'), its iteration count, baseline and predictions
/// equal scikit-learn's; the fit's kept training predictions are the raw walk's bits.
fn equals_scikit_learn(name: &str) {
    let case = named(name);
    let model = fit(case);
    assert!(model.coded.is_none() || !model.trees.iter().flatten().any(has_category), "{name}: coded");
    for (i, iteration) in case["trees"].as_array().expect("trees").iter().enumerate() {
        for (k, want) in iteration.as_array().expect("iteration").iter().enumerate() {
            let (got, want) = (&model.trees[i][k].nodes, want.as_array().expect("nodes"));
            for (at, w) in want.iter().enumerate() {
                let g = got.get(at).unwrap_or_else(|| panic!("{name}: tree [{i}][{k}] ends before node {at}"));
                if let Some(d) = node_difference(g, w) {
                    panic!("{name}: tree [{i}][{k}] node {at}: {d}");
                }
            }
            assert_eq!(got.len(), want.len(), "{name}: tree [{i}][{k}] node count");
        }
    }
    assert_eq!(model.trees.len(), case["n_iter"].as_u64().unwrap_or(0) as usize, "{name}: iterations");
    let baseline = floats(&case["baseline"]);
    assert!(model.baseline.iter().zip(&baseline).all(|(a, b)| (a - b).abs() <= 1e-15), "{name}: baseline");
    let train = matrix(&case["x_train"]);
    let walk = predict::head(model.classes, model.raw(&train));
    // A split on a one-code feature predicts as scikit-learn's does, not as it trained
    // (`one_code_splits`): the fitted model keeps no training predictions then.
    let one_code =
        model.trees.iter().flatten().flat_map(|t| &t.nodes).any(|n| matches!(n, HgbNode::Category { count: 1, .. }));
    if one_code {
        let y = Array1::from(floats(&case["y_train"]));
        let fitted = fit_regressor(&params(case), &train, &y, None, &categories(case)).expect("fit");
        assert!(fitted.fitted_prediction().is_none(), "{name}: a one-code split's training predictions");
    } else {
        assert_eq!(bits(&model.fitted_prediction().expect("kept")), bits(&walk), "{name}: fitted");
    }
    match model.predict(&matrix(&case["x_test"])) {
        Prediction::Values(v) => {
            let want = floats(&case["predict"]);
            let worst = v.iter().zip(&want).map(|(a, b)| (a - b).abs() / b.abs().max(1e-300)).fold(0.0, f64::max);
            assert!(worst <= 1e-9, "{name}: predict off by {worst:e} (relative)");
        }
        Prediction::Probabilities(p) => {
            let want: Vec<f64> = case["proba"].as_array().expect("proba").iter().flat_map(floats).collect();
            let worst = p.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst <= 1e-12, "{name}: predict_proba off by {worst:e}");
        }
    }
}

fn has_category(t: &HgbTree) -> bool {
    t.nodes.iter().any(|n| matches!(n, HgbNode::Category { .. }))
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(#[test]
        fn $name() {
            equals_scikit_learn(stringify!($name));
        })*

        /// The cases with a test of their own.
        const CASES: &[&str] = &[$(stringify!($name)),*];
    };
}

cases!(
    regression_two_levels_last,
    regression_five_forty_nan,
    regression_230_levels_leaf_1,
    regression_levels_equal_max_bins,
    regression_weights_l2_depth,
    regression_ties,
    regression_ties_weights,
    regression_nan_in_test_only,
    regression_early_stopping,
    regression_max_features,
    regression_one_code_and_nan,
    binary_seven_forty_leaf_1,
    multiclass_three_columns,
    binary_ties_weights,
    binary_early_stopping,
    multiclass_ties,
);

/// Every fixture case has a test above.
#[test]
fn every_categorical_case_is_tested() {
    let names: Vec<&str> =
        fixture()["cases"].as_array().expect("cases").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, CASES);
}

fn category(left_codes: Vec<usize>, missing_left: bool) -> HgbNode {
    HgbNode::Category { feature: 1, count: 5, left_codes, missing_left, left: 1, right: 2 }
}

#[test]
fn a_categorical_tree_round_trips_and_walks_raw_values_as_scikit_learn() {
    let tree = HgbTree { nodes: vec![category(vec![0, 3], false), HgbNode::Leaf(1.0), HgbNode::Leaf(-1.0)] };
    let text = serde_json::to_string(&tree).expect("json");
    assert!(text.contains(r#"{"category":{"feature":1,"count":5,"left_codes":[0,3],"missing_left":false"#), "{text}");
    let back: HgbTree = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, tree);
    let model = HgbModel::from_state(0, vec![0.0], vec![vec![tree]], 2).expect("valid");
    assert!(model.coded.is_none());
    // Codes 0 and 3 go left; 1, 2 and 4 right; NaN, negative, unknown and non-whole values
    // the missing way (right here).
    let values = [0.0, 3.0, -0.0, 1.0, 2.0, 4.0, f64::NAN, -1.0, 5.0, 2.5, 1e300, f64::INFINITY];
    let x = Array2::from_shape_fn((values.len(), 2), |(i, j)| if j == 1 { values[i] } else { 9.0 });
    let Prediction::Values(v) = model.predict(&x) else { panic!("values") };
    assert_eq!(v.to_vec(), vec![1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]);
    let tree = HgbTree { nodes: vec![category(vec![2], true), HgbNode::Leaf(1.0), HgbNode::Leaf(-1.0)] };
    let model = HgbModel::from_state(0, vec![0.0], vec![vec![tree.clone()]], 2).expect("valid");
    let Prediction::Values(v) = model.predict(&x) else { panic!("values") };
    assert_eq!(v.to_vec(), vec![-1.0, -1.0, -1.0, -1.0, 1.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    // Binned rows: the missing bin the missing way, a code's bin by the set.
    assert_eq!(tree.predict_binned(|_| 2, 255), 1.0);
    assert_eq!(tree.predict_binned(|_| 3, 255), -1.0);
    assert_eq!(tree.predict_binned(|_| 255, 255), 1.0);
}

#[test]
fn a_broken_categorical_node_is_refused_with_its_path() {
    let leaves = |node: HgbNode| HgbTree { nodes: vec![node, HgbNode::Leaf(0.0), HgbNode::Leaf(0.0)] };
    let wide =
        HgbNode::Category { feature: 1, count: 256, left_codes: vec![0], missing_left: false, left: 1, right: 2 };
    let far = HgbNode::Category { feature: 2, count: 5, left_codes: vec![0], missing_left: false, left: 1, right: 2 };
    let orphan =
        HgbNode::Category { feature: 0, count: 5, left_codes: vec![0], missing_left: false, left: 1, right: 1 };
    for (node, problem) in [
        (category(vec![5], false), "nodes[0].category.left_codes holds 5, but the feature's codes are 0 to 4"),
        (category(vec![3, 1], false), "nodes[0].category.left_codes are not increasing (3 then 1)"),
        (category(vec![1, 1], false), "not increasing (1 then 1)"),
        (wide, "nodes[0].category.count is 256; a categorical feature has at most 255 codes"),
        (far, "nodes[0].category.feature is 2, but there are 2 features"),
        (orphan, "nodes[0].category.right is 1"),
    ] {
        let err = HgbModel::from_state(0, vec![0.0], vec![vec![leaves(node)]], 2).err().expect("refused");
        assert!(err.starts_with("model.trees[0][0].") && err.contains(problem), "{err}");
    }
    let unknown = r#"{"nodes":[{"category":{"feature":0,"count":2,"left_codes":[],"missing_left":true,"left":1,"right":2,"bin":0}},{"leaf":0.0},{"leaf":1.0}]}"#;
    assert!(serde_json::from_str::<HgbTree>(unknown).is_err());
}

/// An empty `categories` and one of `None`s are the numeric fit, tree for tree.
#[test]
fn no_categorical_feature_is_the_numeric_fit() {
    let case = named("regression_five_forty_nan");
    let (x, y) = (matrix(&case["x_train"]), floats(&case["y_train"]));
    let s = settings(&params(case)).expect("settings");
    let none = vec![None; x.ncols()];
    let a = boosting::fit(&s, &x, &y, Loss::SquaredError, None, None, &[]).expect("fit");
    let b = boosting::fit(&s, &x, &y, Loss::SquaredError, None, None, &none).expect("fit");
    assert_eq!(a.trees, b.trees);
    assert!(!a.trees.iter().flatten().any(has_category));
    assert_eq!(a.fitted_raw, b.fitted_raw);
}

#[test]
fn categories_are_checked_naming_the_column() {
    let x = ndarray::array![[0.0, 1.5], [2.0, f64::NAN], [f64::NAN, 3.0]];
    assert!(check_categories(&x, &[Some(3), None], 255).is_ok());
    for (cats, max_bins, problem) in [
        (vec![Some(3)], 255, "categories has 1 entries for 2 columns"),
        (vec![Some(3), None], 2, "categorical column 0 has 3 categories, more than max_bins = 2"),
        (vec![Some(2), None], 255, "categorical column 0 holds 2; its values are the codes 0 to 1 or NaN"),
        (vec![None, Some(4)], 255, "categorical column 1 holds 1.5"),
    ] {
        let err = check_categories(&x, &cats, max_bins).expect_err("refused").to_string();
        assert!(err.contains(problem), "{err}");
    }
    let negative = ndarray::array![[-1.0]];
    assert!(check_categories(&negative, &[Some(2)], 255).is_err());
}

/// The thresholds are the known codes even when some is absent from the rows binned; a code is
/// its bin, NaN and negative values the missing bin.
#[test]
fn a_categorical_feature_bins_its_codes() {
    let x = ndarray::array![[0.0, 0.5], [4.0, 1.5], [f64::NAN, 2.5], [1.0, 0.5], [-1.0, 9.0]];
    let mapper = BinMapper::fit(&x, 255, None, 0, &[Some(5), None]);
    assert_eq!(mapper.thresholds[0], vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    assert_eq!(mapper.n_bins_non_missing, vec![5, 4]);
    let binned = mapper.transform(&x);
    let column: Vec<u8> = (0..5).map(|i| binned.feature(0).get(i)).collect();
    assert_eq!(column, vec![0, 4, 255, 1, 255]);
}
