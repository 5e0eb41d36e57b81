//! The losses of scikit-learn's HGB as `sklearn/_loss` computes them: the baseline
//! (`fit_intercept_only`), float32 gradients and hessians from float64 raw predictions, and
//! the mean loss early stopping watches.

use super::numeric::average;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// `HalfSquaredError`: hessians are constant (all 1) without sample weights.
    SquaredError,
    /// `AbsoluteError`: the gradient's sign, hessians 1 (the weights with sample weights); not
    /// differentiable, so each leaf is then set to the (weighted) median of its residuals.
    AbsoluteError,
    /// `HalfBinomialLoss` (one tree per iteration).
    Binomial,
    /// `HalfMultinomialLoss` over this many classes (one tree per class per iteration).
    Multinomial(usize),
}

impl Loss {
    pub fn n_trees(self) -> usize {
        match self {
            Loss::Multinomial(k) => k,
            _ => 1,
        }
    }

    /// Whether hessians are constant (`constant_hessian`): squared or absolute error without weights.
    pub fn constant_hessian(self, weighted: bool) -> bool {
        matches!(self, Loss::SquaredError | Loss::AbsoluteError) && !weighted
    }

    /// `differentiable`: when not, `_update_leaves_values` resets every leaf to the loss's
    /// intercept-only fit of its rows' residuals.
    pub fn differentiable(self) -> bool {
        self != Loss::AbsoluteError
    }

    /// `fit_intercept_only(y, sample_weight)`, one value per tree.
    pub fn baseline(self, y: &[f64], w: Option<&[f64]>) -> Vec<f64> {
        match self {
            Loss::SquaredError => vec![average(y, w)],
            Loss::AbsoluteError => vec![median(y.to_vec(), w)],
            Loss::Binomial => {
                let eps = 10.0 * f64::EPSILON;
                vec![logit(average(y, w).clamp(eps, 1.0 - eps))]
            }
            Loss::Multinomial(k) => {
                let p: Vec<f64> = (0..k)
                    .map(|c| {
                        let is_c: Vec<f64> = y.iter().map(|&v| f64::from(u8::from(v == c as f64))).collect();
                        average(&is_c, w).clamp(f64::EPSILON, 1.0 - f64::EPSILON)
                    })
                    .collect();
                // MultinomialLogit.link: log(p / gmean(p)), gmean = exp(mean(log p)).
                let mean_log = p.iter().map(|v| v.ln()).fold(0.0, |s, v| s + v) / k as f64;
                let gmean = mean_log.exp();
                p.iter().map(|v| (v / gmean).ln()).collect()
            }
        }
    }

    /// `gradient` / `gradient_hessian` into `g[k][i]`, `h[k][i]` (h untouched when constant).
    pub fn gradients(self, y: &[f64], raw: &[Vec<f64>], w: Option<&[f64]>, g: &mut [Vec<f32>], h: &mut [Vec<f32>]) {
        let weight = |i: usize| w.map_or(1.0, |w| w[i]);
        match self {
            Loss::SquaredError => {
                for i in 0..y.len() {
                    let d = raw[0][i] - y[i];
                    match w {
                        None => g[0][i] = d as f32,
                        Some(w) => {
                            g[0][i] = (w[i] * d) as f32;
                            h[0][i] = w[i] as f32;
                        }
                    }
                }
            }
            Loss::AbsoluteError => {
                for i in 0..y.len() {
                    let sign = if raw[0][i] > y[i] { 1.0 } else { -1.0 };
                    match w {
                        None => g[0][i] = sign as f32,
                        Some(w) => (g[0][i], h[0][i]) = ((w[i] * sign) as f32, w[i] as f32),
                    }
                }
            }
            Loss::Binomial => {
                for i in 0..y.len() {
                    let (gi, hi) = grad_hess_binomial(y[i], raw[0][i]);
                    match w {
                        None => (g[0][i], h[0][i]) = (gi as f32, hi as f32),
                        Some(_) => (g[0][i], h[0][i]) = ((weight(i) * gi) as f32, (weight(i) * hi) as f32),
                    }
                }
            }
            Loss::Multinomial(k) => {
                let mut p = vec![0.0; k];
                for i in 0..y.len() {
                    let sum_exps = exp_minus_max(raw, i, &mut p).1;
                    for c in 0..k {
                        p[c] /= sum_exps;
                        let is_c = f64::from(u8::from(y[i] == c as f64));
                        match w {
                            None => (g[c][i], h[c][i]) = ((p[c] - is_c) as f32, (p[c] * (1.0 - p[c])) as f32),
                            Some(_) => {
                                g[c][i] = ((p[c] - is_c) * weight(i)) as f32;
                                h[c][i] = ((p[c] * (1.0 - p[c])) * weight(i)) as f32;
                            }
                        }
                    }
                }
            }
        }
    }

