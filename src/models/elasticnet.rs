//! Lasso and elastic net by scikit-learn's cyclic coordinate descent
//! (`cd_fast.enet_coordinate_descent`) on centred data. It minimises
//! `1/(2n) ||y - Xw||² + α ρ ||w||₁ + α (1-ρ)/2 ||w||²`, stops on scikit-learn's duality gap,
//! and sets the intercept to `ȳ - x̄·w` as scikit-learn's `_preprocess_data` does. (linfa-
//! elasticnet centred y but not X, so on raw features its intercept and fit were wrong.)

use super::{center, weighted_center, FitError, FitNote, LinearModel};
use crate::preprocess::{centered_gram, CenteredGram, FoldData, FoldTargets};

use ndarray::{Array1, Array2};

/// `elastic_net`.
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct ElasticNetParams {
    pub alpha: f64,
    pub l1_ratio: f64,
    pub max_iter: usize,
    pub tol: f64,
    pub fit_intercept: bool,
    pub path: bool,
}

/// One fit: a path of one.
pub fn fit(params: &ElasticNetParams, data: &FoldData) -> Result<LinearModel, FitError> {
    fit_path(&[params], data).into_iter().next().unwrap_or(Err(FitError::Solver("empty path".into())))
}

/// Fits each point of a path in order, each starting from the previous solution (as
/// scikit-learn's `enet_path` does for LassoCV, with its Gram matrix when n > p). The points
/// share everything but alpha and l1_ratio; a single point starts from zero and descends on
/// the columns, as `Lasso` does. With the fold's sample weights, as `fit(X, y, sample_weight)`
/// (`Problem::weighted`).
pub fn fit_path(path: &[&ElasticNetParams], data: &FoldData) -> Vec<Result<LinearModel, FitError>> {
    let (x, FoldTargets::Regression(y)) = (&data.train_x, &data.train_y) else {
        return path.iter().map(|_| Err(FitError::Solver("a regression target is needed".into()))).collect();
    };
    let fit_intercept = path.first().is_some_and(|p| p.fit_intercept);
    let problem = Problem::new(x, y, fit_intercept, path.len() > 1, data);
    let n = x.nrows() as f64;
    let mut w = Array1::zeros(x.ncols());
    path.iter()
        .map(|params| {
            let (alpha, rho) = (params.alpha, params.l1_ratio);
            let penalty = Penalty { l1: alpha * rho * n, l2: alpha * (1.0 - rho) * n };
            let d = problem.descend(penalty, w.clone(), params.max_iter, params.tol);
            if !d.w.iter().all(|v| v.is_finite()) {
                return Err(FitError::NonFinite);
            }
            w = d.w.clone();
            Ok(problem.model(d))
        })
        .collect()
}

/// The centred problem, in the form coordinate descent works on. scikit-learn's `Lasso` and
/// `ElasticNet` (precompute=False) descend on the columns; its path tools (`LassoCV`,
/// `ElasticNetCV`: precompute="auto") on the Gram matrix when there are more rows than columns.
enum Form<'a> {
    Gram { gram: std::borrow::Cow<'a, CenteredGram>, y_norm2: f64 },
    Columns { columns: Array2<f64>, yc: Array1<f64> },
}

struct Problem<'a> {
    form: Form<'a>,
    x_mean: Array1<f64>,
    y_mean: f64,
}

impl<'a> Problem<'a> {
    fn new(x: &Array2<f64>, y: &Array1<f64>, fit_intercept: bool, gram: bool, data: &'a FoldData) -> Problem<'a> {
        if let Some(w) = data.train_w.as_deref() {
            return Problem::weighted(x, y, w, fit_intercept, gram);
        }
        if gram && x.nrows() > x.ncols() {
            // With an intercept, the fold's shared centred Gram matrix (built once per fold).
            let gram = match data.centered_gram().filter(|_| fit_intercept) {
                Some(shared) => std::borrow::Cow::Borrowed(shared),
                None => std::borrow::Cow::Owned(centered_gram(x, y, false)),
            };
            let y_mean = gram.y_mean;
            let y_norm2 = y.iter().map(|v| (v - y_mean) * (v - y_mean)).sum();
            let x_mean = gram.x_mean.clone();
            return Problem { form: Form::Gram { gram, y_norm2 }, x_mean, y_mean };
        }
        let (xc, yc, x_mean, y_mean) = center(x, y, fit_intercept);
        let columns = xc.t().as_standard_layout().into_owned();
        Problem { form: Form::Columns { columns, yc }, x_mean, y_mean }
    }

    /// scikit-learn's `ElasticNet.fit(X, y, sample_weight=w)`: the weights rescaled to sum to
    /// n (so the penalty's `n · alpha` is the weighted objective's), X and y centred on their
    /// weighted means and each row times `sqrt(w)`, then the unweighted descent on those rows
    /// (on their own Gram matrix along a path: the fold's shared one is unweighted).
    fn weighted(x: &Array2<f64>, y: &Array1<f64>, w: &[f64], fit_intercept: bool, gram: bool) -> Problem<'a> {
        let n = x.nrows() as f64;
        let total: f64 = w.iter().sum();
        let w: Vec<f64> = w.iter().map(|v| v * (n / total)).collect();
        let (xs, ys, x_mean, y_mean) = weighted_center(x, y, &w, fit_intercept);
        let form = if gram && x.nrows() > x.ncols() {
            let y_norm2 = ys.dot(&ys);
            Form::Gram { gram: std::borrow::Cow::Owned(centered_gram(&xs, &ys, false)), y_norm2 }
        } else {
            Form::Columns { columns: xs.t().as_standard_layout().into_owned(), yc: ys }
        };
        Problem { form, x_mean, y_mean }
    }

