//! A shortcut for ridge grids: one pass over the data accumulates, for every fold's test
//! block, the column sums and the least-squares sums (`BlockStats`, of values shifted by the
//! column means, for accuracy). A fold's training sums are the total minus its block. From
//! them the streamed sweep's own pieces give everything, so no fold matrix is ever built:
//! the fold's scaling (`preprocess::fit_from_sums`), its design-space Gram matrix
//! (`BlockStats::design_gram`), the solve (`models::solve_ridge`, as `fit_ridge` solves) and
//! both sides' mse/rmse/r2 (`metrics::RegressionSums`). Ridge trials with steps take it too
//! when their design is an affine map of fixed row functions (`ridge_rows`): one set of sums
//! per step setting, of the rows through `poly`/`log1p`, and each fold's scaler after them
//! fitted from the sums. This file decides when that applies (see `RidgePath::prepare`);
//! otherwise the sweep takes the ordinary path, which gives the same numbers up to rounding
//! (tests compare the two).

use super::layout::Layout;
use super::ridge_rows::{self, DesignMap, Extremes, Source, CHUNK};
use super::stats::{shifted_predictor, BlockStats, BlockSums};
use crate::config::{Metric, PreprocessConfig, Scale};
use crate::data::{Dataset, Feature, Target};
use crate::kinds::ModelSpec;
use crate::metrics::RegressionSums;
use crate::models::linear::RidgeParams;
use crate::models::solve_ridge;
use crate::preprocess::steps::split_from_sums;
use crate::preprocess::{feature_names, fit_from_sums, BlockColumns, CenteredGram, TargetFunc};
use crate::split::Fold;
use crate::trial::{CoefficientsRecord, Trial};
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::OnceLock;

pub struct RidgePath<'a> {
    /// The ridge trials without steps, when the raw columns qualify.
    plain: Option<Design<'a>>,
    /// The ridge trials with steps, by `Trial::steps_key`, for each setting that qualifies.
    stepped: BTreeMap<String, Design<'a>>,
    y: &'a [f64],
    shift_y: f64,
    /// Each row's block (its test fold, or `folds.len()`), for metrics that need residuals.
    block_of: Vec<usize>,
    wants_mae: bool,
}

/// One design's statistics: the rows' parts `u`, their per-block sums and each fold's map.
struct Design<'a> {
    source: Source<'a>,
    /// Subtracted from each part while accumulating (its mean over every row).
    shift: Array1<f64>,
    /// One block per fold (its test rows), then the rows no fold tests.
    blocks: Vec<BlockStats>,
    total: BlockStats,
    /// Each fold's design map (its scaling, fitted from its training sums), or why not.
    maps: Vec<Result<DesignMap, String>>,
    /// Each fold's design-space Gram matrix, made once and solved for every alpha.
    grams: Vec<OnceLock<CenteredGram>>,
    /// The distinct alphas of the design's trials, and (when mae is asked for) each fold's
    /// summed absolute residuals for each alpha, computed together on first use.
    alphas: Vec<f64>,
    abs_residuals: OnceLock<AbsResiduals>,
    /// The design's column names when steps made them (the coefficients' `features`).
    names: Option<Vec<String>>,
}

/// What every design's sums share: the target, its shift and the rows of each block.
struct Rows<'a> {
    y: &'a [f64],
    shift_y: f64,
    rows_of: Vec<Vec<usize>>,
}

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

/// (d × d) statistics per fold block only pay off when there are fewer columns than rows
/// (and fit in memory); wide data takes the dual on the ordinary path.
fn fits_in_sums(d: usize, n: usize) -> bool {
    d <= n / 2 && d <= 2048
}

/// Each block's least-squares sums, in coordinates shifted by `shift`, and its parts'
/// extremes (steps only; empty for the raw columns, whose maps do not read them): (block, chunk of rows) pieces in parallel, as many at a time as there are
/// threads (each is width² floats), each block's pieces added in order (so the sums do not
/// depend on the threads).
fn block_stats(source: &Source<'_>, shift: &Array1<f64>, rows: &Rows<'_>) -> (Vec<BlockStats>, Vec<Extremes>) {
    let d = source.width();
    let work: Vec<(usize, &[usize])> =
        rows.rows_of.iter().enumerate().flat_map(|(b, rows)| rows.chunks(CHUNK).map(move |c| (b, c))).collect();
    let mut blocks = vec![BlockStats::zeros(d); rows.rows_of.len()];
    let mut extremes = vec![Extremes::empty(d); rows.rows_of.len()];
    for group in work.chunks(rayon::current_num_threads().max(1)) {
        let pieces: Vec<(usize, BlockStats, Extremes)> = group
            .par_iter()
            .map(|&(b, chunk)| {
                let (x, extremes) = source.shifted(chunk, shift);
                let yc = Array1::from_iter(chunk.iter().map(|&r| rows.y[r] - rows.shift_y));
                (b, BlockStats::from_rows(x.view(), yc.view()), extremes.unwrap_or_else(|| Extremes::empty(d)))
            })
            .collect();
        for (b, s, e) in &pieces {
            blocks[*b].add(s);
            extremes[*b].add(e);
        }
    }
    (blocks, extremes)
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

impl<'a> Design<'a> {
    fn new(
        source: Source<'a>,
        shift: Array1<f64>,
        rows: &Rows<'_>,
        maps: impl FnOnce(&[BlockStats], &[Extremes], &BlockStats) -> Vec<Result<DesignMap, String>>,
        alphas: Vec<f64>,
        names: Option<Vec<String>>,
    ) -> Design<'a> {
        let (blocks, extremes) = block_stats(&source, &shift, rows);
        let mut total = BlockStats::zeros(source.width());
        for b in &blocks {
            total.add(b);
        }
        let maps = maps(&blocks, &extremes, &total);
        let grams = (0..maps.len()).map(|_| OnceLock::new()).collect();
        Design { source, shift, blocks, total, maps, grams, alphas, abs_residuals: OnceLock::new(), names }
    }
}

