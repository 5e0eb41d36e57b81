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
                sums.add(labels, p, &metrics::predicted_classes(p), rows.iter().copied());
            }
            _ => {}
        }
    }

    pub fn confusion(&self) -> Option<Vec<Vec<usize>>> {
        match self {
            SideSums::Classes(sums) => Some(sums.confusion.clone()),
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
                RegressionSums { n, sse, sae, ss_tot: syy - sy * sy / n }.value(metric)
            }
            SideSums::Classes(sums) => sums.value(metric),
        }
    }
}
