//! `naive_bayes`: Gaussian naive Bayes, scikit-learn's GaussianNB step for step: per-class
//! means and variances (numpy's column sums, in row order), variances smoothed by
//! `var_smoothing` × the largest feature variance, the joint log likelihood and
//! scikit-learn's `_logsumexp` for the probabilities.

use super::{labels, numpy_sum, Streamed};
use crate::models::{FitError, Fitted, KindState, ModelState, Prediction};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::value::{choice_param, params, DefaultValue::*, FromParam, ParamType, ParamValue};
use crate::spec::ModelKind;
use ndarray::{Array2, ArrayView1, Axis};
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantNames};

/// The class priors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames)]
#[strum(serialize_all = "snake_case")]
pub enum Priors {
    /// The training part's class shares (scikit-learn's `priors=None`).
    Fitted,
    /// Equal priors over the classes of the training part (`priors=[1/k] * k`).
    Uniform,
}
choice_param!(Priors);

params! {
    /// `naive_bayes`.
    NaiveBayesParams {
        var_smoothing: f64 = F(1e-9), ParamType::Float { min: 0.0, max: f64::INFINITY, min_exclusive: false }, "added to every variance: var_smoothing x the largest feature variance";
        priors: Priors = S("fitted"), ParamType::Choice(Priors::VARIANTS), "fitted: the training part's class shares; uniform: equal priors";
    }
}

pub struct Kind;

const FAMILY: &str = "gaussian_nb";

impl super::Kind for Kind {
    type Params = NaiveBayesParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::NaiveBayes,
        engine: "runner's Gaussian naive Bayes, scikit-learn's GaussianNB step for step",
        task: TaskSupport::Classification,
        summary: "Gaussian naive Bayes, as sklearn.naive_bayes.GaussianNB: each class a product of independent normals (its means and smoothed variances) times its prior; probabilities by the joint log likelihood and logsumexp",
        groups: &[NaiveBayesParams::SPECS],
        defaults: &[],
        saves: "`gaussian_nb`: each training class's index, log prior, feature means and variances",
    };

    /// `GaussianNB.fit(X, y, sample_weight)`: with sample weights, each class's weighted means
    /// and variances, its prior from its total weight; the smoothing from the unweighted
    /// variances. A class whose weights sum to about 0 (`np.isclose`: scikit-learn leaves its
    /// moments unset and gives it a prior of about 0) is left out: probability 0.
    fn fit(p: &NaiveBayesParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        let y = labels(data, ModelKind::NaiveBayes)?;
        let sw = data.train_w.as_deref();
        let present = crate::models::classes_present(&weighed_labels(y, sw, classes.len()), classes)?;
        let x = &data.train_x;
        let epsilon = p.var_smoothing * column_variances(x).iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let mut fitted = Saved { classes: present.clone(), log_priors: Vec::new(), means: Vec::new(), variances: Vec::new() };
        let mut counts = Vec::new();
        for &c in &present {
            let rows: Vec<usize> = (0..y.len()).filter(|&i| y[i] == c).collect();
            let part = x.select(Axis(0), &rows);
            let (means, variances, count) = match sw {
                None => (column_means(&part), column_variances(&part), rows.len() as f64),
                Some(w) => {
                    let w: Vec<f64> = rows.iter().map(|&i| w[i]).collect();
                    let (means, variances) = weighted_moments(&part, &w);
                    (means, variances, numpy_sum(&w))
                }
            };
            fitted.means.push(means);
            fitted.variances.push(variances.into_iter().map(|v| v + epsilon).collect());
            counts.push(count);
        }
        let total = numpy_sum(&counts);
        let k = present.len() as f64;
        fitted.log_priors = match p.priors {
            Priors::Fitted => counts.iter().map(|n| (n / total).ln()).collect(),
            Priors::Uniform => vec![(1.0 / k).ln(); present.len()],
        };
        Ok(Box::new(Bayes { saved: fitted, n_classes: classes.len() }))
    }

    fn streamed(_: &NaiveBayesParams) -> Streamed<'_> {
        Streamed::Refused("naive Bayes is not streamed yet (its per-class sums are not taken from a stream); use streaming = false")
    }

    fn sample_weights(_: &NaiveBayesParams) -> bool {
        true
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Kind(s) if s.family() == FAMILY)
    }

    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        let ModelState::Kind(state) = state else {
            return Err(format!("model.type `{}` is not `{FAMILY}`", state.type_name()));
        };
        let saved: Saved = state.read(FAMILY)?;
        saved.check(width, classes)?;
        Ok(Box::new(Bayes { saved, n_classes: classes }))
    }
}

/// model.json's `gaussian_nb`: per class of the training part (ascending index into
/// `target.classes`), its log prior, means and variances.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    classes: Vec<usize>,
    log_priors: Vec<f64>,
    means: Vec<Vec<f64>>,
    variances: Vec<Vec<f64>>,
}

impl Saved {
    fn check(&self, width: usize, classes: usize) -> Result<(), String> {
        let k = self.classes.len();
        if k < 2 || self.classes.windows(2).any(|w| w[0] >= w[1]) || self.classes.iter().any(|&c| c >= classes) {
            return Err(format!("model.classes must be at least two ascending class indices below {classes}"));
        }
        if self.log_priors.len() != k || self.means.len() != k || self.variances.len() != k {
            return Err(format!("model.log_priors, means and variances need one entry per class ({k})"));
        }
        if self.log_priors.iter().any(|p| !p.is_finite() || *p > 0.0) {
            return Err("model.log_priors must be finite and at most 0".into());
        }
        for (at, rows) in [("means", &self.means), ("variances", &self.variances)] {
            for (i, r) in rows.iter().enumerate() {
                let positive = at == "means" || r.iter().all(|&v| v > 0.0);
                if r.len() != width || r.iter().any(|v| !v.is_finite()) || !positive {
                    return Err(format!("model.{at}[{i}] is not {width} finite values (variances positive)"));
                }
            }
        }
        Ok(())
    }
}

