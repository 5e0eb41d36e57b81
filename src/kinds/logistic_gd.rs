//! `logistic_gd`: logistic regression trained by gradient descent.

use super::{labels, linear_gd, logistic_regression, saves_linear, Streamed, GD_ENGINE};
use crate::spec::kinds::{choice, LogLoss, BOOL, CLASS_WEIGHT};
use crate::spec::value::{params, DefaultValue::*};
use crate::models::{gd, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{ClassWeight, ModelKind};
use crate::models::gd::{LogisticGdParams, OptimizerParams};

params! {
    impl LogisticGdParams {
        loss: LogLoss = S("log_loss"), choice::<LogLoss>(), "cross-entropy: sigmoid for 2 classes, softmax for more";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
        class_weight: ClassWeight = S("none"), CLASS_WEIGHT, "balanced weighs each class by n / (k * its count); or a table { label = weight }; each row's loss is multiplied by its class's weight";
    }
}

pub struct Kind;

impl super::Kind for Kind {
    type Params = (LogisticGdParams, OptimizerParams);
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::LogisticGd,
        engine: GD_ENGINE,
        task: TaskSupport::Classification,
        summary: "logistic regression (sigmoid, or softmax for > 2 classes) trained by gradient descent on mean log-loss + l2/2 ||w||^2 + l1 ||w||_1",
        groups: &[LogisticGdParams::SPECS, OptimizerParams::SPECS],
        defaults: &[],
        saves: "a `linear` model with a sigmoid or softmax head: weights and intercept per output",
    };

    fn fit(p: &Self::Params, data: &FoldData, classes: &[String], seed: u32) -> Result<Box<dyn Fitted>, FitError> {
        let y = labels(data, ModelKind::LogisticGd)?;
        Ok(Box::new(gd::fit_logistic(&p.0, &p.1, (&data.train_x, y, data.train_w.as_deref()), classes, seed)?))
    }

    /// The loss is the weighted mean of each batch, the weights times any class weights.
    fn sample_weights(_: &Self::Params) -> bool {
        true
    }

    fn streamed(p: &Self::Params) -> Streamed<'_> {
        if p.0.class_weight != ClassWeight::None {
            return Streamed::Refused(logistic_regression::CLASS_WEIGHT_STREAMED);
        }
        match p.1.early_stopping {
            true => Streamed::Refused(linear_gd::EARLY_STOPPING),
            false => Streamed::LogisticDescent(&p.0, &p.1),
        }
    }

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }
}