    fn descend(&self, penalty: Penalty, w: Array1<f64>, max_iter: usize, tol: f64) -> Descent {
        match &self.form {
            Form::Gram { gram, y_norm2 } => {
                let mut state = GramState::new(&gram.xtx, &gram.xty, *y_norm2, &w);
                descend(&mut state, penalty, w, max_iter, tol)
            }
            Form::Columns { columns, yc } => coordinate_descent(columns, yc, penalty, w, max_iter, tol),
        }
    }

    /// The fitted model, with the intercept restored (`ȳ - x̄·w`).
    fn model(&self, d: Descent) -> LinearModel {
        let notes = if d.converged {
            Vec::new()
        } else {
            let detail = format!("duality gap {:.3e} above tol x ||y||² = {:.3e}", d.gap, d.gap_tol);
            vec![FitNote::NotConverged { iterations: d.iterations, detail }]
        };
        let intercept = self.y_mean - self.x_mean.dot(&d.w);
        LinearModel { weights: d.w, intercept, notes }
    }
}

/// The penalty in scikit-learn's unscaled form: `l1 ||w||₁ + l2/2 ||w||²` beside `½||y - Xw||²`.
#[derive(Debug, Clone, Copy)]
pub struct Penalty {
    pub l1: f64,
    pub l2: f64,
}

/// What `enet_coordinate_descent` returns: the weights, the sweeps run (0 when the starting
/// weights already met the tolerance), the last duality gap and `tol × ||y||²`.
pub struct Descent {
    pub w: Array1<f64>,
    pub iterations: usize,
    pub gap: f64,
    pub gap_tol: f64,
    pub converged: bool,
}

/// What one variant of scikit-learn's coordinate descent keeps up to date as `w` moves: the
/// residual `y - Xw` (`enet_coordinate_descent`) or `XᵀXw` (`enet_coordinate_descent_gram`).
/// Each method does its variant's arithmetic in its order.
trait Residual {
    /// `||y||²`, which scales the tolerance of the gap.
    fn y_norm2(&self) -> f64;
    /// `||X_j||²`.
    fn norm2(&self, j: usize) -> f64;
    /// `X_j · (y - Xw + X_j w_j)`: the unpenalised target of coordinate j.
    fn coordinate(&self, j: usize, w_j: f64) -> f64;
    /// Coordinate j moved from `old` to `new`.
    fn moved(&mut self, j: usize, old: f64, new: f64);
    /// `Xᵀr` into `xtr`; returns `||r||²` and `r·y`.
    fn residual(&self, w: &Array1<f64>, xtr: &mut [f64]) -> (f64, f64);
    /// Whether a gap before the first sweep lets the start stand: the Gram variant also asks
    /// for a non-negative gap (a singular XᵀX can round it below zero).
    fn start_stands(&self, gap: f64, tol: f64) -> bool;
}

/// `enet_coordinate_descent` from `w`; `columns` holds X's columns as rows (p × n).
pub fn coordinate_descent(
    columns: &Array2<f64>,
    y: &Array1<f64>,
    penalty: Penalty,
    w: Array1<f64>,
    max_iter: usize,
    tol: f64,
) -> Descent {
    let mut state = ColumnState::new(columns, y, &w);
    descend(&mut state, penalty, w, max_iter, tol)
}

struct ColumnState<'a> {
    columns: &'a Array2<f64>,
    y: &'a Array1<f64>,
    norms: Vec<f64>,
    r: Array1<f64>,
}

impl<'a> ColumnState<'a> {
    fn new(columns: &'a Array2<f64>, y: &'a Array1<f64>, w: &Array1<f64>) -> ColumnState<'a> {
        let norms = columns.rows().into_iter().map(|c| c.dot(&c)).collect();
        let r = y - &columns.t().dot(w);
        ColumnState { columns, y, norms, r }
    }
}