struct Bayes {
    saved: Saved,
    n_classes: usize,
}

impl Bayes {
    /// The joint log likelihood of `x` under each training class, then the probabilities
    /// over every class of the target (0 for a class the training part lacked).
    fn row(&self, x: ArrayView1<f64>, constants: &[f64]) -> Vec<f64> {
        let s = &self.saved;
        let jll: Vec<f64> = (0..s.classes.len())
            .map(|i| {
                let terms: Vec<f64> = x
                    .iter()
                    .zip(&s.means[i])
                    .zip(&s.variances[i])
                    .map(|((v, m), var)| {
                        let d = v - m;
                        d * d / var
                    })
                    .collect();
                s.log_priors[i] + (constants[i] - 0.5 * numpy_sum(&terms))
            })
            .collect();
        let total = logsumexp(&jll);
        let mut proba = vec![0.0; self.n_classes];
        for (i, &c) in s.classes.iter().enumerate() {
            proba[c] = (jll[i] - total).exp();
        }
        proba
    }
}

impl Fitted for Bayes {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let constants: Vec<f64> = self
            .saved
            .variances
            .iter()
            .map(|var| {
                let logs: Vec<f64> = var.iter().map(|v| (2.0 * std::f64::consts::PI * v).ln()).collect();
                -0.5 * numpy_sum(&logs)
            })
            .collect();
        let rows: Vec<f64> = x.rows().into_iter().flat_map(|r| self.row(r, &constants)).collect();
        Prediction::Probabilities(Array2::from_shape_vec((x.nrows(), self.n_classes), rows).unwrap_or_default())
    }


    fn state(&self) -> Option<ModelState> {
        Some(ModelState::Kind(KindState::new(FAMILY, &self.saved)))
    }
}

/// numpy's `mean(axis=0)`: each column's sum in row order, over the rows.
fn column_means(x: &Array2<f64>) -> Vec<f64> {
    let n = x.nrows() as f64;
    let mut sums = vec![0.0; x.ncols()];
    for row in x.rows() {
        sums.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    sums.into_iter().map(|s| s / n).collect()
}

/// numpy's `var(axis=0)`: the mean of the squared deviations from the column mean.
fn column_variances(x: &Array2<f64>) -> Vec<f64> {
    let means = column_means(x);
    let mut squares = Array2::<f64>::zeros(x.raw_dim());
    for (mut out, row) in squares.rows_mut().into_iter().zip(x.rows()) {
        for ((o, v), m) in out.iter_mut().zip(row).zip(&means) {
            let d = v - m;
            *o = d * d;
        }
    }
    column_means(&squares)
}

/// The labels of the rows whose class's total weight is not about 0 (`np.isclose(total, 0)`,
/// which `_update_mean_variance` skips); every label without weights.
fn weighed_labels(y: &[usize], sw: Option<&[f64]>, n_classes: usize) -> Vec<usize> {
    let Some(w) = sw else { return y.to_vec() };
    let mut by_class = vec![Vec::new(); n_classes];
    y.iter().zip(w).for_each(|(&c, &v)| by_class[c].push(v));
    let kept: Vec<bool> = by_class.iter().map(|w| numpy_sum(w).abs() > 1e-8).collect();
    y.iter().copied().filter(|&c| kept[c]).collect()
}

/// scikit-learn's `_average(X, axis=0, weights=w)` of the rows and of their squared
/// deviations from it: each column's sum of `x · w` in row order over numpy's sum of `w`.
fn weighted_moments(x: &Array2<f64>, w: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let total = numpy_sum(w);
    let average = |value: &dyn Fn(usize, &f64) -> f64| {
        let mut sums = vec![0.0; x.ncols()];
        for (row, &wi) in x.rows().into_iter().zip(w) {
            sums.iter_mut().zip(row).enumerate().for_each(|(j, (s, v))| *s += value(j, v) * wi);
        }
        sums.into_iter().map(|s| s / total).collect::<Vec<f64>>()
    };
    let means = average(&|_, v| *v);
    let variances = average(&|j, v| (v - means[j]) * (v - means[j]));
    (means, variances)
}

/// scikit-learn's `_logsumexp` of one row: the largest value `a` split out, `m` the number
/// of values equal to it, `log1p(Σ exp(others − a) / m) + log(m) + a`.
fn logsumexp(values: &[f64]) -> f64 {
    let top = values.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let m = values.iter().filter(|&&v| v == top).count() as f64;
    let shift = if top.is_finite() { top } else { 0.0 };
    let exps: Vec<f64> = values.iter().map(|&v| if v == top { 0.0 } else { (v - shift).exp() }).collect();
    let s = numpy_sum(&exps);
    let s = if s == 0.0 { s } else { s / m };
    s.ln_1p() + m.ln() + top
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ModelSpec;

    #[test]
    fn logsumexp_splits_out_every_largest_value() {
        assert_eq!(logsumexp(&[0.0, 0.0]), 2f64.ln());
        assert_eq!(logsumexp(&[1.0, f64::NEG_INFINITY]), 1.0);
        assert!((logsumexp(&[-1.0, 2.0, 0.5]) - ((-1f64).exp() + 2f64.exp() + 0.5f64.exp()).ln()).abs() < 1e-15);
    }

    #[test]
    fn a_stream_is_refused_with_its_reason() {
        let spec = ModelSpec::check(ModelKind::NaiveBayes, &Default::default()).unwrap();
        assert!(matches!(spec.streamed(), Streamed::Refused(why) if why.contains("naive Bayes")));
    }
}
