//! Support vector machines by runner's libsvm port (`libsvm/`): C-SVC (one-vs-one over the
//! sorted classes present) and ε-SVR, with scikit-learn's gamma rules, class weights and
//! decision functions.
//!
//! Class scores: scikit-learn's `decision_function` (the margin for two classes, the "ovr"
//! transform of votes and confidences for more), turned into a softmax for the metrics that
//! need scores (log_loss, roc_auc). That is not `predict_proba` (no Platt scaling). The
//! predicted class is libsvm's vote (ties to the lowest class), or the ovr argmax with
//! `break_ties`, as `SVC.predict`; where the vote and the scores disagree (tied votes), the
//! voted class's probability is raised to the top so the metrics take `SVC.predict`'s class.

mod dependence;

use super::libsvm::{self, FeatureMajor, KernelFn, KernelStore, Params, Rows, Sample, Settings, Store};
use super::{state, FitError, FitNote, Fitted, ModelState, Prediction};
use crate::preprocess::FoldTargets;
use crate::spec::{ClassWeight, DecisionShape, Gamma, Kernel};
pub use dependence::predictions_with_column;
use ndarray::{Array1, Array2, ArrayView1};
use serde::{Deserialize, Serialize};

/// `svm`.
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct SvmParams {
    pub kernel: Kernel,
    pub c: f64,
    pub gamma: Gamma,
    pub degree: usize,
    pub coef0: f64,
    pub epsilon: f64,
    pub tol: f64,
    pub max_iter: i64,
    pub cache_size: f64,
    pub shrinking: bool,
    pub class_weight: ClassWeight,
    pub decision_function_shape: DecisionShape,
    pub break_ties: bool,
}

/// numpy's pairwise summation (`np.add.reduce` over a contiguous array).
fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |s, v| s + v)
    } else if n <= 128 {
        let mut r: [f64; 8] = a[..8].try_into().unwrap_or([0.0; 8]);
        let whole = n - n % 8;
        for block in a[8..whole].chunks_exact(8) {
            for (rj, v) in r.iter_mut().zip(block) {
                *rj += v;
            }
        }
        let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        a[whole..].iter().fold(res, |s, v| s + v)
    } else {
        let half = n / 2;
        let half = half - half % 8;
        numpy_sum(&a[..half]) + numpy_sum(&a[half..])
    }
}

/// scikit-learn's `_gamma`: `"scale"` is `1 / (n_features · X.var())` (1 when the variance is
/// 0), `"auto"` is `1 / n_features`.
fn gamma(params: &SvmParams, x: &[f64], width: usize) -> f64 {
    match params.gamma {
        Gamma::Value(g) => g,
        Gamma::Auto => 1.0 / width as f64,
        Gamma::Scale => {
            let n = x.len() as f64;
            let mean = numpy_sum(x) / n;
            let squares: Vec<f64> = x.iter().map(|v| (v - mean) * (v - mean)).collect();
            let var = numpy_sum(&squares) / n;
            if var != 0.0 {
                1.0 / (width as f64 * var)
            } else {
                1.0
            }
        }
    }
}

fn kernel_fn(params: &SvmParams, x: &[f64], width: usize) -> KernelFn {
    let degree = i32::try_from(params.degree).unwrap_or(i32::MAX);
    match params.kernel {
        Kernel::Linear => KernelFn::Linear,
        Kernel::Poly => KernelFn::Poly { gamma: gamma(params, x, width), coef0: params.coef0, degree },
        Kernel::Rbf => KernelFn::Rbf { gamma: gamma(params, x, width) },
        Kernel::Sigmoid => KernelFn::Sigmoid { gamma: gamma(params, x, width), coef0: params.coef0 },
    }
}

/// The libsvm settings of a fit on `x` (row-major, `width` columns).
pub(super) fn libsvm_params(params: &SvmParams, x: &[f64], width: usize) -> Params {
    Params {
        kernel: kernel_fn(params, x, width),
        c: params.c,
        epsilon: params.epsilon,
        settings: Settings {
            eps: params.tol,
            shrinking: params.shrinking,
            max_iter: usize::try_from(params.max_iter).ok(),
        },
        cache_mb: params.cache_size,
    }
}

/// The note scikit-learn gives as a ConvergenceWarning ("Solver terminated early") when
/// `max_iter` stopped libsvm: `stopped` of `solves` binary problems, after `iterations`.
fn max_iter_note(stopped: usize, solves: usize, iterations: usize) -> Vec<FitNote> {
    if stopped == 0 {
        return Vec::new();
    }
    let detail = if solves == 1 {
        "libsvm's solver terminated early, scikit-learn's ConvergenceWarning".to_string()
    } else {
        format!(
            "libsvm's solver terminated early in {stopped} of {solves} class pairs, scikit-learn's ConvergenceWarning"
        )
    };
    vec![FitNote::NotConverged { iterations, detail }]
}

/// A row-major copy of the training matrix (the layout libsvm's dense rows have).
pub(super) fn row_major(x: &Array2<f64>) -> Vec<f64> {
    x.rows().into_iter().flat_map(|r| r.to_vec()).collect()
}

