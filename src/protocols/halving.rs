//! Successive halving (`[search] method = "halving"`), as scikit-learn's
//! HalvingGridSearchCV with rows as the resource: round 0 scores every trial on folds
//! subsampled to `rounds[0]` rows' worth, each later round keeps the best
//! `ceil(candidates / factor)` by mean test score (`_top_k`) and scores them on more rows.
//! Which trials a round runs follows from the records of the rounds before it, so a run
//! resumes mid-round from trials.jsonl like any other.

use crate::plan::{HalvingPlan, RunPlan};
use crate::split::SplitPlan;
use crate::sweep::{self, SweepInput, UnitFilter};
use crate::trial::{Status, Trial, UnitRecord};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

/// One round: its rows, the trials it scored (in evaluation order) and those it kept.
#[derive(Debug, Clone)]
pub struct Round {
    pub rows: usize,
    pub candidates: Vec<String>,
    pub kept: Vec<String>,
}

fn halving(plan: &RunPlan) -> Option<&HalvingPlan> {
    plan.halving()
}

/// The trials (indices) round `round` runs: every trial for round 0, else those the
/// previous round kept.
pub fn candidates(plan: &RunPlan, records: &[UnitRecord], round: usize) -> Vec<usize> {
    let mut current: Vec<usize> = (0..plan.trials.len()).collect();
    for r in 0..round {
        current = top_k(plan, records, r, &current);
    }
    current
}

/// scikit-learn's `_top_k`: the candidates sorted by ascending mean score (higher is
/// better; a trial without a score on every fold counts as NaN, placed first), the last
/// `ceil(n / factor)` kept, in that order.
fn top_k(plan: &RunPlan, records: &[UnitRecord], round: usize, current: &[usize]) -> Vec<usize> {
    let Some(h) = halving(plan) else { return current.to_vec() };
    let k = h.base_folds();
    let metric = plan.rank_by;
    let score = |t: usize| -> f64 {
        let id = &plan.trials[t].id;
        let values: Option<Vec<f64>> = (round * k..(round + 1) * k)
            .map(|f| {
                let r = records.iter().find(|r| r.trial == *id && r.fold == f)?;
                (r.status == Status::Ok).then_some(())?;
                r.test.get(&metric).copied().flatten()
            })
            .collect();
        let mean = values.map_or(f64::NAN, |v| v.iter().sum::<f64>() / k as f64);
        if metric.higher_is_better() {
            mean
        } else {
            -mean
        }
    };
    let scored: Vec<(usize, f64)> = current.iter().map(|&t| (t, score(t))).collect();
    let mut order: Vec<(usize, f64)> = scored.iter().copied().filter(|(_, s)| s.is_nan()).collect();
    let mut finite: Vec<(usize, f64)> = scored.iter().copied().filter(|(_, s)| !s.is_nan()).collect();
    finite.sort_by(|a, b| a.1.total_cmp(&b.1));
    order.extend(finite);
    let keep = current.len().div_ceil(h.factor as usize);
    order[order.len() - keep.min(order.len())..].iter().map(|(t, _)| *t).collect()
}

/// Every round with what it scored and kept (the last keeps its best `ceil(n / factor)`
/// too, as scikit-learn reports `n_remaining_candidates_`).
pub fn rounds(plan: &RunPlan, records: &[UnitRecord]) -> Vec<Round> {
    let Some(h) = halving(plan) else { return Vec::new() };
    let mut current: Vec<usize> = (0..plan.trials.len()).collect();
    let ids = |ts: &[usize]| ts.iter().map(|&t| plan.trials[t].id.clone()).collect::<Vec<_>>();
    h.rounds
        .iter()
        .enumerate()
        .map(|(r, &rows)| {
            let kept = top_k(plan, records, r, &current);
            let round = Round { rows, candidates: ids(&current), kept: ids(&kept) };
            current = kept;
            round
        })
        .collect()
}

/// The round each trial last ran in, by trial index.
pub fn last_rounds(plan: &RunPlan, records: &[UnitRecord]) -> Vec<usize> {
    let mut last = vec![0; plan.trials.len()];
    if let Some(h) = halving(plan) {
        for r in 1..h.rounds.len() {
            for t in candidates(plan, records, r) {
                last[t] = r;
            }
        }
    }
    last
}

/// Each trial's records of its last round, folds numbered as the base split's: what the
/// report summarises. Without halving, the records as they are.
pub fn last_round_records(plan: &RunPlan, records: &[UnitRecord]) -> Vec<UnitRecord> {
    let Some(h) = halving(plan) else { return records.to_vec() };
    let k = h.base_folds();
    let last = last_rounds(plan, records);
    let round_of: std::collections::HashMap<&str, usize> =
        plan.trials.iter().enumerate().map(|(t, trial)| (trial.id.as_str(), last[t])).collect();
    records
        .iter()
        .filter(|r| round_of.get(r.trial.as_str()).is_some_and(|&l| r.fold / k == l))
        .map(|r| UnitRecord { fold: r.fold % k, ..r.clone() })
        .collect()
}

/// Runs the rounds in order: each sweeps its candidates over its own folds (records keep
/// the global fold number `round × k + f`), skipping the units in `done`. `previous` are
/// the records a resumed run already has; the new ones are returned.
pub fn run_rounds(
    plan: &RunPlan,
    jobs: usize,
    done: &HashSet<(String, usize)>,
    stop: &AtomicBool,
    sink: &(dyn Fn(&UnitRecord) + Sync),
    previous: &[UnitRecord],
) -> Result<Vec<UnitRecord>, sweep::EnvironmentError> {
    let Some(h) = halving(plan) else { return Ok(Vec::new()) };
    let k = h.base_folds();
    let mut all: Vec<UnitRecord> = previous.to_vec();
    let mut new = Vec::new();
    for r in 0..h.rounds.len() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let trials: Vec<Trial> = candidates(plan, &all, r).into_iter().map(|t| plan.trials[t].clone()).collect();
        let split =
            SplitPlan { method: h.folds.method, folds: h.folds.folds[r * k..(r + 1) * k].to_vec(), blocks: None };
        let round_done: HashSet<(String, usize)> =
            done.iter().filter(|(_, f)| f / k == r).map(|(t, f)| (t.clone(), f % k)).collect();
        let input = SweepInput {
            dataset: &plan.dataset,
            preprocess: &plan.experiment.preprocess,
            plan: &split,
            trials: &trials,
            metrics: &plan.metrics,
            rank_by: plan.rank_by,
            seed: plan.experiment.seed,
            shortcuts: true,
            stream: None,
            progress: None,
            keep: None,
            order: sweep::UnitOrder::FoldMajor,
        };
        let global = |rec: &UnitRecord| UnitRecord { fold: rec.fold + r * k, ..rec.clone() };
        let filter = UnitFilter { done: &round_done, shard: None };
        let records = sweep::run(&input, jobs, &filter, stop, &|rec| sink(&global(rec)))?;
        let records: Vec<UnitRecord> = records.iter().map(global).collect();
        all.extend(records.iter().cloned());
        new.extend(records);
    }
    Ok(new)
}