impl Residual for ColumnState<'_> {
    fn y_norm2(&self) -> f64 {
        self.y.dot(self.y)
    }
    fn norm2(&self, j: usize) -> f64 {
        self.norms[j]
    }
    fn coordinate(&self, j: usize, w_j: f64) -> f64 {
        self.columns.row(j).dot(&self.r) + w_j * self.norms[j]
    }
    fn moved(&mut self, j: usize, old: f64, new: f64) {
        self.r.scaled_add(old - new, &self.columns.row(j));
    }
    fn residual(&self, _w: &Array1<f64>, xtr: &mut [f64]) -> (f64, f64) {
        for (v, col) in xtr.iter_mut().zip(self.columns.rows()) {
            *v = col.dot(&self.r);
        }
        (self.r.dot(&self.r), self.r.dot(self.y))
    }
    fn start_stands(&self, gap: f64, tol: f64) -> bool {
        gap <= tol
    }
}

struct GramState<'a> {
    xtx: &'a Array2<f64>,
    xty: &'a Array1<f64>,
    y_norm2: f64,
    /// `XᵀX·w`.
    h: Array1<f64>,
}

impl<'a> GramState<'a> {
    fn new(xtx: &'a Array2<f64>, xty: &'a Array1<f64>, y_norm2: f64, w: &Array1<f64>) -> GramState<'a> {
        GramState { xtx, xty, y_norm2, h: xtx.dot(w) }
    }
}

impl Residual for GramState<'_> {
    fn y_norm2(&self) -> f64 {
        self.y_norm2
    }
    fn norm2(&self, j: usize) -> f64 {
        self.xtx[[j, j]]
    }
    fn coordinate(&self, j: usize, w_j: f64) -> f64 {
        self.xty[j] - self.h[j] + w_j * self.xtx[[j, j]]
    }
    fn moved(&mut self, j: usize, old: f64, new: f64) {
        // XᵀX is symmetric: its row j is column j, and contiguous.
        self.h.scaled_add(new - old, &self.xtx.row(j));
    }
    /// `||r||² = ||y||² + w·XᵀXw - 2 Xᵀy·w`, `r·y = ||y||² - Xᵀy·w`.
    fn residual(&self, w: &Array1<f64>, xtr: &mut [f64]) -> (f64, f64) {
        for ((v, q), h) in xtr.iter_mut().zip(self.xty).zip(&self.h) {
            *v = q - h;
        }
        let q_dot_w = w.dot(self.xty);
        (self.y_norm2 + w.dot(&self.h) - 2.0 * q_dot_w, self.y_norm2 - q_dot_w)
    }
    fn start_stands(&self, gap: f64, tol: f64) -> bool {
        (0.0..=tol).contains(&gap)
    }
}

/// scikit-learn 1.9.1's cyclic coordinate descent, step for step: the duality gap is checked
/// before the first sweep (a start already within `tol × ||y||²` is returned unchanged, so a
/// warm-started path keeps the previous solution), features are screened by the gap-safe
/// rule, and after a sweep whose largest update is at most `tol` times the largest weight
/// (or the last sweep) the gap decides whether to stop.
fn descend(state: &mut impl Residual, penalty: Penalty, mut w: Array1<f64>, max_iter: usize, tol: f64) -> Descent {
    let p = w.len();
    let mut xta = vec![0.0; p];
    let gap_tol = tol * state.y_norm2();
    let (mut gap, mut dual_norm) = duality_gap(state, &w, penalty, &mut xta);
    if state.start_stands(gap, gap_tol) {
        return Descent { w, iterations: 0, gap, gap_tol, converged: true };
    }
    // Without an L1 penalty there is no screening: every feature stays active.
    let screening = penalty.l1 != 0.0;
    let mut active: Vec<usize> = (0..p).collect();
    let mut excluded = vec![false; p];
    if screening {
        for j in 0..p {
            if state.norm2(j) == 0.0 {
                w[j] = 0.0;
                excluded[j] = true;
            }
        }
        screen(state, &mut w, Screen { xta: &xta, dual_norm, gap }, penalty, &mut active, &mut excluded);
    }
    for iteration in 0..max_iter {
        let (mut w_max, mut dw_max) = (0.0f64, 0.0f64);
        for &j in &active {
            let norm2 = state.norm2(j);
            if norm2 == 0.0 {
                continue;
            }
            let old = w[j];
            let tmp = state.coordinate(j, old);
            w[j] = sign(tmp) * (tmp.abs() - penalty.l1).max(0.0) / (norm2 + penalty.l2);
            if w[j] != old {
                state.moved(j, old, w[j]);
            }
            dw_max = dw_max.max((w[j] - old).abs());
            w_max = w_max.max(w[j].abs());
        }
        if w_max == 0.0 || dw_max / w_max <= tol || iteration + 1 == max_iter {
            (gap, dual_norm) = duality_gap(state, &w, penalty, &mut xta);
            if gap <= gap_tol {
                return Descent { w, iterations: iteration + 1, gap, gap_tol, converged: true };
            }
            if screening {
                screen(state, &mut w, Screen { xta: &xta, dual_norm, gap }, penalty, &mut active, &mut excluded);
            }
        }
    }
    Descent { w, iterations: max_iter, gap, gap_tol, converged: false }
}

