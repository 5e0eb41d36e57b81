//! `linear_gd`: a linear model trained by gradient descent on mse, mae or huber loss.

use super::{saves_linear, values, Streamed, GD_ENGINE, SAVES_LINEAR};
use crate::models::{gd, FitError, Fitted, ModelState};
use crate::preprocess::FoldData;
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{LinearGdParams, ModelKind, OptimizerParams, ParamValues};

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

    fn read(values: &ParamValues) -> Result<Self::Params, String> {
        Ok((LinearGdParams::read(values)?, OptimizerParams::read(values)?))
    }

    fn fit(p: &Self::Params, data: &FoldData, _: &[String], seed: u32) -> Result<Box<dyn Fitted>, FitError> {
        let y = values(data, ModelKind::LinearGd)?;
        Ok(Box::new(gd::fit_linear(&p.0, &p.1, &data.train_x, y, seed)?))
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

    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        state.into_fitted(width, classes)
    }
}
