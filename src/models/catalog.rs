//! Every model kind with its parameters, defaults and valid ranges: the single source for
//! config validation, `runner models` and the trainers' defaults.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A parameter value as written in the experiment file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A list of whole numbers (an MLP's `hidden_layers`).
    IntList(Vec<i64>),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Str(s) => write!(f, "{s}"),
            ParamValue::IntList(l) => {
                let items: Vec<String> = l.iter().map(i64::to_string).collect();
                write!(f, "[{}]", items.join(","))
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum ParamType {
    /// A non-empty list of whole numbers in `[min, max]`; a single number is a one-item list.
    IntList {
        min: i64,
        max: i64,
    },
    /// A positive real number, or the one word given (`gamma = "scale"`).
    PositiveOr(&'static str),
    /// A real number in `[min, max]`, or `(min, max]` when `min_exclusive`.
    Float {
        min: f64,
        max: f64,
        min_exclusive: bool,
    },
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    Choice(&'static [&'static str]),
}

impl ParamType {
    pub fn describe(&self) -> String {
        match self {
            ParamType::Float { min, max, min_exclusive } => {
                let open = if *min_exclusive { "(" } else { "[" };
                let hi = if max.is_infinite() { "inf)".to_string() } else { format!("{max}]") };
                format!("float in {open}{min}, {hi}")
            }
            ParamType::Int { min, max } if *max == i64::MAX => format!("integer >= {min}"),
            ParamType::Int { min, max } => format!("integer in [{min}, {max}]"),
            ParamType::Bool => "true or false".to_string(),
            ParamType::PositiveOr(word) => format!("positive float or \"{word}\""),
            ParamType::IntList { min, .. } => format!("list of integers >= {min}, such as [64, 32]"),
            ParamType::Choice(options) => format!("one of {}", options.join(", ")),
        }
    }

    /// Checks a value's type and range; the error says what was expected.
    pub fn check(&self, value: &ParamValue) -> Result<ParamValue, String> {
        match (self, value) {
            (ParamType::Float { min, max, min_exclusive }, ParamValue::Float(_) | ParamValue::Int(_)) => {
                let x = match value {
                    ParamValue::Float(x) => *x,
                    ParamValue::Int(i) => *i as f64,
                    _ => unreachable!(),
                };
                let below = if *min_exclusive { x <= *min } else { x < *min };
                if !x.is_finite() || below || x > *max {
                    Err(format!("{x} is out of range: expected a {}", self.describe()))
                } else {
                    Ok(ParamValue::Float(x))
                }
            }
            (ParamType::Int { min, max }, ParamValue::Int(i)) => {
                if i < min || i > max {
                    Err(format!("{i} is out of range: expected an {}", self.describe()))
                } else {
                    Ok(value.clone())
                }
            }
            (ParamType::Bool, ParamValue::Bool(_)) => Ok(value.clone()),
            (ParamType::PositiveOr(word), ParamValue::Str(s)) if s == word => Ok(value.clone()),
            (ParamType::IntList { min, max }, ParamValue::IntList(l)) => {
                if l.is_empty() || l.iter().any(|v| v < min || v > max) {
                    Err(format!("{value} is out of range: expected a non-empty {}", self.describe()))
                } else {
                    Ok(value.clone())
                }
            }
            (ParamType::IntList { .. }, ParamValue::Int(i)) => ParamType::IntList { min: 1, max: i64::MAX }
                .check(&ParamValue::IntList(vec![*i]))
                .and_then(|v| self.check(&v)),
            (ParamType::PositiveOr(_), ParamValue::Float(_) | ParamValue::Int(_)) => {
                let x = match value {
                    ParamValue::Float(x) => *x,
                    ParamValue::Int(i) => *i as f64,
                    _ => unreachable!(),
                };
                if x > 0.0 && x.is_finite() {
                    Ok(ParamValue::Float(x))
                } else {
                    Err(format!("{x} is out of range: expected a {}", self.describe()))
                }
            }
            (ParamType::Choice(options), ParamValue::Str(s)) => {
                if options.contains(&s.as_str()) {
                    Ok(value.clone())
                } else {
                    let hint = crate::config::diag::suggestion(s, options.iter().copied());
                    Err(format!("`{s}` is not {}{hint}", self.describe()))
                }
            }
            _ => Err(format!("expected a {}, found {}", self.describe(), kind_of(value))),
        }
    }
}

fn kind_of(value: &ParamValue) -> &'static str {
    match value {
        ParamValue::Bool(_) => "a boolean",
        ParamValue::Int(_) => "an integer",
        ParamValue::Float(_) => "a float",
        ParamValue::Str(_) => "a string",
        ParamValue::IntList(_) => "a list of integers",
    }
}

