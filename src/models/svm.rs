//! Support vector machines by linfa-svm: C-SVC (one-vs-one for more than two classes, votes
//! broken by summed confidences, as scikit-learn's SVC) and epsilon-SVR.
//!
//! Kernels: linear, rbf (`exp(-gamma ||x-y||²)`; linfa's `eps` is `1/gamma`) and polynomial
//! (`(x·y + coef0)^degree`: linfa has no gamma factor here, so this is scikit-learn's poly
//! kernel with gamma = 1). Probabilities for the log-loss and roc_auc metrics are a softmax of
//! the decision values, not scikit-learn's Platt scaling, so log_loss differs from SVC's.

use super::{state, FitError, Fitted, ModelState, Prediction};
use crate::spec::{Gamma, Kernel, SvmParams};
use linfa::traits::Fit;
use linfa_svm::Svm;
use ndarray::{Array1, Array2, ArrayView1, Axis};
use serde::{Deserialize, Serialize};

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

/// A trained kernel machine as plain data: `decision(x) = Σ dual_coef[i]·K(sv[i], x) - rho`
/// (the linear kernel's support vectors pre-combined into `weights`). Taken from linfa's
/// model after training and evaluated exactly as linfa evaluates it, so the sweep and a
/// model.json loaded by `runner predict` give the same numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kernel", rename_all = "snake_case", deny_unknown_fields)]
pub enum KernelMachine {
    Linear {
        weights: Vec<f64>,
        rho: f64,
    },
    /// `K(a, b) = exp(-gamma ||a - b||²)`.
    Rbf {
        gamma: f64,
        support_vectors: Vec<Vec<f64>>,
        dual_coef: Vec<f64>,
        rho: f64,
    },
    /// `K(a, b) = (a·b + coef0)^degree`.
    Poly {
        degree: f64,
        coef0: f64,
        support_vectors: Vec<Vec<f64>>,
        dual_coef: Vec<f64>,
        rho: f64,
    },
}

/// linfa's threshold for a support vector's coefficient.
fn is_support(alpha: f64) -> bool {
    alpha.abs() > 100.0 * f64::EPSILON
}

impl KernelMachine {
    /// `svm` trained on `x`, with the rbf kernel's `gamma` (computed on the whole training
    /// part, also for a pair of classes).
    fn of<T>(svm: &Svm<f64, T>, params: &SvmParams, x: &Array2<f64>, gamma: f64) -> KernelMachine {
        let rho = svm.rho;
        let supports = || {
            let rows: Vec<usize> =
                (0..x.nrows()).filter(|&i| svm.alpha.get(i).is_some_and(|&a| is_support(a))).collect();
            let vectors = rows.iter().map(|&i| x.row(i).to_vec()).collect();
            (vectors, rows.iter().map(|&i| svm.alpha[i]).collect())
        };
        match params.kernel {
            Kernel::Linear => {
                // The hyperplane's weights: its decision on each unit vector.
                let weights = (0..x.ncols())
                    .map(|j| {
                        let mut unit = Array1::<f64>::zeros(x.ncols());
                        unit[j] = 1.0;
                        svm.weighted_sum(&unit)
                    })
                    .collect();
                KernelMachine::Linear { weights, rho }
            }
            Kernel::Rbf => {
                let (support_vectors, dual_coef) = supports();
                KernelMachine::Rbf { gamma, support_vectors, dual_coef, rho }
            }
            Kernel::Poly => {
                let (support_vectors, dual_coef) = supports();
                let (degree, coef0) = (params.degree as f64, params.coef0);
                KernelMachine::Poly { degree, coef0, support_vectors, dual_coef, rho }
            }
        }
    }

    /// The decision value of one row, summed in linfa's order.
    fn decision(&self, row: ArrayView1<f64>) -> f64 {
        let dot = |a: &[f64]| (&ArrayView1::from(a) * &row).sum();
        match self {
            KernelMachine::Linear { weights, rho } => dot(weights) - rho,
            KernelMachine::Rbf { gamma, support_vectors, dual_coef, rho } => {
                let eps = 1.0 / gamma;
                let k = |sv: &Vec<f64>| {
                    let d = sv.iter().zip(row.iter()).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
                    (-d / eps).exp()
                };
                support_vectors.iter().zip(dual_coef).map(|(sv, a)| k(sv) * a).sum::<f64>() - rho
            }
            KernelMachine::Poly { degree, coef0, support_vectors, dual_coef, rho } => {
                let k = |sv: &Vec<f64>| (dot(sv) + coef0).powf(*degree);
                support_vectors.iter().zip(dual_coef).map(|(sv, a)| k(sv) * a).sum::<f64>() - rho
            }
        }
    }

