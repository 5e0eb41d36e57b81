//! The model kinds, one file each, registered on one line of `spec::registry`. A kind's file
//! holds its catalog entry (engine, task, summary, what model.json saves), how its
//! parameters are read, its `fit`, how it streams or why not, and its saved-state family: it
//! implements [`Kind`]. From the registry's table this module makes `ModelSpec`, the catalog
//! `KINDS`, `ModelSpec::check`, the fit dispatch, streaming and loading a saved model.
//! Every dispatch is an exhaustive `match` over the kinds, so the compiler points at a
//! forgotten piece.
//!
//! Every kind declares its parameters in its file. When its math lives in `models` (which
//! cannot import `kinds`), the struct the math takes is the `models` module's and the
//! kind's `params! { impl models::x::XParams { .. } }` declares its catalog lines, each
//! field named and typed as the struct has it (the compiler checks).

use crate::models::gd::{LinearGdParams, LogisticGdParams, OptimizerParams};
use crate::models::linear::{OlsParams, RidgeParams};
use crate::models::logistic::LogisticParams;
use crate::models::{FitError, Fitted, ModelState};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::kinds::{choice, LrSchedule, Optimizer, BOOL, COUNT, DECAY, ITERATIONS, NON_NEGATIVE, POSITIVE};
use crate::spec::registry::registry;
use crate::spec::value::ReadParams;
use crate::spec::value::{params, DefaultValue::*, ParamType};
use crate::spec::{ModelKind, ParamValue, ParamValues};
use ndarray::Array1;
use std::collections::BTreeMap;

/// What the plan knows, before training, of the data every fit of a trial sees.
#[derive(Debug, Clone, Copy)]
pub struct DataShape<'a> {
    /// Columns of the design matrix.
    pub width: usize,
    /// Rows of the smallest training part of the split.
    pub train_rows: usize,
    pub classification: bool,
    /// The dataset's categorical columns, by name.
    pub categorical: &'a [String],
    /// `[preprocess.one_hot] drop_first`.
    pub drop_first: bool,
    /// The categorical columns with gaps that `impute = "keep"` keeps (no indicator set).
    pub kept_categorical_gaps: &'a [String],
    /// Whether the trial's model has its own steps.
    pub steps: bool,
}

/// What a model kind's file provides.
pub trait Kind {
    /// The kind's typed parameters at one grid point.
    type Params: Clone + std::fmt::Debug + PartialEq + ReadParams;
    /// Its `runner models` entry, which the experiment file is checked against.
    const CATALOG: KindSpec;
    /// The typed parameters from a grid point's checked values (defaults filled in); a kind
    /// whose parameters have combinations to refuse checks them here.
    fn read(values: &ParamValues) -> Result<Self::Params, String> {
        Self::Params::read_params(values)
    }
    /// Fits one fold's training part; `seed` is the unit's random stream.
    fn fit(p: &Self::Params, data: &FoldData, classes: &[String], seed: u32) -> Result<Box<dyn Fitted>, FitError>;
    /// Which streamed trainer fits this spec, or why a stream cannot.
    fn streamed(p: &Self::Params) -> Streamed<'_>;
    /// Whether `state` is the family model.json saves this kind as.
    fn saves(state: &ModelState) -> bool;
    /// A saved model of this kind, checked, ready to predict a design matrix of `width`
    /// columns for `classes` classes (0: regression); a core family checks itself.
    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        state.into_fitted(width, classes)
    }
    /// Why the spec cannot fit the data `shape` describes (a forest's `max_features` count
    /// above the columns, a `max_samples` count above the rows, a criterion of the other
    /// task), found before training once the one-hot columns and the folds are known.
    fn data_problem(_p: &Self::Params, _shape: &DataShape) -> Option<String> {
        None
    }
    /// Why the spec's parameters cannot fit the task (an HGB loss of the other task), with the
    /// parameter at fault, found before training once the task is known.
    fn task_problem(_p: &Self::Params, _classification: bool) -> Option<(&'static str, String)> {
        None
    }
    /// Whether the spec's fit takes sample weights (`FoldData::train_w`) as scikit-learn's
    /// `fit(X, y, sample_weight=w)`; a kind that cannot is refused before training when the
    /// dataset has a weight column, never fitted ignoring them.
    fn sample_weights(_p: &Self::Params) -> bool {
        false
    }
    /// Why the spec takes no sample weights, for that refusal.
    fn no_sample_weights(_p: &Self::Params) -> &'static str {
        "its fit takes no sample weights"
    }
    /// When the spec may share a warm-start path (`trial::paths`): its position along it,
    /// with the path axis cleared in `p` (the points of one path then have equal specs).
    fn path_axis(_p: &mut Self::Params) -> Option<f64> {
        None
    }
    /// A path's points fitted in order, each warm-started from the previous, when the
    /// kind's solver can; `None`: each point is fitted alone.
    fn fit_path(
        _points: &[&Self::Params],
        _data: &FoldData,
        _classes: &[String],
    ) -> Option<Vec<Result<Box<dyn Fitted>, FitError>>> {
        None
    }
}

