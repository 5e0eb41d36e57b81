//! Our own gradient-descent trainers (`linear_gd`, `logistic_gd`): losses, optimizers,
//! learning-rate schedules, early stopping, divergence detection and loss curves.

use super::loss::{loss_and_gradient, mean_loss, Loss, Weights};
use super::{FitError, Fitted, Head, LinearParts, LossCurve, Prediction};
use crate::random::RandomState;
pub use crate::spec::Optimizer;
use crate::spec::{ClassWeight, LogLoss, LrSchedule, RegressionLoss};
use ndarray::{Array1, Array2};

/// `linear_gd`: its loss (the optimizer settings are [`OptimizerParams`]).
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearGdParams {
    pub loss: RegressionLoss,
    pub huber_delta: f64,
    pub fit_intercept: bool,
}

/// `logistic_gd`: its loss (the optimizer settings are [`OptimizerParams`]).
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticGdParams {
    pub loss: LogLoss,
    pub fit_intercept: bool,
    pub class_weight: ClassWeight,
}

/// The gradient-descent optimizer settings of `linear_gd`, `logistic_gd` and `mlp`. The
/// defaults are the linear kinds'; the MLP's differ (see the catalog's `defaults`).
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerParams {
    pub optimizer: Optimizer,
    pub learning_rate: f64,
    pub lr_schedule: LrSchedule,
    pub power_t: f64,
    pub epochs: usize,
    pub batch_size: usize,
    pub momentum: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub l1: f64,
    pub l2: f64,
    pub tol: f64,
    pub patience: usize,
    pub early_stopping: bool,
    pub validation_fraction: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    Constant,
    /// `lr / t^power_t` with `t` the update step, from 1.
    InvScaling(f64),
}

/// A checked trainer configuration.
#[derive(Debug, Clone)]
pub struct GdConfig {
    pub loss: Loss,
    pub optimizer: Optimizer,
    pub learning_rate: f64,
    pub schedule: Schedule,
    pub epochs: usize,
    /// Rows per update; 0 means the whole training part (minibatch: 32).
    pub batch_size: usize,
    pub momentum: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub l1: f64,
    pub l2: f64,
    pub tol: f64,
    pub patience: usize,
    pub validation_fraction: Option<f64>,
    pub fit_intercept: bool,
}

impl GdConfig {
    pub fn new(p: &OptimizerParams, loss: Loss, fit_intercept: bool) -> GdConfig {
        let schedule = match p.lr_schedule {
            LrSchedule::Invscaling => Schedule::InvScaling(p.power_t),
            LrSchedule::Constant => Schedule::Constant,
        };
        GdConfig {
            loss,
            optimizer: p.optimizer,
            learning_rate: p.learning_rate,
            schedule,
            epochs: p.epochs,
            batch_size: p.batch_size,
            momentum: p.momentum,
            beta1: p.beta1,
            beta2: p.beta2,
            eps: p.eps,
            l1: p.l1,
            l2: p.l2,
            tol: p.tol,
            patience: p.patience,
            validation_fraction: p.early_stopping.then_some(p.validation_fraction),
            fit_intercept,
        }
    }
}

/// A differentiable training objective over a flat parameter vector: what the generic loop
/// below needs from a model (linear models here, the MLP in `mlp.rs`).
pub trait Objective: Sync {
    /// The mean data loss over `rows` (all rows when `None`) and the gradient of the
    /// penalised objective with respect to every parameter.
    fn loss_and_gradient(&self, rows: Option<&[usize]>, params: &[f64]) -> (f64, Vec<f64>);
    /// The mean data loss over `rows`, without the gradient.
    fn mean_loss(&self, rows: &[usize], params: &[f64]) -> f64;
    /// The penalty term at `params`.
    fn penalty(&self, params: &[f64]) -> f64;
}

/// The optimizer's memory between steps, one entry per parameter.
struct OptimizerState {
    velocity: Vec<f64>,
    m: Vec<f64>,
    v: Vec<f64>,
    steps: usize,
}

impl OptimizerState {
    fn new(parameters: usize) -> OptimizerState {
        let zeros = vec![0.0; parameters];
        OptimizerState { velocity: zeros.clone(), m: zeros.clone(), v: zeros, steps: 0 }
    }
}