/// A trained kernel machine as plain data: `decision(x) = Σ dual_coef[i]·K(x, sv[i]) - rho`,
/// summed in libsvm's order with libsvm's prediction kernel, so the sweep and a model.json
/// loaded by `runner predict` give scikit-learn's decision values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kernel", rename_all = "snake_case", deny_unknown_fields)]
pub enum KernelMachine {
    /// `K(a, b) = a·b`. Files written before the libsvm port hold `weights` instead of
    /// support vectors (`weights·x - rho`); they still load.
    Linear {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
        #[serde(default)]
        support_vectors: Vec<Vec<f64>>,
        #[serde(default)]
        dual_coef: Vec<f64>,
        rho: f64,
    },
    /// `K(a, b) = exp(-gamma ||a - b||²)`.
    Rbf { gamma: f64, support_vectors: Vec<Vec<f64>>, dual_coef: Vec<f64>, rho: f64 },
    /// `K(a, b) = (gamma a·b + coef0)^degree`; files written before the port have no gamma
    /// (it was 1).
    Poly {
        #[serde(default = "one")]
        gamma: f64,
        degree: f64,
        coef0: f64,
        support_vectors: Vec<Vec<f64>>,
        dual_coef: Vec<f64>,
        rho: f64,
    },
    /// `K(a, b) = tanh(gamma a·b + coef0)`.
    Sigmoid { gamma: f64, coef0: f64, support_vectors: Vec<Vec<f64>>, dual_coef: Vec<f64>, rho: f64 },
}

fn one() -> f64 {
    1.0
}

impl KernelMachine {
    fn new(kernel: KernelFn, support_vectors: Vec<Vec<f64>>, dual_coef: Vec<f64>, rho: f64) -> KernelMachine {
        match kernel {
            KernelFn::Linear => KernelMachine::Linear { weights: None, support_vectors, dual_coef, rho },
            KernelFn::Rbf { gamma } => KernelMachine::Rbf { gamma, support_vectors, dual_coef, rho },
            KernelFn::Poly { gamma, coef0, degree } => {
                KernelMachine::Poly { gamma, degree: f64::from(degree), coef0, support_vectors, dual_coef, rho }
            }
            KernelFn::Sigmoid { gamma, coef0 } => {
                KernelMachine::Sigmoid { gamma, coef0, support_vectors, dual_coef, rho }
            }
        }
    }

    fn parts(&self) -> (KernelFn, &[Vec<f64>], &[f64], f64) {
        match self {
            KernelMachine::Linear { support_vectors, dual_coef, rho, .. } => {
                (KernelFn::Linear, support_vectors, dual_coef, *rho)
            }
            KernelMachine::Rbf { gamma, support_vectors, dual_coef, rho } => {
                (KernelFn::Rbf { gamma: *gamma }, support_vectors, dual_coef, *rho)
            }
            KernelMachine::Poly { gamma, degree, coef0, support_vectors, dual_coef, rho } => {
                let kernel = KernelFn::Poly { gamma: *gamma, coef0: *coef0, degree: *degree as i32 };
                (kernel, support_vectors, dual_coef, *rho)
            }
            KernelMachine::Sigmoid { gamma, coef0, support_vectors, dual_coef, rho } => {
                (KernelFn::Sigmoid { gamma: *gamma, coef0: *coef0 }, support_vectors, dual_coef, *rho)
            }
        }
    }

    /// The negated machine (every coefficient and rho): its decision is exactly minus this one's.
    fn negated(self) -> KernelMachine {
        let (kernel, svs, coef, rho) = self.parts();
        let coef = coef.iter().map(|c| -c).collect();
        KernelMachine::new(kernel, svs.to_vec(), coef, -rho)
    }

    /// The decision value of one row, as libsvm's `predict_values` sums it.
    fn decision(&self, row: &[f64]) -> f64 {
        if let KernelMachine::Linear { weights: Some(w), rho, .. } = self {
            return (&ArrayView1::from(w.as_slice()) * &ArrayView1::from(row)).sum() - rho;
        }
        let (kernel, svs, coef, rho) = self.parts();
        let sum = svs.iter().zip(coef).fold(0.0, |s, (sv, c)| s + c * kernel.k_function(row, sv));
        sum - rho
    }

    /// The decision values of every row of `x` (see `decisions`).
    fn decisions(&self, x: &Array2<f64>) -> Vec<f64> {
        decisions(&[self], x).into_iter().next().unwrap_or_default()
    }

