//! Explaining the best trial: it is refitted on each fold (deterministically, so the result
//! equals the sweep's), then its test predictions and the permutation importance of each
//! feature on the test part are computed with a seeded generator.

use crate::config::Metric;
use crate::data::Feature;
use crate::metrics;
use crate::models::{self, Prediction};
use crate::plan::RunPlan;
use crate::preprocess::{prepare_fold, FoldData, Targets};
use crate::random::RandomState;
use crate::sweep::metric_value;
use crate::trial::{unit_seed, Trial};
use ndarray::Array2;
use rayon::prelude::*;
use serde::Serialize;

/// How many times each feature is shuffled per fold.
pub const REPEATS: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct FeatureImportance {
    pub feature: String,
    /// Mean drop in the test score when the feature is shuffled (positive: the model uses it).
    pub mean: f64,
    pub std: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub trial: String,
    pub metric: Metric,
    pub repeats: usize,
    /// Features in decreasing importance.
    pub permutation_importance: Vec<FeatureImportance>,
    /// (actual, predicted) for every test row of every fold (regression only).
    #[serde(skip)]
    pub predictions: Vec<(f64, f64)>,
}

/// Design-matrix columns of each original feature (one-hot groups move together).
fn column_groups(plan: &RunPlan) -> Vec<(String, Vec<usize>)> {
    let mut groups = Vec::new();
    let mut j = 0;
    for f in &plan.dataset.features {
        let width = match f {
            Feature::Numeric { .. } => 1,
            Feature::Categorical { categories, .. } => {
                categories.len() - usize::from(plan.experiment.preprocess.drop_first && categories.len() > 1)
            }
        };
        groups.push((f.name().to_string(), (j..j + width).collect()));
        j += width;
    }
    groups
}

/// Refits `trial` on every fold and explains it. `None` when a fold cannot be refitted.
pub fn explain(plan: &RunPlan, trial: &Trial) -> Option<Explanation> {
    let metric = plan.rank_by;
    let classes: Vec<String> = match &plan.dataset.target {
        crate::data::Target::Classification { classes, .. } => classes.clone(),
        crate::data::Target::Regression(_) => Vec::new(),
    };
    let groups = column_groups(plan);
    let mut drops: Vec<Vec<f64>> = vec![Vec::new(); groups.len()];
    let mut predictions = Vec::new();
    for (f, fold) in plan.split.folds.iter().enumerate() {
        let data: FoldData = prepare_fold(&plan.dataset, &plan.experiment.preprocess, fold).ok()?;
        let seed = unit_seed(plan.experiment.seed, &trial.id, f);
        let model = models::fit(&trial.spec, &data, &classes, seed).ok()?;
        let base_prediction = model.predict(&data.test_x);
        let base = metric_value(metric, &data.test_y, &base_prediction);
        if let (Targets::Regression(y), Prediction::Values(p)) = (&data.test_y, &base_prediction) {
            predictions.extend(y.iter().copied().zip(p.iter().copied()));
        }
        // Each feature has its own seeded stream, so the result is the same for any thread count.
        let fold_drops: Vec<Vec<f64>> = groups
            .par_iter()
            .map(|(feature, cols)| {
                let mut rng = RandomState::new(unit_seed(
                    plan.experiment.seed,
                    &format!("permutation:{}:{feature}", trial.id),
                    f,
                ));
                let mut shuffled: Array2<f64> = data.test_x.clone();
                (0..REPEATS)
                    .map(|_| {
                        let perm = rng.permutation(data.test_x.nrows());
                        for &c in cols {
                            for (i, &p) in perm.iter().enumerate() {
                                shuffled[[i, c]] = data.test_x[[p, c]];
                            }
                        }
                        let s = metric_value(metric, &data.test_y, &model.predict(&shuffled));
                        if metric.higher_is_better() {
                            base - s
                        } else {
                            s - base
                        }
                    })
                    .collect()
            })
            .collect();
        for (d, fd) in drops.iter_mut().zip(fold_drops) {
            d.extend(fd);
        }
    }
    let mut permutation_importance: Vec<FeatureImportance> = groups
        .into_iter()
        .zip(drops)
        .map(|((feature, _), d)| {
            let (mean, std) = metrics::mean_std(&d);
            FeatureImportance { feature, mean, std }
        })
        .collect();
    permutation_importance.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    Some(Explanation { trial: trial.id.clone(), metric, repeats: REPEATS, permutation_importance, predictions })
}