#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    F(f64),
    I(i64),
    B(bool),
    S(&'static str),
    L(&'static [i64]),
}

impl DefaultValue {
    pub fn value(&self) -> ParamValue {
        match *self {
            DefaultValue::F(x) => ParamValue::Float(x),
            DefaultValue::I(i) => ParamValue::Int(i),
            DefaultValue::B(b) => ParamValue::Bool(b),
            DefaultValue::S(s) => ParamValue::Str(s.to_string()),
            DefaultValue::L(l) => ParamValue::IntList(l.to_vec()),
        }
    }
}

pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ParamType,
    pub default: DefaultValue,
    pub help: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    LinearRegression,
    Ridge,
    Lasso,
    ElasticNet,
    LogisticRegression,
    LinearGd,
    LogisticGd,
    Svm,
    DecisionTree,
    Mlp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSupport {
    Regression,
    Classification,
    /// Regression or classification, chosen by the task.
    Both,
}

pub struct KindSpec {
    pub kind: ModelKind,
    pub name: &'static str,
    pub engine: &'static str,
    pub task: TaskSupport,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
}

const POSITIVE: ParamType = ParamType::Float { min: 0.0, max: f64::INFINITY, min_exclusive: true };
const NON_NEGATIVE: ParamType = ParamType::Float { min: 0.0, max: f64::INFINITY, min_exclusive: false };
const UNIT: ParamType = ParamType::Float { min: 0.0, max: 1.0, min_exclusive: false };
const ITERATIONS: ParamType = ParamType::Int { min: 1, max: i64::MAX };

const FIT_INTERCEPT: ParamSpec = ParamSpec {
    name: "fit_intercept",
    ty: ParamType::Bool,
    default: DefaultValue::B(true),
    help: "fit an unpenalised intercept",
};

pub static KINDS: &[KindSpec] = &[
    KindSpec {
        kind: ModelKind::LinearRegression,
        name: "linear_regression",
        engine: "minimum-norm least squares by SVD (scipy's lstsq)",
        task: TaskSupport::Regression,
        summary: "min ||y - Xw||^2, the minimum-norm solution when X is rank deficient, as sklearn.linear_model.LinearRegression",
        params: &[
            ParamSpec { name: "tol", ty: NON_NEGATIVE, default: DefaultValue::F(1e-6), help: "singular values below tol x the largest count as zero (sklearn's tol, scipy's lstsq cond)" },
            FIT_INTERCEPT,
        ],
    },
    KindSpec {
        kind: ModelKind::Ridge,
        name: "ridge",
        engine: "closed form (Cholesky of the centred Gram matrix, the n × n dual when p > n; SVD when ill-conditioned)",
        task: TaskSupport::Regression,
        summary: "min ||y - Xw||^2 + alpha ||w||^2, as sklearn.linear_model.Ridge; alpha = 0 is minimum-norm least squares",
        params: &[
            ParamSpec { name: "alpha", ty: NON_NEGATIVE, default: DefaultValue::F(1.0), help: "L2 strength" },
            FIT_INTERCEPT,
        ],
    },
    KindSpec {
        kind: ModelKind::Lasso,
        name: "lasso",
        engine: "own cyclic coordinate descent on centred data, duality-gap stop (sklearn's cd_fast)",
        task: TaskSupport::Regression,
        summary: "min 1/(2n) ||y - Xw||^2 + alpha ||w||_1, as sklearn.linear_model.Lasso",
        params: &[
            ParamSpec { name: "alpha", ty: POSITIVE, default: DefaultValue::F(1.0), help: "L1 strength" },
            ParamSpec { name: "max_iter", ty: ITERATIONS, default: DefaultValue::I(1000), help: "coordinate-descent sweeps" },
            ParamSpec { name: "tol", ty: POSITIVE, default: DefaultValue::F(1e-4), help: "stop when the duality gap is below tol x ||y - mean y||^2 (sklearn's rule)" },
            FIT_INTERCEPT,
        ],
    },
    KindSpec {
        kind: ModelKind::ElasticNet,
        name: "elastic_net",
        engine: "own cyclic coordinate descent on centred data, duality-gap stop (sklearn's cd_fast)",
        task: TaskSupport::Regression,
        summary: "min 1/(2n) ||y - Xw||^2 + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2), as sklearn.linear_model.ElasticNet",
        params: &[
            ParamSpec { name: "alpha", ty: POSITIVE, default: DefaultValue::F(1.0), help: "penalty strength" },
            ParamSpec { name: "l1_ratio", ty: UNIT, default: DefaultValue::F(0.5), help: "share of the L1 penalty" },
            ParamSpec { name: "max_iter", ty: ITERATIONS, default: DefaultValue::I(1000), help: "coordinate-descent sweeps" },
            ParamSpec { name: "tol", ty: POSITIVE, default: DefaultValue::F(1e-4), help: "stop when the duality gap is below tol x ||y - mean y||^2 (sklearn's rule)" },
            FIT_INTERCEPT,
        ],
    },
    KindSpec {
        kind: ModelKind::LogisticRegression,
        name: "logistic_regression",
        engine: "own L-BFGS over a fused loss/gradient pass (default), or linfa-logistic",
        task: TaskSupport::Classification,
        summary: "min 1/2 ||w||^2 + C sum log-loss, binary (sigmoid) or multinomial (softmax), as sklearn.linear_model.LogisticRegression",
        params: &[
            ParamSpec { name: "c", ty: POSITIVE, default: DefaultValue::F(1.0), help: "inverse L2 strength (sklearn's C)" },
            ParamSpec { name: "max_iter", ty: ITERATIONS, default: DefaultValue::I(1000), help: "L-BFGS iterations" },
            ParamSpec { name: "tol", ty: POSITIVE, default: DefaultValue::F(1e-8), help: "stop when the mean objective's gradient is below tol (max-abs, as sklearn's lbfgs)" },
            ParamSpec { name: "solver", ty: ParamType::Choice(&["lbfgs", "linfa"]), default: DefaultValue::S("lbfgs"), help: "lbfgs: runner's own; linfa: linfa-logistic's L-BFGS" },
            FIT_INTERCEPT,
        ],
    },
    KindSpec {
        kind: ModelKind::Svm,
        name: "svm",
        engine: "linfa-svm (SMO)",
        task: TaskSupport::Both,
        summary: "C-SVC for classification (one-vs-one over pairs of classes, as sklearn's SVC), epsilon-SVR for regression; \
                  poly kernel is (x.y + coef0)^degree (sklearn's with gamma = 1); log_loss uses a softmax of decision values, not Platt scaling",
        params: &[
            ParamSpec { name: "kernel", ty: ParamType::Choice(&["rbf", "linear", "poly"]), default: DefaultValue::S("rbf"), help: "kernel function" },
            ParamSpec { name: "c", ty: POSITIVE, default: DefaultValue::F(1.0), help: "penalty of margin violations (sklearn's C)" },
            ParamSpec { name: "gamma", ty: ParamType::PositiveOr("scale"), default: DefaultValue::S("scale"), help: "rbf width exp(-gamma |x-y|^2); scale = 1/(n_features * X.var())" },
            ParamSpec { name: "degree", ty: ITERATIONS, default: DefaultValue::I(3), help: "poly kernel degree" },
            ParamSpec { name: "coef0", ty: ParamType::Float { min: f64::NEG_INFINITY, max: f64::INFINITY, min_exclusive: false }, default: DefaultValue::F(0.0), help: "poly kernel constant" },
            ParamSpec { name: "epsilon", ty: NON_NEGATIVE, default: DefaultValue::F(0.1), help: "SVR: width of the loss-free tube" },
            ParamSpec { name: "tol", ty: POSITIVE, default: DefaultValue::F(1e-3), help: "SMO stopping tolerance" },
        ],
    },
    KindSpec {
        kind: ModelKind::DecisionTree,
        name: "decision_tree",
        engine: "runner's CART: scikit-learn's best splitter and depth-first builder, step for step",
        task: TaskSupport::Both,
        summary: "decision tree (classifier or regressor), equal to sklearn's DecisionTreeClassifier/Regressor with the same random_state; \
                  classifiers predict the class shares of their leaf",
        params: &[
            ParamSpec { name: "max_depth", ty: ParamType::Int { min: 0, max: i64::MAX }, default: DefaultValue::I(0), help: "deepest level; 0 = unlimited" },
            ParamSpec { name: "min_samples_split", ty: ParamType::Int { min: 2, max: i64::MAX }, default: DefaultValue::I(2), help: "rows a node needs to be split" },
            ParamSpec { name: "min_samples_leaf", ty: ITERATIONS, default: DefaultValue::I(1), help: "rows every leaf keeps" },
            ParamSpec { name: "criterion", ty: ParamType::Choice(&["gini", "entropy"]), default: DefaultValue::S("gini"), help: "split quality of a classifier; regression trees use squared error" },
            ParamSpec { name: "random_state", ty: ParamType::Int { min: 0, max: u32::MAX as i64 }, default: DefaultValue::I(0), help: "sklearn's random_state: the order features are tried in, which breaks ties between equal splits" },
        ],
    },
    KindSpec {
        kind: ModelKind::Mlp,
        name: "mlp",
        engine: "runner's multi-layer perceptron, trained by the gradient-descent optimizers",
        task: TaskSupport::Both,
        summary: "feed-forward network: mean (z-y)^2 / 2 for regression and softmax cross-entropy for classification (sklearn's MLP losses), + l2/2 ||W||^2 (biases not penalised); sklearn's Glorot-uniform initialisation and stopping rule",
        params: MLP,
    },
    KindSpec {
        kind: ModelKind::LinearGd,
        name: "linear_gd",
        engine: "runner's gradient-descent trainer",
        task: TaskSupport::Regression,
        summary: "linear model trained by gradient descent on mse, mae or huber loss, + l2/2 ||w||^2 + l1 ||w||_1",
        params: GD_LINEAR,
    },
    KindSpec {
        kind: ModelKind::LogisticGd,
        name: "logistic_gd",
        engine: "runner's gradient-descent trainer",
        task: TaskSupport::Classification,
        summary: "logistic regression (sigmoid, or softmax for > 2 classes) trained by gradient descent on mean log-loss + l2/2 ||w||^2 + l1 ||w||_1",
        params: GD_LOGISTIC,
    },
];

/// Optimizer settings shared by the gradient-descent kinds.
macro_rules! gd_params {
    ($optimizer:expr, $lr:expr, $epochs:expr, $batch:expr, $tol:expr, $patience:expr; $($loss:expr),+) => {
        &[
            $($loss,)+
            ParamSpec { name: "optimizer", ty: ParamType::Choice(&["gd", "sgd", "minibatch", "momentum", "nesterov", "adam"]), default: DefaultValue::S($optimizer), help: "gd: full batch; sgd: one row per step; minibatch/momentum/nesterov/adam: batch_size rows" },
            ParamSpec { name: "learning_rate", ty: POSITIVE, default: DefaultValue::F($lr), help: "step size (eta0 for invscaling)" },
            ParamSpec { name: "lr_schedule", ty: ParamType::Choice(&["constant", "invscaling"]), default: DefaultValue::S("constant"), help: "invscaling: learning_rate / t^power_t, t = update step from 1" },
            ParamSpec { name: "power_t", ty: NON_NEGATIVE, default: DefaultValue::F(0.25), help: "exponent of invscaling" },
            ParamSpec { name: "epochs", ty: ITERATIONS, default: DefaultValue::I($epochs), help: "passes over the training rows at most" },
            ParamSpec { name: "batch_size", ty: ParamType::Int { min: 0, max: i64::MAX }, default: DefaultValue::I($batch), help: "rows per step; 0 = all rows (minibatch: 32); ignored by gd and sgd" },
            ParamSpec { name: "momentum", ty: ParamType::Float { min: 0.0, max: 0.999999, min_exclusive: false }, default: DefaultValue::F(0.9), help: "momentum and nesterov" },
            ParamSpec { name: "beta1", ty: ParamType::Float { min: 0.0, max: 0.999999, min_exclusive: false }, default: DefaultValue::F(0.9), help: "adam's first-moment decay" },
            ParamSpec { name: "beta2", ty: ParamType::Float { min: 0.0, max: 0.999999, min_exclusive: false }, default: DefaultValue::F(0.999), help: "adam's second-moment decay" },
            ParamSpec { name: "eps", ty: POSITIVE, default: DefaultValue::F(1e-8), help: "adam's denominator guard" },
            ParamSpec { name: "l1", ty: NON_NEGATIVE, default: DefaultValue::F(0.0), help: "L1 penalty l1 ||w||_1 (intercept never penalised)" },
            ParamSpec { name: "l2", ty: NON_NEGATIVE, default: DefaultValue::F(0.0), help: "L2 penalty l2/2 ||w||^2 (intercept never penalised)" },
            ParamSpec { name: "tol", ty: NON_NEGATIVE, default: DefaultValue::F($tol), help: "an epoch improves when its loss is below the best so far minus tol ..." },
            ParamSpec { name: "patience", ty: ITERATIONS, default: DefaultValue::I($patience), help: "... and training stops once more than patience epochs in a row did not (sklearn's n_iter_no_change)" },
            ParamSpec { name: "early_stopping", ty: ParamType::Bool, default: DefaultValue::B(false), help: "watch the loss on a seeded validation hold-out instead, keep its best weights" },
            ParamSpec { name: "validation_fraction", ty: ParamType::Float { min: 0.0, max: 1.0, min_exclusive: true }, default: DefaultValue::F(0.1), help: "share of training rows held out for early stopping" },
            FIT_INTERCEPT,
        ]
    };
}

static GD_LINEAR: &[ParamSpec] = gd_params!("gd", 0.01, 1000, 0, 1e-6, 5;
    ParamSpec {
        name: "loss",
        ty: ParamType::Choice(&["mse", "mae", "huber"]),
        default: DefaultValue::S("mse"),
        help: "mse: mean (z-y)^2; mae: mean |z-y|; huber: quadratic within huber_delta"
    },
    ParamSpec {
        name: "huber_delta",
        ty: POSITIVE,
        default: DefaultValue::F(1.0),
        help: "huber's threshold between quadratic and linear"
    }
);

static GD_LOGISTIC: &[ParamSpec] = gd_params!("gd", 0.01, 1000, 0, 1e-6, 5; ParamSpec {
    name: "loss",
    ty: ParamType::Choice(&["log_loss"]),
    default: DefaultValue::S("log_loss"),
    help: "cross-entropy: sigmoid for 2 classes, softmax for more"
});

/// The MLP: its architecture, then the optimizer settings with scikit-learn's MLP defaults.
static MLP: &[ParamSpec] = gd_params!("adam", 0.001, 200, 32, 1e-4, 10;
    ParamSpec { name: "hidden_layers", ty: ParamType::IntList { min: 1, max: 100_000 }, default: DefaultValue::L(&[100]), help: "units per hidden layer, e.g. [64, 32] (a grid axis is a list of lists)" },
    ParamSpec { name: "activation", ty: ParamType::Choice(&["relu", "tanh"]), default: DefaultValue::S("relu"), help: "hidden-layer activation" },
    ParamSpec { name: "loss", ty: ParamType::Choice(&["auto"]), default: DefaultValue::S("auto"), help: "half mse for regression, softmax cross-entropy for classification" });

pub fn kind_spec(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.name == name)
}

