//! `svm`: C-SVC or epsilon-SVR, runner's port of scikit-learn's libsvm.

use crate::spec::CLASS_WEIGHT;
use super::Streamed;
use crate::spec::kinds::{POSITIVE, NON_NEGATIVE, ANY_FLOAT, BOOL, choice, Kernel, DecisionShape, ClassWeight, Gamma};
use crate::spec::value::{params, DefaultValue::*, ParamType};
use crate::models::{svm, FitError, Fitted, ModelState};

type FitResult = Result<Box<dyn Fitted>, FitError>;
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{ModelKind, ParamValues};
use crate::models::svm::SvmParams;

params! {
    impl SvmParams {
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
        class_weight: ClassWeight = S("none"), CLASS_WEIGHT, "balanced: each class's C times n_samples / (n_classes * its count); or a table { label = weight } of C's factors";
        decision_function_shape: DecisionShape = S("ovr"), choice::<DecisionShape>(), "sklearn's decision_function shape; runner's class scores are always the ovr transform (break_ties needs ovr)";
        break_ties: bool = B(false), BOOL, "more than two classes: predict the ovr argmax instead of libsvm's vote (ties to the first class)";
    }
}

/// scikit-learn refuses break_ties with the ovo shape.
fn checked(p: SvmParams) -> Result<SvmParams, String> {
    if p.break_ties && p.decision_function_shape == DecisionShape::Ovo {
        return Err("break_ties = true needs decision_function_shape = \"ovr\" (as scikit-learn's SVC)".into());
    }
    Ok(p)
}

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
        checked(SvmParams::read(values)?)
    }

    fn fit(p: &SvmParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        match &data.train_y {
            FoldTargets::Regression(y) => svm::fit_svr(p, &data.train_x, y, data.train_w.as_deref()),
            FoldTargets::Classes(y) => svm::fit_svc(p, &data.train_x, (y, data.train_w.as_deref()), classes),
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
        Some(svm::fit_path(points, &data.train_x, (&data.train_y, data.train_w.as_deref()), classes))
    }

    /// libsvm multiplies each row's C by its weight (rows of weight 0 are left out).
    fn sample_weights(_: &SvmParams) -> bool {
        true
    }

    fn streamed(_: &SvmParams) -> Streamed<'_> {
        Streamed::Refused("kernel machines need every training row at once; use streaming = false")
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Svr { .. } | ModelState::Svc { .. })
    }
}
