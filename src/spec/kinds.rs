//! One typed parameter struct per model kind (and the optimizer settings the
//! gradient-descent kinds share). Each line declares a field with its default, range and
//! help; the catalog and the file's validation are built from these declarations.

pub use super::value::CountOrShare;
use super::value::{
    choice_param, field, params, DefaultValue::*, FromParam, ParamSpec, ParamType, ParamValue, ParamValues,
};
use strum::{Display, EnumString, IntoStaticStr, VariantNames};

const POSITIVE: ParamType = ParamType::Float { min: 0.0, max: f64::INFINITY, min_exclusive: true };
const NON_NEGATIVE: ParamType = ParamType::Float { min: 0.0, max: f64::INFINITY, min_exclusive: false };
const UNIT: ParamType = ParamType::Float { min: 0.0, max: 1.0, min_exclusive: false };
const ANY_FLOAT: ParamType = ParamType::Float { min: f64::NEG_INFINITY, max: f64::INFINITY, min_exclusive: false };
const DECAY: ParamType = ParamType::Float { min: 0.0, max: 0.999999, min_exclusive: false };
const ITERATIONS: ParamType = ParamType::Int { min: 1, max: i64::MAX };
const COUNT: ParamType = ParamType::Int { min: 0, max: i64::MAX };
const BOOL: ParamType = ParamType::Bool;
const CD_TOL: &str = "stop when the duality gap is below tol x ||y - mean y||^2 (sklearn's rule)";
const CD_PATH: &str =
    "warm-start along the grid's alpha axis within a fold, largest alpha first (as LassoCV); false: each alpha from zero";

/// The words of a choice parameter, in declaration order.
const fn choice<T: VariantNames>() -> ParamType {
    ParamType::Choice(T::VARIANTS)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum LogisticSolver {
    /// Newton-Cholesky for two classes with many more rows than columns, else L-BFGS.
    Auto,
    Lbfgs,
    NewtonCholesky,
    Linfa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum Kernel {
    Rbf,
    Linear,
    Poly,
    Sigmoid,
}

/// scikit-learn's `decision_function_shape`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum DecisionShape {
    Ovr,
    Ovo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum Criterion {
    Gini,
    Entropy,
}

/// A forest's split quality: "auto" is scikit-learn's default for the task (gini for a
/// classifier, squared error for a regressor); log_loss is entropy, as in scikit-learn;
/// poisson is half the Poisson deviance. absolute_error is refused (not ported yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum ForestCriterion {
    Auto,
    Gini,
    Entropy,
    LogLoss,
    SquaredError,
    Poisson,
    AbsoluteError,
}

/// scikit-learn's `class_weight`: none, "balanced" (`n / (k * count)` per class) or, for
/// forests, "balanced_subsample" (the same on each tree's bootstrap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum ClassWeight {
    None,
    Balanced,
    BalancedSubsample,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumString,
    IntoStaticStr,
    VariantNames,
    Display,
    serde::Serialize,
    serde::Deserialize,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Tanh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum Optimizer {
    Gd,
    Sgd,
    Minibatch,
    Momentum,
    Nesterov,
    Adam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum LrSchedule {
    Constant,
    Invscaling,
}

/// The data loss of `linear_gd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum RegressionLoss {
    Mse,
    Mae,
    Huber,
}

/// The data loss of `logistic_gd`: one choice, named so the file can say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum LogLoss {
    LogLoss,
}

/// The MLP's loss follows the task (half mse or softmax cross-entropy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum MlpLoss {
    Auto,
}

/// `hist_gradient_boosting`'s early stopping: scikit-learn's "auto", true or false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum EarlyStopping {
    Auto,
    True,
    False,
}

choice_param!(
    LogisticSolver,
    Kernel,
    DecisionShape,
    Criterion,
    ForestCriterion,
    ClassWeight,
    EarlyStopping,
    Activation,
    Optimizer,
    LrSchedule,
    RegressionLoss,
    LogLoss,
    MlpLoss
);

/// A kernel's gamma: a number, or scikit-learn's `"scale"` or `"auto"` rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// `1 / (n_features * X.var())`.
    Scale,
    /// `1 / n_features`.
    Auto,
    Value(f64),
}

impl FromParam for Gamma {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Str(s) if s == "scale" => Some(Gamma::Scale),
            ParamValue::Str(s) if s == "auto" => Some(Gamma::Auto),
            other => f64::from_param(other).map(Gamma::Value),
        }
    }
}

params! {
    /// `linear_regression`.
    OlsParams {
        tol: f64 = F(1e-6), NON_NEGATIVE, "singular values below tol x the largest count as zero (sklearn's tol, scipy's lstsq cond)";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
    }
}

