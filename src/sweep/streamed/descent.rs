//! The gradient-descent trainers over a stream: one pass over the training rows per epoch.
//!
//! - Full batch (`gd`): each batch adds its share of the loss and gradient; one step ends
//!   the epoch. The same steps as in memory, up to the order of the sums.
//! - Mini-batches (`sgd`, `minibatch`, `momentum`, `nesterov`, `adam`): the data cannot be
//!   permuted as a whole, so each epoch reads the batches in a shuffled order (drawn from
//!   the experiment seed and the epoch, shared by every unit of the pass) and each unit
//!   shuffles the rows within a batch (from its own seed of trial and fold) before cutting
//!   them into mini-batches; a batch's last mini-batch may be short. This is not the
//!   in-memory order, so mini-batch runs differ from in-memory ones (as two seeds do).
//!
//! The epoch bookkeeping (loss curve, `gd::Patience`, `gd::blew_up`) is the in-memory loop's own.

use crate::models::gd::{
    batch_rows, blew_up, objective_and_gradient, penalty, step, GdConfig, GdModel, OptimizerState, Patience,
};
use crate::models::loss::{mean_loss, Weights};
use crate::models::{FitError, Head, LossCurve};
use crate::random::RandomState;
use ndarray::Array2;

/// One (trial, fold) trained over the stream.
pub struct GdUnit {
    cfg: GdConfig,
    head: Head,
    outputs: usize,
    features: usize,
    params: Vec<f64>,
    state: OptimizerState,
    rng: RandomState,
    batch: usize,
    n_train: f64,
    curve: LossCurve,
    start_loss: Option<f64>,
    patience: Patience,
    epoch: usize,
    /// This epoch's summed data loss (and, full batch, summed gradient).
    data_loss: f64,
    gradient: Vec<f64>,
    outcome: Option<Result<(), FitError>>,
}

impl GdUnit {
    pub fn new(cfg: GdConfig, outputs: usize, head: Head, features: usize, n_train: usize, seed: u32) -> GdUnit {
        let p = outputs * (features + 1);
        GdUnit {
            batch: batch_rows(&cfg, n_train),
            cfg,
            head,
            outputs,
            features,
            params: vec![0.0; p],
            state: OptimizerState::new(p),
            rng: RandomState::new(seed),
            n_train: n_train as f64,
            curve: LossCurve { train: Vec::new(), validation: None },
            start_loss: None,
            patience: Patience::new(),
            epoch: 1,
            data_loss: 0.0,
            gradient: vec![0.0; p],
            outcome: None,
        }
    }

    /// Whether every update comes from the whole training part (one step per epoch).
    pub fn full_batch(&self) -> bool {
        self.batch as f64 >= self.n_train
    }

    /// The starting loss must be known before a mini-batch epoch steps: a pass adds it.
    pub fn needs_start_loss(&self) -> bool {
        self.start_loss.is_none() && !self.full_batch()
    }

    /// Stops the unit with `e`.
    pub fn fail(&mut self, e: FitError) {
        self.outcome = Some(Err(e));
    }

    pub fn done(&self) -> bool {
        self.outcome.is_some()
    }

    fn weights(&self) -> Weights {
        let d = self.features;
        let w = Array2::from_shape_vec((self.outputs, d), self.params[..self.outputs * d].to_vec())
            .unwrap_or_else(|_| Array2::zeros((self.outputs, d)));
        Weights { w, b: self.params[self.outputs * d..].to_vec() }
    }

    /// Adds the loss at the starting weights over a batch's training rows.
    pub fn add_start_loss(&mut self, x: &Array2<f64>, y: &[f64], rows: &[usize]) {
        self.data_loss += mean_loss(self.cfg.loss, x, y, rows, &self.weights()) * rows.len() as f64;
    }

    /// Ends the starting-loss pass.
    pub fn finish_start_loss(&mut self) {
        self.start_loss = Some((self.data_loss / self.n_train + self.penalty()).max(1e-12));
        self.data_loss = 0.0;
    }

    /// One batch's training rows `rows` of design matrix `x` and targets `y`.
    pub fn add_batch(&mut self, x: &Array2<f64>, y: &[f64], rows: &[usize]) {
        if self.done() || rows.is_empty() {
            return;
        }
        if self.full_batch() {
            let (loss, grad) = objective_and_gradient(&self.cfg, x, y, Some(rows), &self.weights());
            let share = rows.len() as f64;
            self.data_loss += loss * share;
            let grad = self.flat(grad);
            for (g, v) in self.gradient.iter_mut().zip(grad) {
                *g += v * share;
            }
            return;
        }
        let mut order = rows.to_vec();
        self.rng.shuffle(&mut order);
        for chunk in order.chunks(self.batch) {
            let (loss, grad) = objective_and_gradient(&self.cfg, x, y, Some(chunk), &self.weights());
            if !loss.is_finite() {
                self.outcome = Some(Err(self.diverged()));
                return;
            }
            self.data_loss += loss * chunk.len() as f64;
            let grad = self.flat(grad);
            step(&self.cfg, &mut self.state, &mut self.params, &grad);
        }
    }

    /// The gradient as the flat parameter vector lays it out (no intercept: zeros).
    fn flat(&self, grad: Weights) -> Vec<f64> {
        let mut flat: Vec<f64> = grad.w.iter().copied().collect();
        if self.cfg.fit_intercept {
            flat.extend_from_slice(&grad.b);
        } else {
            flat.extend(std::iter::repeat_n(0.0, self.outputs));
        }
        flat
    }

    fn diverged(&self) -> FitError {
        FitError::Diverged {
            epoch: self.epoch,
            last_finite_loss: self.curve.train.last().copied(),
            learning_rate: self.cfg.learning_rate,
        }
    }

    /// Ends an epoch: the full-batch step, the loss curve, divergence and `tol`/`patience`.
    pub fn end_epoch(&mut self) {
        if self.done() {
            return;
        }
        if self.full_batch() {
            let data = self.data_loss / self.n_train;
            if !data.is_finite() {
                self.outcome = Some(Err(self.diverged()));
                return;
            }
            // The loss before the first step is the starting loss, as in memory.
            self.start_loss.get_or_insert((data + self.penalty()).max(1e-12));
            let grad: Vec<f64> = self.gradient.iter().map(|g| g / self.n_train).collect();
            step(&self.cfg, &mut self.state, &mut self.params, &grad);
            self.gradient.iter_mut().for_each(|g| *g = 0.0);
        }
        let epoch_loss = self.data_loss / self.n_train + self.penalty();
        self.data_loss = 0.0;
        if blew_up(epoch_loss, &self.params, self.start_loss.unwrap_or(f64::INFINITY)) {
            self.outcome = Some(Err(self.diverged()));
            return;
        }
        self.curve.train.push(epoch_loss);
        let (_, stop) = self.patience.after(&self.cfg, epoch_loss);
        if stop || self.epoch >= self.cfg.epochs {
            self.outcome = Some(Ok(()));
        }
        self.epoch += 1;
    }

    /// The penalty at the current weights (intercepts are not penalised).
    fn penalty(&self) -> f64 {
        penalty(&self.cfg, &self.params[..self.outputs * self.features])
    }

    pub fn into_model(self) -> Result<GdModel, FitError> {
        match self.outcome {
            Some(Err(e)) => Err(e),
            _ => Ok(GdModel::new(self.weights(), self.head, self.curve)),
        }
    }
}
