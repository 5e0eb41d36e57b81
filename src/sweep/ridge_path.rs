//! A shortcut for ridge grids: one pass over the data accumulates, for every fold's test
//! block, the column sums and the least-squares sums (`BlockStats`, of values shifted by the
//! column means, for accuracy). A fold's training sums are the total minus its block. From
//! them the streamed sweep's own pieces give everything, so no fold matrix is ever built:
//! the fold's scaling (`preprocess::fit_from_sums`), its design-space Gram matrix
//! (`BlockStats::design_gram`), the solve (`models::solve_ridge`, as `fit_ridge` solves) and
//! both sides' mse/rmse/r2 (`metrics::RegressionSums`). This file decides when that applies
//! (see `RidgePath::prepare`); otherwise the sweep takes the ordinary path, which gives the
//! same numbers up to rounding (tests compare the two).

use super::layout::Layout;
use super::stats::{shifted_predictor, BlockStats, BlockSums};
use crate::config::{Metric, PreprocessConfig, Scale};
use crate::data::{Dataset, Feature, Target};
use crate::kinds::ModelSpec;
use crate::metrics::RegressionSums;
use crate::models::linear::RidgeParams;
use crate::models::solve_ridge;
use crate::preprocess::{fit_from_sums, BlockColumns};
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
    /// Each row's parts `u` (its values, shifted by the column means) and the target's shift.
    layout: Layout,
    shift_y: f64,
    /// Each fold's design map (its scaling, fitted from its training sums), or why not.
    maps: Vec<Result<DesignMap, String>>,
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

/// `z = A·u + o`: a fold's design row from a row's raw parts.
type DesignMap = (Array2<f64>, Array1<f64>);

/// `[fold][alpha]`: (Σ|residual| over the fold's test rows, over its training rows).
type AbsResiduals = Vec<Vec<(f64, f64)>>;

/// A fold's ridge solution: the design-space coefficients `w`, `b`, and the same model in
/// shifted coordinates, a row predicting `shift_y + c0 + v·(u - shift_u)`.
struct Solution {
    c0: f64,
    v: Array1<f64>,
    w: Array1<f64>,
    b: f64,
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

/// Each block's least-squares sums, in coordinates shifted by the global means: every
/// (block, chunk of rows) in parallel, each block's chunks added in order.
fn block_stats(
    columns: &[&[f64]],
    y: &[f64],
    shift_x: &Array1<f64>,
    shift_y: f64,
    rows_of: &[Vec<usize>],
) -> Vec<BlockStats> {
    let d = columns.len();
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
            (b, BlockStats::from_rows(x.view(), yc.view()))
        })
        .collect();
    let mut blocks = vec![BlockStats::zeros(d); rows_of.len()];
    for (b, s) in &partials {
        blocks[*b].add(s);
    }
    blocks
}

/// Each fold's design map: its preprocessing fitted from its training part's column sums
/// (every block but its own, in block order), as the streamed sweep fits it.
fn design_maps(
    ds: &Dataset,
    preprocess: &PreprocessConfig,
    layout: &Layout,
    rows_of: &[Vec<usize>],
    means: &[f64],
) -> Vec<Result<DesignMap, String>> {
    let mut columns = vec![BlockColumns::zeros(ds); rows_of.len()];
    BlockColumns::add_blocks(&mut columns, &ds.loaded().features, rows_of, means);
    let classes = vec![Vec::new(); columns.len()];
    let sums = BlockSums { zero: BlockColumns::zeros(ds), columns, gram: None, classes };
    (0..rows_of.len() - 1)
        .map(|f| {
            let train = sums.training(Some(f)).columns;
            let saved = fit_from_sums(ds, preprocess, &train, means).map_err(|e| e.to_string())?;
            Ok(layout.design_map(&saved))
        })
        .collect()
}

impl<'a> RidgePath<'a> {
    /// The parameters of a trial the shortcut scores (a ridge with an intercept).
    pub fn handles(trial: &Trial) -> Option<&RidgeParams> {
        // A model's steps are fitted per fold on the fold's rows: its design is not an
        // affine map of the raw parts the block sums hold (nor is a transformed target).
        let ModelSpec::Ridge(p) = &trial.spec else { return None };
        if trial.has_pipeline() {
            return None;
        }
        p.fit_intercept.then_some(p)
    }

