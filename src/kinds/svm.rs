//! `svm`: C-SVC (one-vs-one) or epsilon-SVR, trained by linfa-svm.

use super::Streamed;
use crate::models::{svm, FitError, Fitted, ModelState};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{ModelKind, ParamValues, SvmParams};

pub struct Kind;

impl super::Kind for Kind {
    type Params = SvmParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::Svm,
        engine: "linfa-svm (SMO)",
        task: TaskSupport::Both,
        summary: "C-SVC for classification (one-vs-one over pairs of classes, as sklearn's SVC), epsilon-SVR for regression; \
                  poly kernel is (x.y + coef0)^degree (sklearn's with gamma = 1); log_loss uses a softmax of decision values, not Platt scaling",
        groups: &[SvmParams::SPECS],
        defaults: &[],
        saves: "`svc` (one machine per pair of classes) or `svr`: each machine's kernel, support vectors, dual coefficients and rho (the linear kernel's weights instead of support vectors)",
    };

    fn read(values: &ParamValues) -> Result<SvmParams, String> {
        SvmParams::read(values)
    }

    fn fit(p: &SvmParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        match &data.train_y {
            FoldTargets::Regression(y) => svm::fit_svr(p, &data.train_x, y),
            FoldTargets::Classes(y) => svm::fit_svc(p, &data.train_x, y, classes),
        }
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
