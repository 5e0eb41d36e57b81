//! The scaling steps, each `(x - shift) / scale` per column: `standard` and `minmax` (the
//! shift and scale of `preprocess::scale`, the experiment's own scalers), `maxabs` and
//! `robust` (scikit-learn's MaxAbsScaler and RobustScaler).

use super::super::impute::median_of_sorted;
use super::super::scale::{fit_scale, handle_zeros, scale_from_sums, ScaleSums};
use super::{FittedStep, StepSpec};
use crate::config::Scale;
use crate::spec::value::{params, DefaultValue::*, ParamType};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

params! {
    /// `standard`: StandardScaler.
    StandardParams {
        with_mean: bool = B(true), ParamType::Bool, "subtract the training mean";
        with_std: bool = B(true), ParamType::Bool, "divide by the training population std";
    }
}

params! {
    /// `minmax`: MinMaxScaler onto [0, 1].
    MinmaxParams {}
}

params! {
    /// `maxabs`: MaxAbsScaler.
    MaxabsParams {}
}

params! {
    /// `robust`: RobustScaler.
    RobustParams {
        with_centering: bool = B(true), ParamType::Bool, "subtract the training median";
        with_scaling: bool = B(true), ParamType::Bool, "divide by the interquantile range";
        quantile_range: [f64; 2] = FL(&[25.0, 75.0]), ParamType::Quantiles, "the percentiles [low, high] whose difference is the scale";
    }
}

/// A fitted scaler: column `j` becomes `(x - shift[j]) / scale[j]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Affine {
    pub shift: Vec<f64>,
    pub scale: Vec<f64>,
}

impl FittedStep for Affine {
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = x.to_owned();
        for mut row in out.rows_mut() {
            for ((v, s), c) in row.iter_mut().zip(&self.shift).zip(&self.scale) {
                *v = (*v - s) / c;
            }
        }
        out
    }

    fn feature_names(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    fn check(&self, width: usize) -> Result<(), String> {
        if self.shift.len() != width || self.scale.len() != width {
            return Err(format!(
                "shift and scale have {} and {} values for {width} input columns",
                self.shift.len(),
                self.scale.len()
            ));
        }
        if let Some(j) = self.shift.iter().position(|s| !s.is_finite()) {
            return Err(format!("shift[{j}] is {}; a fitted shift is a finite number", self.shift[j]));
        }
        match self.scale.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            Some(j) => Err(format!("scale[{j}] is {}; a fitted scale is a positive finite number", self.scale[j])),
            None => Ok(()),
        }
    }
}

/// Each column's (shift, scale) from its training values.
fn per_column(x: ArrayView2<f64>, fit: impl Fn(ArrayView1<f64>) -> (f64, f64)) -> Affine {
    let (shift, scale) = x.axis_iter(Axis(1)).map(fit).unzip();
    Affine { shift, scale }
}

pub fn fit_standard(p: &StandardParams, x: ArrayView2<f64>) -> Result<Affine, String> {
    Ok(per_column(x, |c| {
        let (mean, std) = fit_scale(c.iter().copied(), Scale::Standard);
        (if p.with_mean { mean } else { 0.0 }, if p.with_std { std } else { 1.0 })
    }))
}

pub fn fit_minmax(_: &MinmaxParams, x: ArrayView2<f64>) -> Result<Affine, String> {
    Ok(per_column(x, |c| fit_scale(c.iter().copied(), Scale::Minmax)))
}

pub fn fit_maxabs(_: &MaxabsParams, x: ArrayView2<f64>) -> Result<Affine, String> {
    Ok(per_column(x, |c| (0.0, handle_zeros(c.iter().fold(0.0f64, |m, v| m.max(v.abs()))))))
}

pub fn fit_robust(p: &RobustParams, x: ArrayView2<f64>) -> Result<Affine, String> {
    Ok(per_column(x, |c| {
        let mut sorted = c.to_vec();
        sorted.sort_by(f64::total_cmp);
        let [lo, hi] = p.quantile_range;
        let shift = if p.with_centering { median_of_sorted(&sorted) } else { 0.0 };
        let scale = if p.with_scaling { handle_zeros(percentile(&sorted, hi) - percentile(&sorted, lo)) } else { 1.0 };
        (shift, scale)
    }))
}

/// A scaler step fitted from each column's training sums instead of its values: what
/// `fit_standard`, `fit_minmax` and `fit_maxabs` give on the rows (min-max and max-abs
/// exactly, standard up to the rounding of the sums); `None` for any other step (robust's
/// median and quantiles need the values).
pub fn affine_from_sums(step: &StepSpec, columns: &[ScaleSums]) -> Option<Affine> {
    let per_column = |fit: &dyn Fn(&ScaleSums) -> (f64, f64)| {
        let (shift, scale) = columns.iter().map(fit).unzip();
        Affine { shift, scale }
    };
    match step {
        StepSpec::Standard(p) => Some(per_column(&|c| {
            let (mean, std) = scale_from_sums(c, Scale::Standard);
            (if p.with_mean { mean } else { 0.0 }, if p.with_std { std } else { 1.0 })
        })),
        StepSpec::Minmax(_) => Some(per_column(&|c| scale_from_sums(c, Scale::Minmax))),
        StepSpec::Maxabs(_) => Some(per_column(&|c| (0.0, handle_zeros(c.min.abs().max(c.max.abs()))))),
        _ => None,
    }
}

/// `np.percentile(sorted, q)` (method "linear") of sorted values, with numpy's `_lerp` (the
/// robust scaler's quantiles and the spline's quantile knots).
pub(super) fn percentile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let virtual_index = (n - 1) as f64 * (q / 100.0);
    let previous = virtual_index.floor().clamp(0.0, (n - 1) as f64);
    let (i, t) = (previous as usize, virtual_index - previous);
    let (a, b) = (sorted[i], sorted[(i + 1).min(n - 1)]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn percentiles_are_numpys_linear_ones() {
        // np.percentile([1, 2, 4, 8, 100], [25, 75, 10, 90]) = [2, 8, 1.4, 63.2]
        let v = [1.0, 2.0, 4.0, 8.0, 100.0];
        assert_eq!(percentile(&v, 25.0), 2.0);
        assert_eq!(percentile(&v, 75.0), 8.0);
        assert!((percentile(&v, 10.0) - 1.4).abs() < 1e-15);
        assert!((percentile(&v, 90.0) - 63.2).abs() < 1e-13);
    }

    #[test]
    fn the_robust_scaler_centres_on_the_median() {
        let x = array![[1.0, 5.0], [2.0, 5.0], [4.0, 5.0], [8.0, 5.0], [100.0, 5.0]];
        let p = RobustParams { with_centering: true, with_scaling: true, quantile_range: [25.0, 75.0] };
        let f = fit_robust(&p, x.view()).unwrap();
        // RobustScaler().fit(x): center_ [4, 5], scale_ [6, 1] (a constant column keeps 1).
        assert_eq!(f, Affine { shift: vec![4.0, 5.0], scale: vec![6.0, 1.0] });
    }

    #[test]
    fn the_maxabs_scaler_divides_by_the_largest_magnitude() {
        let f = fit_maxabs(&MaxabsParams {}, array![[-3.0, 0.0], [2.0, 0.0]].view()).unwrap();
        assert_eq!(f, Affine { shift: vec![0.0, 0.0], scale: vec![3.0, 1.0] });
    }
}
