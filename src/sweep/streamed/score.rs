//! Metrics from running sums: each unit's test and training rows are scored batch by batch
//! into `metrics::RegressionSums` / `metrics::ClassSums`, whose metrics are `metrics.rs`'s own.

use crate::config::Metric;
use crate::data::Target;
use crate::metrics::{self, ClassSums, RegressionSums};
use crate::models::Prediction;
use std::collections::BTreeMap;

/// One side's (test or training) running metric sums.
#[derive(Debug, Clone)]
pub enum SideSums {
    /// Targets shifted by the target mean for `sy`, `syy` (r2's total sum of squares).
    Regression {
        n: f64,
        sse: f64,
        sae: f64,
        sy: f64,
        syy: f64,
        shift: f64,
    },
    Classes(ClassSums),
}

impl SideSums {
    pub fn new(classes: usize, shift: f64) -> SideSums {
        if classes == 0 {
            SideSums::Regression { n: 0.0, sse: 0.0, sae: 0.0, sy: 0.0, syy: 0.0, shift }
        } else {
            SideSums::Classes(ClassSums::new(classes))
        }
    }

    /// Adds the batch rows `rows` of target `y` and prediction `p`.
    pub fn add(&mut self, y: &Target, p: &Prediction, rows: &[usize]) {
        match (self, y, p) {
            (SideSums::Regression { n, sse, sae, sy, syy, shift }, Target::Regression(y), Prediction::Values(p)) => {
                for &r in rows {
                    let e = y[r] - p[r];
                    let d = y[r] - *shift;
                    *n += 1.0;
                    *sse += e * e;
                    *sae += e.abs();
                    *sy += d;
                    *syy += d * d;
                }
            }
            (SideSums::Classes(sums), Target::Classification { labels, .. }, Prediction::Probabilities(p)) => {
                sums.add(labels, p, &metrics::predicted_classes(p), None, rows.iter().copied());
            }
            _ => {}
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
            &SideSums::Regression { n, sse, sae, sy, syy, .. } => {
                RegressionSums { n, sse, sae, ss_tot: syy - sy * sy / n, rows: n }.value(metric)
            }
            SideSums::Classes(sums) => sums.value(metric),
        }
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
