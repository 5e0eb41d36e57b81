//! Metrics from running sums: each unit's test and training rows are scored batch by batch,
//! and the sums give scikit-learn's metrics (as `metrics.rs` defines them) at the end.

use crate::config::Metric;
use crate::data::Target;
use crate::metrics::{self, macro_average};
use crate::models::Prediction;
use std::collections::BTreeMap;

/// One side's (test or training) running sums.
#[derive(Debug, Clone)]
pub enum Tally {
    /// Targets shifted by the target mean for `sy`, `syy` (r2's total sum of squares).
    Regression {
        n: f64,
        sse: f64,
        sae: f64,
        sy: f64,
        syy: f64,
        shift: f64,
    },
    Classes {
        confusion: Vec<Vec<usize>>,
        log_loss: f64,
    },
}

impl Tally {
    pub fn new(classes: usize, shift: f64) -> Tally {
        if classes == 0 {
            Tally::Regression { n: 0.0, sse: 0.0, sae: 0.0, sy: 0.0, syy: 0.0, shift }
        } else {
            Tally::Classes { confusion: vec![vec![0; classes]; classes], log_loss: 0.0 }
        }
    }

    /// Adds the batch rows `rows` of target `y` and prediction `p`.
    pub fn add(&mut self, y: &Target, p: &Prediction, rows: &[usize]) {
        match (self, y, p) {
            (Tally::Regression { n, sse, sae, sy, syy, shift }, Target::Regression(y), Prediction::Values(p)) => {
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
            (
                Tally::Classes { confusion, log_loss },
                Target::Classification { labels, .. },
                Prediction::Probabilities(p),
            ) => {
                let predicted = metrics::predicted_classes(p);
                let eps = f64::EPSILON;
                for &r in rows {
                    confusion[labels[r]][predicted[r]] += 1;
                    *log_loss -= p[[r, labels[r]]].clamp(eps, 1.0 - eps).ln();
                }
            }
            _ => {}
        }
    }

    pub fn confusion(&self) -> Option<Vec<Vec<usize>>> {
        match self {
            Tally::Classes { confusion, .. } => Some(confusion.clone()),
            Tally::Regression { .. } => None,
        }
    }

    /// The metrics, `None` where undefined or not finite (as the in-memory sweep records them).
    pub fn values(&self, wanted: &[Metric]) -> BTreeMap<Metric, Option<f64>> {
        wanted.iter().map(|&m| (m, Some(self.value(m)).filter(|v| v.is_finite()))).collect()
    }

    fn value(&self, metric: Metric) -> f64 {
        match self {
            &Tally::Regression { n, sse, sae, sy, syy, .. } => match metric {
                Metric::Mse => sse / n,
                Metric::Rmse => (sse / n).sqrt(),
                Metric::Mae => sae / n,
                Metric::R2 => metrics::r2_score(sse, syy - sy * sy / n, n),
                _ => f64::NAN,
            },
            Tally::Classes { confusion, log_loss } => {
                let n = confusion.iter().flatten().sum::<usize>() as f64;
                match metric {
                    Metric::Accuracy => (0..confusion.len()).map(|c| confusion[c][c]).sum::<usize>() as f64 / n,
                    Metric::Precision | Metric::Recall | Metric::F1 => macro_average(metric, confusion),
                    Metric::LogLoss => log_loss / n,
                    _ => f64::NAN,
                }
            }
        }
    }
}