params! {
    /// `ridge`.
    RidgeParams {
        alpha: f64 = F(1.0), NON_NEGATIVE, "L2 strength";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
    }
}

params! {
    /// `lasso`: an elastic net with l1_ratio 1.
    LassoParams {
        alpha: f64 = F(1.0), POSITIVE, "L1 strength";
        max_iter: usize = I(1000), ITERATIONS, "coordinate-descent sweeps";
        tol: f64 = F(1e-4), POSITIVE, CD_TOL;
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
        path: bool = B(true), BOOL, CD_PATH;
    }
}

params! {
    /// `elastic_net`.
    ElasticNetParams {
        alpha: f64 = F(1.0), POSITIVE, "penalty strength";
        l1_ratio: f64 = F(0.5), UNIT, "share of the L1 penalty";
        max_iter: usize = I(1000), ITERATIONS, "coordinate-descent sweeps";
        tol: f64 = F(1e-4), POSITIVE, CD_TOL;
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
        path: bool = B(true), BOOL, CD_PATH;
    }
}

impl From<&LassoParams> for ElasticNetParams {
    fn from(p: &LassoParams) -> Self {
        let LassoParams { alpha, max_iter, tol, fit_intercept, path } = *p;
        ElasticNetParams { alpha, l1_ratio: 1.0, max_iter, tol, fit_intercept, path }
    }
}

params! {
    /// `logistic_regression`.
    LogisticParams {
        c: f64 = F(1.0), POSITIVE, "inverse L2 strength (sklearn's C)";
        max_iter: usize = I(1000), ITERATIONS, "solver iterations";
        tol: f64 = F(1e-8), POSITIVE, "stop when the mean objective's gradient is below tol (max-abs, as sklearn's lbfgs and newton-cholesky)";
        solver: LogisticSolver = S("auto"), choice::<LogisticSolver>(), "auto: newton_cholesky for two classes when rows > columns <= 1000, else lbfgs; lbfgs and newton_cholesky are runner's own (as scikit-learn's); linfa: linfa-logistic's L-BFGS";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
        path: bool = B(true), BOOL, "warm-start along the grid's c axis within a fold, smallest c first (as LogisticRegressionCV; not with linfa); false: each c from zero";
    }
}

params! {
    /// `svm`.
    SvmParams {
        kernel: Kernel = S("rbf"), choice::<Kernel>(), "rbf exp(-gamma |x-y|^2), linear x.y, poly (gamma x.y + coef0)^degree, sigmoid tanh(gamma x.y + coef0)";
        c: f64 = F(1.0), POSITIVE, "penalty of margin violations (sklearn's C)";
        gamma: Gamma = S("scale"), ParamType::PositiveOr(&["scale", "auto"]), "kernel coefficient of rbf, poly, sigmoid; scale = 1/(n_features * X.var()), auto = 1/n_features";
        degree: usize = I(3), ParamType::Int { min: 1, max: i32::MAX as i64 }, "poly kernel degree";
        coef0: f64 = F(0.0), ANY_FLOAT, "poly and sigmoid kernel constant";
        epsilon: f64 = F(0.1), NON_NEGATIVE, "SVR: width of the loss-free tube";
        tol: f64 = F(1e-3), POSITIVE, "libsvm's stopping tolerance (sklearn's tol): stop when the maximal violating pair is within tol";
        max_iter: i64 = I(-1), ParamType::Int { min: -1, max: i32::MAX as i64 }, "libsvm iterations at most (per pair of classes); -1 = no limit (sklearn's default); stopping early is a trial note";
        cache_size: f64 = F(200.0), POSITIVE, "libsvm's kernel cache, MB (speed only)";
        shrinking: bool = B(true), BOOL, "libsvm's shrinking heuristic";
        class_weight: ClassWeight = S("none"), ParamType::Choice(&["none", "balanced"]), "balanced: each class's C times n_samples / (n_classes * its count)";
        decision_function_shape: DecisionShape = S("ovr"), choice::<DecisionShape>(), "sklearn's decision_function shape; runner's class scores are always the ovr transform (break_ties needs ovr)";
        break_ties: bool = B(false), BOOL, "more than two classes: predict the ovr argmax instead of libsvm's vote (ties to the first class)";
    }
}

impl SvmParams {
    /// scikit-learn refuses break_ties with the ovo shape.
    pub fn checked(self) -> Result<Self, String> {
        if self.break_ties && self.decision_function_shape == DecisionShape::Ovo {
            return Err("break_ties = true needs decision_function_shape = \"ovr\" (as scikit-learn's SVC)".into());
        }
        Ok(self)
    }
}