    /// A loaded machine fits a design matrix of `width` columns and holds values training
    /// gives: finite coefficients, a positive gamma, a whole positive degree. `at` is its
    /// place in model.json, which the message names.
    pub fn check(&self, width: usize, at: &str) -> Result<(), String> {
        if let KernelMachine::Linear { weights: Some(w), support_vectors, rho, .. } = self {
            if !support_vectors.is_empty() {
                return Err(format!("{at} has both weights and support_vectors; a linear machine has one"));
            }
            if w.len() != width {
                return Err(format!("{at}.weights has {} values, expected {width}", w.len()));
            }
            return state::check_finite(w, &format!("{at}.weights"))
                .and_then(|()| state::check_finite(&[*rho], &format!("{at}.rho")));
        }
        let (kernel, vectors, coefs, rho) = self.parts();
        check_kernel(self, kernel, at)?;
        if coefs.len() != vectors.len() {
            let (c, v) = (coefs.len(), vectors.len());
            return Err(format!("{at}.dual_coef has {c} values for {v} support vectors; one each"));
        }
        state::check_rows(vectors, width, &format!("{at}.support_vectors"))?;
        state::check_finite(coefs, &format!("{at}.dual_coef"))?;
        state::check_finite(&[rho], &format!("{at}.rho"))
    }
}

fn check_kernel(machine: &KernelMachine, kernel: KernelFn, at: &str) -> Result<(), String> {
    if let KernelMachine::Poly { degree, .. } = machine {
        if !(degree.is_finite() && *degree >= 1.0 && degree.fract() == 0.0 && *degree <= f64::from(i32::MAX)) {
            return Err(format!("{at}.degree is {degree}; a degree is a whole number of at least 1"));
        }
    }
    let (gamma, coef0) = match kernel {
        KernelFn::Linear => return Ok(()),
        KernelFn::Rbf { gamma } => (gamma, 0.0),
        KernelFn::Poly { gamma, coef0, .. } | KernelFn::Sigmoid { gamma, coef0 } => (gamma, coef0),
    };
    if !(gamma.is_finite() && gamma > 0.0) {
        return Err(format!("{at}.gamma is {gamma}; gamma is a positive finite number"));
    }
    state::check_finite(&[coef0], &format!("{at}.coef0"))
}

pub struct Svr {
    pub machine: KernelMachine,
    pub notes: Vec<FitNote>,
}

impl Fitted for Svr {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        self.prediction_from(vec![self.machine.decisions(x)])
    }
    fn kernel_model(&self) -> Option<&dyn KernelModel> {
        Some(self)
    }
    fn notes(&self) -> Vec<FitNote> {
        self.notes.clone()
    }
    fn state(&self) -> Option<ModelState> {
        Some(ModelState::Svr { machine: self.machine.clone() })
    }
}

impl KernelModel for Svr {
    fn machines(&self) -> Vec<&KernelMachine> {
        vec![&self.machine]
    }
    fn prediction_from(&self, decisions: Vec<Vec<f64>>) -> Prediction {
        Prediction::Values(Array1::from(decisions.into_iter().next().unwrap_or_default()))
    }
}

/// `SVR(...).fit(x, y, sample_weight=w)`.
pub fn fit_svr(
    params: &SvmParams,
    x: &Array2<f64>,
    y: &Array1<f64>,
    w: Option<&[f64]>,
) -> Result<Box<dyn Fitted>, FitError> {
    svr(params, Rows { data: &row_major(x), width: x.ncols() }, (y, w), None)
}

/// libsvm's refusal when no row has a positive weight.
fn all_zero() -> FitError {
    FitError::Solver(
        "every training row has sample weight 0 (libsvm: all samples have zero or negative weights)".into(),
    )
}

fn svr(
    params: &SvmParams,
    rows: Rows,
    (y, w): (&Array1<f64>, Option<&[f64]>),
    store: Store,
) -> Result<Box<dyn Fitted>, FitError> {
    // gamma = "scale" is taken over every row, those of weight 0 too, as scikit-learn does.
    let p = libsvm_params(params, rows.data, rows.width);
    let sample = Sample::new(y.len(), w);
    if sample.rows.is_empty() {
        return Err(all_zero());
    }
    let kept: Vec<f64> = sample.rows.iter().map(|&r| y[r]).collect();
    let model = libsvm::train_svr(rows, &sample, &kept, &p, store);
    let svs = model.support.iter().map(|&k| rows.row(sample.rows[k]).to_vec()).collect();
    let machine = KernelMachine::new(p.kernel, svs, model.dual_coef, model.rho);
    finite(&machine)?;
    Ok(Box::new(Svr { machine, notes: max_iter_note(usize::from(model.timed_out), 1, model.iterations) }))
}

