//! `spline`: scikit-learn's SplineTransformer: per feature, `n_knots` base knots (uniform over
//! the training range or at its quantiles) extended by `degree` knots each side, and the
//! B-spline basis evaluated as scipy's `BSpline` does (`_find_interval` and `_deBoor_D` of
//! scipy/interpolate/src/__fitpack.cc), with the chosen extrapolation outside the range.

use super::scalers::percentile;
use super::FittedStep;
use crate::spec::value::{choice_param, params, DefaultValue::*, FromParam, ParamType, ParamValue};
use ndarray::{s, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};
use strum::{EnumString, VariantNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, VariantNames)]
#[strum(serialize_all = "lowercase")]
pub enum Knots {
    Uniform,
    Quantile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumString, VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Extrapolation {
    /// Values outside the training range are an error (`check_range`; `transform` gives NaN).
    Error,
    Constant,
    Linear,
    Continue,
    Periodic,
}

choice_param!(Knots, Extrapolation);

params! {
    /// `spline`: SplineTransformer.
    SplineParams {
        n_knots: usize = I(5), ParamType::Int { min: 2, max: 1000 }, "knots of the base interval per feature";
        degree: usize = I(3), ParamType::Int { min: 0, max: 10 }, "the polynomial degree of each B-spline";
        knots: Knots = S("uniform"), ParamType::Choice(Knots::VARIANTS), "uniform over the training range, or at its quantiles";
        extrapolation: Extrapolation = S("constant"), ParamType::Choice(Extrapolation::VARIANTS), "outside the training range: error, constant (the edge values), linear, continue (the edge polynomials) or periodic";
        include_bias: bool = B(true), ParamType::Bool, "keep every spline (false drops each feature's last, which the others sum to 1 with)";
    }
}

/// Each feature's full knot vector (`bsplines_[j].t`), the degree and how to extrapolate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedSpline {
    pub knots: Vec<Vec<f64>>,
    pub degree: usize,
    pub extrapolation: Extrapolation,
    pub include_bias: bool,
}

pub fn fit(params: &SplineParams, x: ArrayView2<f64>, _y: Option<ArrayView1<f64>>) -> Result<FittedSpline, String> {
    let (n, k) = (x.nrows(), params.degree);
    if n < 2 || params.n_knots < 2 {
        return Err(format!("needs at least 2 training rows and 2 knots, got {n} and {}", params.n_knots));
    }
    let periodic = params.extrapolation == Extrapolation::Periodic;
    if periodic && params.n_knots <= k {
        return Err(format!(
            "periodic splines need degree < n_knots, got n_knots = {} and degree = {k}",
            params.n_knots
        ));
    }
    if k == 0 && params.extrapolation == Extrapolation::Constant {
        // scikit-learn fails on any value above the training range there.
        return Err("degree = 0 with extrapolation = \"constant\" is not supported; use \"linear\"".into());
    }
    if k <= 1 && params.extrapolation == Extrapolation::Linear && x.ncols() > 1 {
        // 1.9.1's transform raises its `degree` by one for each feature here (a loop variable
        // leaks), so every feature after the first comes out wrong: refused rather than copied.
        return Err("degree <= 1 with extrapolation = \"linear\" on more than one feature differs in scikit-learn 1.9.1 (a bug); use degree >= 2 or another extrapolation".into());
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err("the training matrix has a non-finite value".into());
    }
    let base = match params.knots {
        Knots::Uniform => {
            let lo: Vec<f64> = x.columns().into_iter().map(|c| c.fold(f64::INFINITY, |m, &v| m.min(v))).collect();
            let hi: Vec<f64> = x.columns().into_iter().map(|c| c.fold(f64::NEG_INFINITY, |m, &v| m.max(v))).collect();
            linspace(&lo, &hi, params.n_knots)
        }
        Knots::Quantile => quantile_knots(x, params.n_knots),
    };
    let knots = if periodic { periodic_knots(&base, k) } else { extended_knots(&base, k) };
    Ok(FittedSpline { knots, degree: k, extrapolation: params.extrapolation, include_bias: params.include_bias })
}