/// How a streamed sweep trains a spec: the streamed trainers there are, or why not.
#[derive(Debug, Clone, Copy)]
pub enum Streamed<'a> {
    /// Least squares from the fold's sums.
    LeastSquares(&'a OlsParams),
    /// Ridge from the fold's sums.
    Ridge(&'a RidgeParams),
    /// Gradient descent on a linear model, one pass per epoch.
    LinearDescent(&'a LinearGdParams, &'a OptimizerParams),
    /// Logistic regression's L-BFGS, one pass per evaluation.
    Logistic(&'a LogisticParams),
    /// Gradient descent on a logistic model, one pass per epoch.
    LogisticDescent(&'a LogisticGdParams, &'a OptimizerParams),
    /// Not streamed, and why (with what to do instead).
    Refused(&'static str),
}

/// The regression targets of a fold, or the error of a kind that does not do regression.
pub(crate) fn values(data: &FoldData, kind: ModelKind) -> Result<&Array1<f64>, FitError> {
    match &data.train_y {
        FoldTargets::Regression(y) => Ok(y),
        FoldTargets::Classes(_) => Err(wrong_task(kind)),
    }
}

/// The class indices of a fold, or the error of a kind that does not classify.
pub(crate) fn labels(data: &FoldData, kind: ModelKind) -> Result<&[usize], FitError> {
    match &data.train_y {
        FoldTargets::Classes(y) => Ok(y),
        FoldTargets::Regression(_) => Err(wrong_task(kind)),
    }
}

fn wrong_task(kind: ModelKind) -> FitError {
    FitError::Solver(format!("model kind {} does not fit this task", kind.name()))
}

/// A kind saved as a `linear` model: its weights, intercepts and head.
pub(crate) fn saves_linear(state: &ModelState) -> bool {
    matches!(state, ModelState::Linear { .. })
}

/// numpy's `sum` of a contiguous row (the order scikit-learn's sums take): pairwise summation (in order below eight values,
/// eight running sums from eight on, halves past 128).
pub(crate) fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(0.0, |s, v| s + v);
    }
    if n > 128 {
        let half = n / 2 - (n / 2) % 8;
        return numpy_sum(&a[..half]) + numpy_sum(&a[half..]);
    }
    let mut r: [f64; 8] = std::array::from_fn(|j| a[j]);
    let whole = n - n % 8;
    for block in a[8..whole].chunks_exact(8) {
        r.iter_mut().zip(block).for_each(|(r, v)| *r += v);
    }
    let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for v in &a[whole..] {
        res += v;
    }
    res
}

const GD_ENGINE: &str = "runner's gradient-descent trainer";
const CD_ENGINE: &str =
    "own cyclic coordinate descent (sklearn's cd_fast) on the fold's centred Gram matrix when rows > columns, duality-gap stop";
const SAVES_LINEAR: &str = "a `linear` model: one weight per feature and the intercept";

params! {
    impl OptimizerParams {
        optimizer: Optimizer = S("gd"), choice::<Optimizer>(), "gd: full batch; sgd: one row per step; minibatch/momentum/nesterov/adam: batch_size rows";
        learning_rate: f64 = F(0.01), POSITIVE, "step size (eta0 for invscaling)";
        lr_schedule: LrSchedule = S("constant"), choice::<LrSchedule>(), "invscaling: learning_rate / t^power_t, t = update step from 1";
        power_t: f64 = F(0.25), NON_NEGATIVE, "exponent of invscaling";
        epochs: usize = I(1000), ITERATIONS, "passes over the training rows at most";
        batch_size: usize = I(0), COUNT, "rows per step; 0 = all rows (minibatch: 32); ignored by gd and sgd";
        momentum: f64 = F(0.9), DECAY, "momentum and nesterov";
        beta1: f64 = F(0.9), DECAY, "adam's first-moment decay";
        beta2: f64 = F(0.999), DECAY, "adam's second-moment decay";
        eps: f64 = F(1e-8), POSITIVE, "adam's denominator guard";
        l1: f64 = F(0.0), NON_NEGATIVE, "L1 penalty l1 ||w||_1 (intercept never penalised)";
        l2: f64 = F(0.0), NON_NEGATIVE, "L2 penalty l2/2 ||w||^2 (intercept never penalised)";
        tol: f64 = F(1e-6), NON_NEGATIVE, "an epoch improves when its loss is below the best so far minus tol ...";
        patience: usize = I(5), ITERATIONS, "... and training stops once more than patience epochs in a row did not (sklearn's n_iter_no_change)";
        early_stopping: bool = B(false), BOOL, "watch the loss on a seeded validation hold-out instead, keep its best weights";
        validation_fraction: f64 = F(0.1), ParamType::Float { min: 0.0, max: 1.0, min_exclusive: true }, "share of training rows held out for early stopping";
    }
}

/// Makes the kinds' modules and every dispatch over them from the registry's table.
macro_rules! kinds {
    ($($kind:ident $module:ident,)*) => {
        $(pub mod $module;)*

        /// One model kind with its checked parameters.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ModelSpec {
            $($kind(<$module::Kind as Kind>::Params),)*
        }

        /// Every kind's catalog entry, in the registry's order: what `runner models` prints.
        pub static KINDS: &[KindSpec] = &[$(<$module::Kind as Kind>::CATALOG,)*];

        /// What the experiment file is checked against: the kinds, the steps and the target transform.
        pub static CATALOG: crate::spec::catalog::Catalog = crate::spec::catalog::Catalog {
            kinds: KINDS,
            steps: crate::preprocess::steps::STEPS,
            target: &crate::preprocess::steps::target::TargetParams::SPECS[0],
        };

        /// A kind's catalog entry.
        pub fn spec_of(kind: ModelKind) -> &'static KindSpec {
            match kind {
                $(ModelKind::$kind => {
                    static ENTRY: KindSpec = <$module::Kind as Kind>::CATALOG;
                    &ENTRY
                })*
            }
        }

        impl ModelSpec {
            pub fn kind(&self) -> ModelKind {
                match self {
                    $(ModelSpec::$kind(_) => ModelKind::$kind,)*
                }
            }

            /// Types a grid point's checked values (defaults filled in).
            fn read(kind: ModelKind, values: &ParamValues) -> Result<ModelSpec, String> {
                Ok(match kind {
                    $(ModelKind::$kind => ModelSpec::$kind(<$module::Kind as Kind>::read(values)?),)*
                })
            }

            /// Fits one fold's training part. `seed` is the unit's own random stream (derived
            /// from the experiment seed, the trial and the fold).
            pub fn fit(&self, data: &FoldData, classes: &[String], seed: u32) -> Result<Box<dyn Fitted>, FitError> {
                let fitted = match self {
                    $(ModelSpec::$kind(p) => <$module::Kind as Kind>::fit(p, data, classes, seed),)*
                };
                crate::models::finite(fitted?)
            }

            /// Which streamed trainer fits this spec, or why a stream cannot.
            pub fn streamed(&self) -> Streamed<'_> {
                match self {
                    $(ModelSpec::$kind(p) => <$module::Kind as Kind>::streamed(p),)*
                }
            }

            /// Why the spec cannot fit the data `shape` describes, if it cannot.
            pub fn data_problem(&self, shape: &DataShape) -> Option<String> {
                match self {
                    $(ModelSpec::$kind(p) => <$module::Kind as Kind>::data_problem(p, shape),)*
                }
            }

            /// Why the spec cannot fit the task, and the parameter at fault, if it cannot.
            pub fn task_problem(&self, classification: bool) -> Option<(&'static str, String)> {
                match self {
                    $(ModelSpec::$kind(p) => <$module::Kind as Kind>::task_problem(p, classification),)*
                }
            }

            /// Whether the spec's fit takes sample weights.
            pub fn sample_weights(&self) -> bool {
                match self {
                    $(ModelSpec::$kind(p) => <$module::Kind as Kind>::sample_weights(p),)*
                }
            }

            /// Why the spec takes no sample weights.
            pub fn no_sample_weights(&self) -> &'static str {
                match self {
                    $(ModelSpec::$kind(p) => <$module::Kind as Kind>::no_sample_weights(p),)*
                }
            }

            /// The spec's position on a warm-start path, and the spec with the path axis cleared.
            fn path_split(&self) -> (Option<f64>, ModelSpec) {
                let mut spec = self.clone();
                let at = match &mut spec {
                    $(ModelSpec::$kind(p) => <$module::Kind as Kind>::path_axis(p),)*
                };
                (at, spec)
            }

            /// The points of a path fitted in order, warm-started when the kind can.
            fn fit_path_points(
                specs: &[&ModelSpec],
                data: &FoldData,
                classes: &[String],
            ) -> Option<Vec<Result<Box<dyn Fitted>, FitError>>> {
                match specs.first()? {
                    $(ModelSpec::$kind(_) => {
                        let points: Option<Vec<_>> = specs
                            .iter()
                            .map(|s| if let ModelSpec::$kind(p) = s { Some(p) } else { None })
                            .collect();
                        <$module::Kind as Kind>::fit_path(&points?, data, classes)
                    })*
                }
            }
        }

        /// Whether model.json's `state` is how a `kind` model is saved.
        pub fn saves(kind: ModelKind, state: &ModelState) -> bool {
            match kind {
                $(ModelKind::$kind => <$module::Kind as Kind>::saves(state),)*
            }
        }

        /// A saved `kind` model, checked and ready to predict.
        pub fn load(kind: ModelKind, state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
            match kind {
                $(ModelKind::$kind => <$module::Kind as Kind>::load(state, width, classes),)*
            }
        }
    };
}
registry!(kinds);

