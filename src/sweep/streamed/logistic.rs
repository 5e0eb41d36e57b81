//! Logistic regression over the stream, with the in-memory solvers: Newton's method (two
//! classes, by default) reads its rows through `StreamedLogLoss`, one pass per Hessian and per
//! line-search trial; L-BFGS one pass per evaluation of the loss and gradient. A warm-start
//! path along C runs in order, as in memory.

use super::{Fit, Key, Keyed, Prep, Stream, Training};
use crate::data::stream::Batch;
use crate::data::Target;
use crate::kinds::Streamed;
use crate::models::logistic;
use crate::models::logistic::LogisticParams;
use crate::models::loss::{BlockedSums, Weights};
use crate::models::newton::{block_sums, LogLossSource, LogLossSums};
use crate::models::{FitError, Fitted};
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

impl Stream<'_> {
    /// Why a classifier cannot be fitted on a part: a class without training rows.
    pub(super) fn classes_missing(&self, training: &Training) -> Option<FitError> {
        let names = self.input.dataset.class_names();
        let absent = training.classes.iter().position(|&n| n == 0)?;
        let present = training.classes.iter().filter(|&&n| n > 0).count();
        if present < 2 {
            let name = training.classes.iter().position(|&n| n > 0).and_then(|c| names.get(c).cloned());
            return Some(FitError::OneClass(name.unwrap_or_default()));
        }
        Some(FitError::Solver(format!(
            "class `{}` has no rows in this fold's training part, so a multinomial model cannot learn it",
            names.get(absent).cloned().unwrap_or_default()
        )))
    }

    /// The logistic-regression units, each on its own passes and side by side; units on one
    /// warm-start path (`trial::paths`: C ascending, `path = true`) run in path order, each
    /// from the previous solution, as in memory. A path runs whole for any unit it holds.
    pub(super) fn logistic_paths(
        &self,
        units: Vec<(Key, LogisticParams, usize, usize)>,
        prep: &[Prep],
    ) -> Vec<Keyed<Fit>> {
        let wanted: BTreeMap<Key, (usize, usize)> =
            units.iter().map(|(k, _, rows, width)| (*k, (*rows, *width))).collect();
        let mut chains: Vec<(usize, Vec<usize>)> = Vec::new();
        for path in crate::trial::paths(self.input.trials) {
            for f in 0..self.slots.len() {
                if path.iter().any(|&t| wanted.contains_key(&(t, f))) {
                    chains.push((f, path.clone()));
                }
            }
        }
        chains
            .into_par_iter()
            .flat_map_iter(|(f, path)| {
                let Some(&(rows, width)) = path.iter().find_map(|&t| wanted.get(&(t, f))) else { return Vec::new() };
                let mut start = None;
                let mut out = Vec::new();
                for t in path {
                    let Streamed::Logistic(params) = self.input.trials[t].spec.streamed() else { continue };
                    let (fit, next) = self.logistic(f, params, rows, width, prep, start.take());
                    start = next;
                    if wanted.contains_key(&(t, f)) {
                        out.push(((t, f), fit));
                    }
                }
                out
            })
            .collect()
    }

    /// Logistic regression over the stream: scikit-learn's objective by the in-memory
    /// solvers, Newton's method (two classes, by default) or L-BFGS, from `start` (zero
    /// without), each evaluation of the loss and gradient one pass over slot `s`'s rows.
    /// The fit, and where the next point of a path starts.
    fn logistic(
        &self,
        s: usize,
        params: &LogisticParams,
        rows: usize,
        width: usize,
        prep: &[Prep],
        start: Option<logistic::Start>,
    ) -> (Fit, Option<logistic::Start>) {
        let classes = self.input.dataset.classes();
        let outputs = if classes == 2 { 1 } else { classes };
        let start = start.unwrap_or_else(|| logistic::Start::at(vec![0.0; outputs * (width + 1)]));
        if logistic::uses_newton(params.solver, classes, rows, width) {
            let source = StreamedLogLoss { rows: SlotRows::new(self, s, prep), failure: std::sync::Mutex::new(None) };
            let fit = logistic::fit_newton(params, &source, rows as f64, width, start.clone());
            if let Some(e) = source.failure.lock().ok().and_then(|mut f| f.take()) {
                return (Err(FitError::Solver(e)), None);
            }
            // As in memory, a Hessian that cannot be factored falls back to L-BFGS.
            if let Some((model, next)) = fit {
                return (Ok(model), Some(next));
            }
        }
        match self.logistic_lbfgs(s, params, rows, width, prep, start.theta) {
            Ok((model, theta)) => (Ok(model), Some(logistic::Start::at(theta))),
            Err(e) => (Err(e), None),
        }
    }

    /// L-BFGS over the stream from `theta`: the model and its parameters.
    fn logistic_lbfgs(
        &self,
        s: usize,
        params: &LogisticParams,
        rows: usize,
        width: usize,
        prep: &[Prep],
        theta: Vec<f64>,
    ) -> Result<(Box<dyn Fitted>, Vec<f64>), FitError> {
        let classes = self.input.dataset.classes();
        let loss = logistic::loss_of(classes);
        let order: Vec<usize> = (0..self.source().batches()).collect();
        let mut failure = None;
        // The training rows' sums in the in-memory blocks, whatever the batches: the same
        // evaluations bit for bit, so L-BFGS takes the loaded run's steps (an ill-conditioned
        // multinomial fit otherwise stops elsewhere within its tolerance).
        let fit_rows = SlotRows::new(self, s, prep);
        let data = |w: &Weights| {
            let mut sums = BlockedSums::new(w.outputs(), width);
            let read = self.pass("logistic regression", &order, |i, batch| {
                if let Some(r) = fit_rows.get(i, batch) {
                    sums.add(loss, &r.x, &r.y, &r.train, w);
                }
            });
            if let Err(e) = read {
                failure.get_or_insert(e);
            }
            sums.mean()
        };
        let fitted = logistic::fit_lbfgs(params, rows as f64, width, classes, theta, data);
        match failure {
            Some(e) => Err(FitError::Solver(e)),
            None => fitted,
        }
    }
}