/// The sorted distinct alphas of `alphas`.
fn distinct(mut alphas: Vec<f64>) -> Vec<f64> {
    alphas.sort_by(f64::total_cmp);
    alphas.dedup();
    alphas
}

/// The design the shortcut would score `trial` from (`None`: its plain design; else its
/// steps setting) and its parameters, when it is a ridge the shortcut can take.
fn wanted(trial: &Trial) -> Option<(Option<String>, &RidgeParams)> {
    let ModelSpec::Ridge(p) = &trial.spec else { return None };
    if !p.fit_intercept {
        return None;
    }
    if !trial.has_pipeline() {
        return Some((None, p));
    }
    // A transformed target's sums would be of the transformed target, refitted per fold; and
    // alpha = 0 is the ordinary path's minimum-norm least squares, not a Cholesky solve.
    let takes = trial.target == TargetFunc::None && p.alpha > 0.0 && split_from_sums(&trial.steps).is_some();
    takes.then(|| (Some(trial.steps_key()), p))
}

/// The raw columns' design, when they qualify: numeric, without gaps, `none` or `standard`
/// scaling, few enough.
fn plain_design<'a>(
    ds: &'a Dataset,
    preprocess: &PreprocessConfig,
    alphas: Vec<f64>,
    rows: &Rows<'_>,
) -> Option<Design<'a>> {
    let n = ds.rows();
    let mut columns = Vec::new();
    for f in &ds.loaded().features {
        let Feature::Numeric { name, values } = f else { return None };
        if values.iter().any(|v| v.is_nan()) || preprocess.rule_for(name).scale == Scale::Minmax {
            return None;
        }
        columns.push(values.as_slice());
    }
    if alphas.is_empty() || !fits_in_sums(columns.len(), n) {
        return None;
    }
    let means: Vec<f64> = columns.iter().map(|c| c.iter().sum::<f64>() / n as f64).collect();
    let layout = Layout::new(ds, &means);
    let maps =
        |_: &[BlockStats], _: &[Extremes], _: &BlockStats| design_maps(ds, preprocess, &layout, &rows.rows_of, &means);
    Some(Design::new(Source::Columns(columns), layout.shift.clone(), rows, maps, alphas, None))
}

/// The design of `trial`'s steps, when they qualify: row functions then at most one scaler
/// (`steps::split_from_sums`) on a design `[preprocess]` makes alike for every fold, which
/// every row function accepts, few enough columns.
fn stepped_design(
    ds: &Dataset,
    preprocess: &PreprocessConfig,
    trial: &Trial,
    alphas: Vec<f64>,
    rows: &Rows<'_>,
) -> Option<Design<'static>> {
    let (fixed, scaler) = split_from_sums(&trial.steps)?;
    let base = ridge_rows::fold_independent_design(ds, preprocess)?;
    let input = feature_names(ds, preprocess.drop_first);
    let (source, shift, names) = ridge_rows::through_row_functions(base, fixed, &input)?;
    if !fits_in_sums(source.width(), ds.rows()) {
        return None;
    }
    let maps = |blocks: &[BlockStats], extremes: &[Extremes], total: &BlockStats| {
        ridge_rows::scaler_maps(scaler, blocks, extremes, total, &shift)
    };
    Some(Design::new(source, shift.clone(), rows, maps, alphas, Some(names)))
}

