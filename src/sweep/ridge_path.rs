//! A shortcut for ridge grids: one pass over the data accumulates, for every fold's test
//! block, the sufficient statistics `XᵀX`, `Xᵀy`, `Σx`, `Σy`, `Σy²` (of values shifted by the
//! column means, for accuracy). A fold's training statistics are the total minus its block;
//! standard scaling, centring, the solve and the mse/rmse/r2 of both sides all follow from
//! them, so no fold matrix is ever built. It applies when every trial's numbers can be had
//! this way (see `RidgePath::prepare`); otherwise the sweep takes the ordinary path, which
//! gives the same numbers up to rounding (tests compare the two).

use super::stats::BlockStats;
use crate::config::{Metric, PreprocessConfig, Scale};
use crate::data::{Dataset, Feature, Target};
use crate::kinds::ModelSpec;
use crate::models::linalg::cholesky_solve;
use crate::models::FitError;
use crate::spec::RidgeParams;
use crate::split::Fold;
use crate::trial::{CoefficientsRecord, Trial};
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub struct RidgePath<'a> {
    /// One block per fold (its test rows), then the rows no fold tests.
    blocks: Vec<BlockStats>,
    total: BlockStats,
    shift_x: Array1<f64>,
    shift_y: f64,
    standard: Vec<bool>,
    /// The raw columns and target, and each row's block, for metrics that need residuals.
    columns: Vec<&'a [f64]>,
    y: &'a [f64],
    block_of: Vec<usize>,
    /// The distinct alphas of the shortcut's trials, and (when mae is asked for) each
    /// fold's summed absolute residuals for each alpha, computed together on first use.
    alphas: Vec<f64>,
    abs_residuals: OnceLock<AbsResiduals>,
    wants_mae: bool,
}

/// `[fold][alpha]`: (Σ|residual| over the fold's test rows, over its training rows).
type AbsResiduals = Vec<Vec<(f64, f64)>>;

/// A fold's ridge solution in shifted coordinates: a row's prediction is
/// `shift_y + c0 + v·(x - shift_x)`; `wz`, `bz` are the design-space coefficients.
struct Solution {
    c0: f64,
    v: Array1<f64>,
    wz: Array1<f64>,
    bz: f64,
}

const CHUNK: usize = 2048;

/// The metrics the shortcut gives: mse, rmse and r2 from the statistics, mae from one
/// pass over the rows for every alpha and fold together.
fn shortcut_metric(m: Metric) -> bool {
    matches!(m, Metric::Mse | Metric::Rmse | Metric::R2 | Metric::Mae)
}

/// Each row's fold whose test part holds it (`folds.len()` for rows tested by none), when
/// the test parts are disjoint and each training part is the rest of the rows.
fn test_blocks(folds: &[Fold], n: usize) -> Option<Vec<usize>> {
    let mut block_of = vec![folds.len(); n];
    for (f, fold) in folds.iter().enumerate() {
        if fold.train.len() + fold.test.len() != n {
            return None;
        }
        for &r in &fold.test {
            if block_of[r] != folds.len() {
                return None;
            }
            block_of[r] = f;
        }
    }
    Some(block_of)
}

/// Each block's statistics, in coordinates shifted by the global means: every (block,
/// chunk of rows) in parallel, each block's chunks added in order.
fn block_stats(
    columns: &[&[f64]],
    y: &[f64],
    shift_x: &Array1<f64>,
    shift_y: f64,
    block_of: &[usize],
    n_blocks: usize,
) -> Vec<BlockStats> {
    let d = columns.len();
    let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); n_blocks];
    for (r, &b) in block_of.iter().enumerate() {
        rows_of[b].push(r);
    }
    let work: Vec<(usize, &[usize])> =
        rows_of.iter().enumerate().flat_map(|(b, rows)| rows.chunks(CHUNK).map(move |c| (b, c))).collect();
    let partials: Vec<(usize, BlockStats)> = work
        .par_iter()
        .map(|&(b, rows)| {
            let mut x = Array2::<f64>::zeros((rows.len(), d));
            for (j, col) in columns.iter().enumerate() {
                for (i, &r) in rows.iter().enumerate() {
                    x[[i, j]] = col[r] - shift_x[j];
                }
            }
            let yc = Array1::from_iter(rows.iter().map(|&r| y[r] - shift_y));
            (b, BlockStats::from_rows(&x, &yc))
        })
        .collect();
    let mut blocks = vec![BlockStats::zeros(d); n_blocks];
    for (b, s) in &partials {
        blocks[*b].add(s);
    }
    blocks
}

