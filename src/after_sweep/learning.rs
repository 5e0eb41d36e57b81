//! The best trial's learning curve, as scikit-learn's `learning_curve`: for each training
//! size and fold, the trial fitted on the first `size` rows of the fold's training part
//! (preprocessing fitted on those rows), scored by the rank metric on them and on the
//! fold's test part. The seed of each fit is the sweep unit's, so the full-size point of a
//! k-fold curve is the sweep's own model.

use crate::config::Metric;
use crate::plan::RunPlan;
use crate::preprocess::prepare_fold_steps;
use crate::random::RandomState;
use crate::split::Fold;
use crate::sweep::metric_value;
use crate::sweep::unit::{fit_unit, Stage};
use crate::trial::{unit_seed, SeedStream, Trial};
use rayon::prelude::*;

/// Scores by training size (outer) and fold (inner); `None` where a fit failed (a class
/// missing from a small training part, say), as scikit-learn's `error_score=nan`.
#[derive(Debug, Clone)]
pub struct LearningCurve {
    pub trial: String,
    pub metric: Metric,
    pub sizes: Vec<usize>,
    pub train: Vec<Vec<Option<f64>>>,
    pub test: Vec<Vec<Option<f64>>>,
    /// Why fits failed: each distinct reason once, in (size, fold) order.
    pub failures: Vec<String>,
}

/// One (size, fold) point's (train, test) scores, or why its fit failed.
type Point = Result<(Option<f64>, Option<f64>), String>;

/// The learning curve of `trial` at `plan.learning_sizes`; `None` when none are asked for.
pub fn learning_curve(plan: &RunPlan, trial: &Trial) -> Option<LearningCurve> {
    if plan.learning_sizes.is_empty() {
        return None;
    }
    let folds = plan.split.folds.len();
    let trains = training_orders(plan);
    let points: Vec<(usize, usize)> =
        plan.learning_sizes.iter().flat_map(|&s| (0..folds).map(move |f| (s, f))).collect();
    // Each point is independent and seeded by its fold: the same for any thread count.
    let scores: Vec<Point> = points
        .par_iter()
        .map(|&(size, fold)| score_point(plan, trial, &trains[fold][..size.min(trains[fold].len())], fold))
        .collect();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for chunk in scores.chunks(folds) {
        let point = |p: &Point| p.clone().unwrap_or((None, None));
        train.push(chunk.iter().map(|p| point(p).0).collect());
        test.push(chunk.iter().map(|p| point(p).1).collect());
    }
    let mut failures: Vec<String> = Vec::new();
    for reason in scores.into_iter().filter_map(Result::err) {
        if !failures.contains(&reason) {
            failures.push(reason);
        }
    }
    Some(LearningCurve {
        trial: trial.id.clone(),
        metric: plan.rank_by,
        sizes: plan.learning_sizes.clone(),
        train,
        test,
        failures,
    })
}

/// Each fold's training rows in the order their first rows are taken: as split, or with
/// `learning_curve_shuffle` permuted by one generator seeded once, fold after fold.
fn training_orders(plan: &RunPlan) -> Vec<Vec<usize>> {
    let mut rng = RandomState::new(plan.experiment.seed);
    let shuffle = plan.experiment.report.learning_curve_shuffle;
    let order = |train: &Vec<usize>, rng: &mut RandomState| match shuffle {
        true => rng.permutation(train.len()).into_iter().map(|i| train[i]).collect(),
        false => train.clone(),
    };
    plan.split.folds.iter().map(|f| order(&f.train, &mut rng)).collect()
}

/// (train, test) scores of the trial fitted on `train` (the first rows of a fold's
/// training part) and tested on `fold`'s test part, or why there are none.
fn score_point(plan: &RunPlan, trial: &Trial, train: &[usize], fold: usize) -> Point {
    let Some(f) = plan.split.folds.get(fold) else { return Err("no such fold".into()) };
    let part = Fold { train: train.to_vec(), test: f.test.clone() };
    let (data, _) = prepare_fold_steps(&plan.dataset, &plan.experiment.preprocess, &part, &trial.steps, trial.target)
        .map_err(|e| e.to_string())?;
    let seed = unit_seed(plan.experiment.seed, SeedStream::Unit { trial: &trial.id, fold });
    let classes = plan.dataset.class_names();
    let finite = |v: f64| Some(v).filter(|v| v.is_finite());
    let scores = |model: Box<dyn crate::models::Fitted>| {
        let train = finite(metric_value(
            plan.rank_by,
            data.scored_train_y(),
            data.train_w.as_deref(),
            &model.predict(&data.train_x),
        ));
        let test =
            finite(metric_value(plan.rank_by, &data.test_y, data.test_w.as_deref(), &model.predict(&data.test_x)));
        (train, test)
    };
    fit_unit(Stage::Learning, &trial.spec, &data, classes, seed, scores).map_err(|e| e.to_string())
}