/// The decision values of every machine on every row of `x` (a vector per machine), each
/// equal to `KernelMachine::decision`'s: the kernel of a row with each distinct support vector
/// (machines fitted on one fold share most of theirs) is computed once, its sum vectorised
/// across the support vectors (each in `k_function`'s order), and each machine adds its terms
/// in libsvm's order. Machines with other kernels, or saved as weights, decide alone.
fn decisions(machines: &[&KernelMachine], x: &Array2<f64>) -> Vec<Vec<f64>> {
    let (rows, width) = (row_major(x), x.ncols());
    let one_by_one =
        |m: &KernelMachine| (0..x.nrows()).map(|r| m.decision(&rows[r * width..(r + 1) * width])).collect();
    let kernel = machines.first().map(|m| m.parts().0);
    let weights = |m: &&KernelMachine| matches!(m, KernelMachine::Linear { weights: Some(_), .. });
    if width == 0 || machines.iter().any(|m| weights(m) || Some(m.parts().0) != kernel) {
        return machines.iter().map(|m| one_by_one(m)).collect();
    }
    let kernel = kernel.unwrap_or(KernelFn::Linear);
    let (vectors, terms) = distinct_vectors(machines);
    let lanes = FeatureMajor::new(&vectors, width);
    let distinct = vectors.len() / width;
    let mut values = vec![0.0; distinct];
    let mut block = vec![0.0; ROWS * distinct];
    let mut out = vec![Vec::with_capacity(x.nrows()); machines.len()];
    for chunk in rows.chunks(ROWS * width) {
        for (r, row) in chunk.chunks_exact(width).enumerate() {
            kernel.predicting_parts(row, &lanes, &mut values);
            kernel.predicting_all(&mut values);
            values.iter().enumerate().for_each(|(u, v)| block[u * ROWS + r] = *v);
        }
        let n = chunk.len() / width;
        for ((m, at), out) in machines.iter().zip(&terms).zip(&mut out) {
            let (_, _, coef, rho) = m.parts();
            out.extend(sums(at, coef, &block)[..n].iter().map(|s| s - rho));
        }
    }
    out
}

/// Each distinct support vector of `machines` once (row-major, in order of first appearance;
/// machines fitted on one fold share most of theirs), and each machine's terms as indices into them.
fn distinct_vectors(machines: &[&KernelMachine]) -> (Vec<f64>, Vec<Vec<usize>>) {
    let mut distinct: std::collections::HashMap<Vec<u64>, usize> = std::collections::HashMap::new();
    let mut vectors: Vec<f64> = Vec::new();
    let terms = machines
        .iter()
        .map(|m| {
            let svs = m.parts().1;
            let mut at = |sv: &Vec<f64>| {
                let n = distinct.len();
                *distinct.entry(sv.iter().map(|v| v.to_bits()).collect()).or_insert_with(|| {
                    vectors.extend_from_slice(sv);
                    n
                })
            };
            svs.iter().map(&mut at).collect()
        })
        .collect();
    (vectors, terms)
}

/// Rows whose decisions are summed together, one addition chain each: the chains overlap where
/// one alone waits on each addition (each row's sum is still its own, in libsvm's order).
const ROWS: usize = 8;

/// `Σ coef[t] · values[at[t] · ROWS + r]` for each row r of a block (`values[u · ROWS + r]`: row
/// r's kernel value with support vector u), term by term as `KernelMachine::decision` adds them.
fn sums(at: &[usize], coef: &[f64], values: &[f64]) -> [f64; ROWS] {
    let mut s = [0.0; ROWS];
    for (&u, &c) in at.iter().zip(coef) {
        for (s, v) in s.iter_mut().zip(&values[u * ROWS..(u + 1) * ROWS]) {
            *s += c * v;
        }
    }
    s
}

/// A fitted kernel model (an SVR, or a one-vs-one SVC) as its machines and how their decision
/// values become its prediction, so that the models of a path predict together.
pub trait KernelModel: Sync {
    fn machines(&self) -> Vec<&KernelMachine>;
    /// The prediction from each machine's decision values on the rows (`machines`' order).
    fn prediction_from(&self, decisions: Vec<Vec<f64>>) -> Prediction;
}

/// The predictions of kernel models of one fold (a path's points) on `x`, kernel values
/// shared between their machines (see `decisions`).
pub fn predict_many(models: &[&dyn KernelModel], x: &Array2<f64>) -> Vec<Prediction> {
    let machines: Vec<Vec<&KernelMachine>> = models.iter().map(|m| m.machines()).collect();
    let mut all = decisions(&machines.concat(), x).into_iter();
    models.iter().zip(&machines).map(|(m, own)| m.prediction_from(all.by_ref().take(own.len()).collect())).collect()
}

/// scikit-learn refuses non-finite coefficients ("the input data may contain large values").
fn finite(machine: &KernelMachine) -> Result<(), FitError> {
    let (_, _, coef, rho) = machine.parts();
    if coef.iter().all(|c| c.is_finite()) && rho.is_finite() {
        Ok(())
    } else {
        Err(FitError::Solver("the dual coefficients or intercepts are not finite; scale the features".into()))
    }
}

/// The binary machine of one pair of classes (negative < positive): a decision ≥ 0 votes for
/// `positive`. It is scikit-learn's binary sign (libsvm's decision negated), so libsvm's
/// "> 0 votes for the first class" is "≤ 0 here", and ties go to `positive`, as libsvm's do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairMachine {
    pub negative: usize,
    pub positive: usize,
    pub machine: KernelMachine,
}

/// One binary machine per pair of the classes present in training (i < j).
pub struct OneVsOne {
    pub pairs: Vec<PairMachine>,
    pub n_classes: usize,
    /// Predict the ovr argmax instead of libsvm's vote (scikit-learn's `break_ties`).
    pub break_ties: bool,
    pub notes: Vec<FitNote>,
}

