//! `svm`: C-SVC or epsilon-SVR, runner's port of scikit-learn's libsvm.

use super::Streamed;
use crate::models::{svm, FitError, Fitted, ModelState};

type FitResult = Result<Box<dyn Fitted>, FitError>;
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{ModelKind, ParamValues, SvmParams};

pub struct Kind;

impl super::Kind for Kind {
    type Params = SvmParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::Svm,
        engine: "runner's port of scikit-learn 1.9.1's libsvm, step for step",
        task: TaskSupport::Both,
        summary: "C-SVC for classification (one-vs-one over the sorted classes, as sklearn's SVC), epsilon-SVR for regression, \
                  equal to sklearn's support vectors and predictions; log_loss and roc_auc use a softmax of the decision function, not predict_proba",
        groups: &[SvmParams::SPECS],
        defaults: &[],
        saves: "`svc` (one machine per pair of classes) or `svr`: each machine's kernel, support vectors, dual coefficients and rho",
    };

    fn read(values: &ParamValues) -> Result<SvmParams, String> {
        SvmParams::read(values)?.checked()
    }

    fn fit(p: &SvmParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        match &data.train_y {
            FoldTargets::Regression(y) => svm::fit_svr(p, &data.train_x, y),
            FoldTargets::Classes(y) => svm::fit_svc(p, &data.train_x, y, classes),
        }
    }

    /// Trials that differ only in C or epsilon share a path: their fits on a fold read one
    /// kernel store (kernel values do not depend on C or ε); nothing else passes between them.
    fn path_axis(p: &mut SvmParams) -> Option<f64> {
        let at = p.c;
        (p.c, p.epsilon) = (0.0, 0.0);
        Some(at)
    }

    fn fit_path(points: &[&SvmParams], data: &FoldData, classes: &[String]) -> Option<Vec<FitResult>> {
        Some(svm::fit_path(points, &data.train_x, &data.train_y, classes))
    }

    fn streamed(_: &SvmParams) -> Streamed<'_> {
        Streamed::Refused("kernel machines need every training row at once; use streaming = false")
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Svr { .. } | ModelState::Svc { .. })
    }

    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        state.into_fitted(width, classes)
    }
}