impl<'a> RidgePath<'a> {
    /// The statistics, or `None` when the sweep does not qualify: a regression target,
    /// folds whose test parts are disjoint and whose training part is the rest, metrics
    /// among mse, rmse, r2 and mae, no sample weights (its sums are unweighted; weighted
    /// ridge takes the ordinary path), and at least one ridge trial whose design qualifies
    /// (`plain_design`, `stepped_design`).
    pub fn prepare(
        ds: &'a Dataset,
        preprocess: &PreprocessConfig,
        folds: &[Fold],
        trials: &[Trial],
        metrics: &[Metric],
    ) -> Option<RidgePath<'a>> {
        let Target::Regression(y) = &ds.loaded().target else { return None };
        if ds.loaded().weights.is_some() || !metrics.iter().all(|&m| shortcut_metric(m)) {
            return None;
        }
        let n = ds.rows();
        let block_of = test_blocks(folds, n)?;
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); folds.len() + 1];
        for (r, &b) in block_of.iter().enumerate() {
            rows_of[b].push(r);
        }
        let rows = Rows { y: y.as_slice(), shift_y: y.iter().sum::<f64>() / n as f64, rows_of };
        let mut settings: BTreeMap<Option<String>, (&Trial, Vec<f64>)> = BTreeMap::new();
        for t in trials {
            if let Some((key, p)) = wanted(t) {
                settings.entry(key).or_insert((t, Vec::new())).1.push(p.alpha);
            }
        }
        let mut plain = None;
        let mut stepped = BTreeMap::new();
        for (key, (trial, alphas)) in settings {
            match key {
                None => plain = plain_design(ds, preprocess, distinct(alphas), &rows),
                Some(key) => {
                    if let Some(d) = stepped_design(ds, preprocess, trial, distinct(alphas), &rows) {
                        stepped.insert(key, d);
                    }
                }
            }
        }
        if plain.is_none() && stepped.is_empty() {
            return None;
        }
        let (y, shift_y, wants_mae) = (rows.y, rows.shift_y, metrics.contains(&Metric::Mae));
        Some(RidgePath { plain, stepped, y, shift_y, block_of, wants_mae })
    }

    /// The design `trial` is scored from and its parameters, when the shortcut takes it.
    fn design_of<'s>(&'s self, trial: &'s Trial) -> Option<(&'s Design<'a>, &'s RidgeParams)> {
        let (key, p) = wanted(trial)?;
        let design = match key {
            None => self.plain.as_ref()?,
            Some(key) => self.stepped.get(&key)?,
        };
        Some((design, p))
    }

    /// Solves the ridge of fold `f` from its training sums, as the streamed sweep does.
    fn solve(&self, d: &Design<'_>, alpha: f64, f: usize) -> Result<Solution, String> {
        let map = d.maps[f].as_ref()?;
        let gram =
            d.grams[f].get_or_init(|| d.total.minus(&d.blocks[f]).design_gram(&d.shift, self.shift_y, map, true));
        let model = solve_ridge(gram, alpha).map_err(|e| e.to_string())?;
        let (c0, v) = shifted_predictor(map, &d.shift, self.shift_y, &model.weights, model.intercept);
        Ok(Solution { c0, v, w: model.weights, b: model.intercept })
    }

    /// Fits `trial` on fold `f` and scores both sides; `None` when the shortcut does not take
    /// the trial or its solve fails (the ordinary path's SVD fallback may then succeed).
    pub fn unit(&self, trial: &Trial, f: usize, metrics: &[Metric]) -> Option<ShortcutScores> {
        let (design, params) = self.design_of(trial)?;
        let sol = self.solve(design, params.alpha, f).ok()?;
        let mae = if self.wants_mae {
            let k = design.alphas.iter().position(|&a| a == params.alpha)?;
            Some(design.abs_residuals.get_or_init(|| self.abs_residuals(design))[f][k])
        } else {
            None
        };
        let test = &design.blocks[f];
        let train = design.total.minus(test);
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
        let weights = vec![sol.w.to_vec()];
        Some(ShortcutScores {
            test: score(test, mae.map(|m| m.0)),
            train: score(&train, mae.map(|m| m.1)),
            coefficients: CoefficientsRecord { weights, intercepts: vec![sol.b], features: design.names.clone() },
        })
    }

    /// Σ|residual| on each fold's test and training rows for every alpha of a design: one
    /// pass over the rows, in chunks (in parallel, summed in chunk order), each chunk times
    /// the matrix of every (fold, alpha) weight vector.
    fn abs_residuals(&self, d: &Design<'_>) -> AbsResiduals {
        let (folds, na, width) = (d.blocks.len() - 1, d.alphas.len(), d.source.width());
        let solutions: Vec<Option<Solution>> = (0..folds)
            .flat_map(|f| d.alphas.iter().map(move |&a| (a, f)))
            .map(|(a, f)| self.solve(d, a, f).ok())
            .collect();
        let weights =
            Array2::from_shape_fn((width, folds * na), |(j, k)| solutions[k].as_ref().map_or(0.0, |s| s.v[j]));
        let c0: Vec<f64> = solutions.iter().map(|s| s.as_ref().map_or(f64::NAN, |s| s.c0)).collect();
        let n = self.y.len();
        let starts: Vec<usize> = (0..n).step_by(CHUNK).collect();
        let partials: Vec<Vec<(f64, f64)>> = starts
            .par_iter()
            .map(|&start| {
                let rows: Vec<usize> = (start..(start + CHUNK).min(n)).collect();
                let (x, _) = d.source.shifted(&rows, &d.shift);
                let z = x.dot(&weights).as_standard_layout().into_owned();
                let z = z.as_slice().expect("a standard layout");
                let mut sums = vec![(0.0, 0.0); folds * na];
                for (z_row, &r) in z.chunks(folds * na).zip(&rows) {
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