    /// `loss(y, raw, sample_weight)`: the (weighted) mean loss.
    pub fn mean(self, y: &[f64], raw: &[Vec<f64>], w: Option<&[f64]>) -> f64 {
        let losses: Vec<f64> = match self {
            Loss::SquaredError => y.iter().zip(&raw[0]).map(|(&y, &r)| 0.5 * (r - y) * (r - y)).collect(),
            Loss::AbsoluteError => y.iter().zip(&raw[0]).map(|(&y, &r)| (r - y).abs()).collect(),
            Loss::Binomial => y.iter().zip(&raw[0]).map(|(&y, &r)| log1pexp(r) - y * r).collect(),
            Loss::Multinomial(k) => {
                let mut p = vec![0.0; k];
                (0..y.len())
                    .map(|i| {
                        let (max, sum_exps) = exp_minus_max(raw, i, &mut p);
                        sum_exps.ln() + max - raw[y[i] as usize][i]
                    })
                    .collect()
            }
        };
        average(&losses, w)
    }
}

/// `AbsoluteError.fit_intercept_only`: `np.median(values)`, or with weights
/// `_weighted_percentile(values, w, 50)` (the inverted CDF: the first value whose cumulative
/// weight, in sorted order, reaches half the total).
pub fn median(mut values: Vec<f64>, w: Option<&[f64]>) -> f64 {
    let Some(w) = w else {
        values.sort_by(f64::total_cmp);
        return crate::preprocess::median_of_sorted(&values);
    };
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut cdf = Vec::with_capacity(order.len());
    let mut acc = 0.0;
    for &i in &order {
        acc += w[i];
        cdf.push(acc);
    }
    if acc == 0.0 {
        return f64::NAN;
    }
    let half = 0.5 * acc;
    let at = cdf.partition_point(|&c| c < half).min(order.len().saturating_sub(1));
    order.get(at).map_or(f64::NAN, |&i| values[i])
}

/// `sum_exp_minus_max`: `p[k] = exp(raw_k - max)`, and (max, sum of p).
fn exp_minus_max(raw: &[Vec<f64>], i: usize, p: &mut [f64]) -> (f64, f64) {
    let mut max = raw[0][i];
    for r in &raw[1..] {
        if max < r[i] {
            max = r[i];
        }
    }
    let mut sum = 0.0;
    for (pk, r) in p.iter_mut().zip(raw) {
        *pk = (r[i] - max).exp();
        sum += *pk;
    }
    (max, sum)
}

/// `cgrad_hess_half_binomial`.
fn grad_hess_binomial(y: f64, raw: f64) -> (f64, f64) {
    if raw > -37.0 {
        let t = (-raw).exp();
        (((1.0 - y) - y * t) / (1.0 + t), t / ((1.0 + t) * (1.0 + t)))
    } else {
        let t = raw.exp();
        (t - y, t)
    }
}

/// `log1pexp`: log(1 + exp(x)) with scikit-learn's cut-offs.
fn log1pexp(x: f64) -> f64 {
    if x <= -37.0 {
        x.exp()
    } else if x <= -2.0 {
        x.exp().ln_1p()
    } else if x <= 18.0 {
        (1.0 + x.exp()).ln()
    } else if x <= 33.3 {
        x + (-x).exp()
    } else {
        x
    }
}

/// scipy's `logit`: log(p / (1 - p)), and a log1p form near 1/2.
fn logit(p: f64) -> f64 {
    if !(0.3..=0.65).contains(&p) {
        (p / (1.0 - p)).ln()
    } else {
        let s = 2.0 * (p - 0.5);
        s.ln_1p() - (-s).ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_absolute_error_baseline_is_numpys_median_or_sklearns_weighted_percentile() {
        // np.median, then _weighted_percentile(values, w, 50) (inverted CDF, zero weights skipped).
        assert_eq!(median(vec![3.0, 1.0, 2.0, 4.0], None), 2.5);
        assert_eq!(median(vec![3.0, 1.0, 2.0, 4.0], Some(&[1.0; 4])), 2.0);
        assert_eq!(median(vec![1.0, 2.0, 3.0, 4.0], Some(&[0.0, 0.0, 1.0, 1.0])), 3.0);
        assert_eq!(median(vec![5.0, 1.0, 3.0], Some(&[0.5, 2.0, 0.6])), 1.0);
        assert!(median(vec![1.0, 2.0], Some(&[0.0, 0.0])).is_nan());
    }
}
