//! Scaling: StandardScaler's and MinMaxScaler's (shift, scale), from a column's training
//! values or from its sums.

use crate::config::Scale;

/// `(shift, scale)` so that the scaled value is `(x - shift) / scale`. A column that is
/// constant on the training rows keeps scale 1, as scikit-learn's scalers do (so it becomes
/// 0 under standard scaling); `constant_columns` lists them for the report.
pub(super) fn fit_scale(train_values: impl Iterator<Item = f64> + Clone, scale: Scale) -> (f64, f64) {
    match scale {
        Scale::None => (0.0, 1.0),
        Scale::Standard => {
            let n = train_values.clone().count() as f64;
            let mean = train_values.clone().sum::<f64>() / n;
            // StandardScaler's two-pass variance with its rounding correction.
            let (sum_sq, correction) =
                train_values.fold((0.0, 0.0), |(sq, c), v| (sq + (v - mean) * (v - mean), c + (v - mean)));
            let var = (sum_sq - correction * correction / n) / n;
            standard_scale(mean, var, n)
        }
        Scale::Minmax => {
            let (lo, hi) = train_values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            minmax_scale(lo, hi)
        }
    }
}

/// StandardScaler's (shift, scale) from a column's mean and population variance over `n`
/// rows: sklearn's `_is_constant_feature` and `_handle_zeros_in_scale` give scale 1.
pub fn standard_scale(mean: f64, var: f64, n: f64) -> (f64, f64) {
    let std = var.max(0.0).sqrt();
    (mean, if is_constant_feature(var, mean, n) { 1.0 } else { handle_zeros(std) })
}

/// scikit-learn's `_handle_zeros_in_scale`: a scale too small (or not finite) to divide by is 1.
pub fn handle_zeros(scale: f64) -> f64 {
    if scale < 10.0 * f64::EPSILON || !scale.is_finite() {
        1.0
    } else {
        scale
    }
}

/// scikit-learn's `_is_constant_feature`: a variance within rounding of zero.
pub fn is_constant_feature(var: f64, mean: f64, n: f64) -> bool {
    var <= n * f64::EPSILON * var + (n * mean * f64::EPSILON).powi(2)
}

/// MinMaxScaler's (shift, scale) from a column's least and greatest value.
pub fn minmax_scale(lo: f64, hi: f64) -> (f64, f64) {
    (lo, handle_zeros(hi - lo))
}

/// A numeric column's training values after imputation, as sums: `rows` rows, `present` of
/// them with a value; over those, Σ(x−shift), Σ(x−shift)², min and max; `fill` for the rest.
pub struct ScaleSums {
    pub rows: f64,
    pub present: f64,
    pub s1: f64,
    pub s2: f64,
    pub min: f64,
    pub max: f64,
    pub shift: f64,
    pub fill: Option<f64>,
}

/// `fit_scale` from the sums: (shift, scale).
pub fn scale_from_sums(sums: &ScaleSums, scale: Scale) -> (f64, f64) {
    let gaps = sums.rows - sums.present;
    let (c, n) = match sums.fill {
        Some(c) if gaps > 0.0 => (c, sums.rows),
        _ => (0.0, sums.present),
    };
    let counted_gaps = n - sums.present;
    match scale {
        Scale::None => (0.0, 1.0),
        Scale::Standard => {
            let d = c - sums.shift;
            let sum = sums.s1 + counted_gaps * d;
            let sum_sq = sums.s2 + counted_gaps * d * d;
            standard_scale(sums.shift + sum / n, (sum_sq - sum * sum / n) / n, n)
        }
        Scale::Minmax if counted_gaps > 0.0 => minmax_scale(sums.min.min(c), sums.max.max(c)),
        Scale::Minmax => minmax_scale(sums.min, sums.max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_scaling_uses_population_std() {
        let (shift, scale) = fit_scale([1.0, 2.0, 3.0].into_iter(), Scale::Standard);
        assert_eq!(shift, 2.0);
        assert!((scale - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn constant_training_column_keeps_scale_one() {
        assert_eq!(fit_scale([2.0, 2.0].into_iter(), Scale::Minmax), (2.0, 1.0));
        assert_eq!(fit_scale([0.5, 0.5, 0.5].into_iter(), Scale::Standard), (0.5, 1.0));
    }
}
