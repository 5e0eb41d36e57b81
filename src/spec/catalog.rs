//! Every model kind with its engine, task and parameters: what `runner models` prints and
//! what the experiment file is validated against. The parameters themselves are declared
//! once, with their typed fields, in `kinds.rs`.

use super::kinds::*;
use super::value::{DefaultValue, ParamSpec};
use serde::Serialize;
use strum::{EnumString, IntoStaticStr, VariantArray};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, EnumString, IntoStaticStr, VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ModelKind {
    LinearRegression,
    Ridge,
    Lasso,
    ElasticNet,
    LogisticRegression,
    Svm,
    DecisionTree,
    Mlp,
    LinearGd,
    LogisticGd,
    RandomForest,
    ExtraTrees,
    HistGradientBoosting,
}

impl ModelKind {
    /// The kind's name in the experiment file and the report.
    pub fn name(self) -> &'static str {
        self.into()
    }
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
    pub engine: &'static str,
    pub task: TaskSupport,
    pub summary: &'static str,
    /// The kind's parameter declarations, group by group.
    pub groups: &'static [&'static [ParamSpec]],
    /// Defaults that differ from the declarations' (the MLP's optimizer settings).
    pub defaults: &'static [(&'static str, DefaultValue)],
    /// What model.json holds for a refitted model of this kind (docs/MODEL.md).
    pub saves: &'static str,
}

impl KindSpec {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    pub fn params(&self) -> impl Iterator<Item = &'static ParamSpec> {
        self.groups.iter().flat_map(|g| g.iter())
    }

    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params().find(|p| p.name == name)
    }

    /// A parameter's default for this kind.
    pub fn default_of(&self, p: &ParamSpec) -> DefaultValue {
        self.defaults.iter().find(|(name, _)| *name == p.name).map_or(p.default, |&(_, d)| d)
    }
}

const GD_ENGINE: &str = "runner's gradient-descent trainer";
const CD_ENGINE: &str =
    "own cyclic coordinate descent (sklearn's cd_fast) on the fold's centred Gram matrix when rows > columns, duality-gap stop";

