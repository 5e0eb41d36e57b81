//! `logistic_regression`: binary or multinomial logistic regression by Newton-Cholesky or
//! L-BFGS (or linfa-logistic), warm-started along C.

use super::{labels, saves_linear, Streamed};
use crate::models::{logistic, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{ClassWeight, LogisticParams, LogisticSolver, ModelKind, ParamValues};

/// Why a streamed run refuses class weights.
pub(super) const CLASS_WEIGHT_STREAMED: &str =
    "class_weight is not streamed (the streamed solvers take unweighted rows); use streaming = false";

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

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }

    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        state.into_fitted(width, classes)
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