/// cd_fast's `fsign`: 0 at 0.
fn sign(v: f64) -> f64 {
    if v == 0.0 {
        0.0
    } else if v > 0.0 {
        1.0
    } else {
        -1.0
    }
}

/// The last duality gap's by-products the screening rule reads.
struct Screen<'a> {
    xta: &'a [f64],
    dual_norm: f64,
    gap: f64,
}

/// Gap-safe screening (Fercoq et al., Eq. 11), as cd_fast does it: a feature whose distance
/// to the dual feasible set's boundary exceeds the gap ball's radius is zero at the optimum;
/// it is set to zero and never visited again. The gap's magnitude is used, as the Gram
/// variant does (the column variant only screens with a positive gap).
fn screen(
    state: &mut impl Residual,
    w: &mut Array1<f64>,
    last: Screen,
    penalty: Penalty,
    active: &mut Vec<usize>,
    excluded: &mut [bool],
) {
    let radius = (2.0 * last.gap.abs()).sqrt() / penalty.l1;
    active.clear();
    for j in 0..w.len() {
        if excluded[j] {
            continue;
        }
        let theta = last.xta[j] / penalty.l1.max(last.dual_norm);
        let d_j = (1.0 - theta.abs()) / (state.norm2(j) + penalty.l2).sqrt();
        if d_j <= radius {
            active.push(j);
            excluded[j] = false;
        } else {
            if w[j] != 0.0 {
                state.moved(j, w[j], 0.0);
                w[j] = 0.0;
            }
            excluded[j] = true;
        }
    }
}
/// cd_fast's `gap_enet` / `gap_enet_gram`: the duality gap at `w`, and the dual norm of
/// `xta`, which it leaves holding `Xᵀr - l2·w` (with an L1 penalty) or `Xᵀr` (without).
fn duality_gap(state: &impl Residual, w: &Array1<f64>, penalty: Penalty, xta: &mut [f64]) -> (f64, f64) {
    let Penalty { l1, l2 } = penalty;
    let w_l2_norm2 = if l2 > 0.0 { w.dot(w) } else { 0.0 };
    let (r_norm2, r_dot_y) = state.residual(w, xta);
    if l1 == 0.0 {
        // Ridge: formulation B of the gap (Dünner et al. 2016), which needs no dual scaling.
        let dual_norm: f64 = xta.iter().map(|v| v * v).sum();
        let gap = r_norm2 + 0.5 * l2 * w_l2_norm2 - r_dot_y + 1.0 / (2.0 * l2) * dual_norm;
        return (gap, dual_norm);
    }
    for (v, wj) in xta.iter_mut().zip(w) {
        *v -= l2 * wj;
    }
    let dual_norm = xta.iter().fold(0.0f64, |m, v| if v.abs() > m { v.abs() } else { m });
    let w_l1_norm: f64 = w.iter().map(|v| v.abs()).sum();
    // Formulation A: the residual, scaled into the dual feasible set.
    let primal = 0.5 * (r_norm2 + l2 * w_l2_norm2) + l1 * w_l1_norm;
    let scale = if dual_norm > l1 { l1 / dual_norm } else { 1.0 };
    let dual = -0.5 * (scale * scale) * (r_norm2 + l2 * w_l2_norm2) + scale * r_dot_y;
    (primal - dual, dual_norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// With one standardised column the lasso is a soft threshold of the OLS weight.
    #[test]
    fn one_column_lasso_is_a_soft_threshold() {
        let x = array![[-1.0], [1.0], [-1.0], [1.0]];
        let y = array![-3.0, 3.0, -3.0, 3.0];
        let columns = x.t().as_standard_layout().into_owned();
        // ½||y - xw||² + l1|w|: w = (xᵀy - l1)/xᵀx = (12 - 2)/4.
        let d = coordinate_descent(&columns, &y, Penalty { l1: 2.0, l2: 0.0 }, Array1::zeros(1), 100, 1e-12);
        assert!(d.converged);
        assert!((d.w[0] - 2.5).abs() < 1e-12, "{}", d.w[0]);
    }
}