/// numpy's `linspace(start, stop, num)` for arrays of starts and stops: one row per point. If
/// any column's step is 0, numpy scales every column by `i / div * delta` instead of
/// `i * step` (a different rounding), so this does too.
fn linspace(start: &[f64], stop: &[f64], num: usize) -> Vec<Vec<f64>> {
    let delta: Vec<f64> = start.iter().zip(stop).map(|(a, b)| b - a).collect();
    let div = num.saturating_sub(1) as f64;
    let any_zero = delta.iter().any(|d| d / div == 0.0);
    let mut rows: Vec<Vec<f64>> = (0..num)
        .map(|i| {
            let i = i as f64;
            let point = |(d, a): (&f64, &f64)| match () {
                _ if div == 0.0 => i * d + a,
                _ if any_zero => i / div * d + a,
                _ => i * (d / div) + a,
            };
            delta.iter().zip(start).map(point).collect()
        })
        .collect();
    if num > 1 {
        rows[num - 1] = stop.to_vec();
    }
    rows
}

/// `np.nanpercentile(X, 100 * linspace(0, 1, n_knots), axis=0)` (method "linear").
fn quantile_knots(x: ArrayView2<f64>, n_knots: usize) -> Vec<Vec<f64>> {
    let ranks: Vec<f64> = linspace(&[0.0], &[1.0], n_knots).into_iter().map(|r| 100.0 * r[0]).collect();
    let columns: Vec<Vec<f64>> = x
        .columns()
        .into_iter()
        .map(|c| {
            let mut sorted = c.to_vec();
            sorted.sort_by(f64::total_cmp);
            sorted
        })
        .collect();
    ranks.iter().map(|&p| columns.iter().map(|c| percentile(c, p)).collect()).collect()
}

/// Per feature: `degree` knots below and above the base ones, spaced as the first and last
/// base interval (scikit-learn follows Eilers & Marx rather than repeating the end knots).
fn extended_knots(base: &[Vec<f64>], k: usize) -> Vec<Vec<f64>> {
    let (first, last) = (&base[0], &base[base.len() - 1]);
    let dist_min: Vec<f64> = first.iter().zip(&base[1]).map(|(a, b)| b - a).collect();
    let dist_max: Vec<f64> = last.iter().zip(&base[base.len() - 2]).map(|(a, b)| a - b).collect();
    let at = |ends: &[f64], dist: &[f64], times: f64| -> Vec<f64> {
        ends.iter().zip(dist).map(|(e, d)| e + times * d).collect()
    };
    let below = linspace(&at(first, &dist_min, -(k as f64)), &at(first, &dist_min, -1.0), k);
    let above = linspace(&at(last, &dist_max, 1.0), &at(last, &dist_max, k as f64), k);
    let rows: Vec<&Vec<f64>> = below.iter().chain(base).chain(&above).collect();
    (0..first.len()).map(|j| rows.iter().map(|r| r[j]).collect()).collect()
}

/// Periodic: the `degree` knots each side continue the spacing of the other end, a period away.
fn periodic_knots(base: &[Vec<f64>], k: usize) -> Vec<Vec<f64>> {
    let m = base.len();
    (0..base[0].len())
        .map(|j| {
            let period = base[m - 1][j] - base[0][j];
            let below = base[m - 1 - k..m - 1].iter().map(|r| r[j] - period);
            let above = base[1..=k].iter().map(|r| r[j] + period);
            below.chain(base.iter().map(|r| r[j])).chain(above).collect()
        })
        .collect()
}

/// scipy's `_find_interval`: `l` with `t[l] <= x < t[l + 1]` inside `[t[k], t[n]]`, the last
/// interval for `x == t[n]`; `None` for NaN or, unless extrapolating, outside.
fn find_interval(t: &[f64], k: usize, x: f64, extrapolate: bool) -> Option<usize> {
    let n = t.len() - k - 1;
    if x.is_nan() || (!extrapolate && (x < t[k] || x > t[n])) {
        return None;
    }
    let mut l = k + 1;
    while l != n && x >= t[l] {
        l += 1;
    }
    Some(l - 1)
}

/// scipy's `_deBoor_D`: the `k + 1` B-splines (or their `nu`-th derivatives) non-zero at `x`
/// in interval `ell`, for i = ell − k .. ell.
fn de_boor(t: &[f64], x: f64, k: usize, ell: usize, nu: usize) -> Vec<f64> {
    let mut h = vec![0.0; k + 1];
    if nu > k {
        // scipy's derivative loop then starts at j = 0, which zeroes h[0].
        return h;
    }
    h[0] = 1.0;
    for j in 1..=k {
        let hh = h[..j].to_vec();
        h[0] = 0.0;
        for n in 1..=j {
            let (xb, xa) = (t[ell + n], t[ell + n - j]);
            if xb == xa {
                h[n] = 0.0;
                continue;
            }
            if j + nu <= k {
                let w = hh[n - 1] / (xb - xa);
                h[n - 1] += w * (xb - x);
                h[n] = w * (x - xa);
            } else {
                let w = j as f64 * hh[n - 1] / (xb - xa);
                h[n - 1] -= w;
                h[n] = w;
            }
        }
    }
    h
}

