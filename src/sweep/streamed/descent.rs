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
//! The epochs are `gd::Epochs`, the in-memory loop's own state machine (optimizer, starting
//! loss, loss curve, divergence, `tol`/`patience`); this file only feeds it a pass's batches.

use crate::models::gd::{batch_rows, objective_and_gradient, penalty, unpack, Epochs, GdConfig, GdModel};
use crate::models::loss::{mean_loss, Weights};
use crate::models::{FitError, Head};
use crate::random::RandomState;
use ndarray::Array2;

/// One (trial, fold) trained over the stream.
pub struct GdUnit {
    epochs: Epochs,
    head: Head,
    outputs: usize,
    features: usize,
    rng: RandomState,
    batch: usize,
    n_train: f64,
    /// The starting-loss pass's summed data loss.
    start_sum: f64,
    /// Full batch: this epoch's summed gradient.
    gradient: Vec<f64>,
}

impl GdUnit {
    pub fn new(cfg: GdConfig, outputs: usize, head: Head, features: usize, n_train: usize, seed: u32) -> GdUnit {
        let p = outputs * (features + 1);
        GdUnit {
            batch: batch_rows(&cfg, n_train),
            epochs: Epochs::new(&cfg, vec![0.0; p], n_train),
            head,
            outputs,
            features,
            rng: RandomState::new(seed),
            n_train: n_train as f64,
            start_sum: 0.0,
            gradient: vec![0.0; p],
        }
    }

    fn cfg(&self) -> &GdConfig {
        self.epochs.cfg()
    }

    /// Whether every update comes from the whole training part (one step per epoch).
    pub fn full_batch(&self) -> bool {
        self.batch as f64 >= self.n_train
    }

    /// The starting loss must be known before a mini-batch epoch steps: a pass adds it.
    pub fn needs_start_loss(&self) -> bool {
        !self.epochs.knows_start_loss() && !self.full_batch()
    }

    /// Stops the unit with `e`.
    pub fn fail(&mut self, e: FitError) {
        self.epochs.fail(e);
    }

    pub fn done(&self) -> bool {
        self.epochs.done()
    }

    fn weights(&self) -> Weights {
        unpack(&self.epochs.params, self.outputs, self.features)
    }

    /// Adds the loss at the starting weights over a batch's training rows.
    pub fn add_start_loss(&mut self, x: &Array2<f64>, y: &[f64], rows: &[usize]) {
        self.start_sum += mean_loss(self.cfg().loss, x, y, rows, None, &self.weights()) * rows.len() as f64;
    }

    /// Ends the starting-loss pass.
    pub fn finish_start_loss(&mut self) {
        let objective = self.start_sum / self.n_train + self.penalty();
        self.epochs.set_start_loss(objective);
    }

    /// One batch's training rows `rows` of design matrix `x` and targets `y`.
    pub fn add_batch(&mut self, x: &Array2<f64>, y: &[f64], rows: &[usize]) {
        if self.done() || rows.is_empty() {
            return;
        }
        if self.full_batch() {
            let (loss, grad) = objective_and_gradient(self.cfg(), (x, y, None), Some(rows), &self.weights());
            if self.epochs.add_loss(loss, rows.len()) {
                let share = rows.len() as f64;
                let grad = self.flat(grad);
                for (g, v) in self.gradient.iter_mut().zip(grad) {
                    *g += v * share;
                }
            }
            return;
        }
        let mut order = rows.to_vec();
        self.rng.shuffle(&mut order);
        for chunk in order.chunks(self.batch) {
            let (loss, grad) = objective_and_gradient(self.cfg(), (x, y, None), Some(chunk), &self.weights());
            if !self.epochs.add_loss(loss, chunk.len()) {
                return;
            }
            let grad = self.flat(grad);
            self.epochs.step(&grad);
        }
    }

    /// The gradient as the flat parameter vector lays it out (no intercept: zeros).
    fn flat(&self, grad: Weights) -> Vec<f64> {
        let mut flat: Vec<f64> = grad.w.iter().copied().collect();
        if self.cfg().fit_intercept {
            flat.extend_from_slice(&grad.b);
        } else {
            flat.extend(std::iter::repeat_n(0.0, self.outputs));
        }
        flat
    }

    /// Ends an epoch: full batch, its one step (the loss before it is the starting loss, as
    /// in memory); then the epoch's end in `Epochs`.
    pub fn end_epoch(&mut self) {
        if self.done() {
            return;
        }
        if self.full_batch() {
            let data = self.epochs.mean_data_loss();
            self.epochs.set_start_loss(data + self.penalty());
            let grad: Vec<f64> = self.gradient.iter().map(|g| g / self.n_train).collect();
            self.epochs.step(&grad);
            self.gradient.iter_mut().for_each(|g| *g = 0.0);
        }
        let penalty = self.penalty();
        self.epochs.end_epoch(penalty, None);
    }

    /// The penalty at the current weights (intercepts are not penalised).
    fn penalty(&self) -> f64 {
        penalty(self.cfg(), &self.epochs.params[..self.outputs * self.features])
    }

    pub fn into_model(self) -> Result<GdModel, FitError> {
        let (head, outputs, features) = (self.head, self.outputs, self.features);
        let (params, curve) = self.epochs.finish()?;
        Ok(GdModel::new(unpack(&params, outputs, features), head, curve))
    }
}
