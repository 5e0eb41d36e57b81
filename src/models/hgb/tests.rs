//! The port against scikit-learn 1.9.1: tests/fixtures/sklearn/hgb.json, written by
//! hgb_generate.py beside it.

use super::*;
use crate::spec::{ParamValue, ParamValues};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sklearn/hgb.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

pub(super) fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(|c| c.as_f64().unwrap_or(f64::NAN)).collect())
        .collect();
    let width = rows[0].len();
    Array2::from_shape_vec((rows.len(), width), rows.concat()).expect("shape")
}

pub(super) fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("list").iter().map(|x| x.as_f64().expect("float")).collect()
}

/// The case's scikit-learn parameters as the experiment file would give them, checked
/// against the kind's parameter specs (the catalog's, which adds no defaults of its own).
pub(super) fn params(case: &Value) -> HgbParams {
    let mut given: ParamValues = HgbParams::SPECS.iter().map(|p| (p.name.to_string(), p.default.value())).collect();
    for (k, v) in case["params"].as_object().expect("params") {
        let value = match (k.as_str(), v) {
            ("max_depth" | "max_leaf_nodes", Value::Null) => ParamValue::Int(0),
            ("class_weight", Value::Null) => ParamValue::Str("none".into()),
            (_, Value::Bool(b)) => ParamValue::Bool(*b),
            (_, Value::String(s)) => ParamValue::Str(s.clone()),
            (_, Value::Number(n)) if n.is_i64() => ParamValue::Int(n.as_i64().unwrap_or(0)),
            (_, Value::Number(n)) => ParamValue::Float(n.as_f64().unwrap_or(0.0)),
            _ => panic!("{k}"),
        };
        let spec = HgbParams::SPECS.iter().find(|p| p.name == k).expect("a parameter of the kind");
        given.insert(k.clone(), spec.ty.check(&value).expect("a valid value"));
    }
    HgbParams::read(&given).expect("params")
}

fn fit_case(case: &Value) -> (HgbModel, Prediction) {
    let x = matrix(&case["x_train"]);
    let y = floats(&case["y_train"]);
    let p = params(case);
    let fitted = if case["task"] == "regression" {
        boosting::fit(&settings(&p).expect("settings"), &x, &y, Loss::SquaredError, None, None, &[])
    } else {
        let classes: Vec<usize> = y.iter().map(|&v| v as usize).collect();
        let k = classes.iter().max().map_or(0, |m| m + 1);
        let loss = if k == 2 { Loss::Binomial } else { Loss::Multinomial(k) };
        let names: Vec<String> = (0..k).map(|c| c.to_string()).collect();
        let w = crate::models::weights::per_row(&p.class_weight, &classes, &names, None);
        boosting::fit(&settings(&p).expect("settings"), &x, &y, loss, w.as_deref(), Some(&classes), &[])
    };
    let b = fitted.expect("fit");
    let k = b.baseline.len();
    let classes = if case["task"] == "regression" { 0 } else { k.max(2) };
    let width = x.ncols();
    let coded = Coded::new(classes, &b.trees, &b.baseline, width);
    let fitted_raw = Some(b.fitted_raw);
    let model = HgbModel { classes, baseline: b.baseline, trees: b.trees, losses: b.losses, coded, fitted_raw };
    let prediction = model.predict(&matrix(&case["x_test"]));
    (model, prediction)
}

fn max_difference(got: impl Iterator<Item = f64>, want: &[f64]) -> f64 {
    got.zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
}