pub fn spec_of(kind: ModelKind) -> &'static KindSpec {
    KINDS.iter().find(|k| k.kind == kind).expect("every ModelKind has a catalog entry")
}

impl KindSpec {
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A trial's full parameter set: defaults overlaid with fixed and grid values.
#[derive(Debug, Clone)]
pub struct Params {
    values: BTreeMap<String, ParamValue>,
}

impl Params {
    pub fn resolve(kind: ModelKind, given: &BTreeMap<String, ParamValue>) -> Params {
        let mut values: BTreeMap<String, ParamValue> =
            spec_of(kind).params.iter().map(|p| (p.name.to_string(), p.default.value())).collect();
        values.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
        Params { values }
    }

    pub fn f64(&self, name: &str) -> f64 {
        match self.values.get(name) {
            Some(ParamValue::Float(x)) => *x,
            Some(ParamValue::Int(i)) => *i as f64,
            other => {
                panic!("parameter {name} is not a float: {other:?} (catalog and trainer disagree)")
            }
        }
    }

    pub fn usize(&self, name: &str) -> usize {
        match self.values.get(name) {
            Some(ParamValue::Int(i)) => usize::try_from(*i).unwrap_or(usize::MAX),
            other => panic!("parameter {name} is not an integer: {other:?} (catalog and trainer disagree)"),
        }
    }