    /// The statistics, or `None` when the sweep does not qualify: a regression target,
    /// numeric features without missing values, `none` or `standard` scaling, folds whose
    /// test parts are disjoint and whose training part is the rest, metrics among mse, rmse,
    /// r2 and mae, at least one ridge trial, and no sample weights (its sums are unweighted;
    /// weighted ridge takes the ordinary path).
    pub fn prepare(
        ds: &'a Dataset,
        preprocess: &PreprocessConfig,
        folds: &[Fold],
        trials: &[Trial],
        metrics: &[Metric],
    ) -> Option<RidgePath<'a>> {
        let Target::Regression(y) = &ds.loaded().target else { return None };
        if ds.loaded().weights.is_some() {
            return None;
        }
        let mut alphas: Vec<f64> = trials.iter().filter_map(Self::handles).map(|p| p.alpha).collect();
        alphas.sort_by(f64::total_cmp);
        alphas.dedup();
        if !metrics.iter().all(|&m| shortcut_metric(m)) || alphas.is_empty() {
            return None;
        }
        let n = ds.rows();
        let mut columns = Vec::new();
        for f in &ds.loaded().features {
            let Feature::Numeric { name, values } = f else { return None };
            if values.iter().any(|v| v.is_nan()) || preprocess.rule_for(name).scale == Scale::Minmax {
                return None;
            }
            columns.push(values.as_slice());
        }
        let block_of = test_blocks(folds, n)?;
        let d = columns.len();
        // (d × d) statistics per fold block only pay off when there are fewer columns than
        // rows (and fit in memory); wide data takes the dual on the ordinary path.
        if d > n / 2 || d > 2048 {
            return None;
        }
        let means: Vec<f64> = columns.iter().map(|c| c.iter().sum::<f64>() / n as f64).collect();
        let shift_y = y.iter().sum::<f64>() / n as f64;
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); folds.len() + 1];
        for (r, &b) in block_of.iter().enumerate() {
            rows_of[b].push(r);
        }
        let layout = Layout::new(ds, &means);
        let blocks = block_stats(&columns, y.as_slice(), &layout.shift, shift_y, &rows_of);
        let maps = design_maps(ds, preprocess, &layout, &rows_of, &means);
        let mut total = BlockStats::zeros(d);
        for b in &blocks {
            total.add(b);
        }
        Some(RidgePath {
            blocks,
            total,
            layout,
            shift_y,
            maps,
            columns,
            y: y.as_slice(),
            block_of,
            alphas,
            abs_residuals: OnceLock::new(),
            wants_mae: metrics.contains(&Metric::Mae),
        })
    }

    /// Solves the ridge of fold `f` from its training sums, as the streamed sweep does.
    fn solve(&self, alpha: f64, f: usize) -> Result<Solution, String> {
        let map = self.maps[f].as_ref()?;
        let train = self.total.minus(&self.blocks[f]);
        let gram = train.design_gram(&self.layout.shift, self.shift_y, map, true);
        let model = solve_ridge(&gram, alpha).map_err(|e| e.to_string())?;
        let (c0, v) = shifted_predictor(map, &self.layout.shift, self.shift_y, &model.weights, model.intercept);
        Ok(Solution { c0, v, w: model.weights, b: model.intercept })
    }

    /// Fits `trial` on fold `f` and scores both sides: (test, train, coefficients).
    pub fn unit(&self, params: &RidgeParams, f: usize, metrics: &[Metric]) -> Result<ShortcutScores, String> {
        let sol = self.solve(params.alpha, f)?;
        let mae = if self.wants_mae {
            let k = self.alphas.iter().position(|&a| a == params.alpha).ok_or("alpha not on the path")?;
            Some(self.abs_residuals.get_or_init(|| self.abs_residuals())[f][k])
        } else {
            None
        };
        let test = &self.blocks[f];
        let train = self.total.minus(test);
        let score = |b: &BlockStats, sae: Option<f64>| -> BTreeMap<Metric, Option<f64>> {
            let sums = RegressionSums {
                n: b.n,
                sse: b.sse(sol.c0, &sol.v),
                sae: sae.unwrap_or(f64::NAN),
                ss_tot: b.ss_tot(),
                rows: b.n,
            };
            metrics.iter().map(|&metric| (metric, Some(sums.value(metric)).filter(|v| v.is_finite()))).collect()
        };
        Ok(ShortcutScores {
            test: score(test, mae.map(|m| m.0)),
            train: score(&train, mae.map(|m| m.1)),
            coefficients: CoefficientsRecord { weights: vec![sol.w.to_vec()], intercepts: vec![sol.b], features: None },
        })
    }
    /// Σ|residual| on each fold's test and training rows for every alpha: one pass over
    /// the rows, in chunks (in parallel, summed in chunk order), each chunk times the
    /// matrix of every (fold, alpha) weight vector.
    fn abs_residuals(&self) -> AbsResiduals {
        let (folds, na, d) = (self.blocks.len() - 1, self.alphas.len(), self.columns.len());
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
                // Filled column by column, as the raw columns lie; the product reads it transposed.
                let mut xt = Array2::zeros((d, rows.len()));
                for ((mut to, from), shift) in xt.rows_mut().into_iter().zip(&self.columns).zip(&self.layout.shift) {
                    to.iter_mut().zip(&from[rows.clone()]).for_each(|(x, v)| *x = v - shift);
                }
                let z = xt.t().dot(&weights).as_standard_layout().into_owned();
                let z = z.as_slice().expect("a standard layout");
                let mut sums = vec![(0.0, 0.0); folds * na];
                for (z_row, r) in z.chunks(folds * na).zip(rows) {
                    let yc = self.y[r] - self.shift_y;
                    let blocks = sums.chunks_mut(na).zip(z_row.chunks(na));
                    for (f, ((sums, z), c0)) in blocks.zip(c0.chunks(na)).enumerate() {
                        let tested = self.block_of[r] == f;
                        for ((sum, z), c0) in sums.iter_mut().zip(z).zip(c0) {
                            let abs = (yc - c0 - z).abs();
                            if tested {
                                sum.0 += abs;
                            } else {
                                sum.1 += abs;
                            }
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

/// A unit the shortcut fitted: both sides' metrics and its coefficients.
pub struct ShortcutScores {
    pub test: BTreeMap<Metric, Option<f64>>,
    pub train: BTreeMap<Metric, Option<f64>>,
    pub coefficients: CoefficientsRecord,
}
