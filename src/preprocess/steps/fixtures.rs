//! The scikit-learn 1.9.1 references in tests/fixtures/steps/steps.json (written by generate.py
//! beside it) and the comparisons the steps' tests share.

use ndarray::Array2;
use serde_json::Value;

/// Every reference case of one step (`"spline"`, `"pca"`, ...).
pub fn cases(step: &str) -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/steps/steps.json");
    let all: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.into_iter().filter(|c| c["name"] == step).collect()
}

/// A number, `null` being NaN.
fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

pub fn vector(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(number).collect()
}

pub fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(vector).collect();
    let width = rows.first().map_or(0, Vec::len);
    Array2::from_shape_vec((rows.len(), width), rows.concat()).unwrap()
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

/// `x0`, `x1`, ...: the names scikit-learn gives unnamed input columns.
pub fn input_names(n: usize) -> Vec<String> {
    (0..n).map(|j| format!("x{j}")).collect()
}

/// The largest error of `got` against `want`, relative to the largest magnitude in each
/// column of `want` (NaN must meet NaN); panics naming the case beyond `tol`.
pub fn assert_close(got: &Array2<f64>, want: &Array2<f64>, tol: f64, case: &str) -> f64 {
    assert_eq!(got.dim(), want.dim(), "{case}: shape");
    let mut worst = 0.0f64;
    for (j, (g, w)) in got.columns().into_iter().zip(want.columns()).enumerate() {
        let scale = w.iter().filter(|v| v.is_finite()).fold(0.0f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
        for (i, (a, b)) in g.iter().zip(&w).enumerate() {
            assert_eq!(a.is_nan(), b.is_nan(), "{case}: [{i}, {j}] = {a}, scikit-learn {b}");
            if b.is_finite() {
                let err = (a - b).abs() / scale;
                assert!(err <= tol, "{case}: [{i}, {j}] = {a}, scikit-learn {b} (relative {err:e})");
                worst = worst.max(err);
            }
        }
    }
    worst
}