/// The entry of the kind named `name`.
pub fn kind_spec(name: &str) -> Option<&'static KindSpec> {
    crate::spec::catalog::find(KINDS, name)
}

impl ModelSpec {
    /// Checks the values given for a kind (fixed values and one grid point) against the
    /// catalog, fills in the defaults and types every parameter.
    pub fn check(kind: ModelKind, given: &BTreeMap<String, ParamValue>) -> Result<ModelSpec, String> {
        let spec = spec_of(kind);
        let mut values: ParamValues = spec.params().map(|p| (p.name.to_string(), spec.default_of(p).value())).collect();
        for (name, value) in given {
            let Some(p) = spec.param(name) else {
                let hint = crate::suggest::suggestion(name, spec.params().map(|p| p.name));
                return Err(format!("{} has no parameter `{name}`{hint}", kind.name()));
            };
            let checked = p.ty.check(value).map_err(|e| format!("{name}: {e}"))?;
            values.insert(name.clone(), checked);
        }
        ModelSpec::read(kind, &values)
    }

    /// Where this spec sits on a warm-start path, when it may share one (`path = true`):
    /// lasso and elastic net by decreasing alpha, logistic regression by increasing C,
    /// the order scikit-learn's LassoCV and LogisticRegressionCV solve in.
    pub fn path_position(&self) -> Option<f64> {
        self.path_split().0
    }

