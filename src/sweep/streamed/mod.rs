//! The streamed sweep (`[dataset] streaming`): every unit from a few passes over the file,
//! holding one byte per row (its fold block) and sums, never the rows.
//!
//! 1. Sums: per fold block, the column sums every fold's preprocessing is fitted from and,
//!    when a closed-form trial runs, the least-squares sums of the raw parts `u` (`layout`).
//!    A linear_regression or ridge with model steps takes one more pass: its steps' columns
//!    summed per block, one set per step setting (`steps`).
//! 2. Fits: ordinary least squares and ridge from each fold's sums (`BlockStats::design_gram`,
//!    then `models::linear`'s solves from sums), for every alpha and fold at once; gradient
//!    descent one pass per epoch (`descent`).
//! 3. Scores: one pass predicts every unit's rows and adds them to its metric sums (`score`).
//!
//! A fold's training sums are every block but its own, added in block order; within a pass
//! batches are added in batch order: the numbers do not depend on `--jobs`.

mod descent;
mod logistic;
mod score;
mod steps;

use super::layout::Layout;
use super::ridge_rows::DesignMap;
use super::stats::{shifted_predictor, BlockStats, BlockSums as Sums, Training};
use super::{failed, note_missing_metrics, ok, require_rank_metric, EnvironmentError, SweepInput, UnitFilter};
use crate::data::stream::{Batch, StreamSource};
use crate::data::Target;
use crate::kinds::{ModelSpec, Streamed};
use crate::models::gd::{linear_setup, logistic_setup};
use crate::models::logistic::LogisticParams;
use crate::models::{least_squares_from_gram, ridge_from_gram, FitError, Fitted};
use crate::plan::StreamPlan;
use crate::preprocess::{apply_saved, fit_from_sums, BlockColumns, SavedColumn, SavedStep};
use crate::random::RandomState;
use crate::split::FoldBlocks;
use crate::trial::{unit_seed, CoefficientsRecord, SeedStream, Status, Trial, UnitRecord};
use descent::GdUnit;
use ndarray::{s, Array1, Array2, Axis};
use rayon::prelude::*;
use score::{PartsScores, SideSums};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use steps::StepSums;

/// Where a pass is, for the progress bar.
pub struct PassProgress {
    /// From 1.
    pub pass: usize,
    pub what: String,
    pub batches_done: usize,
    pub batches: usize,
    pub bytes: u64,
}

/// The streamed run's shared state: the source, the blocks, the layout and each fold's
/// preprocessing once fitted.
struct Stream<'a> {
    input: &'a SweepInput<'a>,
    plan: &'a StreamPlan,
    blocks: &'a FoldBlocks,
    /// What each unit's fold index means: the sweep's folds, or the refit's one part.
    slots: Vec<Slot>,
    layout: Layout,
    stop: &'a AtomicBool,
    passes: std::sync::atomic::AtomicUsize,
    /// The first pass that failed (the file changed or could not be read): the run stops
    /// with it, and no unit records it.
    failure: std::sync::Mutex<Option<String>>,
    /// The model steps' sums and each slot's fit of them, once taken (`steps`).
    steps: std::sync::OnceLock<StepSums>,
}

/// The rows a unit learns from: every block but `held_out` (its test rows), or every row;
/// its seed is derived from `seed_fold`.
#[derive(Debug, Clone, Copy)]
struct Slot {
    held_out: Option<usize>,
    seed_fold: usize,
}

/// A slot's fitted preprocessing, or why it could not be fitted.
type Prep = Result<Vec<SavedColumn>, String>;

/// A unit's outcome before scoring.
type Fit = Result<Box<dyn Fitted>, FitError>;