#[test]
fn hgb_equals_scikit_learn_on_every_fixture_case() {
    let f = fixture();
    let mut failures = Vec::new();
    for case in f["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().unwrap_or("?");
        let (model, prediction) = fit_case(case);
        let n_iter = case["n_iter"].as_u64().unwrap_or(0) as usize;
        let baseline = max_difference(model.baseline.iter().copied(), &floats(&case["baseline"]));
        let (diff, tol) = match &prediction {
            Prediction::Values(v) => (max_difference(v.iter().copied(), &floats(&case["predict"])), 1e-9),
            Prediction::Probabilities(p) => {
                let want: Vec<f64> = case["proba"].as_array().expect("proba").iter().flat_map(floats).collect();
                (max_difference(p.iter().copied(), &want), 1e-12)
            }
        };
        if model.trees.len() != n_iter || diff > tol || baseline > 1e-15 {
            failures.push(format!(
                "{name}: {} iterations (sklearn {n_iter}), prediction off by {diff:e}, baseline by {baseline:e}",
                model.trees.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_saved_ensemble_round_trips_and_a_broken_one_is_refused() {
    let leaf = |v| HgbNode::Leaf(v);
    let split =
        |left, right| HgbNode::Split { feature: 1, threshold: f64::INFINITY, bin: 3, missing_left: true, left, right };
    let tree = HgbTree { nodes: vec![split(1, 2), leaf(0.5), leaf(-0.5)] };
    let text = serde_json::to_string(&tree).expect("json");
    assert!(text.contains("\"threshold\":null"), "{text}");
    let back: HgbTree = serde_json::from_str(&text).expect("parse");
    assert_eq!(back, tree);
    let model = HgbModel::from_state(0, vec![1.0], vec![vec![tree.clone()]], 2).expect("valid");
    let x = ndarray::array![[0.0, 5.0], [0.0, f64::NAN]];
    let Prediction::Values(v) = model.predict(&x) else { panic!() };
    assert_eq!(v.to_vec(), vec![1.5, 1.5]);
    for (classes, baseline, trees, width, problem) in [
        (0, vec![1.0], vec![vec![tree.clone()]], 1, "feature is 1, but there are 1 features"),
        (3, vec![0.0; 3], vec![vec![tree.clone()]], 2, "has 1 trees, expected 3"),
        (0, vec![1.0], vec![vec![HgbTree { nodes: vec![split(2, 2), leaf(0.0), leaf(0.0)] }]], 2, "one parent"),
        (0, vec![1.0], vec![vec![HgbTree { nodes: vec![split(1, 5), leaf(0.0)] }]], 2, "a later node"),
        (0, vec![f64::NAN], vec![], 2, "finite values"),
    ] {
        let err = HgbModel::from_state(classes, baseline, trees, width).err().expect("refused");
        assert!(err.contains(problem), "{err}");
    }
}

pub(super) fn bits(p: &Prediction) -> Vec<u64> {
    match p {
        Prediction::Values(v) => v.iter().map(|v| v.to_bits()).collect(),
        Prediction::Probabilities(p) => p.iter().map(|v| v.to_bits()).collect(),
    }
}

/// Coded rows reach the raw walk's leaves: a predict, the fit's kept training predictions, a
/// shuffle of columns re-routing only the rows it moves and a grid of one column's values all
/// give the bits of walking the raw values (`_raw_predict`), on every fixture case (NaN,
/// categorical-free shapes, both tasks; a shuffle's moved rows summed again by
/// `LeafTable::add_one` for one output, by `LeafTable::add` for three classes).
#[test]
fn coded_predictions_are_the_raw_walks_bits() {
    let f = fixture();
    for case in f["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().unwrap_or("?");
        let (model, _) = fit_case(case);
        let walk = |x: &Array2<f64>| predict::head(model.classes, model.raw(x));
        let train = matrix(&case["x_train"]);
        assert_eq!(bits(&model.fitted_prediction().expect("kept")), bits(&walk(&train)), "{name}: fitted");
        coded_walks_raw_bits(name, &model, &matrix(&case["x_test"]));
    }
}

/// Trees of more leaves than a byte numbers (two chains of 150 splits under a root) route,
/// shuffle and take a grid with wider leaf numbers, to the raw walk's bits.
#[test]
fn trees_of_many_leaves_give_the_raw_walks_bits() {
    fn chain(nodes: &mut Vec<HgbNode>, feature: usize, len: usize) {
        for k in 0..len {
            let (at, threshold) = (nodes.len(), k as f64);
            let missing_left = k % 3 == 0;
            nodes.push(HgbNode::Split { feature, threshold, bin: 0, missing_left, left: at + 1, right: at + 2 });
            nodes.push(HgbNode::Leaf(threshold * 0.37 + feature as f64));
        }
        nodes.push(HgbNode::Leaf(-1.5 - feature as f64));
    }
    let mut nodes = Vec::new();
    nodes.push(HgbNode::Split { feature: 2, threshold: 0.5, bin: 0, missing_left: false, left: 1, right: 302 });
    chain(&mut nodes, 0, 150);
    chain(&mut nodes, 1, 150);
    let split = HgbNode::Split { feature: 1, threshold: 40.0, bin: 0, missing_left: true, left: 1, right: 2 };
    let small = HgbTree { nodes: vec![split, HgbNode::Leaf(0.25), HgbNode::Leaf(-0.75)] };
    let trees = vec![vec![HgbTree { nodes }], vec![small]];
    let model = HgbModel::from_state(0, vec![0.5], trees, 3).expect("valid");
    let x = Array2::from_shape_fn((400, 3), |(i, j)| match (i * 7 + j * 13) % 11 {
        0 => f64::NAN,
        r => ((i * (j + 3)) % 157) as f64 - 3.0 + f64::from(r as u8) * 0.1,
    });
    coded_walks_raw_bits("many leaves", &model, &x);
}

/// `model`'s coded predictions of `test`: a predict, the routed rows, shuffles of some columns
/// (all rows and some) and a grid of column 0's values, each equal to the raw walk's bits.
fn coded_walks_raw_bits(name: &str, model: &HgbModel, test: &Array2<f64>) {
    let walk = |x: &Array2<f64>| predict::head(model.classes, model.raw(x));
    let coded = model.coded.as_ref().expect("coded");
    assert_eq!(bits(&model.predict(test)), bits(&walk(test)), "{name}: predict");
    let routed = coded.route(test);
    assert_eq!(bits(&routed.prediction()), bits(&walk(test)), "{name}: routed");
    let n = test.nrows();
    let perm: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % n).collect();
    for cols in [vec![0], vec![1, 2], vec![test.ncols() - 1]] {
        let mut shuffled = test.clone();
        for &c in &cols {
            for (i, &p) in perm.iter().enumerate() {
                shuffled[[i, c]] = test[[p, c]];
            }
        }
        let boxes = routed.boxes(&cols);
        assert_eq!(bits(&routed.shuffled(&boxes, None, &perm)), bits(&walk(&shuffled)), "{name}: {cols:?}");
        let some: Vec<usize> = (0..n).step_by(3).collect();
        let sub_perm: Vec<usize> = (0..some.len()).rev().collect();
        let mut sub = test.select(ndarray::Axis(0), &some);
        for &c in &cols {
            for (i, &p) in sub_perm.iter().enumerate() {
                sub[[i, c]] = test[[some[p], c]];
            }
        }
        assert_eq!(bits(&routed.shuffled(&boxes, Some(&some), &sub_perm)), bits(&walk(&sub)), "{name}: rows");
    }
    let col = 0;
    let mut grid: Vec<f64> = test.column(col).iter().copied().filter(|v| !v.is_nan()).collect();
    grid.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300]);
    let curves = coded.dependence(test, col, &grid);
    for (v, curve) in grid.iter().zip(&curves) {
        let mut at = test.clone();
        at.column_mut(col).fill(*v);
        assert_eq!(bits(curve), bits(&walk(&at)), "{name}: grid value {v}");
    }
}
