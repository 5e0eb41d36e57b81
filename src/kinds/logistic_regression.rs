//! `logistic_regression`: binary or multinomial logistic regression by Newton-Cholesky or
//! L-BFGS (or linfa-logistic), warm-started along C.

use crate::spec::CLASS_WEIGHT;
use super::{labels, saves_linear, Streamed};
use crate::spec::kinds::{POSITIVE, ITERATIONS, BOOL, choice};
use crate::spec::value::{params, DefaultValue::*};
use crate::models::{logistic, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{ClassWeight, LogisticSolver, ModelKind, ParamValues};

/// Why a streamed run refuses class weights.
pub(super) const CLASS_WEIGHT_STREAMED: &str =
    "class_weight is not streamed (the streamed solvers take unweighted rows); use streaming = false";
use crate::models::logistic::LogisticParams;

params! {
    impl LogisticParams {
        c: f64 = F(1.0), POSITIVE, "inverse L2 strength (sklearn's C)";
        max_iter: usize = I(1000), ITERATIONS, "solver iterations";
        tol: f64 = F(1e-8), POSITIVE, "stop when the mean objective's gradient is below tol (max-abs, as sklearn's lbfgs and newton-cholesky)";
        solver: LogisticSolver = S("auto"), choice::<LogisticSolver>(), "auto: newton_cholesky for two classes when rows > columns <= 1000, else lbfgs; lbfgs and newton_cholesky are runner's own (as scikit-learn's); linfa: linfa-logistic's L-BFGS";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
        path: bool = B(true), BOOL, "warm-start along the grid's c axis within a fold, smallest c first (as LogisticRegressionCV; not with linfa); false: each c from zero";
        class_weight: ClassWeight = S("none"), CLASS_WEIGHT, "balanced weighs each class by n / (k * its count), as sklearn's; or a table { label = weight }; each row's loss is multiplied by its class's weight";
    }
}

pub struct Kind;

impl super::Kind for Kind {
    type Params = LogisticParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::LogisticRegression,
        engine: "own Newton-Cholesky (two classes) or L-BFGS, both as scikit-learn's, or linfa-logistic",
        task: TaskSupport::Classification,
        summary: "min 1/2 ||w||^2 + C sum log-loss, binary (sigmoid) or multinomial (softmax), as sklearn.linear_model.LogisticRegression",
        groups: &[LogisticParams::SPECS],
        defaults: &[],
        saves: "a `linear` model with a sigmoid (two classes) or softmax head: weights and intercept per output, and the class labels",
    };

    fn read(values: &ParamValues) -> Result<LogisticParams, String> {
        let p = LogisticParams::read(values)?;
        if p.solver == LogisticSolver::Linfa && p.class_weight != ClassWeight::None {
            return Err(logistic::LINFA_WEIGHTS.into());
        }
        Ok(p)
    }

    fn fit(p: &LogisticParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        let y = labels(data, ModelKind::LogisticRegression)?;
        logistic::fit(p, &data.train_x, y, classes, data.train_w.as_deref())
    }

    fn streamed(p: &LogisticParams) -> Streamed<'_> {
        if p.class_weight != ClassWeight::None {
            return Streamed::Refused(CLASS_WEIGHT_STREAMED);
        }
        match p.solver {
            LogisticSolver::Linfa => Streamed::Refused(
                "linfa-logistic needs the training matrix in memory; use solver = \"auto\", \"lbfgs\" or \"newton_cholesky\"",
            ),
            LogisticSolver::Auto | LogisticSolver::Lbfgs | LogisticSolver::NewtonCholesky => Streamed::Logistic(p),
        }
    }

    /// linfa-logistic takes no row weights.
    fn sample_weights(p: &LogisticParams) -> bool {
        p.solver != LogisticSolver::Linfa
    }

    fn no_sample_weights(_: &LogisticParams) -> &'static str {
        "linfa-logistic takes no row weights; use solver = \"auto\", \"lbfgs\" or \"newton_cholesky\""
    }

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }

    fn path_axis(p: &mut LogisticParams) -> Option<f64> {
        let at = (p.path && p.solver != LogisticSolver::Linfa).then_some(p.c);
        p.c = 0.0;
        at
    }

    fn fit_path(
        points: &[&LogisticParams],
        data: &FoldData,
        classes: &[String],
    ) -> Option<Vec<Result<Box<dyn Fitted>, FitError>>> {
        let y = labels(data, ModelKind::LogisticRegression).ok()?;
        Some(logistic::fit_path(points, &data.train_x, y, classes, data.train_w.as_deref()))
    }
}
