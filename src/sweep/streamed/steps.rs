//! Model steps in the streamed sweep (`steps = ["poly", "standard"]` of a linear_regression
//! or ridge). The steps' row functions (`poly`, `log1p`) are applied to each batch's
//! `[preprocess]` design as it is read, and their columns' least-squares sums and extremes
//! kept per fold block, one set per distinct step setting; each slot's scaler after them is
//! fitted from its training sums, as the ridge shortcut fits it from rows in memory
//! (`ridge_rows`). The plan refuses a `[preprocess]` whose design differs between folds
//! (`plan::streaming::step_input_problems`), so one set of sums serves every fold.

use super::Stream;
use crate::data::stream::Batch;
use crate::data::Target;
use crate::preprocess::steps::{apply_all, fit_all, names_after, split_from_sums, SavedStep};
use crate::preprocess::{apply_saved, feature_names, SavedColumn, StepSpec};
use crate::sweep::ridge_rows::{scaler_map, DesignMap, Extremes};
use crate::sweep::stats::BlockStats;
use crate::trial::Trial;
use ndarray::{s, Array1, Array2, Axis};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// One step setting's per-block sums of the columns its row functions make.
pub(super) struct StepDesign {
    /// The row functions' specs, refitted on each piece of rows (which checks the values they
    /// refuse: `log1p` below -1), and their fitted state (fitted on no rows: a row function is
    /// the same fitted step on any rows it accepts).
    specs: Vec<StepSpec>,
    fixed: Vec<SavedStep>,
    scaler: Option<StepSpec>,
    /// The step's input columns (`[preprocess]`'s design) and the design's columns after it.
    input: Vec<String>,
    pub names: Vec<String>,
    /// Subtracted from each column while summing (for accuracy): its mean over the first
    /// piece of rows read (zeros when the row functions refuse it).
    shift: Option<Array1<f64>>,
    blocks: Vec<BlockStats>,
    extremes: Vec<Extremes>,
    /// The first refusal of a row function in each block, which fails every part training on it.
    refused: Vec<Option<String>>,
}

/// A slot's fit of a step setting: the map from the summed columns to its design, its
/// fitted steps (the row functions, then its scaler) and its training sums.
pub(super) struct SlotDesign {
    pub map: DesignMap,
    pub steps: Vec<SavedStep>,
    pub train: BlockStats,
}

/// Every step setting's sums and slot fits.
pub(super) struct StepSums {
    /// The `[preprocess]` the steps' input is made with (the same design in every slot).
    prep: Vec<SavedColumn>,
    designs: BTreeMap<String, Result<StepDesign, String>>,
    /// (setting, slot) → its fit.
    slots: BTreeMap<(String, usize), Result<SlotDesign, String>>,
}

impl StepDesign {
    fn new(trial: &Trial, input: &[String], blocks: usize) -> Result<StepDesign, String> {
        let (specs, scaler) = split_from_sums(&trial.steps).ok_or("these steps are not fitted from sums")?;
        let (fixed, none) = fit_all(specs, Array2::zeros((0, input.len())), None, input)?;
        let width = none.ncols();
        Ok(StepDesign {
            specs: specs.to_vec(),
            names: names_after(&fixed, input),
            fixed,
            scaler: scaler.cloned(),
            input: input.to_vec(),
            shift: None,
            blocks: vec![BlockStats::zeros(width); blocks],
            extremes: vec![Extremes::empty(width); blocks],
            refused: vec![None; blocks],
        })
    }

    fn width(&self) -> usize {
        self.names.len()
    }

    pub fn shift(&self) -> Array1<f64> {
        self.shift.clone().unwrap_or_else(|| Array1::zeros(self.width()))
    }

    /// Adds a batch's rows (`base`: its `[preprocess]` design; `by_block`: each block's rows
    /// in batch order; `yc`: the shifted targets): pieces of rows of a block (`pieces`) through
    /// the row functions, as many at a time as there are threads, summed in parallel and
    /// added in order (the sums do not depend on the threads).
    fn add(&mut self, base: &Array2<f64>, by_block: &[Vec<usize>], yc: &[f64]) {
        let (order, pieces) = super::pieces(by_block);
        for group in pieces.chunks(rayon::current_num_threads().max(1)) {
            let parts: Vec<Result<Array2<f64>, String>> = group
                .par_iter()
                .map(|&(_, a, z)| {
                    fit_all(&self.specs, base.select(Axis(0), &order[a..z]), None, &self.input).map(|(_, u)| u)
                })
                .collect();
            if self.shift.is_none() {
                // The first piece read, whatever the threads (zeros when it is refused).
                self.shift = Some(
                    parts[0]
                        .as_ref()
                        .ok()
                        .and_then(|u| u.mean_axis(Axis(0)))
                        .unwrap_or_else(|| Array1::zeros(self.width())),
                );
            }
            let shift = self.shift();
            let sums: Vec<Option<(BlockStats, Extremes)>> = group
                .par_iter()
                .zip(&parts)
                .map(|(&(_, a, z), u)| {
                    let u = u.as_ref().ok()?;
                    let y = Array1::from(yc[a..z].to_vec());
                    Some((BlockStats::from_rows((u - &shift).view(), y.view()), Extremes::of(u)))
                })
                .collect();
            for ((&(b, ..), part), sums) in group.iter().zip(&parts).zip(sums) {
                match (part, sums) {
                    (_, Some((stats, extremes))) => {
                        self.blocks[b].add(&stats);
                        self.extremes[b].add(&extremes);
                    }
                    (Err(e), None) => self.refuse(b, e),
                    (Ok(_), None) => {}
                }
            }
        }
    }

