//! The words parameters are made of: the choice enums (kernel, optimizer, ...), `Gamma`,
//! and the ranges and help texts the kinds' `params!` lines share. Each kind declares its
//! parameters in its own file (`src/kinds/<kind>.rs`).

pub use super::value::CountOrShare;
use super::value::{choice_param, FromParam, ParamType, ParamValue};
use strum::{Display, EnumString, IntoStaticStr, VariantNames};

pub const POSITIVE: ParamType = ParamType::Float { min: 0.0, max: f64::INFINITY, min_exclusive: true };
pub const NON_NEGATIVE: ParamType = ParamType::Float { min: 0.0, max: f64::INFINITY, min_exclusive: false };
pub const UNIT: ParamType = ParamType::Float { min: 0.0, max: 1.0, min_exclusive: false };
pub const ANY_FLOAT: ParamType = ParamType::Float { min: f64::NEG_INFINITY, max: f64::INFINITY, min_exclusive: false };
pub const DECAY: ParamType = ParamType::Float { min: 0.0, max: 0.999999, min_exclusive: false };
pub const ITERATIONS: ParamType = ParamType::Int { min: 1, max: i64::MAX };
pub const COUNT: ParamType = ParamType::Int { min: 0, max: i64::MAX };
pub const BOOL: ParamType = ParamType::Bool;
pub const CD_TOL: &str = "stop when the duality gap is below tol x ||y - mean y||^2 (sklearn's rule)";
pub const CD_PATH: &str =
    "warm-start along the grid's alpha axis within a fold, largest alpha first (as LassoCV); false: each alpha from zero";

/// The words of a choice parameter, in declaration order.
pub const fn choice<T: VariantNames>() -> ParamType {
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
    SquaredError,
    AbsoluteError,
}

/// A forest's split quality: "auto" is scikit-learn's default for the task (gini for a
/// classifier, squared error for a regressor); log_loss is entropy, as in scikit-learn;
/// poisson is half the Poisson deviance; absolute_error is the mean absolute error around the
/// weighted median; friedman_mse is squared error (scikit-learn 1.9.1 maps it so, deprecated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum ForestCriterion {
    Auto,
    Gini,
    Entropy,
    LogLoss,
    SquaredError,
    FriedmanMse,
    Poisson,
    AbsoluteError,
}

/// scikit-learn's `class_weight`: none, "balanced" (`n / (k * count)` per class), for
/// forests "balanced_subsample" (the same on each tree's bootstrap), or a table of weights by
/// class label (a class left out weighs 1).
#[derive(Debug, Clone, PartialEq)]
pub enum ClassWeight {
    None,
    Balanced,
    BalancedSubsample,
    Table(Vec<(String, f64)>),
}

impl FromParam for ClassWeight {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Str(s) if s == "none" => Some(ClassWeight::None),
            ParamValue::Str(s) if s == "balanced" => Some(ClassWeight::Balanced),
            ParamValue::Str(s) if s == "balanced_subsample" => Some(ClassWeight::BalancedSubsample),
            ParamValue::Table(entries) => Some(ClassWeight::Table(entries.clone())),
            _ => None,
        }
    }
}

/// The `class_weight` of the kinds without a bootstrap.
pub const CLASS_WEIGHT: ParamType = ParamType::ChoiceOrWeights(&["none", "balanced"]);

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

/// `hist_gradient_boosting`'s loss: "auto" follows the task (squared_error for regression,
/// log_loss for classification); absolute_error is scikit-learn's `AbsoluteError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum HgbLoss {
    Auto,
    SquaredError,
    AbsoluteError,
    LogLoss,
}

impl HgbLoss {
    /// Why this loss cannot fit the task, if it cannot.
    pub fn task_problem(self, classification: bool) -> Option<String> {
        match (self, classification) {
            (HgbLoss::SquaredError | HgbLoss::AbsoluteError, true) => Some(format!(
                "loss {self} is a regression loss, but the task is classification; use log_loss (or auto)"
            )),
            (HgbLoss::LogLoss, false) => Some(
                "loss log_loss is a classification loss, but the task is regression; use squared_error or absolute_error (or auto)".into(),
            ),
            _ => None,
        }
    }
}

/// How `hist_gradient_boosting` takes a categorical column: as its one-hot indicators
/// (a numeric column each), or as one column of level codes split by category sets
/// (scikit-learn's `categorical_features="from_dtype"` on a pandas categorical column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Display)]
#[strum(serialize_all = "snake_case")]
pub enum HgbCategorical {
    OneHot,
    FromDtype,
}

choice_param!(
    HgbLoss,
    HgbCategorical,
    LogisticSolver,
    Kernel,
    DecisionShape,
    Criterion,
    ForestCriterion,
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

pub const MIN_WEIGHT_FRACTION: &str = "every leaf keeps at least this share of the total sample weight";
pub const RANDOM_STATE: ParamType = ParamType::Int { min: 0, max: u32::MAX as i64 };
pub const MAX_LEAF_NODES: &str =
    "0 = unlimited (depth first); else at least 2: the tree grows best first (largest impurity decrease next, sklearn's BestFirstTreeBuilder) up to this many leaves";
pub const CCP_ALPHA: &str =
    "minimal cost-complexity pruning: the grown tree's weakest links are pruned while their effective alpha is at most this (0 = no pruning)";

/// scikit-learn's "max_leaf_nodes must be at least 2" (0 is runner's "unlimited").
pub fn check_max_leaf_nodes(max_leaf_nodes: usize) -> Result<(), String> {
    match max_leaf_nodes {
        1 => Err("max_leaf_nodes = 1: a tree split best first needs at least 2 leaves (0 = unlimited)".into()),
        _ => Ok(()),
    }
}