impl<'a> RidgePath<'a> {
    /// The parameters of a trial the shortcut scores (a ridge with an intercept).
    pub fn handles(trial: &Trial) -> Option<&RidgeParams> {
        let ModelSpec::Ridge(p) = &trial.spec else { return None };
        p.fit_intercept.then_some(p)
    }

    /// The statistics, or `None` when the sweep does not qualify: a regression target,
    /// numeric features without missing values, `none` or `standard` scaling, folds whose
    /// test parts are disjoint and whose training part is the rest, metrics among mse, rmse
    /// and r2, and at least one ridge trial.
    pub fn prepare(
        ds: &'a Dataset,
        preprocess: &PreprocessConfig,
        folds: &[Fold],
        trials: &[Trial],
        metrics: &[Metric],
    ) -> Option<RidgePath<'a>> {
        let Target::Regression(y) = &ds.target else { return None };
        let mut alphas: Vec<f64> = trials.iter().filter_map(Self::handles).map(|p| p.alpha).collect();
        alphas.sort_by(f64::total_cmp);
        alphas.dedup();
        if !metrics.iter().all(|&m| shortcut_metric(m)) || alphas.is_empty() {
            return None;
        }
        let n = ds.rows();
        let mut columns = Vec::new();
        let mut standard = Vec::new();
        for f in &ds.features {
            let Feature::Numeric { name, values } = f else { return None };
            let scale = preprocess.rule_for(name).scale;
            if values.iter().any(|v| v.is_nan()) || scale == Scale::Minmax {
                return None;
            }
            columns.push(values.as_slice());
            standard.push(scale == Scale::Standard);
        }
        let block_of = test_blocks(folds, n)?;
        let d = columns.len();
        // (d × d) statistics per fold block only pay off when there are fewer columns than
        // rows (and fit in memory); wide data takes the dual on the ordinary path.
        if d > n / 2 || d > 2048 {
            return None;
        }
        let shift_x = Array1::from_iter(columns.iter().map(|c| c.iter().sum::<f64>() / n as f64));
        let shift_y = y.iter().sum::<f64>() / n as f64;
        let blocks = block_stats(&columns, y, &shift_x, shift_y, &block_of, folds.len() + 1);
        let mut total = BlockStats::zeros(d);
        for b in &blocks {
            total.add(b);
        }
        let y = y.as_slice();
        let wants_mae = metrics.contains(&Metric::Mae);
        let abs_residuals = OnceLock::new();
        Some(RidgePath {
            blocks,
            total,
            shift_x,
            shift_y,
            standard,
            columns,
            y,
            block_of,
            alphas,
            abs_residuals,
            wants_mae,
        })
    }

    /// Solves the ridge of fold `f` from the statistics.
    fn solve(&self, alpha: f64, f: usize) -> Result<Solution, String> {
        let train = self.total.minus(&self.blocks[f]);
        let nt = train.n;
        let d = self.shift_x.len();
        let m = &train.sx / nt;
        let ym = train.sy / nt;
        let mut c = &train.xx - &(outer(&m, &m) * nt);
        let mut cy = &train.xy - &(&m * (nt * ym));
        // Design-space columns are (x - a) / s: a = train mean, s = train std when standard.
        let mut a = Array1::<f64>::zeros(d);
        let mut s = Array1::<f64>::ones(d);
        for j in 0..d {
            if self.standard[j] {
                let mean = self.shift_x[j] + m[j];
                let std = (c[[j, j]].max(0.0) / nt).sqrt();
                // A column constant on the training rows keeps scale 1, as StandardScaler does.
                let constant = std <= 1e-12 * (train.xx[[j, j]] / nt).sqrt() || !std.is_finite();
                a[j] = mean;
                s[j] = if constant { 1.0 } else { std };
            }
        }
        for i in 0..d {
            for j in 0..d {
                c[[i, j]] /= s[i] * s[j];
            }
            cy[i] /= s[i];
            c[[i, i]] += alpha;
        }
        let wz = cholesky_solve(&c, &cy).ok_or_else(|| {
            FitError::Singular(format!("XᵀX + {alpha}·I is not positive definite (linearly dependent features?)"))
                .to_string()
        })?;
        let mean_z: Array1<f64> = (0..d).map(|j| (self.shift_x[j] + m[j] - a[j]) / s[j]).collect();
        let bz = self.shift_y + ym - wz.dot(&mean_z);
        let v: Array1<f64> = (0..d).map(|j| wz[j] / s[j]).collect();
        let c0 = bz - self.shift_y + (0..d).map(|j| wz[j] * (self.shift_x[j] - a[j]) / s[j]).sum::<f64>();
        Ok(Solution { c0, v, wz, bz })
    }

    /// Fits `trial` on fold `f` and scores both sides: (test, train, coefficients).
    pub fn unit(&self, params: &RidgeParams, f: usize, metrics: &[Metric]) -> Result<Scored, String> {
        let sol = self.solve(params.alpha, f)?;
        let mae = if self.wants_mae {
            let k = self.alphas.iter().position(|&a| a == params.alpha).ok_or("alpha not on the path")?;
            Some(self.abs_residuals.get_or_init(|| self.abs_residuals())[f][k])
        } else {
            None
        };
        let test = &self.blocks[f];
        let train = self.total.minus(test);
        let score = |b: &BlockStats, abs_sum: Option<f64>| -> BTreeMap<Metric, Option<f64>> {
            let mse = b.sse(sol.c0, &sol.v) / b.n;
            let value = |metric| match metric {
                Metric::Mse => mse,
                Metric::Rmse => mse.sqrt(),
                Metric::Mae => abs_sum.map_or(f64::NAN, |a| a / b.n),
                _ => crate::metrics::r2_score(mse * b.n, b.ss_tot(), b.n),
            };
            metrics.iter().map(|&metric| (metric, Some(value(metric)).filter(|v| v.is_finite()))).collect()
        };
        Ok(Scored {
            test: score(test, mae.map(|m| m.0)),
            train: score(&train, mae.map(|m| m.1)),
            coefficients: CoefficientsRecord { weights: vec![sol.wz.to_vec()], intercepts: vec![sol.bz] },
        })
    }

    /// Σ|residual| on each fold's test and training rows for every alpha: one pass over
    /// the rows, in chunks (in parallel, summed in chunk order), each chunk times the
    /// matrix of every (fold, alpha) weight vector.
    fn abs_residuals(&self) -> AbsResiduals {
        let (folds, na, d) = (self.blocks.len() - 1, self.alphas.len(), self.shift_x.len());
        let solutions: Vec<Option<Solution>> = (0..folds)
            .flat_map(|f| self.alphas.iter().map(move |&a| (a, f)))
            .map(|(a, f)| self.solve(a, f).ok())
            .collect();
        let weights = Array2::from_shape_fn((d, folds * na), |(j, k)| solutions[k].as_ref().map_or(0.0, |s| s.v[j]));
        let c0: Vec<f64> = solutions.iter().map(|s| s.as_ref().map_or(f64::NAN, |s| s.c0)).collect();
        let n = self.y.len();
        let starts: Vec<usize> = (0..n).step_by(CHUNK).collect();
        let partials: Vec<Vec<(f64, f64)>> = starts
            .par_iter()
            .map(|&start| {
                let rows = start..(start + CHUNK).min(n);
                let x = Array2::from_shape_fn((rows.len(), d), |(i, j)| self.columns[j][start + i] - self.shift_x[j]);
                let z = x.dot(&weights);
                let mut sums = vec![(0.0, 0.0); folds * na];
                for (i, r) in rows.enumerate() {
                    let yc = self.y[r] - self.shift_y;
                    for (k, sum) in sums.iter_mut().enumerate() {
                        let abs = (yc - c0[k] - z[[i, k]]).abs();
                        if self.block_of[r] == k / na {
                            sum.0 += abs;
                        } else {
                            sum.1 += abs;
                        }
                    }
                }
                sums
            })
            .collect();
        let mut total = vec![(0.0, 0.0); folds * na];
        for p in partials {
            for (t, s) in total.iter_mut().zip(p) {
                t.0 += s.0;
                t.1 += s.1;
            }
        }
        total.chunks(na).map(<[(f64, f64)]>::to_vec).collect()
    }
}

pub struct Scored {
    pub test: BTreeMap<Metric, Option<f64>>,
    pub train: BTreeMap<Metric, Option<f64>>,
    pub coefficients: CoefficientsRecord,
}

fn outer(a: &Array1<f64>, b: &Array1<f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j])
}
