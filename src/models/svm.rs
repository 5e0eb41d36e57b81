//! Support vector machines by linfa-svm: C-SVC (one-vs-one for more than two classes, votes
//! broken by summed confidences, as scikit-learn's SVC) and epsilon-SVR.
//!
//! Kernels: linear, rbf (`exp(-gamma ||x-y||²)`; linfa's `eps` is `1/gamma`) and polynomial
//! (`(x·y + coef0)^degree`: linfa has no gamma factor here, so this is scikit-learn's poly
//! kernel with gamma = 1). Probabilities for the log-loss and roc_auc metrics are a softmax of
//! the decision values, not scikit-learn's Platt scaling, so log_loss differs from SVC's.

use super::{FitError, Fitted, Prediction};
use crate::spec::{Gamma, Kernel, SvmParams};
use linfa::traits::{Fit, Predict};
use linfa_svm::Svm;
use ndarray::{Array1, Array2, Axis};

/// scikit-learn's `gamma = "scale"`: `1 / (n_features · X.var())` over the training matrix.
fn gamma(params: &SvmParams, x: &Array2<f64>) -> f64 {
    match params.gamma {
        Gamma::Value(g) => g,
        Gamma::Scale => {
            let n = x.len() as f64;
            let mean = x.sum() / n;
            let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            if var > 0.0 {
                1.0 / (x.ncols() as f64 * var)
            } else {
                1.0
            }
        }
    }
}

fn with_kernel<T>(
    params: &SvmParams,
    x: &Array2<f64>,
    p: linfa_svm::SvmParams<f64, T>,
) -> linfa_svm::SvmParams<f64, T> {
    let p = p.eps(params.tol);
    match params.kernel {
        Kernel::Linear => p.linear_kernel(),
        Kernel::Poly => p.polynomial_kernel(params.coef0, params.degree as f64),
        Kernel::Rbf => p.gaussian_kernel(1.0 / gamma(params, x)),
    }
}

struct Svr(Svm<f64, f64>);

impl Fitted for Svr {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        Prediction::Values(self.0.predict(x))
    }
    fn coefficients(&self) -> Option<super::Coefficients> {
        None
    }
}

pub fn fit_svr(params: &SvmParams, x: &Array2<f64>, y: &Array1<f64>) -> Result<Box<dyn Fitted>, FitError> {
    let p = with_kernel(params, x, Svm::<f64, f64>::params().c_svr(params.c, Some(params.epsilon)));
    let model = p
        .fit(&linfa::DatasetBase::new(x.clone(), y.clone()))
        .map_err(|e| FitError::Solver(format!("SVR failed: {e}")))?;
    Ok(Box::new(Svr(model)))
}

/// One binary machine per pair of classes (i < j); a positive decision votes for j.
struct OneVsOne {
    pairs: Vec<(usize, usize, Svm<f64, bool>)>,
    n_classes: usize,
}

impl Fitted for OneVsOne {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let mut votes = Array2::<f64>::zeros((x.nrows(), self.n_classes));
        let mut confidence = Array2::<f64>::zeros((x.nrows(), self.n_classes));
        for (i, j, svm) in &self.pairs {
            for (r, row) in x.axis_iter(Axis(0)).enumerate() {
                let d = svm.weighted_sum(&row) - svm.rho;
                if d >= 0.0 {
                    votes[[r, *j]] += 1.0;
                } else {
                    votes[[r, *i]] += 1.0;
                }
                confidence[[r, *j]] += d;
                confidence[[r, *i]] -= d;
            }
        }
        // scikit-learn's _ovr_decision_function: votes, ties broken by bounded confidences.
        let mut decision = votes + confidence.mapv(|c| c / (3.0 * (c.abs() + 1.0)));
        if self.n_classes == 2 {
            // Binary: the decision value itself, so roc_auc ranks by the margin.
            for mut row in decision.rows_mut() {
                let d = row[1] - row[0];
                row[0] = -d / 2.0;
                row[1] = d / 2.0;
            }
        }
        Prediction::Probabilities(super::softmax_rows(decision))
    }
    fn coefficients(&self) -> Option<super::Coefficients> {
        None
    }
}

pub fn fit_svc(
    params: &SvmParams,
    x: &Array2<f64>,
    y: &[usize],
    class_names: &[String],
) -> Result<Box<dyn Fitted>, FitError> {
    let n_classes = class_names.len();
    super::classes_present(y, class_names)?;
    let c = params.c;
    let mut pairs = Vec::new();
    for i in 0..n_classes {
        for j in i + 1..n_classes {
            let rows: Vec<usize> = (0..y.len()).filter(|&r| y[r] == i || y[r] == j).collect();
            if rows.iter().all(|&r| y[r] == i) || rows.iter().all(|&r| y[r] == j) {
                continue; // a class absent from this training part
            }
            let xs = x.select(Axis(0), &rows);
            let ys: Array1<bool> = rows.iter().map(|&r| y[r] == j).collect();
            let p = with_kernel(params, x, Svm::<f64, bool>::params().pos_neg_weights(c, c));
            let svm = p
                .fit(&linfa::DatasetBase::new(xs, ys))
                .map_err(|e| FitError::Solver(format!("SVC ({} vs {}) failed: {e}", class_names[i], class_names[j])))?;
            pairs.push((i, j, svm));
        }
    }
    Ok(Box::new(OneVsOne { pairs, n_classes }))
}