/// A batch's rows as a logistic fit reads them: its design matrix under the slot's
/// preprocessing, the targets as numbers, and which rows train the slot.
struct FitRows {
    x: Array2<f64>,
    y: Vec<f64>,
    train: Vec<usize>,
}

/// One fit's `FitRows`, batch by batch: built on its first pass and kept for its later ones
/// (a fit takes hundreds of passes, and building them was most of a pass over kept batches)
/// while the source's budget of kept batches has room. Each pass still checks the file.
struct SlotRows<'a> {
    stream: &'a Stream<'a>,
    slot: usize,
    prep: &'a [Prep],
    kept: Mutex<Vec<Option<Arc<FitRows>>>>,
    bytes: AtomicU64,
}

impl<'a> SlotRows<'a> {
    fn new(stream: &'a Stream<'a>, slot: usize, prep: &'a [Prep]) -> Self {
        let kept = Mutex::new(vec![None; stream.source().batches()]);
        SlotRows { stream, slot, prep, kept, bytes: AtomicU64::new(0) }
    }

    /// Batch `i`'s rows, `None` when the slot has no preprocessing or the task no classes.
    fn get(&self, i: usize, batch: &Batch) -> Option<Arc<FitRows>> {
        if let Some(rows) = self.kept.lock().ok().and_then(|k| k.get(i).cloned().flatten()) {
            return Some(rows);
        }
        let s = self.stream;
        let Target::Classification { labels, .. } = &batch.target else { return None };
        let x = s.design(batch, self.prep, self.slot)?;
        let train = s.blocks_of(i, batch).parts(s.slots[self.slot]).1;
        let rows = Arc::new(FitRows { x, y: labels.iter().map(|&c| c as f64).collect(), train });
        let bytes = (8 * (rows.x.len() + rows.y.len() + rows.train.len())) as u64;
        if let (Ok(mut kept), true) = (self.kept.lock(), s.source().reserve(bytes)) {
            kept[i] = Some(Arc::clone(&rows));
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        Some(rows)
    }
}

impl Drop for SlotRows<'_> {
    fn drop(&mut self) {
        self.stream.source().release(*self.bytes.get_mut());
    }
}

/// A slot's training rows as Newton's method reads them: each evaluation one pass.
struct StreamedLogLoss<'a> {
    rows: SlotRows<'a>,
    failure: std::sync::Mutex<Option<String>>,
}

impl LogLossSource for StreamedLogLoss<'_> {
    fn sums(&self, theta: &[f64], hessian: bool) -> LogLossSums {
        let s = self.rows.stream;
        let d = theta.len() - 1;
        let mut total = (0.0, Array1::zeros(d + 1), hessian.then(|| Array2::zeros((d + 1, d + 1))), 0.0);
        let order: Vec<usize> = (0..s.source().batches()).collect();
        let read = s.pass("logistic regression (Newton)", &order, |i, batch| {
            let Some(r) = self.rows.get(i, batch) else { return };
            let (loss, grad, gram) = block_sums((&r.x, &r.y, None), &r.train, theta, hessian);
            total.0 += loss;
            total.1 += &grad;
            if let (Some(t), Some(g)) = (total.2.as_mut(), gram) {
                *t += &g;
            }
            total.3 += r.train.len() as f64;
        });
        if let Err(e) = read {
            if let Ok(mut f) = self.failure.lock() {
                f.get_or_insert(e);
            }
            total.0 = f64::NAN;
        }
        total
    }
}