params! {
    /// `decision_tree`.
    TreeParams {
        max_depth: usize = I(0), COUNT, "deepest level; 0 = unlimited";
        min_samples_split: usize = I(2), ParamType::Int { min: 2, max: i64::MAX }, "rows a node needs to be split";
        min_samples_leaf: usize = I(1), ITERATIONS, "rows every leaf keeps";
        min_impurity_decrease: f64 = F(0.0), NON_NEGATIVE, "a split must lower the weighted impurity by at least this (scikit-learn's rule, up to EPSILON)";
        criterion: Criterion = S("gini"), choice::<Criterion>(), "split quality of a classifier; regression trees use squared error";
        min_weight_fraction_leaf: f64 = F(0.0), ParamType::Float { min: 0.0, max: 0.5, min_exclusive: false }, MIN_WEIGHT_FRACTION;
        class_weight: ClassWeight = S("none"), ParamType::Choice(&["none", "balanced"]), "classifiers: balanced weighs each class by n / (k * its count), as sklearn's class_weight=\"balanced\"";
        max_leaf_nodes: usize = I(0), COUNT, MAX_LEAF_NODES;
        ccp_alpha: f64 = F(0.0), NON_NEGATIVE, CCP_ALPHA;
        random_state: u32 = I(0), RANDOM_STATE, "sklearn's random_state: the order features are tried in, which breaks ties between equal splits";
    }
}

const MAX_LEAF_NODES: &str =
    "0 = unlimited (depth first); else at least 2: the tree grows best first (largest impurity decrease next, sklearn's BestFirstTreeBuilder) up to this many leaves";
const CCP_ALPHA: &str =
    "minimal cost-complexity pruning: the grown tree's weakest links are pruned while their effective alpha is at most this (0 = no pruning)";
const MIN_WEIGHT_FRACTION: &str = "every leaf keeps at least this share of the total sample weight";
const RANDOM_STATE: ParamType = ParamType::Int { min: 0, max: u32::MAX as i64 };

params! {
    /// `random_forest` and `extra_trees` (whose catalog entries differ in `bootstrap`'s default).
    ForestParams {
        n_estimators: usize = I(100), ITERATIONS, "trees in the forest";
        criterion: ForestCriterion = S("auto"), choice::<ForestCriterion>(), "auto: gini for classification, squared_error for regression (sklearn's defaults); log_loss is entropy; poisson needs targets >= 0 with a positive sum; absolute_error is not ported yet";
        max_depth: usize = I(0), COUNT, "deepest level; 0 = unlimited";
        min_samples_split: usize = I(2), ParamType::Int { min: 2, max: i64::MAX }, "rows a node needs to be split";
        min_samples_leaf: usize = I(1), ITERATIONS, "rows every leaf keeps";
        min_weight_fraction_leaf: f64 = F(0.0), ParamType::Float { min: 0.0, max: 0.5, min_exclusive: false }, MIN_WEIGHT_FRACTION;
        max_features: CountOrShare = S("auto"), ParamType::CountOrShare(&["auto", "sqrt", "log2", "all"]), "features tried per split: a count, a share of the columns, sqrt, log2 or all; auto: sqrt for classification, all for regression (sklearn's defaults)";
        max_leaf_nodes: usize = I(0), COUNT, MAX_LEAF_NODES;
        min_impurity_decrease: f64 = F(0.0), NON_NEGATIVE, "a split must lower the weighted impurity by at least this (scikit-learn's rule, up to EPSILON)";
        bootstrap: bool = B(true), BOOL, "fit each tree on a bootstrap sample (drawn as sklearn draws it; counts become sample weights)";
        max_samples: CountOrShare = S("all"), ParamType::CountOrShare(&["all"]), "rows drawn per bootstrap: a count, a share of the rows, or all";
        oob_score: bool = B(false), BOOL, "score each row on the trees that did not draw it (sklearn's oob_score_: accuracy or R^2), reported per fold as the trial's oob_score";
        class_weight: ClassWeight = S("none"), choice::<ClassWeight>(), "classifiers: balanced weighs each class by n / (k * its count); balanced_subsample does so on each bootstrap";
        ccp_alpha: f64 = F(0.0), NON_NEGATIVE, CCP_ALPHA;
        random_state: u32 = I(0), RANDOM_STATE, "sklearn's random_state: each tree's seed is drawn from it in order";
    }
}