/// Runs the units `filter` selects; records come back in (trial, fold) order. A pass that
/// fails is the environment's failure, not the units': nothing is recorded then.
pub fn run(
    input: &SweepInput<'_>,
    plan: &StreamPlan,
    blocks: &FoldBlocks,
    filter: &UnitFilter<'_>,
    stop: &AtomicBool,
    sink: &(dyn Fn(&UnitRecord) + Sync),
) -> Result<Vec<UnitRecord>, EnvironmentError> {
    let units: Vec<(usize, usize)> = (0..input.trials.len())
        .flat_map(|t| (0..blocks.folds).map(move |f| (t, f)))
        .filter(|&(t, f)| filter.wants(&input.trials[t], t, f, blocks.folds))
        .collect();
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let slots = (0..blocks.folds).map(|f| Slot { held_out: Some(f), seed_fold: f }).collect();
    let s = Stream::new(input, plan, blocks, slots, stop);
    let records = s.fit_and_score(&units).map_err(EnvironmentError)?;
    if stop.load(Ordering::Relaxed) {
        return Ok(Vec::new());
    }
    let records: Vec<UnitRecord> =
        records.into_iter().map(|r| note_missing_metrics(require_rank_metric(r, input.rank_by))).collect();
    for r in &records {
        sink(r);
    }
    Ok(records)
}

/// The best trial fitted once more over the stream, with its preprocessing.
pub struct Refitted {
    pub preprocessing: Vec<SavedColumn>,
    /// The model's own steps, fitted on the same rows after `preprocessing`, and the columns
    /// they make (`None`: no steps, `preprocessing`'s columns).
    pub steps: Vec<SavedStep>,
    pub features: Option<Vec<String>>,
    pub model: Box<dyn Fitted>,
    /// Rows it learned from.
    pub rows: usize,
    /// Its test metrics when it held rows out (a holdout's test part).
    pub test: Option<BTreeMap<crate::config::Metric, Option<f64>>>,
}

