//! Metrics from running sums: each unit's test and training rows are scored batch by batch
//! into `metrics::RegressionSums` / `metrics::ClassSums`, whose metrics are `metrics.rs`'s own.

use crate::config::Metric;
use crate::data::stream::Batch;
use crate::data::Target;
use crate::metrics::{self, ClassSums, RegressionSums};
use crate::models::Prediction;
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// One side's (test or training) running metric sums.
#[derive(Debug, Clone)]
pub enum SideSums {
    /// Targets shifted by the target mean `shift`.
    Regression {
        sums: Residuals,
        shift: f64,
    },
    Classes(ClassSums),
}

/// A regression side's sums: rows, squared and absolute residuals, and the targets shifted
/// by the target mean (r2's total sum of squares).
#[derive(Debug, Clone, Copy, Default)]
pub struct Residuals {
    n: f64,
    sse: f64,
    sae: f64,
    sy: f64,
    syy: f64,
}

impl Residuals {
    /// One row: its shifted target `d` and its residual `e`.
    fn add(&mut self, d: f64, e: f64) {
        self.n += 1.0;
        self.sse += e * e;
        self.sae += e.abs();
        self.sy += d;
        self.syy += d * d;
    }

    fn merge(&mut self, o: &Residuals) {
        self.n += o.n;
        self.sse += o.sse;
        self.sae += o.sae;
        self.sy += o.sy;
        self.syy += o.syy;
    }
}

impl SideSums {
    pub fn new(classes: usize, shift: f64) -> SideSums {
        if classes == 0 {
            SideSums::Regression { sums: Residuals::default(), shift }
        } else {
            SideSums::Classes(ClassSums::new(classes))
        }
    }

    /// Adds the batch rows `rows` of target `y` and prediction `p`.
    pub fn add(&mut self, y: &Target, p: &Prediction, rows: &[usize]) {
        match (self, y, p) {
            (SideSums::Regression { sums, shift }, Target::Regression(y), Prediction::Values(p)) => {
                for &r in rows {
                    sums.add(y[r] - *shift, y[r] - p[r]);
                }
            }
            (SideSums::Classes(sums), Target::Classification { labels, .. }, Prediction::Probabilities(p)) => {
                sums.add(labels, p, &metrics::predicted_classes(p), None, rows.iter().copied());
            }
            _ => {}
        }
    }

    /// Adds a regression side's sums taken elsewhere (`PartsScores`).
    pub fn merge(&mut self, o: &Residuals) {
        if let SideSums::Regression { sums, .. } = self {
            sums.merge(o);
        }
    }

    pub fn confusion(&self) -> Option<Vec<Vec<usize>>> {
        match self {
            SideSums::Classes(sums) => Some(sums.counts()),
            SideSums::Regression { .. } => None,
        }
    }

    /// The metrics, `None` where undefined or not finite (as the in-memory sweep records them).
    pub fn values(&self, wanted: &[Metric]) -> BTreeMap<Metric, Option<f64>> {
        wanted.iter().map(|&m| (m, Some(self.value(m)).filter(|v| v.is_finite()))).collect()
    }

    fn value(&self, metric: Metric) -> f64 {
        match self {
            &SideSums::Regression { sums: Residuals { n, sse, sae, sy, syy }, .. } => {
                RegressionSums { n, sse, sae, ss_tot: syy - sy * sy / n, rows: n }.value(metric)
            }
            SideSums::Classes(sums) => sums.value(metric),
        }
    }
}

/// Least-squares and ridge units scored from a batch's shifted raw parts `ũ` (`Layout`, or a
/// step setting's columns), with
/// no design matrix: unit `k` predicts `shift_y + c0[k] + ũ·v[:, k]`, its design-space model
/// mapped back (`stats::shifted_predictor`). One matrix product per piece of rows gives every
/// unit's predictions, each a sum over its own weights alone (in the same order for any
/// other units), so a unit's numbers do not depend on which units are scored with it.
pub struct PartsScores {
    c0: Vec<f64>,
    /// parts × units.
    v: Array2<f64>,
    /// The block each unit holds out (its test rows); `None`: every row trains it.
    held_out: Vec<Option<usize>>,
}

