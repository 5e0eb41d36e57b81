//! `pca`: scikit-learn's PCA with `svd_solver="full"`: centre, SVD (runner's one, `linalg::svd`),
//! `svd_flip(u_based_decision=False)` (1.9.1: each component's largest-magnitude entry made
//! positive), keep a count of components or enough for a fraction of the variance, `whiten`.

use super::FittedStep;
use crate::linalg::svd;
use crate::spec::value::{params, CountOrShare, DefaultValue::*, ParamType};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

params! {
    /// `pca`: PCA with `svd_solver="full"`.
    PcaParams {
        n_components: CountOrShare = S("all"), ParamType::CountOrShare(&["all"]), "components kept: a count (at most min(rows, features)), a variance fraction in (0, 1), or all";
        whiten: bool = B(false), ParamType::Bool, "divide each component by its standard deviation";
    }
}

/// The fitted PCA: `(x - mean) · componentsᵀ`, divided by √explained_variance when whitened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedPca {
    pub mean: Vec<f64>,
    /// One row per component, one entry per input feature.
    pub components: Vec<Vec<f64>>,
    pub explained_variance: Vec<f64>,
    pub whiten: bool,
}

pub fn fit(params: &PcaParams, x: ArrayView2<f64>, _y: Option<ArrayView1<f64>>) -> Result<FittedPca, String> {
    let (n, p) = x.dim();
    let most = n.min(p);
    if n < 2 {
        return Err(format!("needs at least 2 training rows, got {n}"));
    }
    match params.n_components {
        CountOrShare::Count(k) if k > most => {
            return Err(format!("n_components = {k} is more than min(rows, features) = {most}"))
        }
        CountOrShare::Share(f) if f >= 1.0 => {
            return Err(format!("n_components = {f} as a variance fraction must be below 1"))
        }
        _ => {}
    }
    // numpy's mean along axis 0: a running sum over the rows.
    let mean = x.sum_axis(Axis(0)) / n as f64;
    let centred = &x - &mean;
    let d = svd(&centred).ok_or("the training matrix has a non-finite value")?;
    let vt = flip_signs(d.vt);
    let explained: Vec<f64> = d.s.iter().map(|s| s * s / (n - 1) as f64).collect();
    let keep = match params.n_components {
        CountOrShare::Count(k) => k,
        CountOrShare::Share(f) => variance_count(&explained, f).min(most),
        CountOrShare::Word(_) => most,
    };
    Ok(FittedPca {
        mean: mean.to_vec(),
        components: vt.rows().into_iter().take(keep).map(|r| r.to_vec()).collect(),
        explained_variance: explained[..keep].to_vec(),
        whiten: params.whiten,
    })
}

/// `svd_flip(u, vt, u_based_decision=False)`: each row of `vt` times the sign of its first
/// largest-magnitude entry (numpy's argmax; sign 0 leaves a zero row zero).
fn flip_signs(mut vt: Array2<f64>) -> Array2<f64> {
    for mut row in vt.rows_mut() {
        let at = row.iter().enumerate().fold(0, |best, (j, v)| if v.abs() > row[best].abs() { j } else { best });
        let sign = if row[at] > 0.0 {
            1.0
        } else if row[at] < 0.0 {
            -1.0
        } else {
            0.0
        };
        row *= sign;
    }
    vt
}

/// `searchsorted(cumsum(ratio), fraction, side="right") + 1`: the components whose cumulative
/// explained variance ratio first exceeds `fraction`.
fn variance_count(explained: &[f64], fraction: f64) -> usize {
    let total: f64 = explained.iter().sum();
    let mut cumulative = 0.0;
    let below = explained
        .iter()
        .take_while(|&&e| {
            cumulative += e / total;
            cumulative <= fraction
        })
        .count();
    below + 1
}

impl FittedPca {
    fn component_matrix(&self) -> Array2<f64> {
        let p = self.mean.len();
        Array2::from_shape_fn((self.components.len(), p), |(i, j)| self.components[i][j])
    }
}