/// One update of `params` along `grad` by the configured optimizer and schedule.
fn step(cfg: &GdConfig, state: &mut OptimizerState, params: &mut [f64], grad: &[f64]) {
    state.steps += 1;
    let lr = match cfg.schedule {
        Schedule::Constant => cfg.learning_rate,
        Schedule::InvScaling(power_t) => cfg.learning_rate / (state.steps as f64).powf(power_t),
    };
    let t = state.steps as i32;
    let (bias1, bias2) = (1.0 - cfg.beta1.powi(t), 1.0 - cfg.beta2.powi(t));
    for k in 0..params.len() {
        let g = grad[k];
        match cfg.optimizer {
            Optimizer::Gd | Optimizer::Sgd | Optimizer::Minibatch => params[k] -= lr * g,
            Optimizer::Momentum => {
                state.velocity[k] = cfg.momentum * state.velocity[k] - lr * g;
                params[k] += state.velocity[k];
            }
            Optimizer::Nesterov => {
                // scikit-learn's formulation: look ahead along the new velocity.
                state.velocity[k] = cfg.momentum * state.velocity[k] - lr * g;
                params[k] += cfg.momentum * state.velocity[k] - lr * g;
            }
            Optimizer::Adam => {
                state.m[k] = cfg.beta1 * state.m[k] + (1.0 - cfg.beta1) * g;
                state.v[k] = cfg.beta2 * state.v[k] + (1.0 - cfg.beta2) * g * g;
                params[k] -= lr * (state.m[k] / bias1) / ((state.v[k] / bias2).sqrt() + cfg.eps);
            }
        }
    }
}

/// `tol`/`patience`, scikit-learn's MLP rule: an epoch is stale unless it beats the best by
/// `tol`; the best follows every improvement; more than `patience` stale epochs in a row stop.
struct Patience {
    best: f64,
    stale: usize,
}

impl Patience {
    fn new() -> Patience {
        Patience { best: f64::INFINITY, stale: 0 }
    }

    /// Notes an epoch's monitored loss: (whether it is the best so far, whether to stop).
    fn after(&mut self, cfg: &GdConfig, monitored: f64) -> (bool, bool) {
        self.stale = if monitored > self.best - cfg.tol { self.stale + 1 } else { 0 };
        let improved = monitored < self.best;
        if improved {
            self.best = monitored;
        }
        (improved, self.stale > cfg.patience)
    }
}

/// Whether an epoch ended blown up: a non-finite loss or weight, or a loss `BLOW_UP` times
/// the starting loss.
fn blew_up(epoch_loss: f64, params: &[f64], start_loss: f64) -> bool {
    !epoch_loss.is_finite() || !params.iter().all(|v| v.is_finite()) || epoch_loss > BLOW_UP * start_loss
}

/// A loss this many times the starting loss counts as blown up.
const BLOW_UP: f64 = 1e8;

