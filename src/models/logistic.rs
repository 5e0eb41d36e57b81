//! Logistic regression, binary (sigmoid) or multinomial (softmax), minimising
//! scikit-learn's `½||w||² + C Σ log-loss` (the intercept is not penalised).
//!
//! Two solvers: `lbfgs` (the default) is ours — L-BFGS over the mean objective
//! `mean log-loss + ||w||²/(2Cn)`, whose loss and gradient come from one fused, parallel pass
//! over the rows; `linfa` is linfa-logistic's L-BFGS over `Σ log-loss + α/2 ||w||²` with
//! `α = 1/C`. Both have the same optimum.

use super::lbfgs::{minimize, Stop};
use super::loss::{loss_and_gradient, Loss, Weights};
use super::{weights, FitError, FitNote, Fitted, Head, LinearParts, Prediction};
use crate::spec::{ClassWeight, LogisticSolver};
use linfa::traits::Fit;
use ndarray::{Array1, Array2};

/// `logistic_regression`.
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticParams {
    pub c: f64,
    pub max_iter: usize,
    pub tol: f64,
    pub solver: LogisticSolver,
    pub fit_intercept: bool,
    pub path: bool,
    pub class_weight: ClassWeight,
}

struct Binary {
    weights: Array1<f64>,
    intercept: f64,
    notes: Vec<FitNote>,
}

impl Fitted for Binary {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let z = x.dot(&self.weights) + self.intercept;
        Prediction::Probabilities(super::sigmoid_probabilities(z.iter().copied()))
    }

    fn linear(&self) -> Option<LinearParts> {
        Some(LinearParts::single(&self.weights, self.intercept, Head::Sigmoid))
    }

    fn notes(&self) -> Vec<FitNote> {
        self.notes.clone()
    }
}

struct Multinomial {
    /// features × classes
    weights: Array2<f64>,
    intercepts: Array1<f64>,
    notes: Vec<FitNote>,
}

impl Fitted for Multinomial {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        Prediction::Probabilities(super::softmax_rows(x.dot(&self.weights) + &self.intercepts))
    }

    fn linear(&self) -> Option<LinearParts> {
        let weights = self.weights.t().as_standard_layout().into_owned();
        Some(LinearParts { weights, intercepts: self.intercepts.to_vec(), head: Head::Softmax })
    }

    fn notes(&self) -> Vec<FitNote> {
        self.notes.clone()
    }
}

/// linfa's binary and multinomial solvers share one (unexported) builder type; this sets
/// runner's parameters on either.
macro_rules! linfa_solver {
    ($solver:ty, $p:expr, $rows:expr) => {
        <$solver>::default()
            .alpha(1.0 / $p.c)
            .with_intercept($p.fit_intercept)
            .max_iterations($p.max_iter as u64)
            // Our tol is on the gradient of the mean loss (as scikit-learn's); linfa's objective is a sum.
            .gradient_tolerance($p.tol * $rows as f64)
    };
}

/// Fits on `x`, `y` with the rows' sample weights `sw` (none: each weighs 1).
pub fn fit(
    params: &LogisticParams,
    x: &Array2<f64>,
    y: &[usize],
    class_names: &[String],
    sw: Option<&[f64]>,
) -> Result<Box<dyn Fitted>, FitError> {
    check_classes(y, class_names)?;
    if params.solver != LogisticSolver::Linfa {
        let start = vec![0.0; outputs(class_names.len()) * (x.ncols() + 1)];
        let rows = Rows { x, y, weights: row_weights(params, y, class_names, sw) };
        return fit_own(params, &rows, class_names.len(), Start::at(start)).map(|(model, _)| model);
    }
    if params.class_weight != ClassWeight::None || sw.is_some() {
        return Err(FitError::Solver(LINFA_WEIGHTS.into()));
    }
    let n_classes = class_names.len();
    let solver_error = |e: linfa_logistic::error::Error| FitError::Solver(format!("L-BFGS failed: {e}"));
    if n_classes == 2 {
        let labels = Array1::from_iter(y.iter().copied());
        let dataset = linfa::DatasetBase::new(x.view(), labels.view());
        let model = linfa_solver!(linfa_logistic::LogisticRegression<f64>, params, y.len())
            .fit(&dataset)
            .map_err(solver_error)?;
        // linfa's positive class is the first label it saw; orient the model on class 1.
        let (mut w, mut b) = (model.params().clone(), model.intercept());
        if model.labels().pos.class != 1 {
            w.mapv_inplace(|v| -v);
            b = -b;
        }
        Ok(Box::new(Binary { weights: w, intercept: b, notes: Vec::new() }))
    } else {
        let labels = Array1::from_iter(y.iter().copied());
        let dataset = linfa::DatasetBase::new(x.view(), labels.view());
        let model = linfa_solver!(linfa_logistic::MultiLogisticRegression<f64>, params, y.len())
            .fit(&dataset)
            .map_err(solver_error)?;
        // linfa orders columns by the classes present in the training part; widen to all classes.
        let classes = model.classes().to_vec();
        let mut weights = Array2::<f64>::zeros((x.ncols(), n_classes));
        let mut intercepts = Array1::from_elem(n_classes, f64::NEG_INFINITY);
        for (col, &class) in classes.iter().enumerate() {
            weights.column_mut(class).assign(&model.params().column(col));
            intercepts[class] = model.intercept()[col];
        }
        Ok(Box::new(Multinomial { weights, intercepts, notes: Vec::new() }))
    }
}

