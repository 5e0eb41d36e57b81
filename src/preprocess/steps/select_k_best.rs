//! `select_k_best`: scikit-learn's SelectKBest with f_regression (force_finite) or f_classif:
//! score each column against the target, keep the `k` best, ties to the later column.

use super::FittedStep;
use crate::spec::value::{choice_param, params, DefaultValue::*, FromParam, ParamType, ParamValue};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use strum::{EnumString, VariantNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, VariantNames)]
#[strum(serialize_all = "snake_case")]
pub enum ScoreFunc {
    /// Decided by the task when the plan is made: f_regression or f_classif.
    Auto,
    /// The F statistic of each column's correlation with a numeric target.
    FRegression,
    /// The ANOVA F statistic of each column across the classes.
    FClassif,
}

choice_param!(ScoreFunc);

params! {
    /// `select_k_best`: SelectKBest.
    SelectKBestParams {
        score_func: ScoreFunc = S("auto"), ParamType::Choice(ScoreFunc::VARIANTS), "f_regression (a numeric target's correlation F), f_classif (ANOVA F across classes; classification only) or auto (f_regression for regression, f_classif for classification)";
        k: usize = I(10), ParamType::Int { min: 1, max: i64::MAX }, "columns kept (all of them when there are fewer), ties to the later column";
    }
}

/// The kept columns, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedSelectKBest {
    pub n_features: usize,
    pub selected: Vec<usize>,
}

/// `y`: the regression target, or the class of each row (any numbers; equal means same class).
pub fn fit(
    params: &SelectKBestParams,
    x: ArrayView2<f64>,
    y: Option<ArrayView1<f64>>,
) -> Result<FittedSelectKBest, String> {
    let y = y.ok_or("select_k_best needs the target")?;
    let scores = match params.score_func {
        ScoreFunc::FRegression => f_regression(x, y),
        ScoreFunc::FClassif => f_classif(x, y),
        ScoreFunc::Auto => return Err("score_func `auto` is decided by the task before fitting".into()),
    };
    Ok(FittedSelectKBest { n_features: x.ncols(), selected: best(&scores, params.k) })
}

/// `_get_support_mask`: NaN scores become the lowest float (`_clean_nans`), then a stable
/// ascending argsort keeps its last `k`: of equal scores the later columns win.
fn best(scores: &[f64], k: usize) -> Vec<usize> {
    let clean: Vec<f64> = scores.iter().map(|&s| if s.is_nan() { f64::MIN } else { s }).collect();
    let mut order: Vec<usize> = (0..clean.len()).collect();
    order.sort_by(|&a, &b| clean[a].total_cmp(&clean[b]));
    let mut kept = order[order.len().saturating_sub(k)..].to_vec();
    kept.sort_unstable();
    kept
}

/// `f_regression(X, y)` with `center=True, force_finite=True`: r² / (1 − r²) · (n − 2); a
/// constant column or target scores 0, a perfect correlation the largest float.
pub fn f_regression(x: ArrayView2<f64>, y: ArrayView1<f64>) -> Vec<f64> {
    let n = x.nrows() as f64;
    let y_mean = y.sum() / n;
    let yc = y.mapv(|v| v - y_mean);
    let y_norm = yc.dot(&yc).sqrt();
    let means = x.sum_axis(Axis(0)) / n;
    x.columns()
        .into_iter()
        .zip(&means)
        .map(|(col, &mean)| {
            let norm = (col.dot(&col) - n * mean * mean).sqrt();
            let r = yc.dot(&col) / norm / y_norm;
            let r = if r.is_nan() { 0.0 } else { r };
            let f = r * r / (1.0 - r * r) * (n - 2.0);
            match f {
                f if f.is_infinite() => f64::MAX,
                f if f.is_nan() => 0.0,
                f => f,
            }
        })
        .collect()
}