impl OneVsOne {
    /// The classes the machines cover, sorted.
    fn present(&self) -> Vec<usize> {
        let mut present: Vec<usize> = self.pairs.iter().flat_map(|p| [p.negative, p.positive]).collect();
        present.sort_unstable();
        present.dedup();
        present
    }

    /// Each pair's decisions on the rows of `x` (a vector per pair), in scikit-learn's binary
    /// sign (minus libsvm's).
    pub(super) fn pair_decisions(&self, x: &Array2<f64>) -> Vec<Vec<f64>> {
        decisions(&self.machines(), x)
    }

    /// One row's class scores (absent classes -inf) and libsvm's predicted class, from its
    /// pair decisions.
    pub(super) fn scores(&self, decisions: &[f64], present: &[usize]) -> (Vec<f64>, usize) {
        let mut votes = vec![0usize; self.n_classes];
        let mut ovr_votes = vec![0.0; self.n_classes];
        let mut confidence = vec![0.0; self.n_classes];
        for (PairMachine { negative: i, positive: j, .. }, &d) in self.pairs.iter().zip(decisions) {
            votes[if d >= 0.0 { *j } else { *i }] += 1;
            ovr_votes[if d > 0.0 { *j } else { *i }] += 1.0;
            confidence[*i] -= d;
            confidence[*j] += d;
        }
        let decision = decisions.last().copied().unwrap_or(0.0);
        let mut scores = vec![f64::NEG_INFINITY; self.n_classes];
        if present.len() == 2 {
            // Binary: the margin itself, so roc_auc ranks by scikit-learn's decision_function.
            scores[present[0]] = -decision / 2.0;
            scores[present[1]] = decision / 2.0;
        } else {
            for &c in present {
                scores[c] = ovr_votes[c] + confidence[c] / (3.0 * (confidence[c].abs() + 1.0));
            }
        }
        // libsvm's argmax: the most votes, the first class on ties.
        let mut vote = present[0];
        for &c in present {
            if votes[c] > votes[vote] {
                vote = c;
            }
        }
        let predicted = if self.break_ties && present.len() > 2 { first_argmax(&scores) } else { vote };
        (scores, predicted)
    }
}

pub(super) fn first_argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |best, k| if v[k] > v[best] { k } else { best })
}

/// Raises the predicted class's probability just enough to be the first argmax (only where
/// libsvm's vote and the scores disagree: tied votes, or a zero binary margin), so the class
/// the metrics take is `SVC.predict`'s.
fn lead_with(scores: &mut [f64], predicted: usize) {
    let rival = (0..scores.len()).filter(|&k| k != predicted).map(|k| (k, scores[k])).fold(None, |m, (k, s)| match m {
        Some((_, best)) if best >= s => m,
        _ => Some((k, s)),
    });
    if let Some((k, best)) = rival {
        let needed = if k < predicted { best.next_up() } else { best };
        if scores[predicted] < needed {
            scores[predicted] = needed;
        }
    }
}

impl KernelModel for OneVsOne {
    fn machines(&self) -> Vec<&KernelMachine> {
        self.pairs.iter().map(|p| &p.machine).collect()
    }
    fn prediction_from(&self, per_pair: Vec<Vec<f64>>) -> Prediction {
        let present = self.present();
        let n = per_pair.first().map_or(0, Vec::len);
        let mut out = Array2::<f64>::zeros((n, self.n_classes));
        let mut predicted = Vec::with_capacity(n);
        for (r, mut out_row) in out.rows_mut().into_iter().enumerate() {
            let decisions: Vec<f64> = per_pair.iter().map(|d| d[r]).collect();
            let (scores, class) = self.scores(&decisions, &present);
            out_row.assign(&ArrayView1::from(scores.as_slice()));
            predicted.push(class);
        }
        let mut proba = super::softmax_rows(out);
        for (mut row, class) in proba.rows_mut().into_iter().zip(predicted) {
            if let Some(row) = row.as_slice_mut() {
                lead_with(row, class);
            }
        }
        Prediction::Probabilities(proba)
    }
}

impl Fitted for OneVsOne {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        self.prediction_from(self.pair_decisions(x))
    }
    fn kernel_model(&self) -> Option<&dyn KernelModel> {
        Some(self)
    }
    fn notes(&self) -> Vec<FitNote> {
        self.notes.clone()
    }
    fn state(&self) -> Option<ModelState> {
        Some(ModelState::Svc { classes: self.n_classes, machines: self.pairs.clone(), break_ties: self.break_ties })
    }
}

/// scikit-learn's `class_weight`: C times `compute_class_weight(class_weight, classes, y)`
/// for each of `classes` (by name) that `y` indexes. Counted over every row, unweighted, as
/// `SVC` counts them (its sample weights multiply C separately, in libsvm).
pub(super) fn weighted_c(params: &SvmParams, y: &[usize], classes: &[String]) -> Vec<f64> {
    let factors = super::weights::per_class(&params.class_weight, y, classes, None, None);
    factors.map_or_else(|| vec![params.c; classes.len()], |f| f.iter().map(|w| params.c * w).collect())
}

