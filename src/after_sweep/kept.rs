//! The best trial's fold models, kept from the sweep so that explaining it refits nothing.
//! The sweep hands over each unit's model (`offer`) and the run each finished record
//! (`record`). A trial's models wait until every fold of it is recorded, then stay only if the
//! trial is the best so far under the leaderboard's rule (`metrics::rank_order`, equal means
//! to the earlier trial). That rule is a total order, so what is kept never depends on the
//! order units finish in, and at most one complete trial's models are held. Models whose
//! records carry coefficients are not kept (the explanation rebuilds those from the records),
//! nor models of trials with steps (the explanation refits those with their steps).

use crate::metrics;
use crate::models::Fitted;
use crate::plan::RunPlan;
use crate::trial::{Status, Trial, UnitRecord};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// The models kept of one trial, by fold (a resumed fold has none: it was fitted earlier).
#[derive(Default)]
pub struct BestModels {
    trial: Option<String>,
    models: BTreeMap<usize, Box<dyn Fitted>>,
}

impl BestModels {
    /// The kept model of `trial` on `fold`, if that trial's were kept.
    pub fn get(&self, trial: &str, fold: usize) -> Option<&dyn Fitted> {
        match &self.trial {
            Some(t) if t == trial => self.models.get(&fold).map(|m| m.as_ref()),
            _ => None,
        }
    }

    /// How many folds' models are kept.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

/// A trial some of whose folds are still running.
struct Pending {
    /// Per fold: not recorded yet, or its rank metric (`None`: the unit failed).
    values: Vec<Option<Option<f64>>>,
    models: BTreeMap<usize, Box<dyn Fitted>>,
}

#[derive(Default)]
struct State {
    pending: HashMap<usize, Pending>,
    /// The best complete trial so far: its mean and index.
    best: Option<(f64, usize)>,
    kept: BestModels,
}

/// Keeps the best trial's fold models during a sweep (see the module's comment).
pub struct Keeper<'a> {
    plan: &'a RunPlan,
    index: HashMap<&'a str, usize>,
    state: Mutex<State>,
}

impl<'a> Keeper<'a> {
    /// A keeper for `plan`'s sweep, which resumes from `previous` (records without models).
    pub fn new(plan: &'a RunPlan, previous: &[UnitRecord]) -> Keeper<'a> {
        let index = plan.trials.iter().enumerate().map(|(t, trial)| (trial.id.as_str(), t)).collect();
        let keeper = Keeper { plan, index, state: Mutex::new(State::default()) };
        for r in previous {
            keeper.record(r);
        }
        keeper
    }

    /// A unit's fitted model, before its record arrives.
    pub fn offer(&self, trial: &Trial, fold: usize, model: Box<dyn Fitted>) {
        let Some(&t) = self.index.get(trial.id.as_str()) else { return };
        // A linear model is rebuilt from its record; one with steps would need its fold's
        // fitted steps too, so the explanation refits it: keeping either would only cost memory.
        if model.linear().is_some() || !trial.steps.is_empty() {
            return;
        }
        let Ok(mut state) = self.state.lock() else { return };
        let pending = state.pending.entry(t).or_insert_with(|| self.pending());
        // A trial with a failed fold can never be the best: hold nothing of it.
        if !pending.values.iter().any(|v| matches!(v, Some(None))) {
            pending.models.insert(fold, model);
        }
    }

    /// A unit's finished record (as the report reads it): completes its trial when it is the last fold.
    pub fn record(&self, r: &UnitRecord) {
        let Some(&t) = self.index.get(r.trial.as_str()) else { return };
        let Ok(mut state) = self.state.lock() else { return };
        let pending = state.pending.entry(t).or_insert_with(|| self.pending());
        let Some(slot) = pending.values.get_mut(r.fold) else { return };
        let value = r.test.get(&self.plan.rank_by).copied().flatten();
        *slot = Some(value.filter(|_| r.status == Status::Ok));
        if slot.is_some_and(|v| v.is_none()) {
            pending.models.clear();
        }
        if pending.values.iter().any(Option::is_none) {
            return;
        }
        let Some(Pending { values, models }) = state.pending.remove(&t) else { return };
        // The report's mean: every fold ok and scored, in fold order; NaN is not ranked.
        let Some(values) = values.into_iter().flatten().collect::<Option<Vec<f64>>>() else { return };
        let (mean, _) = metrics::mean_std(&values);
        let better = match state.best {
            _ if mean.is_nan() => false,
            None => true,
            Some((best, b)) => metrics::rank_order(self.plan.rank_by, mean, best).then(t.cmp(&b)).is_lt(),
        };
        if better {
            state.best = Some((mean, t));
            state.kept = BestModels { trial: Some(r.trial.clone()), models };
        }
    }

    fn pending(&self) -> Pending {
        Pending { values: vec![None; self.plan.split.folds.len()], models: BTreeMap::new() }
    }

    /// The best trial's kept models.
    pub fn into_best(self) -> BestModels {
        self.state.into_inner().map(|s| s.kept).unwrap_or_default()
    }
}