/// (training rows, validation rows), both in row order: a seeded hold-out of
/// `validation_fraction` with early stopping, else every row trains.
fn validation_split(cfg: &GdConfig, n: usize, rng: &mut RandomState) -> Result<(Vec<usize>, Vec<usize>), FitError> {
    let Some(frac) = cfg.validation_fraction else { return Ok(((0..n).collect(), Vec::new())) };
    let perm = rng.permutation(n);
    let n_val = ((frac * n as f64).ceil() as usize).max(1);
    if n_val >= n {
        return Err(FitError::Solver(format!(
            "early stopping leaves no training rows ({n} rows, validation_fraction {frac})"
        )));
    }
    let mut val = perm[..n_val].to_vec();
    let mut train = perm[n_val..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    Ok((train, val))
}

/// Rows per update step for the optimizer and `batch_size`.
pub fn batch_rows(cfg: &GdConfig, n_train: usize) -> usize {
    match (cfg.optimizer, cfg.batch_size) {
        (Optimizer::Gd, _) => n_train,
        (Optimizer::Sgd, _) => 1,
        (Optimizer::Minibatch, 0) => 32,
        (_, 0) => n_train,
        (_, b) => b,
    }
    .min(n_train)
}

/// The epoch state machine every gradient-descent trainer runs, in memory (`train_flat`) and
/// over a stream (`sweep/streamed/descent.rs`): the optimizer's state, the starting loss,
/// the loss curve, divergence, `tol`/`patience` and early stopping's best weights. The
/// caller hands it each update's mean loss and gradient, and each epoch's end.
pub struct Epochs {
    cfg: GdConfig,
    pub params: Vec<f64>,
    state: OptimizerState,
    curve: LossCurve,
    patience: Patience,
    /// With early stopping: the weights that did best on the validation rows.
    best: Option<Vec<f64>>,
    start_loss: Option<f64>,
    /// From 1.
    epoch: usize,
    /// This epoch's summed data loss (mean loss × rows per update).
    data_loss: f64,
    n_train: f64,
    outcome: Option<Result<(), FitError>>,
}

impl Epochs {
    pub fn new(cfg: &GdConfig, params: Vec<f64>, n_train: usize) -> Epochs {
        let validation = cfg.validation_fraction.map(|_| Vec::new());
        Epochs {
            state: OptimizerState::new(params.len()),
            best: cfg.validation_fraction.map(|_| params.clone()),
            curve: LossCurve { train: Vec::new(), validation },
            patience: Patience::new(),
            start_loss: None,
            epoch: 1,
            data_loss: 0.0,
            n_train: n_train as f64,
            outcome: (cfg.epochs == 0).then_some(Ok(())),
            cfg: cfg.clone(),
            params,
        }
    }

    pub fn cfg(&self) -> &GdConfig {
        &self.cfg
    }

    /// Whether the loss before any step is known; blow-up is judged against it, so a first
    /// step that already exploded is caught too.
    pub fn knows_start_loss(&self) -> bool {
        self.start_loss.is_some()
    }

    /// Sets the starting objective (mean data loss plus penalty), once.
    pub fn set_start_loss(&mut self, objective: f64) {
        self.start_loss.get_or_insert(objective.max(1e-12));
    }

    /// Adds an update's mean data loss over `rows` rows to the epoch's; a loss that is not
    /// finite stops the trainer as diverged (`false`).
    pub fn add_loss(&mut self, loss: f64, rows: usize) -> bool {
        if !loss.is_finite() {
            self.fail(self.diverged());
            return false;
        }
        self.data_loss += loss * rows as f64;
        true
    }

    /// The epoch's mean data loss so far.
    pub fn mean_data_loss(&self) -> f64 {
        self.data_loss / self.n_train
    }

    /// One update of the parameters along `grad`.
    pub fn step(&mut self, grad: &[f64]) {
        step(&self.cfg, &mut self.state, &mut self.params, grad);
    }

    /// Ends an epoch, `penalty` at its final weights and the validation loss with early
    /// stopping: the loss curve, divergence, `tol`/`patience` and the epoch limit.
    pub fn end_epoch(&mut self, penalty: f64, validation: Option<f64>) {
        if self.done() {
            return;
        }
        // The data part is the mean over the epoch's updates; the penalty is at its final weights.
        let epoch_loss = self.data_loss / self.n_train + penalty;
        self.data_loss = 0.0;
        if blew_up(epoch_loss, &self.params, self.start_loss.unwrap_or(f64::INFINITY)) {
            self.fail(self.diverged());
            return;
        }
        self.curve.train.push(epoch_loss);
        let monitored = match (&mut self.curve.validation, validation) {
            (Some(curve), Some(v)) => {
                curve.push(v);
                v
            }
            _ => epoch_loss,
        };
        let (improved, stop) = self.patience.after(&self.cfg, monitored);
        if let (Some(best), true) = (&mut self.best, improved) {
            best.clone_from(&self.params);
        }
        if stop || self.epoch >= self.cfg.epochs {
            self.outcome = Some(Ok(()));
        }
        self.epoch += 1;
    }

    pub fn fail(&mut self, e: FitError) {
        self.outcome = Some(Err(e));
    }

    pub fn done(&self) -> bool {
        self.outcome.is_some()
    }

    fn diverged(&self) -> FitError {
        FitError::Diverged {
            epoch: self.epoch,
            last_finite_loss: self.curve.train.last().copied(),
            learning_rate: self.cfg.learning_rate,
        }
    }

    /// The trained parameters (with early stopping, those that did best on the validation
    /// rows) and the loss curve.
    pub fn finish(self) -> Result<(Vec<f64>, LossCurve), FitError> {
        if let Some(Err(e)) = self.outcome {
            return Err(e);
        }
        let params = match self.best {
            Some(best) if self.patience.best.is_finite() => best,
            _ => self.params,
        };
        Ok((params, self.curve))
    }
}

/// The training loop shared by every gradient-descent model in memory: epochs of (shuffled)
/// batches through `Epochs`, early stopping on a seeded validation hold-out. `seed` drives
/// the hold-out and the batch order.
pub fn train_flat(
    cfg: &GdConfig,
    n: usize,
    objective: &impl Objective,
    params: Vec<f64>,
    seed: u32,
) -> Result<(Vec<f64>, LossCurve), FitError> {
    let mut rng = RandomState::new(seed);
    let (train_rows, val_rows) = validation_split(cfg, n, &mut rng)?;
    let n_train = train_rows.len();
    let batch = batch_rows(cfg, n_train);
    let full_pass = batch == n_train && cfg.validation_fraction.is_none();
    let mut epochs = Epochs::new(cfg, params, n_train);
    epochs.set_start_loss(objective.mean_loss(&train_rows, &epochs.params) + objective.penalty(&epochs.params));
    let mut order = train_rows.clone();
    while !epochs.done() {
        if batch < n_train {
            rng.shuffle(&mut order);
        }
        for chunk in order.chunks(batch) {
            let rows = if full_pass { None } else { Some(chunk) };
            let (loss, grad) = objective.loss_and_gradient(rows, &epochs.params);
            if !epochs.add_loss(loss, chunk.len()) {
                break;
            }
            epochs.step(&grad);
        }
        let validation = cfg.validation_fraction.map(|_| objective.mean_loss(&val_rows, &epochs.params));
        epochs.end_epoch(objective.penalty(&epochs.params), validation);
    }
    epochs.finish()
}

/// The weights of `outputs` linear outputs over `d` features from the flat parameter vector
/// (the weight matrix row-major, then the intercepts).
pub fn unpack(params: &[f64], outputs: usize, d: usize) -> Weights {
    let w = Array2::from_shape_vec((outputs, d), params[..outputs * d].to_vec())
        .unwrap_or_else(|_| Array2::zeros((outputs, d)));
    Weights { w, b: params[outputs * d..].to_vec() }
}

/// A linear model's objective: `outputs` linear outputs, parameters laid out as the weight
/// matrix (outputs × features, row-major) followed by the intercepts.
struct LinearObjective<'a> {
    cfg: &'a GdConfig,
    x: &'a Array2<f64>,
    y: &'a [f64],
    /// The rows' sample weights (none: each weighs 1).
    sw: Option<&'a [f64]>,
    outputs: usize,
}