/// `f_classif(X, y)` (`f_oneway`): between-class over within-class mean squares; a column
/// constant within every class scores NaN (0/0) or infinity, and so does every column when
/// the rows hold one class (scikit-learn then keeps the last `k`).
pub fn f_classif(x: ArrayView2<f64>, y: ArrayView1<f64>) -> Vec<f64> {
    let mut classes: Vec<f64> = y.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    let p = x.ncols();
    let (mut ss_all, mut sums_all, mut between) = (vec![0.0; p], vec![0.0; p], vec![0.0; p]);
    for class in &classes {
        let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == *class).collect();
        let part = x.select(Axis(0), &rows);
        let sums = part.sum_axis(Axis(0));
        let squares = part.mapv(|v| v * v).sum_axis(Axis(0));
        for j in 0..p {
            ss_all[j] += squares[j];
            sums_all[j] += sums[j];
            between[j] += sums[j] * sums[j] / rows.len() as f64;
        }
    }
    let (n, k) = (x.nrows() as f64, classes.len() as f64);
    (0..p)
        .map(|j| {
            let square_of_sums = sums_all[j] * sums_all[j];
            let sstot = ss_all[j] - square_of_sums / n;
            let ssbn = between[j] - square_of_sums / n;
            let msb = ssbn / (k - 1.0);
            let msw = (sstot - ssbn) / (n - k);
            msb / msw
        })
        .collect()
}

impl FittedStep for FittedSelectKBest {
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        x.select(Axis(1), &self.selected)
    }

    fn feature_names(&self, input: &[String]) -> Vec<String> {
        self.selected.iter().map(|&j| input[j].clone()).collect()
    }

    /// A loaded model's state: the input width, and kept columns increasing and inside it.
    fn check(&self, n_features: usize) -> Result<(), String> {
        if self.n_features != n_features {
            return Err(format!("fitted on {} features, given {n_features}", self.n_features));
        }
        if self.selected.windows(2).any(|w| w[0] >= w[1]) || self.selected.iter().any(|&j| j >= n_features) {
            return Err("selected columns must increase and lie inside the features".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{cases, input_names, matrix, strings, vector};
    use super::*;

    #[test]
    fn equals_scikit_learn() {
        for case in cases("select_k_best") {
            let id = format!("{} {}", case["data"], case["params"]);
            let score_func = match case["params"]["score_func"].as_str().unwrap() {
                "f_regression" => ScoreFunc::FRegression,
                _ => ScoreFunc::FClassif,
            };
            let params = SelectKBestParams { score_func, k: case["params"]["k"].as_u64().unwrap() as usize };
            let (train, test, y) = (matrix(&case["train"]), matrix(&case["test"]), vector(&case["y"]));
            let y = ndarray::Array1::from(y);
            let scores = match score_func {
                ScoreFunc::FRegression => f_regression(train.view(), y.view()),
                ScoreFunc::FClassif | ScoreFunc::Auto => f_classif(train.view(), y.view()),
            };
            for (got, want) in scores.iter().zip(vector(&case["scores"])) {
                // A constant column's score is rounding noise in scikit-learn (or NaN).
                let noise = want.is_nan() || want < 1e-12;
                assert!(noise || (got - want).abs() <= 1e-9 * want.abs(), "{id}: score {got}, scikit-learn {want}");
            }
            let fitted = fit(&params, train.view(), Some(y.view())).unwrap();
            fitted.check(train.ncols()).unwrap();
            assert_eq!(fitted.transform(train.view()), matrix(&case["train_out"]), "{id}");
            assert_eq!(fitted.transform(test.view()), matrix(&case["test_out"]), "{id}");
            assert_eq!(fitted.feature_names(&input_names(train.ncols())), strings(&case["names"]), "{id}");
        }
    }

    #[test]
    fn ties_go_to_the_later_column_and_nan_scores_last() {
        assert_eq!(best(&[1.0, 2.0, 2.0, f64::NAN], 1), vec![2]);
        assert_eq!(best(&[f64::NAN, 0.0, f64::NAN], 2), vec![1, 2]);
        assert_eq!(best(&[3.0, 1.0], 5), vec![0, 1]);
        // One class: every score NaN, so the last k columns.
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i * j) as f64);
        let params = SelectKBestParams { score_func: ScoreFunc::FClassif, k: 2 };
        let one_class = ndarray::Array1::from(vec![1.0; 4]);
        assert_eq!(fit(&params, x.view(), Some(one_class.view())).unwrap().selected, vec![1, 2]);
    }

    #[test]
    fn a_bad_file_is_refused() {
        let fitted = FittedSelectKBest { n_features: 3, selected: vec![2, 1] };
        assert!(fitted.check(3).is_err());
        assert!(FittedSelectKBest { n_features: 3, selected: vec![3] }.check(3).is_err());
        assert!(FittedSelectKBest { n_features: 3, selected: vec![0] }.check(4).is_err());
    }
}