    pub fn bool(&self, name: &str) -> bool {
        match self.values.get(name) {
            Some(ParamValue::Bool(b)) => *b,
            other => {
                panic!("parameter {name} is not a bool: {other:?} (catalog and trainer disagree)")
            }
        }
    }

    pub fn int_list(&self, name: &str) -> Vec<usize> {
        match self.values.get(name) {
            Some(ParamValue::IntList(l)) => l.iter().map(|&v| usize::try_from(v).unwrap_or(0)).collect(),
            other => panic!("parameter {name} is not a list: {other:?} (catalog and trainer disagree)"),
        }
    }

    pub fn value(&self, name: &str) -> Option<&ParamValue> {
        self.values.get(name)
    }

    pub fn str(&self, name: &str) -> &str {
        match self.values.get(name) {
            Some(ParamValue::Str(s)) => s,
            other => {
                panic!("parameter {name} is not a string: {other:?} (catalog and trainer disagree)")
            }
        }
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
        out.push_str(&format!("{}  ({task}; {})\n  {}\n", k.name, k.engine, k.summary));
        for p in k.params {
            out.push_str(&format!(
                "    {:<14} default {:<8} {}: {}\n",
                p.name,
                p.default.value().to_string(),
                p.ty.describe(),
                p.help
            ));
        }
        out.push('\n');
    }
    out
}