impl LinearObjective<'_> {
    fn unpack(&self, params: &[f64]) -> Weights {
        unpack(params, self.outputs, self.x.ncols())
    }
}

impl Objective for LinearObjective<'_> {
    fn loss_and_gradient(&self, rows: Option<&[usize]>, params: &[f64]) -> (f64, Vec<f64>) {
        let (loss, grad) = objective_and_gradient(self.cfg, (self.x, self.y, self.sw), rows, &self.unpack(params));
        let mut flat: Vec<f64> = grad.w.iter().copied().collect();
        if self.cfg.fit_intercept {
            flat.extend_from_slice(&grad.b);
        } else {
            flat.extend(std::iter::repeat_n(0.0, self.outputs));
        }
        (loss, flat)
    }

    fn mean_loss(&self, rows: &[usize], params: &[f64]) -> f64 {
        mean_loss(self.cfg.loss, self.x, self.y, rows, self.sw, &self.unpack(params))
    }

    fn penalty(&self, params: &[f64]) -> f64 {
        penalty(self.cfg, &params[..self.outputs * self.x.ncols()])
    }
}

/// `l2/2 ||w||² + l1 ||w||₁` over the penalised parameters.
pub fn penalty(cfg: &GdConfig, w: &[f64]) -> f64 {
    let l2 = if cfg.l2 > 0.0 { 0.5 * cfg.l2 * w.iter().map(|v| v * v).sum::<f64>() } else { 0.0 };
    let l1 = if cfg.l1 > 0.0 { cfg.l1 * w.iter().map(|v| v.abs()).sum::<f64>() } else { 0.0 };
    l2 + l1
}

