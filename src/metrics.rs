//! Metrics, as scikit-learn defines them. Pure functions of targets and predictions.

use crate::config::Metric;
use ndarray::Array2;

/// The predicted class of each row: the most probable, the first on ties (numpy's argmax).
pub fn predicted_classes(proba: &Array2<f64>) -> Vec<usize> {
    proba
        .rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (j, &p) in row.iter().enumerate() {
                if p > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// A regression metric of predictions `pred` against `y`, each row weighing `w` (1 without).
pub fn regression(metric: Metric, y: &[f64], pred: &[f64], w: Option<&[f64]>) -> f64 {
    // Only the sums the metric reads: one pass over the rows for mse (permutation importance
    // scores thousands of shuffles), each sum added as `of` adds it.
    let (sae, ss_tot) = (metric == Metric::Mae, metric == Metric::R2);
    RegressionSums::sums(y, pred, w, Wanted { sse: !sae, sae, ss_tot }).value(metric)
}

/// Which of [`RegressionSums`]' sums to add up (the others are NaN).
struct Wanted {
    sse: bool,
    sae: bool,
    ss_tot: bool,
}

/// The sums every regression metric follows from: Σ weight `n` (the row count when rows
/// weigh 1), Σ weighted squared and absolute residuals, r2's weighted total sum of squares,
/// and the number of `rows`. Taken from the rows here, from running sums in a streamed pass,
/// or from least-squares sums by the ridge shortcut.
#[derive(Debug, Clone, Copy)]
pub struct RegressionSums {
    pub n: f64,
    pub sse: f64,
    pub sae: f64,
    pub ss_tot: f64,
    pub rows: f64,
}

impl RegressionSums {
    /// The sums over the rows, r2's total sum of squares about the (weighted) mean (two
    /// passes), as scikit-learn's `np.average(..., weights=sample_weight)`.
    pub fn of(y: &[f64], pred: &[f64], w: Option<&[f64]>) -> RegressionSums {
        RegressionSums::sums(y, pred, w, Wanted { sse: true, sae: true, ss_tot: true })
    }

    fn sums(y: &[f64], pred: &[f64], w: Option<&[f64]>, wanted: Wanted) -> RegressionSums {
        let rows = y.len() as f64;
        // One pass; each accumulator adds in row order from -0.0, as `Iterator::sum` does: the same bits.
        // The mean only for r2's total sum of squares (the other sums never read it).
        let Some(w) = w else {
            let mean = if wanted.ss_tot { y.iter().sum::<f64>() / rows } else { 0.0 };
            let (mut sse, mut sae, mut ss_tot) = (-0.0, -0.0, -0.0);
            for (a, b) in y.iter().zip(pred) {
                sse += (a - b) * (a - b);
                sae += (a - b).abs();
                ss_tot += (a - mean) * (a - mean);
            }
            return RegressionSums { n: rows, sse, sae, ss_tot, rows }.only(wanted);
        };
        let n: f64 = w.iter().sum();
        let mean = if wanted.ss_tot { y.iter().zip(w).map(|(a, w)| w * a).sum::<f64>() / n } else { 0.0 };
        let (mut sse, mut sae, mut ss_tot) = (-0.0, -0.0, -0.0);
        for ((a, b), w) in y.iter().zip(pred).zip(w) {
            sse += w * (a - b) * (a - b);
            sae += w * (a - b).abs();
            ss_tot += w * (a - mean) * (a - mean);
        }
        RegressionSums { n, sse, sae, ss_tot, rows }.only(wanted)
    }

    /// The sums not wanted as NaN (one fused pass computes them all; none may be read).
    fn only(self, wanted: Wanted) -> RegressionSums {
        let keep = |want: bool, v: f64| if want { v } else { f64::NAN };
        RegressionSums {
            sse: keep(wanted.sse, self.sse),
            sae: keep(wanted.sae, self.sae),
            ss_tot: keep(wanted.ss_tot, self.ss_tot),
            ..self
        }
    }

    /// mse, rmse, mae or r2 (NaN for any other metric).
    pub fn value(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Mse => self.sse / self.n,
            Metric::Rmse => (self.sse / self.n).sqrt(),
            Metric::Mae => self.sae / self.n,
            Metric::R2 => r2_score(self.sse, self.ss_tot, self.rows),
            _ => f64::NAN,
        }
    }
}

/// The sums every classification metric but roc_auc follows from: the confusion matrix
/// `[true][predicted]` of summed row weights (counts when rows weigh 1), Σ weighted
/// log-loss, and which classes occur in the targets or predictions.
#[derive(Debug, Clone)]
pub struct ClassSums {
    pub confusion: Vec<Vec<f64>>,
    pub log_loss: f64,
    pub present: Vec<bool>,
}

impl ClassSums {
    pub fn new(classes: usize) -> ClassSums {
        ClassSums { confusion: vec![vec![0.0; classes]; classes], log_loss: 0.0, present: vec![false; classes] }
    }

    /// Adds rows `rows` of class labels `y`, probabilities `proba` and predicted classes
    /// `predicted`, each weighing `w[r]` (1 without).
    pub fn add(
        &mut self,
        y: &[usize],
        proba: &Array2<f64>,
        predicted: &[usize],
        w: Option<&[f64]>,
        rows: impl Iterator<Item = usize> + Clone,
    ) {
        let eps = f64::EPSILON;
        self.add_labels(y, predicted, w, rows.clone());
        for r in rows {
            let weight = w.map_or(1.0, |w| w[r]);
            self.log_loss -= weight * proba[[r, y[r]]].clamp(eps, 1.0 - eps).ln();
        }
    }

    /// [`ClassSums::add`] without the log-loss: what the metrics of labels read.
    fn add_labels(&mut self, y: &[usize], predicted: &[usize], w: Option<&[f64]>, rows: impl Iterator<Item = usize>) {
        for r in rows {
            self.confusion[y[r]][predicted[r]] += w.map_or(1.0, |w| w[r]);
            self.present[y[r]] = true;
            self.present[predicted[r]] = true;
        }
    }

    /// The confusion matrix as row counts (rows weigh 1 in a stream).
    pub fn counts(&self) -> Vec<Vec<usize>> {
        self.confusion.iter().map(|row| row.iter().map(|&c| c as usize).collect()).collect()
    }

    /// accuracy, precision, recall, f1 or log_loss (NaN for any other metric).
    pub fn value(&self, metric: Metric) -> f64 {
        let cm = &self.confusion;
        let n = cm.iter().flatten().sum::<f64>();
        match metric {
            Metric::Accuracy => (0..cm.len()).map(|c| cm[c][c]).sum::<f64>() / n,
            Metric::Precision | Metric::Recall | Metric::F1 => macro_average(metric, cm, &self.present),
            Metric::LogLoss => self.log_loss / n,
            _ => f64::NAN,
        }
    }
}

/// scikit-learn's r2_score from the residual and total sums of squares over `n` rows:
/// undefined (NaN) below two rows; `force_finite` for a constant target.
pub fn r2_score(ss_res: f64, ss_tot: f64, n: f64) -> f64 {
    if n < 2.0 {
        f64::NAN
    } else if ss_tot == 0.0 {
        if ss_res == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        1.0 - ss_res / ss_tot
    }
}

/// `counts[true][pred]`.
pub fn confusion_matrix(y: &[usize], pred: &[usize], n_classes: usize) -> Vec<Vec<usize>> {
    let mut m = vec![vec![0usize; n_classes]; n_classes];
    for (&t, &p) in y.iter().zip(pred) {
        m[t][p] += 1;
    }
    m
}

/// A classification metric of probabilities `proba` against class labels `y`, each row
/// weighing `w` (1 without).
pub fn classification(metric: Metric, y: &[usize], proba: &Array2<f64>, w: Option<&[f64]>) -> f64 {
    classification_many(&[metric], y, proba, w)[0]
}

/// [`classification`] of each of `metrics`, the sums all but roc_auc read added up once (a
/// unit's record scores every metric of both parts).
pub fn classification_many(metrics: &[Metric], y: &[usize], proba: &Array2<f64>, w: Option<&[f64]>) -> Vec<f64> {
    let mut sums: Option<ClassSums> = None;
    let mut value = |metric: Metric| {
        if metric == Metric::RocAuc {
            return match (proba.ncols(), w) {
                (2, None) => roc_auc(y, &proba.column(1).to_vec()),
                (2, Some(w)) => weighted_roc_auc(y, &proba.column(1).to_vec(), w),
                _ => f64::NAN,
            };
        }
        let sums = sums.get_or_insert_with(|| {
            let mut sums = ClassSums::new(proba.ncols());
            sums.add(y, proba, &predicted_classes(proba), w, 0..y.len());
            sums
        });
        sums.value(metric)
    };
    metrics.iter().map(|&m| value(m)).collect()
}

/// A metric of predicted labels (accuracy, precision, recall or f1; NaN for another) of
/// `classes` classes, as [`classification`] gives it of probabilities that pick those labels.
pub fn of_labels(metric: Metric, y: &[usize], predicted: &[usize], classes: usize, w: Option<&[f64]>) -> f64 {
    if !matches!(metric, Metric::Accuracy | Metric::Precision | Metric::Recall | Metric::F1) {
        return f64::NAN;
    }
    let mut sums = ClassSums::new(classes);
    sums.add_labels(y, predicted, w, 0..y.len());
    sums.value(metric)
}

/// Precision, recall or F1 from a confusion matrix `[true][predicted]` of summed weights:
/// the macro average over the labels `present` in y or the predictions, as scikit-learn.
pub fn macro_average(metric: Metric, cm: &[Vec<f64>], present: &[bool]) -> f64 {
    let labels: Vec<usize> = (0..cm.len()).filter(|&c| present[c]).collect();
    let per_class = labels.iter().map(|&c| {
        let tp = cm[c][c];
        let true_sum = cm[c].iter().sum::<f64>();
        let pred_sum = cm.iter().map(|r| r[c]).sum::<f64>();
        let (num, den) = match metric {
            Metric::Precision => (tp, pred_sum),
            Metric::Recall => (tp, true_sum),
            _ => (2.0 * tp, true_sum + pred_sum),
        };
        if den == 0.0 {
            0.0
        } else {
            num / den
        }
    });
    per_class.sum::<f64>() / labels.len() as f64
}

/// Area under the ROC curve by the rank statistic, ties counted half. NaN with one class.
fn roc_auc(y: &[usize], score: &[f64]) -> f64 {
    // (score, positive) pairs sorted in place: contiguous, unlike an order of indices. Rows of
    // equal score add the same rank, so their order among themselves does not matter.
    let mut sorted: Vec<(f64, bool)> = score.iter().zip(y).map(|(&s, &c)| (s, c == 1)).collect();
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1].0 == sorted[i].0 {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &(_, positive) in &sorted[i..=j] {
            if positive {
                rank_sum_pos += avg_rank;
            }
        }
        i = j + 1;
    }
    let n_pos = y.iter().filter(|&&c| c == 1).count() as f64;
    let n_neg = y.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    (rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// How two trials with means `a` and `b` of `metric` over their folds rank: `Less` when `a`
/// ranks first. The one rule of the leaderboard (`report::ranked`) and of the best trial the
/// sweep keeps models of (`after_sweep::kept`); equal means keep file order.
pub fn rank_order(metric: Metric, a: f64, b: f64) -> std::cmp::Ordering {
    let ord = a.total_cmp(&b);
    if metric.higher_is_better() {
        ord.reverse()
    } else {
        ord
    }
}

/// roc_auc with row weights: Σ over (positive, negative) pairs of their weights' product,
/// a tie counted half, over Σ positive weight × Σ negative weight (the area under
/// scikit-learn's weighted ROC curve). NaN without both classes.
fn weighted_roc_auc(y: &[usize], score: &[f64], w: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let (mut area, mut neg_below, mut pos_total) = (0.0, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        let (mut pos, mut neg) = (0.0, 0.0);
        for &k in &order[i..=j] {
            if y[k] == 1 {
                pos += w[k];
            } else {
                neg += w[k];
            }
        }
        area += pos * (neg_below + 0.5 * neg);
        neg_below += neg;
        pos_total += pos;
        i = j + 1;
    }
    if pos_total == 0.0 || neg_below == 0.0 {
        return f64::NAN;
    }
    area / (pos_total * neg_below)
}

/// Mean and population standard deviation (ddof 0) over folds.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// The Nadeau–Bengio corrected resampled t-test of paired per-fold scores `a` and `b`: the
/// two-sided p-value that their mean difference is zero, the variance of the differences
/// inflated by `1/k + n_test/n_train` for the overlap of the training parts. `None` with
/// fewer than two folds. Equal differences give p = 1 when they are zero, else 0.
pub fn corrected_t_test(a: &[f64], b: &[f64], test_train_ratio: f64) -> Option<f64> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let k = a.len();
    if k < 2 || b.len() != k {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = d.iter().sum::<f64>() / k as f64;
    let var = d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (k - 1) as f64;
    let corrected = var * (1.0 / k as f64 + test_train_ratio);
    if corrected.is_nan() || corrected <= 0.0 {
        return Some(if mean == 0.0 { 1.0 } else { 0.0 });
    }
    let t = mean / corrected.sqrt();
    let dist = StudentsT::new(0.0, 1.0, (k - 1) as f64).ok()?;
    Some((2.0 * dist.sf(t.abs())).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn regression_sums_in_one_pass_keep_separate_sums_bits() {
        let y: Vec<f64> = (0..999).map(|i| ((i * 7919) % 1013) as f64 / 7.0 - 50.0).collect();
        let p: Vec<f64> = y.iter().enumerate().map(|(i, v)| v * 0.9 + (i as f64).sin()).collect();
        let w: Vec<f64> = (0..999).map(|i| (i % 5) as f64 * 0.3).collect();
        let mean = y.iter().sum::<f64>() / 999.0;
        let s = RegressionSums::of(&y, &p, None);
        assert_eq!(s.sse.to_bits(), y.iter().zip(&p).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().to_bits());
        assert_eq!(s.sae.to_bits(), y.iter().zip(&p).map(|(a, b)| (a - b).abs()).sum::<f64>().to_bits());
        assert_eq!(s.ss_tot.to_bits(), y.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>().to_bits());
        let s = RegressionSums::of(&y, &p, Some(&w));
        let wmean = y.iter().zip(&w).map(|(a, w)| w * a).sum::<f64>() / w.iter().sum::<f64>();
        let rows = || y.iter().zip(&p).zip(&w);
        assert_eq!(s.sse.to_bits(), rows().map(|((a, b), w)| w * (a - b) * (a - b)).sum::<f64>().to_bits());
        assert_eq!(s.sae.to_bits(), rows().map(|((a, b), w)| w * (a - b).abs()).sum::<f64>().to_bits());
        let ss_tot: f64 = y.iter().zip(&w).map(|(a, w)| w * (a - wmean) * (a - wmean)).sum();
        assert_eq!(s.ss_tot.to_bits(), ss_tot.to_bits());
        assert_eq!(RegressionSums::of(&[], &[], None).sse.to_bits(), [0.0f64; 0].iter().sum::<f64>().to_bits());
    }

    #[test]
    fn regression_metrics_match_hand_computation() {
        let y = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        assert_eq!(regression(Metric::Mse, &y, &p, None), 0.375);
        assert_eq!(regression(Metric::Mae, &y, &p, None), 0.5);
        // sklearn.metrics.r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
        assert!((regression(Metric::R2, &y, &p, None) - 0.9486081370449679).abs() < 1e-15);
    }

    #[test]
    fn macro_scores_skip_labels_never_seen() {
        // y = [0, 1, 1, 0], pred = [0, 1, 0, 0]; class 2 absent from both.
        let proba = array![[0.9, 0.1, 0.0], [0.2, 0.8, 0.0], [0.6, 0.4, 0.0], [0.7, 0.3, 0.0]];
        let y = [0, 1, 1, 0];
        assert_eq!(classification(Metric::Accuracy, &y, &proba, None), 0.75);
        // precision: class 0 = 2/3, class 1 = 1 → 5/6; recall: 1, 1/2 → 3/4
        assert!((classification(Metric::Precision, &y, &proba, None) - 5.0 / 6.0).abs() < 1e-15);
        assert!((classification(Metric::Recall, &y, &proba, None) - 0.75).abs() < 1e-15);
        // f1: 2·2/(2+3) = 0.8 and 2·1/(2+1) = 2/3
        assert!((classification(Metric::F1, &y, &proba, None) - (0.8 + 2.0 / 3.0) / 2.0).abs() < 1e-15);
    }

    #[test]
    fn roc_auc_counts_ties_as_half() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assert_eq!(roc_auc(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]), 0.75);
        assert_eq!(roc_auc(&[0, 1], &[0.5, 0.5]), 0.5);
        assert!(roc_auc(&[1, 1], &[0.5, 0.5]).is_nan());
    }

    #[test]
    fn roc_auc_is_the_share_of_ordered_pairs_with_ties_in_any_order() {
        let score: Vec<f64> = (0..600).map(|i| ((i * 37) % 11) as f64 / 10.0 - 0.5).collect();
        let y: Vec<usize> = (0..600).map(|i| usize::from((i * 13) % 7 < 3)).collect();
        let (mut pairs, mut won) = (0.0, 0.0);
        for (a, &ya) in y.iter().enumerate() {
            for (b, &yb) in y.iter().enumerate() {
                if ya == 1 && yb == 0 {
                    pairs += 1.0;
                    won += if score[a] > score[b] {
                        1.0
                    } else if score[a] == score[b] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        assert!((roc_auc(&y, &score) - won / pairs).abs() < 1e-15);
        // -0.0 and 0.0 tie.
        assert_eq!(roc_auc(&[1, 0, 1, 0], &[-0.0, 0.0, 0.0, -1.0]), 0.75);
    }

    #[test]
    fn weighted_metrics_are_scikit_learns_and_weight_one_changes_nothing() {
        let (y, p, w) = ([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0], [1.0, 2.0, 0.0, 0.5]);
        // sklearn.metrics.mean_squared_error / mean_absolute_error / r2_score(..., sample_weight=w)
        assert!((regression(Metric::Mse, &y, &p, Some(&w)) - 0.35714285714285715).abs() < 1e-15);
        assert!((regression(Metric::Mae, &y, &p, Some(&w)) - 0.5714285714285714).abs() < 1e-15);
        assert!((regression(Metric::R2, &y, &p, Some(&w)) - 0.9507042253521126).abs() < 1e-14);
        let ones = [1.0; 4];
        for m in [Metric::Mse, Metric::Rmse, Metric::Mae, Metric::R2] {
            assert_eq!(regression(m, &y, &p, Some(&ones)).to_bits(), regression(m, &y, &p, None).to_bits());
        }
        let proba = array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.45, 0.55]];
        let (y, w) = ([0, 1, 1, 0, 1], [1.0, 2.0, 0.5, 3.0, 1.0]);
        // accuracy_score, f1_score(average="macro"), log_loss, roc_auc_score with sample_weight=w
        let want = [
            (Metric::Accuracy, 0.5333333333333333),
            (Metric::F1, 0.49760765550239233),
            (Metric::LogLoss, 0.6959397863942337),
            (Metric::RocAuc, 0.6785714285714286),
        ];
        for (m, v) in want {
            let ours = classification(m, &y, &proba, Some(&w));
            assert!((ours - v).abs() < 1e-12, "{m:?}: {ours} vs {v}");
        }
        for m in [Metric::Accuracy, Metric::Precision, Metric::Recall, Metric::F1, Metric::LogLoss] {
            let (a, b) = (classification(m, &y, &proba, Some(&[1.0; 5])), classification(m, &y, &proba, None));
            assert_eq!(a.to_bits(), b.to_bits(), "{m:?}");
        }
    }

    #[test]
    fn std_is_population_std() {
        assert_eq!(mean_std(&[1.0, 3.0]), (2.0, 1.0));
    }
}