/// Fits trial `t` on every block but `held_out` (all rows when `None`), its seed from
/// `seed_fold`: the streamed refit. The inner error says why the trial could not be fitted;
/// the outer one is a pass that failed.
pub fn refit(
    input: &SweepInput<'_>,
    plan: &StreamPlan,
    blocks: &FoldBlocks,
    t: usize,
    held_out: Option<usize>,
    seed_fold: usize,
) -> Result<Result<Refitted, String>, EnvironmentError> {
    let stop = AtomicBool::new(false);
    let s = Stream::new(input, plan, blocks, vec![Slot { held_out, seed_fold }], &stop);
    let (mut fits, mut prep) = s.fit(&[(t, 0)]).map_err(EnvironmentError)?;
    let fitted = prep.remove(0).and_then(|p| {
        let model = fits.remove(&(t, 0)).ok_or("the refit did not run")?.map_err(|e| e.to_string())?;
        Ok((p, model))
    });
    let (preprocessing, model) = match fitted {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let rows = held_out.map_or(blocks.block_of.len(), |b| blocks.sizes[b].0);
    let fits = BTreeMap::from([((t, 0), Ok(model))]);
    let test = match held_out {
        Some(_) => s.score(&fits, &[Ok(preprocessing.clone())]).map_err(EnvironmentError)?.into_iter().next(),
        None => None,
    };
    let Some(Ok(model)) = fits.into_values().next() else { return Ok(Err("the refit did not run".into())) };
    let (steps, features) = match s.step_fit(&input.trials[t], 0) {
        Some(Ok((design, slot))) => (slot.steps.clone(), Some(design.names.clone())),
        Some(Err(e)) => return Ok(Err(e)),
        None => (Vec::new(), None),
    };
    Ok(Ok(Refitted { preprocessing, model, rows, test: test.map(|r| r.test), steps, features }))
}

fn is_closed_form(spec: &ModelSpec) -> bool {
    matches!(spec.streamed(), Streamed::LeastSquares(_) | Streamed::Ridge(_))
}

/// A closed form on `[preprocess]`'s design alone, fitted from the raw parts' sums (`layout`).
fn is_plain_closed_form(trial: &Trial) -> bool {
    trial.steps.is_empty() && is_closed_form(&trial.spec)
}

impl<'a> Stream<'a> {
    fn new(
        input: &'a SweepInput<'a>,
        plan: &'a StreamPlan,
        blocks: &'a FoldBlocks,
        slots: Vec<Slot>,
        stop: &'a AtomicBool,
    ) -> Self {
        let layout = Layout::new(input.dataset, &plan.feature_means);
        let (passes, failure) = (std::sync::atomic::AtomicUsize::new(0), std::sync::Mutex::new(None));
        let steps = std::sync::OnceLock::new();
        Stream { input, plan, blocks, slots, layout, stop, passes, failure, steps }
    }
}

impl Stream<'_> {
    fn source(&self) -> &StreamSource {
        &self.plan.source
    }

    /// The first failed pass, if any.
    fn failed(&self) -> Result<(), String> {
        match self.failure.lock().ok().and_then(|f| f.clone()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn fit_and_score(&self, units: &[(usize, usize)]) -> Result<Vec<UnitRecord>, String> {
        let (fits, preprocessing) = self.fit(units)?;
        if self.stop.load(Ordering::Relaxed) {
            return Ok(Vec::new());
        }
        self.score(&fits, &preprocessing)
    }

    /// Every unit's fit, and each slot's preprocessing.
    #[allow(clippy::type_complexity)]
    fn fit(&self, units: &[(usize, usize)]) -> Result<(BTreeMap<(usize, usize), Fit>, Vec<Prep>), String> {
        let trials = self.input.trials;
        let gram = units.iter().any(|&(t, _)| is_plain_closed_form(&trials[t]));
        let sums = self.sums(gram)?;
        let training: Vec<Training> = self.slots.iter().map(|s| sums.training(s.held_out)).collect();
        let preprocessing: Vec<Prep> = training
            .iter()
            .map(|t| {
                fit_from_sums(self.input.dataset, self.input.preprocess, &t.columns, &self.plan.feature_means)
                    .map_err(|e| e.to_string())
            })
            .collect();
        self.step_sums(units, &preprocessing)?;
        let mut fits: BTreeMap<(usize, usize), Fit> = BTreeMap::new();
        let mut gd = Vec::new();
        let mut lbfgs = Vec::new();
        // Fold by fold: one fold's training Gram matrix at a time (each is parts² floats).
        for (f, prep) in preprocessing.iter().enumerate() {
            let mine: Vec<usize> = units.iter().filter(|&&(_, g)| g == f).map(|&(t, _)| t).collect();
            let gram = mine
                .iter()
                .any(|&t| is_plain_closed_form(&trials[t]))
                .then(|| sums.training_gram(self.slots[f].held_out))
                .flatten();
            for t in mine {
                let prep = match prep {
                    Ok(p) => p,
                    Err(e) => {
                        fits.insert((t, f), Err(FitError::Solver(e.clone())));
                        continue;
                    }
                };
                match self.setup(t, f, prep, &training[f], gram.as_ref()) {
                    Setup::Fitted(fit) => {
                        fits.insert((t, f), fit);
                    }
                    Setup::Descent(unit) => gd.push(((t, f), unit)),
                    Setup::Lbfgs(params, rows, width) => lbfgs.push(((t, f), params, rows, width)),
                }
            }
        }
        fits.extend(self.logistic_paths(lbfgs, &preprocessing));
        // A logistic unit's failed pass is the run's failure, not the unit's.
        self.failed()?;
        for (key, fit) in self.descend(gd, &preprocessing)? {
            fits.insert(key, fit);
        }
        Ok((fits, preprocessing))
    }
}

/// What a unit needs after the sums: nothing more (a closed form, fitted or failed), or
/// passes of gradient descent.
enum Setup {
    Fitted(Fit),
    Descent(Box<GdUnit>),
    /// Logistic regression by L-BFGS, each evaluation a pass: (params, training rows, width).
    Lbfgs(LogisticParams, usize, usize),
}

/// Rows of a batch grouped by block, and each row's block.
struct BatchBlocks {
    block_of: Vec<u8>,
}

impl BatchBlocks {
    fn new(blocks: &FoldBlocks, first: usize, rows: usize) -> BatchBlocks {
        BatchBlocks { block_of: blocks.block_of[first..first + rows].to_vec() }
    }

    fn rows_in(&self, b: usize) -> Vec<usize> {
        (0..self.block_of.len()).filter(|&r| self.block_of[r] as usize == b).collect()
    }

    /// Each of `blocks` blocks' rows, in batch order.
    fn by_block(&self, blocks: usize) -> Vec<Vec<usize>> {
        let mut rows = vec![Vec::new(); blocks];
        for (r, &b) in self.block_of.iter().enumerate() {
            if let Some(rows) = rows.get_mut(b as usize) {
                rows.push(r);
            }
        }
        rows
    }

    /// A slot's (test rows, training rows).
    fn parts(&self, slot: Slot) -> (Vec<usize>, Vec<usize>) {
        match slot.held_out {
            Some(b) => {
                (self.rows_in(b), (0..self.block_of.len()).filter(|&r| self.block_of[r] as usize != b).collect())
            }
            None => (Vec::new(), (0..self.block_of.len()).collect()),
        }
    }
}

/// Rows per parallel piece of a block's least-squares sums.
const CHUNK: usize = 2048;

/// A batch's rows in block order (`by_block`: each block's rows in batch order) and its pieces
/// of at most `CHUNK` rows of one block: (block, first row in that order, end).
fn pieces(by_block: &[Vec<usize>]) -> (Vec<usize>, Vec<(usize, usize, usize)>) {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (b, rows) in by_block.iter().enumerate() {
        pieces.extend((0..rows.len()).step_by(CHUNK).map(|c| (b, start + c, start + rows.len().min(c + CHUNK))));
        start += rows.len();
    }
    (by_block.concat(), pieces)
}

impl Stream<'_> {
    /// Reads the batches in `order` as pass number `pass` ("what" it is for the bar).
    fn pass(&self, what: &str, order: &[usize], mut each: impl FnMut(usize, &Batch)) -> Result<(), String> {
        let pass = self.passes.fetch_add(1, Ordering::Relaxed) + 1;
        let source = self.source();
        let (batches, bytes) = (source.batches(), source.bytes);
        let report = |done: usize| {
            if let Some(progress) = self.input.progress {
                let bytes = bytes * done as u64 / batches.max(1) as u64;
                progress(&PassProgress { pass, what: what.to_string(), batches_done: done, batches, bytes });
            }
        };
        report(0);
        let mut done = 0;
        let read = source.pass(order, self.stop, |i, batch| {
            each(i, batch);
            done += 1;
            report(done);
        });
        if let Err(e) = &read {
            if let Ok(mut first) = self.failure.lock() {
                first.get_or_insert_with(|| e.clone());
            }
        }
        read
    }

    fn blocks_of(&self, i: usize, batch: &Batch) -> BatchBlocks {
        BatchBlocks::new(self.blocks, self.source().kept_before(i), batch.rows())
    }

    /// The block sums (with `gram`, the least-squares ones too): from an earlier pass of the
    /// same plan when it has them, else from a pass now, kept for later stages.
    fn sums(&self, gram: bool) -> Result<Arc<Sums>, String> {
        let earlier = self.plan.memo.get().and_then(|m| Arc::clone(m).downcast::<Sums>().ok());
        if let Some(sums) = earlier.filter(|s| s.gram.is_some() || !gram) {
            return Ok(sums);
        }
        let sums = Arc::new(self.sums_pass(gram)?);
        let _ = self.plan.memo.set(sums.clone());
        Ok(sums)
    }

    /// Pass 1: every block's column sums and (with `gram`) least-squares sums.
    fn sums_pass(&self, gram: bool) -> Result<Sums, String> {
        let ds = self.input.dataset;
        let n_blocks = self.blocks.folds + 1;
        let zero = BlockColumns::zeros(ds);
        let mut columns = vec![zero.clone(); n_blocks];
        let mut stats = gram.then(|| vec![BlockStats::zeros(self.layout.width); n_blocks]);
        let mut classes = vec![vec![0usize; ds.classes()]; n_blocks];
        let order: Vec<usize> = (0..self.source().batches()).collect();
        self.pass("sums", &order, |i, batch| {
            let by_block = self.blocks_of(i, batch).by_block(n_blocks);
            BlockColumns::add_blocks(&mut columns, &batch.features, &by_block, &self.plan.feature_means);
            if let Target::Classification { labels, .. } = &batch.target {
                for (rows, classes) in by_block.iter().zip(&mut classes) {
                    for &r in rows {
                        classes[labels[r]] += 1;
                    }
                }
            }
            if let Some(stats) = stats.as_mut() {
                self.add_gram(batch, &by_block, stats);
            }
        })?;
        Ok(Sums { zero, columns, gram: stats, classes })
    }

    /// Adds a batch's least-squares sums of `u` to each block's (`by_block`: each block's
    /// rows in batch order): pieces of `CHUNK` rows of a block, copied out of `u` (whole rows,
    /// where filling `u` in block order would read every column scattered), summed in
    /// parallel and added in order.
    fn add_gram(&self, batch: &Batch, by_block: &[Vec<usize>], stats: &mut [BlockStats]) {
        let Target::Regression(y) = &batch.target else { return };
        let u = self.layout.rows(&batch.features, &(0..batch.rows()).collect::<Vec<_>>());
        let (order, pieces) = pieces(by_block);
        let shift_y = self.plan.target_mean;
        let yc = Array1::from_iter(order.iter().map(|&r| y[r] - shift_y));
        // As many pieces at a time as there are threads (each is parts² floats), added in
        // order: the sums do not depend on how many there are.
        for group in pieces.chunks(rayon::current_num_threads().max(1)) {
            let sums: Vec<BlockStats> = group
                .par_iter()
                .map(|&(_, a, z)| BlockStats::from_rows(u.select(Axis(0), &order[a..z]).view(), yc.slice(s![a..z])))
                .collect();
            for (&(b, ..), piece) in group.iter().zip(&sums) {
                stats[b].add(piece);
            }
        }
    }

    /// A unit's fit from its fold's sums, or its gradient-descent trainer.
    fn setup(&self, t: usize, f: usize, prep: &[SavedColumn], training: &Training, gram: Option<&BlockStats>) -> Setup {
        let trial = &self.input.trials[t];
        let slot = self.slots[f];
        let seed = unit_seed(self.input.seed, SeedStream::Unit { trial: &trial.id, fold: slot.seed_fold });
        let width: usize = prep.iter().map(SavedColumn::width).sum();
        let n_train = slot.held_out.map_or(self.blocks.block_of.len(), |b| self.blocks.sizes[b].0);
        match trial.spec.streamed() {
            Streamed::LeastSquares(_) | Streamed::Ridge(_) => {
                Setup::Fitted(self.closed_form_unit(trial, f, prep, gram))
            }
            Streamed::LinearDescent(p, opt) => Setup::Descent(Box::new(GdUnit::new(
                linear_setup(p, opt),
                1,
                crate::models::Head::Identity,
                width,
                n_train,
                seed,
            ))),
            Streamed::Logistic(p) => match self.classes_missing(training) {
                Some(e) => Setup::Fitted(Err(e)),
                None => Setup::Lbfgs(p.clone(), n_train, width),
            },
            Streamed::LogisticDescent(p, opt) => {
                let present = training.classes.iter().filter(|&&n| n > 0).count();
                if present < 2 {
                    let name = training
                        .classes
                        .iter()
                        .position(|&n| n > 0)
                        .and_then(|c| self.input.dataset.class_names().get(c).cloned());
                    return Setup::Fitted(Err(FitError::OneClass(name.unwrap_or_default())));
                }
                let (cfg, outputs, head) = logistic_setup(p, opt, self.input.dataset.classes());
                Setup::Descent(Box::new(GdUnit::new(cfg, outputs, head, width, n_train, seed)))
            }
            Streamed::Refused(why) => Setup::Fitted(Err(FitError::Solver(why.to_string()))),
        }
    }
}

impl Stream<'_> {
    /// A least-squares or ridge unit from its slot's sums: of its steps' columns when it has
    /// steps (`steps`), else of the raw parts `u` (`gram`) under the slot's `[preprocess]`.
    fn closed_form_unit(&self, trial: &Trial, f: usize, prep: &[SavedColumn], gram: Option<&BlockStats>) -> Fit {
        match self.step_fit(trial, f) {
            Some(fit) => {
                let (design, slot) = fit.map_err(FitError::Solver)?;
                self.closed_form(&trial.spec, &slot.train, &design.shift(), &slot.map)
            }
            None => {
                let stats = gram.ok_or_else(|| FitError::Solver("no sums were taken".into()))?;
                self.closed_form(&trial.spec, stats, &self.layout.shift, &self.layout.design_map(prep))
            }
        }
    }

    /// Least squares or ridge from a part's sums `stats` (of columns shifted by `shift`) in
    /// the design `z = A·u + o` that `map` gives.
    fn closed_form(&self, spec: &ModelSpec, stats: &BlockStats, shift: &Array1<f64>, map: &DesignMap) -> Fit {
        let gram = |fit_intercept| stats.design_gram(shift, self.plan.target_mean, map, fit_intercept);
        match spec.streamed() {
            Streamed::LeastSquares(p) => {
                least_squares_from_gram(&gram(p.fit_intercept), p.tol).map(|m| Box::new(m) as Box<dyn Fitted>)
            }
            Streamed::Ridge(p) => {
                ridge_from_gram(&gram(p.fit_intercept), p.alpha).map(|m| Box::new(m) as Box<dyn Fitted>)
            }
            _ => Err(FitError::Solver("not a closed form".into())),
        }
    }

    /// A trial's step design and its fit on slot `s`, when it has steps (`None`: it has none).
    fn step_fit(&self, trial: &Trial, s: usize) -> Option<Result<(&steps::StepDesign, &steps::SlotDesign), String>> {
        if trial.steps.is_empty() {
            return None;
        }
        Some(
            self.steps.get().ok_or_else(|| "the steps' sums were not taken".to_string()).and_then(|st| st.of(trial, s)),
        )
    }
}