/// The mean data loss over `rows` (of `x`, targets `y`, weighted by the sample weights `sw`
/// when given) and the gradient of the penalised objective `mean loss + l2/2 ||w||² + l1
/// ||w||₁` (the intercept is not penalised).
pub fn objective_and_gradient(
    cfg: &GdConfig,
    (x, y, sw): (&Array2<f64>, &[f64], Option<&[f64]>),
    rows: Option<&[usize]>,
    params: &Weights,
) -> (f64, Weights) {
    let (loss, mut grad) = loss_and_gradient(cfg.loss, x, y, rows, sw, params);
    if cfg.l2 > 0.0 || cfg.l1 > 0.0 {
        for (g, w) in grad.w.iter_mut().zip(params.w.iter()) {
            *g += cfg.l2 * w + cfg.l1 * sign(*w);
        }
    }
    (loss, grad)
}

fn sign(w: f64) -> f64 {
    if w > 0.0 {
        1.0
    } else if w < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Trains `outputs` linear outputs on `x`, `y` (class indices as f64 for classifiers), each
/// row's loss times its weight in `sw` when given.
pub fn train(
    cfg: &GdConfig,
    x: &Array2<f64>,
    y: &[f64],
    sw: Option<&[f64]>,
    outputs: usize,
    seed: u32,
) -> Result<(Weights, LossCurve), FitError> {
    let objective = LinearObjective { cfg, x, y, sw, outputs };
    let (params, curve) = train_flat(cfg, x.nrows(), &objective, vec![0.0; outputs * (x.ncols() + 1)], seed)?;
    Ok((objective.unpack(&params), curve))
}

pub struct GdModel {
    weights: Weights,
    head: Head,
    curve: LossCurve,
}

impl GdModel {
    /// A model trained elsewhere (the streamed trainer).
    pub fn new(weights: Weights, head: Head, curve: LossCurve) -> GdModel {
        GdModel { weights, head, curve }
    }
}

impl Fitted for GdModel {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let z = x.dot(&self.weights.w.t()) + &Array1::from(self.weights.b.clone());
        self.head.apply(z)
    }

    fn linear(&self) -> Option<LinearParts> {
        Some(LinearParts { weights: self.weights.w.clone(), intercepts: self.weights.b.clone(), head: self.head })
    }

    fn loss_curve(&self) -> Option<LossCurve> {
        Some(self.curve.clone())
    }
}

/// A `linear_gd` trial's trainer settings.
pub fn linear_setup(params: &LinearGdParams, opt: &OptimizerParams) -> GdConfig {
    let loss = match params.loss {
        RegressionLoss::Mse => Loss::Mse,
        RegressionLoss::Mae => Loss::Mae,
        RegressionLoss::Huber => Loss::Huber(params.huber_delta),
    };
    GdConfig::new(opt, loss, params.fit_intercept)
}

/// A `logistic_gd` trial's trainer settings, outputs and head for `classes` classes.
pub fn logistic_setup(params: &LogisticGdParams, opt: &OptimizerParams, classes: usize) -> (GdConfig, usize, Head) {
    let (loss, outputs, head) =
        if classes == 2 { (Loss::LogLoss, 1, Head::Sigmoid) } else { (Loss::Softmax, classes, Head::Softmax) };
    (GdConfig::new(opt, loss, params.fit_intercept), outputs, head)
}