impl ForestParams {
    /// The combinations scikit-learn refuses, and the parts runner does not implement.
    pub fn validate(&self) -> Result<(), String> {
        if self.oob_score && !self.bootstrap {
            return Err("oob_score needs bootstrap = true (out-of-bag rows exist only with a bootstrap)".into());
        }
        if !self.bootstrap && self.max_samples != CountOrShare::Word("all".into()) {
            return Err("max_samples needs bootstrap = true (it sizes the bootstrap sample)".into());
        }
        if self.criterion == ForestCriterion::AbsoluteError {
            return Err("criterion absolute_error: runner's CART has no weighted-median criterion yet; use squared_error or poisson".into());
        }
        check_max_leaf_nodes(self.max_leaf_nodes)?;
        Ok(())
    }
}

/// scikit-learn's "max_leaf_nodes must be at least 2" (0 is runner's "unlimited").
pub fn check_max_leaf_nodes(max_leaf_nodes: usize) -> Result<(), String> {
    match max_leaf_nodes {
        1 => Err("max_leaf_nodes = 1: a tree split best first needs at least 2 leaves (0 = unlimited)".into()),
        _ => Ok(()),
    }
}

params! {
    /// `mlp`: the architecture (the optimizer settings are [`OptimizerParams`]).
    MlpParams {
        hidden_layers: Vec<usize> = L(&[100]), ParamType::IntList { min: 1, max: 100_000 }, "units per hidden layer, e.g. [64, 32] (a grid axis is a list of lists)";
        activation: Activation = S("relu"), choice::<Activation>(), "hidden-layer activation";
        loss: MlpLoss = S("auto"), choice::<MlpLoss>(), "half mse for regression, softmax cross-entropy for classification";
    }
}

params! {
    /// `linear_gd`: its loss (the optimizer settings are [`OptimizerParams`]).
    LinearGdParams {
        loss: RegressionLoss = S("mse"), choice::<RegressionLoss>(), "mse: mean (z-y)^2; mae: mean |z-y|; huber: quadratic within huber_delta";
        huber_delta: f64 = F(1.0), POSITIVE, "huber's threshold between quadratic and linear";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
    }
}

params! {
    /// `logistic_gd`: its loss (the optimizer settings are [`OptimizerParams`]).
    LogisticGdParams {
        loss: LogLoss = S("log_loss"), choice::<LogLoss>(), "cross-entropy: sigmoid for 2 classes, softmax for more";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
    }
}

params! {
    /// The gradient-descent optimizer settings of `linear_gd`, `logistic_gd` and `mlp`. The
    /// defaults are the linear kinds'; the MLP's differ (see the catalog's `defaults`).
    OptimizerParams {
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

params! {
    /// `hist_gradient_boosting`.
    HgbParams {
        learning_rate: f64 = F(0.1), POSITIVE, "shrinkage of every leaf value";
        max_iter: usize = I(100), ITERATIONS, "boosting iterations (one tree per class per iteration for > 2 classes)";
        max_leaf_nodes: usize = I(31), COUNT, "leaves per tree at most; 0 = unlimited (sklearn's None); 1 is refused";
        max_depth: usize = I(0), COUNT, "deepest level; 0 = unlimited";
        min_samples_leaf: usize = I(20), ITERATIONS, "rows every leaf keeps";
        l2_regularization: f64 = F(0.0), NON_NEGATIVE, "L2 penalty on leaf values";
        max_features: f64 = F(1.0), ParamType::Float { min: 0.0, max: 1.0, min_exclusive: true }, "share of features each split may use, drawn as scikit-learn draws them";
        max_bins: usize = I(255), ParamType::Int { min: 2, max: 255 }, "bins per feature for non-missing values (quantiles of up to 200,000 training rows)";
        early_stopping: EarlyStopping = S("auto"), choice::<EarlyStopping>(), "stop when the validation loss stops improving; auto: on above 10,000 training rows";
        validation_fraction: f64 = F(0.1), ParamType::Float { min: 0.0, max: 1.0, min_exclusive: true }, "share of training rows held out for early stopping (stratified for classification)";
        n_iter_no_change: usize = I(10), ITERATIONS, "stop when none of the last n_iter_no_change iterations beat the one before them by tol";
        tol: f64 = F(1e-7), NON_NEGATIVE, "the improvement early stopping asks for";
        class_weight: ClassWeight = S("none"), ParamType::Choice(&["none", "balanced"]), "classification: balanced weighs each class by n / (classes x its count)";
        random_state: u32 = I(0), ParamType::Int { min: 0, max: u32::MAX as i64 }, "sklearn's random_state: the validation hold-out, the binning subsample and the feature draws";
    }
}