/// `SVC(...).fit(x, y, sample_weight=w)`.
pub fn fit_svc(
    params: &SvmParams,
    x: &Array2<f64>,
    (y, w): (&[usize], Option<&[f64]>),
    class_names: &[String],
) -> Result<Box<dyn Fitted>, FitError> {
    let rows = Rows { data: &row_major(x), width: x.ncols() };
    Ok(Box::new(one_vs_one(params, rows, (y, w), class_names, None)?))
}

/// Fits on one fold that differ only in C (or ε), one after the other: one `KernelStore` of
/// the training rows, computed once, serves every fit when its n² values fit in `cache_size`;
/// each result is the one fit alone gives, bit for bit. (One after the other: parallel points
/// would let a worker start another path, and its store, while this one waits.)
pub fn fit_path(
    points: &[&SvmParams],
    x: &Array2<f64>,
    (y, w): (&FoldTargets, Option<&[f64]>),
    class_names: &[String],
) -> Vec<Result<Box<dyn Fitted>, FitError>> {
    let (data, width) = (row_major(x), x.ncols());
    let rows = Rows { data: &data, width };
    let store = points.first().and_then(|p| KernelStore::new(kernel_fn(p, &data, width), &data, width, p.cache_size));
    points
        .iter()
        .map(|p| match y {
            FoldTargets::Regression(y) => svr(p, rows, (y, w), store.as_ref()),
            FoldTargets::Classes(y) => {
                one_vs_one(p, rows, (y, w), class_names, store.as_ref()).map(|m| Box::new(m) as Box<dyn Fitted>)
            }
        })
        .collect()
}

/// The one-vs-one machines of `SVC.fit(x, y, sample_weight=w)`: class weights and gamma from
/// every row; libsvm then trains on the rows of positive weight, over the classes they hold.
pub(super) fn one_vs_one(
    params: &SvmParams,
    rows: Rows,
    (y, w): (&[usize], Option<&[f64]>),
    class_names: &[String],
    store: Store,
) -> Result<OneVsOne, FitError> {
    super::classes_present(y, class_names)?;
    let class_c = weighted_c(params, y, class_names);
    let sample = Sample::new(y.len(), w);
    if sample.rows.is_empty() {
        return Err(all_zero());
    }
    let kept: Vec<usize> = sample.rows.iter().map(|&r| y[r]).collect();
    let present = super::classes_present(&kept, class_names).map_err(|_| {
        FitError::Solver("every training row of positive sample weight is of one class (libsvm refuses)".into())
    })?;
    let mut local = vec![0; class_names.len()];
    for (k, &c) in present.iter().enumerate() {
        local[c] = k;
    }
    let labels: Vec<usize> = kept.iter().map(|&c| local[c]).collect();
    let c: Vec<f64> = present.iter().map(|&k| class_c[k]).collect();
    let p = libsvm_params(params, rows.data, rows.width);
    let model = libsvm::train_svc(rows, &sample, &labels, &c, &p, store);
    let mut pairs = Vec::new();
    for pair in &model.pairs {
        let (sv_rows, coef) = model.pair_terms(pair);
        let svs = sv_rows.iter().map(|&k| rows.row(sample.rows[k]).to_vec()).collect();
        let machine = KernelMachine::new(p.kernel, svs, coef, pair.rho);
        finite(&machine)?;
        pairs.push(PairMachine {
            negative: present[pair.first],
            positive: present[pair.second],
            machine: machine.negated(),
        });
    }
    let stopped = model.pairs.iter().filter(|p| p.timed_out).count();
    let iterations = model.pairs.iter().map(|p| p.iterations).max().unwrap_or(0);
    let notes = max_iter_note(stopped, model.pairs.len(), iterations);
    Ok(OneVsOne { pairs, n_classes: class_names.len(), break_ties: params.break_ties, notes })
}

#[cfg(test)]
mod tests {
    use super::{fit_path, fit_svc, fit_svr, lead_with, row_major, KernelMachine, SvmParams};
    use crate::models::Prediction;
    use crate::preprocess::FoldTargets;
    use crate::spec::{ClassWeight, DecisionShape, Gamma, Kernel};
    use ndarray::{Array1, Array2};

    /// scikit-learn's defaults (the catalog's).
    fn defaults() -> SvmParams {
        SvmParams {
            kernel: Kernel::Rbf,
            c: 1.0,
            gamma: Gamma::Scale,
            degree: 3,
            coef0: 0.0,
            epsilon: 0.1,
            tol: 1e-3,
            max_iter: -1,
            cache_size: 200.0,
            shrinking: true,
            class_weight: ClassWeight::None,
            decision_function_shape: DecisionShape::Ovr,
            break_ties: false,
        }
    }