impl FittedStep for FittedPca {
    /// scikit-learn's `transform`: project, then subtract the projected mean (in that order).
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let c = self.component_matrix();
        let mean = Array1::from(self.mean.clone());
        let mut out = x.dot(&c.t()) - &mean.dot(&c.t());
        if self.whiten {
            // The variance is clipped below at machine epsilon, as scikit-learn does.
            let scale = Array1::from_iter(self.explained_variance.iter().map(|v| v.sqrt().max(f64::EPSILON)));
            out /= &scale;
        }
        out
    }

    fn feature_names(&self, _input: &[String]) -> Vec<String> {
        (0..self.components.len()).map(|i| format!("pca{i}")).collect()
    }

    /// Every length against the input width and each other, all finite.
    fn check(&self, n_features: usize) -> Result<(), String> {
        if self.mean.len() != n_features {
            return Err(format!("mean has {} entries for {n_features} features", self.mean.len()));
        }
        if let Some(i) = self.components.iter().position(|c| c.len() != n_features) {
            return Err(format!("component {i} has {} entries for {n_features} features", self.components[i].len()));
        }
        if self.explained_variance.len() != self.components.len() {
            return Err("explained_variance and components differ in length".into());
        }
        let values = self.mean.iter().chain(self.components.iter().flatten()).chain(&self.explained_variance);
        if values.clone().any(|v| !v.is_finite()) || self.explained_variance.iter().any(|&v| v < 0.0) {
            return Err("a non-finite value or a negative variance".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_close, cases, input_names, matrix, strings, vector};
    use super::*;

    fn params(case: &serde_json::Value) -> PcaParams {
        let n = &case["params"]["n_components"];
        let n_components = match n.as_f64() {
            None => CountOrShare::Word("all".into()),
            Some(f) if n.is_u64() => CountOrShare::Count(f as usize),
            Some(f) => CountOrShare::Share(f),
        };
        PcaParams { n_components, whiten: case["params"]["whiten"].as_bool().unwrap() }
    }

    #[test]
    fn equals_scikit_learn() {
        let mut worst = 0.0f64;
        for case in cases("pca") {
            let id = format!("{} {}", case["data"], case["params"]);
            let (train, test) = (matrix(&case["train"]), matrix(&case["test"]));
            let fitted = fit(&params(&case), train.view(), None).unwrap();
            fitted.check(train.ncols()).unwrap();
            let want = matrix(&case["components"]);
            assert_eq!(fitted.components.len(), want.nrows(), "{id}: components kept");
            let ev = vector(&case["explained_variance"]);
            // A component of a (near) zero variance is rounding noise in both: its direction is
            // compared only where its variance is not.
            let kept: Vec<usize> = (0..ev.len()).filter(|&i| ev[i] > 1e-20 * ev[0]).collect();
            let got = fitted.component_matrix().select(Axis(0), &kept);
            worst =
                worst.max(assert_close(&got.t().to_owned(), &want.select(Axis(0), &kept).t().to_owned(), 1e-9, &id));
            for (side, x) in [("train", &train), ("test", &test)] {
                let want = matrix(&case[format!("{side}_out")]).select(Axis(1), &kept);
                let got = fitted.transform(x.view()).select(Axis(1), &kept);
                worst = worst.max(assert_close(&got, &want, 1e-9, &format!("{id} {side}")));
            }
            assert_eq!(fitted.feature_names(&input_names(train.ncols())), strings(&case["names"]));
        }
        eprintln!("pca: largest relative error {worst:e}");
    }

    #[test]
    fn refuses_more_components_than_features_and_a_bad_file() {
        let x = Array2::from_shape_fn((5, 2), |(i, j)| (i * i + j) as f64);
        let params = PcaParams { n_components: CountOrShare::Count(3), whiten: false };
        assert!(fit(&params, x.view(), None).unwrap_err().contains("n_components = 3"));
        let params = PcaParams { n_components: CountOrShare::Share(1.0), whiten: false };
        assert!(fit(&params, x.view(), None).unwrap_err().contains("below 1"));
        let all = CountOrShare::Word("all".into());
        let mut fitted = fit(&PcaParams { n_components: all, whiten: true }, x.view(), None).unwrap();
        assert!(fitted.check(3).is_err());
        fitted.components[1].pop();
        assert!(fitted.check(2).unwrap_err().contains("component 1"));
    }
}