    fn refuse(&mut self, block: usize, why: &str) {
        self.refused[block].get_or_insert_with(|| why.to_string());
    }

    /// The fit of the part that trains on every block but `held_out`: its sums in block
    /// order, its scaler fitted from them.
    fn slot(&self, held_out: Option<usize>) -> Result<SlotDesign, String> {
        let others: Vec<usize> = (0..self.blocks.len()).filter(|&b| Some(b) != held_out).collect();
        if let Some(why) = others.iter().find_map(|&b| self.refused[b].clone()) {
            return Err(why);
        }
        let p = self.width();
        let (mut train, mut range) = (BlockStats::zeros(p), Extremes::empty(p));
        for &b in &others {
            train.add(&self.blocks[b]);
            range.add(&self.extremes[b]);
        }
        let Some(step) = &self.scaler else {
            return Ok(SlotDesign { map: (Array2::eye(p), Array1::zeros(p)), steps: self.fixed.clone(), train });
        };
        let (map, fitted) = scaler_map(step, &train, &range, &self.shift())?;
        let saved = step.saved_scaler(fitted).ok_or("the step is not fitted from sums")?;
        let steps = self.fixed.iter().cloned().chain([saved]).collect();
        Ok(SlotDesign { map, steps, train })
    }

    /// Rows `a..z` of a batch's `[preprocess]` design `base` through the row functions,
    /// shifted as the sums are.
    fn parts(&self, base: &Array2<f64>, a: usize, z: usize) -> Array2<f64> {
        apply_all(&self.fixed, base.slice(s![a..z, ..]).to_owned()) - &self.shift()
    }
}

impl StepSums {
    /// Trial `trial`'s design and its fit on slot `s`.
    pub fn of(&self, trial: &Trial, s: usize) -> Result<(&StepDesign, &SlotDesign), String> {
        let key = trial.steps_key();
        let design = self.designs.get(&key).ok_or("the steps' sums were not taken")?.as_ref()?;
        let slot = self.slots.get(&(key, s)).ok_or("the steps' sums were not taken")?.as_ref()?;
        Ok((design, slot))
    }

    /// A batch's `[preprocess]` design, the steps' input.
    pub fn base(&self, batch: &Batch) -> Option<Array2<f64>> {
        apply_saved(&self.prep, &batch.features).ok()
    }

    pub fn parts(&self, key: &str, base: &Array2<f64>, a: usize, z: usize) -> Option<Array2<f64>> {
        Some(self.designs.get(key)?.as_ref().ok()?.parts(base, a, z))
    }

    pub fn width(&self, key: &str) -> usize {
        self.designs.get(key).and_then(|d| d.as_ref().ok()).map_or(0, StepDesign::width)
    }
}

impl Stream<'_> {
    /// A closed form with steps among `units`: a pass sums each step setting's columns per
    /// block (`prep`: the slots' `[preprocess]`, the same design in each), then each slot's
    /// scaler is fitted from them. Nothing when no unit has steps.
    pub(super) fn step_sums(&self, units: &[(usize, usize)], prep: &[super::Prep]) -> Result<(), String> {
        let trials = self.input.trials;
        let settings: BTreeMap<String, &Trial> = units
            .iter()
            .map(|&(t, _)| &trials[t])
            .filter(|t| !t.steps.is_empty() && super::is_closed_form(&t.spec))
            .map(|t| (t.steps_key(), t))
            .collect();
        // Without a fitted `[preprocess]` every unit fails with its reason anyway.
        let Some(base_prep) = prep.iter().find_map(|p| p.as_ref().ok()) else { return Ok(()) };
        if settings.is_empty() {
            return Ok(());
        }
        let n_blocks = self.blocks.folds + 1;
        let input = feature_names(self.input.dataset, self.input.preprocess.drop_first);
        let mut designs: BTreeMap<String, Result<StepDesign, String>> =
            settings.iter().map(|(key, t)| (key.clone(), StepDesign::new(t, &input, n_blocks))).collect();
        let order: Vec<usize> = (0..self.source().batches()).collect();
        self.pass("step sums", &order, |i, batch| {
            let Target::Regression(y) = &batch.target else { return };
            let by_block = self.blocks_of(i, batch).by_block(n_blocks);
            let yc: Vec<f64> = by_block.concat().iter().map(|&r| y[r] - self.plan.target_mean).collect();
            let base = apply_saved(base_prep, &batch.features).map_err(|e| e.to_string());
            for design in designs.values_mut().flatten() {
                match &base {
                    Ok(base) => design.add(base, &by_block, &yc),
                    Err(e) => (0..n_blocks).filter(|&b| !by_block[b].is_empty()).for_each(|b| design.refuse(b, e)),
                }
            }
        })?;
        let mut slots = BTreeMap::new();
        for (key, design) in &designs {
            for (s, slot) in self.slots.iter().enumerate() {
                let fit = design.as_ref().map_err(Clone::clone).and_then(|d| d.slot(slot.held_out));
                slots.insert((key.clone(), s), fit);
            }
        }
        let _ = self.steps.set(StepSums { prep: base_prep.clone(), designs, slots });
        Ok(())
    }
}