/// Why linfa-logistic refuses weights.
pub const LINFA_WEIGHTS: &str =
    "solver = \"linfa\" takes no class or sample weights; use solver = \"auto\", \"lbfgs\" or \"newton_cholesky\"";

/// The training rows: matrix, class indices and each row's weight (none: each weighs 1).
struct Rows<'a> {
    x: &'a Array2<f64>,
    y: &'a [usize],
    weights: Option<Vec<f64>>,
}

/// `_logistic_regression_path`'s row weights: the sample weights times the class weights,
/// "balanced" counting the classes by the sample weights.
fn row_weights(params: &LogisticParams, y: &[usize], classes: &[String], sw: Option<&[f64]>) -> Option<Vec<f64>> {
    weights::times(weights::per_class(&params.class_weight, y, classes, sw, None), y, sw)
}

/// Our solver: Newton (two classes, when chosen) or L-BFGS on the (weighted) mean
/// objective, each evaluation one fused pass over the rows.
fn fit_own(
    params: &LogisticParams,
    rows: &Rows<'_>,
    n_classes: usize,
    start: Start,
) -> Result<(Box<dyn Fitted>, Start), FitError> {
    let (x, sw) = (rows.x, rows.weights.as_deref());
    let (n, d) = x.dim();
    // scikit-learn's `sw_sum`: the penalty is `1 / (C · Σ weights)` on the weighted mean.
    let total = sw.map_or(n as f64, |w| w.iter().sum());
    let targets: Vec<f64> = rows.y.iter().map(|&c| c as f64).collect();
    if uses_newton(params.solver, n_classes, n, d) {
        let matrix = super::newton::Matrix { x, y: &targets, sw };
        // An unfactorable Hessian (a singular, unpenalised direction) falls back to L-BFGS.
        if let Some(fit) = fit_newton(params, &matrix, total, d, start.clone()) {
            return Ok(fit);
        }
    }
    let loss = loss_of(n_classes);
    let data = |weights: &Weights| loss_and_gradient(loss, x, &targets, None, sw, weights);
    let (model, theta) = fit_lbfgs(params, total, d, n_classes, start.theta, data)?;
    Ok((model, Start::at(theta)))
}

/// Whether `solver` means Newton's method for `n_classes` classes over `n` rows × `d` columns:
/// always with newton_cholesky, and by default for two classes and more rows than columns.
pub fn uses_newton(solver: LogisticSolver, n_classes: usize, n: usize, d: usize) -> bool {
    match solver {
        LogisticSolver::NewtonCholesky => true,
        LogisticSolver::Auto => n_classes == 2 && n > d && d <= 1000,
        LogisticSolver::Lbfgs | LogisticSolver::Linfa => false,
    }
}

/// Newton's method on two classes from `rows` (a matrix in memory or a streamed file) of
/// `total` weight (their count without sample weights) over `d` features; `None` when its
/// Hessian cannot be factored.
pub fn fit_newton(
    params: &LogisticParams,
    rows: &dyn super::newton::LogLossSource,
    total: f64,
    d: usize,
    start: Start,
) -> Option<(Box<dyn Fitted>, Start)> {
    let LogisticParams { c, fit_intercept, tol, max_iter, .. } = *params;
    let problem = super::newton::NewtonProblem { rows, d, l2: 1.0 / (c * total), fit_intercept };
    let r = problem.minimize(start.theta, (start.hessian, start.pass), tol, max_iter)?;
    let notes = not_converged(!r.converged, r.iterations, r.gradient, tol);
    let model = Binary { weights: Array1::from(r.theta[..d].to_vec()), intercept: r.theta[d], notes };
    Some((Box::new(model), Start { theta: r.theta, hessian: Some(r.hessian), pass: Some(r.last) }))
}

/// The loss of `n_classes` classes: binary log-loss or the multinomial one.
pub fn loss_of(n_classes: usize) -> Loss {
    if n_classes == 2 {
        Loss::LogLoss
    } else {
        Loss::Softmax
    }
}

