//! Model steps against the dataset: what the file alone cannot say. `select_k_best`'s
//! `score_func = "auto"` becomes the task's; `f_classif` on a regression target and a `pca`
//! asking for more components than the features it receives are refused at the model's
//! `steps`, before training, and so is box-cox as the first step on a design column that is
//! not strictly positive (every row is in some fold, training or test). (What depends on a
//! fold's rows otherwise, such as box-cox after other steps, fails that unit with its reason.)

use crate::config::{Experiment, Key, ModelKey, Scale, Task};
use crate::data::{Dataset, Feature, Target};
use crate::preprocess::steps::power::PowerMethod;
use crate::preprocess::steps::select_k_best::ScoreFunc;
use crate::preprocess::steps::target::{self, TargetFunc};
use crate::preprocess::StepSpec;
use crate::spec::value::CountOrShare;
use crate::trial::Trial;
use ndarray::ArrayView1;

/// Resolves every trial's task-dependent step settings and returns the problems found;
/// `width`: the design matrix's columns, which the first step receives.
pub fn step_problems(experiment: &Experiment, trials: &mut [Trial], task: Task, width: usize) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    for t in trials {
        let mut known = Some(width);
        for step in &mut t.steps {
            if let Some(why) = step_problem(step, task, &mut known) {
                let at = experiment.location(Key::Model(t.model.clone(), ModelKey::Steps));
                let problem = format!("{at}: model `{}`: {why}", t.model);
                if !problems.contains(&problem) {
                    problems.push(problem);
                }
            }
        }
    }
    problems
}

/// Models whose first step is box-cox on a design column that cannot be strictly positive:
/// a one-hot column (0 or 1), a column `[preprocess]` scales (standard centres it, minmax
/// maps its minimum to 0), or a value at or below 0 (named by column and file row).
pub fn box_cox_problems(experiment: &Experiment, trials: &[Trial], dataset: &Dataset) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    for t in trials {
        let Some(StepSpec::Power(p)) = t.steps.first() else { continue };
        if p.method != PowerMethod::BoxCox {
            continue;
        }
        let Some(why) = not_positive(experiment, dataset) else { continue };
        let at = experiment.location(Key::Model(t.model.clone(), ModelKey::Steps));
        let problem = format!("{at}: model `{}`: box-cox needs strictly positive values, but {why}", t.model);
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// Models whose target transform cannot apply: on a classification task, or log1p / box-cox
/// of a target value it cannot take (every row is in some fold's training part or is
/// predicted, so such a value would fail a fold), located at the model's `target`.
pub fn target_problems(experiment: &Experiment, trials: &[Trial], dataset: &Dataset) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    for t in trials.iter().filter(|t| t.target != TargetFunc::None) {
        let name = t.target.as_ref();
        let why = match &dataset.loaded().target {
            Target::Classification { .. } => Some(format!(
                "target = \"{name}\" transforms a regression target, but the task is classification; leave it out"
            )),
            Target::Regression(y) => target::first_refused(t.target, ArrayView1::from(y)).map(|(i, why)| {
                let row = dataset.loaded().file_rows[i] + 1;
                format!(
                    "target = \"{name}\": {why}, but `{}` is {} at row {row} of the file",
                    dataset.target_name, y[i]
                )
            }),
        };
        let Some(why) = why else { continue };
        let problem =
            format!("{}: model `{}`: {why}", experiment.location(Key::Param(t.model.clone(), "target")), t.model);
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
    problems
}

/// Why some design column that box-cox would see first is not strictly positive.
fn not_positive(experiment: &Experiment, dataset: &Dataset) -> Option<String> {
    let loaded = dataset.loaded();
    loaded.features.iter().find_map(|f| match f {
        Feature::Categorical { name, .. } => Some(format!("column `{name}` becomes one-hot columns of 0 and 1")),
        Feature::Numeric { name, .. } if experiment.preprocess.rule_for(name).scale != Scale::None => {
            Some(format!("[preprocess] scales column `{name}` (standard centres it, minmax maps its minimum to 0)"))
        }
        Feature::Numeric { name, values } => values
            .iter()
            .position(|&v| v <= 0.0)
            .map(|i| format!("column `{name}` is {} at row {} of the file", values[i], loaded.file_rows[i] + 1)),
    })
}

/// One step given its input's width when the config and data tell it (`None` after a step
/// whose width depends on its settings in a way not followed here); updates the width.
fn step_problem(step: &mut StepSpec, task: Task, width: &mut Option<usize>) -> Option<String> {
    match step {
        StepSpec::Standard(_) | StepSpec::Minmax(_) | StepSpec::Maxabs(_) | StepSpec::Robust(_) => {}
        StepSpec::Log1p(_) | StepSpec::Power(_) => {}
        StepSpec::SelectKBest(p) => {
            *width = width.map(|w| w.min(p.k));
            match (p.score_func, task) {
                (ScoreFunc::Auto, Task::Regression) => p.score_func = ScoreFunc::FRegression,
                (ScoreFunc::Auto, Task::Classification) => p.score_func = ScoreFunc::FClassif,
                (ScoreFunc::FClassif, Task::Regression) => {
                    return Some(
                        "select_k_best.score_func = \"f_classif\" scores columns across classes, but the task is \
                         regression; use \"f_regression\" (or leave it out)"
                            .into(),
                    )
                }
                _ => {}
            }
        }
        StepSpec::Pca(p) => match (&p.n_components, *width) {
            (CountOrShare::Count(k), Some(w)) if *k > w => {
                return Some(format!("pca.n_components = {k} is more than the {w} features pca receives"))
            }
            (CountOrShare::Count(k), _) => *width = Some(*k),
            _ => *width = None,
        },
        StepSpec::Poly(_) | StepSpec::Spline(_) => *width = None,
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::steps::{PcaParams, SelectKBestParams};

    #[test]
    fn auto_follows_the_task_and_widths_follow_the_steps() {
        let select = |score_func| StepSpec::SelectKBest(SelectKBestParams { score_func, k: 2 });
        for (task, want) in [(Task::Regression, ScoreFunc::FRegression), (Task::Classification, ScoreFunc::FClassif)] {
            let mut step = select(ScoreFunc::Auto);
            assert_eq!(step_problem(&mut step, task, &mut Some(5)), None);
            assert_eq!(step, select(want));
        }
        assert!(step_problem(&mut select(ScoreFunc::FClassif), Task::Regression, &mut None).is_some());
        // select_k_best keeps 2 of 5 columns, so pca can take 2 but not 3.
        let pca = |k| StepSpec::Pca(PcaParams { n_components: CountOrShare::Count(k), whiten: false });
        let mut width = Some(5);
        assert_eq!(step_problem(&mut select(ScoreFunc::FRegression), Task::Regression, &mut width), None);
        assert_eq!(width, Some(2));
        assert_eq!(step_problem(&mut pca(2), Task::Regression, &mut width), None);
        let mut width = Some(2);
        assert!(step_problem(&mut pca(3), Task::Regression, &mut width).unwrap().contains("more than the 2 features"));
    }
}