/// A unit's (trial, fold).
type Key = (usize, usize);

/// A fitted unit being scored: its key, its model, and its test and training sums.
type Scoring<'a> = (&'a Key, &'a Box<dyn Fitted>, SideSums, SideSums);

/// A trained or failed unit, keyed by (trial, fold).
type Keyed<T> = (Key, T);

/// Which sums a closed form was fitted from: the raw parts `u` (`None`) or a step setting's
/// columns (its `Trial::steps_key`).
type PartsOf = Option<String>;

/// A closed form in the coordinates of its sums: (c0, v, the block it holds out).
type InParts = (f64, Array1<f64>, Option<usize>);

impl Stream<'_> {
    /// A batch's design matrix under slot `s`'s preprocessing. One slot's at a time: every
    /// fold's at once would multiply a batch's memory by the folds.
    fn design(&self, batch: &Batch, prep: &[Prep], s: usize) -> Option<Array2<f64>> {
        prep[s].as_ref().ok().and_then(|p| apply_saved(p, &batch.features).ok())
    }

    /// Gradient descent for every unit at once: a starting-loss pass when a mini-batch
    /// unit needs one, then one pass per epoch until every unit has stopped.
    fn descend(&self, mut units: Vec<Keyed<Box<GdUnit>>>, prep: &[Prep]) -> Result<Vec<Keyed<Fit>>, String> {
        let batches = self.source().batches();
        let in_order: Vec<usize> = (0..batches).collect();
        if units.iter().any(|(_, u)| u.needs_start_loss()) {
            self.pass("starting loss", &in_order, |i, batch| {
                self.feed(i, batch, prep, &mut units, |u, x, y, rows| {
                    if u.needs_start_loss() {
                        u.add_start_loss(x, y, rows)
                    }
                })
            })?;
            units.iter_mut().filter(|(_, u)| u.needs_start_loss()).for_each(|(_, u)| u.finish_start_loss());
        }
        let mut epoch = 1;
        while units.iter().any(|(_, u)| !u.done()) && !self.stop.load(Ordering::Relaxed) {
            let order = if units.iter().all(|(_, u)| u.full_batch()) {
                in_order.clone()
            } else {
                RandomState::new(unit_seed(self.input.seed, SeedStream::BatchOrder(epoch))).permutation(batches)
            };
            self.pass(&format!("epoch {epoch}"), &order, |i, batch| {
                self.feed(i, batch, prep, &mut units, |u, x, y, rows| u.add_batch(x, y, rows))
            })?;
            units.iter_mut().for_each(|(_, u)| u.end_epoch());
            epoch += 1;
        }
        Ok(units.into_iter().map(|(key, u)| (key, u.into_model().map(|m| Box::new(m) as Box<dyn Fitted>))).collect())
    }

    /// Hands a batch's training rows of each unit's fold to `step`, units in parallel (a
    /// unit whose trainer panics fails alone).
    fn feed(
        &self,
        i: usize,
        batch: &Batch,
        prep: &[Prep],
        units: &mut [Keyed<Box<GdUnit>>],
        step: impl Fn(&mut GdUnit, &Array2<f64>, &[f64], &[usize]) + Sync,
    ) {
        let blocks = self.blocks_of(i, batch);
        let y: Vec<f64> = match &batch.target {
            Target::Regression(y) => y.clone(),
            Target::Classification { labels, .. } => labels.iter().map(|&c| c as f64).collect(),
        };
        for s in 0..self.slots.len() {
            let live = |((_, f), u): &&mut Keyed<Box<GdUnit>>| *f == s && !u.done();
            if !units.iter_mut().any(|u| live(&u)) {
                continue;
            }
            let Some(x) = self.design(batch, prep, s) else { continue };
            let train = blocks.parts(self.slots[s]).1;
            units.par_iter_mut().filter(live).for_each(|(_, u)| {
                if super::unit::guarded(super::unit::Stage::Sweep, || step(u, &x, &y, &train)).is_err() {
                    u.fail(FitError::Solver("internal error in the trainer".into()));
                }
            });
        }
    }

    /// A least-squares or ridge unit's model in the coordinates of the sums it was fitted
    /// from, with the block it holds out (what `PartsScores` scores), and which sums: `None`
    /// the raw parts `u`, else its steps' setting. `None` for other units.
    fn in_parts(&self, &(t, f): &Key, model: &dyn Fitted, prep: &[Prep]) -> Option<(PartsOf, InParts)> {
        let trial = &self.input.trials[t];
        if !is_closed_form(&trial.spec) {
            return None;
        }
        let parts = model.linear()?;
        let [b] = parts.intercepts.as_slice() else { return None };
        let w = parts.weights.row(0).to_owned();
        let (key, (c0, v)) = match self.step_fit(trial, f) {
            Some(fit) => {
                let (design, slot) = fit.ok()?;
                (Some(trial.steps_key()), shifted_predictor(&slot.map, &design.shift(), self.plan.target_mean, &w, *b))
            }
            None => {
                let map = self.layout.design_map(prep[f].as_ref().ok()?);
                (None, shifted_predictor(&map, &self.layout.shift, self.plan.target_mean, &w, *b))
            }
        };
        Some((key, (c0, v, self.slots[f].held_out)))
    }

    /// One pass adds every fitted unit's predictions of its fold's rows to both sides'
    /// metric sums: least squares and ridge from each batch's raw parts or steps' columns
    /// (`PartsScores`, one per set of sums), the others from their fold's design matrix.
    fn score_pass(&self, scored: &mut [Scoring<'_>], prep: &[Prep]) -> Result<(), String> {
        let shifted: Vec<_> = scored.iter().map(|(key, model, ..)| self.in_parts(key, &***model, prep)).collect();
        let mut groups: BTreeMap<PartsOf, Vec<usize>> = BTreeMap::new();
        for (k, p) in shifted.iter().enumerate() {
            if let Some((sums, _)) = p {
                groups.entry(sums.clone()).or_default().push(k);
            }
        }
        let steps = self.steps.get();
        let scorers: Vec<(PartsOf, Vec<usize>, PartsScores)> = groups
            .into_iter()
            .map(|(sums, ks)| {
                let units: Vec<InParts> = ks.iter().filter_map(|&k| shifted[k].as_ref().map(|p| p.1.clone())).collect();
                let width = sums.as_ref().map_or(self.layout.width, |key| steps.map_or(0, |st| st.width(key)));
                (sums, ks, PartsScores::new(&units, width))
            })
            .collect();
        let order: Vec<usize> = (0..self.source().batches()).collect();
        self.pass("scores", &order, |i, batch| {
            let blocks = self.blocks_of(i, batch);
            let base = steps.filter(|_| scorers.iter().any(|(s, ..)| s.is_some())).and_then(|st| st.base(batch));
            for (sums, ks, scorer) in &scorers {
                let rows = |a: usize, z: usize| match (sums, steps, &base) {
                    (None, ..) => Some(self.layout.rows(&batch.features, &(a..z).collect::<Vec<_>>())),
                    (Some(key), Some(st), Some(base)) => st.parts(key, base, a, z),
                    _ => None,
                };
                let Some(sums) = scorer.batch(&rows, batch, &blocks.block_of, self.plan.target_mean) else { continue };
                for (&k, [test, train]) in ks.iter().zip(&sums) {
                    scored[k].2.merge(test);
                    scored[k].3.merge(train);
                }
            }
            for s in 0..self.slots.len() {
                let plain = |t: usize| self.input.trials[t].steps.is_empty();
                let mine = |k: usize| scored[k].0 .1 == s && shifted[k].is_none() && plain(scored[k].0 .0);
                if !(0..scored.len()).any(mine) {
                    continue;
                }
                let Some(x) = self.design(batch, prep, s) else { continue };
                let (test_rows, train_rows) = blocks.parts(self.slots[s]);
                // Each unit predicts alone: one matrix product over the units a run happens to
                // score (fewer after a resume, others in a shard) could round differently.
                scored
                    .par_iter_mut()
                    .zip(&shifted)
                    .filter(|(((t, f), ..), p)| *f == s && p.is_none() && plain(*t))
                    .for_each(|((_, model, test, train), _)| {
                        let prediction = model.predict(&x);
                        test.add(&batch.target, &prediction, &test_rows);
                        train.add(&batch.target, &prediction, &train_rows);
                    });
            }
        })
    }

    /// The scoring pass (`score_pass`), then each unit's record.
    fn score(&self, fits: &BTreeMap<(usize, usize), Fit>, prep: &[Prep]) -> Result<Vec<UnitRecord>, String> {
        let ds = self.input.dataset;
        let new_sums = || SideSums::new(ds.classes(), self.plan.target_mean);
        let mut scored: Vec<Scoring<'_>> =
            fits.iter().filter_map(|(key, fit)| fit.as_ref().ok().map(|m| (key, m, new_sums(), new_sums()))).collect();
        self.score_pass(&mut scored, prep)?;
        let mut sums: BTreeMap<(usize, usize), (SideSums, SideSums)> =
            scored.into_iter().map(|(key, _, test, train)| (*key, (test, train))).collect();
        let names = crate::preprocess::feature_names(ds, self.input.preprocess.drop_first);
        let scaled = self.input.preprocess.scales_every_column();
        Ok(fits
            .iter()
            .map(|(&(t, f), fit)| {
                let trial = &self.input.trials[t];
                match (fit, sums.remove(&(t, f))) {
                    (Ok(model), Some((test, train))) => UnitRecord {
                        test: test.values(self.input.metrics),
                        train: train.values(self.input.metrics),
                        coefficients: model.linear().map(|l| CoefficientsRecord {
                            features: self.step_fit(trial, f).and_then(Result::ok).map(|(d, _)| d.names.clone()),
                            ..l.into()
                        }),
                        confusion: test.confusion(),
                        loss_curve: model.loss_curve(),
                        notes: model.notes().iter().map(|n| n.describe(&names, scaled)).collect(),
                        ..ok(trial, f)
                    },
                    (Err(e @ FitError::Diverged { .. }), _) => {
                        UnitRecord { status: Status::Diverged, ..failed(trial, f, e.to_string()) }
                    }
                    (Err(e), _) => failed(trial, f, e.to_string()),
                    (Ok(_), None) => failed(trial, f, "the unit was not scored".into()),
                }
            })
            .collect())
    }
}