pub static KINDS: &[KindSpec] = &[
    KindSpec {
        kind: ModelKind::LinearRegression,
        engine: "minimum-norm least squares by SVD (scipy's lstsq)",
        task: TaskSupport::Regression,
        summary: "min ||y - Xw||^2, the minimum-norm solution when X is rank deficient, as sklearn.linear_model.LinearRegression",
        groups: &[OlsParams::SPECS],
        defaults: &[],
        saves: "a `linear` model: one weight per feature and the intercept",
    },
    KindSpec {
        kind: ModelKind::Ridge,
        engine: "closed form (Cholesky of the centred Gram matrix, the n × n dual when p > n; SVD when ill-conditioned)",
        task: TaskSupport::Regression,
        summary: "min ||y - Xw||^2 + alpha ||w||^2, as sklearn.linear_model.Ridge; alpha = 0 is minimum-norm least squares",
        groups: &[RidgeParams::SPECS],
        defaults: &[],
        saves: "a `linear` model: one weight per feature and the intercept",
    },
    KindSpec {
        kind: ModelKind::Lasso,
        engine: CD_ENGINE,
        task: TaskSupport::Regression,
        summary: "min 1/(2n) ||y - Xw||^2 + alpha ||w||_1, as sklearn.linear_model.Lasso",
        groups: &[LassoParams::SPECS],
        defaults: &[],
        saves: "a `linear` model: one weight per feature and the intercept",
    },
    KindSpec {
        kind: ModelKind::ElasticNet,
        engine: CD_ENGINE,
        task: TaskSupport::Regression,
        summary: "min 1/(2n) ||y - Xw||^2 + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2), as sklearn.linear_model.ElasticNet",
        groups: &[ElasticNetParams::SPECS],
        defaults: &[],
        saves: "a `linear` model: one weight per feature and the intercept",
    },
    KindSpec {
        kind: ModelKind::LogisticRegression,
        engine: "own Newton-Cholesky (two classes) or L-BFGS, both as scikit-learn's, or linfa-logistic",
        task: TaskSupport::Classification,
        summary: "min 1/2 ||w||^2 + C sum log-loss, binary (sigmoid) or multinomial (softmax), as sklearn.linear_model.LogisticRegression",
        groups: &[LogisticParams::SPECS],
        defaults: &[],
        saves: "a `linear` model with a sigmoid (two classes) or softmax head: weights and intercept per output, and the class labels",
    },
    KindSpec {
        kind: ModelKind::Svm,
        engine: "runner's port of scikit-learn 1.9.1's libsvm, step for step",
        task: TaskSupport::Both,
        summary: "C-SVC for classification (one-vs-one over the sorted classes, as sklearn's SVC), epsilon-SVR for regression, \
                  equal to sklearn's support vectors and predictions; log_loss and roc_auc use a softmax of the decision function, not predict_proba",
        groups: &[SvmParams::SPECS],
        defaults: &[],
        saves: "`svc` (one machine per pair of classes) or `svr`: each machine's kernel, support vectors, dual coefficients and rho",
    },
    KindSpec {
        kind: ModelKind::DecisionTree,
        engine: "runner's CART: scikit-learn's best splitter and depth-first builder, step for step",
        task: TaskSupport::Both,
        summary: "decision tree (classifier or regressor), equal to sklearn's DecisionTreeClassifier/Regressor with the same random_state; \
                  classifiers predict the class shares of their leaf",
        groups: &[TreeParams::SPECS],
        defaults: &[],
        saves: "a `tree`: its nodes (feature, threshold, children) and leaves (class shares or the mean value)",
    },
    KindSpec {
        kind: ModelKind::Mlp,
        engine: "runner's multi-layer perceptron, trained by the gradient-descent optimizers",
        task: TaskSupport::Both,
        summary: "feed-forward network: mean (z-y)^2 / 2 for regression and softmax cross-entropy for classification (sklearn's MLP losses), + l2/2 ||W||^2 (biases not penalised); sklearn's Glorot-uniform initialisation and stopping rule",
        groups: &[MlpParams::SPECS, OptimizerParams::SPECS],
        // scikit-learn's MLP defaults.
        defaults: &[
            ("optimizer", DefaultValue::S("adam")),
            ("learning_rate", DefaultValue::F(0.001)),
            ("epochs", DefaultValue::I(200)),
            ("batch_size", DefaultValue::I(32)),
            ("tol", DefaultValue::F(1e-4)),
            ("patience", DefaultValue::I(10)),
        ],
        saves: "an `mlp`: every layer's weights and biases, the activation and the output (linear or softmax)",
    },
    KindSpec {
        kind: ModelKind::LinearGd,
        engine: GD_ENGINE,
        task: TaskSupport::Regression,
        summary: "linear model trained by gradient descent on mse, mae or huber loss, + l2/2 ||w||^2 + l1 ||w||_1",
        groups: &[LinearGdParams::SPECS, OptimizerParams::SPECS],
        defaults: &[],
        saves: "a `linear` model: one weight per feature and the intercept",
    },
    KindSpec {
        kind: ModelKind::LogisticGd,
        engine: GD_ENGINE,
        task: TaskSupport::Classification,
        summary: "logistic regression (sigmoid, or softmax for > 2 classes) trained by gradient descent on mean log-loss + l2/2 ||w||^2 + l1 ||w||_1",
        groups: &[LogisticGdParams::SPECS, OptimizerParams::SPECS],
        defaults: &[],
        saves: "a `linear` model with a sigmoid or softmax head: weights and intercept per output",
    },
    KindSpec {
        kind: ModelKind::RandomForest,
        engine: FOREST_ENGINE,
        task: TaskSupport::Both,
        summary: "random forest (classifier or regressor), equal to sklearn's RandomForestClassifier/Regressor tree for tree with the same random_state: \
                  bootstrap samples and tree seeds drawn as sklearn draws them; classifiers predict the mean of the trees' class shares",
        groups: &[ForestParams::SPECS],
        defaults: &[],
        saves: FOREST_SAVES,
    },
    KindSpec {
        kind: ModelKind::ExtraTrees,
        engine: FOREST_ENGINE,
        task: TaskSupport::Both,
        summary: "extremely randomized trees (classifier or regressor), equal to sklearn's ExtraTreesClassifier/Regressor: \
                  one threshold drawn per feature as sklearn's RandomSplitter draws it; no bootstrap by default",
        groups: &[ForestParams::SPECS],
        defaults: &[("bootstrap", DefaultValue::B(false))],
        saves: FOREST_SAVES,
    },
    KindSpec {
        kind: ModelKind::HistGradientBoosting,
        engine: "runner's histogram gradient boosting: scikit-learn's binning, best-first grower and losses, step for step",
        task: TaskSupport::Both,
        summary: "histogram-based gradient boosting, equal to sklearn's HistGradientBoostingRegressor (squared_error) / \
                  HistGradientBoostingClassifier (log_loss) with the same random_state",
        groups: &[HgbParams::SPECS],
        defaults: &[],
        saves: "an `hgb` model: the baseline and every tree's nodes (feature, threshold, bin, the side of missing values) and leaf values",
    },
];

const FOREST_ENGINE: &str = "runner's CART (scikit-learn's splitters step for step), trees grown in parallel";
const FOREST_SAVES: &str = "a `forest`: each tree's nodes and leaves, as a `tree` saves them";

pub fn kind_spec(name: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.name() == name)
}

pub fn spec_of(kind: ModelKind) -> &'static KindSpec {
    // KINDS lists the kinds in declaration order (a test checks it).
    &KINDS[kind as usize]
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
