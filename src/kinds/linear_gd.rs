//! `linear_gd`: a linear model trained by gradient descent on mse, mae or huber loss.

use super::{saves_linear, values, Streamed, GD_ENGINE, SAVES_LINEAR};
use crate::spec::kinds::{POSITIVE, BOOL, choice, RegressionLoss};
use crate::spec::value::{params, DefaultValue::*};
use crate::models::{gd, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::ModelKind;
use crate::models::gd::{LinearGdParams, OptimizerParams};

params! {
    impl LinearGdParams {
        loss: RegressionLoss = S("mse"), choice::<RegressionLoss>(), "mse: mean (z-y)^2; mae: mean |z-y|; huber: quadratic within huber_delta";
        huber_delta: f64 = F(1.0), POSITIVE, "huber's threshold between quadratic and linear";
        fit_intercept: bool = B(true), BOOL, "fit an unpenalised intercept";
    }
}

pub struct Kind;

/// Early stopping's refusal, shared with `logistic_gd`.
pub(super) const EARLY_STOPPING: &str = "early stopping holds out a random part of the training rows, which a stream cannot set aside; set early_stopping = false";

impl super::Kind for Kind {
    type Params = (LinearGdParams, OptimizerParams);
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::LinearGd,
        engine: GD_ENGINE,
        task: TaskSupport::Regression,
        summary: "linear model trained by gradient descent on mse, mae or huber loss, + l2/2 ||w||^2 + l1 ||w||_1",
        groups: &[LinearGdParams::SPECS, OptimizerParams::SPECS],
        defaults: &[],
        saves: SAVES_LINEAR,
    };

    fn fit(p: &Self::Params, data: &FoldData, _: &[String], seed: u32) -> Result<Box<dyn Fitted>, FitError> {
        let y = values(data, ModelKind::LinearGd)?;
        Ok(Box::new(gd::fit_linear(&p.0, &p.1, (&data.train_x, y, data.train_w.as_deref()), seed)?))
    }

    /// The loss is the weighted mean `Σ wᵢ·lossᵢ / Σ wᵢ` of each batch (see `gd::fit_linear`).
    fn sample_weights(_: &Self::Params) -> bool {
        true
    }

    fn streamed(p: &Self::Params) -> Streamed<'_> {
        match p.1.early_stopping {
            true => Streamed::Refused(EARLY_STOPPING),
            false => Streamed::LinearDescent(&p.0, &p.1),
        }
    }

    fn saves(state: &ModelState) -> bool {
        saves_linear(state)
    }
}