/// L-BFGS on `mean log-loss + ||w||²/(2C·total)` over `d` features, from `theta`, `total`
/// being the training rows' weight (their count without sample weights). `data` gives the
/// (weighted) mean loss and its gradient over the training rows at some weights: one fused
/// pass in memory, one pass over a streamed file. The model and its parameters.
pub fn fit_lbfgs(
    params: &LogisticParams,
    total: f64,
    d: usize,
    n_classes: usize,
    theta: Vec<f64>,
    mut data: impl FnMut(&Weights) -> (f64, Weights),
) -> Result<(Box<dyn Fitted>, Vec<f64>), FitError> {
    let LogisticParams { c, fit_intercept, tol, max_iter, .. } = *params;
    let outputs = outputs(n_classes);
    let l2 = 1.0 / (c * total);
    let unpack = |theta: &[f64]| Weights {
        w: Array2::from_shape_vec((outputs, d), theta[..outputs * d].to_vec())
            .unwrap_or_else(|_| Array2::zeros((outputs, d))),
        b: theta[outputs * d..].to_vec(),
    };
    let objective = |theta: &[f64]| {
        let weights = unpack(theta);
        let (mean_loss, grad) = data(&weights);
        let penalty = 0.5 * l2 * weights.w.iter().map(|v| v * v).sum::<f64>();
        let mut g: Vec<f64> = grad.w.iter().zip(weights.w.iter()).map(|(gi, wi)| gi + l2 * wi).collect();
        if fit_intercept {
            g.extend_from_slice(&grad.b);
        } else {
            g.extend(std::iter::repeat_n(0.0, outputs));
        }
        (mean_loss + penalty, g)
    };
    let m = minimize(objective, theta, tol, max_iter);
    if !m.value.is_finite() {
        return Err(FitError::NonFinite);
    }
    let notes = not_converged(m.stop != Stop::Converged, m.iterations, m.gradient, tol);
    let weights = unpack(&m.x);
    let model: Box<dyn Fitted> = if outputs == 1 {
        Box::new(Binary { weights: weights.w.row(0).to_owned(), intercept: weights.b[0], notes })
    } else {
        Box::new(Multinomial { weights: weights.w.t().to_owned(), intercepts: Array1::from(weights.b), notes })
    };
    Ok((model, m.x))
}

/// Where a fit starts: the previous point's solution on a path (zero otherwise) and, for
/// Newton, its Hessian and its last pass over the rows (at `theta`).
#[derive(Clone)]
pub struct Start {
    pub theta: Vec<f64>,
    pub hessian: Option<Array2<f64>>,
    pub pass: Option<super::newton::DataPass>,
}

impl Start {
    /// From `theta` with nothing else known.
    pub fn at(theta: Vec<f64>) -> Start {
        Start { theta, hessian: None, pass: None }
    }
}

/// Stopping short is not an error (scikit-learn warns and returns the iterate): it is noted.
fn not_converged(short: bool, iterations: usize, gradient: f64, tol: f64) -> Vec<FitNote> {
    if !short {
        return Vec::new();
    }
    let detail = format!("largest gradient component {gradient:.3e} above tol {tol:e}");
    vec![FitNote::NotConverged { iterations, detail }]
}

/// Linear outputs: one for two classes (sigmoid), one per class otherwise (softmax).
fn outputs(n_classes: usize) -> usize {
    if n_classes == 2 {
        1
    } else {
        n_classes
    }
}

/// Every class must have training rows: a multinomial model cannot learn an absent one.
pub(crate) fn check_classes(y: &[usize], class_names: &[String]) -> Result<(), FitError> {
    let present = super::classes_present(y, class_names)?;
    match (0..class_names.len()).find(|c| !present.contains(c)) {
        Some(absent) => Err(FitError::Solver(format!(
            "class `{}` has no rows in this fold's training part, so a multinomial model cannot learn it",
            class_names[absent]
        ))),
        None => Ok(()),
    }
}

/// Our L-BFGS along a path of C values (see `trial::paths`), each started from the previous
/// solution, as LogisticRegressionCV does.
pub fn fit_path(
    path: &[&LogisticParams],
    x: &Array2<f64>,
    y: &[usize],
    class_names: &[String],
    sw: Option<&[f64]>,
) -> Vec<Result<Box<dyn Fitted>, FitError>> {
    if let Err(e) = check_classes(y, class_names) {
        return path.iter().map(|_| Err(e.clone())).collect();
    }
    let zero = || Start::at(vec![0.0; outputs(class_names.len()) * (x.ncols() + 1)]);
    let mut start = None;
    // The points of a path differ only in C: they share their row weights.
    let weights = path.first().and_then(|p| row_weights(p, y, class_names, sw));
    let rows = Rows { x, y, weights };
    path.iter()
        .map(|params| {
            // After a failed point the path starts again from zero.
            let from = start.take().unwrap_or_else(zero);
            let (model, next) = fit_own(params, &rows, class_names.len(), from)?;
            start = Some(next);
            Ok(model)
        })
        .collect()
}