    /// A loaded machine fits a design matrix of `width` columns and holds values training
    /// gives: finite coefficients, a positive gamma, a whole positive degree. `at` is its
    /// place in model.json, which the message names.
    pub fn check(&self, width: usize, at: &str) -> Result<(), String> {
        let (vectors, coefs, rho) = match self {
            KernelMachine::Linear { weights, rho } => {
                if weights.len() != width {
                    return Err(format!("{at}.weights has {} values, expected {width}", weights.len()));
                }
                return state::check_finite(weights, &format!("{at}.weights"))
                    .and_then(|()| state::check_finite(&[*rho], &format!("{at}.rho")));
            }
            KernelMachine::Rbf { gamma, support_vectors, dual_coef, rho } => {
                if !(gamma.is_finite() && *gamma > 0.0) {
                    return Err(format!("{at}.gamma is {gamma}; gamma is a positive finite number"));
                }
                (support_vectors, dual_coef, rho)
            }
            KernelMachine::Poly { degree, coef0, support_vectors, dual_coef, rho } => {
                if !(degree.is_finite() && *degree >= 1.0 && degree.fract() == 0.0) {
                    return Err(format!("{at}.degree is {degree}; a degree is a whole number of at least 1"));
                }
                state::check_finite(&[*coef0], &format!("{at}.coef0"))?;
                (support_vectors, dual_coef, rho)
            }
        };
        if coefs.len() != vectors.len() {
            let (c, v) = (coefs.len(), vectors.len());
            return Err(format!("{at}.dual_coef has {c} values for {v} support vectors; one each"));
        }
        state::check_rows(vectors, width, &format!("{at}.support_vectors"))?;
        state::check_finite(coefs, &format!("{at}.dual_coef"))?;
        state::check_finite(&[*rho], &format!("{at}.rho"))
    }
}

pub struct Svr(pub KernelMachine);

impl Fitted for Svr {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        Prediction::Values(x.rows().into_iter().map(|row| self.0.decision(row)).collect())
    }
    fn coefficients(&self) -> Option<super::Coefficients> {
        None
    }
    fn state(&self) -> Option<ModelState> {
        Some(ModelState::Svr { machine: self.0.clone() })
    }
}

pub fn fit_svr(params: &SvmParams, x: &Array2<f64>, y: &Array1<f64>) -> Result<Box<dyn Fitted>, FitError> {
    let p = with_kernel(params, x, Svm::<f64, f64>::params().c_svr(params.c, Some(params.epsilon)));
    let model = p
        .fit(&linfa::DatasetBase::new(x.clone(), y.clone()))
        .map_err(|e| FitError::Solver(format!("SVR failed: {e}")))?;
    Ok(Box::new(Svr(KernelMachine::of(&model, params, x, gamma(params, x)))))
}

/// The binary machine of one pair of classes; a positive decision votes for `positive`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairMachine {
    pub negative: usize,
    pub positive: usize,
    pub machine: KernelMachine,
}

/// One binary machine per pair of classes (i < j).
pub struct OneVsOne {
    pub pairs: Vec<PairMachine>,
    pub n_classes: usize,
}

impl Fitted for OneVsOne {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let mut votes = Array2::<f64>::zeros((x.nrows(), self.n_classes));
        let mut confidence = Array2::<f64>::zeros((x.nrows(), self.n_classes));
        for PairMachine { negative: i, positive: j, machine } in &self.pairs {
            for (r, row) in x.axis_iter(Axis(0)).enumerate() {
                let d = machine.decision(row);
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
    fn state(&self) -> Option<ModelState> {
        Some(ModelState::Svc { classes: self.n_classes, machines: self.pairs.clone() })
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
                .fit(&linfa::DatasetBase::new(xs.clone(), ys))
                .map_err(|e| FitError::Solver(format!("SVC ({} vs {}) failed: {e}", class_names[i], class_names[j])))?;
            pairs.push(PairMachine {
                negative: i,
                positive: j,
                machine: KernelMachine::of(&svm, params, &xs, gamma(params, x)),
            });
        }
    }
    Ok(Box::new(OneVsOne { pairs, n_classes }))
}