    /// The spec with its path axis cleared: the points of one path have equal keys.
    pub fn path_key(&self) -> String {
        format!("{:?}", self.path_split().1)
    }
}

/// Fits the points of a warm-start path in order (see `trial::paths`), each from the
/// previous solution when the kind's solver can; otherwise point by point.
pub fn fit_path(
    specs: &[&ModelSpec],
    data: &FoldData,
    class_names: &[String],
) -> Vec<Result<Box<dyn Fitted>, FitError>> {
    match ModelSpec::fit_path_points(specs, data, class_names) {
        Some(fitted) => fitted.into_iter().map(|m| m.and_then(crate::models::finite)).collect(),
        None => specs.iter().map(|s| s.fit(data, class_names, 0)).collect(),
    }
}

/// The `runner models` listing.
pub fn render_catalog() -> String {
    let mut out = String::new();
    for k in KINDS {
        let task = match k.task {
            TaskSupport::Regression => "regression",
            TaskSupport::Classification => "classification",
            TaskSupport::Both => "regression and classification",
        };
        out.push_str(&format!("{}  ({task}; {})\n  {}\n  saves: {}\n", k.name(), k.engine, k.summary, k.saves));
        for p in k.params() {
            out.push_str(&format!(
                "    {:<14} default {:<8} {}: {}\n",
                p.name,
                k.default_of(p).value().to_string(),
                p.ty.describe(),
                p.help
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Optimizer;
    use strum::VariantArray;

    #[test]
    fn the_catalog_lists_every_kind_in_registry_order() {
        assert_eq!(KINDS.len(), ModelKind::VARIANTS.len());
        for &kind in ModelKind::VARIANTS {
            assert_eq!(spec_of(kind).kind, kind, "{}", kind.name());
            assert_eq!(kind_spec(kind.name()).map(|k| k.kind), Some(kind));
        }
    }

    #[test]
    fn every_kind_checks_with_its_defaults() {
        for k in KINDS {
            let spec = ModelSpec::check(k.kind, &BTreeMap::new());
            assert_eq!(spec.map(|s| s.kind()), Ok(k.kind), "{}", k.name());
        }
    }

    #[test]
    fn the_mlp_takes_scikit_learns_optimizer_defaults() {
        let Ok(ModelSpec::Mlp((arch, opt))) = ModelSpec::check(ModelKind::Mlp, &BTreeMap::new()) else { panic!() };
        assert_eq!(arch.hidden_layers, vec![100]);
        assert_eq!((opt.optimizer, opt.learning_rate, opt.epochs, opt.batch_size), (Optimizer::Adam, 0.001, 200, 32));
    }

    #[test]
    fn unknown_and_mistyped_parameters_are_refused() {
        let given = BTreeMap::from([("alpah".to_string(), ParamValue::Float(1.0))]);
        let e = ModelSpec::check(ModelKind::Ridge, &given).unwrap_err();
        assert!(e.contains("did you mean `alpha`"), "{e}");
        let given = BTreeMap::from([("kernel".to_string(), ParamValue::Str("rbg".into()))]);
        let e = ModelSpec::check(ModelKind::Svm, &given).unwrap_err();
        assert!(e.contains("did you mean `rbf`"), "{e}");
    }
}