/// `linear_gd` on `x`, `y` with the rows' sample weights `sw`: each batch's loss is the
/// weighted mean `Σ wᵢ·lossᵢ / Σ wᵢ` (the penalty as without weights), so full-batch gd on mse
/// reaches `Ridge(alpha = l2 · Σ w / 2).fit(X, y, sample_weight=w)`.
pub fn fit_linear(
    params: &LinearGdParams,
    opt: &OptimizerParams,
    (x, y, sw): (&Array2<f64>, &Array1<f64>, Option<&[f64]>),
    seed: u32,
) -> Result<GdModel, FitError> {
    let cfg = linear_setup(params, opt);
    let (weights, curve) = train(&cfg, x, &y.to_vec(), sw, 1, seed)?;
    Ok(GdModel { weights, head: Head::Identity, curve })
}

/// `logistic_gd` on `x`, `y` with the rows' sample weights `sw`: each row's loss times its
/// sample weight and its class weight ("balanced" counting the classes by the sample
/// weights, as `logistic_regression`), the mean taken over the weights.
pub fn fit_logistic(
    params: &LogisticGdParams,
    opt: &OptimizerParams,
    (x, y, sw): (&Array2<f64>, &[usize], Option<&[f64]>),
    class_names: &[String],
    seed: u32,
) -> Result<GdModel, FitError> {
    super::classes_present(y, class_names)?;
    let targets: Vec<f64> = y.iter().map(|&c| c as f64).collect();
    let (cfg, outputs, head) = logistic_setup(params, opt, class_names.len());
    let factors = super::weights::per_class(&params.class_weight, y, class_names, sw, None);
    let row_weights = super::weights::times(factors, y, sw);
    let (weights, curve) = train(&cfg, x, &targets, row_weights.as_deref(), outputs, seed)?;
    Ok(GdModel { weights, head, curve })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(loss: Loss, optimizer: Optimizer, learning_rate: f64) -> GdConfig {
        GdConfig {
            loss,
            optimizer,
            learning_rate,
            schedule: Schedule::Constant,
            epochs: 20_000,
            batch_size: 0,
            momentum: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            l1: 0.0,
            l2: 0.0,
            tol: 0.0,
            patience: 50,
            validation_fraction: None,
            fit_intercept: true,
        }
    }

    /// y = 1 + 2 x0 - 3 x1 + small deterministic noise.
    fn problem() -> (Array2<f64>, Vec<f64>) {
        let n = 200;
        let x = Array2::from_shape_fn((n, 2), |(i, j)| (((i * 37 + j * 91) % 101) as f64 / 50.0) - 1.0);
        let y =
            (0..n).map(|i| 1.0 + 2.0 * x[[i, 0]] - 3.0 * x[[i, 1]] + (((i * 13) % 7) as f64 - 3.0) * 0.01).collect();
        (x, y)
    }

    fn least_squares(x: &Array2<f64>, y: &[f64]) -> Vec<f64> {
        // Normal equations with an intercept column, solved by the ridge solver with alpha 0.
        let n = x.nrows();
        let mut a = Array2::<f64>::ones((n, 3));
        a.slice_mut(ndarray::s![.., 1..]).assign(x);
        let gram = a.t().dot(&a);
        let rhs = a.t().dot(&Array1::from(y.to_vec()));
        super::super::linalg::cholesky_solve(&gram, &rhs).unwrap().to_vec()
    }

    #[test]
    fn full_batch_gd_converges_to_least_squares() {
        let (x, y) = problem();
        let (w, curve) = train(&config(Loss::Mse, Optimizer::Gd, 0.2), &x, &y, None, 1, 0).unwrap();
        let exact = least_squares(&x, &y);
        let got = [w.b[0], w.w[[0, 0]], w.w[[0, 1]]];
        for (g, e) in got.iter().zip(&exact) {
            assert!((g - e).abs() <= 1e-9 * e.abs(), "{got:?} vs {exact:?}");
        }
        assert!(
            curve.train.windows(2).all(|p| p[1] <= p[0] + 1e-15),
            "gd on a convex quadratic descends monotonically"
        );
    }

    #[test]
    fn momentum_nesterov_and_adam_reach_the_same_optimum_as_gd() {
        let (x, y) = problem();
        let (reference, _) = train(&config(Loss::Mse, Optimizer::Gd, 0.2), &x, &y, None, 1, 0).unwrap();
        for (optimizer, lr) in [(Optimizer::Momentum, 0.02), (Optimizer::Nesterov, 0.02), (Optimizer::Adam, 0.01)] {
            let (w, _) = train(&config(Loss::Mse, optimizer, lr), &x, &y, None, 1, 0).unwrap();
            for (a, b) in w.w.iter().chain(&w.b).zip(reference.w.iter().chain(&reference.b)) {
                assert!((a - b).abs() < 1e-6, "{optimizer:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn patience_stops_training_early() {
        let (x, y) = problem();
        let mut cfg = config(Loss::Mse, Optimizer::Gd, 0.2);
        cfg.tol = 1e-3;
        cfg.patience = 3;
        let (_, curve) = train(&cfg, &x, &y, None, 1, 0).unwrap();
        assert!(curve.train.len() < 100, "stopped after {} epochs", curve.train.len());
        let n = curve.train.len();
        // Each of the last patience + 1 epochs failed to beat the best before it by tol.
        for k in n - 4..n {
            let best_before = curve.train[..k].iter().cloned().fold(f64::INFINITY, f64::min);
            assert!(curve.train[k] > best_before - 1e-3, "epoch {k}");
        }
    }

    #[test]
    fn a_too_large_learning_rate_is_reported_as_divergence() {
        let (x, y) = problem();
        let err = train(&config(Loss::Mse, Optimizer::Gd, 50.0), &x, &y, None, 1, 0).unwrap_err();
        match err {
            FitError::Diverged { epoch, last_finite_loss, .. } => {
                assert!(epoch > 1);
                assert!(last_finite_loss.is_some_and(f64::is_finite));
            }
            other => panic!("expected divergence, got {other:?}"),
        }
    }

    #[test]
    fn minibatch_order_is_seeded() {
        let (x, y) = problem();
        let mut cfg = config(Loss::Huber(0.5), Optimizer::Minibatch, 0.05);
        cfg.epochs = 20;
        let a = train(&cfg, &x, &y, None, 1, 7).unwrap();
        let b = train(&cfg, &x, &y, None, 1, 7).unwrap();
        let c = train(&cfg, &x, &y, None, 1, 8).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.0, c.0);
    }

    #[test]
    fn penalised_gradients_match_finite_differences() {
        let (x, y) = problem();
        let classes: Vec<f64> = y.iter().map(|v| if *v > 1.0 { 1.0 } else { 0.0 }).collect();
        let softmax_y: Vec<f64> = y
            .iter()
            .map(|v| {
                if *v > 2.0 {
                    2.0
                } else if *v > 0.0 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        for (loss, targets, outputs) in [
            (Loss::Mse, &y, 1),
            (Loss::Huber(1.0), &y, 1),
            (Loss::LogLoss, &classes, 1),
            (Loss::Softmax, &softmax_y, 3),
        ] {
            let mut cfg = config(loss, Optimizer::Gd, 0.1);
            cfg.l1 = 0.03;
            cfg.l2 = 0.2;
            let mut params = Weights::zeros(outputs, 2);
            for (k, v) in params.w.iter_mut().enumerate() {
                *v = 0.37 * (k as f64 + 1.0) * if k % 2 == 0 { 1.0 } else { -1.0 };
            }
            let objective = |p: &Weights| {
                objective_and_gradient(&cfg, (&x, targets, None), None, p).0 + penalty(&cfg, p.w.as_slice().unwrap())
            };
            let (_, grad) = objective_and_gradient(&cfg, (&x, targets, None), None, &params);
            let h = 1e-6;
            for o in 0..outputs {
                for j in 0..2 {
                    let mut plus = params.clone();
                    plus.w[[o, j]] += h;
                    let mut minus = params.clone();
                    minus.w[[o, j]] -= h;
                    let numeric = (objective(&plus) - objective(&minus)) / (2.0 * h);
                    assert!(
                        (numeric - grad.w[[o, j]]).abs() < 1e-5,
                        "{loss:?} w[{o},{j}]: {numeric} vs {}",
                        grad.w[[o, j]]
                    );
                }
            }
        }
    }
}