impl FittedSpline {
    /// Basis functions per feature before `include_bias` drops one: `n_knots + degree − 1`,
    /// or `n_knots − 1` when periodic.
    fn n_splines(&self) -> usize {
        let len = self.knots.first().map_or(0, Vec::len);
        let periodic = self.extrapolation == Extrapolation::Periodic;
        (len - self.degree - 1).saturating_sub(if periodic { self.degree } else { 0 })
    }

    /// `BSpline(t, coef, k)(x, nu)` with scikit-learn's coefficients (the identity, plus the
    /// first `degree` rows again when periodic): every basis function at `x`.
    fn basis(&self, t: &[f64], x: f64, nu: usize, extrapolate: bool) -> Vec<f64> {
        let (k, n_splines) = (self.degree, self.n_splines());
        let Some(ell) = find_interval(t, k, x, extrapolate) else { return vec![f64::NAN; n_splines] };
        let mut out = vec![0.0; n_splines];
        for (a, w) in de_boor(t, x, k, ell, nu).into_iter().enumerate() {
            out[(ell + a - k) % n_splines] += w;
        }
        out
    }
}

impl FittedSpline {
    /// One feature's block of `n_splines` columns, as scikit-learn's `transform` fills it.
    fn feature_block(&self, t: &[f64], column: ArrayView1<f64>) -> Array2<f64> {
        let (k, n_splines) = (self.degree, self.n_splines());
        let mut out = Array2::zeros((column.len(), n_splines));
        let (xmin, xmax) = (t[k], t[t.len() - k - 1]);
        let extrapolate = matches!(self.extrapolation, Extrapolation::Continue | Extrapolation::Periodic);
        let (f_min, f_max) = (self.basis(t, xmin, 0, false), self.basis(t, xmax, 0, false));
        let (fp_min, fp_max) = (self.basis(t, xmin, 1, false), self.basis(t, xmax, 1, false));
        for (i, &x) in column.iter().enumerate() {
            let mut row = out.row_mut(i);
            match self.extrapolation {
                Extrapolation::Error | Extrapolation::Continue | Extrapolation::Periodic => {
                    let x = if self.extrapolation == Extrapolation::Periodic { wrap(t, k, x) } else { x };
                    row.assign(&ndarray::Array1::from(self.basis(t, x, 0, extrapolate)));
                }
                _ if xmin <= x && x <= xmax => row.assign(&ndarray::Array1::from(self.basis(t, x, 0, false))),
                Extrapolation::Constant if x < xmin => row.slice_mut(s![..k]).assign(&ArrayView1::from(&f_min[..k])),
                Extrapolation::Constant if x > xmax => {
                    row.slice_mut(s![n_splines - k..]).assign(&ArrayView1::from(&f_max[n_splines - k..]))
                }
                Extrapolation::Linear => {
                    // Degree 0 and 1 continue one spline more: the second one's slope is not 0 there.
                    for j in 0..k.max(1 + (k <= 1) as usize) {
                        if x < xmin {
                            row[j] = f_min[j] + (x - xmin) * fp_min[j];
                        } else if x > xmax {
                            let c = n_splines - 1 - j;
                            row[c] = f_max[c] + (x - xmax) * fp_max[c];
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// `extrapolation = "error"`: the first value outside the training range, as (row, feature).
    pub fn out_of_range(&self, x: ArrayView2<f64>) -> Option<(usize, usize)> {
        if self.extrapolation != Extrapolation::Error {
            return None;
        }
        let k = self.degree;
        x.indexed_iter().find_map(|((i, j), &v)| {
            let t = &self.knots[j];
            (v.is_nan() || v < t[k] || v > t[t.len() - k - 1]).then_some((i, j))
        })
    }
}

/// Periodic: x mapped into `[t[k], t[n]]` with Python's `%` (the divisor's sign); a feature
/// constant in training maps everything to 0, as scikit-learn does.
fn wrap(t: &[f64], k: usize, x: f64) -> f64 {
    let period = t[t.len() - k - 1] - t[k];
    if period <= 0.0 {
        return 0.0;
    }
    let m = (x - t[k]) % period;
    // A negative remainder moves up a period; -0.0 becomes +0.0 (numpy's `remainder`).
    t[k] + if m < 0.0 { m + period } else { m.abs() }
}

impl FittedStep for FittedSpline {
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let n_splines = self.n_splines();
        let keep = n_splines - !self.include_bias as usize;
        let mut out = Array2::zeros((x.nrows(), self.knots.len() * keep));
        for (j, (t, column)) in self.knots.iter().zip(x.columns()).enumerate() {
            let block = self.feature_block(t, column);
            out.slice_mut(s![.., j * keep..(j + 1) * keep]).assign(&block.slice(s![.., ..keep]));
        }
        out
    }

    /// `x0_sp_0`, `x0_sp_1`, ...: scikit-learn's `get_feature_names_out`.
    fn feature_names(&self, input: &[String]) -> Vec<String> {
        let keep = self.n_splines() - !self.include_bias as usize;
        input.iter().flat_map(|name| (0..keep).map(move |i| format!("{name}_sp_{i}"))).collect()
    }

    /// A loaded model's state: one knot vector per feature, all the same length, long enough
    /// for the degree, finite and non-decreasing.
    fn check(&self, n_features: usize) -> Result<(), String> {
        if self.knots.len() != n_features {
            return Err(format!("{} knot vectors for {n_features} features", self.knots.len()));
        }
        let len = self.knots.first().map_or(0, Vec::len);
        let periodic = self.extrapolation == Extrapolation::Periodic;
        let least = self.degree.saturating_mul(if periodic { 3 } else { 2 }).saturating_add(2);
        for (j, t) in self.knots.iter().enumerate() {
            let sorted = t.windows(2).all(|w| w[0] <= w[1]);
            if t.len() != len || len < least || !sorted || t.iter().any(|v| !v.is_finite()) {
                return Err(format!(
                    "feature {j}'s knots are not {len} finite increasing values (degree {})",
                    self.degree
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_close, cases, input_names, matrix, strings};
    use super::*;

    fn params(p: &serde_json::Value) -> SplineParams {
        SplineParams {
            n_knots: p["n_knots"].as_u64().unwrap() as usize,
            degree: p["degree"].as_u64().unwrap() as usize,
            knots: p["knots"].as_str().unwrap().parse().unwrap(),
            extrapolation: p["extrapolation"].as_str().unwrap().parse().unwrap(),
            include_bias: p["include_bias"].as_bool().unwrap(),
        }
    }

    #[test]
    fn equals_scikit_learn() {
        let mut worst = 0.0f64;
        for case in cases("spline") {
            let id = format!("{} {}", case["data"], case["params"]);
            let (train, test) = (matrix(&case["train"]), matrix(&case["test"]));
            let fitted = fit(&params(&case["params"]), train.view(), None).unwrap();
            fitted.check(train.ncols()).unwrap();
            for (side, x) in [("train", &train), ("test", &test)] {
                let want = matrix(&case[format!("{side}_out")]);
                worst = worst.max(assert_close(&fitted.transform(x.view()), &want, 1e-9, &format!("{id} {side}")));
                assert_eq!(fitted.out_of_range(x.view()), None);
            }
            assert_eq!(fitted.feature_names(&input_names(train.ncols())), strings(&case["names"]), "{id}");
        }
        eprintln!("spline: largest relative error {worst:e}");
    }

    #[test]
    fn error_extrapolation_names_the_first_value_outside() {
        let x = Array2::from_shape_fn((5, 2), |(i, j)| (i + j) as f64);
        let p = SplineParams {
            n_knots: 3,
            degree: 2,
            knots: Knots::Uniform,
            extrapolation: Extrapolation::Error,
            include_bias: true,
        };
        let fitted = fit(&p, x.view(), None).unwrap();
        let new = ndarray::array![[1.0, 2.0], [2.0, 9.0]];
        assert_eq!(fitted.out_of_range(new.view()), Some((1, 1)));
        assert!(fitted.transform(new.view())[[1, 5]].is_nan());
        let mut bad = fitted.clone();
        bad.knots[1].swap(0, 3);
        assert!(bad.check(2).unwrap_err().contains("feature 1"));
        assert!(fitted.check(3).is_err());
        // scikit-learn 1.9.1 mis-transforms every feature after the first here.
        let p = SplineParams { degree: 1, extrapolation: Extrapolation::Linear, ..p.clone() };
        assert!(fit(&p, x.view(), None).unwrap_err().contains("bug"));
        assert!(fit(&p, x.slice(s![.., ..1]), None).is_ok());
    }
}