/// Rows scored at a time (one piece of parallel work).
const PIECE: usize = 4096;

impl PartsScores {
    /// Units `(c0, v, held-out block)` over `width` parts.
    pub fn new(units: &[(f64, Array1<f64>, Option<usize>)], width: usize) -> PartsScores {
        let mut v = Array2::zeros((width, units.len()));
        for (mut column, (_, w, _)) in v.columns_mut().into_iter().zip(units) {
            column.assign(w);
        }
        let c0 = units.iter().map(|u| u.0).collect();
        PartsScores { c0, v, held_out: units.iter().map(|u| u.2).collect() }
    }

    /// A batch's (test, training) residual sums of each unit (`shift_y`: the target's shift;
    /// `parts(a, z)`: the shifted parts of the batch's rows `a..z`, `None` when it has none);
    /// pieces of rows in parallel, added in order.
    pub fn batch(
        &self,
        parts: &(dyn Fn(usize, usize) -> Option<Array2<f64>> + Sync),
        batch: &Batch,
        block_of: &[u8],
        shift_y: f64,
    ) -> Option<Vec<[Residuals; 2]>> {
        let units = self.c0.len();
        let Target::Regression(y) = &batch.target else { return Some(vec![[Residuals::default(); 2]; units]) };
        let starts: Vec<usize> = (0..batch.rows()).step_by(PIECE).collect();
        let pieces: Option<Vec<Vec<[Residuals; 2]>>> = starts
            .par_iter()
            .map(|&a| {
                let rows: Vec<usize> = (a..batch.rows().min(a + PIECE)).collect();
                let predictions = parts(a, a + rows.len())?.dot(&self.v);
                let mut sums = vec![[Residuals::default(); 2]; units];
                for (p, &r) in predictions.rows().into_iter().zip(&rows) {
                    let (d, block) = (y[r] - shift_y, Some(usize::from(block_of[r])));
                    for (k, (p, sums)) in p.iter().zip(&mut sums).enumerate() {
                        sums[usize::from(self.held_out[k] != block)].add(d, d - (self.c0[k] + p));
                    }
                }
                Some(sums)
            })
            .collect();
        let mut total = vec![[Residuals::default(); 2]; units];
        for piece in &pieces? {
            for (t, p) in total.iter_mut().zip(piece) {
                t[0].merge(&p[0]);
                t[1].merge(&p[1]);
            }
        }
        Some(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    /// Sums added batch by batch give the in-memory metrics (`metrics.rs`'s own formulas).
    #[test]
    fn running_sums_give_the_in_memory_metrics() {
        let y = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        let mut sums = SideSums::new(0, 2.0);
        let (target, prediction) = (Target::Regression(y.to_vec()), Prediction::Values(Array1::from(p.to_vec())));
        sums.add(&target, &prediction, &[0, 1]);
        sums.add(&target, &prediction, &[2, 3]);
        for m in [Metric::Mse, Metric::Rmse, Metric::Mae, Metric::R2] {
            let (ours, theirs) = (sums.value(m), metrics::regression(m, &y, &p, None));
            assert!((ours - theirs).abs() <= 1e-15 * theirs.abs(), "{m:?}: {ours} vs {theirs}");
        }
        let proba = array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]];
        let labels = vec![0, 1, 1, 0];
        let target = Target::Classification { labels: labels.clone(), classes: vec!["a".into(), "b".into()] };
        let mut sums = SideSums::new(2, 0.0);
        sums.add(&target, &Prediction::Probabilities(proba.clone()), &[0, 1, 2, 3]);
        for m in [Metric::Accuracy, Metric::Precision, Metric::Recall, Metric::F1, Metric::LogLoss] {
            assert_eq!(sums.value(m), metrics::classification(m, &labels, &proba, None), "{m:?}");
        }
    }
}