    /// A reproducible table: 90 rows × 4 features from a small linear congruential stream.
    fn table() -> (Array2<f64>, Vec<usize>, Array1<f64>) {
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0
        };
        let x = Array2::from_shape_fn((90, 4), |_| next());
        let classes =
            x.rows().into_iter().map(|r| usize::from(r[0] + r[1] * r[2] > 0.0) + usize::from(r[3] > 1.0)).collect();
        let values = x.rows().into_iter().map(|r| r[0] * r[1] + r[2].sin() + 0.1 * next()).collect();
        (x, classes, values)
    }

    #[test]
    fn batched_decisions_equal_row_by_row_decisions() {
        let (x, classes, _) = table();
        let names: Vec<String> = (0..3).map(|c| c.to_string()).collect();
        for kernel in [Kernel::Rbf, Kernel::Linear, Kernel::Poly, Kernel::Sigmoid] {
            let params = SvmParams { kernel, ..defaults() };
            let rows = super::Rows { data: &row_major(&x), width: 4 };
            let ovo = super::one_vs_one(&params, rows, (&classes, None), &names, None).unwrap();
            for (pair, batched) in ovo.pairs.iter().zip(ovo.pair_decisions(&x)) {
                let one_by_one: Vec<f64> = x.rows().into_iter().map(|r| pair.machine.decision(&r.to_vec())).collect();
                assert_eq!(batched, one_by_one, "{kernel:?}");
            }
        }
    }

    /// The trials of a C path fitted together (one kernel store, in parallel) equal each fitted
    /// alone: the same saved machines and predictions, bit for bit.
    #[test]
    fn a_c_path_equals_its_trials_fitted_alone() {
        let (x, classes, values) = table();
        let names: Vec<String> = (0..3).map(|c| c.to_string()).collect();
        let points: Vec<SvmParams> =
            [0.1, 1.0, 30.0].iter().map(|&c| SvmParams { c, epsilon: c / 10.0, ..defaults() }).collect();
        let refs: Vec<&SvmParams> = points.iter().collect();
        let predictions = |p: Prediction| match p {
            Prediction::Probabilities(p) => p.iter().copied().collect::<Vec<f64>>(),
            Prediction::Values(v) => v.to_vec(),
        };
        let targets = [FoldTargets::Classes(classes.clone()), FoldTargets::Regression(values.clone())];
        for y in &targets {
            let path: Vec<Box<dyn crate::models::Fitted>> =
                fit_path(&refs, &x, (y, None), &names).into_iter().map(Result::unwrap).collect();
            let together: Vec<&dyn crate::models::Fitted> = path.iter().map(AsRef::as_ref).collect();
            let shared_predictions = crate::models::predict_many(&together, &x);
            for ((p, shared), predicted) in points.iter().zip(&path).zip(shared_predictions) {
                let alone = match y {
                    FoldTargets::Classes(c) => fit_svc(p, &x, (c, None), &names),
                    FoldTargets::Regression(v) => fit_svr(p, &x, v, None),
                };
                let alone = alone.unwrap();
                assert_eq!(alone.state(), shared.state(), "C = {}", p.c);
                assert_eq!(predictions(alone.predict(&x)), predictions(predicted), "C = {}", p.c);
            }
        }
    }

    /// Partial dependence's factored rbf kernel (`predictions_with_column`) gives a predict of
    /// the changed matrix to the last digits: binary and 3-class SVC, SVR, every column.
    #[test]
    fn the_factored_kernel_is_a_predict_to_the_last_digits() {
        let (x, classes, values) = table();
        let binary: Vec<usize> = classes.iter().map(|&c| c.min(1)).collect();
        let params = SvmParams { gamma: Gamma::Value(0.3), c: 10.0, ..defaults() };
        let names = |k: usize| (0..k).map(|c| c.to_string()).collect::<Vec<String>>();
        let models = [
            fit_svc(&params, &x, (&classes, None), &names(3)).unwrap(),
            fit_svc(&params, &x, (&binary, None), &names(2)).unwrap(),
            fit_svr(&params, &x, &values, None).unwrap(),
        ];
        let numbers = |p: Prediction| match p {
            Prediction::Probabilities(p) => p.iter().copied().collect::<Vec<f64>>(),
            Prediction::Values(v) => v.to_vec(),
        };
        let mut worst: f64 = 0.0;
        for model in &models {
            for column in 0..x.ncols() {
                let grid: Vec<f64> = (0..7).map(|g| -2.5 + 0.8 * f64::from(g)).collect();
                let kernel = model.kernel_model().unwrap();
                let fast = super::predictions_with_column(kernel, &x, column, &grid).unwrap();
                for (v, fast) in grid.iter().zip(fast) {
                    let mut changed = x.clone();
                    changed.column_mut(column).fill(*v);
                    for (a, b) in numbers(fast).iter().zip(numbers(model.predict(&changed))) {
                        // As the suite compares partial dependence (explain.rs): relative, absolute under 1.
                        worst = worst.max((a - b).abs() / b.abs().max(1.0));
                    }
                }
            }
        }
        assert!(worst < 1e-14, "worst difference {worst:e}");
        // Another kernel is left to a predict.
        let poly = fit_svr(&SvmParams { kernel: Kernel::Poly, ..params }, &x, &values, None).unwrap();
        assert!(super::predictions_with_column(poly.kernel_model().unwrap(), &x, 0, &[1.0]).is_none());
    }

    /// libsvm's `remove_zero_weight`: a row of weight 0 is a row left out (gamma fixed, as
    /// "scale" is taken over every row), and C is each row's weight times C.
    #[test]
    fn rows_of_weight_zero_are_left_out_and_weights_scale_c() {
        let (x, classes, values) = table();
        let names: Vec<String> = (0..3).map(|c| c.to_string()).collect();
        let params = SvmParams { gamma: Gamma::Value(0.3), ..defaults() };
        let w: Vec<f64> = (0..x.nrows()).map(|r| [0.0, 1.0, 2.5][r % 3]).collect();
        let kept: Vec<usize> = (0..x.nrows()).filter(|r| r % 3 != 0).collect();
        let (xk, wk) = (x.select(ndarray::Axis(0), &kept), kept.iter().map(|&r| w[r]).collect::<Vec<f64>>());
        let ck: Vec<usize> = kept.iter().map(|&r| classes[r]).collect();
        let with = fit_svc(&params, &x, (&classes, Some(&w)), &names).unwrap();
        let without = fit_svc(&params, &xk, (&ck, Some(&wk)), &names).unwrap();
        assert_eq!(with.state(), without.state());
        let vk = Array1::from(kept.iter().map(|&r| values[r]).collect::<Vec<f64>>());
        let with = fit_svr(&params, &x, &values, Some(&w)).unwrap();
        assert_eq!(with.state(), fit_svr(&params, &xk, &vk, Some(&wk)).unwrap().state());
        // Weight 1 everywhere is no weight; weight 2 everywhere is C doubled.
        let ones = vec![1.0; x.nrows()];
        let unweighted = fit_svc(&params, &x, (&classes, None), &names).unwrap().state();
        assert_eq!(fit_svc(&params, &x, (&classes, Some(&ones)), &names).unwrap().state(), unweighted);
        let twos = vec![2.0; x.nrows()];
        let doubled = SvmParams { c: 2.0, ..params.clone() };
        let c2 = fit_svc(&doubled, &x, (&classes, None), &names).unwrap().state();
        assert_eq!(fit_svc(&params, &x, (&classes, Some(&twos)), &names).unwrap().state(), c2);
        // Every row of positive weight of one class: libsvm refuses.
        let one_class: Vec<f64> = classes.iter().map(|&c| f64::from(u8::from(c == 1))).collect();
        let e = fit_svc(&params, &x, (&classes, Some(&one_class)), &names).err().unwrap();
        assert!(e.to_string().contains("of one class"), "{e}");
    }

    fn machine(json: &str) -> KernelMachine {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn machines_saved_before_the_libsvm_port_still_load() {
        let linear = machine(r#"{"kernel": "linear", "weights": [1.0, 2.0], "rho": 0.5}"#);
        assert_eq!(linear.check(2, "m"), Ok(()));
        assert_eq!(linear.decision(&[3.0, 4.0]), 10.5);
        // The poly kernel had no gamma: it was 1.
        let poly = machine(
            r#"{"kernel": "poly", "degree": 2.0, "coef0": 1.0, "support_vectors": [[1.0, 0.0]], "dual_coef": [2.0], "rho": 1.0}"#,
        );
        assert_eq!(poly.check(2, "m"), Ok(()));
        assert_eq!(poly.decision(&[2.0, 5.0]), 2.0 * 9.0 - 1.0);
    }

    #[test]
    fn a_loaded_machine_with_bad_values_is_refused_by_name() {
        let both = machine(
            r#"{"kernel": "linear", "weights": [1.0], "support_vectors": [[1.0]], "dual_coef": [1.0], "rho": 0.0}"#,
        );
        assert!(both.check(1, "m").unwrap_err().contains("both weights and support_vectors"));
        let sigmoid = machine(
            r#"{"kernel": "sigmoid", "gamma": -1.0, "coef0": 0.0, "support_vectors": [[1.0]], "dual_coef": [1.0], "rho": 0.0}"#,
        );
        assert!(sigmoid.check(1, "m").unwrap_err().contains("m.gamma is -1"));
        let poly = machine(
            r#"{"kernel": "poly", "gamma": 1.0, "degree": 0.5, "coef0": 0.0, "support_vectors": [], "dual_coef": [], "rho": 0.0}"#,
        );
        assert!(poly.check(1, "m").unwrap_err().contains("m.degree"));
    }

    #[test]
    fn the_predicted_class_leads_the_scores_only_where_it_must() {
        // A zero binary margin: libsvm votes for the second class.
        let mut tie = vec![0.5, 0.5];
        lead_with(&mut tie, 1);
        assert!(tie[1] > tie[0]);
        // Tied votes: the lowest class wins over a higher one with equal or larger score.
        let mut scores = vec![1.1, 0.5, 1.2];
        lead_with(&mut scores, 0);
        assert_eq!(scores, vec![1.2, 0.5, 1.2]);
        let mut agree = vec![2.0, 0.5, 1.0];
        lead_with(&mut agree, 0);
        assert_eq!(agree, vec![2.0, 0.5, 1.0]);
    }
}
